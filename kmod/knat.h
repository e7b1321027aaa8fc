/* SPDX-License-Identifier: GPL-2.0 */
/*
 * knat: internal declarations shared by the module's source files.
 */
#ifndef _KNAT_H
#define _KNAT_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/rhashtable.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "uapi/knat.h"

#define KNAT_VERSION "0.1.0"

/* Indexes of the per-protocol port bitmaps and timeouts. */
enum knat_proto_idx {
	KNAT_TCP,
	KNAT_UDP,
	KNAT_ICMP,
	KNAT_NPROTO,
};

/* The protocols whose freed ports are held: KNAT_TCP and KNAT_UDP. */
#define KNAT_HOLD_PROTOS	2

enum knat_timeout_idx {
	KNAT_TO_TCP_EST,
	KNAT_TO_TCP_TRANS,
	KNAT_TO_UDP,
	KNAT_TO_ICMP,
	KNAT_TO_TCP_SYN,	/* opened from outside, not yet established */
	KNAT_TO_OTHER,		/* generic protocols */
	KNAT_TO_MAX,
};

/*
 * One external address of the namespace, shared by every network that uses
 * it, with a bitmap per protocol of the ports (ICMP: identifiers) in use.
 * The bitmaps are changed only under knat_net.tbl_lock.
 */
struct knat_extaddr {
	struct list_head list;		/* knat_net.extaddrs, under lock */
	refcount_t users;		/* knat_params using it */
	__be32 addr;
	unsigned long *ports[KNAT_NPROTO];
	/*
	 * TCP and UDP ports freed lately, held for port_hold seconds before
	 * they are handed out again (RFC 6888 REQ-8): two generations each,
	 * the current one since hold_epoch.  Under knat_net.tbl_lock.
	 */
	unsigned long *held[KNAT_HOLD_PROTOS][2];
	unsigned long hold_epoch[KNAT_HOLD_PROTOS];
	u8 hold_cur[KNAT_HOLD_PROTOS];
	struct rcu_head rcu;
};

/*
 * A static mapping (natctl map): a port mapping (TCP or UDP) or a 1:1
 * mapping of every protocol (proto 0).  Immutable; shared by the settings
 * that list it, freed after a grace period once none does.  Its counters
 * live as long as it does: a mapping added again alike in a transaction is
 * the same object.
 */
struct knat_smap {
	refcount_t ref;			/* knat_params listing it */
	u8 proto;			/* IPPROTO_TCP, _UDP, 0: 1:1 */
	u8 rem_plen;
	u16 ext_min, ext_max;		/* port mappings */
	u16 int_min, int_max;		/* int_min == int_max: collapsed */
	__be32 ext_addr;		/* 0: the network's first address */
	__be32 int_addr;
	__be32 rem_prefix, rem_mask;
	struct knat_smap_stats __percpu *stats;
	struct rcu_head rcu;
};

struct knat_smap_stats {
	u64 packets;
	u64 sessions;
};

/*
 * A network's settings.  Immutable once published: a change builds a new
 * one and swaps knat_network.params, so the packet path reads a consistent
 * set without locks.
 */
struct knat_params {
	u16 port_min, port_max;		/* 0, 0: the default range */
	u8 filtering;			/* enum knat_filtering */
	bool udp_inbound_refresh;
	bool hairpin;
	u8 inbound_share;		/* percent of max_sessions */
	u32 max_sessions;
	u32 host_max_sessions;		/* 0: no limit */
	u32 timeout[KNAT_TO_MAX];	/* jiffies */
	u32 timeout_s[KNAT_TO_MAX];	/* seconds, as configured */
	char ext_dev[IFNAMSIZ];		/* "" in pool mode */
	unsigned int n_addrs;		/* 0 when ext_dev has no address */
	struct knat_extaddr *addrs[KNAT_EXT_ADDRS_MAX];
	unsigned int n_maps;
	struct knat_smap **maps;	/* kmalloc'ed, in the order added */
	struct rcu_head rcu;
};

/* Per-CPU counters, indexed by enum knat_counter. */
struct knat_stats {
	u64 cnt[KNAT_CNT_MAX + 1];
};

