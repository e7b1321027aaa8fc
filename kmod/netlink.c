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
};

static const struct nla_policy knat_session_policy[KNAT_A_SESSION_MAX + 1] = {
	[KNAT_A_SESSION_NETWORK]	= { .type = NLA_NUL_STRING,
					    .len = KNAT_NAME_MAXLEN },
	[KNAT_A_SESSION_PROTO]		= { .type = NLA_U8 },
};

static const struct nla_policy knat_stats_policy[KNAT_A_STATS_MAX + 1] = {
	[KNAT_A_STATS_NETWORK]		= { .type = NLA_NUL_STRING,
					    .len = KNAT_NAME_MAXLEN },
};

static const u16 knat_timeout_attr[KNAT_TO_MAX] = {
	[KNAT_TO_TCP_EST]	= KNAT_A_NETWORK_TIMEOUT_TCP_EST,
	[KNAT_TO_TCP_TRANS]	= KNAT_A_NETWORK_TIMEOUT_TCP_TRANS,
	[KNAT_TO_UDP]		= KNAT_A_NETWORK_TIMEOUT_UDP,
	[KNAT_TO_ICMP]		= KNAT_A_NETWORK_TIMEOUT_ICMP,
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
			      KNAT_FEATURE_INFO | KNAT_FEATURE_NETWORKS,
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

static int knat_nl_parse_addrs(struct knat_net *kn, struct knat_params *p,
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
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "not a unicast address");
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

/*
 * Apply the optional settings of a NEW or SET request to @p, a private
 * copy nobody else sees yet.
 */
static int knat_nl_parse_params(struct knat_net *kn, struct knat_params *p,
				struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **tb = info->attrs;
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
		err = knat_nl_parse_addrs(kn, p, tb[KNAT_A_NETWORK_EXT_ADDRS],
					  extack);
		if (err)
			return err;
	}

	if (!tb[KNAT_A_NETWORK_PORT_MIN] != !tb[KNAT_A_NETWORK_PORT_MAX]) {
		NL_SET_ERR_MSG(extack,
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

static int knat_nl_network_new(struct sk_buff *skb, struct genl_info *info)
{
	struct knat_net *kn = knat_pernet(genl_info_net(info));
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **tb = info->attrs;
	struct knat_params *p;
	const char *name;
	__be32 prefix;
	u8 plen;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KNAT_A_NETWORK_NAME) ||
	    GENL_REQ_ATTR_CHECK(info, KNAT_A_NETWORK_PREFIX) ||
	    GENL_REQ_ATTR_CHECK(info, KNAT_A_NETWORK_PREFIX_LEN))
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

	p = kmalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	knat_params_default(p);

	mutex_lock(&kn->lock);
	err = knat_nl_parse_params(kn, p, info);
	if (err)
		knat_params_free(p);
	else
		err = knat_network_new(kn, name, prefix, plen, p, extack);
	mutex_unlock(&kn->lock);
	return err;
}

static int knat_nl_network_set(struct sk_buff *skb, struct genl_info *info)
{
	struct knat_net *kn = knat_pernet(genl_info_net(info));
	struct nlattr **tb = info->attrs;
	const struct knat_params *cur;
	struct knat_network *n;
	struct knat_params *p;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KNAT_A_NETWORK_NAME))
		return -EINVAL;
	if (tb[KNAT_A_NETWORK_PREFIX] || tb[KNAT_A_NETWORK_PREFIX_LEN]) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    tb[KNAT_A_NETWORK_PREFIX] ?:
				    tb[KNAT_A_NETWORK_PREFIX_LEN],
				    "the internal prefix cannot be changed");
		return -EINVAL;
	}

	mutex_lock(&kn->lock);
	n = knat_nl_network(kn, info, KNAT_A_NETWORK_NAME);
	if (!n) {
		err = -ENOENT;
		goto out;
	}
	cur = rcu_dereference_protected(n->params, lockdep_is_held(&kn->lock));
	p = knat_params_clone(cur);
	if (!p) {
		err = -ENOMEM;
		goto out;
	}
	err = knat_nl_parse_params(kn, p, info);
	if (err)
		knat_params_free(p);
	else
		err = knat_network_set(kn, n, p, info->extack);
out:
	mutex_unlock(&kn->lock);
	return err;
}

static int knat_nl_network_del(struct sk_buff *skb, struct genl_info *info)
{
	struct knat_net *kn = knat_pernet(genl_info_net(info));
	struct knat_network *n;
	int err = 0;

	if (GENL_REQ_ATTR_CHECK(info, KNAT_A_NETWORK_NAME))
		return -EINVAL;

	mutex_lock(&kn->lock);
	n = knat_nl_network(kn, info, KNAT_A_NETWORK_NAME);
	if (n)
		err = knat_network_del(kn, n);
	else
		err = -ENOENT;
	mutex_unlock(&kn->lock);
	return err;
}

