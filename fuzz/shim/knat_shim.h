/* SPDX-License-Identifier: GPL-2.0 */
/*
 * knat fuzzing: the few kernel helpers kmod/hooks.c uses, for building it
 * in userspace.  The packet structures and constants come from the
 * system's UAPI headers (<linux/ip.h> and friends, via #include_next in the
 * shim headers of the same names); this file adds what only the kernel
 * has.  The checksum helpers are the kernel's own (include/net/checksum.h,
 * net/core/utils.c), copied; csum_partial() is a plain RFC 1071 sum.
 *
 * The sk_buff is modelled with a linear head of headlen bytes in its own
 * allocation and the rest "in fragments": pskb_may_pull() and
 * skb_ensure_writable() reallocate the head as the kernel may, so code
 * that keeps a header pointer across them reads freed memory, and code
 * that reads past what it pulled reads past the allocation; AddressSanitizer
 * reports both.
 */
#ifndef _KNAT_SHIM_H
#define _KNAT_SHIM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <asm/byteorder.h>

/* Types and annotations. */
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;

#define __force
#define __rcu
#define __percpu
#define __user
#define IS_ENABLED(option)	0	/* no conntrack, no other kernel options */
#define ____cacheline_aligned_in_smp
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define fallthrough __attribute__((__fallthrough__))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BIT(n) (1UL << (n))
#define sizeof_field(T, m) sizeof(((T *)0)->m)
#define offsetofend(T, m) (offsetof(T, m) + sizeof_field(T, m))
#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define BUG_ON(c) do { if (c) { fprintf(stderr, "BUG_ON(%s) at %s:%d\n", #c, __FILE__, __LINE__); abort(); } } while (0)

#define htons(x) __cpu_to_be16(x)
#define ntohs(x) __be16_to_cpu(x)
#define htonl(x) __cpu_to_be32(x)
#define ntohl(x) __be32_to_cpu(x)

#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) unlikely((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }
static inline bool IS_ERR_OR_NULL(const void *ptr) { return !ptr || IS_ERR(ptr); }

/* RCU, per-CPU data, atomics: one thread, no grace periods. */
#define rcu_dereference(p) (p)
#define this_cpu_inc(x) ((x)++)
typedef struct { int counter; } atomic_t;
typedef struct { atomic_t refs; } refcount_t;
static inline int atomic_read(const atomic_t *v) { return v->counter; }
static inline void atomic_set(atomic_t *v, int i) { v->counter = i; }
static inline void atomic_or(int i, atomic_t *v) { v->counter |= i; }
extern unsigned long jiffies;

/* Opaque or unused by the packet path: just the types knat.h names. */
struct list_head { struct list_head *next, *prev; };
struct mutex { int unused; };
typedef struct { int unused; } spinlock_t;
struct rcu_head { void *next; void (*func)(struct rcu_head *); };
struct rhash_head { struct rhash_head *next; };
struct rhlist_head { struct rhash_head rhead; struct rhlist_head *next; };
struct rhashtable { void *tbl; atomic_t nelems; };
struct rhltable { struct rhashtable ht; };
struct rhashtable_iter { void *p; };
struct work_struct { void *func; };
struct delayed_work { struct work_struct work; };
struct net;
struct sock;
struct nlattr;
struct netlink_ext_ack;
struct net_device {
	int ifindex;
	unsigned int flags;
};

/* IFF_LOOPBACK: <linux/if.h>. */
static inline bool netif_is_l3_master(const struct net_device *dev)
{
	return false;
}

#define net_warn_ratelimited(fmt, ...) do { } while (0)

/* No routing: its generation never changes. */
static inline int rt_genid_ipv4(const struct net *net)
{
	return 0;
}
#ifndef IFNAMSIZ
#define IFNAMSIZ 16
#endif

extern unsigned int knat_net_id;
void *net_generic(const struct net *net, unsigned int id);

/* Checksums: from include/net/checksum.h and net/core/utils.c. */
static inline __wsum csum_partial(const void *buff, int len, __wsum wsum)
{
	const u8 *p = buff;
	u64 sum = (__force u32)wsum;
	int i;

	for (i = 0; i + 1 < len; i += 2) {
		u16 w;

		memcpy(&w, p + i, 2);
		sum += w;
	}
	if (len & 1) {
		u16 w = 0;

		memcpy(&w, p + len - 1, 1);
		sum += w;
	}
	while (sum >> 32)
		sum = (sum & 0xffffffff) + (sum >> 32);
	return (__force __wsum)(u32)sum;
}

static inline __sum16 csum_fold(__wsum csum)
{
	u32 sum = (__force u32)csum;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__force __sum16)~sum;
}

static inline u32 ror32(u32 word, unsigned int shift)
{
	return (word >> (shift & 31)) | (word << ((-shift) & 31));
}

static __always_inline __wsum csum_add(__wsum csum, __wsum addend)
{
	u32 res = (__force u32)csum;

	res += (__force u32)addend;
	return (__force __wsum)(res + (res < (__force u32)addend));
}

static __always_inline __wsum csum_sub(__wsum csum, __wsum addend)
{
	return csum_add(csum, ~addend);
}

static __always_inline __sum16 csum16_add(__sum16 csum, __be16 addend)
{
	u16 res = (__force u16)csum;

	res += (__force u16)addend;
	return (__force __sum16)(res + (res < (__force u16)addend));
}

static __always_inline __sum16 csum16_sub(__sum16 csum, __be16 addend)
{
	return csum16_add(csum, ~addend);
}

