// SPDX-License-Identifier: GPL-2.0
/*
 * knat: the generic netlink family (see uapi/knat.h for the protocol).
 *
 * Every request is validated strictly against a policy; a request that
 * fails changes nothing.  Changes run under knat_net.lock.
 */
#include <linux/ctype.h>
#include <linux/inetdevice.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "compat.h"
#include "knat.h"

static struct genl_family knat_genl_family;

/* Not const: 6.1's policy points to a mutable one. */
static struct netlink_range_validation knat_timeout_range = {
	.min = 1,
	.max = 2592000,		/* 30 days */
};

static struct netlink_range_validation knat_max_sessions_range = {
	.min = 1,
	.max = 1U << 24,
};

static struct netlink_range_validation knat_host_max_range = {
	.min = 0,
	.max = 1U << 24,
};

static const struct nla_policy knat_ext_addr_policy[KNAT_A_EXT_ADDR_MAX + 1] = {
	[KNAT_A_EXT_ADDR]	= { .type = NLA_BE32 },
};

static const struct nla_policy knat_network_policy[KNAT_A_NETWORK_MAX + 1] = {
	[KNAT_A_NETWORK_NAME]		= { .type = NLA_NUL_STRING,
					    .len = KNAT_NAME_MAXLEN },
	[KNAT_A_NETWORK_ID]		= { .type = NLA_REJECT },
	[KNAT_A_NETWORK_PREFIX]		= { .type = NLA_BE32 },
	[KNAT_A_NETWORK_PREFIX_LEN]	= NLA_POLICY_RANGE(NLA_U8, 1, 32),
	[KNAT_A_NETWORK_EXT_DEV]	= { .type = NLA_NUL_STRING,
					    .len = IFNAMSIZ - 1 },
	[KNAT_A_NETWORK_EXT_ADDRS]	=
		NLA_POLICY_NESTED(knat_ext_addr_policy),
	[KNAT_A_NETWORK_PORT_MIN]	= { .type = NLA_U16 },
	[KNAT_A_NETWORK_PORT_MAX]	= { .type = NLA_U16 },
	[KNAT_A_NETWORK_FILTERING]	= NLA_POLICY_MAX(NLA_U8,
							 KNAT_FILTER_MAX),
	[KNAT_A_NETWORK_MAX_SESSIONS]	=
		NLA_POLICY_FULL_RANGE(NLA_U32, &knat_max_sessions_range),
	[KNAT_A_NETWORK_HOST_MAX_SESSIONS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &knat_host_max_range),
	[KNAT_A_NETWORK_UDP_INBOUND_REFRESH] = NLA_POLICY_MAX(NLA_U8, 1),
	[KNAT_A_NETWORK_TIMEOUT_TCP_EST] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &knat_timeout_range),
	[KNAT_A_NETWORK_TIMEOUT_TCP_TRANS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &knat_timeout_range),
	[KNAT_A_NETWORK_TIMEOUT_UDP]	=
		NLA_POLICY_FULL_RANGE(NLA_U32, &knat_timeout_range),
	[KNAT_A_NETWORK_TIMEOUT_ICMP]	=
		NLA_POLICY_FULL_RANGE(NLA_U32, &knat_timeout_range),
	[KNAT_A_NETWORK_SESSIONS]	= { .type = NLA_REJECT },
	[KNAT_A_NETWORK_HAIRPIN]	= NLA_POLICY_MAX(NLA_U8, 1),
	[KNAT_A_NETWORK_TIMEOUT_TCP_SYN] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &knat_timeout_range),
	[KNAT_A_NETWORK_INBOUND_SHARE]	= NLA_POLICY_RANGE(NLA_U8, 1, 100),
	[KNAT_A_NETWORK_TIMEOUT_OTHER]	=
		NLA_POLICY_FULL_RANGE(NLA_U32, &knat_timeout_range),
};

static const struct nla_policy knat_map_policy[KNAT_A_MAP_MAX + 1] = {
	[KNAT_A_MAP_NETWORK]		= { .type = NLA_NUL_STRING,
					    .len = KNAT_NAME_MAXLEN },
	[KNAT_A_MAP_PROTO]		= { .type = NLA_U8 },
	[KNAT_A_MAP_EXT_ADDR]		= { .type = NLA_BE32 },
	[KNAT_A_MAP_EXT_PORT_MIN]	= NLA_POLICY_MIN(NLA_U16, 1),
	[KNAT_A_MAP_EXT_PORT_MAX]	= NLA_POLICY_MIN(NLA_U16, 1),
	[KNAT_A_MAP_INT_ADDR]		= { .type = NLA_BE32 },
	[KNAT_A_MAP_INT_PORT_MIN]	= NLA_POLICY_MIN(NLA_U16, 1),
	[KNAT_A_MAP_INT_PORT_MAX]	= NLA_POLICY_MIN(NLA_U16, 1),
	[KNAT_A_MAP_REM_PREFIX]		= { .type = NLA_BE32 },
	[KNAT_A_MAP_REM_PREFIX_LEN]	= NLA_POLICY_MAX(NLA_U8, 32),
	[KNAT_A_MAP_EXT_ADDR_NOW]	= { .type = NLA_REJECT },
	[KNAT_A_MAP_PACKETS]		= { .type = NLA_REJECT },
	[KNAT_A_MAP_SESSIONS]		= { .type = NLA_REJECT },
	[KNAT_A_MAP_PAD]		= { .type = NLA_REJECT },
};

