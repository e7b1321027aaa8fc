// SPDX-License-Identifier: GPL-2.0
/*
 * genl_client: knat's generic netlink protocol, spoken by a client of its
 * own.  Everything here comes from uapi/knat.h and libnl-genl-3, nothing
 * from natctl: the test checks that the protocol works as the header
 * documents it, for any client.
 *
 * Every test runs in a network namespace of its own (the harness forks each
 * test; FIXTURE_SETUP unshares the network namespace), which starts with
 * two networks.  Requests that must fail are checked for their errno, their
 * extended ack (the message, the offending attribute's offset or the
 * missing attribute), and for leaving the configuration as it was: a full
 * attribute dump of every network before and after must be identical.
 *
 * Build: make -C selftests (kselftest_harness.h comes from Debian's
 * linux-source-6.1, extracted into build/kselftest).  Run as root with knat
 * loaded; the output is KTAP.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "knat.h"

#include "kselftest_harness.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Addresses for documentation and benchmarking only. */
#define BASE_NAME	"base"
#define BASE_PREFIX	"198.18.0.0"
#define BASE_PLEN	24
#define BASE_EXT	"203.0.113.1"
#define BASE2_NAME	"base2"
#define BASE2_PREFIX	"198.19.0.0"
#define BASE2_PLEN	16
#define BASE2_EXT1	"192.0.2.1"
#define BASE2_EXT2	"192.0.2.2"

#define MSG_SIZE	(256 * 1024)

/* ---- a growing string ---- */

struct sbuf {
	char *p;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if ((size_t)n < room) {
			b->len += n;
			return;
		}
		b->cap = (b->cap ? b->cap * 2 : 4096) + n;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
}

/* ---- the client ---- */

struct client {
	struct nl_sock *sk;
	int family;
	int events_grp;
};

/*
 * A connected generic netlink socket with extended acks, the family and
 * its events group resolved.  0, or a negative libnl error.
 */
static int client_open(struct client *c)
{
	int one = 1, err;

	memset(c, 0, sizeof(*c));
	c->sk = nl_socket_alloc();
	if (!c->sk)
		return -NLE_NOMEM;
	err = genl_connect(c->sk);
	if (err < 0)
		goto err;
	if (setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		       &one, sizeof(one)) < 0) {
		err = -nl_syserr2nlerr(errno);
		goto err;
	}
	c->family = genl_ctrl_resolve(c->sk, KNAT_GENL_NAME);
	if (c->family < 0) {
		err = c->family;
		goto err;
	}
	c->events_grp = genl_ctrl_resolve_grp(c->sk, KNAT_GENL_NAME,
					      KNAT_MCGRP_EVENTS);
	if (c->events_grp < 0) {
		err = c->events_grp;
		goto err;
	}
	/* From here on, the requests say themselves whether they want acks. */
	nl_socket_disable_auto_ack(c->sk);
	nl_socket_enable_msg_peek(c->sk);
	return 0;

err:
	nl_socket_free(c->sk);
	c->sk = NULL;
	return err;
}

static void client_close(struct client *c)
{
	if (c->sk)
		nl_socket_free(c->sk);
	c->sk = NULL;
}

/* A request: a doit wants an ack (NLM_F_ACK), a dump ends with DONE. */
static struct nl_msg *req(const struct client *c, uint8_t cmd, int flags)
{
	struct nl_msg *m = nlmsg_alloc_size(MSG_SIZE);

	if (!m)
		abort();
	if (!genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, c->family, 0, flags,
			 cmd, KNAT_GENL_VERSION))
		abort();
	return m;
}

static struct nl_msg *doit(const struct client *c, uint8_t cmd)
{
	return req(c, cmd, NLM_F_ACK);
}

static struct nl_msg *dump(const struct client *c, uint8_t cmd)
{
	return req(c, cmd, NLM_F_DUMP);
}

/* Where the next attribute put into @m goes, from the message's start. */
static int tail_off(struct nl_msg *m)
{
	return NLMSG_ALIGN(nlmsg_hdr(m)->nlmsg_len);
}

static int attr_off(struct nl_msg *m, const struct nlattr *a)
{
	return (const char *)a - (const char *)nlmsg_hdr(m);
}

static struct nlattr *nest_start(struct nl_msg *m, int type)
{
	struct nlattr *a = nla_nest_start(m, type | NLA_F_NESTED);

	if (!a)
		abort();
	return a;
}

static void nest_end(struct nl_msg *m, struct nlattr *a)
{
	if (nla_nest_end_keep_empty(m, a) < 0)
		abort();
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return a.s_addr;
}

static void put_ext_addrs(struct nl_msg *m, const char *a1, const char *a2)
{
	struct nlattr *nest = nest_start(m, KNAT_A_NETWORK_EXT_ADDRS);

	nla_put_u32(m, KNAT_A_EXT_ADDR, ip(a1));
	if (a2)
		nla_put_u32(m, KNAT_A_EXT_ADDR, ip(a2));
	nest_end(m, nest);
}

/* The required attributes of KNAT_CMD_NETWORK_NEW, with a pool of one. */
static void put_network(struct nl_msg *m, const char *name, const char *prefix,
			uint8_t plen, const char *ext)
{
	nla_put_string(m, KNAT_A_NETWORK_NAME, name);
	nla_put_u32(m, KNAT_A_NETWORK_PREFIX, ip(prefix));
	nla_put_u8(m, KNAT_A_NETWORK_PREFIX_LEN, plen);
	put_ext_addrs(m, ext, NULL);
}

/* ---- requests and their answers ---- */

/* How a request ended. */
struct reply {
	int err;		/* 0, or the negative errno */
	bool acked;		/* by NLMSG_ERROR (an ack or an error) */
	bool done;		/* by NLMSG_DONE */
	bool has_msg;		/* extack: NLMSGERR_ATTR_MSG ... */
	char msg[256];
	int offs;		/* NLMSGERR_ATTR_OFFS, or -1 */
	int miss_type;		/* NLMSGERR_ATTR_MISS_TYPE, or -1 */
	int miss_nest;		/* NLMSGERR_ATTR_MISS_NEST, or -1 */
	int n_msgs;		/* data messages before the end */
};

typedef void (*msg_fn)(const struct nlmsghdr *nlh, void *arg);

