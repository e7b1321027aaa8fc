// SPDX-License-Identifier: GPL-2.0
/*
 * knat: configuration transactions.
 *
 * Every change of the configuration goes through a transaction: the
 * single-change commands are transactions of one change, `natctl -f` sends
 * many.  A transaction stages its changes on a private copy (one stage per
 * network: its settings as they would become, or deleted, or new) and
 * checks each change against the staged state, so a failure anywhere
 * leaves nothing changed.  Committing publishes the new packet-path view
 * and the networks' settings, then flushes what went away.
 *
 * A network deleted and created again in one transaction with the same
 * internal prefix stays the same object: its sessions and counters live on
 * (`natctl -f` with `flush` replaces a configuration without dropping the
 * flows of networks that did not change).
 *
 * Everything here runs under knat_net.lock.
 */
#include <linux/ctype.h>
#include <linux/hash.h>
#include <linux/inetdevice.h>
#include <linux/log2.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <net/netfilter/ipv4/nf_defrag_ipv4.h>
#include <net/netlink.h>

#include "compat.h"
#include "knat.h"

struct knat_stage {
	struct list_head list;
	struct knat_network *n;		/* published, or new (is_new) */
	struct knat_params *p;		/* staged settings (owned), or NULL */
	bool is_new;
	bool deleted;
	bool changed;			/* settings other than mappings */
	bool maps_changed;
};

struct knat_txn {
	struct knat_net *kn;
	struct netlink_ext_ack *extack;
	struct list_head stages;
};

const u16 knat_timeout_attr[KNAT_TO_MAX] = {
	[KNAT_TO_TCP_EST]	= KNAT_A_NETWORK_TIMEOUT_TCP_EST,
	[KNAT_TO_TCP_TRANS]	= KNAT_A_NETWORK_TIMEOUT_TCP_TRANS,
	[KNAT_TO_UDP]		= KNAT_A_NETWORK_TIMEOUT_UDP,
	[KNAT_TO_ICMP]		= KNAT_A_NETWORK_TIMEOUT_ICMP,
	[KNAT_TO_TCP_SYN]	= KNAT_A_NETWORK_TIMEOUT_TCP_SYN,
	[KNAT_TO_OTHER]		= KNAT_A_NETWORK_TIMEOUT_OTHER,
};

static const struct knat_params *knat_stage_params(struct knat_txn *t,
						   const struct knat_stage *st)
{
	return st->p ?: rcu_dereference_protected(st->n->params,
					lockdep_is_held(&t->kn->lock));
}

static struct knat_stage *knat_stage_find(struct knat_txn *t,
					  const char *name, bool deleted)
{
	struct knat_stage *st;

	list_for_each_entry(st, &t->stages, list)
		if (st->deleted == deleted && !strcmp(st->n->name, name))
			return st;
	return NULL;
}

static void knat_stage_free(struct knat_stage *st)
{
	knat_params_free(st->p);
	if (st->is_new) {
		knat_embryos_free(st->n);
		free_percpu(st->n->stats);
		kfree(st->n);
	}
	list_del(&st->list);
	kfree(st);
}

struct knat_txn *knat_txn_begin(struct knat_net *kn,
				struct netlink_ext_ack *extack)
{
	struct knat_network *n;
	struct knat_stage *st;
	struct knat_txn *t;

	lockdep_assert_held(&kn->lock);
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return NULL;
	t->kn = kn;
	t->extack = extack;
	INIT_LIST_HEAD(&t->stages);

	list_for_each_entry(n, &kn->networks, list) {
		st = kzalloc(sizeof(*st), GFP_KERNEL);
		if (!st) {
			knat_txn_abort(t);
			return NULL;
		}
		st->n = n;
		list_add_tail(&st->list, &t->stages);
	}
	return t;
}

void knat_txn_abort(struct knat_txn *t)
{
	struct knat_stage *st, *tmp;

	list_for_each_entry_safe(st, tmp, &t->stages, list)
		knat_stage_free(st);
	kfree(t);
}

/* ---- settings from attributes ---- */

/* ASCII letters, digits, '_', '.' and '-': safe in any output format. */
static bool knat_name_valid(const char *name)
{
	if (!*name)
		return false;
	for (; *name; name++)
		if (!isascii(*name) || (!isalnum(*name) && !strchr("_.-", *name)))
			return false;
	return true;
}

static int knat_parse_addrs(struct knat_net *kn, struct knat_params *p,
			    const struct nlattr *nest,
			    struct netlink_ext_ack *extack)
{
	__be32 addrs[KNAT_EXT_ADDRS_MAX];
	const struct nlattr *a;
	unsigned int n = 0, i;
	int rem;

	nla_for_each_nested(a, nest, rem) {
		__be32 addr = nla_get_in_addr(a);

		if (n == KNAT_EXT_ADDRS_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "too many external addresses");
			return -E2BIG;
		}
		if (ipv4_is_zeronet(addr) || ipv4_is_loopback(addr) ||
		    ipv4_is_multicast(addr) || ipv4_is_lbcast(addr)) {
			NL_SET_ERR_MSG_ATTR(extack, a, "not a unicast address");
			return -EINVAL;
		}
		for (i = 0; i < n; i++) {
			if (addrs[i] == addr) {
				NL_SET_ERR_MSG_ATTR(extack, a,
						    "address given twice");
				return -EINVAL;
			}
		}
		addrs[n++] = addr;
	}
	if (!n) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "no external address");
		return -EINVAL;
	}

	p->ext_dev[0] = '\0';
	return knat_params_set_addrs(kn, p, addrs, n);
}

/* Apply the optional settings of a NEW or SET change to @p (private). */
static int knat_parse_params(struct knat_net *kn, struct knat_params *p,
			     struct nlattr **tb,
			     struct netlink_ext_ack *extack)
{
	int err, i;

