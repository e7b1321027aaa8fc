// SPDX-License-Identifier: GPL-2.0
/*
 * knat: the session table.
 *
 * Three kinds of object, all per network namespace:
 *
 *  - a mapping binds an internal addr:port to an external addr:port for one
 *    protocol (endpoint-independent mapping, RFC 4787 REQ-1); it lives as
 *    long as it has sessions;
 *  - a session is a mapping plus one remote addr:port, with its TCP state
 *    and the time it was last used;
 *  - a host counts the sessions of one internal address, for
 *    host-max-sessions.
 *
 * Lookups on the packet path are lockless (RCU).  Creating and removing
 * objects is serialised by knat_net.tbl_lock, which only new flows, the
 * garbage collector and the control plane take; the lock also makes the
 * "is the table full" and "is this port free" decisions exact.
 *
 * Unlinked objects are freed in batches after an RCU grace period, so that
 * neither sessions nor mappings need an rcu_head of their own.
 */
#include <linux/jhash.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <net/inet_hashtables.h>
#include <net/ip.h>
#include <net/udp.h>

#include "compat.h"
#include "knat.h"

static struct kmem_cache *knat_session_cache __read_mostly;
static struct kmem_cache *knat_mapping_cache __read_mostly;

struct knat_out_key {
	__be32 int_addr, rem_addr;
	__be16 int_port, rem_port;
	u8 proto;
};

struct knat_in_key {
	__be32 ext_addr, rem_addr;
	__be16 ext_port, rem_port;
	u8 proto;
};

struct knat_peer_key {
	__be32 ext_addr, rem_addr;
	__be16 ext_port;
	u8 proto;
};

struct knat_ep_key {
	__be32 addr;
	__be16 port;
	u8 proto;
};

static u32 knat_hash4(__be32 a, __be32 b, __be16 pa, __be16 pb, u8 proto,
		      u32 seed)
{
	return jhash_3words((__force u32)a, (__force u32)b,
			    ((__force u32)pa << 16 | (__force u32)pb) ^ proto,
			    seed);
}

/* Sessions by internal and remote endpoint: the outbound lookup. */
static u32 knat_out_hashfn(const void *data, u32 len, u32 seed)
{
	const struct knat_out_key *k = data;

	return knat_hash4(k->int_addr, k->rem_addr, k->int_port, k->rem_port,
			  k->proto, seed);
}

static u32 knat_out_obj_hashfn(const void *data, u32 len, u32 seed)
{
	const struct knat_session *s = data;

	return knat_hash4(s->int_addr, s->rem_addr, s->int_port, s->rem_port,
			  s->proto, seed);
}

static int knat_out_cmpfn(struct rhashtable_compare_arg *arg, const void *obj)
{
	const struct knat_out_key *k = arg->key;
	const struct knat_session *s = obj;

	return s->int_addr != k->int_addr || s->rem_addr != k->rem_addr ||
	       s->int_port != k->int_port || s->rem_port != k->rem_port ||
	       s->proto != k->proto;
}

/*
 * The session and mapping tables grow with their load and keep the size
 * of their peak (8 bytes a bucket, at most two buckets an entry), as
 * conntrack's table is allocated for its maximum: after a flush or a quiet
 * spell, new flows do not pay for growing the tables again.  The small
 * hosts table shrinks.
 */
static const struct rhashtable_params knat_out_params = {
	.head_offset	= offsetof(struct knat_session, out_node),
	.key_len	= sizeof(struct knat_out_key),
	.hashfn		= knat_out_hashfn,
	.obj_hashfn	= knat_out_obj_hashfn,
	.obj_cmpfn	= knat_out_cmpfn,
};

/*
 * Sessions by external and remote endpoint: the inbound lookup, exact.
 * (It once left the remote port out, to answer "has this mapping talked
 * to that host" too: then all the sessions of one mapping and one remote
 * address shared a list that every packet walked.  The peers table below
 * answers that now.)
 */
static u32 knat_in_hashfn(const void *data, u32 len, u32 seed)
{
	const struct knat_in_key *k = data;

	return knat_hash4(k->ext_addr, k->rem_addr, k->ext_port, k->rem_port,
			  k->proto, seed);
}

static u32 knat_in_obj_hashfn(const void *data, u32 len, u32 seed)
{
	const struct knat_session *s = data;

	return knat_hash4(s->ext_addr, s->rem_addr, s->ext_port, s->rem_port,
			  s->proto, seed);
}

static int knat_in_cmpfn(struct rhashtable_compare_arg *arg, const void *obj)
{
	const struct knat_in_key *k = arg->key;
	const struct knat_session *s = obj;

	return s->ext_addr != k->ext_addr || s->rem_addr != k->rem_addr ||
	       s->ext_port != k->ext_port || s->rem_port != k->rem_port ||
	       s->proto != k->proto;
}

static const struct rhashtable_params knat_in_params = {
	.head_offset	= offsetof(struct knat_session, in_node),
	.key_len	= sizeof(struct knat_in_key),
	.hashfn		= knat_in_hashfn,
	.obj_hashfn	= knat_in_obj_hashfn,
	.obj_cmpfn	= knat_in_cmpfn,
};

/* A mapping's remote addresses beyond its peer0 (knat_mapping_knows()). */
static u32 knat_peer_hashfn(const void *data, u32 len, u32 seed)
{
	const struct knat_peer_key *k = data;

	return knat_hash4(k->ext_addr, k->rem_addr, k->ext_port, 0, k->proto,
			  seed);
}

static u32 knat_peer_obj_hashfn(const void *data, u32 len, u32 seed)
{
	const struct knat_peer *p = data;

	return knat_hash4(p->ext_addr, p->rem_addr, p->ext_port, 0, p->proto,
			  seed);
}

static int knat_peer_cmpfn(struct rhashtable_compare_arg *arg,
			   const void *obj)
{
	const struct knat_peer_key *k = arg->key;
	const struct knat_peer *p = obj;

	return p->ext_addr != k->ext_addr || p->rem_addr != k->rem_addr ||
	       p->ext_port != k->ext_port || p->proto != k->proto;
}

static const struct rhashtable_params knat_peer_params = {
	.head_offset	= offsetof(struct knat_peer, node),
	.key_len	= sizeof(struct knat_peer_key),
	.hashfn		= knat_peer_hashfn,
	.obj_hashfn	= knat_peer_obj_hashfn,
	.obj_cmpfn	= knat_peer_cmpfn,
	.automatic_shrinking = true,
};

static u32 knat_ep_hashfn(const void *data, u32 len, u32 seed)
{
	const struct knat_ep_key *k = data;

	return jhash_2words((__force u32)k->addr,
			    (__force u32)k->port << 8 | k->proto, seed);
}

static u32 knat_map_int_obj_hashfn(const void *data, u32 len, u32 seed)
{
	const struct knat_mapping *m = data;

	return jhash_2words((__force u32)m->int_addr,
			    (__force u32)m->int_port << 8 | m->proto, seed);
}

static int knat_map_int_cmpfn(struct rhashtable_compare_arg *arg,
			      const void *obj)
{
	const struct knat_ep_key *k = arg->key;
	const struct knat_mapping *m = obj;

	return m->int_addr != k->addr || m->int_port != k->port ||
	       m->proto != k->proto;
}

static u32 knat_map_ext_obj_hashfn(const void *data, u32 len, u32 seed)
{
	const struct knat_mapping *m = data;

	return jhash_2words((__force u32)m->ext_addr,
			    (__force u32)m->ext_port << 8 | m->proto, seed);
}

static int knat_map_ext_cmpfn(struct rhashtable_compare_arg *arg,
			      const void *obj)
{
	const struct knat_ep_key *k = arg->key;
	const struct knat_mapping *m = obj;

	return m->ext_addr != k->addr || m->ext_port != k->port ||
	       m->proto != k->proto;
}

static const struct rhashtable_params knat_map_int_params = {
	.head_offset	= offsetof(struct knat_mapping, int_node),
	.key_len	= sizeof(struct knat_ep_key),
	.hashfn		= knat_ep_hashfn,
	.obj_hashfn	= knat_map_int_obj_hashfn,
	.obj_cmpfn	= knat_map_int_cmpfn,
};

static const struct rhashtable_params knat_map_ext_params = {
	.head_offset	= offsetof(struct knat_mapping, ext_node),
	.key_len	= sizeof(struct knat_ep_key),
	.hashfn		= knat_ep_hashfn,
	.obj_hashfn	= knat_map_ext_obj_hashfn,
	.obj_cmpfn	= knat_map_ext_cmpfn,
};

