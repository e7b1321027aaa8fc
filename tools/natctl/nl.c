// SPDX-License-Identifier: GPL-2.0
/*
 * One generic netlink socket bound to one family.  See nl.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "natctl.h"
#include "nl.h"

/* Dump messages are at most 32 KiB unless a family asks for more. */
#define NL_RECV_SIZE	32768

/* Multicast groups of the family we keep (knat has one). */
#define NL_MAX_GROUPS	8

struct nl_group {
	char name[GENL_NAMSIZ];
	uint32_t id;
};

struct nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	uint16_t family_id;
	uint8_t version;	/* of our requests */
	uint32_t family_version;
	uint32_t family_maxattr;
	struct nl_group groups[NL_MAX_GROUPS];
	size_t n_groups;
	uint32_t sndbuf;	/* the longest request known to fit */
	char *req;		/* NL_REQ_SIZE */
	char *buf;		/* NL_RECV_SIZE */
};

struct nl_parse_ctx {
	const struct nl_policy *policy;
	uint16_t maxtype;
	const struct nlattr **tb;
	bool report;
};

static int nl_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nl_parse_ctx *p = data;
	uint16_t type = mnl_attr_get_type(attr);
	const struct nl_policy *pol;

	if (type > p->maxtype)
		return MNL_CB_OK;
	pol = &p->policy[type];
	switch (pol->type) {
	case MNL_TYPE_UNSPEC:
		return MNL_CB_OK;
	case MNL_TYPE_BINARY:
		if (pol->len && mnl_attr_get_payload_len(attr) != pol->len)
			goto invalid;
		break;
	case MNL_TYPE_NUL_STRING:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			goto invalid;
		if (pol->len && strlen(mnl_attr_get_str(attr)) > pol->len)
			goto invalid;
		break;
	default:
		if (mnl_attr_validate(attr, pol->type) < 0)
			goto invalid;
		break;
	}
	p->tb[type] = attr;
	return MNL_CB_OK;

invalid:
	if (p->report)
		natctl_err("malformed attribute %u in the kernel's reply",
			   type);
	return MNL_CB_ERROR;
}

static int nl_parse_payload(const void *payload, size_t len,
			    const struct nl_policy *policy, uint16_t maxtype,
			    const struct nlattr **tb, bool report)
{
	struct nl_parse_ctx p = {
		.policy = policy,
		.maxtype = maxtype,
		.tb = tb,
		.report = report,
	};

	memset(tb, 0, (maxtype + 1) * sizeof(*tb));
	if (mnl_attr_parse_payload(payload, len, nl_attr_cb, &p) != MNL_CB_OK)
		return -EPROTO;
	return 0;
}

int nl_parse(const struct nlmsghdr *nlh, const struct nl_policy *policy,
	     uint16_t maxtype, const struct nlattr **tb)
{
	size_t len = mnl_nlmsg_get_payload_len(nlh);

	if (len < GENL_HDRLEN) {
		natctl_err("truncated message in the kernel's reply");
		return -EPROTO;
	}
	return nl_parse_payload(mnl_nlmsg_get_payload_offset(nlh, GENL_HDRLEN),
				len - GENL_HDRLEN, policy, maxtype, tb, true);
}

int nl_parse_nested(const struct nlattr *nest, const struct nl_policy *policy,
		    uint16_t maxtype, const struct nlattr **tb)
{
	return nl_parse_payload(mnl_attr_get_payload(nest),
				mnl_attr_get_payload_len(nest),
				policy, maxtype, tb, true);
}

static const struct nl_policy nl_extack_policy[NLMSGERR_ATTR_MAX + 1] = {
	[NLMSGERR_ATTR_MSG]		= { .type = MNL_TYPE_NUL_STRING },
	[NLMSGERR_ATTR_OFFS]		= { .type = MNL_TYPE_U32 },
	[NLMSGERR_ATTR_MISS_TYPE]	= { .type = MNL_TYPE_U32 },
	[NLMSGERR_ATTR_MISS_NEST]	= { .type = MNL_TYPE_U32 },
};