	if (tb[KNAT_A_NETWORK_EXT_DEV] && tb[KNAT_A_NETWORK_EXT_ADDRS]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KNAT_A_NETWORK_EXT_ADDRS],
				    "external device and addresses exclude each other");
		return -EINVAL;
	}
	if (tb[KNAT_A_NETWORK_EXT_DEV]) {
		err = knat_params_set_dev(kn, p,
					  nla_data(tb[KNAT_A_NETWORK_EXT_DEV]),
					  extack);
		if (err) {
			NL_SET_BAD_ATTR(extack, tb[KNAT_A_NETWORK_EXT_DEV]);
			return err;
		}
	}
	if (tb[KNAT_A_NETWORK_EXT_ADDRS]) {
		err = knat_parse_addrs(kn, p, tb[KNAT_A_NETWORK_EXT_ADDRS],
				       extack);
		if (err)
			return err;
	}

	if (!tb[KNAT_A_NETWORK_PORT_MIN] != !tb[KNAT_A_NETWORK_PORT_MAX]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KNAT_A_NETWORK_PORT_MIN] ?:
				    tb[KNAT_A_NETWORK_PORT_MAX],
				    "port range needs both its minimum and maximum");
		return -EINVAL;
	}
	if (tb[KNAT_A_NETWORK_PORT_MIN]) {
		u16 lo = nla_get_u16(tb[KNAT_A_NETWORK_PORT_MIN]);
		u16 hi = nla_get_u16(tb[KNAT_A_NETWORK_PORT_MAX]);

		if ((lo || hi) && (!lo || lo > hi)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KNAT_A_NETWORK_PORT_MIN],
					    "port range must be 1-65535, minimum first");
			return -EINVAL;
		}
		p->port_min = lo;
		p->port_max = hi;
	}

	if (tb[KNAT_A_NETWORK_FILTERING])
		p->filtering = nla_get_u8(tb[KNAT_A_NETWORK_FILTERING]);
	if (tb[KNAT_A_NETWORK_MAX_SESSIONS])
		p->max_sessions = nla_get_u32(tb[KNAT_A_NETWORK_MAX_SESSIONS]);
	if (tb[KNAT_A_NETWORK_HOST_MAX_SESSIONS])
		p->host_max_sessions =
			nla_get_u32(tb[KNAT_A_NETWORK_HOST_MAX_SESSIONS]);
	if (tb[KNAT_A_NETWORK_UDP_INBOUND_REFRESH])
		p->udp_inbound_refresh =
			nla_get_u8(tb[KNAT_A_NETWORK_UDP_INBOUND_REFRESH]);
	if (tb[KNAT_A_NETWORK_HAIRPIN])
		p->hairpin = nla_get_u8(tb[KNAT_A_NETWORK_HAIRPIN]);
	if (tb[KNAT_A_NETWORK_INBOUND_SHARE])
		p->inbound_share = nla_get_u8(tb[KNAT_A_NETWORK_INBOUND_SHARE]);
	for (i = 0; i < KNAT_TO_MAX; i++) {
		if (tb[knat_timeout_attr[i]]) {
			p->timeout_s[i] = nla_get_u32(tb[knat_timeout_attr[i]]);
			p->timeout[i] = p->timeout_s[i] * HZ;
		}
	}
	return 0;
}

/* ---- checks against the staged state ---- */

static bool knat_prefix_contains(__be32 prefix, __be32 mask, __be32 addr)
{
	return (addr & mask) == prefix;
}

/*
 * Refuse settings that make two networks ambiguous: overlapping internal
 * prefixes, or an external address inside an internal prefix.
 */
static int knat_check_conflicts(struct knat_txn *t, struct knat_stage *self,
				const struct knat_network *n,
				const struct knat_params *p)
{
	struct netlink_ext_ack *extack = t->extack;
	struct knat_stage *st;
	unsigned int i;

	for (i = 0; i < p->n_addrs; i++) {
		if (knat_prefix_contains(n->prefix, n->mask, p->addrs[i]->addr)) {
			NL_SET_ERR_MSG_FMT(extack,
					   "%pI4 is inside the internal prefix",
					   &p->addrs[i]->addr);
			return -EINVAL;
		}
	}

	list_for_each_entry(st, &t->stages, list) {
		const struct knat_network *o = st->n;
		const struct knat_params *op;
		__be32 m;

		if (st == self || st->deleted)
			continue;
		m = n->mask & o->mask;
		if ((n->prefix & m) == (o->prefix & m)) {
			NL_SET_ERR_MSG_FMT(extack,
					   "internal prefix overlaps network %s (%pI4/%u)",
					   o->name, &o->prefix, o->plen);
			return -EINVAL;
		}
		for (i = 0; i < p->n_addrs; i++) {
			if (knat_prefix_contains(o->prefix, o->mask,
						 p->addrs[i]->addr)) {
				NL_SET_ERR_MSG_FMT(extack,
						   "%pI4 is inside the internal prefix of network %s",
						   &p->addrs[i]->addr, o->name);
				return -EINVAL;
			}
		}
		op = knat_stage_params(t, st);
		for (i = 0; i < p->n_addrs; i++) {
			unsigned int j;

			for (j = 0; j < op->n_maps; j++) {
				if (!op->maps[j]->proto &&
				    op->maps[j]->ext_addr == p->addrs[i]->addr) {
					NL_SET_ERR_MSG_FMT(extack,
							   "%pI4 is mapped 1:1 by network %s",
							   &p->addrs[i]->addr,
							   o->name);
					return -EINVAL;
				}
			}
		}
		for (i = 0; i < op->n_addrs; i++) {
			if (knat_prefix_contains(n->prefix, n->mask,
						 op->addrs[i]->addr)) {
				NL_SET_ERR_MSG_FMT(extack,
						   "prefix contains %pI4, an external address of %s",
						   &op->addrs[i]->addr, o->name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* Give stage @st the settings @p (taking them over). */
static int knat_stage_set(struct knat_txn *t, struct knat_stage *st,
			  struct knat_params *p)
{
	int err;

	err = knat_check_conflicts(t, st, st->n, p);
	if (err) {
		knat_params_free(p);
		return err;
	}
	knat_params_free(st->p);
	st->p = p;
	st->changed = true;
	return 0;
}

/* Give stage @st the settings @p, which differ only in mappings. */
static void knat_stage_set_maps(struct knat_stage *st, struct knat_params *p)
{
	knat_params_free(st->p);
	st->p = p;
	st->maps_changed = true;
}

/* ---- the changes ---- */

static int knat_txn_network_new(struct knat_txn *t, const struct nlattr *nest,
				struct nlattr **tb)
{
	struct netlink_ext_ack *extack = t->extack;
	struct knat_network *n;
	struct knat_params *p;
	struct knat_stage *st;
	const char *name;
	__be32 prefix;
	u8 plen;
	int err;

	if (NL_REQ_ATTR_CHECK(extack, nest, tb, KNAT_A_NETWORK_NAME) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, KNAT_A_NETWORK_PREFIX) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, KNAT_A_NETWORK_PREFIX_LEN))
		return -EINVAL;

	name = nla_data(tb[KNAT_A_NETWORK_NAME]);
	if (!knat_name_valid(name)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KNAT_A_NETWORK_NAME],
				    "name must be letters, digits, '_', '.', '-'");
		return -EINVAL;
	}
	prefix = nla_get_in_addr(tb[KNAT_A_NETWORK_PREFIX]);
	plen = nla_get_u8(tb[KNAT_A_NETWORK_PREFIX_LEN]);
	if (prefix & ~inet_make_mask(plen)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KNAT_A_NETWORK_PREFIX],
				    "prefix has host bits set");
		return -EINVAL;
	}
	if (!tb[KNAT_A_NETWORK_EXT_DEV] && !tb[KNAT_A_NETWORK_EXT_ADDRS]) {
		NL_SET_ERR_MSG(extack,
			       "an external device or addresses are required");
		return -EINVAL;
	}
	if (knat_stage_find(t, name, false)) {
		NL_SET_ERR_MSG_FMT(extack, "network %s exists", name);
		NL_SET_BAD_ATTR(extack, tb[KNAT_A_NETWORK_NAME]);
		return -EEXIST;
	}

	p = kmalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	knat_params_default(p);
	err = knat_parse_params(t->kn, p, tb, extack);
	if (err) {
		knat_params_free(p);
		return err;
	}

	/* Deleted and created again alike: the same network lives on. */
	st = knat_stage_find(t, name, true);
	if (st && st->n->prefix == prefix && st->n->plen == plen) {
		err = knat_stage_set(t, st, p);
		if (!err)
			st->deleted = false;
		return err;
	}

	err = -ENOMEM;
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	n = kzalloc(sizeof(*n), GFP_KERNEL);
	if (!st || !n)
		goto err_free;
	n->stats = alloc_percpu(struct knat_stats);
	if (!n->stats)
		goto err_free;
	strscpy(n->name, name, sizeof(n->name));
	n->prefix = prefix;
	n->mask = inet_make_mask(plen);
	n->plen = plen;
	atomic_set(&n->n_sessions, 0);
	atomic_set(&n->n_inbound, 0);
	if (knat_embryos_alloc(n))
		goto err_free;

	st->n = n;
	st->is_new = true;
	list_add_tail(&st->list, &t->stages);
	return knat_stage_set(t, st, p);

