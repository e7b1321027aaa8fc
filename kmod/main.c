// SPDX-License-Identifier: GPL-2.0
/*
 * knat: module entry points and per network namespace state.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/genetlink.h>

#include "knat.h"
#include "uapi/knat.h"

unsigned int knat_net_id __read_mostly;

static int __net_init knat_net_init(struct net *net)
{
	struct knat_net *kn = knat_pernet(net);

	kn->net = net;
	mutex_init(&kn->lock);
	kn->n_networks = 0;

	return knat_hooks_register(net);
}

static void __net_exit knat_net_exit(struct net *net)
{
	knat_hooks_unregister(net);
}

static struct pernet_operations knat_net_ops = {
	.init = knat_net_init,
	.exit = knat_net_exit,
	.id   = &knat_net_id,
	.size = sizeof(struct knat_net),
};

static int __init knat_init(void)
{
	int err;

	err = register_pernet_subsys(&knat_net_ops);
	if (err)
		return err;

	err = knat_genl_register();
	if (err)
		goto err_pernet;

	pr_info("version %s loaded\n", KNAT_VERSION);
	return 0;

err_pernet:
	unregister_pernet_subsys(&knat_net_ops);
	return err;
}

static void __exit knat_exit(void)
{
	knat_genl_unregister();
	unregister_pernet_subsys(&knat_net_ops);
}

module_init(knat_init);
module_exit(knat_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The knat authors");
MODULE_DESCRIPTION("knat: NAT networks for Linux routers and container hosts");
MODULE_VERSION(KNAT_VERSION);
MODULE_ALIAS_GENL_FAMILY(KNAT_GENL_NAME);