static const struct nla_policy knat_session_policy[KNAT_A_SESSION_MAX + 1] = {
	[KNAT_A_SESSION_NETWORK]	= { .type = NLA_NUL_STRING,
					    .len = KNAT_NAME_MAXLEN },
	[KNAT_A_SESSION_PROTO]		= { .type = NLA_U8 },
	[KNAT_A_SESSION_INT_ADDR]	= { .type = NLA_BE32 },
	[KNAT_A_SESSION_INT_PORT]	= { .type = NLA_U16 },
	[KNAT_A_SESSION_EXT_ADDR]	= { .type = NLA_BE32 },
	[KNAT_A_SESSION_EXT_PORT]	= { .type = NLA_U16 },
	[KNAT_A_SESSION_REM_ADDR]	= { .type = NLA_BE32 },
	[KNAT_A_SESSION_REM_PORT]	= { .type = NLA_U16 },
	[KNAT_A_SESSION_STATE]		= { .type = NLA_REJECT },
	[KNAT_A_SESSION_EXPIRES]	= { .type = NLA_REJECT },
	[KNAT_A_SESSION_SRC_ADDR]	= { .type = NLA_BE32 },
	[KNAT_A_SESSION_SRC_PORT]	= { .type = NLA_U16 },
	[KNAT_A_SESSION_DST_ADDR]	= { .type = NLA_BE32 },
	[KNAT_A_SESSION_DST_PORT]	= { .type = NLA_U16 },
	[KNAT_A_SESSION_REASON]		= { .type = NLA_REJECT },
};

static const struct nla_policy knat_op_policy[KNAT_A_OP_MAX + 1] = {
	/* Which commands are changes: see knat_nl_config_op(). */
	[KNAT_A_OP_CMD]		= NLA_POLICY_RANGE(NLA_U8, KNAT_CMD_NETWORK_NEW,
						   KNAT_CMD_MAP_DEL),
	/* Checked against the command's own policy when applied. */
	[KNAT_A_OP_ATTRS]	= { .type = NLA_NESTED },
};

static const struct nla_policy knat_ops_policy[KNAT_A_CONFIG_MAX + 1] = {
	[KNAT_A_CONFIG_OP]	= NLA_POLICY_NESTED(knat_op_policy),
};

static const struct nla_policy knat_config_policy[KNAT_A_CONFIG_MAX + 1] = {
	[KNAT_A_CONFIG_FLUSH]	= { .type = NLA_FLAG },
	[KNAT_A_CONFIG_OPS]	= NLA_POLICY_NESTED(knat_ops_policy),
	[KNAT_A_CONFIG_OP]	= NLA_POLICY_NESTED(knat_op_policy),
};

static const struct nla_policy knat_stats_policy[KNAT_A_STATS_MAX + 1] = {
	[KNAT_A_STATS_NETWORK]		= { .type = NLA_NUL_STRING,
					    .len = KNAT_NAME_MAXLEN },
};

/* ---- info ---- */

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
	    nla_put_u64_64bit(msg, KNAT_A_INFO_FEATURES,
			      KNAT_FEATURE_INFO | KNAT_FEATURE_NETWORKS |
			      KNAT_FEATURE_CONTROL | KNAT_FEATURE_MAPS,
			      KNAT_A_INFO_PAD) ||
	    nla_put_u32(msg, KNAT_A_INFO_NETWORKS, n_networks))
		goto err_msgsize;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_msgsize:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/* ---- networks ---- */

/* The network named by attribute @attr, or NULL with an extack. */
static struct knat_network *knat_nl_network(struct knat_net *kn,
					    struct genl_info *info, int attr)
{
	struct knat_network *n;

	n = knat_network_find(kn, nla_data(info->attrs[attr]));
	if (!n)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[attr],
				    "no such network");
	return n;
}

/*
 * KNAT_CMD_NETWORK_NEW, _SET, _DEL, KNAT_CMD_MAP_NEW, _DEL: a transaction
 * of one change.
 */
static int knat_nl_change(struct sk_buff *skb, struct genl_info *info)
{
	struct knat_net *kn = knat_pernet(genl_info_net(info));
	struct knat_txn *t;
	int err;

	mutex_lock(&kn->lock);
	t = knat_txn_begin(kn, info->extack);
	if (!t) {
		err = -ENOMEM;
		goto out;
	}
	err = knat_txn_op(t, info->genlhdr->cmd, NULL, info->attrs);
	if (err)
		knat_txn_abort(t);
	else
		err = knat_txn_commit(t);
out:
	mutex_unlock(&kn->lock);
	return err;
}

/*
 * One KNAT_A_CONFIG_OP of a KNAT_CMD_CONFIG_APPLY: its command's
 * attributes checked against that command's policy, then staged.
 */
static int knat_nl_config_op(struct knat_txn *t, const struct nlattr *op,
			     struct netlink_ext_ack *extack)
{
	/* Big enough for either command's attributes. */
	struct nlattr *tb[KNAT_A_NETWORK_MAX + 1];
	struct nlattr *ot[KNAT_A_OP_MAX + 1];
	bool map;
	u8 cmd;
	int err;