/* Hairpinned flows' sessions, by their packets at FORWARD. */
static u32 knat_hp_hashfn(const void *data, u32 len, u32 seed)
{
	const struct knat_hp_key *k = data;

	return knat_hash4(k->saddr, k->daddr, k->sport, k->dport, k->proto,
			  seed);
}

static bool knat_hp_key_eq(const struct knat_hp_key *a,
			   const struct knat_hp_key *b)
{
	return a->saddr == b->saddr && a->daddr == b->daddr &&
	       a->sport == b->sport && a->dport == b->dport &&
	       a->proto == b->proto;
}

/*
 * The key has 3 bytes of padding within key_len: the hash and compare
 * functions must read it field by field.
 */
static int knat_hp_cmpfn(struct rhashtable_compare_arg *arg, const void *obj)
{
	const struct knat_hp *hp = obj;

	return !knat_hp_key_eq(arg->key, &hp->key);
}

static const struct rhashtable_params knat_hp_params = {
	.head_offset	= offsetof(struct knat_hp, node),
	.key_offset	= offsetof(struct knat_hp, key),
	.key_len	= sizeof(struct knat_hp_key),
	.hashfn		= knat_hp_hashfn,
	.obj_cmpfn	= knat_hp_cmpfn,
	.automatic_shrinking = true,
};

static const struct rhashtable_params knat_host_params = {
	.head_offset	= offsetof(struct knat_host, node),
	.key_offset	= offsetof(struct knat_host, addr),
	.key_len	= sizeof(__be32),
	.automatic_shrinking = true,
};

/*
 * Sessions waiting for a grace period, freed together: a session has no
 * rcu_head of its own, to stay within 64 bytes.
 */
#define KNAT_BATCH	((PAGE_SIZE - sizeof(struct rcu_head) - \
			  sizeof(unsigned int)) / sizeof(void *) - 1)

struct knat_free_batch {
	struct rcu_head rcu;
	unsigned int n;
	struct knat_session *s[KNAT_BATCH];
};

static void knat_free_batch_rcu(struct rcu_head *head)
{
	struct knat_free_batch *b = container_of(head, struct knat_free_batch,
						 rcu);

	kmem_cache_free_bulk(knat_session_cache, b->n, (void **)b->s);
	kfree(b);
}

static void knat_free_batch_put(struct knat_free_batch *b)
{
	if (!b)
		return;
	if (b->n)
		call_rcu(&b->rcu, knat_free_batch_rcu);
	else
		kfree(b);
}

/*
 * Make sure kn->evicted has room for one more session, before a session
 * is published that may have to be withdrawn.  Under tbl_lock.
 */
static int knat_evicted_reserve(struct knat_net *kn)
{
	struct knat_free_batch *b = kn->evicted;

	if (b)
		return 0;
	b = kmalloc(sizeof(*b), GFP_ATOMIC);
	if (!b)
		return -ENOMEM;
	b->n = 0;
	kn->evicted = b;
	return 0;
}

/* Past kn->evicted's last slot: hand it to RCU.  Under tbl_lock. */
static void knat_evicted_full(struct knat_net *kn)
{
	if (kn->evicted->n == KNAT_BATCH) {
		knat_free_batch_put(kn->evicted);
		kn->evicted = NULL;
	}
}

static void knat_mapping_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(knat_mapping_cache,
			container_of(head, struct knat_mapping, rcu));
}

/* ---- lookups (RCU) ---- */

struct knat_session *knat_session_out(struct knat_net *kn, u8 proto,
				      __be32 int_addr, __be16 int_port,
				      __be32 rem_addr, __be16 rem_port)
{
	struct knat_out_key k = {
		.int_addr = int_addr, .rem_addr = rem_addr,
		.int_port = int_port, .rem_port = rem_port, .proto = proto,
	};

	return rhashtable_lookup(&kn->sessions_out, &k, knat_out_params);
}

/* The session of an inbound packet, or NULL. */
struct knat_session *knat_session_in(struct knat_net *kn, u8 proto,
				     __be32 ext_addr, __be16 ext_port,
				     __be32 rem_addr, __be16 rem_port)
{
	struct knat_in_key k = {
		.ext_addr = ext_addr, .rem_addr = rem_addr,
		.ext_port = ext_port, .rem_port = rem_port, .proto = proto,
	};

	return rhashtable_lookup(&kn->sessions_in, &k, knat_in_params);
}

/*
 * The live session of a hairpinned flow whose packets from @saddr:@sport
 * to @daddr:@dport (both internal) leave with its external end as their
 * source, or NULL.  One atomic read while nothing is hairpinned.
 */
struct knat_session *knat_hairpin_find(struct knat_net *kn, u8 proto,
				       __be32 saddr, __be16 sport,
				       __be32 daddr, __be16 dport)
{
	struct knat_hp_key k = {
		.saddr = saddr, .daddr = daddr,
		.sport = sport, .dport = dport, .proto = proto,
	};
	struct knat_hp *hp;

	if (!atomic_read(&kn->hairpins.nelems))
		return NULL;
	hp = rhashtable_lookup(&kn->hairpins, &k, knat_hp_params);
	if (!hp || READ_ONCE(hp->s->dead))
		return NULL;
	return hp->s;
}

/* Drop session @s's index entry.  Under tbl_lock. */
static void knat_hairpin_unlink(struct knat_net *kn, struct knat_session *s)
{
	struct knat_hp *hp = rcu_dereference_protected(s->hp,
					lockdep_is_held(&kn->tbl_lock));

	if (!hp)
		return;
	rhashtable_remove_fast(&kn->hairpins, &hp->node, knat_hp_params);
	RCU_INIT_POINTER(s->hp, NULL);
	kfree_rcu(hp, rcu);
}

/*
 * Session @s's flow is hairpinned to @peer_addr:@peer_port, its peer's
 * internal end: let FORWARD find @s by its packets to the peer
 * (knat_hairpin_find()).  At most one entry a session, replaced if the
 * peer changed (its mapping was moved).  The key may be held by session
 * @stale (the caller found that its flow is over: its peer is gone),
 * whose entry then goes.  -EEXIST: another session's packets look the
 * same (one internal endpoint talking through two external endpoints
 * that lead to one host), which FORWARD could not tell apart; -ENOMEM;
 * -ENOENT: @s is gone.  The caller translates such a packet at
 * PREROUTING alone instead.
 */
int knat_hairpin_link(struct knat_net *kn, struct knat_session *s,
		      __be32 peer_addr, __be16 peer_port,
		      struct knat_session *stale)
{
	struct knat_hp *hp, *cur;
	int err;

	hp = kmalloc(sizeof(*hp), GFP_ATOMIC);
	if (!hp)
		return -ENOMEM;
	hp->key = (struct knat_hp_key) {
		.saddr = s->int_addr, .daddr = peer_addr,
		.sport = s->int_port, .dport = peer_port, .proto = s->proto,
	};
	hp->s = s;

	spin_lock_bh(&kn->tbl_lock);
	if (s->dead) {
		err = -ENOENT;
		goto unlock;
	}
	cur = rhashtable_lookup_fast(&kn->hairpins, &hp->key, knat_hp_params);
	if (cur && cur->s == s) {
		err = 0;		/* another packet of the flow was first */
		goto unlock;
	}
	if (cur) {
		if (cur->s != stale) {
			err = -EEXIST;
			goto unlock;
		}
		knat_hairpin_unlink(kn, stale);
	}
	err = rhashtable_insert_fast(&kn->hairpins, &hp->node, knat_hp_params);
	if (err)
		goto unlock;
	knat_hairpin_unlink(kn, s);
	rcu_assign_pointer(s->hp, hp);
	hp = NULL;
unlock:
	spin_unlock_bh(&kn->tbl_lock);
	kfree(hp);
	return err;
}

static struct knat_peer *knat_peer_find(struct knat_net *kn,
					const struct knat_mapping *m,
					__be32 rem_addr)
{
	struct knat_peer_key k = {
		.ext_addr = m->ext_addr, .rem_addr = rem_addr,
		.ext_port = m->ext_port, .proto = m->proto,
	};

	return rhashtable_lookup(&kn->peers, &k, knat_peer_params);
}

/*
 * Does a session of dynamic mapping @m talk to @rem_addr (address-dependent
 * filtering)?  Lockless: one comparison for a mapping's first remote
 * address, one lookup for the others.
 */
