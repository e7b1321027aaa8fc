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

#include "compat.h"
#include "knat.h"

static const u32 knat_default_timeouts[KNAT_TO_MAX] = {
	[KNAT_TO_TCP_EST]	= 7440,	/* RFC 5382 REQ-5 */
	[KNAT_TO_TCP_TRANS]	= 240,	/* RFC 5382 REQ-5 */
	[KNAT_TO_UDP]		= 300,	/* RFC 4787 REQ-5 */
	[KNAT_TO_ICMP]		= 60,	/* RFC 5508 REQ-2 */
	[KNAT_TO_TCP_SYN]	= 30,	/* below conntrack's SYN_RECV 60 s */
	[KNAT_TO_OTHER]		= 600,	/* conntrack's generic timeout */
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
	p->hairpin = true;
	p->inbound_share = 50;
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
	for (i = 0; i < KNAT_HOLD_PROTOS; i++) {
		bitmap_free(ea->held[i][0]);
		bitmap_free(ea->held[i][1]);
	}
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
	for (i = 0; i < KNAT_HOLD_PROTOS; i++) {
		ea->held[i][0] = bitmap_zalloc(65536, GFP_KERNEL);
		ea->held[i][1] = bitmap_zalloc(65536, GFP_KERNEL);
		if (!ea->held[i][0] || !ea->held[i][1])
			goto err;
		ea->hold_epoch[i] = jiffies;
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
	/* Never the old array, even when it is empty: it is the old's own. */
	p->maps = NULL;
	if (p->n_maps) {
		p->maps = kmemdup(old->maps, p->n_maps * sizeof(p->maps[0]),
				  GFP_KERNEL);
		if (!p->maps) {
			kfree(p);
			return NULL;
		}
	}
	for (i = 0; i < p->n_addrs; i++)
		refcount_inc(&p->addrs[i]->users);
	for (i = 0; i < p->n_maps; i++)
		refcount_inc(&p->maps[i]->ref);
	return p;
}

static void knat_smap_free_rcu(struct rcu_head *head)
{
	struct knat_smap *m = container_of(head, struct knat_smap, rcu);

	free_percpu(m->stats);
	kfree(m);
}

/* The packet path may still read @m until a grace period. */
void knat_smap_put(struct knat_smap *m)
{
	if (refcount_dec_and_test(&m->ref))
		call_rcu(&m->rcu, knat_smap_free_rcu);
}

/* Under lock; the packet path may still read @p until a grace period. */
void knat_params_free(struct knat_params *p)
{
	unsigned int i;

	if (!p)
		return;
	for (i = 0; i < p->n_addrs; i++)
		knat_extaddr_put(p->addrs[i]);
	for (i = 0; i < p->n_maps; i++)
		knat_smap_put(p->maps[i]);
	/* The array is not read by the packet path (see knat_config). */
	kfree(p->maps);
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

/* ---- networks ---- */

struct knat_network *knat_network_find(struct knat_net *kn, const char *name)
{
	struct knat_network *n;

	list_for_each_entry(n, &kn->networks, list)
		if (!strcmp(n->name, name))
			return n;
	return NULL;
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
	struct knat_txn *t;
	bool changed = false;

	mutex_lock(&kn->lock);
	t = knat_txn_begin(kn, NULL);
	if (!t)
		goto out;
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
		if (!knat_txn_set_params(t, n, p))
			changed = true;
	}
	if (!changed)
		knat_txn_abort(t);
	else if (knat_txn_commit(t))
		pr_warn_ratelimited("knat: cannot follow an interface's address\n");
out:
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
	cancel_work_sync(&kn->addr_work);
	knat_config_exit_net(kn);
	WARN_ON(!list_empty(&kn->extaddrs));
}