	BUILD_BUG_ON(KNAT_A_MAP_MAX > KNAT_A_NETWORK_MAX);
	/* The policy has checked the structure. */
	err = nla_parse_nested(ot, KNAT_A_OP_MAX, op, knat_op_policy, extack);
	if (err)
		return err;
	if (NL_REQ_ATTR_CHECK(extack, op, ot, KNAT_A_OP_CMD) ||
	    NL_REQ_ATTR_CHECK(extack, op, ot, KNAT_A_OP_ATTRS))
		return -EINVAL;
	cmd = nla_get_u8(ot[KNAT_A_OP_CMD]);
	switch (cmd) {
	case KNAT_CMD_NETWORK_NEW:
	case KNAT_CMD_NETWORK_SET:
	case KNAT_CMD_NETWORK_DEL:
	case KNAT_CMD_MAP_NEW:
	case KNAT_CMD_MAP_DEL:
		break;
	default:
		NL_SET_ERR_MSG_ATTR(extack, ot[KNAT_A_OP_CMD],
				    "not a configuration change (NETWORK_NEW, _SET, _DEL, MAP_NEW, _DEL)");
		return -ERANGE;
	}
	map = cmd == KNAT_CMD_MAP_NEW || cmd == KNAT_CMD_MAP_DEL;
	err = nla_parse_nested(tb, map ? KNAT_A_MAP_MAX : KNAT_A_NETWORK_MAX,
			       ot[KNAT_A_OP_ATTRS],
			       map ? knat_map_policy : knat_network_policy,
			       extack);
	if (err)
		return err;
	return knat_txn_op(t, cmd, ot[KNAT_A_OP_ATTRS], tb);
}

/*
 * KNAT_CMD_CONFIG_APPLY: many changes, all or none: those nested in
 * KNAT_A_CONFIG_OPS, then those at the top level, in order.
 */
static int knat_nl_config_apply(struct sk_buff *skb, struct genl_info *info)
{
	struct knat_net *kn = knat_pernet(genl_info_net(info));
	struct netlink_ext_ack *extack = info->extack;
	const struct nlattr *op;
	struct knat_txn *t;
	int rem, err = 0;

	mutex_lock(&kn->lock);
	t = knat_txn_begin(kn, extack);
	if (!t) {
		err = -ENOMEM;
		goto out;
	}
	if (info->attrs[KNAT_A_CONFIG_FLUSH])
		knat_txn_flush(t);

	if (info->attrs[KNAT_A_CONFIG_OPS]) {
		nla_for_each_nested(op, info->attrs[KNAT_A_CONFIG_OPS], rem) {
			err = knat_nl_config_op(t, op, extack);
			if (err)
				goto fail;
		}
	}
	nlmsg_for_each_attr(op, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(op) != KNAT_A_CONFIG_OP)
			continue;
		err = knat_nl_config_op(t, op, extack);
		if (err)
			goto fail;
	}
	err = knat_txn_commit(t);
	goto out;

fail:
	/* Say which change failed, if nothing else. */
	if (extack && !extack->bad_attr)
		NL_SET_BAD_ATTR(extack, op);
	knat_txn_abort(t);
out:
	mutex_unlock(&kn->lock);
	return err;
}