/* The extended-ack attributes of @nlh start @offset bytes into its payload. */
static void nl_parse_extack(const struct nlmsghdr *nlh, size_t offset,
			    struct nl_ack *ack)
{
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t len = mnl_nlmsg_get_payload_len(nlh);

	offset = MNL_ALIGN(offset);
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || offset > len)
		return;
	/* A garbled extack only costs us the message, not the result. */
	if (nl_parse_payload(mnl_nlmsg_get_payload_offset(nlh, offset),
			     len - offset, nl_extack_policy,
			     NLMSGERR_ATTR_MAX, tb, false))
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		ack->msg = mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]);
	ack->offs = tb[NLMSGERR_ATTR_OFFS];
	ack->miss_type = tb[NLMSGERR_ATTR_MISS_TYPE];
	ack->miss_nest = tb[NLMSGERR_ATTR_MISS_NEST];
}

static void nl_parse_error(const struct nlmsghdr *nlh, struct nl_ack *ack)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	size_t offset = sizeof(*err);

	*ack = (struct nl_ack){ 0 };
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err)) {
		ack->error = -EPROTO;
		return;
	}
	ack->error = err->error;
	/* Without NETLINK_CAP_ACK the kernel echoes our whole request. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset += mnl_nlmsg_get_payload_len(&err->msg);
	nl_parse_extack(nlh, offset, ack);
}

/* NLMSG_DONE ends a dump; an error that stopped the dump comes with it. */
static void nl_parse_done(const struct nlmsghdr *nlh, struct nl_ack *ack)
{
	int error;

	*ack = (struct nl_ack){ 0 };
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(error))
		return;
	memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
	ack->error = error;
	nl_parse_extack(nlh, sizeof(error), ack);
}

/* The longest message a send buffer of @size bytes takes (af_netlink.c). */
static uint32_t nl_sndbuf_room(int size)
{
	return size > 32 ? (uint32_t)size - 32 : 0;
}

/*
 * The kernel refuses a request longer than the socket's send buffer
 * (net.core.wmem_default, some 200 KiB): a large transaction needs a
 * larger one.  SO_SNDBUFFORCE goes past net.core.wmem_max with
 * CAP_NET_ADMIN; SO_SNDBUF, capped by it, is the fallback.
 */
static int nl_fit_sndbuf(struct nl *nl, uint32_t len)
{
	int fd = mnl_socket_get_fd(nl->sock);
	socklen_t optlen = sizeof(int);
	int size = 0;

	if (len <= nl->sndbuf)
		return 0;
	if (!getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &optlen))
		nl->sndbuf = nl_sndbuf_room(size);
	if (len <= nl->sndbuf)
		return 0;

	/* The kernel doubles the size asked for, for its bookkeeping. */
	size = len > INT_MAX / 2 - 64 ? INT_MAX / 2 : (int)len / 2 + 64;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	optlen = sizeof(int);
	if (!getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &optlen))
		nl->sndbuf = nl_sndbuf_room(size);
	if (len <= nl->sndbuf)
		return 0;
	natctl_err("the request is %u bytes, more than the socket's send buffer takes (%u): raise net.core.wmem_max, or run with CAP_NET_ADMIN",
		   len, nl->sndbuf);
	return -EMSGSIZE;
}

/*
 * Sends @req and reads its reply up to the acknowledgment or NLMSG_DONE,
 * calling @cb for each other message.  Returns 0 when the exchange
 * completed, the kernel's verdict being in @ack, or a negative errno that
 * has been reported.  After @cb fails the rest of the reply is still read,
 * so that it does not turn up as the answer to a later request.
 */