struct knat_network {
	struct list_head list;		/* knat_net.networks, under lock */
	char name[KNAT_NAME_MAXLEN + 1];
	u32 id;
	__be32 prefix, mask;
	u8 plen;
	struct knat_params __rcu *params;
	atomic_t n_sessions;
	atomic_t n_inbound;		/* of them, opened from outside */
	struct knat_embryos *embryos;	/* under knat_net.tbl_lock */
	struct knat_stats __percpu *stats;
};

/* A static mapping as the packet path finds it, its address resolved. */
struct knat_cmap {
	__be32 ext_addr;
	u8 proto;			/* 0: 1:1 */
	u16 lo, hi;			/* external ports */
	struct knat_smap *m;
	struct knat_network *n;
};

/* A network in knat_config.net_hash. */
struct knat_netent {
	__be32 prefix, mask;
	struct knat_network *n;		/* NULL: an empty slot */
};

/*
 * A /16 block that holds internal prefixes of /16 or longer, and which
 * lengths they have (bits: indexes into knat_config.plen_mask[]), so that
 * a lookup probes only those: one hash probe for an address outside every
 * internal prefix, whatever the number of prefix lengths.
 */
struct knat_blkent {
	__be32 block;
	u64 lens;			/* 0: an empty slot */
};

/*
 * What the packet path reads: the networks, for matching a source against
 * the internal prefixes, every external address (the networks', and the
 * mappings'), for a cheap test of whether an inbound packet can concern
 * knat at all, and the static mappings: port mappings sorted by external
 * address, protocol and port, 1:1 mappings.  Rebuilt and swapped whole on
 * each change, in one allocation.
 *
 * The lookups every packet makes cost the same however many networks,
 * addresses and mappings there are: open-addressing hash tables (linear
 * probing, at most half full) of the networks by prefix, one probe per
 * distinct prefix length (prefixes never overlap, so at most one
 * matches), of the external addresses, and of the 1:1 mappings by either
 * address; a binary search of the port mappings.
 */
struct knat_config {
	unsigned int n_networks;
	unsigned int n_addrs;
	unsigned int n_pmaps, n_ipmaps;
	__be32 *addrs;			/* in the same allocation */
	struct knat_cmap *pmaps;	/* likewise */
	struct knat_cmap *ipmaps;	/* likewise */
	unsigned int n_plens;		/* distinct prefix lengths */
	__be32 plen_mask[33];
	u64 short_lens;			/* plen_mask[] bits shorter than /16 */
	u8 net_bits, addr_bits, ipm_bits;	/* log2 of the tables' sizes */
	struct knat_netent *net_hash;
	struct knat_blkent *blk_hash;	/* BIT(net_bits) slots too */
	__be32 *addr_hash;		/* 0: empty (never an address) */
	const struct knat_cmap **ipm_ext, **ipm_int;
	struct rcu_head rcu;
	struct knat_network *networks[];
};

/*
 * Endpoint-independent mapping: internal addr:port <-> external addr:port
 * for one protocol, shared by the sessions of that internal endpoint.
 */
struct knat_mapping {
	struct rhash_head int_node;	/* by proto, int addr:port */
	struct rhash_head ext_node;	/* by proto, ext addr:port */
	struct knat_extaddr *extaddr;
	__be32 int_addr, ext_addr;
	__be16 int_port, ext_port;
	u8 proto;
	u8 dead;			/* unlinked, under tbl_lock */
	u32 n_sessions;			/* under tbl_lock */
	/*
	 * The remote addresses its sessions talk to, for address-dependent
	 * filtering: the first inline (most mappings talk to one host), any
	 * other in knat_net.peers.  Written under tbl_lock, read lockless.
	 */
	__be32 peer0;
	u32 peer0_n;			/* sessions with peer0 */
	struct rcu_head rcu;
};

/* A remote address of a mapping's sessions beyond its peer0. */
struct knat_peer {
	struct rhash_head node;		/* by proto, ext addr:port, rem addr */
	__be32 ext_addr, rem_addr;
	__be16 ext_port;
	u8 proto;
	u32 n;				/* sessions, under tbl_lock */
	struct rcu_head rcu;
};