err_free:
	if (n) {
		knat_embryos_free(n);
		free_percpu(n->stats);
	}
	kfree(n);
	kfree(st);
	knat_params_free(p);
	return err;
}

static struct knat_stage *knat_txn_named(struct knat_txn *t,
					 const struct nlattr *nest,
					 struct nlattr **tb)
{
	struct knat_stage *st;

	if (NL_REQ_ATTR_CHECK(t->extack, nest, tb, KNAT_A_NETWORK_NAME))
		return ERR_PTR(-EINVAL);
	st = knat_stage_find(t, nla_data(tb[KNAT_A_NETWORK_NAME]), false);
	if (!st) {
		NL_SET_ERR_MSG_ATTR(t->extack, tb[KNAT_A_NETWORK_NAME],
				    "no such network");
		return ERR_PTR(-ENOENT);
	}
	return st;
}

static int knat_txn_network_set(struct knat_txn *t, const struct nlattr *nest,
				struct nlattr **tb)
{
	struct knat_params *p;
	struct knat_stage *st;
	int err;

	st = knat_txn_named(t, nest, tb);
	if (IS_ERR(st))
		return PTR_ERR(st);
	if (tb[KNAT_A_NETWORK_PREFIX] || tb[KNAT_A_NETWORK_PREFIX_LEN]) {
		NL_SET_ERR_MSG_ATTR(t->extack,
				    tb[KNAT_A_NETWORK_PREFIX] ?:
				    tb[KNAT_A_NETWORK_PREFIX_LEN],
				    "the internal prefix cannot be changed");
		return -EINVAL;
	}

	p = knat_params_clone(knat_stage_params(t, st));
	if (!p)
		return -ENOMEM;
	err = knat_parse_params(t->kn, p, tb, t->extack);
	if (err) {
		knat_params_free(p);
		return err;
	}
	return knat_stage_set(t, st, p);
}

static int knat_txn_network_del(struct knat_txn *t, const struct nlattr *nest,
				struct nlattr **tb)
{
	struct knat_stage *st;

	st = knat_txn_named(t, nest, tb);
	if (IS_ERR(st))
		return PTR_ERR(st);
	if (st->is_new) {
		knat_stage_free(st);
		return 0;
	}
	st->deleted = true;
	return 0;
}

/* ---- static mappings ---- */

__be32 knat_smap_ext_addr(const struct knat_smap *m,
			  const struct knat_params *p)
{
	if (m->ext_addr)
		return m->ext_addr;
	return p->n_addrs ? p->addrs[0]->addr : 0;
}

/* The mapping MAP_DEL names: same protocol, address and first port. */
static bool knat_smap_same_key(const struct knat_smap *a,
			       const struct knat_smap *b)
{
	return a->proto == b->proto && a->ext_addr == b->ext_addr &&
	       (!a->proto || a->ext_min == b->ext_min);
}

static bool knat_smap_alike(const struct knat_smap *a,
			    const struct knat_smap *b)
{
	return knat_smap_same_key(a, b) && a->ext_max == b->ext_max &&
	       a->int_addr == b->int_addr && a->int_min == b->int_min &&
	       a->int_max == b->int_max && a->rem_prefix == b->rem_prefix &&
	       a->rem_plen == b->rem_plen;
}

static bool knat_unicast(__be32 addr)
{
	return !(ipv4_is_zeronet(addr) || ipv4_is_loopback(addr) ||
		 ipv4_is_multicast(addr) || ipv4_is_lbcast(addr));
}

static const char *knat_proto_name(u8 proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" :
	       "ip";
}

/*
 * Refuse mapping @m of stage @self (settings @p) when it collides with
 * another mapping of any staged network, or with an address it must not
 * use.
 */
static int knat_check_map(struct knat_txn *t, struct knat_stage *self,
			  const struct knat_params *p,
			  const struct knat_smap *m)
{
	struct netlink_ext_ack *extack = t->extack;
	__be32 ma = knat_smap_ext_addr(m, p);
	struct knat_stage *st;
	unsigned int i;

	list_for_each_entry(st, &t->stages, list) {
		const struct knat_params *op;
		const struct knat_network *o = st->n;

		if (st->deleted)
			continue;
		op = st == self ? p : knat_stage_params(t, st);
		if (ma && knat_prefix_contains(o->prefix, o->mask, ma)) {
			NL_SET_ERR_MSG_FMT(extack,
					   "%pI4 is inside the internal prefix of network %s",
					   &ma, o->name);
			return -EINVAL;
		}
		if (!m->proto) {
			for (i = 0; i < op->n_addrs; i++) {
				if (op->addrs[i]->addr == ma) {
					NL_SET_ERR_MSG_FMT(extack,
							   "%pI4 is an external address of network %s",
							   &ma, o->name);
					return -EINVAL;
				}
			}
		}
		for (i = 0; i < op->n_maps; i++) {
			const struct knat_smap *x = op->maps[i];
			__be32 xa = knat_smap_ext_addr(x, op);

			if (!m->proto && !x->proto && x->ext_addr == ma) {
				NL_SET_ERR_MSG_FMT(extack,
						   "%pI4 is mapped 1:1 already (%s: to %pI4)",
						   &ma, o->name, &x->int_addr);
				return -EEXIST;
			}
			if (!m->proto && !x->proto &&
			    x->int_addr == m->int_addr) {
				NL_SET_ERR_MSG_FMT(extack,
						   "%pI4 is mapped 1:1 already (%s: from %pI4)",
						   &m->int_addr, o->name,
						   &x->ext_addr);
				return -EEXIST;
			}
			/*
			 * A 1:1-mapped host's packets all leave with its 1:1
			 * address: a port mapping of it elsewhere would answer
			 * from the wrong one.
			 */
			if (!m->proto != !x->proto &&
			    x->int_addr == m->int_addr) {
				NL_SET_ERR_MSG_FMT(extack,
						   "%pI4 has a 1:1 and a port mapping (%s: %s %pI4)",
						   &m->int_addr, o->name,
						   knat_proto_name(x->proto),
						   &xa);
				return -EINVAL;
			}
			if (!ma || xa != ma || (!m->proto && !x->proto))
				continue;
			if (!m->proto || !x->proto) {
				NL_SET_ERR_MSG_FMT(extack,
						   "%pI4 has both a 1:1 and a port mapping (network %s)",
						   &ma, o->name);
				return -EINVAL;
			}
			if (m->proto == x->proto && m->ext_min <= x->ext_max &&
			    x->ext_min <= m->ext_max) {
				NL_SET_ERR_MSG_FMT(extack,
						   "port %u is mapped already (%s: %s %pI4:%u-%u)",
						   max(m->ext_min, x->ext_min),
						   o->name,
						   knat_proto_name(x->proto),
						   &xa, x->ext_min, x->ext_max);
				return -EEXIST;
			}
		}
	}
	return 0;
}