static int nl_run(struct nl *nl, struct nlmsghdr *req, nl_msg_cb_t cb,
		  void *data, struct nl_ack *ack)
{
	const struct nlmsghdr *nlh;
	bool done = false, intr = false;
	int cb_ret = 0, ret = 0;
	ssize_t len;
	int rem;

	*ack = (struct nl_ack){ 0 };
	req->nlmsg_seq = ++nl->seq;
	ret = nl_fit_sndbuf(nl, req->nlmsg_len);
	if (ret)
		goto out;
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0) {
		ret = -errno;
		natctl_err("cannot send a netlink request: %s", strerror(-ret));
		goto out;
	}

	while (!done) {
		len = mnl_socket_recvfrom(nl->sock, nl->buf, NL_RECV_SIZE);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			natctl_err("cannot receive a netlink reply: %s",
				   strerror(-ret));
			goto out;
		}
		rem = (int)len;
		for (nlh = (const struct nlmsghdr *)nl->buf;
		     !done && mnl_nlmsg_ok(nlh, rem);
		     nlh = mnl_nlmsg_next(nlh, &rem)) {
			/* Left over from an earlier request: skip it. */
			if (nlh->nlmsg_pid != nl->portid ||
			    nlh->nlmsg_seq != req->nlmsg_seq)
				continue;

			switch (nlh->nlmsg_type) {
			case NLMSG_NOOP:
				break;
			case NLMSG_ERROR:
				nl_parse_error(nlh, ack);
				done = true;
				break;
			case NLMSG_DONE:
				nl_parse_done(nlh, ack);
				done = true;
				break;
			case NLMSG_OVERRUN:
				natctl_err("netlink overrun: the reply was lost");
				ret = -EOVERFLOW;
				goto out;
			default:
				if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
					intr = true;
				if (cb && !cb_ret)
					cb_ret = cb(nlh, data);
				break;
			}
		}
	}

	ack->dump_intr = intr;
	if (!ack->error)
		ret = cb_ret;	/* the caller reports the kernel's error */
out:
	return ret;
}

/*
 * Names the attribute at byte @offs of @req as its type, or its path of
 * types through nests ("3.1"), looking among the attributes in
 * [@start, @start + @len).
 */
static bool nl_attr_path(const struct nlmsghdr *req, const void *start,
			 size_t len, uint32_t offs, char *buf, size_t size)
{
	const struct nlattr *attr;
	uint32_t pos;
	int n;

	for (attr = start;
	     mnl_attr_ok(attr, (int)((const char *)start + len -
				     (const char *)attr));
	     attr = mnl_attr_next(attr)) {
		pos = (uint32_t)((const char *)attr - (const char *)req);
		if (offs < pos || offs >= pos + attr->nla_len)
			continue;
		n = snprintf(buf, size, offs == pos ? "%u" : "%u.",
			     mnl_attr_get_type(attr));
		if (n < 0 || (size_t)n >= size)
			return false;
		if (offs == pos)
			return true;
		return nl_attr_path(req, mnl_attr_get_payload(attr),
				    mnl_attr_get_payload_len(attr), offs,
				    buf + n, size - (size_t)n);
	}
	return false;
}

/* " (offending attribute type 3.1 at offset 24)", or "" */
static void nl_describe_attr(const struct nlmsghdr *req, const char *what,
			     uint32_t offs, char *buf, size_t size)
{
	size_t hlen = MNL_NLMSG_HDRLEN + GENL_HDRLEN;
	char path[64];

	if (offs < req->nlmsg_len &&
	    nl_attr_path(req, (const char *)req + hlen,
			 req->nlmsg_len - hlen, offs, path, sizeof(path)))
		snprintf(buf, size, " (%s type %s at offset %u)",
			 what, path, offs);
	else
		snprintf(buf, size, " (%s at offset %u)", what, offs);
}