bool knat_mapping_knows(struct knat_net *kn, const struct knat_mapping *m,
			__be32 rem_addr)
{
	if (READ_ONCE(m->peer0) == rem_addr && READ_ONCE(m->peer0_n))
		return true;
	return knat_peer_find(kn, m, rem_addr);
}

/* A session of @m now talks to @rem_addr.  Under tbl_lock. */
static int knat_peer_add(struct knat_net *kn, struct knat_mapping *m,
			 __be32 rem_addr)
{
	struct knat_peer *p;
	int err;

	if (!m->peer0_n || m->peer0 == rem_addr) {
		WRITE_ONCE(m->peer0, rem_addr);
		WRITE_ONCE(m->peer0_n, m->peer0_n + 1);
		return 0;
	}
	p = knat_peer_find(kn, m, rem_addr);
	if (p) {
		p->n++;
		return 0;
	}
	p = kzalloc(sizeof(*p), GFP_ATOMIC);
	if (!p)
		return -ENOMEM;
	p->ext_addr = m->ext_addr;
	p->rem_addr = rem_addr;
	p->ext_port = m->ext_port;
	p->proto = m->proto;
	p->n = 1;
	err = rhashtable_insert_fast(&kn->peers, &p->node, knat_peer_params);
	if (err)
		kfree(p);
	return err;
}

/* A session of @m with @rem_addr goes.  Under tbl_lock. */
static void knat_peer_del(struct knat_net *kn, struct knat_mapping *m,
			  __be32 rem_addr)
{
	struct knat_peer *p;

	if (m->peer0_n && m->peer0 == rem_addr) {
		WRITE_ONCE(m->peer0_n, m->peer0_n - 1);
		return;
	}
	p = knat_peer_find(kn, m, rem_addr);
	if (WARN_ON_ONCE(!p))
		return;
	if (--p->n)
		return;
	rhashtable_remove_fast(&kn->peers, &p->node, knat_peer_params);
	kfree_rcu(p, rcu);
}

struct knat_mapping *knat_mapping_ext(struct knat_net *kn, u8 proto,
				      __be32 ext_addr, __be16 ext_port)
{
	struct knat_ep_key k = {
		.addr = ext_addr, .port = ext_port, .proto = proto,
	};

	return rhashtable_lookup(&kn->mappings_ext, &k, knat_map_ext_params);
}

static struct knat_mapping *knat_mapping_int(struct knat_net *kn, u8 proto,
					     __be32 int_addr, __be16 int_port)
{
	struct knat_ep_key k = {
		.addr = int_addr, .port = int_port, .proto = proto,
	};

	return rhashtable_lookup(&kn->mappings_int, &k, knat_map_int_params);
}

/* ---- timers and state ---- */

/*
 * A TCP connection opened from outside whose handshake has not completed:
 * it times out after tcp-syn whatever it saw since (an RST or FIN does not
 * make it last longer), and it is the first to go when room is needed.
 */
bool knat_session_embryonic(const struct knat_session *s)
{
	unsigned int st = atomic_read(&s->state);

	return s->proto == IPPROTO_TCP &&
	       (st & (KNAT_TCP_INBOUND | KNAT_TCP_EST)) == KNAT_TCP_INBOUND;
}

u32 knat_session_timeout(const struct knat_session *s,
			 const struct knat_params *p)
{
	switch (s->proto) {
	case IPPROTO_TCP:
		if (knat_session_embryonic(s))
			return p->timeout[KNAT_TO_TCP_SYN];
		if (knat_session_state(s) == KNAT_STATE_ESTABLISHED)
			return p->timeout[KNAT_TO_TCP_EST];
		return p->timeout[KNAT_TO_TCP_TRANS];
	case IPPROTO_UDP:
		return p->timeout[KNAT_TO_UDP];
	case IPPROTO_ICMP:
		return p->timeout[KNAT_TO_ICMP];
	default:
		return p->timeout[KNAT_TO_OTHER];
	}
}

enum knat_session_state knat_session_state(const struct knat_session *s)
{
	unsigned int st = atomic_read(&s->state);

	if (s->proto != IPPROTO_TCP)
		return KNAT_STATE_ACTIVE;
	if (st & KNAT_TCP_RST)
		return KNAT_STATE_CLOSED;
	if ((st & (KNAT_TCP_FIN_OUT | KNAT_TCP_FIN_IN)) ==
	    (KNAT_TCP_FIN_OUT | KNAT_TCP_FIN_IN))
		return KNAT_STATE_CLOSING;
	if (st & (KNAT_TCP_FIN_OUT | KNAT_TCP_FIN_IN))
		return KNAT_STATE_FIN_WAIT;
	/* The handshake completed, or a pickup was seen both ways. */
	if (st & KNAT_TCP_EST)
		return KNAT_STATE_ESTABLISHED;
	if (st & KNAT_TCP_INBOUND)
		return KNAT_STATE_SYN_RECV;
	return KNAT_STATE_SYN_SENT;
}

/* Jiffies since the session was last used. */
u32 knat_session_age(const struct knat_session *s)
{
	u32 last = READ_ONCE(s->last_seen);

	/*
	 * Read the stamp before the clock: the other way round, a packet
	 * stamping a newer tick in between would make the age wrap.
	 */
	smp_rmb();
	return (u32)jiffies - last;
}

/* ---- ports ---- */

/*
 * The default external port range keeps clear of the namespace's
 * ip_local_port_range, so that the host's own connections never collide
 * with translated ones: of 1024-65535, the part below or above it, the
 * larger (1024-32767 with Linux's default 32768-60999).
 */
static void knat_port_range(struct knat_net *kn, const struct knat_params *p,
			    u8 proto, unsigned int *lo, unsigned int *hi)
{
	int llo, lhi;

	if (proto == IPPROTO_ICMP) {
		*lo = 1;
		*hi = 65535;
		return;
	}
	if (p->port_min) {
		*lo = p->port_min;
		*hi = p->port_max;
		return;
	}
	inet_get_local_port_range(kn->net, &llo, &lhi);
	if (llo - 1024 >= 65535 - lhi) {
		*lo = 1024;
		*hi = max(llo - 1, 1024);
	} else {
		*lo = lhi + 1;
		*hi = 65535;
	}
}

/*
 * Is @port of @addr held by a socket of the host itself (a TCP listener,
 * a bound UDP socket)?  Handing it out would take its traffic away.
 * Called under RCU.
 */
static bool knat_port_local(struct net *net, u8 proto, __be32 addr, u16 port)
{
	struct udp_hslot *slot;
	struct sock *sk;

	switch (proto) {
	case IPPROTO_TCP:
		sk = __inet_lookup_listener(net, net->ipv4.tcp_death_row.hashinfo,
					    NULL, 0, 0, 0, addr, port, 0, 0);
		return !IS_ERR_OR_NULL(sk);
	case IPPROTO_UDP:
		/*
		 * Every bound UDP socket is in the primary hash, whose slots
		 * are chosen by the port alone: an empty slot means no socket
		 * holds @port and the full lookup can be skipped (about 8 %
		 * of a new UDP flow's cost, docs/performance.md).  The count
		 * is read without the slot's lock: a socket binding meanwhile
		 * is no different from one binding just after the lookup.
		 */
		slot = udp_hashslot(knat_udp_table(net), net, port);
		if (!READ_ONCE(slot->count))
			return false;
		sk = udp4_lib_lookup(net, 0, 0, addr, htons(port), 0);
		if (!sk)
			return false;
		sock_put(sk);
		return true;
	default:
		return false;
	}
}

/* Ports looked at, at most, past those held by the host's sockets. */
#define KNAT_PORT_TRIES		64

/*
 * RFC 6888 REQ-8: a freed external TCP or UDP port is not handed out
 * again for port_hold seconds (between one and two times that, by
 * generations), so that a remote host still talking to the old mapping
 * never reaches another internal host.  Host policy: a module parameter,
 * the same for every namespace; 0 turns it off.
 */
static unsigned int knat_port_hold = 120;
module_param_named(port_hold, knat_port_hold, uint, 0644);
MODULE_PARM_DESC(port_hold,
		 "seconds a freed external TCP/UDP port is held before reuse (RFC 6888 REQ-8; default 120, 0: off)");

/*
 * Bring @ea's held ports of protocol index @idx up to date: a generation
 * older than the hold is cleared and becomes the current one.  Under
 * tbl_lock.
 */