/* The stage of the network a MAP_NEW or MAP_DEL names. */
static struct knat_stage *knat_txn_map_stage(struct knat_txn *t,
					     const struct nlattr *nest,
					     struct nlattr **tb)
{
	struct knat_stage *st;

	if (NL_REQ_ATTR_CHECK(t->extack, nest, tb, KNAT_A_MAP_NETWORK) ||
	    NL_REQ_ATTR_CHECK(t->extack, nest, tb, KNAT_A_MAP_PROTO))
		return ERR_PTR(-EINVAL);
	st = knat_stage_find(t, nla_data(tb[KNAT_A_MAP_NETWORK]), false);
	if (!st) {
		NL_SET_ERR_MSG_ATTR(t->extack, tb[KNAT_A_MAP_NETWORK],
				    "no such network");
		return ERR_PTR(-ENOENT);
	}
	return st;
}

/* Fill @m from a MAP_NEW's attributes and check it alone. */
static int knat_parse_map(struct knat_txn *t, const struct knat_network *n,
			  const struct nlattr *nest, struct nlattr **tb,
			  struct knat_smap *m)
{
	static const u16 port_attrs[] = {
		KNAT_A_MAP_EXT_PORT_MIN, KNAT_A_MAP_EXT_PORT_MAX,
		KNAT_A_MAP_INT_PORT_MIN, KNAT_A_MAP_INT_PORT_MAX,
		KNAT_A_MAP_REM_PREFIX, KNAT_A_MAP_REM_PREFIX_LEN,
	};
	struct netlink_ext_ack *extack = t->extack;
	unsigned int i;

	m->proto = nla_get_u8(tb[KNAT_A_MAP_PROTO]);
	if (m->proto && m->proto != IPPROTO_TCP && m->proto != IPPROTO_UDP) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KNAT_A_MAP_PROTO],
				    "protocol must be TCP, UDP or 0 (1:1)");
		return -EINVAL;
	}
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, KNAT_A_MAP_INT_ADDR))
		return -EINVAL;
	m->int_addr = nla_get_in_addr(tb[KNAT_A_MAP_INT_ADDR]);
	if (!knat_prefix_contains(n->prefix, n->mask, m->int_addr)) {
		NL_SET_ERR_MSG_FMT(extack,
				   "%pI4 is outside %s's prefix %pI4/%u",
				   &m->int_addr, n->name, &n->prefix, n->plen);
		NL_SET_BAD_ATTR(extack, tb[KNAT_A_MAP_INT_ADDR]);
		return -EINVAL;
	}
	if (tb[KNAT_A_MAP_EXT_ADDR]) {
		m->ext_addr = nla_get_in_addr(tb[KNAT_A_MAP_EXT_ADDR]);
		if (!knat_unicast(m->ext_addr)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KNAT_A_MAP_EXT_ADDR],
					    "not a unicast address");
			return -EINVAL;
		}
	}

	if (!m->proto) {
		if (NL_REQ_ATTR_CHECK(extack, nest, tb, KNAT_A_MAP_EXT_ADDR))
			return -EINVAL;
		for (i = 0; i < ARRAY_SIZE(port_attrs); i++) {
			if (tb[port_attrs[i]]) {
				NL_SET_ERR_MSG_ATTR(extack, tb[port_attrs[i]],
						    "a 1:1 mapping has no ports or remote prefix");
				return -EINVAL;
			}
		}
		return 0;
	}

	if (NL_REQ_ATTR_CHECK(extack, nest, tb, KNAT_A_MAP_EXT_PORT_MIN))
		return -EINVAL;
	m->ext_min = nla_get_u16(tb[KNAT_A_MAP_EXT_PORT_MIN]);
	m->ext_max = tb[KNAT_A_MAP_EXT_PORT_MAX] ?
		     nla_get_u16(tb[KNAT_A_MAP_EXT_PORT_MAX]) : m->ext_min;
	if (m->ext_min > m->ext_max) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KNAT_A_MAP_EXT_PORT_MAX],
				    "external port range must be minimum first");
		return -EINVAL;
	}
	if (tb[KNAT_A_MAP_INT_PORT_MAX] && !tb[KNAT_A_MAP_INT_PORT_MIN]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KNAT_A_MAP_INT_PORT_MAX],
				    "internal port range needs its minimum");
		return -EINVAL;
	}
	if (!tb[KNAT_A_MAP_INT_PORT_MIN]) {
		m->int_min = m->ext_min;
		m->int_max = m->ext_max;
	} else {
		m->int_min = nla_get_u16(tb[KNAT_A_MAP_INT_PORT_MIN]);
		m->int_max = tb[KNAT_A_MAP_INT_PORT_MAX] ?
			     nla_get_u16(tb[KNAT_A_MAP_INT_PORT_MAX]) :
			     m->int_min;
		if (m->int_min > m->int_max) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KNAT_A_MAP_INT_PORT_MAX],
					    "internal port range must be minimum first");
			return -EINVAL;
		}
		if (m->int_min != m->int_max &&
		    m->int_max - m->int_min != m->ext_max - m->ext_min) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KNAT_A_MAP_INT_PORT_MAX],
					    "internal and external port ranges differ in length");
			return -EINVAL;
		}
	}

	if (!tb[KNAT_A_MAP_REM_PREFIX] != !tb[KNAT_A_MAP_REM_PREFIX_LEN]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KNAT_A_MAP_REM_PREFIX] ?:
				    tb[KNAT_A_MAP_REM_PREFIX_LEN],
				    "remote prefix needs its address and length");
		return -EINVAL;
	}
	if (tb[KNAT_A_MAP_REM_PREFIX]) {
		m->rem_prefix = nla_get_in_addr(tb[KNAT_A_MAP_REM_PREFIX]);
		m->rem_plen = nla_get_u8(tb[KNAT_A_MAP_REM_PREFIX_LEN]);
		m->rem_mask = inet_make_mask(m->rem_plen);
		if (m->rem_prefix & ~m->rem_mask) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KNAT_A_MAP_REM_PREFIX],
					    "remote prefix has host bits set");
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * The mapping object to stage for @m: an alike one that network @st->n
 * has now (so that its sessions and counters live on), or @m itself made
 * ready.  Returns NULL when out of memory.
 */