static int knat_nl_fill_network(struct sk_buff *skb, struct knat_net *kn,
				struct knat_network *n, u32 portid, u32 seq,
				int flags)
{
	const struct knat_params *p;
	struct nlattr *nest;
	unsigned int i;
	void *hdr;

	p = rcu_dereference_protected(n->params, lockdep_is_held(&kn->lock));
	hdr = genlmsg_put(skb, portid, seq, &knat_genl_family, flags,
			  KNAT_CMD_NETWORK_GET);
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
					   info->snd_seq, 0);
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
					   cb->nlh->nlmsg_seq, NLM_F_MULTI);
		if (err)
			break;
		cb->args[0] = n->id;
	}
	mutex_unlock(&kn->lock);

	/* A full message ends this part of the dump; the next resumes. */
	return err == -EMSGSIZE ? skb->len : err ?: skb->len;
}

/* ---- sessions ---- */

struct knat_session_dump {
	struct rhashtable_iter iter;
	bool started;
	u32 network_id;			/* filter, or 0 */
	u8 proto;			/* filter, or 0 */
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

/*
 * The filters, checked in the first dumpit call rather than in start:
 * 6.1 drops the extack of a failed start.
 */
static int knat_nl_session_dump_filters(struct knat_net *kn,
					struct knat_session_dump *d,
					struct netlink_callback *cb)
{
	struct nlattr **tb = knat_dump_attrs(cb);
	struct knat_network *n;

	if (tb[KNAT_A_SESSION_PROTO]) {
		d->proto = nla_get_u8(tb[KNAT_A_SESSION_PROTO]);
		if (d->proto != IPPROTO_TCP && d->proto != IPPROTO_UDP &&
		    d->proto != IPPROTO_ICMP) {
			NL_SET_ERR_MSG_ATTR(cb->extack, tb[KNAT_A_SESSION_PROTO],
					    "protocol must be TCP, UDP or ICMP");
			return -EINVAL;
		}
	}
	if (tb[KNAT_A_SESSION_NETWORK]) {
		mutex_lock(&kn->lock);
		n = knat_network_find(kn, nla_data(tb[KNAT_A_SESSION_NETWORK]));
		if (n)
			d->network_id = n->id;
		mutex_unlock(&kn->lock);
		if (!n) {
			NL_SET_ERR_MSG_ATTR(cb->extack,
					    tb[KNAT_A_SESSION_NETWORK],
					    "no such network");
			return -ENOENT;
		}
	}
	d->started = true;
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

static int knat_nl_fill_session(struct sk_buff *skb,
				const struct knat_session *s,
				struct netlink_callback *cb)
{
	const struct knat_params *p = rcu_dereference(s->network->params);
	u32 timeout = knat_session_timeout(s, p);
	u32 age = knat_session_age(s);
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &knat_genl_family, NLM_F_MULTI,
			  KNAT_CMD_SESSION_GET);
	if (!hdr)
		return -EMSGSIZE;

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
			age < timeout ? jiffies_to_msecs(timeout - age) : 0)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int knat_nl_session_dump(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	struct knat_net *kn = knat_pernet(sock_net(skb->sk));
	struct knat_session_dump *d = (void *)cb->args[0];
	struct knat_session *s;
	int err = 0;

	if (!d->started) {
		err = knat_nl_session_dump_filters(kn, d, cb);
		if (err)
			return err;
	}

	rhashtable_walk_start(&d->iter);
	for (;;) {
		s = rhashtable_walk_peek(&d->iter);
		if (IS_ERR(s)) {
			if (PTR_ERR(s) == -EAGAIN)
				continue;
			err = PTR_ERR(s);
			break;
		}
		if (!s)
			break;
		if (!READ_ONCE(s->dead) &&
		    (!d->network_id || s->network->id == d->network_id) &&
		    (!d->proto || s->proto == d->proto)) {
			err = knat_nl_fill_session(skb, s, cb);
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
	struct knat_network *n = NULL;
	int err = 0;

	mutex_lock(&kn->lock);
	if (info->attrs[KNAT_A_SESSION_NETWORK]) {
		n = knat_nl_network(kn, info, KNAT_A_SESSION_NETWORK);
		if (!n)
			err = -ENOENT;
	}
	if (!err)
		knat_session_flush(kn, n, 0);
	mutex_unlock(&kn->lock);
	return err;
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
		.doit	= knat_nl_network_new,
		.policy	= knat_network_policy,
		.maxattr = KNAT_A_NETWORK_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KNAT_CMD_NETWORK_SET,
		.doit	= knat_nl_network_set,
		.policy	= knat_network_policy,
		.maxattr = KNAT_A_NETWORK_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KNAT_CMD_NETWORK_DEL,
		.doit	= knat_nl_network_del,
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
