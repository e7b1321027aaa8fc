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
#include <linux/inetdevice.h>
#include <linux/slab.h>
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
	bool changed;
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

	st->n = n;
	st->is_new = true;
	list_add_tail(&st->list, &t->stages);
	return knat_stage_set(t, st, p);

err_free:
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

/*
 * One change: @cmd (KNAT_CMD_NETWORK_NEW, _SET or _DEL) with attributes
 * @tb, parsed from @nest (NULL for a top-level request).
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

static void knat_config_add(struct knat_config *cfg, struct knat_network *n,
			    const struct knat_params *p)
{
	unsigned int i, j;

	cfg->networks[cfg->n_networks++] = n;
	for (i = 0; i < p->n_addrs; i++) {
		for (j = 0; j < cfg->n_addrs; j++)
			if (cfg->addrs[j] == p->addrs[i]->addr)
				break;
		if (j == cfg->n_addrs)
			cfg->addrs[cfg->n_addrs++] = p->addrs[i]->addr;
	}
}

/* The packet path's view of the staged networks (NULL: out of memory). */
static struct knat_config *knat_txn_config(struct knat_txn *t)
{
	unsigned int n_nets = 0, n_addrs = 0;
	struct knat_config *cfg;
	struct knat_stage *st;

	list_for_each_entry(st, &t->stages, list) {
		if (!st->deleted) {
			n_nets++;
			n_addrs += knat_stage_params(t, st)->n_addrs;
		}
	}

	cfg = kzalloc(struct_size(cfg, networks, n_nets) +
		      n_addrs * sizeof(__be32), GFP_KERNEL);
	if (!cfg)
		return NULL;
	cfg->addrs = (__be32 *)&cfg->networks[n_nets];
	list_for_each_entry(st, &t->stages, list)
		if (!st->deleted)
			knat_config_add(cfg, st->n, knat_stage_params(t, st));
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
	free_percpu(n->stats);
	kfree(n);
}

/*
 * After the commit's grace period: flush the sessions of a deleted network,
 * and those of a changed one on addresses it no longer has.
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
			kfree(cfg);
			knat_txn_abort(t);
			return err;
		}
		kn->defrag = true;
	}

	/* Publish: the view first, so new addresses are known inbound. */
	old = rcu_replace_pointer(kn->config, cfg, lockdep_is_held(&kn->lock));
	if (old)
		kfree_rcu(old, rcu);

	list_for_each_entry(st, &t->stages, list) {
		if (st->deleted) {
			list_del(&st->n->list);
			kn->n_networks--;
			flush = true;
			continue;
		}
		if (st->is_new) {
			st->n->id = ++kn->next_id;
			rcu_assign_pointer(st->n->params, st->p);
			st->p = NULL;
			list_add_tail(&st->n->list, &kn->networks);
			kn->n_networks++;
			continue;
		}
		if (st->p) {
			/* Keep the old settings in st->p until they are freed. */
			st->p = rcu_replace_pointer(st->n->params, st->p,
						    lockdep_is_held(&kn->lock));
			flush = true;
		}
	}

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
		} else if (st->is_new) {
			knat_nl_notify_network(kn, st->n, KNAT_CMD_NETWORK_NEW);
		} else if (st->changed) {
			knat_nl_notify_network(kn, st->n, KNAT_CMD_NETWORK_SET);
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
	kfree(cfg);
}