static struct knat_smap *knat_smap_adopt(struct knat_txn *t,
					 struct knat_stage *st,
					 struct knat_smap *m)
{
	const struct knat_params *now;
	unsigned int i;

	if (!st->is_new) {
		now = rcu_dereference_protected(st->n->params,
						lockdep_is_held(&t->kn->lock));
		for (i = 0; i < now->n_maps; i++) {
			if (knat_smap_alike(now->maps[i], m)) {
				refcount_inc(&now->maps[i]->ref);
				kfree(m);
				return now->maps[i];
			}
		}
	}
	m->stats = alloc_percpu(struct knat_smap_stats);
	if (!m->stats) {
		kfree(m);
		return NULL;
	}
	refcount_set(&m->ref, 1);
	return m;
}

static int knat_txn_map_new(struct knat_txn *t, const struct nlattr *nest,
			    struct nlattr **tb)
{
	const struct knat_params *sp;
	struct knat_stage *st;
	struct knat_params *p;
	struct knat_smap *m, **maps;
	int err;

	st = knat_txn_map_stage(t, nest, tb);
	if (IS_ERR(st))
		return PTR_ERR(st);
	sp = knat_stage_params(t, st);

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	err = knat_parse_map(t, st->n, nest, tb, m);
	if (!err)
		err = knat_check_map(t, st, sp, m);
	if (err) {
		kfree(m);
		return err;
	}
	m = knat_smap_adopt(t, st, m);
	if (!m)
		return -ENOMEM;

	p = knat_params_clone(sp);
	maps = p ? krealloc(p->maps, (p->n_maps + 1) * sizeof(*maps),
			    GFP_KERNEL) : NULL;
	if (!maps) {
		knat_params_free(p);
		knat_smap_put(m);
		return -ENOMEM;
	}
	maps[p->n_maps++] = m;
	p->maps = maps;
	knat_stage_set_maps(st, p);
	return 0;
}

static int knat_txn_map_del(struct knat_txn *t, const struct nlattr *nest,
			    struct nlattr **tb)
{
	struct knat_smap key = {};
	const struct knat_params *sp;
	struct knat_stage *st;
	struct knat_params *p;
	unsigned int i;

	st = knat_txn_map_stage(t, nest, tb);
	if (IS_ERR(st))
		return PTR_ERR(st);
	sp = knat_stage_params(t, st);

	key.proto = nla_get_u8(tb[KNAT_A_MAP_PROTO]);
	if (tb[KNAT_A_MAP_EXT_ADDR])
		key.ext_addr = nla_get_in_addr(tb[KNAT_A_MAP_EXT_ADDR]);
	if (key.proto) {
		if (NL_REQ_ATTR_CHECK(t->extack, nest, tb,
				      KNAT_A_MAP_EXT_PORT_MIN))
			return -EINVAL;
		key.ext_min = nla_get_u16(tb[KNAT_A_MAP_EXT_PORT_MIN]);
	}

	for (i = 0; i < sp->n_maps; i++) {
		const struct knat_smap *m = sp->maps[i];

		if (!knat_smap_same_key(m, &key))
			continue;
		if (key.proto && tb[KNAT_A_MAP_EXT_PORT_MAX] &&
		    nla_get_u16(tb[KNAT_A_MAP_EXT_PORT_MAX]) != m->ext_max)
			break;
		p = knat_params_clone(sp);
		if (!p)
			return -ENOMEM;
		knat_smap_put(p->maps[i]);
		memmove(&p->maps[i], &p->maps[i + 1],
			(p->n_maps - i - 1) * sizeof(p->maps[0]));
		p->n_maps--;
		knat_stage_set_maps(st, p);
		return 0;
	}
	NL_SET_ERR_MSG_FMT(t->extack, "network %s has no such mapping",
			   st->n->name);
	return -ENOENT;
}

/*
 * One change: @cmd (KNAT_CMD_NETWORK_NEW, _SET, _DEL, KNAT_CMD_MAP_NEW or
 * _DEL) with attributes @tb (of that command's policy), parsed from @nest
 * (NULL for a top-level request).
 */
int knat_txn_op(struct knat_txn *t, u8 cmd, const struct nlattr *nest,
		struct nlattr **tb)
{
	switch (cmd) {
	case KNAT_CMD_NETWORK_NEW:
		return knat_txn_network_new(t, nest, tb);
	case KNAT_CMD_NETWORK_SET:
		return knat_txn_network_set(t, nest, tb);
	case KNAT_CMD_NETWORK_DEL:
		return knat_txn_network_del(t, nest, tb);
	case KNAT_CMD_MAP_NEW:
		return knat_txn_map_new(t, nest, tb);
	case KNAT_CMD_MAP_DEL:
		return knat_txn_map_del(t, nest, tb);
	default:
		NL_SET_ERR_MSG(t->extack, "not a configuration change");
		return -EOPNOTSUPP;
	}
}

/* Delete every network (they may be created again alike). */
void knat_txn_flush(struct knat_txn *t)
{
	struct knat_stage *st, *tmp;

	list_for_each_entry_safe(st, tmp, &t->stages, list) {
		if (st->is_new)
			knat_stage_free(st);
		else
			st->deleted = true;
	}
}

/* Give network @n the settings @p (taking them over): address following. */
int knat_txn_set_params(struct knat_txn *t, struct knat_network *n,
			struct knat_params *p)
{
	struct knat_stage *st;

	list_for_each_entry(st, &t->stages, list)
		if (st->n == n && !st->deleted)
			return knat_stage_set(t, st, p);
	knat_params_free(p);
	return -ENOENT;
}

/* ---- commit ---- */

/* The slot of @key in a table of 2^@bits, by multiplicative hashing. */
static unsigned int knat_slot(__be32 key, u8 bits)
{
	return hash_32((__force u32)key, bits);
}

/* Linear probing: the slot after @i. */
static unsigned int knat_slot_next(unsigned int i, u8 bits)
{
	return (i + 1) & (BIT(bits) - 1);
}

