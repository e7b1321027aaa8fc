// SPDX-License-Identifier: GPL-2.0
/*
 * natctl session: list and flush the sessions of NAT networks;
 * natctl lookup: the session of one flow.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <knat.h>

#include "natctl.h"
#include "nl.h"
#include "parse.h"

/* A session's attributes, in dumps, lookups and events (monitor.c). */
const struct nl_policy session_policy[KNAT_A_SESSION_MAX + 1] = {
	[KNAT_A_SESSION_NETWORK]	= { .type = MNL_TYPE_NUL_STRING,
					    .len = KNAT_NAME_MAXLEN },
	[KNAT_A_SESSION_PROTO]		= { .type = MNL_TYPE_U8 },
	[KNAT_A_SESSION_INT_ADDR]	= { .type = MNL_TYPE_U32 },
	[KNAT_A_SESSION_INT_PORT]	= { .type = MNL_TYPE_U16 },
	[KNAT_A_SESSION_EXT_ADDR]	= { .type = MNL_TYPE_U32 },
	[KNAT_A_SESSION_EXT_PORT]	= { .type = MNL_TYPE_U16 },
	[KNAT_A_SESSION_REM_ADDR]	= { .type = MNL_TYPE_U32 },
	[KNAT_A_SESSION_REM_PORT]	= { .type = MNL_TYPE_U16 },
	[KNAT_A_SESSION_STATE]		= { .type = MNL_TYPE_U8 },
	[KNAT_A_SESSION_EXPIRES]	= { .type = MNL_TYPE_U32 },
	[KNAT_A_SESSION_REASON]		= { .type = MNL_TYPE_U8 },
};

/* What every session message carries. */
static const uint16_t session_required[] = {
	KNAT_A_SESSION_NETWORK,
	KNAT_A_SESSION_PROTO,
	KNAT_A_SESSION_INT_ADDR,
	KNAT_A_SESSION_INT_PORT,
	KNAT_A_SESSION_EXT_ADDR,
	KNAT_A_SESSION_EXT_PORT,
	KNAT_A_SESSION_REM_ADDR,
	KNAT_A_SESSION_REM_PORT,
	KNAT_A_SESSION_STATE,
	KNAT_A_SESSION_EXPIRES,
};

/* Dumps that came interrupted (NLM_F_DUMP_INTR) are done again this often. */
#define SESSION_DUMP_RETRIES	5

/* Filters of "session show" and "session flush". */
struct session_filter {
	const char *network;	/* or NULL: every network */
	bool has_proto;
	unsigned int proto;	/* IPPROTO_* */
	struct endpoint internal, external, remote;
};

/* A session as the kernel describes it. */
struct session {
	uint32_t int_addr;	/* network byte order */
	uint32_t ext_addr;
	uint32_t rem_addr;
	uint32_t expires;	/* milliseconds */
	uint16_t int_port;
	uint16_t ext_port;
	uint16_t rem_port;
	uint8_t proto;
	uint8_t state;
	char network[KNAT_NAME_MAXLEN + 1];
};

/*
 * The sessions of a dump, in the order they came, without duplicates: a
 * hash set of indices into @s on (proto, internal, remote), which the
 * kernel says is unique.
 */
struct session_list {
	struct session *s;
	size_t n;
	size_t max;
	uint32_t *slot;		/* index + 1, or 0 for a free slot */
	size_t n_slots;		/* a power of two, or 0 */
};

