// SPDX-License-Identifier: GPL-2.0
/*
 * knat: the generic netlink family (see uapi/knat.h for the protocol).
 */
#include <net/genetlink.h>

#include "knat.h"
#include "uapi/knat.h"

static struct genl_family knat_genl_family;

static int knat_nl_get_info(struct sk_buff *skb, struct genl_info *info)
{
	struct knat_net *kn = knat_pernet(genl_info_net(info));
	struct sk_buff *msg;
	unsigned int n_networks;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	hdr = genlmsg_put_reply(msg, info, &knat_genl_family, 0,
				KNAT_CMD_GET_INFO);
	if (!hdr)
		goto err_msgsize;

	mutex_lock(&kn->lock);
	n_networks = kn->n_networks;
	mutex_unlock(&kn->lock);

	if (nla_put_string(msg, KNAT_A_INFO_VERSION, KNAT_VERSION) ||
	    nla_put_u64_64bit(msg, KNAT_A_INFO_FEATURES, KNAT_FEATURE_INFO,
			      KNAT_A_INFO_PAD) ||
	    nla_put_u32(msg, KNAT_A_INFO_NETWORKS, n_networks))
		goto err_msgsize;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_msgsize:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/*
 * Every command is validated strictly (resv_start_op is the first command):
 * a command without a policy accepts no attributes at all.
 */
static const struct genl_ops knat_genl_ops[] = {
	{
		.cmd	= KNAT_CMD_GET_INFO,
		.doit	= knat_nl_get_info,
	},
};

static struct genl_family knat_genl_family __ro_after_init = {
	.name		= KNAT_GENL_NAME,
	.version	= KNAT_GENL_VERSION,
	.netnsok	= true,
	.module		= THIS_MODULE,
	.ops		= knat_genl_ops,
	.n_ops		= ARRAY_SIZE(knat_genl_ops),
	.resv_start_op	= KNAT_CMD_GET_INFO,
};

int __init knat_genl_register(void)
{
	return genl_register_family(&knat_genl_family);
}

void knat_genl_unregister(void)
{
	genl_unregister_family(&knat_genl_family);
}
