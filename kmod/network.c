// SPDX-License-Identifier: GPL-2.0
/*
 * knat: NAT networks, their settings and external addresses.
 *
 * Everything here runs in process context under knat_net.lock.  The packet
 * path sees a network's settings through knat_network.params and the list
 * of networks through knat_net.config, both swapped whole under RCU.
 */
#include <linux/inetdevice.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <net/netfilter/ipv4/nf_defrag_ipv4.h>

#include "compat.h"
#include "knat.h"

static const u32 knat_default_timeouts[KNAT_TO_MAX] = {
	[KNAT_TO_TCP_EST]	= 7440,	/* RFC 5382 REQ-5 */
	[KNAT_TO_TCP_TRANS]	= 240,	/* RFC 5382 REQ-5 */
	[KNAT_TO_UDP]		= 300,	/* RFC 4787 REQ-5 */
	[KNAT_TO_ICMP]		= 60,	/* RFC 5508 REQ-2 */
};

/* 64 sessions per MiB of RAM, between 4096 and 2^20. */
static u32 knat_default_max_sessions(void)
{
	u64 mib = (u64)totalram_pages() >> (20 - PAGE_SHIFT);

	return clamp_t(u64, mib * 64, 4096, 1U << 20);
}

void knat_params_default(struct knat_params *p)
{
	int i;

	memset(p, 0, sizeof(*p));
	p->filtering = KNAT_FILTER_ADDRESS_DEPENDENT;
	p->max_sessions = knat_default_max_sessions();
	for (i = 0; i < KNAT_TO_MAX; i++) {
		p->timeout_s[i] = knat_default_timeouts[i];
		p->timeout[i] = knat_default_timeouts[i] * HZ;
	}
}

/* ---- external addresses ---- */

static void knat_extaddr_free_rcu(struct rcu_head *head)
{
	struct knat_extaddr *ea = container_of(head, struct knat_extaddr, rcu);
	int i;

	for (i = 0; i < KNAT_NPROTO; i++)
		bitmap_free(ea->ports[i]);
	kfree(ea);
}

static struct knat_extaddr *knat_extaddr_get(struct knat_net *kn, __be32 addr)
{
	struct knat_extaddr *ea;
	int i;

	list_for_each_entry(ea, &kn->extaddrs, list) {
		if (ea->addr == addr) {
			refcount_inc(&ea->users);
			return ea;
		}
	}

	ea = kzalloc(sizeof(*ea), GFP_KERNEL);
	if (!ea)
		return NULL;
	for (i = 0; i < KNAT_NPROTO; i++) {
		ea->ports[i] = bitmap_zalloc(65536, GFP_KERNEL);
		if (!ea->ports[i])
			goto err;
		/* Port (identifier) 0 is never handed out. */
		__set_bit(0, ea->ports[i]);
	}
	ea->addr = addr;
	refcount_set(&ea->users, 1);
	list_add(&ea->list, &kn->extaddrs);
	return ea;

err:
	knat_extaddr_free_rcu(&ea->rcu);
	return NULL;
}

static void knat_extaddr_put(struct knat_extaddr *ea)
{
	if (refcount_dec_and_test(&ea->users)) {
		list_del(&ea->list);
		call_rcu(&ea->rcu, knat_extaddr_free_rcu);
	}
}

/* ---- settings ---- */

struct knat_params *knat_params_clone(const struct knat_params *old)
{
	struct knat_params *p;
	unsigned int i;

	p = kmemdup(old, sizeof(*old), GFP_KERNEL);
	if (!p)
		return NULL;
	for (i = 0; i < p->n_addrs; i++)
		refcount_inc(&p->addrs[i]->users);
	return p;
}

/* Under lock; the packet path may still read @p until a grace period. */
void knat_params_free(struct knat_params *p)
{
	unsigned int i;

	if (!p)
		return;
	for (i = 0; i < p->n_addrs; i++)
		knat_extaddr_put(p->addrs[i]);
	kfree_rcu(p, rcu);
}

int knat_params_set_addrs(struct knat_net *kn, struct knat_params *p,
			  const __be32 *addrs, unsigned int n)
{
	struct knat_extaddr *ea[KNAT_EXT_ADDRS_MAX];
	unsigned int i;

	for (i = 0; i < n; i++) {
		ea[i] = knat_extaddr_get(kn, addrs[i]);
		if (!ea[i])
			goto err;
	}
	for (i = 0; i < p->n_addrs; i++)
		knat_extaddr_put(p->addrs[i]);
	memcpy(p->addrs, ea, n * sizeof(ea[0]));
	p->n_addrs = n;
	return 0;

err:
	while (i--)
		knat_extaddr_put(ea[i]);
	return -ENOMEM;
}