static void parse_ext_ack(struct reply *r, void *tlvs, int len)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];

	if (len <= 0 || nla_parse(tb, NLMSGERR_ATTR_MAX, tlvs, len, NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG]) {
		r->has_msg = true;
		snprintf(r->msg, sizeof(r->msg), "%.*s",
			 nla_len(tb[NLMSGERR_ATTR_MSG]),
			 (char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	}
	if (tb[NLMSGERR_ATTR_OFFS])
		r->offs = nla_get_u32(tb[NLMSGERR_ATTR_OFFS]);
	if (tb[NLMSGERR_ATTR_MISS_TYPE])
		r->miss_type = nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
	if (tb[NLMSGERR_ATTR_MISS_NEST])
		r->miss_nest = nla_get_u32(tb[NLMSGERR_ATTR_MISS_NEST]);
}

/* NLMSG_ERROR: the errno, then (unless capped) the request, then TLVs. */
static void parse_error(struct reply *r, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = nlmsg_data(nlh);
	int off = sizeof(*e);

	r->acked = true;
	r->err = e->error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (e->error && !(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	parse_ext_ack(r, (char *)e + off, nlmsg_datalen(nlh) - off);
}

/* NLMSG_DONE: the dump's errno, then TLVs. */
static void parse_done(struct reply *r, const struct nlmsghdr *nlh)
{
	r->done = true;
	if (nlmsg_datalen(nlh) >= (int)sizeof(int)) {
		memcpy(&r->err, nlmsg_data(nlh), sizeof(int));
		if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
			parse_ext_ack(r, (char *)nlmsg_data(nlh) + sizeof(int),
				      nlmsg_datalen(nlh) - sizeof(int));
	}
}

/*
 * Send @m (freed) on @c and read the answer to its end: each data message
 * to @fn, the end in @r.  0, or a negative libnl error when the exchange
 * itself failed.
 */
static int transact(struct client *c, struct nl_msg *m, msg_fn fn, void *arg,
		    struct reply *r)
{
	uint32_t seq;
	int err;

	memset(r, 0, sizeof(*r));
	r->offs = r->miss_type = r->miss_nest = -1;

	err = nl_send_auto(c->sk, m);
	seq = nlmsg_hdr(m)->nlmsg_seq;
	nlmsg_free(m);
	if (err < 0)
		return err;

	for (;;) {
		struct sockaddr_nl from;
		unsigned char *buf = NULL;
		struct nlmsghdr *nlh;
		bool end = false;
		int n;

		n = nl_recv(c->sk, &from, &buf, NULL);
		if (n <= 0) {
			free(buf);
			return n ? n : -NLE_MSG_TRUNC;
		}
		for (nlh = (struct nlmsghdr *)buf; !end && nlmsg_ok(nlh, n);
		     nlh = nlmsg_next(nlh, &n)) {
			if (nlh->nlmsg_seq != seq)
				continue;	/* not ours */
			switch (nlh->nlmsg_type) {
			case NLMSG_ERROR:
				parse_error(r, nlh);
				end = true;
				break;
			case NLMSG_DONE:
				parse_done(r, nlh);
				end = true;
				break;
			case NLMSG_NOOP:
				break;
			default:
				r->n_msgs++;
				if (fn)
					fn(nlh, arg);
			}
		}
		free(buf);
		if (end)
			return 0;
	}
}

/* ---- what a network looks like ---- */

struct network {
	char name[KNAT_NAME_MAXLEN + 2];
	uint32_t id;
	bool has_id;
	uint32_t prefix;
	uint8_t plen;
	int n_addrs;
	int port_min, port_max;	/* -1 when absent */
	uint32_t timeout_udp;
};

static struct nlattr *genl_attrs(const struct nlmsghdr *nlh, int *len)
{
	struct genlmsghdr *g = nlmsg_data(nlh);

	*len = genlmsg_attrlen(g, 0);
	return genlmsg_attrdata(g, 0);
}

static void parse_network(const struct nlmsghdr *nlh, struct network *n)
{
	struct nlattr *a, *head;
	int len, rem;

	memset(n, 0, sizeof(*n));
	n->port_min = n->port_max = -1;
	head = genl_attrs(nlh, &len);
	nla_for_each_attr(a, head, len, rem) {
		switch (nla_type(a)) {
		case KNAT_A_NETWORK_NAME:
			snprintf(n->name, sizeof(n->name), "%.*s",
				 nla_len(a), (char *)nla_data(a));
			break;
		case KNAT_A_NETWORK_ID:
			n->id = nla_get_u32(a);
			n->has_id = true;
			break;
		case KNAT_A_NETWORK_PREFIX:
			n->prefix = nla_get_u32(a);
			break;
		case KNAT_A_NETWORK_PREFIX_LEN:
			n->plen = nla_get_u8(a);
			break;
		case KNAT_A_NETWORK_PORT_MIN:
			n->port_min = nla_get_u16(a);
			break;
		case KNAT_A_NETWORK_PORT_MAX:
			n->port_max = nla_get_u16(a);
			break;
		case KNAT_A_NETWORK_TIMEOUT_UDP:
			n->timeout_udp = nla_get_u32(a);
			break;
		case KNAT_A_NETWORK_EXT_ADDRS: {
			struct nlattr *e;
			int r2;

			nla_for_each_nested(e, a, r2)
				n->n_addrs++;
			break;
		}
		}
	}
}

/*
 * One line per message: its command and every attribute, type and bytes,
 * in the order sent.  Two configurations are equal when their texts are.
 */
static void render_msg(struct sbuf *b, const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = nlmsg_data(nlh);
	struct nlattr *a, *head;
	int len, rem, i;

	sb_printf(b, "cmd %u", g->cmd);
	head = genl_attrs(nlh, &len);
	nla_for_each_attr(a, head, len, rem) {
		const unsigned char *d = nla_data(a);

		if (nla_type(a) == KNAT_A_NETWORK_NAME) {
			sb_printf(b, " name=%.*s", nla_len(a), (const char *)d);
			continue;
		}
		sb_printf(b, " %u%s=", nla_type(a),
			  a->nla_type & NLA_F_NESTED ? "N" : "");
		for (i = 0; i < nla_len(a); i++)
			sb_printf(b, "%02x", d[i]);
	}
	sb_printf(b, "\n");
}

struct dump_state {
	struct sbuf text;
	struct network *nets;
	int n;
};

static void collect_network(const struct nlmsghdr *nlh, void *arg)
{
	struct dump_state *d = arg;

	render_msg(&d->text, nlh);
	d->nets = realloc(d->nets, (d->n + 1) * sizeof(*d->nets));
	if (!d->nets)
		abort();
	parse_network(nlh, &d->nets[d->n++]);
}

static void dump_free(struct dump_state *d)
{
	free(d->text.p);
	free(d->nets);
	memset(d, 0, sizeof(*d));
}

/* Every network of the namespace, by a NETWORK_GET dump. */
static void dump_networks(struct __test_metadata *_metadata, struct client *c,
			  struct dump_state *d)
{
	struct reply r;

	memset(d, 0, sizeof(*d));
	ASSERT_EQ(0, transact(c, dump(c, KNAT_CMD_NETWORK_GET),
			      collect_network, d, &r));
	ASSERT_TRUE(r.done);
	ASSERT_EQ(0, r.err);
	sb_printf(&d->text, "%d networks\n", d->n);
}

static void count_info(const struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[KNAT_A_INFO_MAX + 1];

	if (genlmsg_parse((struct nlmsghdr *)nlh, 0, tb, KNAT_A_INFO_MAX,
			  NULL) == 0 && tb[KNAT_A_INFO_NETWORKS])
		*(int *)arg = nla_get_u32(tb[KNAT_A_INFO_NETWORKS]);
}

/* KNAT_A_INFO_NETWORKS of GET_INFO. */
static int info_networks(struct __test_metadata *_metadata, struct client *c)
{
	struct reply r;
	int n = -1;

	EXPECT_EQ(0, transact(c, doit(c, KNAT_CMD_GET_INFO), count_info, &n,
			      &r));
	EXPECT_EQ(0, r.err);
	EXPECT_EQ(1, r.n_msgs);
	return n;
}

/* The whole configuration as text (malloc'ed). */
static char *config_text(struct __test_metadata *_metadata, struct client *c)
{
	struct dump_state d;
	char *text;

	dump_networks(_metadata, c, &d);
	EXPECT_EQ(d.n, info_networks(_metadata, c));
	text = d.text.p;
	d.text.p = NULL;
	dump_free(&d);
	return text;
}

static void expect_config(struct __test_metadata *_metadata, struct client *c,
			  const char *before)
{
	char *now = config_text(_metadata, c);

	EXPECT_STREQ(before, now);
	free(now);
}

/* NETWORK_GET of one network: 0 and @n, or the negative errno. */
static int get_network(struct __test_metadata *_metadata, struct client *c,
		       const char *name, struct network *n)
{
	struct nl_msg *m = doit(c, KNAT_CMD_NETWORK_GET);
	struct dump_state d = {};
	struct reply r;

	nla_put_string(m, KNAT_A_NETWORK_NAME, name);
	EXPECT_EQ(0, transact(c, m, collect_network, &d, &r));
	EXPECT_TRUE(r.acked);
	if (!r.err) {
		EXPECT_EQ(1, d.n);
		if (d.n == 1 && n)
			*n = d.nets[0];
	}
	dump_free(&d);
	return r.err;
}

/* A request that must succeed (with its ack). */
static void ok(struct __test_metadata *_metadata, struct client *c,
	       struct nl_msg *m)
{
	struct reply r;

	ASSERT_EQ(0, transact(c, m, NULL, NULL, &r));
	if (r.err)
		TH_LOG("unexpected error %d (%s), extack \"%s\"", r.err,
		       strerror(-r.err), r.msg);
	ASSERT_TRUE(r.acked || r.done);
	ASSERT_EQ(0, r.err);
}

/*
 * A request that must fail with -@err and the extack message @text (NULL:
 * no message is required; then the caller checks what else must be
 * there), and leave the configuration @before.
 */
static void rejected(struct __test_metadata *_metadata, struct client *c,
		     struct nl_msg *m, int err, const char *text,
		     const char *before, struct reply *out)
{
	struct reply r;

	ASSERT_EQ(0, transact(c, m, NULL, NULL, &r));
	EXPECT_TRUE(r.acked || r.done);
	EXPECT_EQ(-err, r.err) {
		TH_LOG("expected %s, got %d (%s), extack \"%s\"",
		       strerror(err), r.err, strerror(-r.err), r.msg);
	}
	if (text) {
		EXPECT_TRUE(r.has_msg);
		EXPECT_STREQ(text, r.msg);
	}
	if (before)
		expect_config(_metadata, c, before);
	if (out)
		*out = r;
}

/* ---- the fixture: a namespace of its own, with two networks ---- */

FIXTURE(knat) {
	struct client c;
	char *before;
	uint32_t base_id;
};

FIXTURE_SETUP(knat)
{
	struct nl_msg *m;
	struct network n;
	int err;

	ASSERT_EQ(0, unshare(CLONE_NEWNET)) {
		TH_LOG("unshare(CLONE_NEWNET): %s", strerror(errno));
	}
	err = client_open(&self->c);
	ASSERT_EQ(0, err) {
		TH_LOG("cannot open the knat family: %s", nl_geterror(err));
	}

	m = doit(&self->c, KNAT_CMD_NETWORK_NEW);
	put_network(m, BASE_NAME, BASE_PREFIX, BASE_PLEN, BASE_EXT);
	ok(_metadata, &self->c, m);

	m = doit(&self->c, KNAT_CMD_NETWORK_NEW);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE2_NAME);
	nla_put_u32(m, KNAT_A_NETWORK_PREFIX, ip(BASE2_PREFIX));
	nla_put_u8(m, KNAT_A_NETWORK_PREFIX_LEN, BASE2_PLEN);
	put_ext_addrs(m, BASE2_EXT1, BASE2_EXT2);
	nla_put_u16(m, KNAT_A_NETWORK_PORT_MIN, 2000);
	nla_put_u16(m, KNAT_A_NETWORK_PORT_MAX, 2999);
	nla_put_u8(m, KNAT_A_NETWORK_FILTERING,
		   KNAT_FILTER_ADDRESS_PORT_DEPENDENT);
	nla_put_u32(m, KNAT_A_NETWORK_TIMEOUT_UDP, 120);
	ok(_metadata, &self->c, m);

	ASSERT_EQ(0, get_network(_metadata, &self->c, BASE_NAME, &n));
	ASSERT_TRUE(n.has_id);
	self->base_id = n.id;
	self->before = config_text(_metadata, &self->c);
	ASSERT_NE(NULL, strstr(self->before, "2 networks"));
}

FIXTURE_TEARDOWN(knat)
{
	free(self->before);
	client_close(&self->c);
}

/* ---- missing required attributes ---- */

TEST_F(knat, missing_attrs)
{
	struct client *c = &self->c;
	struct nl_msg *m;
	struct reply r;

	/* NETWORK_NEW without NAME */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	nla_put_u32(m, KNAT_A_NETWORK_PREFIX, ip("198.18.1.0"));
	nla_put_u8(m, KNAT_A_NETWORK_PREFIX_LEN, 24);
	put_ext_addrs(m, BASE_EXT, NULL);
	rejected(_metadata, c, m, EINVAL, NULL, self->before, &r);
	EXPECT_EQ(KNAT_A_NETWORK_NAME, r.miss_type);
	EXPECT_EQ(-1, r.miss_nest);	/* at the top level */

	/* without PREFIX */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	nla_put_string(m, KNAT_A_NETWORK_NAME, "new");
	nla_put_u8(m, KNAT_A_NETWORK_PREFIX_LEN, 24);
	put_ext_addrs(m, BASE_EXT, NULL);
	rejected(_metadata, c, m, EINVAL, NULL, self->before, &r);
	EXPECT_EQ(KNAT_A_NETWORK_PREFIX, r.miss_type);

	/* without PREFIX_LEN */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	nla_put_string(m, KNAT_A_NETWORK_NAME, "new");
	nla_put_u32(m, KNAT_A_NETWORK_PREFIX, ip("198.18.1.0"));
	put_ext_addrs(m, BASE_EXT, NULL);
	rejected(_metadata, c, m, EINVAL, NULL, self->before, &r);
	EXPECT_EQ(KNAT_A_NETWORK_PREFIX_LEN, r.miss_type);

	/* without EXT_DEV or EXT_ADDRS */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	nla_put_string(m, KNAT_A_NETWORK_NAME, "new");
	nla_put_u32(m, KNAT_A_NETWORK_PREFIX, ip("198.18.1.0"));
	nla_put_u8(m, KNAT_A_NETWORK_PREFIX_LEN, 24);
	rejected(_metadata, c, m, EINVAL,
		 "an external device or addresses are required",
		 self->before, NULL);

	/* an empty pool */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	nla_put_string(m, KNAT_A_NETWORK_NAME, "new");
	nla_put_u32(m, KNAT_A_NETWORK_PREFIX, ip("198.18.1.0"));
	nla_put_u8(m, KNAT_A_NETWORK_PREFIX_LEN, 24);
	nest_end(m, nest_start(m, KNAT_A_NETWORK_EXT_ADDRS));
	rejected(_metadata, c, m, EINVAL, "no external address",
		 self->before, NULL);

	/* SET and DEL without NAME */
	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_u32(m, KNAT_A_NETWORK_TIMEOUT_UDP, 30);
	rejected(_metadata, c, m, EINVAL, NULL, self->before, &r);
	EXPECT_EQ(KNAT_A_NETWORK_NAME, r.miss_type);
	m = doit(c, KNAT_CMD_NETWORK_DEL);
	rejected(_metadata, c, m, EINVAL, NULL, self->before, &r);
	EXPECT_EQ(KNAT_A_NETWORK_NAME, r.miss_type);

	/* NETWORK_GET (a doit: no NLM_F_DUMP) without NAME */
	m = doit(c, KNAT_CMD_NETWORK_GET);
	rejected(_metadata, c, m, EINVAL, NULL, self->before, &r);
	EXPECT_EQ(KNAT_A_NETWORK_NAME, r.miss_type);

	/* LOOKUP without DST_PORT */
	m = doit(c, KNAT_CMD_LOOKUP);
	nla_put_u8(m, KNAT_A_SESSION_PROTO, IPPROTO_UDP);
	nla_put_u32(m, KNAT_A_SESSION_SRC_ADDR, ip("198.18.0.2"));
	nla_put_u16(m, KNAT_A_SESSION_SRC_PORT, 1000);
	nla_put_u32(m, KNAT_A_SESSION_DST_ADDR, ip("198.51.100.1"));
	rejected(_metadata, c, m, EINVAL, NULL, self->before, &r);
	EXPECT_EQ(KNAT_A_SESSION_DST_PORT, r.miss_type);
}

/* ---- wrong attribute types and lengths ---- */

TEST_F(knat, wrong_types)
{
	static const char name_abcd[4] = { 'a', 'b', 'c', 'd' };
	struct client *c = &self->c;
	struct nl_msg *m;
	struct reply r;
	int off;

	/* PREFIX as two bytes */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	nla_put_string(m, KNAT_A_NETWORK_NAME, "new");
	off = tail_off(m);
	nla_put_u16(m, KNAT_A_NETWORK_PREFIX, htons(0xc612));
	nla_put_u8(m, KNAT_A_NETWORK_PREFIX_LEN, 24);
	put_ext_addrs(m, BASE_EXT, NULL);
	rejected(_metadata, c, m, EINVAL, "invalid attribute length",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* NAME as a u32 without a NUL in it ("abcd") */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	off = tail_off(m);
	nla_put(m, KNAT_A_NETWORK_NAME, sizeof(name_abcd), name_abcd);
	nla_put_u32(m, KNAT_A_NETWORK_PREFIX, ip("198.18.1.0"));
	nla_put_u8(m, KNAT_A_NETWORK_PREFIX_LEN, 24);
	put_ext_addrs(m, BASE_EXT, NULL);
	rejected(_metadata, c, m, EINVAL, "Attribute failed policy validation",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* NAME as the u32 7: a string, but not a valid name */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	off = tail_off(m);
	nla_put_u32(m, KNAT_A_NETWORK_NAME, 7);
	nla_put_u32(m, KNAT_A_NETWORK_PREFIX, ip("198.18.1.0"));
	nla_put_u8(m, KNAT_A_NETWORK_PREFIX_LEN, 24);
	put_ext_addrs(m, BASE_EXT, NULL);
	rejected(_metadata, c, m, EINVAL,
		 "name must be letters, digits, '_', '.', '-'",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* PORT_MIN as a u32, in SET and in NEW */
	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	off = tail_off(m);
	nla_put_u32(m, KNAT_A_NETWORK_PORT_MIN, 1024);
	nla_put_u16(m, KNAT_A_NETWORK_PORT_MAX, 2048);
	rejected(_metadata, c, m, EINVAL, "invalid attribute length",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	m = doit(c, KNAT_CMD_NETWORK_NEW);
	put_network(m, "new", "198.18.1.0", 24, BASE_EXT);
	off = tail_off(m);
	nla_put_u32(m, KNAT_A_NETWORK_PORT_MIN, 1024);
	nla_put_u16(m, KNAT_A_NETWORK_PORT_MAX, 2048);
	rejected(_metadata, c, m, EINVAL, "invalid attribute length",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* PREFIX_LEN as a u32 */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	nla_put_string(m, KNAT_A_NETWORK_NAME, "new");
	nla_put_u32(m, KNAT_A_NETWORK_PREFIX, ip("198.18.1.0"));
	off = tail_off(m);
	nla_put_u32(m, KNAT_A_NETWORK_PREFIX_LEN, 24);
	put_ext_addrs(m, BASE_EXT, NULL);
	rejected(_metadata, c, m, EINVAL, "invalid attribute length",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* an external address of 8 bytes */
	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	{
		struct nlattr *nest = nest_start(m, KNAT_A_NETWORK_EXT_ADDRS);

		off = tail_off(m);
		nla_put_u64(m, KNAT_A_EXT_ADDR, 0);
		nest_end(m, nest);
	}
	rejected(_metadata, c, m, EINVAL, "invalid attribute length",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* EXT_ADDRS without NLA_F_NESTED */
	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	off = tail_off(m);
	{
		struct nlattr *nest = nla_nest_start(m, 0);

		nest->nla_type = KNAT_A_NETWORK_EXT_ADDRS;
		nla_put_u32(m, KNAT_A_EXT_ADDR, ip("203.0.113.9"));
		nest_end(m, nest);
		nest->nla_type = KNAT_A_NETWORK_EXT_ADDRS;
	}
	rejected(_metadata, c, m, EINVAL, "NLA_F_NESTED is missing",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);
}

/* ---- oversized, unterminated and invalid strings ---- */

TEST_F(knat, bad_strings)
{
	static const char unterminated[3] = { 'n', 'e', 'w' };
	struct client *c = &self->c;
	struct network n;
	struct nl_msg *m;
	struct reply r;
	int off;

	/* 16 characters, one more than KNAT_NAME_MAXLEN */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	off = tail_off(m);
	put_network(m, "abcdefghijklmnop", "198.18.1.0", 24, BASE_EXT);
	rejected(_metadata, c, m, EINVAL, "Attribute failed policy validation",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* a long one */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	off = tail_off(m);
	put_network(m, "a-name-much-longer-than-sixteen-characters",
		    "198.18.1.0", 24, BASE_EXT);
	rejected(_metadata, c, m, EINVAL, "Attribute failed policy validation",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* no NUL */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	off = tail_off(m);
	nla_put(m, KNAT_A_NETWORK_NAME, sizeof(unterminated), unterminated);
	nla_put_u32(m, KNAT_A_NETWORK_PREFIX, ip("198.18.1.0"));
	nla_put_u8(m, KNAT_A_NETWORK_PREFIX_LEN, 24);
	put_ext_addrs(m, BASE_EXT, NULL);
	rejected(_metadata, c, m, EINVAL, "Attribute failed policy validation",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* an unterminated name of an existing network, in SET and DEL */
	m = doit(c, KNAT_CMD_NETWORK_DEL);
	off = tail_off(m);
	nla_put(m, KNAT_A_NETWORK_NAME, strlen(BASE_NAME), BASE_NAME);
	rejected(_metadata, c, m, EINVAL, "Attribute failed policy validation",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* empty, and with characters outside [A-Za-z0-9_.-] */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	off = tail_off(m);
	put_network(m, "", "198.18.1.0", 24, BASE_EXT);
	rejected(_metadata, c, m, EINVAL,
		 "name must be letters, digits, '_', '.', '-'",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	m = doit(c, KNAT_CMD_NETWORK_NEW);
	off = tail_off(m);
	put_network(m, "a b", "198.18.1.0", 24, BASE_EXT);
	rejected(_metadata, c, m, EINVAL,
		 "name must be letters, digits, '_', '.', '-'",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* an EXT_DEV name of 16 characters */
	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	off = tail_off(m);
	nla_put_string(m, KNAT_A_NETWORK_EXT_DEV, "abcdefghijklmnop");
	rejected(_metadata, c, m, EINVAL, "Attribute failed policy validation",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* an EXT_DEV that does not exist */
	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	off = tail_off(m);
	nla_put_string(m, KNAT_A_NETWORK_EXT_DEV, "nosuchdev0");
	rejected(_metadata, c, m, ENODEV, "no interface named \"nosuchdev0\"",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* The longest name there can be is fine (the positive control). */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	put_network(m, "abcdefghijklmno", "198.18.1.0", 24, BASE_EXT);
	ok(_metadata, c, m);
	ASSERT_EQ(0, get_network(_metadata, c, "abcdefghijklmno", &n));
	EXPECT_STREQ("abcdefghijklmno", n.name);
	EXPECT_EQ(3, info_networks(_metadata, c));
}

/* ---- prefixes ---- */

TEST_F(knat, prefix)
{
	struct client *c = &self->c;
	struct nl_msg *m;
	struct reply r;
	int off;

	/* host bits set: 198.18.1.1/24 */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	nla_put_string(m, KNAT_A_NETWORK_NAME, "new");
	off = tail_off(m);
	nla_put_u32(m, KNAT_A_NETWORK_PREFIX, ip("198.18.1.1"));
	nla_put_u8(m, KNAT_A_NETWORK_PREFIX_LEN, 24);
	put_ext_addrs(m, BASE_EXT, NULL);
	rejected(_metadata, c, m, EINVAL, "prefix has host bits set",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* ... and the issue's own example, 198.18.0.1/24 */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	nla_put_string(m, KNAT_A_NETWORK_NAME, "new");
	off = tail_off(m);
	nla_put_u32(m, KNAT_A_NETWORK_PREFIX, ip("198.18.0.1"));
	nla_put_u8(m, KNAT_A_NETWORK_PREFIX_LEN, 24);
	put_ext_addrs(m, BASE_EXT, NULL);
	rejected(_metadata, c, m, EINVAL, "prefix has host bits set",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* prefix lengths 0 and 33 */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	nla_put_string(m, KNAT_A_NETWORK_NAME, "new");
	nla_put_u32(m, KNAT_A_NETWORK_PREFIX, 0);
	off = tail_off(m);
	nla_put_u8(m, KNAT_A_NETWORK_PREFIX_LEN, 0);
	put_ext_addrs(m, BASE_EXT, NULL);
	rejected(_metadata, c, m, ERANGE, "integer out of range",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	m = doit(c, KNAT_CMD_NETWORK_NEW);
	nla_put_string(m, KNAT_A_NETWORK_NAME, "new");
	nla_put_u32(m, KNAT_A_NETWORK_PREFIX, ip("198.18.1.1"));
	off = tail_off(m);
	nla_put_u8(m, KNAT_A_NETWORK_PREFIX_LEN, 33);
	put_ext_addrs(m, BASE_EXT, NULL);
	rejected(_metadata, c, m, ERANGE, "integer out of range",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* The prefix of a network cannot change. */
	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	off = tail_off(m);
	nla_put_u32(m, KNAT_A_NETWORK_PREFIX, ip("198.18.1.0"));
	rejected(_metadata, c, m, EINVAL,
		 "the internal prefix cannot be changed", self->before, &r);
	EXPECT_EQ(off, r.offs);
}

/* ---- conflicts between networks ---- */

TEST_F(knat, conflicts)
{
	struct client *c = &self->c;
	struct nl_msg *m;
	struct reply r;
	int off;

	/* a name that is taken */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	off = tail_off(m);
	put_network(m, BASE_NAME, "198.18.1.0", 24, BASE_EXT);
	rejected(_metadata, c, m, EEXIST, "network " BASE_NAME " exists",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* a prefix inside another network's */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	put_network(m, "new", "198.18.0.128", 25, BASE_EXT);
	rejected(_metadata, c, m, EINVAL,
		 "internal prefix overlaps network " BASE_NAME
		 " (" BASE_PREFIX "/24)", self->before, NULL);

	/* a prefix around another network's */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	put_network(m, "new", "198.16.0.0", 12, BASE_EXT);
	rejected(_metadata, c, m, EINVAL,
		 "internal prefix overlaps network " BASE_NAME
		 " (" BASE_PREFIX "/24)", self->before, NULL);

	/* an external address inside its own prefix */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	put_network(m, "new", "203.0.113.0", 24, "203.0.113.7");
	rejected(_metadata, c, m, EINVAL,
		 "203.0.113.7 is inside the internal prefix", self->before,
		 NULL);

	/* a prefix holding another network's external address */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	put_network(m, "new", "192.0.2.0", 24, BASE_EXT);
	rejected(_metadata, c, m, EINVAL,
		 "prefix contains " BASE2_EXT1 ", an external address of "
		 BASE2_NAME, self->before, NULL);

	/* an external address given twice */
	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	{
		struct nlattr *nest = nest_start(m, KNAT_A_NETWORK_EXT_ADDRS);

		nla_put_u32(m, KNAT_A_EXT_ADDR, ip("203.0.113.5"));
		off = tail_off(m);
		nla_put_u32(m, KNAT_A_EXT_ADDR, ip("203.0.113.5"));
		nest_end(m, nest);
	}
	rejected(_metadata, c, m, EINVAL, "address given twice", self->before,
		 &r);
	EXPECT_EQ(off, r.offs);

	/* not a unicast address */
	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	{
		struct nlattr *nest = nest_start(m, KNAT_A_NETWORK_EXT_ADDRS);

		off = tail_off(m);
		nla_put_u32(m, KNAT_A_EXT_ADDR, ip("224.0.0.1"));
		nest_end(m, nest);
	}
	rejected(_metadata, c, m, EINVAL, "not a unicast address",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* EXT_DEV and EXT_ADDRS together */
	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	nla_put_string(m, KNAT_A_NETWORK_EXT_DEV, "lo");
	off = tail_off(m);
	put_ext_addrs(m, "203.0.113.9", NULL);
	rejected(_metadata, c, m, EINVAL,
		 "external device and addresses exclude each other",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);
}

/* ---- port ranges ---- */

/* A SET of @name with PORT_MIN @lo and PORT_MAX @hi (< 0: left out). */
static struct nl_msg *set_ports(struct client *c, const char *name,
				int lo, int hi, int *off)
{
	struct nl_msg *m = doit(c, KNAT_CMD_NETWORK_SET);

	nla_put_string(m, KNAT_A_NETWORK_NAME, name);
	*off = tail_off(m);
	if (lo >= 0)
		nla_put_u16(m, KNAT_A_NETWORK_PORT_MIN, lo);
	if (lo < 0)
		*off = tail_off(m);
	if (hi >= 0)
		nla_put_u16(m, KNAT_A_NETWORK_PORT_MAX, hi);
	return m;
}

static struct nl_msg *new_ports(struct client *c, int lo, int hi, int *off)
{
	struct nl_msg *m = doit(c, KNAT_CMD_NETWORK_NEW);

	put_network(m, "new", "198.18.1.0", 24, BASE_EXT);
	*off = tail_off(m);
	if (lo >= 0)
		nla_put_u16(m, KNAT_A_NETWORK_PORT_MIN, lo);
	if (lo < 0)
		*off = tail_off(m);
	if (hi >= 0)
		nla_put_u16(m, KNAT_A_NETWORK_PORT_MAX, hi);
	return m;
}

TEST_F(knat, port_ranges)
{
	static const struct {
		int lo, hi;
		const char *msg;
	} bad[] = {
		{ 5000, 4000, "port range must be 1-65535, minimum first" },
		{ 65535, 1, "port range must be 1-65535, minimum first" },
		{ 0, 1000, "port range must be 1-65535, minimum first" },
		{ 0, 65535, "port range must be 1-65535, minimum first" },
		{ 1000, -1, "port range needs both its minimum and maximum" },
		{ -1, 1000, "port range needs both its minimum and maximum" },
		{ 0, -1, "port range needs both its minimum and maximum" },
	};
	struct client *c = &self->c;
	struct nl_msg *m;
	struct reply r;
	unsigned int i;
	int off;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		TH_LOG("PORT_MIN %d PORT_MAX %d", bad[i].lo, bad[i].hi);
		/* on a network with the default range, and one with its own */
		m = set_ports(c, BASE_NAME, bad[i].lo, bad[i].hi, &off);
		rejected(_metadata, c, m, EINVAL, bad[i].msg, self->before,
			 &r);
		EXPECT_EQ(off, r.offs);
		m = set_ports(c, BASE2_NAME, bad[i].lo, bad[i].hi, &off);
		rejected(_metadata, c, m, EINVAL, bad[i].msg, self->before,
			 &r);
		EXPECT_EQ(off, r.offs);
		m = new_ports(c, bad[i].lo, bad[i].hi, &off);
		rejected(_metadata, c, m, EINVAL, bad[i].msg, self->before,
			 &r);
		EXPECT_EQ(off, r.offs);
	}

	/* The control: one port is a range, and 0-0 is the default. */
	ok(_metadata, c, set_ports(c, BASE_NAME, 4000, 4000, &off));
	ok(_metadata, c, set_ports(c, BASE2_NAME, 0, 0, &off));
	{
		struct network n;

		ASSERT_EQ(0, get_network(_metadata, c, BASE_NAME, &n));
		EXPECT_EQ(4000, n.port_min);
		EXPECT_EQ(4000, n.port_max);
		/* the default range is not reported */
		ASSERT_EQ(0, get_network(_metadata, c, BASE2_NAME, &n));
		EXPECT_EQ(-1, n.port_min);
		EXPECT_EQ(-1, n.port_max);
	}
}

/* ---- unknown attributes and values out of range ---- */

TEST_F(knat, unknown_attrs)
{
	struct client *c = &self->c;
	struct nlattr *nest;
	struct nl_msg *m;
	struct reply r;
	int off;

	/* a top-level type beyond KNAT_A_NETWORK_MAX, in NEW and SET */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	put_network(m, "new", "198.18.1.0", 24, BASE_EXT);
	off = tail_off(m);
	nla_put_u32(m, KNAT_A_NETWORK_MAX + 1, 1);
	rejected(_metadata, c, m, EINVAL, "Unknown attribute type",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	off = tail_off(m);
	nla_put_flag(m, 200);
	nla_put_u32(m, KNAT_A_NETWORK_TIMEOUT_UDP, 30);
	rejected(_metadata, c, m, EINVAL, "Unknown attribute type",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* type 0 */
	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	off = tail_off(m);
	nla_put_u32(m, KNAT_A_NETWORK_UNSPEC, 0);
	rejected(_metadata, c, m, EINVAL, "Unknown attribute type",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* an unknown type inside EXT_ADDRS */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	nla_put_string(m, KNAT_A_NETWORK_NAME, "new");
	nla_put_u32(m, KNAT_A_NETWORK_PREFIX, ip("198.18.1.0"));
	nla_put_u8(m, KNAT_A_NETWORK_PREFIX_LEN, 24);
	nest = nest_start(m, KNAT_A_NETWORK_EXT_ADDRS);
	nla_put_u32(m, KNAT_A_EXT_ADDR, ip(BASE_EXT));
	off = tail_off(m);
	nla_put_u32(m, KNAT_A_EXT_ADDR_MAX + 1, ip("203.0.113.2"));
	nest_end(m, nest);
	rejected(_metadata, c, m, EINVAL, "Unknown attribute type",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* FILTERING 7 */
	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	off = tail_off(m);
	nla_put_u8(m, KNAT_A_NETWORK_FILTERING, 7);
	rejected(_metadata, c, m, ERANGE, "integer out of range",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* FILTERING one past the last */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	put_network(m, "new", "198.18.1.0", 24, BASE_EXT);
	off = tail_off(m);
	nla_put_u8(m, KNAT_A_NETWORK_FILTERING, KNAT_FILTER_MAX + 1);
	rejected(_metadata, c, m, ERANGE, "integer out of range",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* UDP_INBOUND_REFRESH 2 */
	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE2_NAME);
	off = tail_off(m);
	nla_put_u8(m, KNAT_A_NETWORK_UDP_INBOUND_REFRESH, 2);
	rejected(_metadata, c, m, ERANGE, "integer out of range",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* timeouts 0 and past 30 days, MAX_SESSIONS 0 */
	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	off = tail_off(m);
	nla_put_u32(m, KNAT_A_NETWORK_TIMEOUT_TCP_EST, 0);
	rejected(_metadata, c, m, ERANGE, "integer out of range",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	off = tail_off(m);
	nla_put_u32(m, KNAT_A_NETWORK_TIMEOUT_ICMP, 2592001);
	rejected(_metadata, c, m, ERANGE, "integer out of range",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	off = tail_off(m);
	nla_put_u32(m, KNAT_A_NETWORK_MAX_SESSIONS, 0);
	rejected(_metadata, c, m, ERANGE, "integer out of range",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* read-only attributes: ID and SESSIONS are not for requests */
	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	off = tail_off(m);
	nla_put_u32(m, KNAT_A_NETWORK_ID, self->base_id + 1);
	rejected(_metadata, c, m, EINVAL, "Attribute failed policy validation",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	m = doit(c, KNAT_CMD_NETWORK_NEW);
	put_network(m, "new", "198.18.1.0", 24, BASE_EXT);
	off = tail_off(m);
	nla_put_u32(m, KNAT_A_NETWORK_SESSIONS, 0);
	rejected(_metadata, c, m, EINVAL, "Attribute failed policy validation",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* An attribute no command takes: GET_INFO has no attributes. */
	m = doit(c, KNAT_CMD_GET_INFO);
	off = tail_off(m);
	nla_put_u32(m, KNAT_A_INFO_NETWORKS, 1);
	rejected(_metadata, c, m, EINVAL, "Unknown attribute type",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);

	/* a session filter with an unknown protocol */
	m = dump(c, KNAT_CMD_SESSION_GET);
	nla_put_u8(m, KNAT_A_SESSION_PROTO, 99);
	rejected(_metadata, c, m, EINVAL, "protocol must be TCP, UDP or ICMP",
		 self->before, NULL);
}

/* ---- the generic netlink header ---- */

TEST_F(knat, genl_header)
{
	static const uint8_t bad_cmds[] = {
		KNAT_CMD_UNSPEC, KNAT_CMD_SESSION_NEW, KNAT_CMD_SESSION_DEL,
		KNAT_CMD_MAX + 1, 200, 255,
	};
	struct client *c = &self->c;
	struct genlmsghdr *g;
	struct nl_msg *m;
	struct reply r;
	unsigned int i;

	/* genlmsghdr.reserved set, on a request that is otherwise fine */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	put_network(m, "new", "198.18.1.0", 24, BASE_EXT);
	g = nlmsg_data(nlmsg_hdr(m));
	g->reserved = 1;
	rejected(_metadata, c, m, EINVAL, "genlmsghdr.reserved field is not 0",
		 self->before, NULL);

	m = doit(c, KNAT_CMD_GET_INFO);
	g = nlmsg_data(nlmsg_hdr(m));
	g->reserved = 0x8000;
	rejected(_metadata, c, m, EINVAL, "genlmsghdr.reserved field is not 0",
		 self->before, NULL);

	/* commands that do not exist, or are events only */
	for (i = 0; i < ARRAY_SIZE(bad_cmds); i++) {
		TH_LOG("command %u", bad_cmds[i]);
		m = doit(c, bad_cmds[i]);
		put_network(m, "new", "198.18.1.0", 24, BASE_EXT);
		rejected(_metadata, c, m, EOPNOTSUPP, NULL, self->before, &r);
		if (r.has_msg)
			TH_LOG("command %u: extack \"%s\"", bad_cmds[i], r.msg);
	}

	/* A dump of a command without one. */
	m = dump(c, KNAT_CMD_NETWORK_NEW);
	put_network(m, "new", "198.18.1.0", 24, BASE_EXT);
	rejected(_metadata, c, m, EOPNOTSUPP, NULL, self->before, NULL);

	/* nlmsg_flags the family does not take */
	m = req(c, KNAT_CMD_NETWORK_NEW, NLM_F_ACK | NLM_F_REPLACE);
	put_network(m, "new", "198.18.1.0", 24, BASE_EXT);
	rejected(_metadata, c, m, EINVAL,
		 "ambiguous or reserved bits set in nlmsg_flags",
		 self->before, NULL);
}

/* ---- objects that do not exist ---- */

TEST_F(knat, no_such_objects)
{
	static const uint8_t by_name[] = {
		KNAT_CMD_NETWORK_SET, KNAT_CMD_NETWORK_DEL,
		KNAT_CMD_NETWORK_GET,
	};
	struct client *c = &self->c;
	struct nl_msg *m;
	struct reply r;
	unsigned int i;
	int off;

	for (i = 0; i < ARRAY_SIZE(by_name); i++) {
		TH_LOG("command %u", by_name[i]);
		m = doit(c, by_name[i]);
		off = tail_off(m);
		nla_put_string(m, KNAT_A_NETWORK_NAME, "nosuch");
		if (by_name[i] == KNAT_CMD_NETWORK_SET)
			nla_put_u32(m, KNAT_A_NETWORK_TIMEOUT_UDP, 30);
		rejected(_metadata, c, m, ENOENT, "no such network",
			 self->before, &r);
		EXPECT_EQ(off, r.offs);
		EXPECT_EQ(0, r.n_msgs);
	}

	/* a name that is a prefix of an existing one's */
	m = doit(c, KNAT_CMD_NETWORK_DEL);
	nla_put_string(m, KNAT_A_NETWORK_NAME, "bas");
	rejected(_metadata, c, m, ENOENT, "no such network", self->before,
		 NULL);

	/*
	 * Dumps with a filter naming no network: the error ends the dump
	 * (NLMSG_DONE).  6.1 sends only the message there, later kernels
	 * the offset too.
	 */
	m = dump(c, KNAT_CMD_STATS_GET);
	off = tail_off(m);
	nla_put_string(m, KNAT_A_STATS_NETWORK, "nosuch");
	rejected(_metadata, c, m, ENOENT, "no such network", self->before,
		 &r);
	EXPECT_EQ(0, r.n_msgs);
	if (r.offs != -1)
		EXPECT_EQ(off, r.offs);

	m = dump(c, KNAT_CMD_SESSION_GET);
	off = tail_off(m);
	nla_put_string(m, KNAT_A_SESSION_NETWORK, "nosuch");
	rejected(_metadata, c, m, ENOENT, "no such network", self->before,
		 &r);
	EXPECT_EQ(0, r.n_msgs);
	if (r.offs != -1)
		EXPECT_EQ(off, r.offs);

	m = doit(c, KNAT_CMD_SESSION_FLUSH);
	off = tail_off(m);
	nla_put_string(m, KNAT_A_SESSION_NETWORK, "nosuch");
	rejected(_metadata, c, m, ENOENT, "no such network", self->before,
		 &r);
	EXPECT_EQ(off, r.offs);

	m = doit(c, KNAT_CMD_STATS_RESET);
	off = tail_off(m);
	nla_put_string(m, KNAT_A_STATS_NETWORK, "nosuch");
	rejected(_metadata, c, m, ENOENT, "no such network", self->before,
		 &r);
	EXPECT_EQ(off, r.offs);

	/* LOOKUP of flows nobody made, from either side */
	m = doit(c, KNAT_CMD_LOOKUP);
	nla_put_u8(m, KNAT_A_SESSION_PROTO, IPPROTO_UDP);
	nla_put_u32(m, KNAT_A_SESSION_SRC_ADDR, ip("198.18.0.2"));
	nla_put_u16(m, KNAT_A_SESSION_SRC_PORT, 40000);
	nla_put_u32(m, KNAT_A_SESSION_DST_ADDR, ip("198.51.100.1"));
	nla_put_u16(m, KNAT_A_SESSION_DST_PORT, 53);
	rejected(_metadata, c, m, ENOENT, "no session for that flow",
		 self->before, &r);
	EXPECT_EQ(0, r.n_msgs);

	m = doit(c, KNAT_CMD_LOOKUP);
	nla_put_u8(m, KNAT_A_SESSION_PROTO, IPPROTO_TCP);
	nla_put_u32(m, KNAT_A_SESSION_SRC_ADDR, ip("198.51.100.1"));
	nla_put_u16(m, KNAT_A_SESSION_SRC_PORT, 80);
	nla_put_u32(m, KNAT_A_SESSION_DST_ADDR, ip(BASE_EXT));
	nla_put_u16(m, KNAT_A_SESSION_DST_PORT, 40000);
	rejected(_metadata, c, m, ENOENT, "no session for that flow",
		 self->before, &r);
	EXPECT_EQ(0, r.n_msgs);

	/* The known ones answer (the control). */
	m = dump(c, KNAT_CMD_STATS_GET);
	nla_put_string(m, KNAT_A_STATS_NETWORK, BASE_NAME);
	ASSERT_EQ(0, transact(c, m, NULL, NULL, &r));
	EXPECT_EQ(0, r.err);
	EXPECT_EQ(1, r.n_msgs);
	m = dump(c, KNAT_CMD_SESSION_GET);
	nla_put_string(m, KNAT_A_SESSION_NETWORK, BASE_NAME);
	ASSERT_EQ(0, transact(c, m, NULL, NULL, &r));
	EXPECT_EQ(0, r.err);
	EXPECT_EQ(0, r.n_msgs);
}

/* ---- static mappings ---- */

/* A MAP_NEW or MAP_DEL request; -1 or NULL leaves an attribute out. */
struct map_spec {
	const char *net;
	int proto;
	const char *ext;
	int ext_min, ext_max;
	const char *int_addr;
	int int_min, int_max;
	const char *rem;
	int rem_len;
};

/* tcp 8080 -> 198.18.0.2:80 of base */
static struct map_spec map_tcp8080(void)
{
	return (struct map_spec){
		.net = BASE_NAME, .proto = IPPROTO_TCP, .ext = NULL,
		.ext_min = 8080, .ext_max = -1,
		.int_addr = "198.18.0.2", .int_min = 80, .int_max = -1,
		.rem = NULL, .rem_len = -1,
	};
}

/* udp 5000-5002 -> 198.18.0.3:6000-6002 of base, remote 203.0.113.0/24 */
static struct map_spec map_udp5000(void)
{
	return (struct map_spec){
		.net = BASE_NAME, .proto = IPPROTO_UDP, .ext = NULL,
		.ext_min = 5000, .ext_max = 5002,
		.int_addr = "198.18.0.3", .int_min = 6000, .int_max = 6002,
		.rem = "203.0.113.0", .rem_len = 24,
	};
}

/* ip 203.0.113.50 -> 198.18.0.6 of base (1:1) */
static struct map_spec map_one_to_one(void)
{
	return (struct map_spec){
		.net = BASE_NAME, .proto = 0, .ext = "203.0.113.50",
		.ext_min = -1, .ext_max = -1,
		.int_addr = "198.18.0.6", .int_min = -1, .int_max = -1,
		.rem = NULL, .rem_len = -1,
	};
}

static struct nl_msg *map_msg(struct client *c, uint8_t cmd,
			      const struct map_spec *s)
{
	struct nl_msg *m = doit(c, cmd);

	if (s->net)
		nla_put_string(m, KNAT_A_MAP_NETWORK, s->net);
	if (s->proto >= 0)
		nla_put_u8(m, KNAT_A_MAP_PROTO, s->proto);
	if (s->ext)
		nla_put_u32(m, KNAT_A_MAP_EXT_ADDR, ip(s->ext));
	if (s->ext_min >= 0)
		nla_put_u16(m, KNAT_A_MAP_EXT_PORT_MIN, s->ext_min);
	if (s->ext_max >= 0)
		nla_put_u16(m, KNAT_A_MAP_EXT_PORT_MAX, s->ext_max);
	if (cmd == KNAT_CMD_MAP_DEL)
		return m;	/* the rest is MAP_NEW's */
	if (s->int_addr)
		nla_put_u32(m, KNAT_A_MAP_INT_ADDR, ip(s->int_addr));
	if (s->int_min >= 0)
		nla_put_u16(m, KNAT_A_MAP_INT_PORT_MIN, s->int_min);
	if (s->int_max >= 0)
		nla_put_u16(m, KNAT_A_MAP_INT_PORT_MAX, s->int_max);
	if (s->rem)
		nla_put_u32(m, KNAT_A_MAP_REM_PREFIX, ip(s->rem));
	if (s->rem_len >= 0)
		nla_put_u8(m, KNAT_A_MAP_REM_PREFIX_LEN, s->rem_len);
	return m;
}

/* What a MAP_GET dump says of one mapping; -1 for what is absent. */
struct mapping {
	char net[KNAT_NAME_MAXLEN + 2];
	int proto;
	int64_t ext, ext_now, int_addr;
	int ext_min, ext_max, int_min, int_max;
	int64_t packets, sessions;
};

static void parse_mapping(const struct nlmsghdr *nlh, struct mapping *p)
{
	struct nlattr *a, *head;
	int len, rem;

	memset(p, 0, sizeof(*p));
	p->proto = p->ext_min = p->ext_max = p->int_min = p->int_max = -1;
	p->ext = p->ext_now = p->int_addr = p->packets = p->sessions = -1;
	head = genl_attrs(nlh, &len);
	nla_for_each_attr(a, head, len, rem) {
		switch (nla_type(a)) {
		case KNAT_A_MAP_NETWORK:
			snprintf(p->net, sizeof(p->net), "%.*s", nla_len(a),
				 (char *)nla_data(a));
			break;
		case KNAT_A_MAP_PROTO:
			p->proto = nla_get_u8(a);
			break;
		case KNAT_A_MAP_EXT_ADDR:
			p->ext = nla_get_u32(a);
			break;
		case KNAT_A_MAP_EXT_ADDR_NOW:
			p->ext_now = nla_get_u32(a);
			break;
		case KNAT_A_MAP_INT_ADDR:
			p->int_addr = nla_get_u32(a);
			break;
		case KNAT_A_MAP_EXT_PORT_MIN:
			p->ext_min = nla_get_u16(a);
			break;
		case KNAT_A_MAP_EXT_PORT_MAX:
			p->ext_max = nla_get_u16(a);
			break;
		case KNAT_A_MAP_INT_PORT_MIN:
			p->int_min = nla_get_u16(a);
			break;
		case KNAT_A_MAP_INT_PORT_MAX:
			p->int_max = nla_get_u16(a);
			break;
		case KNAT_A_MAP_PACKETS:
			p->packets = nla_get_u64(a);
			break;
		case KNAT_A_MAP_SESSIONS:
			p->sessions = nla_get_u64(a);
			break;
		}
	}
}

struct map_dump {
	struct sbuf text;
	struct mapping *maps;
	int n;
};

static void collect_mapping(const struct nlmsghdr *nlh, void *arg)
{
	struct map_dump *d = arg;

	render_msg(&d->text, nlh);
	d->maps = realloc(d->maps, (d->n + 1) * sizeof(*d->maps));
	if (!d->maps)
		abort();
	parse_mapping(nlh, &d->maps[d->n++]);
}

static void map_dump_free(struct map_dump *d)
{
	free(d->text.p);
	free(d->maps);
	memset(d, 0, sizeof(*d));
}

/* Every mapping of the namespace, by a MAP_GET dump. */
static void dump_maps(struct __test_metadata *_metadata, struct client *c,
		      struct map_dump *d)
{
	struct reply r;

	memset(d, 0, sizeof(*d));
	ASSERT_EQ(0, transact(c, dump(c, KNAT_CMD_MAP_GET), collect_mapping,
			      d, &r));
	ASSERT_TRUE(r.done);
	ASSERT_EQ(0, r.err) {
		TH_LOG("MAP_GET dump: %s, extack \"%s\"", strerror(-r.err),
		       r.msg);
	}
	sb_printf(&d->text, "%d mappings\n", d->n);
}

/* The networks and the mappings, as text (malloc'ed). */
static char *full_config_text(struct __test_metadata *_metadata,
			      struct client *c)
{
	char *nets = config_text(_metadata, c);
	struct map_dump d;
	struct sbuf b = {};

	dump_maps(_metadata, c, &d);
	sb_printf(&b, "%s%s", nets, d.text.p);
	free(nets);
	map_dump_free(&d);
	return b.p;
}

/*
 * A MAP_NEW or MAP_DEL that must fail with -@err (0: with any error, which
 * is logged), and leave the networks and mappings @before.
 */
static void map_rejected(struct __test_metadata *_metadata, struct client *c,
			 uint8_t cmd, const struct map_spec *s, int err,
			 const char *before, struct reply *out)
{
	struct reply r;
	char *now;

	ASSERT_EQ(0, transact(c, map_msg(c, cmd, s), NULL, NULL, &r));
	EXPECT_TRUE(r.acked);
	if (err) {
		EXPECT_EQ(-err, r.err) {
			TH_LOG("expected %s, got %d (%s), extack \"%s\"",
			       strerror(err), r.err, strerror(-r.err), r.msg);
		}
	} else {
		EXPECT_GT(0, r.err);
		TH_LOG("refused with %s, extack \"%s\"", strerror(-r.err),
		       r.msg);
	}
	/* The extack says something: a message or the attribute. */
	EXPECT_TRUE(r.has_msg || r.offs >= 0 || r.miss_type >= 0);
	now = full_config_text(_metadata, c);
	EXPECT_STREQ(before, now);
	free(now);
	if (out)
		*out = r;
}

/* A missing required attribute: EINVAL, and the extack names it. */
static void map_missing(struct __test_metadata *_metadata, struct client *c,
			uint8_t cmd, const struct map_spec *s, int type,
			const char *before)
{
	struct reply r;

	map_rejected(_metadata, c, cmd, s, EINVAL, before, &r);
	EXPECT_TRUE(r.miss_type == type || r.has_msg) {
		TH_LOG("attribute %d missing: extack miss_type %d, \"%s\"",
		       type, r.miss_type, r.msg);
	}
}

TEST_F(knat, map_hostile)
{
	struct client *c = &self->c;
	struct map_spec s, good;
	struct map_dump d;
	struct reply r;
	char *before;

	/* The controls: one of each kind, accepted, dumped as given. */
	good = map_tcp8080();
	ok(_metadata, c, map_msg(c, KNAT_CMD_MAP_NEW, &good));
	s = map_udp5000();
	ok(_metadata, c, map_msg(c, KNAT_CMD_MAP_NEW, &s));
	s = map_one_to_one();
	ok(_metadata, c, map_msg(c, KNAT_CMD_MAP_NEW, &s));

	dump_maps(_metadata, c, &d);
	ASSERT_EQ(3, d.n);
	for (int i = 0; i < d.n; i++) {
		const struct mapping *p = &d.maps[i];

		EXPECT_STREQ(BASE_NAME, p->net);
		EXPECT_EQ(0, p->packets);
		if (p->proto == IPPROTO_TCP) {
			EXPECT_EQ(-1, p->ext);	/* not given */
			EXPECT_EQ(ip(BASE_EXT), p->ext_now);
			EXPECT_EQ(ip("198.18.0.2"), p->int_addr);
			EXPECT_EQ(8080, p->ext_min);
			EXPECT_EQ(8080, p->ext_max);
			EXPECT_EQ(80, p->int_min);
			EXPECT_EQ(80, p->int_max);
			EXPECT_EQ(0, p->sessions);
		} else if (p->proto == IPPROTO_UDP) {
			EXPECT_EQ(5000, p->ext_min);
			EXPECT_EQ(5002, p->ext_max);
			EXPECT_EQ(6000, p->int_min);
			EXPECT_EQ(6002, p->int_max);
			EXPECT_EQ(0, p->sessions);
		} else {
			EXPECT_EQ(0, p->proto);
			EXPECT_EQ(ip("203.0.113.50"), p->ext);
			EXPECT_EQ(ip("198.18.0.6"), p->int_addr);
			EXPECT_EQ(-1, p->ext_min);
			EXPECT_EQ(-1, p->int_min);
		}
	}
	map_dump_free(&d);
	before = full_config_text(_metadata, c);

	/* missing required attributes */
	s = good;
	s.net = NULL;
	map_missing(_metadata, c, KNAT_CMD_MAP_NEW, &s, KNAT_A_MAP_NETWORK,
		    before);
	s = good;
	s.proto = -1;
	map_missing(_metadata, c, KNAT_CMD_MAP_NEW, &s, KNAT_A_MAP_PROTO,
		    before);
	s = good;
	s.int_addr = NULL;
	map_missing(_metadata, c, KNAT_CMD_MAP_NEW, &s, KNAT_A_MAP_INT_ADDR,
		    before);
	s = good;
	s.net = NULL;
	map_missing(_metadata, c, KNAT_CMD_MAP_DEL, &s, KNAT_A_MAP_NETWORK,
		    before);
	s = good;
	s.proto = -1;
	map_missing(_metadata, c, KNAT_CMD_MAP_DEL, &s, KNAT_A_MAP_PROTO,
		    before);

	/* a port mapping without its port: TCP, and UDP with ports inside */
	s = good;
	s.ext_min = -1;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EINVAL, before, NULL);
	s = good;
	s.proto = IPPROTO_UDP;
	s.ext_min = -1;
	s.int_max = 81;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EINVAL, before, NULL);
	/* ... only its maximum */
	s = good;
	s.ext_min = -1;
	s.ext_max = 8090;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EINVAL, before, NULL);

	/* ranges of unequal length: 5010-5012 -> 6010-6011, and 6010-6013 */
	s = map_udp5000();
	s.ext_min = 5010;
	s.ext_max = 5012;
	s.int_min = 6010;
	s.int_max = 6011;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EINVAL, before, NULL);
	s.int_max = 6013;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EINVAL, before, NULL);
	/* ... one port to a range */
	s = good;
	s.ext_min = 8090;
	s.int_min = 90;
	s.int_max = 92;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EINVAL, before, NULL);

	/* an internal address outside the prefix (and inside base2's) */
	s = good;
	s.ext_min = 8090;
	s.int_addr = "198.19.0.2";
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EINVAL, before, NULL);
	s.int_addr = "203.0.113.9";
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EINVAL, before, NULL);
	s = map_one_to_one();
	s.ext = "203.0.113.51";
	s.int_addr = "198.19.0.6";
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EINVAL, before, NULL);

	/* an unknown network, in MAP_NEW, MAP_DEL and a MAP_GET dump */
	s = good;
	s.net = "nosuch";
	s.ext_min = 8090;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, ENOENT, before, NULL);
	s = good;
	s.net = "nosuch";
	map_rejected(_metadata, c, KNAT_CMD_MAP_DEL, &s, ENOENT, before, NULL);
	{
		struct nl_msg *m = dump(c, KNAT_CMD_MAP_GET);

		nla_put_string(m, KNAT_A_MAP_NETWORK, "nosuch");
		rejected(_metadata, c, m, ENOENT, NULL, NULL, &r);
		EXPECT_EQ(0, r.n_msgs);
	}

	/* duplicates: the same port, with the address spelt out, overlaps */
	s = good;
	s.int_addr = "198.18.0.9";
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EEXIST, before, NULL);
	s.ext = BASE_EXT;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EEXIST, before, NULL);
	s = good;
	s.ext_min = 8000;
	s.ext_max = 8100;
	s.int_min = -1;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EEXIST, before, &r);
	EXPECT_NE(NULL, strstr(r.msg, "8080")) {
		TH_LOG("the extack does not name tcp 8080: \"%s\"", r.msg);
	}
	s = map_udp5000();
	s.ext_min = 5002;
	s.ext_max = 5002;
	s.int_min = 7000;
	s.int_max = -1;
	s.rem = NULL;
	s.rem_len = -1;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EEXIST, before, &r);
	EXPECT_NE(NULL, strstr(r.msg, "5000")) {
		TH_LOG("the extack does not name udp 5000-5002: \"%s\"",
		       r.msg);
	}
	/* a second 1:1 of the same external, or of the same internal address */
	s = map_one_to_one();
	s.int_addr = "198.18.0.7";
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EEXIST, before, NULL);
	s = map_one_to_one();
	s.ext = "203.0.113.51";
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EEXIST, before, NULL);

	/* MAP_DEL of mappings that do not exist */
	s = good;
	s.ext_min = 8081;
	map_rejected(_metadata, c, KNAT_CMD_MAP_DEL, &s, ENOENT, before, NULL);
	s = good;
	s.proto = IPPROTO_UDP;
	map_rejected(_metadata, c, KNAT_CMD_MAP_DEL, &s, ENOENT, before, NULL);
	s = good;
	s.net = BASE2_NAME;
	map_rejected(_metadata, c, KNAT_CMD_MAP_DEL, &s, ENOENT, before, NULL);
	s = good;
	s.ext = "203.0.113.9";
	map_rejected(_metadata, c, KNAT_CMD_MAP_DEL, &s, ENOENT, before, NULL);
	s = map_udp5000();
	s.ext_min = 5001;
	s.ext_max = -1;
	map_rejected(_metadata, c, KNAT_CMD_MAP_DEL, &s, ENOENT, before, NULL);
	s = map_one_to_one();
	s.ext = "203.0.113.51";
	map_rejected(_metadata, c, KNAT_CMD_MAP_DEL, &s, ENOENT, before, NULL);
	/* ... a range whose maximum does not match */
	s = map_udp5000();
	s.ext_max = 5001;
	map_rejected(_metadata, c, KNAT_CMD_MAP_DEL, &s, ENOENT, before, NULL);

	/* ports on a 1:1 mapping, external or internal */
	s = map_one_to_one();
	s.ext = "203.0.113.52";
	s.int_addr = "198.18.0.8";
	s.ext_min = 80;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EINVAL, before, NULL);
	s.ext_min = -1;
	s.int_min = 80;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EINVAL, before, NULL);
	/* ... a 1:1 mapping on the network's own external address */
	s = map_one_to_one();
	s.ext = BASE_EXT;
	s.int_addr = "198.18.0.8";
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EINVAL, before, NULL);
	/* ... and without an external address */
	s.ext = NULL;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EINVAL, before, NULL);

	/* remote prefixes with host bits */
	s = good;
	s.ext_min = 8090;
	s.rem = "203.0.113.2";
	s.rem_len = 24;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EINVAL, before, NULL);
	s.rem = "203.0.113.1";
	s.rem_len = 0;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EINVAL, before, NULL);
	/* ... a length beyond 32, a prefix without its length */
	s.rem = "203.0.113.0";
	s.rem_len = 33;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, ERANGE, before, NULL);
	s.rem_len = -1;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EINVAL, before, NULL);
	/* ... a protocol that is neither TCP, UDP nor 0 */
	s = good;
	s.ext_min = 8090;
	s.proto = IPPROTO_ICMP;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, EINVAL, before, NULL);
	/* ... port 0 (the policy's range) */
	s = good;
	s.ext_min = 0;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, ERANGE, before, NULL);
	s = good;
	s.ext_min = 8090;
	s.int_min = 0;
	map_rejected(_metadata, c, KNAT_CMD_MAP_NEW, &s, ERANGE, before, NULL);

	/* The controls go as they came; the networks are as they were. */
	ok(_metadata, c, map_msg(c, KNAT_CMD_MAP_DEL, &good));
	s = map_udp5000();
	ok(_metadata, c, map_msg(c, KNAT_CMD_MAP_DEL, &s));
	s = map_one_to_one();
	ok(_metadata, c, map_msg(c, KNAT_CMD_MAP_DEL, &s));
	dump_maps(_metadata, c, &d);
	EXPECT_EQ(0, d.n);
	map_dump_free(&d);
	expect_config(_metadata, c, self->before);
	free(before);
}

/* ---- CONFIG_APPLY ---- */

struct apply {
	struct nl_msg *m;
	struct nlattr *ops;
	struct nlattr *op, *attrs;
	int op_start;		/* of the last op */
};

static void apply_begin(struct client *c, struct apply *a, bool flush)
{
	a->m = doit(c, KNAT_CMD_CONFIG_APPLY);
	if (flush)
		nla_put_flag(a->m, KNAT_A_CONFIG_FLUSH);
	a->ops = nest_start(a->m, KNAT_A_CONFIG_OPS);
}

/* Start an op; its attributes follow, until op_end(). */
static void op_begin(struct apply *a, uint8_t cmd)
{
	a->op_start = tail_off(a->m);
	a->op = nest_start(a->m, KNAT_A_CONFIG_OP);
	nla_put_u8(a->m, KNAT_A_OP_CMD, cmd);
	a->attrs = nest_start(a->m, KNAT_A_OP_ATTRS);
}

/* The end of the op just finished (exclusive), from the message's start. */
static int op_end(struct apply *a)
{
	nest_end(a->m, a->attrs);
	nest_end(a->m, a->op);
	return attr_off(a->m, a->op) + a->op->nla_len;
}

static void op_new(struct apply *a, const char *name, const char *prefix,
		   uint8_t plen, const char *ext)
{
	op_begin(a, KNAT_CMD_NETWORK_NEW);
	put_network(a->m, name, prefix, plen, ext);
	op_end(a);
}

static struct nl_msg *apply_end(struct apply *a)
{
	nest_end(a->m, a->ops);
	return a->m;
}

/* The earlier ops of a failing transaction: each would work on its own. */
static void apply_good_ops(struct apply *a)
{
	op_new(a, "t1", "198.18.10.0", 24, BASE_EXT);
	op_new(a, "t2", "198.18.11.0", 24, "203.0.113.2");

	op_begin(a, KNAT_CMD_NETWORK_SET);
	nla_put_string(a->m, KNAT_A_NETWORK_NAME, BASE_NAME);
	nla_put_u32(a->m, KNAT_A_NETWORK_TIMEOUT_UDP, 77);
	put_ext_addrs(a->m, "203.0.113.3", NULL);
	op_end(a);

	op_begin(a, KNAT_CMD_NETWORK_DEL);
	nla_put_string(a->m, KNAT_A_NETWORK_NAME, BASE2_NAME);
	op_end(a);

	op_new(a, "t3", BASE2_PREFIX, BASE2_PLEN, BASE2_EXT1);
}

static void expect_absent(struct __test_metadata *_metadata, struct client *c)
{
	EXPECT_EQ(-ENOENT, get_network(_metadata, c, "t1", NULL));
	EXPECT_EQ(-ENOENT, get_network(_metadata, c, "t2", NULL));
	EXPECT_EQ(-ENOENT, get_network(_metadata, c, "t3", NULL));
}

static void expect_in_op(struct __test_metadata *_metadata,
			 const struct reply *r, int start, int end)
{
	EXPECT_LE(start, r->offs);
	EXPECT_GT(end, r->offs);
	if (r->offs < start || r->offs >= end)
		TH_LOG("extack offset %d is not in the last op [%d, %d)",
		       r->offs, start, end);
}

TEST_F(knat, apply_last_op_fails)
{
	struct client *c = &self->c;
	struct apply a;
	struct reply r;
	int end, off;

	/* 1. the last op creates a network whose name is taken */
	apply_begin(c, &a, false);
	apply_good_ops(&a);
	op_begin(&a, KNAT_CMD_NETWORK_NEW);
	off = tail_off(a.m);
	put_network(a.m, "t1", "198.18.20.0", 24, BASE_EXT);
	end = op_end(&a);
	rejected(_metadata, c, apply_end(&a), EEXIST, "network t1 exists",
		 self->before, &r);
	expect_in_op(_metadata, &r, a.op_start, end);
	EXPECT_EQ(off, r.offs);		/* the NAME inside it */
	expect_absent(_metadata, c);

	/* 2. ... whose prefix overlaps one created earlier in it */
	apply_begin(c, &a, false);
	apply_good_ops(&a);
	op_begin(&a, KNAT_CMD_NETWORK_NEW);
	put_network(a.m, "t4", "198.18.10.128", 25, BASE_EXT);
	end = op_end(&a);
	rejected(_metadata, c, apply_end(&a), EINVAL,
		 "internal prefix overlaps network t1 (198.18.10.0/24)",
		 self->before, &r);
	expect_in_op(_metadata, &r, a.op_start, end);
	expect_absent(_metadata, c);

	/* 3. ... with a value the policy refuses */
	apply_begin(c, &a, false);
	apply_good_ops(&a);
	op_begin(&a, KNAT_CMD_NETWORK_NEW);
	put_network(a.m, "t4", "198.18.20.0", 24, BASE_EXT);
	off = tail_off(a.m);
	nla_put_u8(a.m, KNAT_A_NETWORK_FILTERING, 7);
	end = op_end(&a);
	rejected(_metadata, c, apply_end(&a), ERANGE, "integer out of range",
		 self->before, &r);
	expect_in_op(_metadata, &r, a.op_start, end);
	EXPECT_EQ(off, r.offs);
	expect_absent(_metadata, c);

	/* 4. ... that is not a configuration change */
	apply_begin(c, &a, false);
	apply_good_ops(&a);
	a.op_start = tail_off(a.m);
	a.op = nest_start(a.m, KNAT_A_CONFIG_OP);
	off = tail_off(a.m);
	nla_put_u8(a.m, KNAT_A_OP_CMD, KNAT_CMD_NETWORK_GET);
	a.attrs = nest_start(a.m, KNAT_A_OP_ATTRS);
	nla_put_string(a.m, KNAT_A_NETWORK_NAME, BASE_NAME);
	end = op_end(&a);
	rejected(_metadata, c, apply_end(&a), ERANGE,
		 "not a configuration change (NETWORK_NEW, _SET, _DEL, MAP_NEW, _DEL)",
		 self->before, &r);
	expect_in_op(_metadata, &r, a.op_start, end);
	EXPECT_EQ(off, r.offs);
	expect_absent(_metadata, c);

	/* 5. ... without its attributes */
	apply_begin(c, &a, false);
	apply_good_ops(&a);
	a.op_start = tail_off(a.m);
	a.op = nest_start(a.m, KNAT_A_CONFIG_OP);
	nla_put_u8(a.m, KNAT_A_OP_CMD, KNAT_CMD_NETWORK_DEL);
	nest_end(a.m, a.op);
	rejected(_metadata, c, apply_end(&a), EINVAL, NULL, self->before, &r);
	EXPECT_EQ(KNAT_A_OP_ATTRS, r.miss_type);
	EXPECT_EQ(a.op_start, r.miss_nest);
	expect_absent(_metadata, c);

	/* 6. ... deleting a network that an earlier op deleted */
	apply_begin(c, &a, false);
	apply_good_ops(&a);
	op_begin(&a, KNAT_CMD_NETWORK_DEL);
	off = tail_off(a.m);
	nla_put_string(a.m, KNAT_A_NETWORK_NAME, BASE2_NAME);
	end = op_end(&a);
	rejected(_metadata, c, apply_end(&a), ENOENT, "no such network",
		 self->before, &r);
	expect_in_op(_metadata, &r, a.op_start, end);
	EXPECT_EQ(off, r.offs);
	expect_absent(_metadata, c);

	/* 7. ... with a missing NAME: the missing attribute's nest is the op's */
	apply_begin(c, &a, false);
	apply_good_ops(&a);
	op_begin(&a, KNAT_CMD_NETWORK_SET);
	off = attr_off(a.m, a.attrs);
	nla_put_u32(a.m, KNAT_A_NETWORK_TIMEOUT_UDP, 30);
	end = op_end(&a);
	rejected(_metadata, c, apply_end(&a), EINVAL, NULL, self->before, &r);
	EXPECT_EQ(KNAT_A_NETWORK_NAME, r.miss_type);
	EXPECT_EQ(off, r.miss_nest);	/* the op's OP_ATTRS */
	expect_in_op(_metadata, &r, a.op_start, end);
	expect_absent(_metadata, c);

	/* 8. an entry of OPS that is not an op */
	apply_begin(c, &a, false);
	apply_good_ops(&a);
	off = tail_off(a.m);
	nla_put_flag(a.m, KNAT_A_CONFIG_FLUSH);
	rejected(_metadata, c, apply_end(&a), EINVAL, "Unsupported attribute",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);
	expect_absent(_metadata, c);

	/* 9. an op of an unknown attribute */
	apply_begin(c, &a, false);
	apply_good_ops(&a);
	op_begin(&a, KNAT_CMD_NETWORK_DEL);
	nla_put_string(a.m, KNAT_A_NETWORK_NAME, BASE_NAME);
	nest_end(a.m, a.attrs);
	off = tail_off(a.m);
	nla_put_u32(a.m, KNAT_A_OP_MAX + 1, 0);
	nest_end(a.m, a.op);
	rejected(_metadata, c, apply_end(&a), EINVAL, "Unknown attribute type",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);
	expect_absent(_metadata, c);

	/* 10. a KNAT_A_CONFIG_OP at the top level that is not a nest */
	apply_begin(c, &a, false);
	apply_good_ops(&a);
	apply_end(&a);
	off = tail_off(a.m);
	nla_put_u32(a.m, KNAT_A_CONFIG_OP, 0);
	rejected(_metadata, c, a.m, EINVAL, "NLA_F_NESTED is missing",
		 self->before, &r);
	EXPECT_EQ(off, r.offs);
	expect_absent(_metadata, c);

	/* 11. with FLUSH first, the last op fails: nothing is flushed */
	apply_begin(c, &a, true);
	op_new(&a, BASE_NAME, BASE_PREFIX, BASE_PLEN, BASE_EXT);
	op_begin(&a, KNAT_CMD_NETWORK_NEW);
	put_network(a.m, "t1", "198.18.0.0", 16, BASE_EXT);
	end = op_end(&a);
	rejected(_metadata, c, apply_end(&a), EINVAL,
		 "internal prefix overlaps network " BASE_NAME
		 " (" BASE_PREFIX "/24)", self->before, &r);
	expect_in_op(_metadata, &r, a.op_start, end);
	expect_absent(_metadata, c);

	/* The control: the good ops alone do apply. */
	apply_begin(c, &a, false);
	apply_good_ops(&a);
	ok(_metadata, c, apply_end(&a));
	EXPECT_EQ(0, get_network(_metadata, c, "t1", NULL));
	EXPECT_EQ(0, get_network(_metadata, c, "t3", NULL));
	EXPECT_EQ(-ENOENT, get_network(_metadata, c, BASE2_NAME, NULL));
	EXPECT_EQ(4, info_networks(_metadata, c));
}

TEST_F(knat, apply_flush_keeps_id)
{
	struct client *c = &self->c;
	struct network base, base2, now;
	struct dump_state d;
	struct apply a;

	ASSERT_EQ(0, get_network(_metadata, c, BASE_NAME, &base));
	ASSERT_EQ(0, get_network(_metadata, c, BASE2_NAME, &base2));
	ASSERT_NE(base.id, base2.id);

	/*
	 * FLUSH, then base again with its prefix (and new settings), base2
	 * again under another prefix, and one new network.
	 */
	apply_begin(c, &a, true);
	op_begin(&a, KNAT_CMD_NETWORK_NEW);
	put_network(a.m, BASE_NAME, BASE_PREFIX, BASE_PLEN, "203.0.113.2");
	nla_put_u32(a.m, KNAT_A_NETWORK_TIMEOUT_ICMP, 10);
	op_end(&a);
	op_new(&a, BASE2_NAME, "198.19.0.0", 17, BASE2_EXT1);
	op_new(&a, "fresh", "198.18.5.0", 24, BASE_EXT);
	ok(_metadata, c, apply_end(&a));

	ASSERT_EQ(0, get_network(_metadata, c, BASE_NAME, &now));
	EXPECT_TRUE(now.has_id);
	EXPECT_EQ(base.id, now.id);
	EXPECT_EQ(self->base_id, now.id);

	ASSERT_EQ(0, get_network(_metadata, c, BASE2_NAME, &now));
	EXPECT_NE(base2.id, now.id);	/* another prefix: a new network */
	EXPECT_EQ(17, now.plen);
	EXPECT_NE(base.id, now.id);

	dump_networks(_metadata, c, &d);
	EXPECT_EQ(3, d.n);
	EXPECT_NE(NULL, strstr(d.text.p, "name=fresh"));
	dump_free(&d);

	/* Without FLUSH: DEL then NEW alike in one transaction, the same. */
	apply_begin(c, &a, false);
	op_begin(&a, KNAT_CMD_NETWORK_DEL);
	nla_put_string(a.m, KNAT_A_NETWORK_NAME, BASE_NAME);
	op_end(&a);
	op_new(&a, BASE_NAME, BASE_PREFIX, BASE_PLEN, BASE_EXT);
	ok(_metadata, c, apply_end(&a));
	ASSERT_EQ(0, get_network(_metadata, c, BASE_NAME, &now));
	EXPECT_EQ(base.id, now.id);

	/* An empty FLUSH empties. */
	apply_begin(c, &a, true);
	ok(_metadata, c, apply_end(&a));
	EXPECT_EQ(0, info_networks(_metadata, c));
}

/* ---- dumps cut off half way ---- */

#define MANY 200

struct stats_state {
	char (*names)[KNAT_NAME_MAXLEN + 2];
	int n, n_named, n_total;
	bool total_last;
};

static void collect_stats(const struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[KNAT_A_STATS_MAX + 1];
	struct stats_state *st = arg;

	st->n++;
	st->total_last = false;
	if (genlmsg_parse((struct nlmsghdr *)nlh, 0, tb, KNAT_A_STATS_MAX,
			  NULL) < 0 || !tb[KNAT_A_STATS_COUNTERS])
		return;
	if (!tb[KNAT_A_STATS_NETWORK]) {
		st->n_total++;
		st->total_last = true;
		return;
	}
	st->names = realloc(st->names, (st->n_named + 1) * sizeof(*st->names));
	if (!st->names)
		abort();
	snprintf(st->names[st->n_named++], sizeof(*st->names), "%.*s",
		 nla_len(tb[KNAT_A_STATS_NETWORK]),
		 (char *)nla_data(tb[KNAT_A_STATS_NETWORK]));
}

TEST_F_TIMEOUT(knat, dump_cut_off, 300)
{
	struct client *c = &self->c;
	unsigned char seen[MANY + 2];
	struct dump_state d;
	char *full, *after;
	struct apply a;
	int i, round;

	apply_begin(c, &a, false);
	for (i = 0; i < MANY; i++) {
		char name[16], prefix[16];

		snprintf(name, sizeof(name), "n%03d", i);
		snprintf(prefix, sizeof(prefix), "198.18.%d.0", i + 1);
		op_new(&a, name, prefix, 24, BASE_EXT);
	}
	ok(_metadata, c, apply_end(&a));
	ASSERT_EQ(MANY + 2, info_networks(_metadata, c));
	full = config_text(_metadata, c);

	for (round = 0; round < 20; round++) {
		struct client s;
		struct nl_msg *m;
		int rcvbuf = 1, fd;

		ASSERT_EQ(0, client_open(&s));
		fd = nl_socket_get_fd(s.sk);
		/* The smallest buffer there is: the dump goes in pieces. */
		ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
					sizeof(rcvbuf)));
		m = dump(&s, round & 1 ? KNAT_CMD_STATS_GET :
				       KNAT_CMD_NETWORK_GET);
		ASSERT_LT(0, nl_send_auto(s.sk, m));
		nlmsg_free(m);
		/*
		 * Read none, one (in part) or two of its datagrams, then
		 * close the socket with the dump still going.  (Every
		 * datagram is at least a page of messages: 256 bytes is a
		 * part.)
		 */
		for (i = 0; i < round % 3; i++) {
			unsigned char buf[256];
			struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
			ssize_t n = recv(fd, buf, sizeof(buf), 0);

			ASSERT_EQ((ssize_t)sizeof(buf), n);
			EXPECT_EQ(c->family, nlh->nlmsg_type);
			EXPECT_TRUE(nlh->nlmsg_flags & NLM_F_MULTI);
		}
		client_close(&s);
	}

	/* The kernel coped: a new socket works, nothing changed. */
	{
		struct client s;

		ASSERT_EQ(0, client_open(&s));
		after = config_text(_metadata, &s);
		EXPECT_STREQ(full, after);
		free(after);

		/* Every network exactly once. */
		dump_networks(_metadata, &s, &d);
		EXPECT_EQ(MANY + 2, d.n);
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < d.n; i++) {
			int k;

			if (!strcmp(d.nets[i].name, BASE_NAME)) {
				k = MANY;
			} else if (!strcmp(d.nets[i].name, BASE2_NAME)) {
				k = MANY + 1;
			} else {
				ASSERT_EQ(1, sscanf(d.nets[i].name, "n%d", &k));
				ASSERT_LE(0, k);
				ASSERT_GT(MANY, k);
			}
			EXPECT_EQ(0, seen[k]++) {
				TH_LOG("%s twice", d.nets[i].name);
			}
		}
		for (i = 0; i < MANY + 2; i++)
			EXPECT_EQ(1, seen[i]);
		dump_free(&d);
		client_close(&s);
	}

	/* The statistics: every network once, then the namespace's record. */
	{
		struct client s;
		struct stats_state st = {};
		struct reply r;

		ASSERT_EQ(0, client_open(&s));
		ASSERT_EQ(0, transact(&s, dump(&s, KNAT_CMD_STATS_GET),
				      collect_stats, &st, &r));
		EXPECT_TRUE(r.done);
		EXPECT_EQ(0, r.err);
		EXPECT_EQ(MANY + 3, st.n);
		EXPECT_EQ(1, st.n_total);
		EXPECT_TRUE(st.total_last);
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < st.n_named; i++) {
			int k;

			if (!strcmp(st.names[i], BASE_NAME)) {
				k = MANY;
			} else if (!strcmp(st.names[i], BASE2_NAME)) {
				k = MANY + 1;
			} else {
				ASSERT_EQ(1, sscanf(st.names[i], "n%d", &k));
				ASSERT_LE(0, k);
				ASSERT_GT(MANY, k);
			}
			EXPECT_EQ(0, seen[k]++) {
				TH_LOG("statistics of %s twice", st.names[i]);
			}
		}
		for (i = 0; i < MANY + 2; i++)
			EXPECT_EQ(1, seen[i]);
		free(st.names);
		client_close(&s);
	}

	/* The full dump came in more than one piece (it was a real test). */
	{
		struct client s;
		struct nl_msg *m;
		int n, datagrams = 0;
		bool end = false;

		ASSERT_EQ(0, client_open(&s));
		m = dump(&s, round & 1 ? KNAT_CMD_STATS_GET :
				       KNAT_CMD_NETWORK_GET);
		ASSERT_LT(0, nl_send_auto(s.sk, m));
		nlmsg_free(m);
		while (!end) {
			struct sockaddr_nl from;
			unsigned char *buf = NULL;
			struct nlmsghdr *nlh;

			n = nl_recv(s.sk, &from, &buf, NULL);
			ASSERT_LT(0, n);
			datagrams++;
			for (nlh = (struct nlmsghdr *)buf; nlmsg_ok(nlh, n);
			     nlh = nlmsg_next(nlh, &n))
				if (nlh->nlmsg_type == NLMSG_DONE ||
				    nlh->nlmsg_type == NLMSG_ERROR)
					end = true;
			free(buf);
		}
		EXPECT_LT(1, datagrams);
		client_close(&s);
	}
	free(full);
}

/* ---- events ---- */

struct event {
	uint8_t cmd;
	struct network n;
};

/*
 * The next knat event on @c within @ms: 1 and @ev, or 0.  Other messages
 * are skipped.
 */
static int next_event(struct client *c, int ms, struct event *ev)
{
	struct pollfd p = { .fd = nl_socket_get_fd(c->sk), .events = POLLIN };

	while (poll(&p, 1, ms) == 1) {
		struct sockaddr_nl from;
		unsigned char *buf = NULL;
		struct nlmsghdr *nlh;
		int n, got = 0;

		n = nl_recv(c->sk, &from, &buf, NULL);
		if (n <= 0)
			return 0;
		for (nlh = (struct nlmsghdr *)buf; nlmsg_ok(nlh, n);
		     nlh = nlmsg_next(nlh, &n)) {
			if (nlh->nlmsg_type != c->family)
				continue;
			ev->cmd = ((struct genlmsghdr *)nlmsg_data(nlh))->cmd;
			parse_network(nlh, &ev->n);
			got = 1;
			break;
		}
		free(buf);
		if (got)
			return 1;
	}
	return 0;
}

static int join_events(struct client *c)
{
	int grp = c->events_grp;

	if (setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK,
		       NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0)
		return -errno;
	return 0;
}

TEST_F(knat, events)
{
	struct client *c = &self->c, l;
	struct network n;
	struct event ev;
	struct nl_msg *m;

	ASSERT_EQ(0, client_open(&l));
	ASSERT_EQ(0, join_events(&l));

	m = doit(c, KNAT_CMD_NETWORK_NEW);
	put_network(m, "ev1", "198.18.1.0", 24, BASE_EXT);
	ok(_metadata, c, m);
	ASSERT_EQ(0, get_network(_metadata, c, "ev1", &n));

	ASSERT_EQ(1, next_event(&l, 5000, &ev));
	EXPECT_EQ(KNAT_CMD_NETWORK_NEW, ev.cmd);
	EXPECT_STREQ("ev1", ev.n.name);
	EXPECT_TRUE(ev.n.has_id);
	EXPECT_EQ(n.id, ev.n.id);
	EXPECT_EQ(ip("198.18.1.0"), ev.n.prefix);
	EXPECT_EQ(24, ev.n.plen);
	EXPECT_EQ(1, ev.n.n_addrs);

	/* A request that fails tells nobody. */
	m = doit(c, KNAT_CMD_NETWORK_NEW);
	put_network(m, "ev1", "198.18.2.0", 24, BASE_EXT);
	rejected(_metadata, c, m, EEXIST, "network ev1 exists", NULL, NULL);
	EXPECT_EQ(0, next_event(&l, 300, &ev)) {
		TH_LOG("event %u for %s after a failed request", ev.cmd,
		       ev.n.name);
	}

	m = doit(c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, "ev1");
	nla_put_u32(m, KNAT_A_NETWORK_TIMEOUT_UDP, 42);
	ok(_metadata, c, m);
	ASSERT_EQ(1, next_event(&l, 5000, &ev));
	EXPECT_EQ(KNAT_CMD_NETWORK_SET, ev.cmd);
	EXPECT_STREQ("ev1", ev.n.name);

	m = doit(c, KNAT_CMD_NETWORK_DEL);
	nla_put_string(m, KNAT_A_NETWORK_NAME, "ev1");
	ok(_metadata, c, m);
	ASSERT_EQ(1, next_event(&l, 5000, &ev));
	EXPECT_EQ(KNAT_CMD_NETWORK_DEL, ev.cmd);
	EXPECT_STREQ("ev1", ev.n.name);
	EXPECT_EQ(n.id, ev.n.id);

	EXPECT_EQ(0, next_event(&l, 300, &ev));
	client_close(&l);
}

/* ---- permissions ---- */

/* What an unprivileged child saw; -errno, or 0 for success. */
struct unpriv_result {
	int setup_err;		/* dropping privileges */
	int open_err;		/* a libnl error */
	int new_err;
	int set_err;
	int del_err;
	int apply_err;
	int session_err;
	int flush_err;
	int lookup_err;
	int reset_err;
	int join_err;
	int info_err;
	int info_networks;
	int get_err;
	int get_n;
	int getone_err;
	int stats_err;
	int stats_n;
};

static int child_request(struct client *c, struct nl_msg *m, int *n_msgs)
{
	struct reply r;
	int err = transact(c, m, NULL, NULL, &r);

	if (err)
		return -EIO;
	if (n_msgs)
		*n_msgs = r.n_msgs;
	return r.err;
}

/* In the child: drop to nobody, then (@userns) a user namespace of its own. */
static void unprivileged_child(bool userns, int out, int go)
{
	struct unpriv_result res = {};
	struct client c;
	struct nl_msg *m;
	struct reply r;
	char byte;

	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534) ||
	    (userns && unshare(CLONE_NEWUSER))) {
		res.setup_err = -errno;
		goto out;
	}
	res.open_err = client_open(&c);
	if (res.open_err)
		goto out;

	m = doit(&c, KNAT_CMD_NETWORK_NEW);
	put_network(m, "unpriv", "198.18.1.0", 24, BASE_EXT);
	res.new_err = child_request(&c, m, NULL);

	m = doit(&c, KNAT_CMD_NETWORK_SET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	nla_put_u32(m, KNAT_A_NETWORK_TIMEOUT_UDP, 30);
	res.set_err = child_request(&c, m, NULL);

	m = doit(&c, KNAT_CMD_NETWORK_DEL);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	res.del_err = child_request(&c, m, NULL);

	m = doit(&c, KNAT_CMD_CONFIG_APPLY);
	nla_put_flag(m, KNAT_A_CONFIG_FLUSH);
	res.apply_err = child_request(&c, m, NULL);

	res.session_err = child_request(&c, dump(&c, KNAT_CMD_SESSION_GET),
					NULL);
	res.flush_err = child_request(&c, doit(&c, KNAT_CMD_SESSION_FLUSH),
				      NULL);

	m = doit(&c, KNAT_CMD_LOOKUP);
	nla_put_u8(m, KNAT_A_SESSION_PROTO, IPPROTO_UDP);
	nla_put_u32(m, KNAT_A_SESSION_SRC_ADDR, ip("198.18.0.2"));
	nla_put_u16(m, KNAT_A_SESSION_SRC_PORT, 40000);
	nla_put_u32(m, KNAT_A_SESSION_DST_ADDR, ip("198.51.100.1"));
	nla_put_u16(m, KNAT_A_SESSION_DST_PORT, 53);
	res.lookup_err = child_request(&c, m, NULL);

	res.reset_err = child_request(&c, doit(&c, KNAT_CMD_STATS_RESET), NULL);

	res.info_networks = -1;
	memset(&r, 0, sizeof(r));
	res.info_err = transact(&c, doit(&c, KNAT_CMD_GET_INFO), count_info,
				&res.info_networks, &r) ? -EIO : r.err;
	res.get_err = child_request(&c, dump(&c, KNAT_CMD_NETWORK_GET),
				    &res.get_n);
	m = doit(&c, KNAT_CMD_NETWORK_GET);
	nla_put_string(m, KNAT_A_NETWORK_NAME, BASE_NAME);
	res.getone_err = child_request(&c, m, NULL);
	res.stats_err = child_request(&c, dump(&c, KNAT_CMD_STATS_GET),
				      &res.stats_n);

	res.join_err = join_events(&c);
out:
	if (write(out, &res, sizeof(res)) != sizeof(res))
		_exit(1);
	/* Joined after all: does it hear the parent's change? */
	if (!res.setup_err && !res.open_err && !res.join_err) {
		struct event ev;
		int heard;

		if (read(go, &byte, 1) != 1)
			_exit(1);
		heard = next_event(&c, 3000, &ev);
		if (write(out, &heard, sizeof(heard)) != sizeof(heard))
			_exit(1);
	}
	_exit(0);
}

static void unprivileged(struct __test_metadata *_metadata,
			 FIXTURE_DATA(knat) *self, bool userns)
{
	struct unpriv_result res;
	int out[2], go[2], status, heard = 0;
	struct nl_msg *m;
	pid_t pid;

	ASSERT_EQ(0, pipe(out));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(out[0]);
		close(go[1]);
		unprivileged_child(userns, out[1], go[0]);
	}
	close(out[1]);
	close(go[0]);
	ASSERT_EQ((ssize_t)sizeof(res), read(out[0], &res, sizeof(res)));

	if (res.setup_err == -EPERM || res.setup_err == -EINVAL ||
	    res.setup_err == -ENOSPC) {
		waitpid(pid, &status, 0);
		SKIP(return, "cannot make an unprivileged user namespace: %s",
		     strerror(-res.setup_err));
	}
	ASSERT_EQ(0, res.setup_err);
	ASSERT_EQ(0, res.open_err);

	/* The positive control: root's same NETWORK_NEW works. */
	m = doit(&self->c, KNAT_CMD_NETWORK_NEW);
	put_network(m, "unpriv", "198.18.1.0", 24, BASE_EXT);
	if (!res.join_err) {
		/* The child listens: let it hear this. */
		ASSERT_EQ(1, write(go[1], "x", 1));
		ok(_metadata, &self->c, m);
		ASSERT_EQ((ssize_t)sizeof(heard),
			  read(out[0], &heard, sizeof(heard)));
	} else {
		ok(_metadata, &self->c, m);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* [admin] commands: refused */
	EXPECT_EQ(-EPERM, res.new_err);
	EXPECT_EQ(-EPERM, res.set_err);
	EXPECT_EQ(-EPERM, res.del_err);
	EXPECT_EQ(-EPERM, res.apply_err);
	EXPECT_EQ(-EPERM, res.session_err);
	EXPECT_EQ(-EPERM, res.flush_err);
	EXPECT_EQ(-EPERM, res.lookup_err);
	EXPECT_EQ(-EPERM, res.reset_err);
	/* the events group: listening needs CAP_NET_ADMIN */
	EXPECT_EQ(-EPERM, res.join_err);
	EXPECT_EQ(0, heard) {
		TH_LOG("the unprivileged listener received root's NETWORK_NEW event");
	}

	/* the others: answered */
	EXPECT_EQ(0, res.info_err);
	EXPECT_EQ(2, res.info_networks);
	EXPECT_EQ(0, res.get_err);
	EXPECT_EQ(2, res.get_n);
	EXPECT_EQ(0, res.getone_err);
	EXPECT_EQ(0, res.stats_err);
	EXPECT_EQ(3, res.stats_n);	/* two networks and the namespace */

	/* Nothing the child did took effect; root's NEW did. */
	EXPECT_EQ(0, get_network(_metadata, &self->c, "unpriv", NULL));
	m = doit(&self->c, KNAT_CMD_NETWORK_DEL);
	nla_put_string(m, KNAT_A_NETWORK_NAME, "unpriv");
	ok(_metadata, &self->c, m);
	expect_config(_metadata, &self->c, self->before);
	close(out[0]);
	close(go[1]);
}

/* nobody in a user namespace that does not own the network namespace */
TEST_F(knat, unprivileged_userns)
{
	unprivileged(_metadata, self, true);
}

/* nobody, no user namespace */
TEST_F(knat, unprivileged_plain)
{
	unprivileged(_metadata, self, false);
}

/* Root in the initial user namespace may listen. */
TEST_F(knat, events_root_may_join)
{
	struct client l;

	ASSERT_EQ(0, client_open(&l));
	EXPECT_EQ(0, join_events(&l));
	client_close(&l);
}

TEST_HARNESS_MAIN
