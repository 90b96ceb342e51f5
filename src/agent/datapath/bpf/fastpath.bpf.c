// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's kernel fast path. The agent stays the source of truth: it simulates first packets
 * and writes the flows the kernel can execute into `flows`; these programs only look them up.
 *
 *   vm_ingress      tc ingress of a bound port: a frame whose key is in `flows` gets its MAC, TTL
 *                   and NAT rewrites and goes out of a local port, or into VXLAN to a peer host,
 *                   or is dropped.
 *   tunnel_ingress  tc ingress of the underlay interface: VXLAN to the agent's port from a
 *                   tunnel-zone peer, for a key (VNI) bound here, is decapsulated and sent out of
 *                   the port.
 *   port_filter     socket filter of the agent's packet sockets: frames the kernel forwards are
 *                   not copied to the agent as well (taps run before tc ingress).
 *
 * Anything else (no entry, ARP, VLAN, IP options, fragments, frames too big for the tunnel)
 * goes on to the agent's userspace datapath, as without this program.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_HLEN 14
#define OUTER_LEN 50 /* outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) */

/* The key of a frame, as the agent's raw-header cache keys it: fields in wire order. */
struct fp_key {
	__u32 ifindex;
	__u8 dst[6];
	__u8 src[6];
	__u32 saddr;
	__u32 daddr;
	__u8 tos;
	__u8 ttl;
	__u8 proto;
	__u8 pad;
	__u16 l4a; /* TCP/UDP source port; ICMP type and code */
	__u16 l4b; /* TCP/UDP destination port; ICMP echo id */
};

enum { OUT_LOCAL = 1, OUT_VXLAN = 2, OUT_DROP = 3 };
enum { NAT_SADDR = 1, NAT_DADDR = 2, NAT_SPORT = 4, NAT_DPORT = 8 };

struct fp_action {
	__u32 kind;
	__u32 ifindex; /* the local port, or the underlay interface */
	__u8 set_dst;
	__u8 set_src;
	__u8 set_ttl;
	__u8 ttl;
	__u8 eth_dst[6];
	__u8 eth_src[6];
	__u8 outer_dst[6];
	__u8 outer_src[6];
	__u32 outer_saddr;
	__u32 outer_daddr;
	__u32 vni; /* VXLAN's second word: the key << 8, network order */
	__u16 udp_sport;
	__u16 udp_dport;
	__u32 max_len; /* the largest inner frame the underlay carries whole; 0: no limit */
	__u8 set_nat;  /* NAT_* bits: which of the addresses and ports below replace the frame's */
	__u8 pad[3];
	__u32 nat_saddr;
	__u32 nat_daddr;
	__u16 nat_sport;
	__u16 nat_dport;
	__u64 packets;
	__u64 bytes;
	__u64 last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct fp_key);
	__type(value, struct fp_action);
} flows SEC(".maps");

/* Tunnel key (host order) -> the ifindex of the local port bound to it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} tunnel_ports SEC(".maps");

/* Underlay addresses (network order) of the hosts sharing a tunnel zone with this one. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} peers SEC(".maps");

/* [0]: the overlay's UDP port, network order. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} config SEC(".maps");

enum { C_LOCAL, C_ENCAP, C_DECAP, C_ERROR, C_DROP, C_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);
	if (c)
		*c += 1;
}

/* Reads the key of the frame in `skb`; 0 when the frame has none (left to the agent). */
static __always_inline int frame_key(struct __sk_buff *skb, struct fp_key *k)
{
	__u8 h[42];
	if (bpf_skb_load_bytes(skb, 0, h, sizeof(h)) < 0)
		return 0;
	/* IPv4 without options, not a fragment */
	if (h[12] != 0x08 || h[13] != 0x00 || h[14] != 0x45 || (h[20] & 0x3f) != 0 || h[21] != 0)
		return 0;
	__u8 proto = h[23];
	k->ifindex = skb->ifindex;
	__builtin_memcpy(k->dst, h, 6);
	__builtin_memcpy(k->src, h + 6, 6);
	__builtin_memcpy(&k->saddr, h + 26, 4);
	__builtin_memcpy(&k->daddr, h + 30, 4);
	k->tos = h[15];
	k->ttl = h[22];
	k->proto = proto;
	k->pad = 0;
	if (proto == 6 || proto == 17) {
		__builtin_memcpy(&k->l4a, h + 34, 2);
		__builtin_memcpy(&k->l4b, h + 36, 2);
		return 1;
	}
	if (proto == 1 && (h[34] == 8 || h[34] == 0)) {
		__builtin_memcpy(&k->l4a, h + 34, 2);
		__builtin_memcpy(&k->l4b, h + 38, 2);
		return 1;
	}
	return 0;
}