static void knat_hold_rotate(struct knat_extaddr *ea, int idx,
			     unsigned long hold)
{
	unsigned int n = 0;

	while (time_after_eq(jiffies, ea->hold_epoch[idx] + hold)) {
		if (++n > 2) {
			/* Both generations are older than the hold. */
			ea->hold_epoch[idx] = jiffies;
			break;
		}
		ea->hold_cur[idx] ^= 1;
		bitmap_zero(ea->held[idx][ea->hold_cur[idx]], 65536);
		ea->hold_epoch[idx] += hold;
	}
}

/* A port that is freed: held, when holding is on.  Under tbl_lock. */
static void knat_port_free(struct knat_extaddr *ea, u8 proto, u16 port)
{
	unsigned long hold = READ_ONCE(knat_port_hold) * HZ;
	int idx = knat_proto_idx(proto);

	__clear_bit(port, ea->ports[idx]);
	if (idx >= KNAT_HOLD_PROTOS || !hold)
		return;
	knat_hold_rotate(ea, idx, hold);
	__set_bit(port, ea->held[idx][ea->hold_cur[idx]]);
}

/*
 * The first port from @port below @limit that is neither in use nor held
 * (@held: the protocol's two generations, or NULL), or @limit.  A word at
 * a time, however many ports are held.
 */
static unsigned int knat_port_next(const unsigned long *map,
				   unsigned long * const *held,
				   unsigned int port, unsigned int limit)
{
	unsigned int i = port / BITS_PER_LONG;
	unsigned long w;

	if (!held)
		return find_next_zero_bit(map, limit, port);
	for (; i * BITS_PER_LONG < limit; i++) {
		w = map[i] | held[0][i] | held[1][i];
		if (i == port / BITS_PER_LONG)
			w |= BIT(port % BITS_PER_LONG) - 1;
		if (~w)
			return min(limit, i * BITS_PER_LONG + (unsigned int)__ffs(~w));
	}
	return limit;
}

/*
 * Allocate an external port: the internal one when it is free and in
 * range, otherwise the first free one from a random start (RFC 6056,
 * algorithm 2), skipping those the host's own sockets hold.  Under
 * tbl_lock.  Returns 0 when none is to be had.
 */
static u16 knat_port_alloc(struct knat_net *kn, const struct knat_params *p,
			   struct knat_extaddr *ea, u8 proto, u16 want)
{
	const struct knat_config *cfg = rcu_dereference(kn->config);
	unsigned long hold = READ_ONCE(knat_port_hold) * HZ;
	int idx = knat_proto_idx(proto);
	unsigned long *map = ea->ports[idx];
	unsigned int lo, hi, start, port, tries = KNAT_PORT_TRIES;
	unsigned long * const *held = NULL;
	const struct knat_cmap *cm;
	bool wrapped = false;

	if (idx < KNAT_HOLD_PROTOS && hold) {
		knat_hold_rotate(ea, idx, hold);
		held = ea->held[idx];
	}
	knat_port_range(kn, p, proto, &lo, &hi);
	if (want >= lo && want <= hi &&
	    knat_port_next(map, held, want, want + 1) == want &&
	    !knat_cmap_port(cfg, proto, ea->addr, want) &&
	    !knat_port_local(kn->net, proto, ea->addr, want)) {
		port = want;
		goto found;
	}

	start = lo + knat_random_below(hi - lo + 1);
	port = start;
	for (;;) {
		port = knat_port_next(map, held, port, wrapped ? start : hi + 1);
		if (port > hi || (wrapped && port >= start)) {
			if (wrapped)
				return 0;
			wrapped = true;
			port = lo;
			continue;
		}
		/* Static mappings' ports are never handed out. */
		cm = knat_cmap_port(cfg, proto, ea->addr, port);
		if (cm) {
			port = cm->hi + 1;
			continue;
		}
		if (!knat_port_local(kn->net, proto, ea->addr, port))
			break;
		if (!--tries)
			return 0;
		port++;
	}
found:
	__set_bit(port, map);
	return port;
}

/* ---- creation ---- */

static void knat_gc_kick(struct knat_net *kn);

static struct knat_host *knat_host_get(struct knat_net *kn, __be32 addr)
{
	return rhashtable_lookup(&kn->hosts, &addr, knat_host_params);
}

/* Was @addr found behind the interface and generation @seen?  Under RCU. */
bool knat_host_rp_cached(struct knat_net *kn, __be32 addr, u64 seen)
{
	struct knat_host *host = knat_host_get(kn, addr);

	return host && READ_ONCE(host->rp_seen) == seen;
}

/* It was, by a FIB lookup just now.  Under RCU. */
void knat_host_rp_cache(struct knat_net *kn, __be32 addr, u64 seen)
{
	struct knat_host *host = knat_host_get(kn, addr);

	if (host && READ_ONCE(host->rp_seen) != seen)
		WRITE_ONCE(host->rp_seen, seen);
}

/* Choose the external address of an internal host (paired pooling). */
static struct knat_extaddr *knat_pick_extaddr(const struct knat_params *p,
					      __be32 int_addr)
{
	if (!p->n_addrs)
		return NULL;
	if (p->n_addrs == 1)
		return p->addrs[0];
	return p->addrs[jhash_1word((__force u32)int_addr, 0) % p->n_addrs];
}

/*
 * Is @m on one of the network's external addresses?  Not while an address
 * change is being flushed: sessions must not join a mapping on an address
 * about to go.
 */
static bool knat_mapping_current(const struct knat_mapping *m,
				 const struct knat_params *p)
{
	unsigned int i;

	for (i = 0; i < p->n_addrs; i++)
		if (p->addrs[i] == m->extaddr)
			return true;
	return false;
}

/* ---- embryonic sessions: the first to go ---- */

/*
 * The network's embryonic TCP sessions, oldest first, as the keys of their
 * outbound index: a new flow that finds no room evicts the oldest that is
 * still embryonic.  Keys, not pointers: a session that went meanwhile (or
 * was established) is simply not found, or skipped, when its turn comes.
 * A ring: past KNAT_EMBRYOS the oldest keys are overwritten, and those
 * sessions go when tcp-syn times them out.  Under tbl_lock.
 */
#define KNAT_EMBRYOS		1024
#define KNAT_EVICT_TRIES	8	/* keys looked at per new flow */

struct knat_embryos {
	unsigned int head, tail;	/* free running */
	struct knat_out_key key[KNAT_EMBRYOS];
};

int knat_embryos_alloc(struct knat_network *n)
{
	n->embryos = kvzalloc(sizeof(*n->embryos), GFP_KERNEL_ACCOUNT);
	return n->embryos ? 0 : -ENOMEM;
}

void knat_embryos_free(struct knat_network *n)
{
	kvfree(n->embryos);
	n->embryos = NULL;
}

static void knat_embryo_add(struct knat_network *n,
			    const struct knat_session *s)
{
	struct knat_embryos *e = n->embryos;
	struct knat_out_key *k;

	if (e->tail - e->head == KNAT_EMBRYOS)
		e->head++;
	k = &e->key[e->tail++ % KNAT_EMBRYOS];
	k->int_addr = s->int_addr;
	k->rem_addr = s->rem_addr;
	k->int_port = s->int_port;
	k->rem_port = s->rem_port;
	k->proto = s->proto;
}

static void knat_session_unlink(struct knat_net *kn, struct knat_session *s,
				struct knat_free_batch *b);

/*
 * Evict the oldest embryonic session of @n to make room for a new flow.
 * Under tbl_lock, in the packet path.  Returns whether one went.
 */
static bool knat_evict_embryo(struct knat_net *kn, struct knat_network *n)
{
	struct knat_embryos *e = n->embryos;
	struct knat_free_batch *b;
	struct knat_session *s;
	unsigned int tries;

	for (tries = 0; tries < KNAT_EVICT_TRIES && e->head != e->tail;
	     tries++) {
		s = rhashtable_lookup(&kn->sessions_out,
				      &e->key[e->head++ % KNAT_EMBRYOS],
				      knat_out_params);
		if (!s || s->dead || s->network != n ||
		    !knat_session_embryonic(s))
			continue;

		if (knat_evicted_reserve(kn))
			return false;
		b = kn->evicted;
		knat_count(n->stats, KNAT_CNT_SESSIONS_EVICTED);
		knat_nl_notify_session(kn, s, KNAT_CMD_SESSION_DEL,
				       KNAT_REASON_EVICTED);
		knat_session_unlink(kn, s, b);
		knat_evicted_full(kn);
		return true;
	}
	return false;
}

