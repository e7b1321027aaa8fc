/* SPDX-License-Identifier: GPL-2.0 */
/*
 * knat: internal declarations shared by the module's source files.
 */
#ifndef _KNAT_H
#define _KNAT_H

#include <linux/mutex.h>
#include <linux/types.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#define KNAT_VERSION "0.1.0"

/*
 * Everything knat keeps is per network namespace and lives here.
 * The packet path never takes @lock.
 */
struct knat_net {
	struct net *net;
	struct mutex lock;		/* serialises configuration changes */
	unsigned int n_networks;	/* protected by @lock */
};

extern unsigned int knat_net_id;

static inline struct knat_net *knat_pernet(const struct net *net)
{
	return net_generic(net, knat_net_id);
}

/* hooks.c */
int knat_hooks_register(struct net *net);
void knat_hooks_unregister(struct net *net);

/* netlink.c */
int knat_genl_register(void);
void knat_genl_unregister(void);

#endif /* _KNAT_H */