static int knat_nl_fill_network(struct sk_buff *skb, struct knat_net *kn,
				struct knat_network *n, u32 portid, u32 seq,
				int flags, u8 cmd)
{
	const struct knat_params *p;
	struct nlattr *nest;
	unsigned int i;
	void *hdr;

	p = rcu_dereference_protected(n->params, lockdep_is_held(&kn->lock));
	hdr = genlmsg_put(skb, portid, seq, &knat_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;

	if (nla_put_string(skb, KNAT_A_NETWORK_NAME, n->name) ||
	    nla_put_u32(skb, KNAT_A_NETWORK_ID, n->id) ||
	    nla_put_in_addr(skb, KNAT_A_NETWORK_PREFIX, n->prefix) ||
	    nla_put_u8(skb, KNAT_A_NETWORK_PREFIX_LEN, n->plen) ||
	    (p->ext_dev[0] &&
	     nla_put_string(skb, KNAT_A_NETWORK_EXT_DEV, p->ext_dev)))
		goto err;

	nest = nla_nest_start(skb, KNAT_A_NETWORK_EXT_ADDRS);
	if (!nest)
		goto err;
	for (i = 0; i < p->n_addrs; i++)
		if (nla_put_in_addr(skb, KNAT_A_EXT_ADDR, p->addrs[i]->addr))
			goto err;
	nla_nest_end(skb, nest);

	if ((p->port_min &&
	     (nla_put_u16(skb, KNAT_A_NETWORK_PORT_MIN, p->port_min) ||
	      nla_put_u16(skb, KNAT_A_NETWORK_PORT_MAX, p->port_max))) ||
	    nla_put_u8(skb, KNAT_A_NETWORK_FILTERING, p->filtering) ||
	    nla_put_u32(skb, KNAT_A_NETWORK_MAX_SESSIONS, p->max_sessions) ||
	    nla_put_u32(skb, KNAT_A_NETWORK_HOST_MAX_SESSIONS,
			p->host_max_sessions) ||
	    nla_put_u8(skb, KNAT_A_NETWORK_UDP_INBOUND_REFRESH,
		       p->udp_inbound_refresh) ||
	    nla_put_u8(skb, KNAT_A_NETWORK_HAIRPIN, p->hairpin) ||
	    nla_put_u8(skb, KNAT_A_NETWORK_INBOUND_SHARE, p->inbound_share) ||
	    nla_put_u32(skb, KNAT_A_NETWORK_SESSIONS,
			atomic_read(&n->n_sessions)))
		goto err;
	for (i = 0; i < KNAT_TO_MAX; i++)
		if (nla_put_u32(skb, knat_timeout_attr[i], p->timeout_s[i]))
			goto err;

	genlmsg_end(skb, hdr);
	return 0;

err:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int knat_nl_network_get(struct sk_buff *skb, struct genl_info *info)
{
	struct knat_net *kn = knat_pernet(genl_info_net(info));
	struct knat_network *n;
	struct sk_buff *msg;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KNAT_A_NETWORK_NAME))
		return -EINVAL;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	mutex_lock(&kn->lock);
	n = knat_nl_network(kn, info, KNAT_A_NETWORK_NAME);
	if (n)
		err = knat_nl_fill_network(msg, kn, n, info->snd_portid,
					   info->snd_seq, 0,
					   KNAT_CMD_NETWORK_GET);
	else
		err = -ENOENT;
	mutex_unlock(&kn->lock);

	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/* Dumps resume after the id of the last network sent (cb->args[0]). */
static int knat_nl_network_dump(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	struct knat_net *kn = knat_pernet(sock_net(skb->sk));
	struct knat_network *n;
	int err = 0;

	mutex_lock(&kn->lock);
	list_for_each_entry(n, &kn->networks, list) {
		if (n->id <= cb->args[0])
			continue;
		err = knat_nl_fill_network(skb, kn, n,
					   NETLINK_CB(cb->skb).portid,
					   cb->nlh->nlmsg_seq, NLM_F_MULTI,
					   KNAT_CMD_NETWORK_GET);
		if (err)
			break;
		cb->args[0] = n->id;
	}
	mutex_unlock(&kn->lock);

	/* A full message ends this part of the dump; the next resumes. */
	return err == -EMSGSIZE ? skb->len : err ?: skb->len;
}

/* ---- sessions ---- */

/*
 * The session filters of a request (KNAT_CMD_SESSION_GET, _FLUSH), into
 * @f.  Takes knat_net.lock to resolve a network name.
 */
static int knat_nl_parse_filter(struct knat_net *kn, struct nlattr **tb,
				struct knat_filter *f,
				struct netlink_ext_ack *extack)
{
	static const struct {
		u16 addr, port;
		u8 has_addr, has_port;
		size_t addr_off, port_off;
	} eps[] = {
		{ KNAT_A_SESSION_INT_ADDR, KNAT_A_SESSION_INT_PORT,
		  KNAT_FILTER_INT_ADDR, KNAT_FILTER_INT_PORT,
		  offsetof(struct knat_filter, int_addr),
		  offsetof(struct knat_filter, int_port) },
		{ KNAT_A_SESSION_EXT_ADDR, KNAT_A_SESSION_EXT_PORT,
		  KNAT_FILTER_EXT_ADDR, KNAT_FILTER_EXT_PORT,
		  offsetof(struct knat_filter, ext_addr),
		  offsetof(struct knat_filter, ext_port) },
		{ KNAT_A_SESSION_REM_ADDR, KNAT_A_SESSION_REM_PORT,
		  KNAT_FILTER_REM_ADDR, KNAT_FILTER_REM_PORT,
		  offsetof(struct knat_filter, rem_addr),
		  offsetof(struct knat_filter, rem_port) },
	};
	struct knat_network *n;
	unsigned int i;

	memset(f, 0, sizeof(*f));
	if (tb[KNAT_A_SESSION_PROTO]) {
		f->proto = nla_get_u8(tb[KNAT_A_SESSION_PROTO]);
		if (f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP &&
		    f->proto != IPPROTO_ICMP) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KNAT_A_SESSION_PROTO],
					    "protocol must be TCP, UDP or ICMP");
			return -EINVAL;
		}
	}
	for (i = 0; i < ARRAY_SIZE(eps); i++) {
		if (tb[eps[i].addr]) {
			*(__be32 *)((char *)f + eps[i].addr_off) =
				nla_get_in_addr(tb[eps[i].addr]);
			f->has |= eps[i].has_addr;
		}
		if (tb[eps[i].port]) {
			*(__be16 *)((char *)f + eps[i].port_off) =
				htons(nla_get_u16(tb[eps[i].port]));
			f->has |= eps[i].has_port;
		}
	}
	if (tb[KNAT_A_SESSION_NETWORK]) {
		mutex_lock(&kn->lock);
		n = knat_network_find(kn, nla_data(tb[KNAT_A_SESSION_NETWORK]));
		if (n)
			f->network_id = n->id;
		mutex_unlock(&kn->lock);
		if (!n) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KNAT_A_SESSION_NETWORK],
					    "no such network");
			return -ENOENT;
		}
	}
	return 0;
}