/* Each address once in addrs[] and addr_hash[]. */
static void knat_config_add_addr(struct knat_config *cfg, __be32 addr)
{
	unsigned int i;

	for (i = knat_slot(addr, cfg->addr_bits); true;
	     i = knat_slot_next(i, cfg->addr_bits)) {
		if (cfg->addr_hash[i] == addr)
			return;
		if (!cfg->addr_hash[i])
			break;
	}
	cfg->addr_hash[i] = addr;
	cfg->addrs[cfg->n_addrs++] = addr;
}

#define KNAT_BLOCK_MASK	htonl(0xffff0000)

static void knat_config_add_net(struct knat_config *cfg,
				struct knat_network *n)
{
	struct knat_blkent *b;
	unsigned int i, j;
	__be32 block;

	cfg->networks[cfg->n_networks++] = n;
	for (i = knat_slot(n->prefix, cfg->net_bits); true;
	     i = knat_slot_next(i, cfg->net_bits))
		if (!cfg->net_hash[i].n)
			break;
	cfg->net_hash[i].prefix = n->prefix;
	cfg->net_hash[i].mask = n->mask;
	cfg->net_hash[i].n = n;
	for (j = 0; j < cfg->n_plens; j++)
		if (cfg->plen_mask[j] == n->mask)
			break;
	if (j == cfg->n_plens)
		cfg->plen_mask[cfg->n_plens++] = n->mask;

	/* Its /16 block, or the lengths every lookup probes. */
	if ((n->mask & KNAT_BLOCK_MASK) != KNAT_BLOCK_MASK) {
		cfg->short_lens |= BIT_ULL(j);
		return;
	}
	block = n->prefix & KNAT_BLOCK_MASK;
	for (i = knat_slot(block, cfg->net_bits); true;
	     i = knat_slot_next(i, cfg->net_bits)) {
		b = &cfg->blk_hash[i];
		if (!b->lens || b->block == block)
			break;
	}
	b->block = block;
	b->lens |= BIT_ULL(j);
}

static void knat_config_add_ipmap(const struct knat_cmap **tbl, u8 bits,
				  __be32 key, const struct knat_cmap *cm)
{
	unsigned int i;

	for (i = knat_slot(key, bits); true;
	     i = knat_slot_next(i, bits))
		if (!tbl[i])
			break;
	tbl[i] = cm;
}

static void knat_config_add(struct knat_config *cfg, struct knat_network *n,
			    const struct knat_params *p)
{
	unsigned int i;

	knat_config_add_net(cfg, n);
	for (i = 0; i < p->n_addrs; i++)
		knat_config_add_addr(cfg, p->addrs[i]->addr);
	for (i = 0; i < p->n_maps; i++) {
		struct knat_smap *m = p->maps[i];
		__be32 addr = knat_smap_ext_addr(m, p);
		struct knat_cmap *cm;

		/* A default address while the network has none. */
		if (!addr)
			continue;
		knat_config_add_addr(cfg, addr);
		cm = m->proto ? &cfg->pmaps[cfg->n_pmaps++] :
				&cfg->ipmaps[cfg->n_ipmaps++];
		cm->ext_addr = addr;
		cm->proto = m->proto;
		cm->lo = m->ext_min;
		cm->hi = m->ext_max;
		cm->m = m;
		cm->n = n;
		if (!m->proto) {
			knat_config_add_ipmap(cfg->ipm_ext, cfg->ipm_bits,
					      addr, cm);
			knat_config_add_ipmap(cfg->ipm_int, cfg->ipm_bits,
					      m->int_addr, cm);
		}
	}
}

/* The network of prefix length plen_mask[@j] that holds @addr, or NULL. */
static __always_inline struct knat_network *
knat_network_probe(const struct knat_config *cfg, __be32 addr, unsigned int j)
{
	__be32 mask = cfg->plen_mask[j], key = addr & mask;
	const struct knat_netent *e;
	unsigned int i;

	for (i = knat_slot(key, cfg->net_bits); true;
	     i = knat_slot_next(i, cfg->net_bits)) {
		e = &cfg->net_hash[i];
		if (!e->n)
			return NULL;
		if (e->prefix == key && e->mask == mask)
			return e->n;
	}
}

/* Which prefix lengths (plen_mask[] bits) @addr's /16 block holds. */
static u64 knat_block_lens(const struct knat_config *cfg, __be32 addr)
{
	__be32 block = addr & KNAT_BLOCK_MASK;
	const struct knat_blkent *b;
	unsigned int i;

	for (i = knat_slot(block, cfg->net_bits); true;
	     i = knat_slot_next(i, cfg->net_bits)) {
		b = &cfg->blk_hash[i];
		if (!b->lens)
			return 0;
		if (b->block == block)
			return b->lens;
	}
}

/*
 * The network whose internal prefix holds @addr, or NULL.  Under RCU.
 * With one prefix length (the usual case), one probe; with more, one for
 * the address's /16 block, then one per length that block holds.
 */
struct knat_network *knat_network_of(const struct knat_config *cfg,
				     __be32 addr)
{
	struct knat_network *n;
	unsigned int j;
	u64 lens;

	if (cfg->n_plens <= 1)
		return cfg->n_plens ? knat_network_probe(cfg, addr, 0) : NULL;
	lens = cfg->short_lens | knat_block_lens(cfg, addr);
	while (lens) {
		j = __ffs64(lens);
		lens &= lens - 1;
		n = knat_network_probe(cfg, addr, j);
		if (n)
			return n;
	}
	return NULL;
}

/* Is @addr an external address of the namespace?  Under RCU. */
bool knat_is_ext_addr(const struct knat_config *cfg, __be32 addr)
{
	unsigned int i;

	for (i = knat_slot(addr, cfg->addr_bits); true;
	     i = knat_slot_next(i, cfg->addr_bits)) {
		if (cfg->addr_hash[i] == addr)
			return true;
		if (!cfg->addr_hash[i])
			return false;
	}
}

static int knat_cmap_key_cmp(__be32 a1, u8 p1, u16 l1, __be32 a2, u8 p2,
			     u16 l2)
{
	if (a1 != a2)
		return (__force u32)a1 < (__force u32)a2 ? -1 : 1;
	if (p1 != p2)
		return p1 < p2 ? -1 : 1;
	return l1 < l2 ? -1 : l1 > l2;
}

static int knat_cmap_cmp(const void *a, const void *b)
{
	const struct knat_cmap *x = a, *y = b;

	return knat_cmap_key_cmp(x->ext_addr, x->proto, x->lo, y->ext_addr,
				 y->proto, y->lo);
}