/*
 * Hand the evicted sessions waiting in kn->evicted to RCU.  Process
 * context.  An empty batch stays (every new session reserves one, see
 * knat_session_link()), unless the namespace is going (@final).
 */
static void knat_evicted_flush(struct knat_net *kn, bool final)
{
	struct knat_free_batch *b;

	spin_lock_bh(&kn->tbl_lock);
	b = kn->evicted;
	if (b && !b->n && !final)
		b = NULL;
	else
		kn->evicted = NULL;
	spin_unlock_bh(&kn->tbl_lock);
	knat_free_batch_put(b);
}

/* How many sessions opened from outside network @p may hold. */
static u32 knat_inbound_max(const struct knat_params *p)
{
	return max_t(u32, 1, div_u64((u64)p->max_sessions * p->inbound_share,
				     100));
}

/*
 * Room for a new session of @n (@inbound: opened from outside): within
 * max-sessions and, from outside, the inbound share, evicting an embryonic
 * session when full.  Under tbl_lock; call it before looking up the host
 * or mapping the session will use, which an eviction may remove.
 */
static int knat_make_room(struct knat_net *kn, struct knat_network *n,
			  const struct knat_params *p, bool inbound)
{
	if (atomic_read(&n->n_sessions) >= p->max_sessions &&
	    !knat_evict_embryo(kn, n))
		return -ENOSPC;
	if (inbound && atomic_read(&n->n_inbound) >= knat_inbound_max(p) &&
	    !knat_evict_embryo(kn, n))
		return -ENOBUFS;
	return 0;
}

static int knat_check_host(const struct knat_params *p,
			   struct knat_host *host)
{
	if (p->host_max_sessions && host &&
	    host->n_sessions >= p->host_max_sessions)
		return -EDQUOT;
	return 0;
}

static void knat_count_create_error(struct knat_network *n, int err)
{
	switch (err) {
	case -ENOSPC:
		knat_count(n->stats, KNAT_CNT_DROP_TABLE_FULL);
		break;
	case -EDQUOT:
		knat_count(n->stats, KNAT_CNT_DROP_HOST_LIMIT);
		break;
	case -ENOBUFS:
		knat_count(n->stats, KNAT_CNT_DROP_INBOUND_LIMIT);
		break;
	case -EADDRNOTAVAIL:
		knat_count(n->stats, KNAT_CNT_DROP_NO_PORT);
		break;
	default:
		knat_count(n->stats, KNAT_CNT_DROP_NOMEM);
		break;
	}
}

/* Under tbl_lock.  The mapping is freed after a grace period. */
static void knat_mapping_unlink(struct knat_net *kn, struct knat_mapping *m)
{
	m->dead = 1;
	rhashtable_remove_fast(&kn->mappings_int, &m->int_node,
			       knat_map_int_params);
	rhashtable_remove_fast(&kn->mappings_ext, &m->ext_node,
			       knat_map_ext_params);
	knat_port_free(m->extaddr, m->proto, be16_to_cpu(m->ext_port));
	atomic_dec(&kn->n_mappings);
	call_rcu(&m->rcu, knat_mapping_free_rcu);
}

/* A new mapping for an internal endpoint.  Under tbl_lock. */
static struct knat_mapping *knat_mapping_create(struct knat_net *kn,
						struct knat_network *n,
						const struct knat_params *p,
						u8 proto, __be32 int_addr,
						__be16 int_port)
{
	struct knat_extaddr *ea;
	struct knat_mapping *m;
	u16 port;
	int err;

	ea = knat_pick_extaddr(p, int_addr);
	if (!ea)
		return ERR_PTR(-EADDRNOTAVAIL);

	m = kmem_cache_zalloc(knat_mapping_cache, GFP_ATOMIC);
	if (!m)
		return ERR_PTR(-ENOMEM);

	port = knat_port_alloc(kn, p, ea, proto, be16_to_cpu(int_port));
	if (!port) {
		kmem_cache_free(knat_mapping_cache, m);
		return ERR_PTR(-EADDRNOTAVAIL);
	}

	m->extaddr = ea;
	m->proto = proto;
	m->int_addr = int_addr;
	m->int_port = int_port;
	m->ext_addr = ea->addr;
	m->ext_port = cpu_to_be16(port);

	err = rhashtable_insert_fast(&kn->mappings_int, &m->int_node,
				     knat_map_int_params);
	if (err)
		goto err_port;
	err = rhashtable_insert_fast(&kn->mappings_ext, &m->ext_node,
				     knat_map_ext_params);
	if (err)
		goto err_int;

	atomic_inc(&kn->n_mappings);
	return m;

err_int:
	rhashtable_remove_fast(&kn->mappings_int, &m->int_node,
			       knat_map_int_params);
err_port:
	__clear_bit(port, ea->ports[knat_proto_idx(proto)]);
	/* Never published: nobody can hold a reference. */
	kmem_cache_free(knat_mapping_cache, m);
	return ERR_PTR(err);
}

/*
 * Link a session (keys filled in) under its mapping (none for a port
 * mapping's session) and host.  Under tbl_lock.  On failure nothing of it
 * is left in the tables; -EEXIST when the flow has a session already
 * (another CPU made it meanwhile): that one is in *@otherp.  Looking it up
 * and inserting are one walk of the bucket, which matters to new flows.
 *
 * Once in sessions_out the session is visible to lock-free readers: if a
 * later step fails it is marked dead and given to RCU with kn->evicted
 * (reserved first), and *@sp becomes NULL: the caller must not free it.
 */
static int knat_session_link(struct knat_net *kn, struct knat_session **sp,
			     struct knat_mapping *m, struct knat_host **hostp,
			     struct knat_session **otherp)
{
	struct knat_session *s = *sp;
	struct knat_out_key out_key = {
		.int_addr = s->int_addr, .rem_addr = s->rem_addr,
		.int_port = s->int_port, .rem_port = s->rem_port,
		.proto = s->proto,
	};
	struct knat_in_key in_key = {
		.ext_addr = s->ext_addr, .rem_addr = s->rem_addr,
		.ext_port = s->ext_port, .rem_port = s->rem_port,
		.proto = s->proto,
	};
	struct knat_host *host = *hostp;
	struct knat_session *other;
	int err;

	if (!host) {
		host = kzalloc(sizeof(*host), GFP_ATOMIC);
		if (!host)
			return -ENOMEM;
		host->addr = s->int_addr;
		err = rhashtable_insert_fast(&kn->hosts, &host->node,
					     knat_host_params);
		if (err) {
			kfree(host);
			return err;
		}
		atomic_inc(&kn->n_hosts);
		*hostp = host;
	}

	err = knat_evicted_reserve(kn);
	if (err)
		return err;
	other = rhashtable_lookup_get_insert_key(&kn->sessions_out, &out_key,
						 &s->out_node,
						 knat_out_params);
	if (IS_ERR(other))
		return PTR_ERR(other);
	if (other) {
		*otherp = other;
		return -EEXIST;
	}
	/* The key is not a field of the session: give it to the table. */
	err = rhashtable_lookup_insert_key(&kn->sessions_in, &in_key,
					   &s->in_node, knat_in_params);
	if (!err && m) {
		err = knat_peer_add(kn, m, s->rem_addr);
		if (err)
			rhashtable_remove_fast(&kn->sessions_in, &s->in_node,
					       knat_in_params);
	}
	if (err) {
		WRITE_ONCE(s->dead, 1);
		rhashtable_remove_fast(&kn->sessions_out, &s->out_node,
				       knat_out_params);
		kn->evicted->s[kn->evicted->n++] = s;
		knat_evicted_full(kn);
		*sp = NULL;
		return err;
	}

	if (m)
		m->n_sessions++;
	host->n_sessions++;
	if (atomic_read(&s->state) & KNAT_SESS_INBOUND)
		atomic_inc(&s->network->n_inbound);
	atomic_inc(&s->network->n_sessions);
	atomic_inc(&kn->n_sessions);
	return 0;
}

/* Drop a host that has no sessions (left over by a failed creation). */
static void knat_host_put_unused(struct knat_net *kn, struct knat_host *host)
{
	if (host && !host->n_sessions) {
		rhashtable_remove_fast(&kn->hosts, &host->node,
				       knat_host_params);
		atomic_dec(&kn->n_hosts);
		kfree_rcu(host, rcu);
	}
}