/*
 * A session: a mapping plus one remote endpoint.  Kept to 64 bytes: both
 * lookup indexes, the keys and the state.
 */
struct knat_session {
	struct rhash_head out_node;	/* by proto, int, rem addr:port */
	struct rhash_head in_node;	/* by proto, ext, rem addr:port */
	struct knat_network *network;
	__be32 int_addr, ext_addr, rem_addr;
	__be16 int_port, ext_port, rem_port;
	u8 proto;
	u8 dead;			/* unlinked, under tbl_lock */
	atomic_t state;			/* KNAT_TCP_* bits */
	u32 last_seen;			/* jiffies */
	u32 tcp_seq;			/* see knat_tcp_track() */
	struct knat_hp __rcu *hp;	/* hairpinned: set under tbl_lock */
};

/*
 * A hairpinned flow's packets from the internal end of session @s to its
 * peer's internal end, as FORWARD sees them (their destination rewritten
 * at PREROUTING, their source still @s's internal end): the key under
 * which FORWARD finds @s, to rewrite the source to @s's external end.
 */
struct knat_hp_key {
	__be32 saddr, daddr;
	__be16 sport, dport;
	u8 proto;
};

struct knat_hp {
	struct rhash_head node;
	struct knat_hp_key key;
	struct knat_session *s;
	struct rcu_head rcu;
};

/* Internal hosts, for host-max-sessions. */
struct knat_host {
	struct rhash_head node;
	__be32 addr;
	u32 n_sessions;			/* under tbl_lock */
	/*
	 * The interface the reverse-path check last found the host behind
	 * (ifindex << 32) and the routing generation it was true for
	 * (rt_genid_ipv4()), so that its next flows need no FIB lookup;
	 * 0: none.  Lockless, one word.
	 */
	u64 rp_seen;
	struct rcu_head rcu;
};

/* TCP state bits in knat_session.state. */
#define KNAT_TCP_SYN_OUT	BIT(0)
#define KNAT_TCP_SYN_IN		BIT(1)
#define KNAT_TCP_FIN_OUT	BIT(2)
#define KNAT_TCP_FIN_IN		BIT(3)
#define KNAT_TCP_RST		BIT(4)
#define KNAT_TCP_SEEN_OUT	BIT(5)
#define KNAT_TCP_SEEN_IN	BIT(6)
#define KNAT_TCP_INBOUND	BIT(7)	/* opened from outside */
#define KNAT_TCP_EST		BIT(9)	/* the handshake completed */
/* Not TCP state: kept across a new connection on the same tuple. */
#define KNAT_SESS_STATIC	BIT(8)	/* made by a port mapping */
#define KNAT_SESS_INBOUND	BIT(10)	/* made from outside: n_inbound */
#define KNAT_SESS_KEEP		(KNAT_SESS_STATIC | KNAT_SESS_INBOUND)

/*
 * A TCP number close enough above @ref: within a window of 64 KiB, the
 * largest an unscaled window can be (knat does not follow window
 * scaling).  A blind attacker guesses one with a chance of 1 in 65 536.
 */
#define KNAT_TCP_WINDOW		65536U

static inline bool knat_tcp_near(u32 seq, u32 ref)
{
	return seq - ref < KNAT_TCP_WINDOW;
}

/*
 * Everything knat keeps is per network namespace and lives here.
 * The packet path never takes @lock.
 */
struct knat_net {
	struct net *net;
	struct mutex lock;		/* serialises configuration changes */
	struct list_head networks;	/* under @lock */
	unsigned int n_networks;	/* under @lock */
	u32 next_id;			/* under @lock */
	struct list_head extaddrs;	/* under @lock */
	bool defrag;			/* nf_defrag_ipv4 enabled, under @lock */
	struct knat_config __rcu *config;

