// SPDX-License-Identifier: GPL-2.0
/*
 * natctl session: list and flush the sessions of NAT networks.
 */
#include <errno.h>
#include <string.h>

#include <knat.h>

#include "natctl.h"
#include "nl.h"
#include "parse.h"

static const struct nl_policy session_policy[KNAT_A_SESSION_MAX + 1] = {
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

struct session_filter {
	const char *network;	/* or NULL: every network */
	bool has_proto;
	unsigned int proto;	/* IPPROTO_* */
};

static void session_usage(FILE *fp)
{
	fputs("Usage: natctl session [ show ] [ network NAME ] [ proto { tcp | udp | icmp } ]\n"
	      "       natctl session flush [ network NAME ]\n"
	      "\n"
	      "show lists the sessions, of every network or of network NAME,\n"
	      "one per line:\n"
	      "  PROTO INTERNAL -> EXTERNAL -> REMOTE  STATE  expires SECONDS  network NAME\n"
	      "each address with its port (for ICMP, the echo identifier).\n"
	      "flush deletes the sessions, of every network or of network NAME.\n",
	      fp);
}

/*
 * "[network NAME] [proto PROTO]" after argv[0], for "session show"
 * (@show) or "session flush" (no proto).
 */
static int session_parse_filter(struct session_filter *f, bool show,
				int argc, char **argv)
{
	const char *verb = show ? "show" : "flush";
	bool network, given;
	int i, ret;

	for (i = 1; i < argc; i += 2) {
		network = !strcmp(argv[i], "network");
		if (network)
			given = f->network;
		else if (show && !strcmp(argv[i], "proto"))
			given = f->has_proto;
		else
			return natctl_usage_err("session %s: unknown argument '%s'",
						verb, argv[i]);
		if (given)
			return natctl_usage_err("session %s: '%s' is given twice",
						verb, argv[i]);
		if (i + 1 == argc)
			return natctl_usage_err("session %s: '%s' needs a value",
						verb, argv[i]);

		if (network) {
			ret = parse_name("network name", argv[i + 1]);
			f->network = argv[i + 1];
		} else {
			ret = parse_keyword("proto", argv[i + 1], &kw_proto,
					    &f->proto);
			f->has_proto = true;
		}
		if (ret)
			return ret;
	}
	return 0;
}

struct session_show {
	struct out *o;
	bool started;	/* the JSON array is open */
};

static const char *session_addr(const struct nlattr **tb, uint16_t addr,
				uint16_t port, char *buf)
{
	return format_addr_port(mnl_attr_get_u32(tb[addr]),
				mnl_attr_get_u16(tb[port]), buf);
}

static int session_reply(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KNAT_A_SESSION_MAX + 1];
	struct session_show *s = data;
	struct out *o = s->o;
	char in[ADDR_PORT_STRLEN], ext[ADDR_PORT_STRLEN];
	char rem[ADDR_PORT_STRLEN], expires[16];
	char proto[8], state[8];
	const char *network, *proto_name, *state_name;
	unsigned long long secs;
	unsigned int value;
	size_t i;
	int ret;

	ret = nl_parse(nlh, session_policy, KNAT_A_SESSION_MAX, tb);
	if (ret)
		goto out;
	for (i = 0; i < ARRAY_SIZE(session_required); i++) {
		if (!tb[session_required[i]]) {
			natctl_err("a session in the kernel's reply lacks attribute %u",
				   session_required[i]);
			ret = -EPROTO;
			goto out;
		}
	}
	network = mnl_attr_get_str(tb[KNAT_A_SESSION_NETWORK]);
	/* Milliseconds, rounded up: "expires 0s" only when it is due. */
	secs = ((unsigned long long)mnl_attr_get_u32(tb[KNAT_A_SESSION_EXPIRES]) +
		999) / 1000;

	value = mnl_attr_get_u8(tb[KNAT_A_SESSION_PROTO]);
	proto_name = keyword_name_or_number(&kw_proto, value, proto,
					    sizeof(proto));
	value = mnl_attr_get_u8(tb[KNAT_A_SESSION_STATE]);
	state_name = keyword_name_or_number(&kw_session_state, value, state,
					    sizeof(state));

	if (!s->started) {
		out_start_array(o, NULL);
		s->started = true;
	}
	out_start_object(o, NULL);
	out_string(o, "network", NULL, network);
	out_string(o, "proto", "%-4s", proto_name);
	out_string(o, "internal", " %-21s",
		   session_addr(tb, KNAT_A_SESSION_INT_ADDR,
				KNAT_A_SESSION_INT_PORT, in));
	out_string(o, "external", " -> %-21s",
		   session_addr(tb, KNAT_A_SESSION_EXT_ADDR,
				KNAT_A_SESSION_EXT_PORT, ext));
	out_string(o, "remote", " -> %-21s",
		   session_addr(tb, KNAT_A_SESSION_REM_ADDR,
				KNAT_A_SESSION_REM_PORT, rem));
	out_string(o, "state", "  %-11s", state_name);
	snprintf(expires, sizeof(expires), "%llus", secs);
	out_text(o, "  expires %-8s", expires);
	out_u64(o, "expires", NULL, secs);
	out_text(o, "  network %s\n", network);
	out_end_object(o);
out:
	return ret;
}

static void session_put_filter(struct nlmsghdr *nlh,
			       const struct session_filter *f)
{
	if (f->network)
		mnl_attr_put_strz(nlh, KNAT_A_SESSION_NETWORK, f->network);
	if (f->has_proto)
		mnl_attr_put_u8(nlh, KNAT_A_SESSION_PROTO, (uint8_t)f->proto);
}

static int session_show(struct ctx *ctx, int argc, char **argv)
{
	struct session_show s = { .o = &ctx->out };
	struct session_filter f = { 0 };
	struct nlmsghdr *nlh;
	struct nl *nl;
	int ret;

	if (argc == 2 && natctl_is_help(argv[1])) {
		session_usage(stdout);
		return 0;
	}
	ret = session_parse_filter(&f, true, argc, argv);
	if (ret)
		goto out;

	ret = natctl_nl(ctx, &nl);
	if (ret)
		goto out;
	nlh = nl_req_start(nl, KNAT_CMD_SESSION_GET, NLM_F_DUMP);
	session_put_filter(nlh, &f);
	ret = nl_req_send(nl, nlh, session_reply, &s);

	/* An array, even empty, once the kernel answered. */
	if (!ret && !s.started) {
		out_start_array(s.o, NULL);
		s.started = true;
	}
	if (s.started)
		out_end_array(s.o);
out:
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
	ret = session_parse_filter(&f, false, argc, argv);
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
	{ "show", session_show,
	  "[ network NAME ] [ proto { tcp | udp | icmp } ]",
	  "list sessions" },
	{ "flush", session_flush, "[ network NAME ]", "delete sessions" },
	{ "help", session_help, "", "show this help" },
};

int cmd_session(struct ctx *ctx, int argc, char **argv)
{
	if (argc == 1)
		return session_show(ctx, argc, argv);
	return natctl_dispatch(ctx, "session command", session_cmds,
			       ARRAY_SIZE(session_cmds), argc - 1, argv + 1);
}