static void knat_session_init(struct knat_session *s, struct knat_network *n,
			      const struct knat_mapping *m, __be32 rem_addr,
			      __be16 rem_port, unsigned int state)
{
	s->network = n;
	s->proto = m->proto;
	s->int_addr = m->int_addr;
	s->int_port = m->int_port;
	s->ext_addr = m->ext_addr;
	s->ext_port = m->ext_port;
	s->rem_addr = rem_addr;
	s->rem_port = rem_port;
	s->dead = 0;
	RCU_INIT_POINTER(s->hp, NULL);
	atomic_set(&s->state, state);
	s->last_seen = (u32)jiffies;
	s->tcp_seq = 0;
}

/*
 * A session for an outbound packet that has none: reuse the internal
 * endpoint's mapping or make one.  Returns the session (possibly one that
 * another CPU created meanwhile) or an ERR_PTR, counted.
 */
struct knat_session *knat_session_create_out(struct knat_net *kn,
					     struct knat_network *n,
					     const struct knat_params *p,
					     u8 proto, __be32 int_addr,
					     __be16 int_port, __be32 rem_addr,
					     __be16 rem_port)
{
	struct knat_session *s, *other = NULL;
	struct knat_mapping *m;
	struct knat_host *host;
	bool new_map = false;
	int err;

	s = kmem_cache_alloc(knat_session_cache, GFP_ATOMIC);
	if (!s) {
		knat_count(n->stats, KNAT_CNT_DROP_NOMEM);
		return ERR_PTR(-ENOMEM);
	}

	spin_lock_bh(&kn->tbl_lock);
	err = knat_make_room(kn, n, p, false);
	if (err)
		goto err_unlock;
	host = knat_host_get(kn, int_addr);
	err = knat_check_host(p, host);
	if (err)
		goto err_unlock;

	m = knat_mapping_int(kn, proto, int_addr, int_port);
	if (m && !knat_mapping_current(m, p)) {
		err = -EAGAIN;
		goto err_unlock;
	}
	if (!m) {
		m = knat_mapping_create(kn, n, p, proto, int_addr, int_port);
		if (IS_ERR(m)) {
			err = PTR_ERR(m);
			goto err_unlock;
		}
		new_map = true;
	}

	knat_session_init(s, n, m, rem_addr, rem_port, 0);
	err = knat_session_link(kn, &s, m, &host, &other);
	if (err)
		goto err_map;
	spin_unlock_bh(&kn->tbl_lock);

	knat_count(n->stats, KNAT_CNT_SESSIONS_ADDED);
	knat_gc_kick(kn);
	knat_nl_notify_session(kn, s, KNAT_CMD_SESSION_NEW, 0);
	return s;

err_map:
	knat_host_put_unused(kn, host);
	if (new_map)
		knat_mapping_unlink(kn, m);
err_unlock:
	/* Another CPU made the flow's session meanwhile: no error, that. */
	if (!other)
		other = knat_session_out(kn, proto, int_addr, int_port,
					 rem_addr, rem_port);
	spin_unlock_bh(&kn->tbl_lock);
	if (s)
		kmem_cache_free(knat_session_cache, s);
	if (other)
		return other;
	if (err != -EAGAIN)
		knat_count_create_error(n, err);
	return ERR_PTR(err);
}

/*
 * A session for an inbound packet that the filtering lets in although it
 * has no session of its own: a new remote endpoint of mapping @m.
 */
struct knat_session *knat_session_create_in(struct knat_net *kn,
					    struct knat_network *n,
					    const struct knat_params *p,
					    struct knat_mapping *m,
					    __be32 rem_addr, __be16 rem_port)
{
	struct knat_session *s, *other = NULL;
	struct knat_host *host;
	int err;

	s = kmem_cache_alloc(knat_session_cache, GFP_ATOMIC);
	if (!s) {
		knat_count(n->stats, KNAT_CNT_DROP_NOMEM);
		return ERR_PTR(-ENOMEM);
	}

	spin_lock_bh(&kn->tbl_lock);
	err = knat_make_room(kn, n, p, true);
	if (err)
		goto err_unlock;
	if (m->dead || !knat_mapping_current(m, p)) {
		/*
		 * Its last session went meanwhile (maybe evicted just now),
		 * or its address is going.
		 */
		err = -EAGAIN;
		goto err_unlock;
	}

	host = knat_host_get(kn, m->int_addr);
	err = knat_check_host(p, host);
	if (err)
		goto err_unlock;

	knat_session_init(s, n, m, rem_addr, rem_port,
			  KNAT_TCP_INBOUND | KNAT_SESS_INBOUND);
	err = knat_session_link(kn, &s, m, &host, &other);
	if (err) {
		knat_host_put_unused(kn, host);
		goto err_unlock;
	}
	if (knat_session_embryonic(s))
		knat_embryo_add(n, s);
	spin_unlock_bh(&kn->tbl_lock);

	knat_count(n->stats, KNAT_CNT_SESSIONS_ADDED);
	knat_gc_kick(kn);
	knat_nl_notify_session(kn, s, KNAT_CMD_SESSION_NEW, 0);
	return s;

err_unlock:
	if (!other)
		other = knat_session_out(kn, m->proto, m->int_addr,
					 m->int_port, rem_addr, rem_port);
	spin_unlock_bh(&kn->tbl_lock);
	if (s)
		kmem_cache_free(knat_session_cache, s);
	if (other)
		return other;
	if (err != -EAGAIN)
		knat_count_create_error(n, err);
	return ERR_PTR(err);
}

/*
 * A session for an outbound packet of a generic protocol (no ports: see
 * hooks.c) from @int_addr to @rem_addr: the address alone is translated,
 * to the host's external address (paired pooling), with no mapping.
 * Replies are told apart by protocol and remote address only, so that
 * pair must be free on the external address.
 */
struct knat_session *knat_session_create_generic(struct knat_net *kn,
						 struct knat_network *n,
						 const struct knat_params *p,
						 u8 proto, __be32 int_addr,
						 __be32 rem_addr)
{
	struct knat_session *s, *other = NULL;
	struct knat_extaddr *ea;
	struct knat_host *host;
	int err;

	s = kmem_cache_alloc(knat_session_cache, GFP_ATOMIC);
	if (!s) {
		knat_count(n->stats, KNAT_CNT_DROP_NOMEM);
		return ERR_PTR(-ENOMEM);
	}

	spin_lock_bh(&kn->tbl_lock);
	err = knat_make_room(kn, n, p, false);
	if (err)
		goto err_unlock;
	host = knat_host_get(kn, int_addr);
	err = knat_check_host(p, host);
	if (err)
		goto err_unlock;
	err = -EADDRNOTAVAIL;
	ea = knat_pick_extaddr(p, int_addr);
	if (!ea)
		goto err_unlock;
	other = knat_session_in(kn, proto, ea->addr, 0, rem_addr, 0);
	if (other && !other->dead) {
		/* Another host's, or ours being made on another CPU. */
		if (other->int_addr != int_addr)
			other = NULL;
		goto err_unlock;
	}
	other = NULL;

	s->network = n;
	s->proto = proto;
	s->int_addr = int_addr;
	s->int_port = 0;
	s->ext_addr = ea->addr;
	s->ext_port = 0;
	s->rem_addr = rem_addr;
	s->rem_port = 0;
	s->dead = 0;
	RCU_INIT_POINTER(s->hp, NULL);
	atomic_set(&s->state, 0);
	s->last_seen = (u32)jiffies;
	s->tcp_seq = 0;
	err = knat_session_link(kn, &s, NULL, &host, &other);
	if (err) {
		knat_host_put_unused(kn, host);
		goto err_unlock;
	}
	spin_unlock_bh(&kn->tbl_lock);

	knat_count(n->stats, KNAT_CNT_SESSIONS_ADDED);
	knat_gc_kick(kn);
	knat_nl_notify_session(kn, s, KNAT_CMD_SESSION_NEW, 0);
	return s;

err_unlock:
	spin_unlock_bh(&kn->tbl_lock);
	if (s)
		kmem_cache_free(knat_session_cache, s);
	if (other)
		return other;
	knat_count_create_error(n, err);
	return ERR_PTR(err);
}

/*
 * A session for a new inbound flow to port @ext_port (host order) of
 * @ext_addr that port mapping @cm forwards to its internal host: no
 * dynamic mapping, the internal port from the mapping.
 */
