#!/usr/bin/env bash
# A one-machine OpenStack networking environment in front of a midonet-ts cluster: Debian's
# neutron-server (Zed) with networking-midonet (victoria, patched for Zed) calling the cluster's
# /midonet-api/neutron, sqlite, no message bus; no Keystone (noauth) unless KEYSTONE_URL is set.
#
#   env.sh up DIR CLUSTER_API_URL [NEUTRON_PORT]   # prints the variables for the openstack CLI
#   env.sh down DIR
#
# KEYSTONE_URL (e.g. http://127.0.0.1:5000/v3): neutron-server takes Keystone tokens
# (auth_strategy = keystone), validating them as KEYSTONE_USER / KEYSTONE_PASSWORD in project
# KEYSTONE_PROJECT (default admin / secret / admin, domain Default).
#
# Needs Debian's neutron-server python3-neutron python3-venv python3-pbr python3-setuptools
# python3-httplib2 python3-webob, and the vendored networking-midonet and python-midonetclient
# (VENDOR, default ../shared/vendor beside the project).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
vendor="${VENDOR:-$here/../../../shared/vendor}"
cmd="${1:-}"
dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: env.sh up DIR CLUSTER_API_URL [PORT] | down DIR" >&2; exit 2; }

case "$cmd" in
up)
  api="${3:?the cluster API URL, e.g. http://127.0.0.1:8181/midonet-api}"
  port="${4:-9696}"
  mkdir -p "$dir/etc" "$dir/state" "$dir/lock"
  # networking-midonet as released, then the compat patch, installed where neutron-server finds
  # its entry points (the ML2 drivers and the L3 plugin are loaded by name).
  rm -rf "$dir/networking-midonet"
  cp -r "$vendor/networking-midonet" "$dir/networking-midonet"
  patch -s -d "$dir/networking-midonet" -p1 < "$here/networking-midonet-zed.patch"
  [ -x "$dir/venv/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$dir/venv"
  PBR_VERSION=11.0.0 "$dir/venv/bin/pip" install -q --no-deps --no-build-isolation --no-index "$dir/networking-midonet"
  site="$("$dir/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  (cd "$vendor/python-midonetclient/src" && pwd) > "$site/midonetclient.pth"
  rm -f "$dir/neutron.db"
  "$dir/venv/bin/python" "$here/create-schema.py" "sqlite:///$dir/neutron.db"
  # Readers then never wait for the one writer (sqlite's default journal locks the whole file).
  /usr/bin/python3 -c "import sqlite3; sqlite3.connect('$dir/neutron.db').execute('pragma journal_mode=wal')"
  cat > "$dir/etc/neutron.conf" <<EOF
[DEFAULT]
core_plugin = ml2
service_plugins = midonet_l3
auth_strategy = $([ -n "${KEYSTONE_URL:-}" ] && echo keystone || echo noauth)
transport_url = fake:/
api_workers = 1
rpc_workers = 0
rpc_state_report_workers = 0
bind_host = 127.0.0.1
bind_port = $port
state_path = $dir/state
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
[database]
connection = sqlite:///$dir/neutron.db
[oslo_concurrency]
lock_path = $dir/lock
[keystone_authtoken]
www_authenticate_uri = ${KEYSTONE_URL:-}
auth_url = ${KEYSTONE_URL:-}
auth_type = password
interface = public
user_domain_name = Default
project_domain_name = Default
username = ${KEYSTONE_USER:-admin}
password = ${KEYSTONE_PASSWORD:-secret}
project_name = ${KEYSTONE_PROJECT:-admin}
[MIDONET]
midonet_uri = $api
username = ${MIDONET_USERNAME:-admin}
password = ${MIDONET_PASSWORD:-admin}
project_id = ${MIDONET_PROJECT:-admin}
EOF
  cat > "$dir/etc/ml2_conf.ini" <<EOF
[ml2]
type_drivers = midonet,uplink
tenant_network_types = midonet
mechanism_drivers = midonet
extension_drivers = port_security
EOF
  setsid "$dir/venv/bin/python" /usr/bin/neutron-server --config-file "$dir/etc/neutron.conf" \
    --config-file "$dir/etc/ml2_conf.ini" > "$dir/neutron-server.log" 2>&1 < /dev/null &
  echo $! > "$dir/neutron-server.pid"
  for _ in $(seq 1 120); do
    if curl -sf "http://127.0.0.1:$port/" > /dev/null; then
      if [ -n "${KEYSTONE_URL:-}" ]; then
        echo "export OS_AUTH_URL=$KEYSTONE_URL OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3"
      else
        echo "export OS_AUTH_TYPE=none OS_ENDPOINT=http://127.0.0.1:$port"
      fi
      exit 0
    fi
    kill -0 "$(cat "$dir/neutron-server.pid")" 2>/dev/null || break
    sleep 0.5
  done
  echo "neutron-server did not start; see $dir/neutron-server.log" >&2
  tail -20 "$dir/neutron-server.log" >&2
  exit 1
  ;;
down)
  if [ -f "$dir/neutron-server.pid" ]; then
    # The server forks workers into its session: end them all.
    pid="$(cat "$dir/neutron-server.pid")"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    rm -f "$dir/neutron-server.pid"
  fi
  ;;
*)
  echo "usage: env.sh up DIR CLUSTER_API_URL [PORT] | down DIR" >&2
  exit 2
  ;;
esac