/* Whether the frame (each segment of a super-frame) still fits the underlay once encapsulated. */
static __always_inline int fits(struct __sk_buff *skb, const struct fp_key *k, const struct fp_action *a)
{
	if (a->kind != OUT_VXLAN || a->max_len == 0)
		return 1;
	if (skb->gso_size == 0)
		return skb->len <= a->max_len;
	__u32 l4 = 8;
	if (k->proto == 6) {
		__u8 doff = 0;
		if (bpf_skb_load_bytes(skb, ETH_HLEN + 20 + 12, &doff, 1) < 0)
			return 0;
		l4 = (__u32)(doff >> 4) * 4;
	}
	return ETH_HLEN + 20 + l4 + skb->gso_size <= a->max_len;
}

/* The entry the kernel forwards this frame by, or NULL. */
static __always_inline struct fp_action *lookup(struct __sk_buff *skb, struct fp_key *k)
{
	if (!frame_key(skb, k))
		return NULL;
	struct fp_action *a = bpf_map_lookup_elem(&flows, k);
	if (!a || !fits(skb, k, a))
		return NULL;
	return a;
}

SEC("socket")
int port_filter(struct __sk_buff *skb)
{
	struct fp_key k = {};
	return lookup(skb, &k) ? 0 : skb->len;
}

/* Replaces a 4-byte address at `at`: the IP header's checksum, and the TCP/UDP pseudo-header's. */
static __always_inline int nat_addr(struct __sk_buff *skb, __u32 at, __u32 to, __u32 l4_csum, __u64 l4_flags)
{
	__u32 from;
	if (bpf_skb_load_bytes(skb, at, &from, 4) < 0)
		return -1;
	if (l4_csum && bpf_l4_csum_replace(skb, l4_csum, from, to, BPF_F_PSEUDO_HDR | 4 | l4_flags) < 0)
		return -1;
	if (bpf_l3_csum_replace(skb, ETH_HLEN + 10, from, to, 4) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, at, &to, 4, 0);
}

static __always_inline int nat_port(struct __sk_buff *skb, __u32 at, __u16 to, __u32 l4_csum, __u64 l4_flags)
{
	__u16 from;
	if (bpf_skb_load_bytes(skb, at, &from, 2) < 0)
		return -1;
	if (bpf_l4_csum_replace(skb, l4_csum, from, to, 2 | l4_flags) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, at, &to, 2, 0);
}

static __always_inline int nat(struct __sk_buff *skb, const struct fp_action *a)
{
	__u8 proto = 0;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + 9, &proto, 1) < 0)
		return -1;
	/* ICMP has no pseudo-header; UDP without a checksum keeps none. */
	__u32 l4_csum = proto == 6 ? ETH_HLEN + 20 + 16 : proto == 17 ? ETH_HLEN + 20 + 6 : 0;
	__u64 l4_flags = proto == 17 ? BPF_F_MARK_MANGLED_0 : 0;
	if ((a->set_nat & NAT_SADDR) && nat_addr(skb, ETH_HLEN + 12, a->nat_saddr, l4_csum, l4_flags) < 0)
		return -1;
	if ((a->set_nat & NAT_DADDR) && nat_addr(skb, ETH_HLEN + 16, a->nat_daddr, l4_csum, l4_flags) < 0)
		return -1;
	if (!(a->set_nat & (NAT_SPORT | NAT_DPORT)))
		return 0;
	if (!l4_csum)
		return -1;
	if ((a->set_nat & NAT_SPORT) && nat_port(skb, ETH_HLEN + 20, a->nat_sport, l4_csum, l4_flags) < 0)
		return -1;
	if ((a->set_nat & NAT_DPORT) && nat_port(skb, ETH_HLEN + 22, a->nat_dport, l4_csum, l4_flags) < 0)
		return -1;
	return 0;
}

static __always_inline int rewrite(struct __sk_buff *skb, const struct fp_action *a)
{
	if (a->set_nat && nat(skb, a) < 0)
		return -1;
	if (a->set_dst && bpf_skb_store_bytes(skb, 0, a->eth_dst, 6, 0) < 0)
		return -1;
	if (a->set_src && bpf_skb_store_bytes(skb, 6, a->eth_src, 6, 0) < 0)
		return -1;
	if (a->set_ttl) {
		__u8 old = 0;
		if (bpf_skb_load_bytes(skb, ETH_HLEN + 8, &old, 1) < 0)
			return -1;
		/* TTL is the high byte of the 16-bit word it shares with the protocol. */
		__u16 from = bpf_htons((__u16)old << 8), to = bpf_htons((__u16)a->ttl << 8);
		if (bpf_l3_csum_replace(skb, ETH_HLEN + 10, from, to, 2) < 0)
			return -1;
		if (bpf_skb_store_bytes(skb, ETH_HLEN + 8, &a->ttl, 1, 0) < 0)
			return -1;
	}
	return 0;
}

struct outer {
	__u8 eth[14];
	__u8 ver_ihl;
	__u8 tos;
	__u16 tot_len;
	__u16 id;
	__u16 frag;
	__u8 ttl;
	__u8 proto;
	__u16 check;
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u16 ulen;
	__u16 ucheck;
	__u32 vx_flags;
	__u32 vx_vni;
	__u8 inner[14];
} __attribute__((packed));

