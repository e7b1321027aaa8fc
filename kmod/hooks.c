// SPDX-License-Identifier: GPL-2.0
/*
 * knat: netfilter hooks.
 *
 * Inbound translation (external address back to internal) runs at
 * PREROUTING after defragmentation and before conntrack, so that conntrack
 * and an nftables firewall on the same router only ever see internal
 * addresses.  Outbound translation runs at FORWARD once routing has decided
 * the packet leaves, after the filter chains.
 */
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/skbuff.h>

#include "knat.h"

/* Between defrag (-400) and conntrack (-200). */
#define KNAT_PRI_PREROUTING	(NF_IP_PRI_CONNTRACK_DEFRAG + 100)
/* After the filter chains, before security marking. */
#define KNAT_PRI_FORWARD	(NF_IP_PRI_SECURITY - 1)

static unsigned int knat_prerouting(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	return NF_ACCEPT;
}

static unsigned int knat_forward(void *priv, struct sk_buff *skb,
				 const struct nf_hook_state *state)
{
	return NF_ACCEPT;
}

static const struct nf_hook_ops knat_hook_ops[] = {
	{
		.hook		= knat_prerouting,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= KNAT_PRI_PREROUTING,
	},
	{
		.hook		= knat_forward,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_FORWARD,
		.priority	= KNAT_PRI_FORWARD,
	},
};

int knat_hooks_register(struct net *net)
{
	return nf_register_net_hooks(net, knat_hook_ops,
				     ARRAY_SIZE(knat_hook_ops));
}

void knat_hooks_unregister(struct net *net)
{
	nf_unregister_net_hooks(net, knat_hook_ops, ARRAY_SIZE(knat_hook_ops));
}