/* The port mapping of @port of @addr, or NULL.  Under RCU. */
const struct knat_cmap *knat_cmap_port(const struct knat_config *cfg,
				       u8 proto, __be32 addr, u16 port)
{
	const struct knat_cmap *cm;
	unsigned int lo = 0, hi;

	if (!cfg || !cfg->n_pmaps)
		return NULL;
	/* The last mapping that starts at or before the port. */
	hi = cfg->n_pmaps;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		cm = &cfg->pmaps[mid];
		if (knat_cmap_key_cmp(cm->ext_addr, cm->proto, cm->lo, addr,
				      proto, port) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	cm = &cfg->pmaps[lo - 1];
	if (cm->ext_addr != addr || cm->proto != proto || port > cm->hi)
		return NULL;
	return cm;
}

/* The 1:1 mapping of external address @addr, or NULL.  Under RCU. */
const struct knat_cmap *knat_cmap_ip_ext(const struct knat_config *cfg,
					 __be32 addr)
{
	const struct knat_cmap *cm;
	unsigned int i;

	if (!cfg->n_ipmaps)
		return NULL;
	for (i = knat_slot(addr, cfg->ipm_bits); true;
	     i = knat_slot_next(i, cfg->ipm_bits)) {
		cm = cfg->ipm_ext[i];
		if (!cm || cm->ext_addr == addr)
			return cm;
	}
}

/* The 1:1 mapping of internal address @addr, or NULL.  Under RCU. */
const struct knat_cmap *knat_cmap_ip_int(const struct knat_config *cfg,
					 __be32 addr)
{
	const struct knat_cmap *cm;
	unsigned int i;

	if (!cfg->n_ipmaps)
		return NULL;
	for (i = knat_slot(addr, cfg->ipm_bits); true;
	     i = knat_slot_next(i, cfg->ipm_bits)) {
		cm = cfg->ipm_int[i];
		if (!cm || cm->m->int_addr == addr)
			return cm;
	}
}

/* Bits of a table of at least twice @n slots (so never full). */
static u8 knat_table_bits(unsigned int n)
{
	return ilog2(roundup_pow_of_two(max(2 * n, 2U)));
}

/* The packet path's view of the staged networks (NULL: out of memory). */
static struct knat_config *knat_txn_config(struct knat_txn *t)
{
	unsigned int n_nets = 0, n_addrs = 0, n_maps = 0;
	u8 net_bits, addr_bits, ipm_bits;
	const struct knat_params *p;
	struct knat_config *cfg;
	struct knat_stage *st;

	list_for_each_entry(st, &t->stages, list) {
		if (!st->deleted) {
			p = knat_stage_params(t, st);
			n_nets++;
			n_addrs += p->n_addrs + p->n_maps;
			n_maps += p->n_maps;
		}
	}

	/*
	 * One allocation: networks, the mappings (twice: port, 1:1), the
	 * tables of networks and 1:1 mappings, then the addresses and their
	 * table (the pointer-aligned parts first).
	 */
	net_bits = knat_table_bits(n_nets);
	addr_bits = knat_table_bits(n_addrs);
	ipm_bits = knat_table_bits(n_maps);
	cfg = kvzalloc(struct_size(cfg, networks, n_nets) +
		       2 * n_maps * sizeof(struct knat_cmap) +
		       BIT(net_bits) * (sizeof(struct knat_netent) +
					sizeof(struct knat_blkent)) +
		       2 * BIT(ipm_bits) * sizeof(struct knat_cmap *) +
		       (n_addrs + BIT(addr_bits)) * sizeof(__be32) +
		       __alignof__(struct knat_cmap), GFP_KERNEL);
	if (!cfg)
		return NULL;
	cfg->pmaps = PTR_ALIGN((struct knat_cmap *)&cfg->networks[n_nets],
			       __alignof__(struct knat_cmap));
	cfg->ipmaps = cfg->pmaps + n_maps;
	cfg->net_hash = (struct knat_netent *)(cfg->ipmaps + n_maps);
	cfg->blk_hash = (struct knat_blkent *)(cfg->net_hash + BIT(net_bits));
	cfg->ipm_ext = (const struct knat_cmap **)(cfg->blk_hash +
						   BIT(net_bits));
	cfg->ipm_int = cfg->ipm_ext + BIT(ipm_bits);
	cfg->addrs = (__be32 *)(cfg->ipm_int + BIT(ipm_bits));
	cfg->addr_hash = cfg->addrs + n_addrs;
	cfg->net_bits = net_bits;
	cfg->addr_bits = addr_bits;
	cfg->ipm_bits = ipm_bits;
	list_for_each_entry(st, &t->stages, list)
		if (!st->deleted)
			knat_config_add(cfg, st->n, knat_stage_params(t, st));
	sort(cfg->pmaps, cfg->n_pmaps, sizeof(*cfg->pmaps), knat_cmap_cmp,
	     NULL);
	return cfg;
}

static bool knat_params_has_addr(const struct knat_params *p, __be32 addr)
{
	unsigned int i;

	for (i = 0; i < p->n_addrs; i++)
		if (p->addrs[i]->addr == addr)
			return true;
	return false;
}

/* Remove the sessions of @n, those on @ext_addr only if not 0. */
static void knat_flush_network(struct knat_net *kn, struct knat_network *n,
			       __be32 ext_addr)
{
	struct knat_filter f = {
		.network_id = n->id,
		.ext_addr = ext_addr,
		.has = ext_addr ? KNAT_FILTER_EXT_ADDR : 0,
	};

	knat_session_flush(kn, &f);
}

/*
 * The counters of a network going away live on in the namespace's, so
 * that the totals never go backwards.
 */
void knat_stats_fold(struct knat_net *kn, struct knat_network *n)
{
	u64 cnt[KNAT_CNT_MAX + 1] = {};
	int i;

	knat_stats_sum(n->stats, cnt);
	for (i = 0; i <= KNAT_CNT_MAX; i++)
		this_cpu_add(kn->stats->cnt[i], cnt[i]);
}

static void knat_network_free(struct knat_network *n)
{
	knat_params_free(rcu_dereference_protected(n->params, true));
	knat_embryos_free(n);
	free_percpu(n->stats);
	kfree(n);
}

static bool knat_params_has_map(const struct knat_params *p,
				const struct knat_smap *m)
{
	unsigned int i;

	for (i = 0; i < p->n_maps; i++)
		if (p->maps[i] == m)
			return true;
	return false;
}

/* End the sessions of port mapping @m of @n, which had settings @p. */
static void knat_flush_map(struct knat_net *kn, struct knat_network *n,
			   const struct knat_params *p,
			   const struct knat_smap *m)
{
	struct knat_filter f = {
		.network_id = n->id,
		.proto = m->proto,
		.ext_addr = knat_smap_ext_addr(m, p),
		.ext_lo = m->ext_min,
		.ext_hi = m->ext_max,
		.has = KNAT_FILTER_EXT_ADDR | KNAT_FILTER_EXT_RANGE |
		       KNAT_FILTER_STATIC,
	};

	if (m->proto && f.ext_addr)
		knat_session_flush(kn, &f);
}

/*
 * After the commit's grace period: flush the sessions of a deleted network,
 * those of a changed one on addresses it no longer has, and those of the
 * port mappings it no longer has.
 */
static void knat_stage_flush(struct knat_net *kn, struct knat_stage *st)
{
	const struct knat_params *now;
	unsigned int i;

	if (st->deleted) {
		knat_flush_network(kn, st->n, 0);
		WARN_ON(atomic_read(&st->n->n_sessions));
		knat_nl_notify_network(kn, st->n, KNAT_CMD_NETWORK_DEL);
		return;
	}
	if (st->is_new || !st->p)
		return;
	now = rcu_dereference_protected(st->n->params,
					lockdep_is_held(&kn->lock));
	for (i = 0; i < st->p->n_addrs; i++)
		if (!knat_params_has_addr(now, st->p->addrs[i]->addr))
			knat_flush_network(kn, st->n, st->p->addrs[i]->addr);
	for (i = 0; i < st->p->n_maps; i++)
		if (!knat_params_has_map(now, st->p->maps[i]))
			knat_flush_map(kn, st->n, st->p, st->p->maps[i]);
}

/*
 * Events for the mappings a committed stage added (@added) or deleted: the
 * old settings are in st->p (NULL for a new network).
 */
static void knat_stage_notify_maps(struct knat_net *kn, struct knat_stage *st,
				   bool added)
{
	const struct knat_params *now, *old = st->p;
	unsigned int i;

	now = rcu_dereference_protected(st->n->params,
					lockdep_is_held(&kn->lock));
	if (!added) {
		for (i = 0; old && i < old->n_maps; i++)
			if (!knat_params_has_map(now, old->maps[i]))
				knat_nl_notify_map(kn, st->n, old,
						   old->maps[i],
						   KNAT_CMD_MAP_DEL);
		return;
	}
	for (i = 0; i < now->n_maps; i++)
		if (!old || !knat_params_has_map(old, now->maps[i]))
			knat_nl_notify_map(kn, st->n, now, now->maps[i],
					   KNAT_CMD_MAP_NEW);
}

/*
 * Make the staged state the configuration.  Only allocations that can
 * fail come before the first visible change.  Frees @t.
 */
int knat_txn_commit(struct knat_txn *t)
{
	struct knat_net *kn = t->kn;
	struct knat_stage *st, *tmp;
	struct knat_config *cfg, *old;
	bool any = false, flush = false;
	int err;

	list_for_each_entry(st, &t->stages, list)
		any |= !st->deleted;

	cfg = knat_txn_config(t);
	if (!cfg) {
		knat_txn_abort(t);
		return -ENOMEM;
	}
	if (any && !kn->defrag) {
		/* Fragments are reassembled before knat sees them. */
		err = nf_defrag_ipv4_enable(kn->net);
		if (err) {
			NL_SET_ERR_MSG(t->extack,
				       "cannot enable IPv4 defragmentation");
			kvfree(cfg);
			knat_txn_abort(t);
			return err;
		}
		kn->defrag = true;
	}

	/*
	 * A new network is reachable by packets (and the collector) as soon
	 * as the view is published: its settings and id come first.
	 */
	list_for_each_entry(st, &t->stages, list) {
		if (st->is_new && !st->deleted) {
			st->n->id = ++kn->next_id;
			rcu_assign_pointer(st->n->params, st->p);
			st->p = NULL;
		}
	}

	/* Publish: the view first, so new addresses are known inbound. */
	old = rcu_replace_pointer(kn->config, cfg, lockdep_is_held(&kn->lock));
	if (old)
		kvfree_rcu(old, rcu);

	list_for_each_entry(st, &t->stages, list) {
		if (st->deleted) {
			list_del(&st->n->list);
			kn->n_networks--;
			flush = true;
			continue;
		}
		if (st->is_new) {
			list_add_tail(&st->n->list, &kn->networks);
			kn->n_networks++;
			knat_nl_notify_network(kn, st->n, KNAT_CMD_NETWORK_NEW);
			knat_stage_notify_maps(kn, st, true);
			continue;
		}
		if (st->p) {
			/* Keep the old settings in st->p until they are freed. */
			st->p = rcu_replace_pointer(st->n->params, st->p,
						    lockdep_is_held(&kn->lock));
			flush = true;
		}
		/*
		 * What is new is told now, before the grace periods below:
		 * sessions made or expired under the new settings must not
		 * be told before the settings themselves.
		 */
		if (st->changed)
			knat_nl_notify_network(kn, st->n, KNAT_CMD_NETWORK_SET);
		if (st->p && (st->changed || st->maps_changed))
			knat_stage_notify_maps(kn, st, true);
	}
	if (any)
		knat_gc_settings_changed(kn);

	if (flush) {
		/*
		 * After a grace period no packet uses the old view or
		 * settings: nothing creates sessions of deleted networks or
		 * on addresses that went (see knat_session_create_out()).
		 */
		synchronize_rcu();
		list_for_each_entry(st, &t->stages, list)
			knat_stage_flush(kn, st);
		/* Readers may still hold the sessions just unlinked. */
		synchronize_rcu();
	}

	list_for_each_entry_safe(st, tmp, &t->stages, list) {
		if (st->deleted) {
			knat_stats_fold(kn, st->n);
			knat_network_free(st->n);
		} else if (st->p && (st->changed || st->maps_changed)) {
			/* Mappings that went: after their sessions. */
			knat_stage_notify_maps(kn, st, false);
		}
		/* Published or freed: the stage no longer owns them. */
		st->is_new = false;
		knat_params_free(st->p);
		st->p = NULL;
		list_del(&st->list);
		kfree(st);
	}
	kfree(t);

	if (!kn->n_networks && kn->defrag) {
		nf_defrag_ipv4_disable(kn->net);
		kn->defrag = false;
	}
	return 0;
}

/* The namespace is going, its hooks gone: free every network. */
void knat_config_exit_net(struct knat_net *kn)
{
	struct knat_network *n, *tmp;
	struct knat_config *cfg;
	LIST_HEAD(gone);

	mutex_lock(&kn->lock);
	cfg = rcu_replace_pointer(kn->config, NULL,
				  lockdep_is_held(&kn->lock));
	list_splice_init(&kn->networks, &gone);
	kn->n_networks = 0;
	synchronize_rcu();
	list_for_each_entry(n, &gone, list)
		knat_flush_network(kn, n, 0);
	synchronize_rcu();
	list_for_each_entry_safe(n, tmp, &gone, list)
		knat_network_free(n);
	if (kn->defrag) {
		nf_defrag_ipv4_disable(kn->net);
		kn->defrag = false;
	}
	mutex_unlock(&kn->lock);
	kvfree(cfg);
}