/*
 * A session message: a dump's (@cb set: flags it NLM_F_DUMP_INTR when
 * cb->seq says so), a reply's or an event's (@reason >= 0).
 */
static int knat_nl_fill_session(struct sk_buff *skb,
				const struct knat_session *s, u32 portid,
				u32 seq, u8 cmd, int reason,
				struct netlink_callback *cb)
{
	const struct knat_params *p = rcu_dereference(s->network->params);
	u32 timeout = knat_session_timeout(s, p);
	u32 age = knat_session_age(s);
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &knat_genl_family,
			  cb ? NLM_F_MULTI : 0, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);

	if (nla_put_string(skb, KNAT_A_SESSION_NETWORK, s->network->name) ||
	    nla_put_u8(skb, KNAT_A_SESSION_PROTO, s->proto) ||
	    nla_put_in_addr(skb, KNAT_A_SESSION_INT_ADDR, s->int_addr) ||
	    nla_put_u16(skb, KNAT_A_SESSION_INT_PORT, ntohs(s->int_port)) ||
	    nla_put_in_addr(skb, KNAT_A_SESSION_EXT_ADDR, s->ext_addr) ||
	    nla_put_u16(skb, KNAT_A_SESSION_EXT_PORT, ntohs(s->ext_port)) ||
	    nla_put_in_addr(skb, KNAT_A_SESSION_REM_ADDR, s->rem_addr) ||
	    nla_put_u16(skb, KNAT_A_SESSION_REM_PORT, ntohs(s->rem_port)) ||
	    nla_put_u8(skb, KNAT_A_SESSION_STATE, knat_session_state(s)) ||
	    nla_put_u32(skb, KNAT_A_SESSION_EXPIRES,
			age < timeout ? jiffies_to_msecs(timeout - age) : 0) ||
	    (reason >= 0 && nla_put_u8(skb, KNAT_A_SESSION_REASON, reason))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

struct knat_session_dump {
	struct rhashtable_iter iter;
	struct knat_filter filter;
	bool started;
	bool interrupted;		/* the table was resized under us */
};

static int knat_nl_session_dump_start(struct netlink_callback *cb)
{
	struct knat_net *kn = knat_pernet(sock_net(cb->skb->sk));
	struct knat_session_dump *d;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	rhashtable_walk_enter(&kn->sessions_out, &d->iter);
	cb->args[0] = (long)d;
	return 0;
}

static int knat_nl_session_dump_done(struct netlink_callback *cb)
{
	struct knat_session_dump *d = (void *)cb->args[0];

	if (d) {
		rhashtable_walk_exit(&d->iter);
		kfree(d);
	}
	return 0;
}

/*
 * The filters are checked in the first dumpit call rather than in start:
 * 6.1 drops the extack of a failed start.
 */
static int knat_nl_session_dump(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	struct knat_net *kn = knat_pernet(sock_net(skb->sk));
	struct knat_session_dump *d = (void *)cb->args[0];
	struct knat_session *s;
	int err = 0;

	if (!d->started) {
		err = knat_nl_parse_filter(kn, knat_dump_attrs(cb), &d->filter,
					   cb->extack);
		if (err)
			return err;
		d->started = true;
	}

	/* Resized between two parts of the dump: the walk starts over. */
	if (rhashtable_walk_start_check(&d->iter) == -EAGAIN)
		d->interrupted = true;
	for (;;) {
		s = rhashtable_walk_peek(&d->iter);
		if (IS_ERR(s)) {
			/* Resized: the walk restarts, and may repeat itself. */
			if (PTR_ERR(s) == -EAGAIN) {
				d->interrupted = true;
				continue;
			}
			err = PTR_ERR(s);
			break;
		}
		if (!s)
			break;
		if (!READ_ONCE(s->dead) && knat_filter_match(&d->filter, s)) {
			/* A change of cb->seq sets NLM_F_DUMP_INTR. */
			cb->seq = d->interrupted ? 2 : 1;
			err = knat_nl_fill_session(skb, s,
						   NETLINK_CB(cb->skb).portid,
						   cb->nlh->nlmsg_seq,
						   KNAT_CMD_SESSION_GET, -1, cb);
			if (err)
				break;
		}
		rhashtable_walk_next(&d->iter);
	}
	rhashtable_walk_stop(&d->iter);

	return err == -EMSGSIZE ? skb->len : err ?: skb->len;
}

static int knat_nl_session_flush(struct sk_buff *skb, struct genl_info *info)
{
	struct knat_net *kn = knat_pernet(genl_info_net(info));
	struct knat_filter f;
	int err;

	err = knat_nl_parse_filter(kn, info->attrs, &f, info->extack);
	if (!err)
		knat_session_flush(kn, &f);
	return err;
}

/* KNAT_CMD_LOOKUP: the other side of a flow seen on either side. */
static int knat_nl_lookup(struct sk_buff *skb, struct genl_info *info)
{
	struct knat_net *kn = knat_pernet(genl_info_net(info));
	struct nlattr **tb = info->attrs;
	__be32 saddr, daddr;
	__be16 sport, dport;
	struct knat_session *s;
	struct sk_buff *msg;
	u8 proto;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KNAT_A_SESSION_PROTO) ||
	    GENL_REQ_ATTR_CHECK(info, KNAT_A_SESSION_SRC_ADDR) ||
	    GENL_REQ_ATTR_CHECK(info, KNAT_A_SESSION_SRC_PORT) ||
	    GENL_REQ_ATTR_CHECK(info, KNAT_A_SESSION_DST_ADDR) ||
	    GENL_REQ_ATTR_CHECK(info, KNAT_A_SESSION_DST_PORT))
		return -EINVAL;
	proto = nla_get_u8(tb[KNAT_A_SESSION_PROTO]);
	saddr = nla_get_in_addr(tb[KNAT_A_SESSION_SRC_ADDR]);
	daddr = nla_get_in_addr(tb[KNAT_A_SESSION_DST_ADDR]);
	sport = htons(nla_get_u16(tb[KNAT_A_SESSION_SRC_PORT]));
	dport = htons(nla_get_u16(tb[KNAT_A_SESSION_DST_PORT]));

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	rcu_read_lock();
	s = knat_session_out(kn, proto, saddr, sport, daddr, dport);
	if (!s || READ_ONCE(s->dead))
		s = knat_session_in(kn, proto, daddr, dport, saddr, sport);
	if (s && !READ_ONCE(s->dead))
		err = knat_nl_fill_session(msg, s, info->snd_portid,
					   info->snd_seq, KNAT_CMD_LOOKUP, -1,
					   NULL);
	else
		err = -ENOENT;
	rcu_read_unlock();

	if (err) {
		if (err == -ENOENT)
			NL_SET_ERR_MSG(info->extack, "no session for that flow");
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/* ---- events ---- */

enum knat_mcgrp {
	KNAT_MCGRP_EVENTS_ID,
};

static const struct genl_multicast_group knat_mcgrps[] = {
	[KNAT_MCGRP_EVENTS_ID] = {
		.name	= KNAT_MCGRP_EVENTS,
		/*
		 * Sessions reveal internal addresses: CAP_NET_ADMIN in the
		 * namespace's user namespace (GENL_UNS_ADMIN_PERM is for
		 * commands, groups have their own flag).
		 */
		.flags	= GENL_MCAST_CAP_NET_ADMIN,
	},
};

static bool knat_nl_listeners(struct knat_net *kn)
{
	return genl_has_listeners(&knat_genl_family, kn->net,
				  KNAT_MCGRP_EVENTS_ID);
}

static void knat_nl_multicast(struct knat_net *kn, struct sk_buff *msg)
{
	genlmsg_multicast_netns(&knat_genl_family, kn->net, msg, 0,
				KNAT_MCGRP_EVENTS_ID, GFP_ATOMIC);
}

/* A session was created or ended; any context. */
void knat_nl_notify_session(struct knat_net *kn, const struct knat_session *s,
			    u8 cmd, u8 reason)
{
	struct sk_buff *msg;

	if (!knat_nl_listeners(kn))
		return;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_ATOMIC);
	if (!msg)
		return;
	rcu_read_lock();
	if (knat_nl_fill_session(msg, s, 0, 0, cmd,
				 cmd == KNAT_CMD_SESSION_DEL ? reason : -1,
				 NULL)) {
		rcu_read_unlock();
		nlmsg_free(msg);
		return;
	}
	rcu_read_unlock();
	knat_nl_multicast(kn, msg);
}

