import koffi from 'koffi';

/** The few libc calls the datapath needs, through koffi (no compiler at install). */
const libc = koffi.load('libc.so.6');

export const sys = {
  socket: libc.func('int socket(int domain, int type, int protocol)'),
  bind: libc.func('int bind(int fd, const void *addr, uint32_t len)'),
  setsockopt: libc.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
  close: libc.func('int close(int fd)'),
  recvmmsg: libc.func('int recvmmsg(int fd, void *msgvec, unsigned int vlen, int flags, void *timeout)'),
  sendmmsg: libc.func('int sendmmsg(int fd, void *msgvec, unsigned int vlen, int flags)'),
  poll: libc.func('int poll(void *fds, unsigned long nfds, int timeout)'),
  pipe2: libc.func('int pipe2(_Out_ int *fds, int flags)'),
  write: libc.func('long write(int fd, const void *buf, unsigned long count)'),
  read: libc.func('long read(int fd, void *buf, unsigned long count)'),
  ifNameToIndex: libc.func('unsigned int if_nametoindex(const char *name)'),
  sendto: libc.func('long sendto(int fd, const void *buf, unsigned long len, int flags, const void *addr, uint32_t addrlen)'),
};

export const errno = (): number => koffi.errno();

export const AF_PACKET = 17;
export const AF_INET = 2;
export const IPPROTO_GRE = 47;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const ETH_P_ALL = 0x0003;
export const SOL_PACKET = 263;
export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SO_RCVBUFFORCE = 33;
export const PACKET_IGNORE_OUTGOING = 23;
export const PACKET_VNET_HDR = 15;
export const MSG_DONTWAIT = 0x40;
export const EAGAIN = 11;
export const POLLIN = 1;

export { koffi };