void nl_report(const struct nlmsghdr *req, const struct nl_ack *ack)
{
	char where[128] = "", nest[112] = "";

	if (ack->offs) {
		nl_describe_attr(req, "offending attribute",
				 mnl_attr_get_u32(ack->offs),
				 where, sizeof(where));
	} else if (ack->miss_type) {
		if (ack->miss_nest)
			nl_describe_attr(req, "in the nest",
					 mnl_attr_get_u32(ack->miss_nest),
					 nest, sizeof(nest));
		snprintf(where, sizeof(where), " (missing attribute type %u%s)",
			 mnl_attr_get_u32(ack->miss_type), nest);
	}
	/* An older module does not know the command at all. */
	if (ack->error == -EOPNOTSUPP && !ack->msg && !where[0]) {
		natctl_err("%s: this knat module does not have that command (an older module? see 'natctl info')",
			   strerror(-ack->error));
		return;
	}
	natctl_err("%s%s%s%s", strerror(-ack->error),
		   ack->msg ? ": " : "", ack->msg ? ack->msg : "", where);
}

int nl_req_exchange(struct nl *nl, struct nlmsghdr *nlh, nl_msg_cb_t cb,
		    void *data, struct nl_ack *ack)
{
	struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);
	int ret;

	/* A request from nl_req_init() learns its family only now. */
	nlh->nlmsg_type = nl->family_id;
	genl->version = nl->version;
	ret = nl_run(nl, nlh, cb, data, ack);
	if (!ret && !ack->error && ack->msg)
		natctl_err("warning: %s", ack->msg);
	return ret;
}

int nl_req_send(struct nl *nl, struct nlmsghdr *nlh, nl_msg_cb_t cb,
		void *data)
{
	struct nl_ack ack;
	int ret;

	ret = nl_req_exchange(nl, nlh, cb, data, &ack);
	if (ret)
		goto out;
	ret = ack.error;
	if (ret) {
		nl_report(nlh, &ack);
	} else if (ack.dump_intr) {
		natctl_err("the dump was interrupted by a concurrent change, try again");
		ret = -EINTR;
	}
out:
	return ret;
}

static struct nlmsghdr *nl_msg_put(void *buf, uint16_t type, uint8_t cmd,
				   uint8_t version, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

struct nlmsghdr *nl_req_start(struct nl *nl, uint8_t cmd, uint16_t flags)
{
	return nl_msg_put(nl->req, nl->family_id, cmd, nl->version, flags);
}

struct nlmsghdr *nl_req_init(void *buf, uint8_t cmd, uint16_t flags)
{
	return nl_msg_put(buf, 0, cmd, 0, flags);
}

static const struct nl_policy nl_ctrl_policy[CTRL_ATTR_MAX + 1] = {
	[CTRL_ATTR_FAMILY_ID]	= { .type = MNL_TYPE_U16 },
	[CTRL_ATTR_VERSION]	= { .type = MNL_TYPE_U32 },
	[CTRL_ATTR_MAXATTR]	= { .type = MNL_TYPE_U32 },
	[CTRL_ATTR_MCAST_GROUPS] = { .type = MNL_TYPE_NESTED },
};

static const struct nl_policy nl_group_policy[CTRL_ATTR_MCAST_GRP_MAX + 1] = {
	[CTRL_ATTR_MCAST_GRP_NAME] = { .type = MNL_TYPE_NUL_STRING,
				       .len = GENL_NAMSIZ - 1 },
	[CTRL_ATTR_MCAST_GRP_ID] = { .type = MNL_TYPE_U32 },
};

/* CTRL_ATTR_MCAST_GROUPS: a nest per group, with its name and id. */
static int nl_family_groups(struct nl *nl, const struct nlattr *groups)
{
	const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1];
	const struct nlattr *grp;
	struct nl_group *g;
	int ret;

	mnl_attr_for_each_nested(grp, groups) {
		ret = nl_parse_nested(grp, nl_group_policy,
				      CTRL_ATTR_MCAST_GRP_MAX, tb);
		if (ret)
			return ret;
		if (!tb[CTRL_ATTR_MCAST_GRP_NAME] ||
		    !tb[CTRL_ATTR_MCAST_GRP_ID] ||
		    nl->n_groups == NL_MAX_GROUPS)
			continue;
		g = &nl->groups[nl->n_groups++];
		strcpy(g->name, mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]));
		g->id = mnl_attr_get_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
	}
	return 0;
}

