// SPDX-License-Identifier: GPL-2.0
/*
 * knat: module entry points and per network namespace state.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/genetlink.h>

#include "knat.h"

unsigned int knat_net_id __read_mostly;

static int __net_init knat_net_init(struct net *net)
{
	struct knat_net *kn = knat_pernet(net);
	int err;

	kn->net = net;
	kn->stats = alloc_percpu(struct knat_stats);
	if (!kn->stats)
		return -ENOMEM;

	err = knat_network_init_net(kn);
	if (err)
		goto err_stats;
	err = knat_session_init_net(kn);
	if (err)
		goto err_stats;
	err = knat_hooks_register(net);
	if (err)
		goto err_session;
	return 0;

err_session:
	knat_session_exit_net(kn);
err_stats:
	free_percpu(kn->stats);
	return err;
}

/*
 * The hooks go first, in pre_exit: the core waits for a grace period
 * between pre_exit and exit, so that no hook still runs when the state
 * is freed.
 */
static void __net_exit knat_net_pre_exit(struct net *net)
{
	knat_hooks_unregister(net);
}

static void __net_exit knat_net_exit(struct net *net)
{
	struct knat_net *kn = knat_pernet(net);

	knat_network_exit_net(kn);
	knat_session_exit_net(kn);
	free_percpu(kn->stats);
}

static struct pernet_operations knat_net_ops = {
	.init = knat_net_init,
	.pre_exit = knat_net_pre_exit,
	.exit = knat_net_exit,
	.id   = &knat_net_id,
	.size = sizeof(struct knat_net),
};

static int __init knat_init(void)
{
	int err;

	err = knat_session_cache_init();
	if (err)
		return err;
	err = register_pernet_subsys(&knat_net_ops);
	if (err)
		goto err_cache;
	err = knat_notifiers_register();
	if (err)
		goto err_pernet;
	err = knat_genl_register();
	if (err)
		goto err_notifiers;

	pr_info("version %s loaded\n", KNAT_VERSION);
	return 0;

err_notifiers:
	knat_notifiers_unregister();
err_pernet:
	unregister_pernet_subsys(&knat_net_ops);
err_cache:
	knat_session_cache_exit();
	return err;
}

static void __exit knat_exit(void)
{
	knat_genl_unregister();
	knat_notifiers_unregister();
	unregister_pernet_subsys(&knat_net_ops);
	knat_session_cache_exit();
}

module_init(knat_init);
module_exit(knat_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The knat authors");
MODULE_DESCRIPTION("knat: NAT networks for Linux routers and container hosts");
MODULE_VERSION(KNAT_VERSION);
MODULE_ALIAS_GENL_FAMILY(KNAT_GENL_NAME);
