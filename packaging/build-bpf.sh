#!/bin/sh
# Compiles the agent's kernel fast path (src/agent/datapath/bpf) with Debian's clang and libbpf-dev.
# Without clang the agent still runs: it forwards everything in userspace and says so at start.
set -e
cd "$(dirname "$0")/.."
mkdir -p dist/bpf
if ! command -v clang >/dev/null 2>&1 || [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
  echo "build-bpf: no clang or libbpf-dev: the agent will forward in userspace only" >&2
  exit 0
fi
clang -O2 -g -Wall -Werror -target bpf -I"/usr/include/$(uname -m)-linux-gnu" \
  -c src/agent/datapath/bpf/fastpath.bpf.c -o dist/bpf/fastpath.bpf.o