/* A network was created, changed or deleted; under knat_net.lock. */
void knat_nl_notify_network(struct knat_net *kn, struct knat_network *n,
			    u8 cmd)
{
	struct sk_buff *msg;

	if (!knat_nl_listeners(kn))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return;
	if (knat_nl_fill_network(msg, kn, n, 0, 0, 0, cmd)) {
		nlmsg_free(msg);
		return;
	}
	knat_nl_multicast(kn, msg);
}

/* ---- static mappings ---- */

static int knat_nl_fill_map(struct sk_buff *skb, const struct knat_network *n,
			    const struct knat_params *p,
			    const struct knat_smap *m, u32 portid, u32 seq,
			    int flags, u8 cmd)
{
	__be32 now = knat_smap_ext_addr(m, p);
	u64 packets = 0, sessions = 0;
	void *hdr;
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct knat_smap_stats *st = per_cpu_ptr(m->stats, cpu);

		packets += READ_ONCE(st->packets);
		sessions += READ_ONCE(st->sessions);
	}

	hdr = genlmsg_put(skb, portid, seq, &knat_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_string(skb, KNAT_A_MAP_NETWORK, n->name) ||
	    nla_put_u8(skb, KNAT_A_MAP_PROTO, m->proto) ||
	    (m->ext_addr &&
	     nla_put_in_addr(skb, KNAT_A_MAP_EXT_ADDR, m->ext_addr)) ||
	    nla_put_in_addr(skb, KNAT_A_MAP_INT_ADDR, m->int_addr) ||
	    (now && nla_put_in_addr(skb, KNAT_A_MAP_EXT_ADDR_NOW, now)) ||
	    nla_put_u64_64bit(skb, KNAT_A_MAP_PACKETS, packets,
			      KNAT_A_MAP_PAD))
		goto err;
	if (m->proto &&
	    (nla_put_u16(skb, KNAT_A_MAP_EXT_PORT_MIN, m->ext_min) ||
	     nla_put_u16(skb, KNAT_A_MAP_EXT_PORT_MAX, m->ext_max) ||
	     nla_put_u16(skb, KNAT_A_MAP_INT_PORT_MIN, m->int_min) ||
	     nla_put_u16(skb, KNAT_A_MAP_INT_PORT_MAX, m->int_max) ||
	     (m->rem_plen &&
	      (nla_put_in_addr(skb, KNAT_A_MAP_REM_PREFIX, m->rem_prefix) ||
	       nla_put_u8(skb, KNAT_A_MAP_REM_PREFIX_LEN, m->rem_plen))) ||
	     nla_put_u64_64bit(skb, KNAT_A_MAP_SESSIONS, sessions,
			       KNAT_A_MAP_PAD)))
		goto err;
	genlmsg_end(skb, hdr);
	return 0;

err:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/*
 * cb->args[0]: id of the network being sent, args[1]: index of its next
 * mapping.  Mappings of one network are sent in the order they were added.
 */
static int knat_nl_map_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct knat_net *kn = knat_pernet(sock_net(skb->sk));
	struct nlattr **tb = knat_dump_attrs(cb);
	struct knat_network *n, *only = NULL;
	const struct knat_params *p;
	int err = 0;

	mutex_lock(&kn->lock);
	if (tb[KNAT_A_MAP_NETWORK]) {
		only = knat_network_find(kn, nla_data(tb[KNAT_A_MAP_NETWORK]));
		if (!only) {
			NL_SET_ERR_MSG_ATTR(cb->extack, tb[KNAT_A_MAP_NETWORK],
					    "no such network");
			err = -ENOENT;
			goto out;
		}
	}
	list_for_each_entry(n, &kn->networks, list) {
		if ((only && n != only) || n->id < cb->args[0])
			continue;
		if (n->id != cb->args[0]) {
			cb->args[0] = n->id;
			cb->args[1] = 0;
		}
		p = rcu_dereference_protected(n->params,
					      lockdep_is_held(&kn->lock));
		for (; cb->args[1] < p->n_maps; cb->args[1]++) {
			err = knat_nl_fill_map(skb, n, p,
					       p->maps[cb->args[1]],
					       NETLINK_CB(cb->skb).portid,
					       cb->nlh->nlmsg_seq, NLM_F_MULTI,
					       KNAT_CMD_MAP_GET);
			if (err)
				goto out;
		}
	}
out:
	mutex_unlock(&kn->lock);
	return err == -EMSGSIZE ? skb->len : err ?: skb->len;
}

void knat_nl_notify_map(struct knat_net *kn, const struct knat_network *n,
			const struct knat_params *p, const struct knat_smap *m,
			u8 cmd)
{
	struct sk_buff *msg;

	if (!knat_nl_listeners(kn))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return;
	if (knat_nl_fill_map(msg, n, p, m, 0, 0, 0, cmd)) {
		nlmsg_free(msg);
		return;
	}
	knat_nl_multicast(kn, msg);
}

/* ---- statistics ---- */

static int knat_nl_fill_stats(struct sk_buff *skb, struct netlink_callback *cb,
			      const char *name, const u64 *cnt)
{
	struct nlattr *nest;
	void *hdr;
	int i;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &knat_genl_family, NLM_F_MULTI, KNAT_CMD_STATS_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (name && nla_put_string(skb, KNAT_A_STATS_NETWORK, name))
		goto err;
	nest = nla_nest_start(skb, KNAT_A_STATS_COUNTERS);
	if (!nest)
		goto err;
	for (i = 1; i <= KNAT_CNT_MAX; i++) {
		/* Memory is shared by the networks: only the total has it. */
		if (name && i == KNAT_CNT_BYTES_IN_USE)
			continue;
		if (nla_put_u64_64bit(skb, i, cnt[i], KNAT_CNT_UNSPEC))
			goto err;
	}
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;

err:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static void knat_network_counters(struct knat_network *n, u64 *cnt)
{
	memset(cnt, 0, sizeof(u64) * (KNAT_CNT_MAX + 1));
	knat_stats_sum(n->stats, cnt);
	cnt[KNAT_CNT_SESSIONS_ACTIVE] = atomic_read(&n->n_sessions);
}

/*
 * cb->args[0]: id of the last network sent; args[1]: the namespace's
 * record is sent; args[2]: only the network with this id (+1).
 */
static int knat_nl_stats_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct knat_net *kn = knat_pernet(sock_net(skb->sk));
	struct nlattr **tb = knat_dump_attrs(cb);
	u64 cnt[KNAT_CNT_MAX + 1], total[KNAT_CNT_MAX + 1] = {};
	struct knat_network *n, *only = NULL;
	int i, err = 0;

	mutex_lock(&kn->lock);
	if (tb[KNAT_A_STATS_NETWORK]) {
		only = knat_network_find(kn, nla_data(tb[KNAT_A_STATS_NETWORK]));
		if (!only) {
			NL_SET_ERR_MSG_ATTR(cb->extack, tb[KNAT_A_STATS_NETWORK],
					    "no such network");
			err = -ENOENT;
			goto out;
		}
	}

	list_for_each_entry(n, &kn->networks, list) {
		if (only && n != only)
			continue;
		knat_network_counters(n, cnt);
		for (i = 0; i <= KNAT_CNT_MAX; i++)
			total[i] += cnt[i];
		if (n->id <= cb->args[0])
			continue;
		err = knat_nl_fill_stats(skb, cb, n->name, cnt);
		if (err)
			goto out;
		cb->args[0] = n->id;
	}

	if (!only && !cb->args[1]) {
		knat_stats_sum(kn->stats, total);
		total[KNAT_CNT_BYTES_IN_USE] = knat_session_bytes(kn);
		err = knat_nl_fill_stats(skb, cb, NULL, total);
		if (!err)
			cb->args[1] = 1;
	}
out:
	mutex_unlock(&kn->lock);
	return err == -EMSGSIZE ? skb->len : err ?: skb->len;
}