static __always_inline __wsum csum_shift(__wsum sum, int offset)
{
	if (offset & 1)
		return (__force __wsum)ror32((__force u32)sum, 8);
	return sum;
}

static __always_inline __wsum csum_block_add(__wsum csum, __wsum csum2,
					     int offset)
{
	return csum_add(csum, csum_shift(csum2, offset));
}

static __always_inline __wsum csum_unfold(__sum16 n)
{
	return (__force __wsum)n;
}

#define CSUM_MANGLED_0 ((__force __sum16)0xffff)

static __always_inline void csum_replace4(__sum16 *sum, __be32 from, __be32 to)
{
	__wsum tmp = csum_sub(~csum_unfold(*sum), (__force __wsum)from);

	*sum = csum_fold(csum_add(tmp, (__force __wsum)to));
}

static __always_inline void csum_replace2(__sum16 *sum, __be16 old, __be16 new)
{
	*sum = ~csum16_add(csum16_sub(~(*sum), old), new);
}

/* The sk_buff. */
#define CHECKSUM_NONE		0
#define CHECKSUM_UNNECESSARY	1
#define CHECKSUM_COMPLETE	2
#define CHECKSUM_PARTIAL	3

struct inet_skb_parm {
	int iif;
	u16 flags;
};
#define IPSKB_DOREDIRECT	BIT(5)

struct sk_buff {
	unsigned char *data;	/* the linear head: headlen bytes, malloc'ed */
	unsigned int len;	/* the whole packet */
	unsigned int headlen;
	unsigned char *frags;	/* len bytes; [headlen, len) is the rest */
	bool cloned;		/* the head is shared: writing copies it */
	u8 ip_summed;
	__wsum csum;
	struct net_device *dev;
	char cb[48];
	unsigned int reallocs;	/* heads replaced, for the statistics */
};

#define IPCB(skb) ((struct inet_skb_parm *)((skb)->cb))

/* A new head of @len bytes: the old one's content, the rest from frags. */
static inline void knat_shim_rehead(struct sk_buff *skb, unsigned int len)
{
	unsigned char *h = malloc(len ? len : 1);

	if (!h)
		abort();
	memcpy(h, skb->data, skb->headlen);
	memcpy(h + skb->headlen, skb->frags + skb->headlen,
	       len - skb->headlen);
	free(skb->data);
	skb->data = h;
	skb->headlen = len;
	skb->reallocs++;
}

static inline bool pskb_may_pull(struct sk_buff *skb, unsigned int len)
{
	if (likely(len <= skb->headlen))
		return true;
	if (unlikely(len > skb->len))
		return false;
	knat_shim_rehead(skb, len);
	return true;
}

static inline int skb_ensure_writable(struct sk_buff *skb,
				      unsigned int write_len)
{
	if (!pskb_may_pull(skb, write_len))
		return -ENOMEM;
	if (skb->cloned) {
		knat_shim_rehead(skb, skb->headlen);
		skb->cloned = false;
	}
	return 0;
}

static inline int skb_network_offset(const struct sk_buff *skb)
{
	return 0;
}

static inline __wsum skb_checksum(const struct sk_buff *skb, int offset,
				  int len, __wsum csum)
{
	unsigned int end = (unsigned int)offset + (unsigned int)len;
	int pos = 0;

	BUG_ON(offset < 0 || len < 0 || end > skb->len);
	if ((unsigned int)offset < skb->headlen) {
		int n = (end < skb->headlen ? end : skb->headlen) - offset;

		csum = csum_partial(skb->data + offset, n, csum);
		pos = n;
		offset += n;
		len -= n;
	}
	if (len > 0)
		csum = csum_block_add(csum,
				      csum_partial(skb->frags + offset, len, 0),
				      pos);
	return csum;
}

/* No routes in the fuzzer: nothing is ever attached. */
static inline void *skb_dst(const struct sk_buff *skb)
{
	return NULL;
}

static inline void skb_dst_drop(struct sk_buff *skb)
{
}

void inet_proto_csum_replace4(__sum16 *sum, struct sk_buff *skb,
			      __be32 from, __be32 to, bool pseudohdr);

static __always_inline void inet_proto_csum_replace2(__sum16 *sum,
						     struct sk_buff *skb,
						     __be16 from, __be16 to,
						     bool pseudohdr)
{
	inet_proto_csum_replace4(sum, skb, (__force __be32)from,
				 (__force __be32)to, pseudohdr);
}

/* Netfilter and routing. */
struct nf_hook_state {
	u8 hook;
	u8 pf;
	struct net_device *in, *out;
	struct sock *sk;
	struct net *net;
};

typedef unsigned int nf_hookfn(void *priv, struct sk_buff *skb,
			       const struct nf_hook_state *state);

struct nf_hook_ops {
	nf_hookfn *hook;
	struct net_device *dev;
	void *priv;
	u8 pf;
	unsigned int hooknum;
	int priority;
};

int nf_register_net_hooks(struct net *net, const struct nf_hook_ops *reg,
			  unsigned int n);
void nf_unregister_net_hooks(struct net *net, const struct nf_hook_ops *reg,
			     unsigned int n);

#define RTN_UNSPEC 0
int ip_route_input_noref(struct sk_buff *skb, __be32 daddr, __be32 saddr,
			 u8 tos, struct net_device *devin);
int ip_route_me_harder(struct net *net, struct sock *sk, struct sk_buff *skb,
		       unsigned int addr_type);

#endif /* _KNAT_SHIM_H */