static int nl_family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	struct nl *nl = data;
	int ret;

	ret = nl_parse(nlh, nl_ctrl_policy, CTRL_ATTR_MAX, tb);
	if (ret)
		goto out;
	if (!tb[CTRL_ATTR_FAMILY_ID]) {
		natctl_err("the kernel's family description lacks an id");
		ret = -EPROTO;
		goto out;
	}
	nl->family_id = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (tb[CTRL_ATTR_VERSION])
		nl->family_version = mnl_attr_get_u32(tb[CTRL_ATTR_VERSION]);
	if (tb[CTRL_ATTR_MAXATTR])
		nl->family_maxattr = mnl_attr_get_u32(tb[CTRL_ATTR_MAXATTR]);
	if (tb[CTRL_ATTR_MCAST_GROUPS])
		ret = nl_family_groups(nl, tb[CTRL_ATTR_MCAST_GROUPS]);
out:
	return ret;
}

static int nl_resolve_family(struct nl *nl, const char *family)
{
	struct nlmsghdr *nlh;
	struct nl_ack ack;
	int ret;

	nlh = nl_msg_put(nl->req, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0);
	if (!mnl_attr_put_strz_check(nlh, NL_REQ_SIZE, CTRL_ATTR_FAMILY_NAME,
				     family)) {
		natctl_err("generic netlink family name too long");
		ret = -ENAMETOOLONG;
		goto out;
	}
	ret = nl_run(nl, nlh, nl_family_cb, nl, &ack);
	if (ret)
		goto out;
	ret = ack.error;
	if (ret == -ENOENT)
		goto out;	/* the caller says what is missing */
	if (ret) {
		natctl_err("cannot look up generic netlink family \"%s\": %s%s%s",
			   family, strerror(-ret), ack.msg ? ": " : "",
			   ack.msg ? ack.msg : "");
		goto out;
	}
	if (!nl->family_id) {
		natctl_err("no description of generic netlink family \"%s\"",
			   family);
		ret = -EPROTO;
	}
out:
	return ret;
}

int nl_open(struct nl **nlp, const char *family, uint8_t version)
{
	struct nl *nl;
	int one = 1;
	int ret = 0;

	nl = calloc(1, sizeof(*nl));
	if (nl) {
		nl->req = calloc(1, NL_REQ_SIZE);
		nl->buf = malloc(NL_RECV_SIZE);
	}
	if (!nl || !nl->req || !nl->buf) {
		natctl_err("out of memory");
		ret = -ENOMEM;
		goto out;
	}

	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock) {
		ret = -errno;
		natctl_err("cannot open a generic netlink socket: %s",
			   strerror(-ret));
		goto out;
	}
	/* Kernels before 4.12 lack these; their errors come without a why. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		natctl_err("cannot bind a generic netlink socket: %s",
			   strerror(-ret));
		goto out;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned int)time(NULL);
	nl->version = version;

	ret = nl_resolve_family(nl, family);
out:
	if (ret) {
		nl_close(nl);
		nl = NULL;
	}
	*nlp = nl;
	return ret;
}

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->buf);
	free(nl->req);
	free(nl);
}

uint32_t nl_family_version(const struct nl *nl)
{
	return nl->family_version;
}

uint32_t nl_family_maxattr(const struct nl *nl)
{
	return nl->family_maxattr;
}

uint16_t nl_family_id(const struct nl *nl)
{
	return nl->family_id;
}

int nl_group_id(const struct nl *nl, const char *name, uint32_t *id)
{
	size_t i;

	for (i = 0; i < nl->n_groups; i++) {
		if (!strcmp(nl->groups[i].name, name)) {
			*id = nl->groups[i].id;
			return 0;
		}
	}
	return -ENOENT;
}

struct mnl_socket *nl_socket(const struct nl *nl)
{
	return nl->sock;
}
