/*
 * Packet tools for bench/datapath.ts, on the same I/O path as the agent (AF_PACKET, batched
 * recvmmsg/sendmmsg):
 *   pkt gen IFACE SECONDS VARY       send UDP frames as fast as possible (VARY=1: new source port each frame)
 *   pkt sink IFACE SECONDS           count frames received, print the count
 *   pkt fwd IN OUT SECONDS           forward every frame from IN to OUT (the C baseline forwarder)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>

#define BATCH 64
#define SLOT 2048
#define PACKET_IGNORE_OUTGOING 23

static int open_sock(const char *ifname) {
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (fd < 0) { perror("socket"); exit(1); }
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  /* The same receive buffer as the agent's sockets: the comparison is of the forwarding loop. */
  int size = 8 * 1024 * 1024;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  struct sockaddr_ll a = {0};
  a.sll_family = AF_PACKET;
  a.sll_protocol = htons(ETH_P_ALL);
  a.sll_ifindex = if_nametoindex(ifname);
  if (!a.sll_ifindex || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror(ifname); exit(1); }
  return fd;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static unsigned char bufs[BATCH][SLOT];
static struct iovec iov[BATCH];
static struct mmsghdr msgs[BATCH];

static void setup(void) {
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = bufs[i];
    iov[i].iov_len = SLOT;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
}

static uint16_t csum(const unsigned char *p, int n) {
  uint32_t s = 0;
  for (int i = 0; i + 1 < n; i += 2) s += (p[i] << 8) | p[i + 1];
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return ~s;
}

/* A 60-byte UDP frame 10.77.0.1:sport -> 10.77.0.2:9 between the two test MACs. */
static int frame(unsigned char *f, uint16_t sport) {
  static const unsigned char hdr[] = {0x02, 0, 0, 0, 0x77, 2, 0x02, 0, 0, 0, 0x77, 1, 0x08, 0};
  memset(f, 0, 60);
  memcpy(f, hdr, 14);
  unsigned char *ip = f + 14;
  ip[0] = 0x45; ip[3] = 46; ip[8] = 64; ip[9] = 17;
  ip[12] = 10; ip[13] = 77; ip[14] = 0; ip[15] = 1;
  ip[16] = 10; ip[17] = 77; ip[18] = 0; ip[19] = 2;
  uint16_t c = csum(ip, 20); ip[10] = c >> 8; ip[11] = c & 0xff;
  unsigned char *udp = ip + 20;
  udp[0] = sport >> 8; udp[1] = sport & 0xff; udp[3] = 9; udp[5] = 26;
  return 60;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: pkt gen|sink|fwd ...\n"); return 2; }
  setup();
  if (!strcmp(argv[1], "gen") && argc == 5) {
    int fd = open_sock(argv[2]);
    double end = now() + atof(argv[3]);
    int vary = atoi(argv[4]);
    unsigned long sent = 0;
    uint16_t port = 1024;
    for (int i = 0; i < BATCH; i++) iov[i].iov_len = frame(bufs[i], port);
    while (now() < end) {
      if (vary) for (int i = 0; i < BATCH; i++) { port = port == 65535 ? 1024 : port + 1; bufs[i][34] = port >> 8; bufs[i][35] = port & 0xff; }
      int n = sendmmsg(fd, msgs, BATCH, 0);
      if (n > 0) sent += n;
    }
    printf("%lu\n", sent);
  } else if (!strcmp(argv[1], "sink") && argc == 4) {
    int fd = open_sock(argv[2]);
    double end = now() + atof(argv[3]);
    unsigned long got = 0;
    struct pollfd p = {fd, POLLIN, 0};
    while (now() < end) {
      if (poll(&p, 1, 50) <= 0) continue;
      struct timespec zero = {0, 0};
      int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, &zero);
      if (n > 0) for (int i = 0; i < n; i++) if (msgs[i].msg_len >= 42 && bufs[i][23] == 17 && bufs[i][37] == 9) got++;
    }
    printf("%lu\n", got);
  } else if (!strcmp(argv[1], "fwd") && argc == 5) {
    int in = open_sock(argv[2]), out = open_sock(argv[3]);
    double end = now() + atof(argv[4]);
    struct pollfd p = {in, POLLIN, 0};
    while (now() < end) {
      if (poll(&p, 1, 50) <= 0) continue;
      int n = recvmmsg(in, msgs, BATCH, MSG_DONTWAIT, NULL);
      if (n <= 0) continue;
      for (int i = 0; i < n; i++) iov[i].iov_len = msgs[i].msg_len;
      sendmmsg(out, msgs, n, 0);
      for (int i = 0; i < n; i++) iov[i].iov_len = SLOT;
    }
  } else { fprintf(stderr, "bad arguments\n"); return 2; }
  return 0;
}