static void session_usage(FILE *fp)
{
	fputs("Usage: natctl session [ show ] [ FILTER ]...\n"
	      "       natctl session flush [ FILTER ]...\n"
	      "       natctl lookup PROTO SRC:PORT DST:PORT\n"
	      "\n"
	      "FILTER := { network NAME | proto { tcp | udp | icmp } |\n"
	      "            internal ENDPOINT | external ENDPOINT |\n"
	      "            remote ENDPOINT }\n"
	      "ENDPOINT := { ADDR | ADDR:PORT | :PORT }\n"
	      "\n"
	      "show lists the sessions that match every FILTER given, one per line:\n"
	      "  PROTO INTERNAL -> EXTERNAL -> REMOTE  STATE  expires SECONDS  network NAME\n"
	      "each address with its port (for ICMP, the echo identifier; the\n"
	      "remote's is 0).  flush deletes the sessions that match every FILTER\n"
	      "given, or every session.\n"
	      "\n"
	      "lookup finds the session of a flow seen on either side of the NAT,\n"
	      "from the inside (SRC internal, DST remote) or from the outside (SRC\n"
	      "remote, DST external), and prints it with the side the flow was on:\n"
	      "  PROTO INTERNAL -> EXTERNAL -> REMOTE (network NAME, { inside | outside })\n"
	      "For ICMP the port is the echo identifier, and the remote's is 0:\n"
	      "  natctl lookup icmp 198.18.0.2:77 203.0.113.2:0\n"
	      "  natctl lookup icmp 203.0.113.2:0 203.0.113.1:1024\n", fp);
}