	/*
	 * Session state: lookups are RCU, changes under @tbl_lock, which
	 * every new flow and expiry writes: on a cache line of its own, not
	 * the one of @config that every packet reads.
	 */
	spinlock_t tbl_lock ____cacheline_aligned_in_smp;
	struct rhashtable sessions_out;
	struct rhashtable sessions_in;
	struct rhashtable peers;
	struct rhashtable mappings_int;
	struct rhashtable mappings_ext;
	struct rhashtable hosts;
	struct rhashtable hairpins;	/* struct knat_hp */
	atomic_t n_sessions, n_mappings, n_hosts;

	/* Namespace-wide counters: those of no network. */
	struct knat_stats __percpu *stats;

	/* Evicted sessions, under tbl_lock: freed when full, or by the gc. */
	struct knat_free_batch *evicted;

	struct work_struct addr_work;	/* follows ext_dev addresses */
	struct delayed_work gc_work;
	struct rhashtable_iter gc_iter;
	bool gc_iter_active;
	u32 gc_due;			/* the pass's earliest expiry seen */
	atomic_t gc_changed;		/* settings changed during a pass */
};

extern unsigned int knat_net_id;

static inline struct knat_net *knat_pernet(const struct net *net)
{
	return net_generic(net, knat_net_id);
}

static inline void knat_count(struct knat_stats __percpu *stats,
			      enum knat_counter c)
{
	this_cpu_inc(stats->cnt[c]);
}

static inline int knat_proto_idx(u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return KNAT_TCP;
	case IPPROTO_UDP:
		return KNAT_UDP;
	default:
		return KNAT_ICMP;
	}
}

/* hooks.c */
int knat_hooks_register(struct net *net);
void knat_hooks_unregister(struct net *net);

/* netlink.c */
int knat_genl_register(void);
void knat_genl_unregister(void);
void knat_nl_notify_network(struct knat_net *kn, struct knat_network *n,
			    u8 cmd);
struct knat_smap;
void knat_nl_notify_map(struct knat_net *kn, const struct knat_network *n,
			const struct knat_params *p, const struct knat_smap *m,
			u8 cmd);
void knat_nl_notify_session(struct knat_net *kn, const struct knat_session *s,
			    u8 cmd, u8 reason);

/* network.c */
int knat_network_init_net(struct knat_net *kn);
void knat_network_exit_net(struct knat_net *kn);
struct knat_network *knat_network_find(struct knat_net *kn, const char *name);
struct knat_params *knat_params_clone(const struct knat_params *old);
void knat_params_default(struct knat_params *p);
void knat_params_free(struct knat_params *p);
int knat_params_set_dev(struct knat_net *kn, struct knat_params *p,
			const char *dev, struct netlink_ext_ack *extack);
int knat_params_set_addrs(struct knat_net *kn, struct knat_params *p,
			  const __be32 *addrs, unsigned int n);
void knat_stats_sum(struct knat_stats __percpu *stats, u64 *out);
void knat_stats_fold(struct knat_net *kn, struct knat_network *n);
void knat_smap_put(struct knat_smap *m);
int knat_notifiers_register(void);
void knat_notifiers_unregister(void);

/* Which sessions a dump or a flush is about. */
struct knat_filter {
	u32 network_id;			/* 0: any */
	u8 proto;			/* 0: any */
	u8 has;				/* KNAT_FILTER_*: which below count */
	__be32 int_addr, ext_addr, rem_addr;
	__be16 int_port, ext_port, rem_port;
	u16 ext_lo, ext_hi;
};

#define KNAT_FILTER_INT_ADDR	BIT(0)
#define KNAT_FILTER_INT_PORT	BIT(1)
#define KNAT_FILTER_EXT_ADDR	BIT(2)
#define KNAT_FILTER_EXT_PORT	BIT(3)
#define KNAT_FILTER_REM_ADDR	BIT(4)
#define KNAT_FILTER_REM_PORT	BIT(5)
#define KNAT_FILTER_EXT_RANGE	BIT(6)	/* ext_lo to ext_hi */
#define KNAT_FILTER_STATIC	BIT(7)	/* made by a port mapping */

/* config.c */
struct knat_txn;
extern const u16 knat_timeout_attr[KNAT_TO_MAX];
struct knat_txn *knat_txn_begin(struct knat_net *kn,
				struct netlink_ext_ack *extack);