struct knat_session *knat_session_create_static(struct knat_net *kn,
						const struct knat_cmap *cm,
						__be32 ext_addr, u16 ext_port,
						__be32 rem_addr,
						__be16 rem_port)
{
	const struct knat_smap *sm = cm->m;
	struct knat_network *n = cm->n;
	const struct knat_params *p = rcu_dereference(n->params);
	struct knat_session *s, *other = NULL;
	struct knat_host *host;
	__be16 int_port;
	int err;

	if (sm->int_min == sm->int_max)
		int_port = htons(sm->int_min);
	else
		int_port = htons(sm->int_min + (ext_port - cm->lo));

	s = kmem_cache_alloc(knat_session_cache, GFP_ATOMIC);
	if (!s) {
		knat_count(n->stats, KNAT_CNT_DROP_NOMEM);
		return ERR_PTR(-ENOMEM);
	}

	spin_lock_bh(&kn->tbl_lock);
	err = knat_make_room(kn, n, p, true);
	if (err)
		goto err_unlock;
	host = knat_host_get(kn, sm->int_addr);
	err = knat_check_host(p, host);
	if (err)
		goto err_unlock;

	s->network = n;
	s->proto = sm->proto;
	s->int_addr = sm->int_addr;
	s->int_port = int_port;
	s->ext_addr = ext_addr;
	s->ext_port = htons(ext_port);
	s->rem_addr = rem_addr;
	s->rem_port = rem_port;
	s->dead = 0;
	RCU_INIT_POINTER(s->hp, NULL);
	atomic_set(&s->state, KNAT_TCP_INBOUND | KNAT_SESS_STATIC |
			      KNAT_SESS_INBOUND);
	s->last_seen = (u32)jiffies;
	s->tcp_seq = 0;
	err = knat_session_link(kn, &s, NULL, &host, &other);
	if (err) {
		knat_host_put_unused(kn, host);
		goto err_unlock;
	}
	if (knat_session_embryonic(s))
		knat_embryo_add(n, s);
	spin_unlock_bh(&kn->tbl_lock);

	knat_count(n->stats, KNAT_CNT_SESSIONS_ADDED);
	this_cpu_inc(sm->stats->sessions);
	knat_gc_kick(kn);
	knat_nl_notify_session(kn, s, KNAT_CMD_SESSION_NEW, 0);
	return s;

err_unlock:
	if (!other)
		other = knat_session_out(kn, sm->proto, sm->int_addr, int_port,
					 rem_addr, rem_port);
	spin_unlock_bh(&kn->tbl_lock);
	if (s)
		kmem_cache_free(knat_session_cache, s);
	if (other)
		return other;
	knat_count_create_error(n, err);
	return ERR_PTR(err);
}

/* ---- removal ---- */

/*
 * Unlink a session, and its mapping and host when it was their last.
 * Under tbl_lock; @b must have room.  The session is freed with @b.
 */
static void knat_session_unlink(struct knat_net *kn, struct knat_session *s,
				struct knat_free_batch *b)
{
	struct knat_mapping *m;
	struct knat_host *host;

	s->dead = 1;
	rhashtable_remove_fast(&kn->sessions_out, &s->out_node,
			       knat_out_params);
	rhashtable_remove_fast(&kn->sessions_in, &s->in_node, knat_in_params);
	knat_hairpin_unlink(kn, s);

	/* A port mapping's session has no dynamic mapping. */
	m = NULL;
	if (!(atomic_read(&s->state) & KNAT_SESS_STATIC) &&
	    (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP ||
	     s->proto == IPPROTO_ICMP))
		m = knat_mapping_int(kn, s->proto, s->int_addr, s->int_port);
	if (m) {
		knat_peer_del(kn, m, s->rem_addr);
		if (--m->n_sessions == 0)
			knat_mapping_unlink(kn, m);
	}

	host = knat_host_get(kn, s->int_addr);
	if (host) {
		host->n_sessions--;
		knat_host_put_unused(kn, host);
	}

	if (atomic_read(&s->state) & KNAT_SESS_INBOUND)
		atomic_dec(&s->network->n_inbound);
	atomic_dec(&s->network->n_sessions);
	atomic_dec(&kn->n_sessions);
	b->s[b->n++] = s;
}

/*
 * Walk the session table, unlinking the sessions @match picks, at most
 * @budget of them looked at (0: no limit), and adding the number unlinked
 * to *@removed.  Returns true when the walk reached the end of the table.
 * Process context.
 *
 * A walk that stops right after unlinking the element it stands on may
 * skip elements when it resumes (the walker cannot find its place again):
 * the collector does not mind, a flush walks again until clean.
 */
static bool knat_session_walk(struct knat_net *kn, struct rhashtable_iter *it,
			      unsigned int budget,
			      bool (*match)(struct knat_session *s, void *arg),
			      void *arg, enum knat_counter counter,
			      unsigned int *removed)
{
	u8 reason = counter == KNAT_CNT_SESSIONS_EXPIRED ?
		    KNAT_REASON_EXPIRED : KNAT_REASON_DELETED;
	struct knat_free_batch *b = NULL;
	struct knat_session *s;
	bool done = false;

	for (;;) {
		if (!b) {
			b = kmalloc(sizeof(*b), GFP_KERNEL);
			if (!b)
				return false;
			b->n = 0;
		}

		rhashtable_walk_start(it);
		while (b->n < KNAT_BATCH) {
			s = rhashtable_walk_next(it);
			if (IS_ERR(s)) {
				if (PTR_ERR(s) == -EAGAIN)
					continue;
				break;
			}
			if (!s) {
				done = true;
				break;
			}
			if (READ_ONCE(s->dead) || !match(s, arg))
				goto next;

			spin_lock_bh(&kn->tbl_lock);
			/*
			 * Again under the lock: a packet may have used the
			 * session since.  One that takes it right now, lockless,
			 * came as it expired: its answer finds no session, as
			 * after any timeout.
			 */
			if (!s->dead && match(s, arg)) {
				knat_count(s->network->stats, counter);
				knat_nl_notify_session(kn, s,
						       KNAT_CMD_SESSION_DEL,
						       reason);
				knat_session_unlink(kn, s, b);
				(*removed)++;
			}
			spin_unlock_bh(&kn->tbl_lock);
next:
			if (budget && !--budget)
				break;
		}
		rhashtable_walk_stop(it);

		if (done || b->n < KNAT_BATCH)
			break;
		knat_free_batch_put(b);
		b = NULL;
		cond_resched();
	}
	knat_free_batch_put(b);
	return done;
}

/*
 * The collector.  A pass walks the whole table in slices and removes the
 * expired sessions; the next pass is due when the first session left can
 * expire, which needs no timer per session:
 *
 * - a session seen in the pass expires at its last use plus its timeout,
 *   and packets only move that later;
 * - a session made or used after the pass started (a TCP FIN or RST can
 *   shorten its timeout, but the packet that carries it also stamps it)
 *   cannot expire before the pass's start plus the shortest timeout of any
 *   network;
 * - shorter settings restart the reckoning (knat_gc_settings_changed()).
 *
 * So an idle table of a million sessions costs one pass per timeout, not
 * a pass every interval.  The gap between passes is kept between
 * KNAT_GC_INTERVAL and KNAT_GC_MAX_INTERVAL.
 */
#define KNAT_GC_BUDGET		8192	/* sessions looked at per slice */
#define KNAT_GC_INTERVAL	(HZ / 2)
#define KNAT_GC_MAX_INTERVAL	(60 * HZ)

static bool knat_gc_match(struct knat_session *s, void *arg)
{
	const struct knat_params *p = rcu_dereference(s->network->params);
	u32 timeout = knat_session_timeout(s, p);
	u32 last = READ_ONCE(s->last_seen);
	struct knat_net *kn = arg;

	smp_rmb();	/* the stamp before the clock, as knat_session_age() */
	if ((u32)jiffies - last > timeout)
		return true;
	if ((s32)(last + timeout - kn->gc_due) < 0)
		kn->gc_due = last + timeout;
	return false;
}

/* The shortest timeout of any network, in jiffies. */
static u32 knat_gc_min_timeout(struct knat_net *kn)
{
	const struct knat_config *cfg;
	u32 min = KNAT_GC_MAX_INTERVAL;
	unsigned int i, j;

	rcu_read_lock();
	cfg = rcu_dereference(kn->config);
	for (i = 0; cfg && i < cfg->n_networks; i++) {
		const struct knat_params *p;

		p = rcu_dereference(cfg->networks[i]->params);
		for (j = 0; j < KNAT_TO_MAX; j++)
			min = min_t(u32, min, p->timeout[j]);
	}
	rcu_read_unlock();
	return min;
}