/* The primary IPv4 address of @dev, or 0. */
static __be32 knat_dev_primary_addr(struct net_device *dev)
{
	const struct in_ifaddr *ifa;
	struct in_device *in_dev;
	__be32 addr = 0;

	rcu_read_lock();
	in_dev = __in_dev_get_rcu(dev);
	if (in_dev) {
		in_dev_for_each_ifa_rcu(ifa, in_dev) {
			if (!(ifa->ifa_flags & IFA_F_SECONDARY)) {
				addr = ifa->ifa_local;
				break;
			}
		}
	}
	rcu_read_unlock();
	return addr;
}

/* Follow interface @name: take its primary address, if it has one. */
int knat_params_set_dev(struct knat_net *kn, struct knat_params *p,
			const char *name, struct netlink_ext_ack *extack)
{
	struct net_device *dev;
	__be32 addr;

	dev = dev_get_by_name(kn->net, name);
	if (!dev) {
		NL_SET_ERR_MSG_FMT(extack, "no interface named \"%s\"",
				   name);
		return -ENODEV;
	}
	addr = knat_dev_primary_addr(dev);
	dev_put(dev);

	strscpy(p->ext_dev, name, sizeof(p->ext_dev));
	return knat_params_set_addrs(kn, p, &addr, addr ? 1 : 0);
}

/* ---- the packet path's view ---- */

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

/*
 * Build the packet path's view of the networks, with @add added, @skip
 * left out, and @n taking settings @p (each may be NULL).  Nothing is
 * published: on failure nothing has changed.
 */
static struct knat_config *knat_config_build(struct knat_net *kn,
					     struct knat_network *add,
					     struct knat_network *skip,
					     struct knat_network *n,
					     const struct knat_params *p)
{
	unsigned int max_nets = kn->n_networks + 1;
	unsigned int max_addrs = KNAT_EXT_ADDRS_MAX * 2;
	const struct knat_params *np;
	struct knat_config *cfg;
	struct knat_network *it;

	list_for_each_entry(it, &kn->networks, list) {
		np = rcu_dereference_protected(it->params,
					       lockdep_is_held(&kn->lock));
		max_addrs += np->n_addrs;
	}

	cfg = kzalloc(struct_size(cfg, networks, max_nets) +
		      max_addrs * sizeof(__be32), GFP_KERNEL);
	if (!cfg)
		return NULL;
	cfg->addrs = (__be32 *)&cfg->networks[max_nets];

	list_for_each_entry(it, &kn->networks, list) {
		if (it == skip)
			continue;
		np = rcu_dereference_protected(it->params,
					       lockdep_is_held(&kn->lock));
		knat_config_add(cfg, it, it == n ? p : np);
	}
	if (add) {
		np = rcu_dereference_protected(add->params,
					       lockdep_is_held(&kn->lock));
		knat_config_add(cfg, add, np);
	}
	return cfg;
}

static void knat_config_publish(struct knat_net *kn, struct knat_config *cfg)
{
	struct knat_config *old;

	old = rcu_replace_pointer(kn->config, cfg, lockdep_is_held(&kn->lock));
	if (old)
		kfree_rcu(old, rcu);
}

/* ---- networks ---- */

struct knat_network *knat_network_find(struct knat_net *kn, const char *name)
{
	struct knat_network *n;

	list_for_each_entry(n, &kn->networks, list)
		if (!strcmp(n->name, name))
			return n;
	return NULL;
}

static bool knat_prefix_contains(__be32 prefix, __be32 mask, __be32 addr)
{
	return (addr & mask) == prefix;
}

/*
 * Refuse settings that make two networks ambiguous: overlapping internal
 * prefixes, or an external address inside an internal prefix.  @self is the
 * network being changed (NULL for a new one).
 */
static int knat_check_conflicts(struct knat_net *kn, struct knat_network *self,
				__be32 prefix, __be32 mask,
				const struct knat_params *p,
				struct netlink_ext_ack *extack)
{
	struct knat_network *o;
	unsigned int i;

	for (i = 0; i < p->n_addrs; i++) {
		if (knat_prefix_contains(prefix, mask, p->addrs[i]->addr)) {
			NL_SET_ERR_MSG_FMT(extack,
					   "%pI4 is inside the internal prefix",
					   &p->addrs[i]->addr);
			return -EINVAL;
		}
	}