int knat_txn_op(struct knat_txn *t, u8 cmd, const struct nlattr *nest,
		struct nlattr **tb);
void knat_txn_flush(struct knat_txn *t);
int knat_txn_set_params(struct knat_txn *t, struct knat_network *n,
			struct knat_params *p);
int knat_txn_commit(struct knat_txn *t);
void knat_txn_abort(struct knat_txn *t);
void knat_config_exit_net(struct knat_net *kn);
struct knat_network *knat_network_of(const struct knat_config *cfg,
				     __be32 addr);
bool knat_is_ext_addr(const struct knat_config *cfg, __be32 addr);
const struct knat_cmap *knat_cmap_port(const struct knat_config *cfg,
				       u8 proto, __be32 addr, u16 port);
const struct knat_cmap *knat_cmap_ip_ext(const struct knat_config *cfg,
					 __be32 addr);
const struct knat_cmap *knat_cmap_ip_int(const struct knat_config *cfg,
					 __be32 addr);
__be32 knat_smap_ext_addr(const struct knat_smap *m,
			  const struct knat_params *p);

/* session.c */
int knat_session_init_net(struct knat_net *kn);
void knat_session_exit_net(struct knat_net *kn);
int knat_session_cache_init(void);
void knat_session_cache_exit(void);
struct knat_session *knat_session_out(struct knat_net *kn, u8 proto,
				      __be32 int_addr, __be16 int_port,
				      __be32 rem_addr, __be16 rem_port);
struct knat_session *knat_session_in(struct knat_net *kn, u8 proto,
				     __be32 ext_addr, __be16 ext_port,
				     __be32 rem_addr, __be16 rem_port);
struct knat_session *knat_hairpin_find(struct knat_net *kn, u8 proto,
				       __be32 saddr, __be16 sport,
				       __be32 daddr, __be16 dport);
int knat_hairpin_link(struct knat_net *kn, struct knat_session *s,
		      __be32 peer_addr, __be16 peer_port,
		      struct knat_session *stale);
bool knat_mapping_knows(struct knat_net *kn, const struct knat_mapping *m,
			__be32 rem_addr);
struct knat_mapping *knat_mapping_ext(struct knat_net *kn, u8 proto,
				      __be32 ext_addr, __be16 ext_port);
struct knat_session *knat_session_create_out(struct knat_net *kn,
					     struct knat_network *n,
					     const struct knat_params *p,
					     u8 proto, __be32 int_addr,
					     __be16 int_port, __be32 rem_addr,
					     __be16 rem_port);
struct knat_session *knat_session_create_in(struct knat_net *kn,
					    struct knat_network *n,
					    const struct knat_params *p,
					    struct knat_mapping *m,
					    __be32 rem_addr, __be16 rem_port);
struct knat_session *knat_session_create_generic(struct knat_net *kn,
						 struct knat_network *n,
						 const struct knat_params *p,
						 u8 proto, __be32 int_addr,
						 __be32 rem_addr);
struct knat_session *knat_session_create_static(struct knat_net *kn,
						const struct knat_cmap *cm,
						__be32 ext_addr, u16 ext_port,
						__be32 rem_addr,
						__be16 rem_port);
u32 knat_session_timeout(const struct knat_session *s,
			 const struct knat_params *p);
bool knat_session_embryonic(const struct knat_session *s);
bool knat_host_rp_cached(struct knat_net *kn, __be32 addr, u64 seen);
void knat_host_rp_cache(struct knat_net *kn, __be32 addr, u64 seen);
int knat_embryos_alloc(struct knat_network *n);
void knat_embryos_free(struct knat_network *n);
u32 knat_session_age(const struct knat_session *s);
enum knat_session_state knat_session_state(const struct knat_session *s);
bool knat_filter_match(const struct knat_filter *f,
		       const struct knat_session *s);
void knat_session_flush(struct knat_net *kn, const struct knat_filter *f);
void knat_gc_settings_changed(struct knat_net *kn);
u64 knat_session_bytes(struct knat_net *kn);

#endif /* _KNAT_H */