/* "[FILTER]..." after argv[0], for "session show" or "session flush". */
static int session_parse_filter(struct session_filter *f, const char *verb,
				int argc, char **argv)
{
	static const char * const words[] = {
		"network", "proto", "internal", "external", "remote",
	};
	struct endpoint *ep;
	const char *word;
	uint32_t given = 0;
	size_t w;
	int i, ret;

	for (i = 1; i < argc; i += 2) {
		word = argv[i];
		for (w = 0; w < ARRAY_SIZE(words); w++)
			if (!strcmp(word, words[w]))
				break;
		if (w == ARRAY_SIZE(words))
			return natctl_usage_err("session %s: unknown argument '%s'",
						verb, word);
		if (given & (1U << w))
			return natctl_usage_err("session %s: '%s' is given twice",
						verb, word);
		given |= 1U << w;
		if (i + 1 == argc)
			return natctl_usage_err("session %s: '%s' needs a value",
						verb, word);

		switch (w) {
		case 0:
			ret = parse_name("network name", argv[i + 1]);
			f->network = argv[i + 1];
			break;
		case 1:
			ret = parse_keyword("proto", argv[i + 1], &kw_proto,
					    &f->proto);
			f->has_proto = true;
			break;
		default:
			ep = w == 2 ? &f->internal :
			     w == 3 ? &f->external : &f->remote;
			ret = parse_endpoint(word, argv[i + 1], true, ep);
			break;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static void session_put_endpoint(struct nlmsghdr *nlh,
				 const struct endpoint *ep, uint16_t addr,
				 uint16_t port)
{
	if (ep->has_addr)
		mnl_attr_put_u32(nlh, addr, ep->addr);
	if (ep->has_port)
		mnl_attr_put_u16(nlh, port, ep->port);
}

static void session_put_filter(struct nlmsghdr *nlh,
			       const struct session_filter *f)
{
	if (f->network)
		mnl_attr_put_strz(nlh, KNAT_A_SESSION_NETWORK, f->network);
	if (f->has_proto)
		mnl_attr_put_u8(nlh, KNAT_A_SESSION_PROTO, (uint8_t)f->proto);
	session_put_endpoint(nlh, &f->internal, KNAT_A_SESSION_INT_ADDR,
			     KNAT_A_SESSION_INT_PORT);
	session_put_endpoint(nlh, &f->external, KNAT_A_SESSION_EXT_ADDR,
			     KNAT_A_SESSION_EXT_PORT);
	session_put_endpoint(nlh, &f->remote, KNAT_A_SESSION_REM_ADDR,
			     KNAT_A_SESSION_REM_PORT);
}

/* A session message (a dump's or a lookup's) into @s. */
static int session_parse(const struct nlmsghdr *nlh, struct session *s)
{
	const struct nlattr *tb[KNAT_A_SESSION_MAX + 1];
	size_t i;
	int ret;

	ret = nl_parse(nlh, session_policy, KNAT_A_SESSION_MAX, tb);
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(session_required); i++) {
		if (!tb[session_required[i]]) {
			natctl_err("a session in the kernel's reply lacks attribute %u",
				   session_required[i]);
			return -EPROTO;
		}
	}
	*s = (struct session){
		.int_addr = mnl_attr_get_u32(tb[KNAT_A_SESSION_INT_ADDR]),
		.ext_addr = mnl_attr_get_u32(tb[KNAT_A_SESSION_EXT_ADDR]),
		.rem_addr = mnl_attr_get_u32(tb[KNAT_A_SESSION_REM_ADDR]),
		.expires = mnl_attr_get_u32(tb[KNAT_A_SESSION_EXPIRES]),
		.int_port = mnl_attr_get_u16(tb[KNAT_A_SESSION_INT_PORT]),
		.ext_port = mnl_attr_get_u16(tb[KNAT_A_SESSION_EXT_PORT]),
		.rem_port = mnl_attr_get_u16(tb[KNAT_A_SESSION_REM_PORT]),
		.proto = mnl_attr_get_u8(tb[KNAT_A_SESSION_PROTO]),
		.state = mnl_attr_get_u8(tb[KNAT_A_SESSION_STATE]),
	};
	/* The policy bounds it to KNAT_NAME_MAXLEN. */
	strcpy(s->network, mnl_attr_get_str(tb[KNAT_A_SESSION_NETWORK]));
	return 0;
}

static uint64_t session_hash(const struct session *s)
{
	uint64_t h;

	h = ((uint64_t)s->int_addr << 32 | s->rem_addr) *
	    0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	h += ((uint64_t)s->int_port << 32 | (uint64_t)s->rem_port << 16 |
	      s->proto) * 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 29);
}

static bool session_same(const struct session *a, const struct session *b)
{
	return a->proto == b->proto && a->int_addr == b->int_addr &&
	       a->int_port == b->int_port && a->rem_addr == b->rem_addr &&
	       a->rem_port == b->rem_port;
}

/* The slot of @s in the set: its own, or the free one it would take. */
static uint32_t *session_slot(struct session_list *l, const struct session *s)
{
	size_t mask = l->n_slots - 1;
	size_t i = (size_t)session_hash(s) & mask;

	while (l->slot[i] && !session_same(&l->s[l->slot[i] - 1], s))
		i = (i + 1) & mask;
	return &l->slot[i];
}

/* Keeps the set at most half full. */
static int session_grow(struct session_list *l)
{
	size_t n_slots = l->n_slots ? l->n_slots * 2 : 1024;
	struct session *s;
	size_t i;

	if (l->n == l->max) {
		s = reallocarray(l->s, l->max ? l->max * 2 : 512, sizeof(*s));
		if (!s)
			return -ENOMEM;
		l->s = s;
		l->max = l->max ? l->max * 2 : 512;
	}
	if ((l->n + 1) * 2 <= l->n_slots)
		return 0;
	if (n_slots > UINT32_MAX)
		return -ENOMEM;
	free(l->slot);
	l->slot = calloc(n_slots, sizeof(*l->slot));
	if (!l->slot) {
		l->n_slots = 0;
		return -ENOMEM;
	}
	l->n_slots = n_slots;
	for (i = 0; i < l->n; i++)
		*session_slot(l, &l->s[i]) = (uint32_t)(i + 1);
	return 0;
}

static int session_add(struct session_list *l, const struct session *s)
{
	uint32_t *slot;

	if (session_grow(l)) {
		natctl_err("out of memory");
		return -ENOMEM;
	}
	slot = session_slot(l, s);
	if (*slot) {
		/* Seen before in this dump: the later copy is fresher. */
		l->s[*slot - 1] = *s;
		return 0;
	}
	l->s[l->n] = *s;
	*slot = (uint32_t)++l->n;
	return 0;
}

static void session_clear(struct session_list *l)
{
	l->n = 0;
	if (l->slot)
		memset(l->slot, 0, l->n_slots * sizeof(*l->slot));
}

static void session_free(struct session_list *l)
{
	free(l->s);
	free(l->slot);
}

static int session_reply(const struct nlmsghdr *nlh, void *data)
{
	struct session s;
	int ret;

	ret = session_parse(nlh, &s);
	if (!ret)
		ret = session_add(data, &s);
	return ret;
}

static const char *session_proto(const struct session *s, char *buf,
				 size_t size)
{
	return keyword_name_or_number(&kw_proto, s->proto, buf, size);
}

/* PROTO INTERNAL -> EXTERNAL -> REMOTE, as text, or as JSON members */
static void session_print_flow(struct out *o, const struct session *s,
			       const char *fmt_proto, const char *fmt_addr)
{
	char addr[ADDR_PORT_STRLEN], proto[8];
	char fmt[16];

	out_string(o, "network", NULL, s->network);
	out_string(o, "proto", fmt_proto, session_proto(s, proto,
							sizeof(proto)));
	out_string(o, "internal", fmt_addr,
		   format_addr_port(s->int_addr, s->int_port, addr));
	snprintf(fmt, sizeof(fmt), " ->%s", fmt_addr);
	out_string(o, "external", fmt,
		   format_addr_port(s->ext_addr, s->ext_port, addr));
	out_string(o, "remote", fmt,
		   format_addr_port(s->rem_addr, s->rem_port, addr));
}

static void session_print(struct out *o, const struct session *s)
{
	unsigned long long secs;
	char state[8], expires[16];

	/* Milliseconds, rounded up: "expires 0s" only when it is due. */
	secs = ((unsigned long long)s->expires + 999) / 1000;

	out_start_object(o, NULL);
	session_print_flow(o, s, "%-4s", " %-21s");
	out_string(o, "state", "  %-11s",
		   keyword_name_or_number(&kw_session_state, s->state, state,
					  sizeof(state)));
	snprintf(expires, sizeof(expires), "%llus", secs);
	out_text(o, "  expires %-8s", expires);
	out_u64(o, "expires", NULL, secs);
	out_text(o, "  network %s\n", s->network);
	out_end_object(o);
}

/*
 * Dumps the sessions into @l, again while the dump comes interrupted (the
 * table was resized under it, so sessions may be missing), up to
 * SESSION_DUMP_RETRIES times; then keeps the last with a warning.
 */
static int session_dump(struct nl *nl, struct nlmsghdr *nlh,
			struct session_list *l)
{
	struct nl_ack ack;
	unsigned int tries;
	int ret;

	for (tries = 0; ; tries++) {
		session_clear(l);
		ret = nl_req_exchange(nl, nlh, session_reply, l, &ack);
		if (ret)
			return ret;
		if (ack.error) {
			nl_report(nlh, &ack);
			return ack.error;
		}
		if (!ack.dump_intr)
			return 0;
		if (tries == SESSION_DUMP_RETRIES)
			break;
	}
	natctl_err("warning: the session table changed during each of %u dumps; sessions may be missing",
		   tries + 1);
	return 0;
}

static int session_show(struct ctx *ctx, int argc, char **argv)
{
	struct session_filter f = { 0 };
	struct session_list l = { 0 };
	struct nlmsghdr *nlh;
	struct nl *nl;
	size_t i;
	int ret;

	if (argc == 2 && natctl_is_help(argv[1])) {
		session_usage(stdout);
		return 0;
	}
	ret = session_parse_filter(&f, "show", argc, argv);
	if (ret)
		goto out;

	ret = natctl_nl(ctx, &nl);
	if (ret)
		goto out;
	nlh = nl_req_start(nl, KNAT_CMD_SESSION_GET, NLM_F_DUMP);
	session_put_filter(nlh, &f);
	ret = session_dump(nl, nlh, &l);
	if (ret)
		goto out;

	out_start_array(&ctx->out, NULL);
	for (i = 0; i < l.n; i++)
		session_print(&ctx->out, &l.s[i]);
	out_end_array(&ctx->out);
out:
	session_free(&l);
	return ret;
}

static int session_flush(struct ctx *ctx, int argc, char **argv)
{
	struct session_filter f = { 0 };
	struct nlmsghdr *nlh;
	struct nl *nl;
	int ret;

	if (argc == 2 && natctl_is_help(argv[1])) {
		session_usage(stdout);
		return 0;
	}
	ret = session_parse_filter(&f, "flush", argc, argv);
	if (ret)
		goto out;

	ret = natctl_nl(ctx, &nl);
	if (ret)
		goto out;
	nlh = nl_req_start(nl, KNAT_CMD_SESSION_FLUSH, 0);
	session_put_filter(nlh, &f);
	ret = nl_req_send(nl, nlh, NULL, NULL);
out:
	return ret;
}

static int session_help(struct ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	if (argc > 1)
		return natctl_usage_err("session help: unexpected argument '%s'",
					argv[1]);
	session_usage(stdout);
	return 0;
}

static const struct natctl_cmd session_cmds[] = {
	{ "show", session_show, "[ FILTER ]...", "list sessions" },
	{ "flush", session_flush, "[ FILTER ]...", "delete sessions" },
	{ "help", session_help, "", "show this help" },
};

int cmd_session(struct ctx *ctx, int argc, char **argv)
{
	if (argc == 1)
		return session_show(ctx, argc, argv);
	return natctl_dispatch(ctx, "session command", session_cmds,
			       ARRAY_SIZE(session_cmds), argc - 1, argv + 1);
}

/* natctl lookup */

struct lookup {
	struct session s;
	bool found;
};

static int lookup_reply(const struct nlmsghdr *nlh, void *data)
{
	struct lookup *lk = data;
	int ret;

	ret = session_parse(nlh, &lk->s);
	if (!ret)
		lk->found = true;
	return ret;
}

int cmd_lookup(struct ctx *ctx, int argc, char **argv)
{
	char src_buf[ADDR_PORT_STRLEN], dst_buf[ADDR_PORT_STRLEN];
	struct endpoint src, dst;
	struct lookup lk = { 0 };
	struct out *o = &ctx->out;
	struct nlmsghdr *nlh;
	unsigned int proto;
	struct nl_ack ack;
	const char *side;
	struct nl *nl;
	int ret;

	if (argc == 2 && natctl_is_help(argv[1])) {
		session_usage(stdout);
		return 0;
	}
	if (argc < 4)
		return natctl_usage_err("lookup: expected PROTO SRC:PORT DST:PORT");
	if (argc > 4)
		return natctl_usage_err("lookup: unexpected argument '%s'",
					argv[4]);
	ret = parse_keyword("proto", argv[1], &kw_proto, &proto);
	if (!ret)
		ret = parse_endpoint("source", argv[2], false, &src);
	if (!ret)
		ret = parse_endpoint("destination", argv[3], false, &dst);
	if (ret)
		return ret;

	ret = natctl_nl(ctx, &nl);
	if (ret)
		return ret;
	nlh = nl_req_start(nl, KNAT_CMD_LOOKUP, 0);
	mnl_attr_put_u8(nlh, KNAT_A_SESSION_PROTO, (uint8_t)proto);
	mnl_attr_put_u32(nlh, KNAT_A_SESSION_SRC_ADDR, src.addr);
	mnl_attr_put_u16(nlh, KNAT_A_SESSION_SRC_PORT, src.port);
	mnl_attr_put_u32(nlh, KNAT_A_SESSION_DST_ADDR, dst.addr);
	mnl_attr_put_u16(nlh, KNAT_A_SESSION_DST_PORT, dst.port);
	ret = nl_req_exchange(nl, nlh, lookup_reply, &lk, &ack);
	if (ret)
		return ret;
	if (ack.error == -ENOENT) {
		natctl_err("no session for %s %s -> %s", argv[1],
			   format_addr_port(src.addr, src.port, src_buf),
			   format_addr_port(dst.addr, dst.port, dst_buf));
		return ack.error;
	}
	if (ack.error) {
		nl_report(nlh, &ack);
		return ack.error;
	}
	if (!lk.found) {
		natctl_err("the kernel's reply lacks the session");
		return -EPROTO;
	}

	side = src.addr == lk.s.int_addr && src.port == lk.s.int_port ?
	       "inside" : "outside";
	out_start_object(o, NULL);
	session_print_flow(o, &lk.s, "%s", " %s");
	out_text(o, " (network %s, ", lk.s.network);
	out_string(o, "side", "%s)\n", side);
	out_string(o, "state", NULL,
		   keyword_name_or_number(&kw_session_state, lk.s.state,
					  src_buf, sizeof(src_buf)));
	out_u64(o, "expires", NULL, ((uint64_t)lk.s.expires + 999) / 1000);
	out_end_object(o);
	return 0;
}