static void knat_stats_zero(struct knat_stats __percpu *stats)
{
	int cpu, i;

	/* Racing increments on other CPUs may survive: harmless. */
	for_each_possible_cpu(cpu)
		for (i = 0; i <= KNAT_CNT_MAX; i++)
			WRITE_ONCE(per_cpu_ptr(stats, cpu)->cnt[i], 0);
}

static int knat_nl_stats_reset(struct sk_buff *skb, struct genl_info *info)
{
	struct knat_net *kn = knat_pernet(genl_info_net(info));
	struct knat_network *n;
	int err = 0;

	mutex_lock(&kn->lock);
	if (info->attrs[KNAT_A_STATS_NETWORK]) {
		n = knat_nl_network(kn, info, KNAT_A_STATS_NETWORK);
		if (n) {
			/*
			 * The namespace's totals never go backwards but for
			 * a reset of them: the network's counts move there.
			 */
			knat_stats_fold(kn, n);
			knat_stats_zero(n->stats);
		} else {
			err = -ENOENT;
		}
	} else {
		list_for_each_entry(n, &kn->networks, list)
			knat_stats_zero(n->stats);
		knat_stats_zero(kn->stats);
	}
	mutex_unlock(&kn->lock);
	return err;
}

/* ---- the family ---- */

/*
 * Every command is validated strictly (resv_start_op is the first command):
 * a command without a policy accepts no attributes at all.
 */
static const struct genl_ops knat_genl_ops[] = {
	{
		.cmd	= KNAT_CMD_GET_INFO,
		.doit	= knat_nl_get_info,
	},
	{
		.cmd	= KNAT_CMD_NETWORK_NEW,
		.doit	= knat_nl_change,
		.policy	= knat_network_policy,
		.maxattr = KNAT_A_NETWORK_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KNAT_CMD_NETWORK_SET,
		.doit	= knat_nl_change,
		.policy	= knat_network_policy,
		.maxattr = KNAT_A_NETWORK_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KNAT_CMD_NETWORK_DEL,
		.doit	= knat_nl_change,
		.policy	= knat_network_policy,
		.maxattr = KNAT_A_NETWORK_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KNAT_CMD_NETWORK_GET,
		.doit	= knat_nl_network_get,
		.dumpit	= knat_nl_network_dump,
		.policy	= knat_network_policy,
		.maxattr = KNAT_A_NETWORK_MAX,
	},
	{
		.cmd	= KNAT_CMD_SESSION_GET,
		.start	= knat_nl_session_dump_start,
		.dumpit	= knat_nl_session_dump,
		.done	= knat_nl_session_dump_done,
		.policy	= knat_session_policy,
		.maxattr = KNAT_A_SESSION_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KNAT_CMD_SESSION_FLUSH,
		.doit	= knat_nl_session_flush,
		.policy	= knat_session_policy,
		.maxattr = KNAT_A_SESSION_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KNAT_CMD_STATS_GET,
		.dumpit	= knat_nl_stats_dump,
		.policy	= knat_stats_policy,
		.maxattr = KNAT_A_STATS_MAX,
	},
	{
		.cmd	= KNAT_CMD_LOOKUP,
		.doit	= knat_nl_lookup,
		.policy	= knat_session_policy,
		.maxattr = KNAT_A_SESSION_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KNAT_CMD_STATS_RESET,
		.doit	= knat_nl_stats_reset,
		.policy	= knat_stats_policy,
		.maxattr = KNAT_A_STATS_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KNAT_CMD_MAP_NEW,
		.doit	= knat_nl_change,
		.policy	= knat_map_policy,
		.maxattr = KNAT_A_MAP_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KNAT_CMD_MAP_DEL,
		.doit	= knat_nl_change,
		.policy	= knat_map_policy,
		.maxattr = KNAT_A_MAP_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KNAT_CMD_MAP_GET,
		.dumpit	= knat_nl_map_dump,
		.policy	= knat_map_policy,
		.maxattr = KNAT_A_MAP_MAX,
	},
	{
		.cmd	= KNAT_CMD_CONFIG_APPLY,
		.doit	= knat_nl_config_apply,
		.policy	= knat_config_policy,
		.maxattr = KNAT_A_CONFIG_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family knat_genl_family __ro_after_init = {
	.name		= KNAT_GENL_NAME,
	.version	= KNAT_GENL_VERSION,
	.netnsok	= true,
	.module		= THIS_MODULE,
	.ops		= knat_genl_ops,
	.n_ops		= ARRAY_SIZE(knat_genl_ops),
	.mcgrps		= knat_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(knat_mcgrps),
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