	list_for_each_entry(o, &kn->networks, list) {
		const struct knat_params *op;
		__be32 m;

		if (o == self)
			continue;
		m = mask & o->mask;
		if ((prefix & m) == (o->prefix & m)) {
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
						   &p->addrs[i]->addr,
						   o->name);
				return -EINVAL;
			}
		}
		op = rcu_dereference_protected(o->params,
					       lockdep_is_held(&kn->lock));
		for (i = 0; i < op->n_addrs; i++) {
			if (knat_prefix_contains(prefix, mask,
						 op->addrs[i]->addr)) {
				NL_SET_ERR_MSG_FMT(extack,
						   "prefix contains %pI4, an external address of %s",
						   &op->addrs[i]->addr,
						   o->name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* Takes ownership of @p, on success and on failure. */
int knat_network_new(struct knat_net *kn, const char *name, __be32 prefix,
		     u8 plen, struct knat_params *p,
		     struct netlink_ext_ack *extack)
{
	__be32 mask = inet_make_mask(plen);
	struct knat_config *cfg;
	struct knat_network *n;
	int err;

	if (knat_network_find(kn, name)) {
		NL_SET_ERR_MSG_FMT(extack, "network \"%s\" exists", name);
		err = -EEXIST;
		goto err_params;
	}
	err = knat_check_conflicts(kn, NULL, prefix, mask, p, extack);
	if (err)
		goto err_params;

	err = -ENOMEM;
	n = kzalloc(sizeof(*n), GFP_KERNEL);
	if (!n)
		goto err_params;
	n->stats = alloc_percpu(struct knat_stats);
	if (!n->stats)
		goto err_free;

	strscpy(n->name, name, sizeof(n->name));
	n->id = kn->next_id + 1;
	n->prefix = prefix;
	n->mask = mask;
	n->plen = plen;
	atomic_set(&n->n_sessions, 0);
	RCU_INIT_POINTER(n->params, p);

	cfg = knat_config_build(kn, n, NULL, NULL, NULL);
	if (!cfg)
		goto err_stats;

	if (!kn->defrag) {
		/* Fragments are reassembled before knat sees them. */
		err = nf_defrag_ipv4_enable(kn->net);
		if (err) {
			NL_SET_ERR_MSG(extack,
				       "cannot enable IPv4 defragmentation");
			kfree(cfg);
			goto err_stats;
		}
		kn->defrag = true;
	}

	kn->next_id++;
	list_add_tail(&n->list, &kn->networks);
	kn->n_networks++;
	knat_config_publish(kn, cfg);
	return 0;

err_stats:
	free_percpu(n->stats);
err_free:
	kfree(n);
err_params:
	knat_params_free(p);
	return err;
}

static bool knat_params_has_addr(const struct knat_params *p, __be32 addr)
{
	unsigned int i;

	for (i = 0; i < p->n_addrs; i++)
		if (p->addrs[i]->addr == addr)
			return true;
	return false;
}

/*
 * Replace a network's settings.  Takes ownership of @p.  Sessions on
 * external addresses the network no longer has are flushed; the others
 * follow the new timeouts from their next look.
 */
int knat_network_set(struct knat_net *kn, struct knat_network *n,
		     struct knat_params *p, struct netlink_ext_ack *extack)
{
	struct knat_params *old;
	struct knat_config *cfg;
	bool gone = false;
	unsigned int i;
	int err;

	err = knat_check_conflicts(kn, n, n->prefix, n->mask, p, extack);
	if (err)
		goto err_params;
	err = -ENOMEM;
	cfg = knat_config_build(kn, NULL, NULL, n, p);
	if (!cfg)
		goto err_params;

	old = rcu_replace_pointer(n->params, p, lockdep_is_held(&kn->lock));
	knat_config_publish(kn, cfg);

	for (i = 0; i < old->n_addrs; i++)
		if (!knat_params_has_addr(p, old->addrs[i]->addr))
			gone = true;
	if (gone) {
		/*
		 * After a grace period no packet creates sessions on the old
		 * addresses (see knat_session_create_out()): flush them.
		 */
		synchronize_rcu();
		for (i = 0; i < old->n_addrs; i++)
			if (!knat_params_has_addr(p, old->addrs[i]->addr))
				knat_session_flush(kn, n, old->addrs[i]->addr);
	}
	knat_params_free(old);
	return 0;

err_params:
	knat_params_free(p);
	return err;
}

static void knat_network_free(struct knat_network *n)
{
	knat_params_free(rcu_dereference_protected(n->params, true));
	free_percpu(n->stats);
	kfree(n);
}

/* Take @n out of the packet path, flush its sessions and free it. */
static void knat_network_destroy(struct knat_net *kn, struct knat_network *n)
{
	list_del(&n->list);
	kn->n_networks--;

	synchronize_rcu();
	knat_session_flush(kn, n, 0);
	WARN_ON(atomic_read(&n->n_sessions));
	/* Readers may still hold the sessions just unlinked. */
	synchronize_rcu();
	knat_network_free(n);

	if (!kn->n_networks && kn->defrag) {
		nf_defrag_ipv4_disable(kn->net);
		kn->defrag = false;
	}
}

int knat_network_del(struct knat_net *kn, struct knat_network *n)
{
	struct knat_config *cfg;

	cfg = knat_config_build(kn, NULL, n, NULL, NULL);
	if (!cfg)
		return -ENOMEM;
	knat_config_publish(kn, cfg);
	knat_network_destroy(kn, n);
	return 0;
}

void knat_stats_sum(struct knat_stats __percpu *stats, u64 *out)
{
	int cpu, i;

	for_each_possible_cpu(cpu) {
		const struct knat_stats *s = per_cpu_ptr(stats, cpu);

		for (i = 0; i <= KNAT_CNT_MAX; i++)
			out[i] += READ_ONCE(s->cnt[i]);
	}
}

/* ---- following interface addresses ---- */

static void knat_addr_work(struct work_struct *work)
{
	struct knat_net *kn = container_of(work, struct knat_net, addr_work);
	struct knat_network *n;

	mutex_lock(&kn->lock);
	list_for_each_entry(n, &kn->networks, list) {
		const struct knat_params *cur;
		struct knat_params *p;

		cur = rcu_dereference_protected(n->params,
						lockdep_is_held(&kn->lock));
		if (!cur->ext_dev[0])
			continue;
		p = knat_params_clone(cur);
		if (!p)
			break;
		/* A vanished interface simply has no address. */
		if (knat_params_set_dev(kn, p, cur->ext_dev, NULL) == -ENODEV)
			knat_params_set_addrs(kn, p, NULL, 0);
		if (p->n_addrs == cur->n_addrs &&
		    (!p->n_addrs || p->addrs[0] == cur->addrs[0])) {
			knat_params_free(p);
			continue;
		}
		if (knat_network_set(kn, n, p, NULL))
			pr_warn_ratelimited("knat: network %s: cannot follow the address of %s\n",
					    n->name, cur->ext_dev);
	}
	mutex_unlock(&kn->lock);
}

static int knat_inetaddr_event(struct notifier_block *nb, unsigned long event,
			       void *ptr)
{
	struct in_ifaddr *ifa = ptr;
	struct net_device *dev = ifa->ifa_dev->dev;
	struct knat_net *kn = knat_pernet(dev_net(dev));
	const struct knat_config *cfg;
	unsigned int i;

	if (event != NETDEV_UP && event != NETDEV_DOWN)
		return NOTIFY_DONE;

	rcu_read_lock();
	cfg = rcu_dereference(kn->config);
	for (i = 0; cfg && i < cfg->n_networks; i++) {
		const struct knat_params *p;

		p = rcu_dereference(cfg->networks[i]->params);
		if (!strcmp(p->ext_dev, dev->name)) {
			schedule_work(&kn->addr_work);
			break;
		}
	}
	rcu_read_unlock();
	return NOTIFY_DONE;
}

static struct notifier_block knat_inetaddr_nb = {
	.notifier_call = knat_inetaddr_event,
};

int __init knat_notifiers_register(void)
{
	return register_inetaddr_notifier(&knat_inetaddr_nb);
}

void knat_notifiers_unregister(void)
{
	unregister_inetaddr_notifier(&knat_inetaddr_nb);
}

/* ---- per namespace ---- */

int knat_network_init_net(struct knat_net *kn)
{
	mutex_init(&kn->lock);
	INIT_LIST_HEAD(&kn->networks);
	INIT_LIST_HEAD(&kn->extaddrs);
	INIT_WORK(&kn->addr_work, knat_addr_work);
	kn->n_networks = 0;
	kn->next_id = 0;
	kn->defrag = false;
	RCU_INIT_POINTER(kn->config, NULL);
	return 0;
}

/* The namespace's hooks are gone: delete every network. */
void knat_network_exit_net(struct knat_net *kn)
{
	struct knat_network *n, *tmp;
	struct knat_config *cfg;

	cancel_work_sync(&kn->addr_work);
	mutex_lock(&kn->lock);
	cfg = rcu_replace_pointer(kn->config, NULL,
				  lockdep_is_held(&kn->lock));
	list_for_each_entry_safe(n, tmp, &kn->networks, list)
		knat_network_destroy(kn, n);
	mutex_unlock(&kn->lock);
	kfree_rcu(cfg, rcu);
	WARN_ON(kn->defrag || !list_empty(&kn->extaddrs));
}