static void knat_gc_work(struct work_struct *work)
{
	struct knat_net *kn = container_of(to_delayed_work(work),
					   struct knat_net, gc_work);
	unsigned int removed = 0;
	unsigned long delay;
	bool done;

	if (!kn->gc_iter_active) {
		/* Ordered: the settings read below are those of now or later. */
		atomic_xchg(&kn->gc_changed, 0);
		kn->gc_due = (u32)jiffies + knat_gc_min_timeout(kn);
		rhashtable_walk_enter(&kn->sessions_out, &kn->gc_iter);
		kn->gc_iter_active = true;
	}
	done = knat_session_walk(kn, &kn->gc_iter, KNAT_GC_BUDGET,
				 knat_gc_match, kn,
				 KNAT_CNT_SESSIONS_EXPIRED, &removed);
	if (!done) {
		/*
		 * A large table is swept in slices, one after the other: mod,
		 * not queue, for a new flow's kick may have queued the work
		 * half a second on while this slice ran.
		 */
		mod_delayed_work(system_power_efficient_wq, &kn->gc_work, 1);
		return;
	}
	rhashtable_walk_exit(&kn->gc_iter);
	kn->gc_iter_active = false;
	knat_evicted_flush(kn, false);

	/* An empty table is left alone until a session is added. */
	if (!atomic_read(&kn->n_sessions))
		return;
	delay = (s32)(kn->gc_due - (u32)jiffies) > 0 ?
		kn->gc_due - (u32)jiffies : 0;
	if (atomic_read(&kn->gc_changed))
		delay = 0;
	delay = clamp_t(unsigned long, delay, KNAT_GC_INTERVAL,
			KNAT_GC_MAX_INTERVAL);
	/* Likewise: the reckoning above, not a kick's half second, decides. */
	mod_delayed_work(system_power_efficient_wq, &kn->gc_work, delay);
}

/* A session was added: make sure the collector runs. */
static void knat_gc_kick(struct knat_net *kn)
{
	if (!delayed_work_pending(&kn->gc_work))
		queue_delayed_work(system_power_efficient_wq, &kn->gc_work,
				   KNAT_GC_INTERVAL);
}

/*
 * Timeouts may have become shorter: the collector's reckoning of when the
 * next session can expire no longer holds.  Called under kn->lock.
 */
void knat_gc_settings_changed(struct knat_net *kn)
{
	atomic_set(&kn->gc_changed, 1);
	if (atomic_read(&kn->n_sessions))
		mod_delayed_work(system_power_efficient_wq, &kn->gc_work, 0);
}

bool knat_filter_match(const struct knat_filter *f,
		       const struct knat_session *s)
{
	u8 has = f->has;

	if ((f->network_id && s->network->id != f->network_id) ||
	    (f->proto && s->proto != f->proto))
		return false;
	if (!has)
		return true;
	return (!(has & KNAT_FILTER_INT_ADDR) || s->int_addr == f->int_addr) &&
	       (!(has & KNAT_FILTER_INT_PORT) || s->int_port == f->int_port) &&
	       (!(has & KNAT_FILTER_EXT_ADDR) || s->ext_addr == f->ext_addr) &&
	       (!(has & KNAT_FILTER_EXT_PORT) || s->ext_port == f->ext_port) &&
	       (!(has & KNAT_FILTER_REM_ADDR) || s->rem_addr == f->rem_addr) &&
	       (!(has & KNAT_FILTER_REM_PORT) || s->rem_port == f->rem_port) &&
	       (!(has & KNAT_FILTER_EXT_RANGE) ||
		(be16_to_cpu(s->ext_port) >= f->ext_lo &&
		 be16_to_cpu(s->ext_port) <= f->ext_hi)) &&
	       (!(has & KNAT_FILTER_STATIC) ||
		(atomic_read(&s->state) & KNAT_SESS_STATIC));
}

static bool knat_flush_match(struct knat_session *s, void *arg)
{
	return knat_filter_match(arg, s);
}

/*
 * Remove every session @f matches.  For a complete flush, the caller
 * makes sure no new matching session can appear meanwhile.  Process
 * context.
 */
void knat_session_flush(struct knat_net *kn, const struct knat_filter *f)
{
	unsigned int removed, passes = 0;
	struct rhashtable_iter it;

	/*
	 * Until a whole walk finds nothing (see knat_session_walk()), or a
	 * few walks if traffic keeps adding matching sessions.
	 */
	do {
		removed = 0;
		rhashtable_walk_enter(&kn->sessions_out, &it);
		while (!knat_session_walk(kn, &it, 0, knat_flush_match,
					  (void *)f, KNAT_CNT_SESSIONS_DELETED,
					  &removed))
			cond_resched();
		rhashtable_walk_exit(&it);
	} while (removed && ++passes < 8);
}

u64 knat_session_bytes(struct knat_net *kn)
{
	return (u64)atomic_read(&kn->n_sessions) *
		kmem_cache_size(knat_session_cache) +
	       (u64)atomic_read(&kn->n_mappings) *
		kmem_cache_size(knat_mapping_cache) +
	       (u64)atomic_read(&kn->n_hosts) * sizeof(struct knat_host) +
	       (u64)atomic_read(&kn->peers.nelems) * sizeof(struct knat_peer) +
	       (u64)atomic_read(&kn->hairpins.nelems) *
		kmalloc_size_roundup(sizeof(struct knat_hp));
}

/* ---- setup ---- */

int knat_session_init_net(struct knat_net *kn)
{
	int err;

	spin_lock_init(&kn->tbl_lock);
	err = rhashtable_init(&kn->sessions_out, &knat_out_params);
	if (err)
		return err;
	err = rhashtable_init(&kn->sessions_in, &knat_in_params);
	if (err)
		goto err_out;
	err = rhashtable_init(&kn->peers, &knat_peer_params);
	if (err)
		goto err_in;
	err = rhashtable_init(&kn->mappings_int, &knat_map_int_params);
	if (err)
		goto err_peers;
	err = rhashtable_init(&kn->mappings_ext, &knat_map_ext_params);
	if (err)
		goto err_map_int;
	err = rhashtable_init(&kn->hosts, &knat_host_params);
	if (err)
		goto err_map_ext;
	err = rhashtable_init(&kn->hairpins, &knat_hp_params);
	if (err)
		goto err_hosts;

	INIT_DELAYED_WORK(&kn->gc_work, knat_gc_work);
	return 0;

err_hosts:
	rhashtable_destroy(&kn->hosts);
err_map_ext:
	rhashtable_destroy(&kn->mappings_ext);
err_map_int:
	rhashtable_destroy(&kn->mappings_int);
err_peers:
	rhashtable_destroy(&kn->peers);
err_in:
	rhashtable_destroy(&kn->sessions_in);
err_out:
	rhashtable_destroy(&kn->sessions_out);
	return err;
}

/* The namespace is going: its hooks are gone and its networks flushed. */
void knat_session_exit_net(struct knat_net *kn)
{
	cancel_delayed_work_sync(&kn->gc_work);
	if (kn->gc_iter_active)
		rhashtable_walk_exit(&kn->gc_iter);
	knat_evicted_flush(kn, true);

	WARN_ON(atomic_read(&kn->n_sessions) || atomic_read(&kn->n_mappings) ||
		atomic_read(&kn->n_hosts));
	WARN_ON(atomic_read(&kn->hairpins.nelems));
	rhashtable_destroy(&kn->hairpins);
	rhashtable_destroy(&kn->hosts);
	rhashtable_destroy(&kn->mappings_ext);
	rhashtable_destroy(&kn->mappings_int);
	WARN_ON(atomic_read(&kn->peers.nelems));
	rhashtable_destroy(&kn->peers);
	rhashtable_destroy(&kn->sessions_in);
	rhashtable_destroy(&kn->sessions_out);
}

int __init knat_session_cache_init(void)
{
	BUILD_BUG_ON(sizeof(struct knat_session) > 64);

	knat_session_cache = KMEM_CACHE(knat_session, 0);
	if (!knat_session_cache)
		return -ENOMEM;
	knat_mapping_cache = KMEM_CACHE(knat_mapping, 0);
	if (!knat_mapping_cache) {
		kmem_cache_destroy(knat_session_cache);
		return -ENOMEM;
	}
	return 0;
}

void knat_session_cache_exit(void)
{
	/* Wait for the batches and mappings still queued for freeing. */
	rcu_barrier();
	kmem_cache_destroy(knat_mapping_cache);
	kmem_cache_destroy(knat_session_cache);
}