static __always_inline __u16 fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static __always_inline int encap(struct __sk_buff *skb, const struct fp_action *a)
{
	struct outer o = {};
	if (bpf_skb_load_bytes(skb, 0, o.inner, ETH_HLEN) < 0)
		return -1;
	__u64 flags = BPF_F_ADJ_ROOM_FIXED_GSO | BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP |
		      BPF_F_ADJ_ROOM_ENCAP_L2_ETH | BPF_F_ADJ_ROOM_ENCAP_L2(ETH_HLEN);
	if (bpf_skb_adjust_room(skb, OUTER_LEN, BPF_ADJ_ROOM_MAC, flags) < 0)
		return -1;
	__u32 len = skb->len;
	__builtin_memcpy(o.eth, a->outer_dst, 6);
	__builtin_memcpy(o.eth + 6, a->outer_src, 6);
	o.eth[12] = 0x08;
	o.ver_ihl = 0x45;
	o.tot_len = bpf_htons(len - ETH_HLEN > 0xffff ? 0xffff : len - ETH_HLEN);
	o.ttl = 64;
	o.proto = 17;
	o.saddr = a->outer_saddr;
	o.daddr = a->outer_daddr;
	/* One source port per inner flow, as VXLAN senders spread flows over ECMP paths. */
	o.sport = bpf_htons(49152 | (bpf_get_hash_recalc(skb) & 0x3fff));
	o.dport = a->udp_dport;
	o.ulen = bpf_htons(len - ETH_HLEN - 20 > 0xffff ? 0xffff : len - ETH_HLEN - 20);
	o.vx_flags = bpf_htonl(0x08000000);
	o.vx_vni = a->vni;
	__s64 sum = bpf_csum_diff(0, 0, (__be32 *)&o.ver_ihl, 20, 0);
	if (sum < 0)
		return -1;
	o.check = fold((__u64)sum);
	if (bpf_skb_store_bytes(skb, 0, &o, sizeof(o), 0) < 0)
		return -1;
	return 0;
}

static __always_inline void used(struct fp_action *a, struct __sk_buff *skb)
{
	__sync_fetch_and_add(&a->packets, skb->gso_segs > 1 ? skb->gso_segs : 1);
	__sync_fetch_and_add(&a->bytes, skb->len);
	a->last_ns = bpf_ktime_get_ns();
}

SEC("tc")
int vm_ingress(struct __sk_buff *skb)
{
	struct fp_key k = {};
	struct fp_action *a = lookup(skb, &k);
	if (!a)
		return TC_ACT_OK;
	used(a, skb);
	if (a->kind == OUT_DROP) {
		count(C_DROP);
		return TC_ACT_SHOT;
	}
	/* The agent did not get this frame: a failure here loses it, counted. */
	if (rewrite(skb, a) < 0)
		goto error;
	if (a->kind == OUT_LOCAL) {
		count(C_LOCAL);
		return bpf_redirect(a->ifindex, 0);
	}
	if (a->kind == OUT_VXLAN && encap(skb, a) == 0) {
		count(C_ENCAP);
		return bpf_redirect(a->ifindex, 0);
	}
error:
	count(C_ERROR);
	return TC_ACT_SHOT;
}

SEC("tc")
int tunnel_ingress(struct __sk_buff *skb)
{
	__u8 h[OUTER_LEN + ETH_HLEN];
	if (bpf_skb_load_bytes(skb, 0, h, sizeof(h)) < 0)
		return TC_ACT_OK;
	if (h[12] != 0x08 || h[13] != 0x00 || h[14] != 0x45 || h[23] != 17 || (h[20] & 0x3f) != 0 || h[21] != 0)
		return TC_ACT_OK;
	__u32 zero = 0;
	__u32 *port = bpf_map_lookup_elem(&config, &zero);
	__u16 dport;
	__builtin_memcpy(&dport, h + 36, 2);
	if (!port || dport != (__u16)*port || !(h[42] & 0x08))
		return TC_ACT_OK;
	__u32 saddr;
	__builtin_memcpy(&saddr, h + 26, 4);
	if (!bpf_map_lookup_elem(&peers, &saddr))
		return TC_ACT_OK;
	__u32 vni = ((__u32)h[46] << 16) | ((__u32)h[47] << 8) | h[48];
	__u32 *ifindex = bpf_map_lookup_elem(&tunnel_ports, &vni);
	if (!ifindex)
		return TC_ACT_OK;
	__u32 out = *ifindex;
	if (bpf_skb_adjust_room(skb, -OUTER_LEN, BPF_ADJ_ROOM_MAC, 0) < 0)
		goto error;
	if (bpf_skb_store_bytes(skb, 0, h + OUTER_LEN, ETH_HLEN, 0) < 0)
		goto error;
	count(C_DECAP);
	return bpf_redirect(out, 0);
error:
	count(C_ERROR);
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
