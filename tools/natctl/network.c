// SPDX-License-Identifier: GPL-2.0
/*
 * natctl network: create, change, delete and show NAT networks.
 */
#include <errno.h>
#include <string.h>

#include <knat.h>

#include "natctl.h"
#include "network.h"
#include "nl.h"
#include "parse.h"

#define NETWORK_SESSIONS_MAX	(1U << 24)
#define NETWORK_TIMEOUT_MAX	2592000U	/* 30 days */

/* The timeouts: command line and text keyword, attribute; JSON key. */
static const struct keyword network_timeouts[] = {
	{ "tcp-established",	KNAT_A_NETWORK_TIMEOUT_TCP_EST },
	{ "tcp-transitory",	KNAT_A_NETWORK_TIMEOUT_TCP_TRANS },
	{ "udp",		KNAT_A_NETWORK_TIMEOUT_UDP },
	{ "icmp",		KNAT_A_NETWORK_TIMEOUT_ICMP },
	{ "tcp-syn",		KNAT_A_NETWORK_TIMEOUT_TCP_SYN },
	{ "other",		KNAT_A_NETWORK_TIMEOUT_OTHER },
};

static const char * const network_timeout_keys[] = {
	"tcp_established",
	"tcp_transitory",
	"udp",
	"icmp",
	"tcp_syn",
	"other",
};

#define NETWORK_N_TIMEOUTS	ARRAY_SIZE(network_timeouts)

static const struct keyword_table kw_network_timeout = {
	.kw = network_timeouts,
	.n = NETWORK_N_TIMEOUTS,
};

/* Bits of struct network_conf.given: the options the user gave. */
enum {
	NETWORK_OPT_INTERNAL,
	NETWORK_OPT_EXTERNAL,
	NETWORK_OPT_PORTS,
	NETWORK_OPT_FILTERING,
	NETWORK_OPT_MAX_SESSIONS,
	NETWORK_OPT_HOST_MAX_SESSIONS,
	NETWORK_OPT_UDP_INBOUND_REFRESH,
	NETWORK_OPT_HAIRPIN,
	NETWORK_OPT_INBOUND_SHARE,
	NETWORK_OPT_TIMEOUT,	/* + index in network_timeouts[] */
};

#define NETWORK_GIVEN(opt)	(1U << (opt))

/* A network as "network add" and "network set" describe it. */
struct network_conf {
	const char *name;
	uint32_t given;			/* NETWORK_GIVEN() bits */
	uint32_t prefix;		/* network byte order */
	uint8_t prefix_len;
	const char *ext_dev;		/* or NULL: ext_addrs */
	uint32_t ext_addrs[KNAT_EXT_ADDRS_MAX];	/* network byte order */
	size_t n_ext_addrs;
	uint16_t port_min;		/* 0 and 0: the default range */
	uint16_t port_max;
	uint8_t filtering;
	uint32_t max_sessions;
	uint32_t host_max_sessions;
	uint8_t udp_inbound_refresh;
	uint8_t hairpin;
	uint8_t inbound_share;
	uint32_t timeouts[NETWORK_N_TIMEOUTS];
};

static const struct nl_policy network_policy[KNAT_A_NETWORK_MAX + 1] = {
	[KNAT_A_NETWORK_NAME]		= { .type = MNL_TYPE_NUL_STRING,
					    .len = KNAT_NAME_MAXLEN },
	[KNAT_A_NETWORK_ID]		= { .type = MNL_TYPE_U32 },
	[KNAT_A_NETWORK_PREFIX]		= { .type = MNL_TYPE_U32 },
	[KNAT_A_NETWORK_PREFIX_LEN]	= { .type = MNL_TYPE_U8 },
	[KNAT_A_NETWORK_EXT_DEV]	= { .type = MNL_TYPE_NUL_STRING },
	[KNAT_A_NETWORK_EXT_ADDRS]	= { .type = MNL_TYPE_NESTED },
	[KNAT_A_NETWORK_PORT_MIN]	= { .type = MNL_TYPE_U16 },
	[KNAT_A_NETWORK_PORT_MAX]	= { .type = MNL_TYPE_U16 },
	[KNAT_A_NETWORK_FILTERING]	= { .type = MNL_TYPE_U8 },
	[KNAT_A_NETWORK_MAX_SESSIONS]	= { .type = MNL_TYPE_U32 },
	[KNAT_A_NETWORK_HOST_MAX_SESSIONS] = { .type = MNL_TYPE_U32 },
	[KNAT_A_NETWORK_UDP_INBOUND_REFRESH] = { .type = MNL_TYPE_U8 },
	[KNAT_A_NETWORK_TIMEOUT_TCP_EST] = { .type = MNL_TYPE_U32 },
	[KNAT_A_NETWORK_TIMEOUT_TCP_TRANS] = { .type = MNL_TYPE_U32 },
	[KNAT_A_NETWORK_TIMEOUT_UDP]	= { .type = MNL_TYPE_U32 },
	[KNAT_A_NETWORK_TIMEOUT_ICMP]	= { .type = MNL_TYPE_U32 },
	[KNAT_A_NETWORK_SESSIONS]	= { .type = MNL_TYPE_U32 },
	[KNAT_A_NETWORK_HAIRPIN]	= { .type = MNL_TYPE_U8 },
	[KNAT_A_NETWORK_TIMEOUT_TCP_SYN] = { .type = MNL_TYPE_U32 },
	[KNAT_A_NETWORK_INBOUND_SHARE]	= { .type = MNL_TYPE_U8 },
	[KNAT_A_NETWORK_TIMEOUT_OTHER]	= { .type = MNL_TYPE_U32 },
};

static void network_usage(FILE *fp)
{
	fputs("Usage: natctl network add NAME internal PREFIX external EXTERNAL [ OPTION ]...\n"
	      "       natctl network set NAME { external EXTERNAL | OPTION }...\n"
	      "       natctl network delete NAME\n"
	      "       natctl network [ show [ NAME ] ]\n"
	      "\n"
	      "NAME     := 1 to 15 characters of A-Z a-z 0-9 _ . -\n"
	      "PREFIX   := A.B.C.D/LEN, the internal hosts (LEN 1 to 32, no host bits)\n"
	      "EXTERNAL := { dev IFNAME | ADDR[,ADDR...] }\n"
	      "            an interface, whose primary address is followed, or a\n"
	      "            pool of 1 to 16 addresses\n"
	      "OPTION   := { ports { MIN-MAX | default } |\n"
	      "              filtering { endpoint-independent | address-dependent |\n"
	      "                          address-port-dependent } |\n"
	      "              max-sessions N | host-max-sessions N |\n"
	      "              udp-inbound-refresh { on | off } | hairpin { on | off } |\n"
	      "              inbound-share PERCENT |\n"
	      "              timeout { tcp-established | tcp-transitory | udp | icmp |\n"
	      "                        tcp-syn | other } SECONDS }\n"
	      "\n"
	      "ports: the external ports, 1 to 65535 (default: the larger part of\n"
	      "  1024-65535 outside ip_local_port_range, 1024-32767 with Linux's\n"
	      "  default range).  max-sessions: 1 to 16777216 (default: scaled\n"
	      "  to memory).  host-max-sessions: per internal host, 0 (the default)\n"
	      "  for no limit.  hairpin: whether internal hosts reach mappings on\n"
	      "  the external addresses (default on).  inbound-share: how much of\n"
	      "  max-sessions sessions opened from outside may hold, 1 to 100 %\n"
	      "  (default 50).  timeout: 1 to 2592000 seconds (defaults 7440, 240,\n"
	      "  300, 60, 30, 600; tcp-syn: a connection opened from outside until\n"
	      "  its handshake completes; other: IP protocols other than TCP, UDP\n"
	      "  and ICMP).  Each option may be given\n"
	      "  once, each timeout once.\n"
	      "The internal prefix of a network cannot be changed.\n", fp);
}

/* Fails unless @n words follow argv[0]; @what says which. */
static int network_need(const char *verb, int argc, char **argv, int n,
			const char *what)
{
	if (argc > n)
		return 0;
	return natctl_usage_err("network %s: '%s' needs %s", verb, argv[0],
				what);
}

/* Records that option @opt is given; fails when it already was. */
static int network_once(struct network_conf *c, const char *verb,
			unsigned int opt, const char *word)
{
	if (c->given & NETWORK_GIVEN(opt))
		return natctl_usage_err("network %s: '%s' is given twice",
					verb, word);
	c->given |= NETWORK_GIVEN(opt);
	return 0;
}

static int network_parse_external(struct network_conf *c, const char *verb,
				  int argc, char **argv)
{
	int ret;

	ret = network_once(c, verb, NETWORK_OPT_EXTERNAL, argv[0]);
	if (!ret)
		ret = network_need(verb, argc, argv, 1,
				   "'dev IFNAME' or ADDR[,ADDR...]");
	if (ret)
		return ret;

	if (!strcmp(argv[1], "dev")) {
		if (argc < 3)
			return natctl_usage_err("network %s: 'external dev' needs an interface name",
						verb);
		ret = parse_ifname("interface name", argv[2]);
		if (ret)
			return ret;
		c->ext_dev = argv[2];
		return 3;
	}

	ret = parse_addr_list("external address", argv[1], c->ext_addrs,
			      KNAT_EXT_ADDRS_MAX, &c->n_ext_addrs);
	return ret ? ret : 2;
}

static int network_parse_timeout(struct network_conf *c, const char *verb,
				 int argc, char **argv)
{
	unsigned int attr;
	char word[32];
	size_t i;
	int ret;

	ret = network_need(verb, argc, argv, 1,
			   "tcp-established, tcp-transitory, udp or icmp and a number of seconds");
	if (!ret)
		ret = parse_keyword("timeout", argv[1], &kw_network_timeout,
				    &attr);
	if (ret)
		return ret;
	for (i = 0; i < NETWORK_N_TIMEOUTS; i++)
		if (network_timeouts[i].value == attr)
			break;

	snprintf(word, sizeof(word), "timeout %s", argv[1]);
	ret = network_once(c, verb, NETWORK_OPT_TIMEOUT + (unsigned int)i,
			   word);
	if (!ret && argc < 3)
		ret = natctl_usage_err("network %s: '%s' needs a number of seconds",
				       verb, word);
	if (!ret)
		ret = parse_u32_range(word, argv[2], 1, NETWORK_TIMEOUT_MAX,
				      &c->timeouts[i]);
	return ret ? ret : 3;
}

/*
 * Parses the option at argv[0], with its values after it.  Returns the
 * number of words it took or -NATCTL_EUSAGE.
 */
static int network_parse_opt(struct network_conf *c, const char *verb,
			     bool add, int argc, char **argv)
{
	const char *word = argv[0];
	unsigned int opt, value;
	uint32_t n;
	int ret;

	if (!strcmp(word, "external"))
		return network_parse_external(c, verb, argc, argv);
	if (!strcmp(word, "timeout"))
		return network_parse_timeout(c, verb, argc, argv);

	if (!strcmp(word, "internal")) {
		if (!add)
			return natctl_usage_err("network %s: 'internal' cannot be changed (delete the network and add it again)",
						verb);
		opt = NETWORK_OPT_INTERNAL;
	} else if (!strcmp(word, "ports")) {
		opt = NETWORK_OPT_PORTS;
	} else if (!strcmp(word, "filtering")) {
		opt = NETWORK_OPT_FILTERING;
	} else if (!strcmp(word, "max-sessions")) {
		opt = NETWORK_OPT_MAX_SESSIONS;
	} else if (!strcmp(word, "host-max-sessions")) {
		opt = NETWORK_OPT_HOST_MAX_SESSIONS;
	} else if (!strcmp(word, "udp-inbound-refresh")) {
		opt = NETWORK_OPT_UDP_INBOUND_REFRESH;
	} else if (!strcmp(word, "hairpin")) {
		opt = NETWORK_OPT_HAIRPIN;
	} else if (!strcmp(word, "inbound-share")) {
		opt = NETWORK_OPT_INBOUND_SHARE;
	} else {
		return natctl_usage_err("network %s: unknown option '%s'",
					verb, word);
	}

	ret = network_once(c, verb, opt, word);
	if (!ret)
		ret = network_need(verb, argc, argv, 1, "a value");
	if (ret)
		return ret;

	switch (opt) {
	case NETWORK_OPT_INTERNAL:
		ret = parse_prefix("internal prefix", argv[1], &c->prefix,
				   &c->prefix_len);
		break;
	case NETWORK_OPT_PORTS:
		if (!strcmp(argv[1], "default")) {
			c->port_min = 0;
			c->port_max = 0;
			break;
		}
		ret = parse_port_range("ports", argv[1], &c->port_min,
				       &c->port_max);
		break;
	case NETWORK_OPT_FILTERING:
		ret = parse_keyword(word, argv[1], &kw_filtering, &value);
		c->filtering = (uint8_t)value;
		break;
	case NETWORK_OPT_MAX_SESSIONS:
		ret = parse_u32_range(word, argv[1], 1, NETWORK_SESSIONS_MAX,
				      &n);
		c->max_sessions = n;
		break;
	case NETWORK_OPT_HOST_MAX_SESSIONS:
		ret = parse_u32_range(word, argv[1], 0, NETWORK_SESSIONS_MAX,
				      &n);
		c->host_max_sessions = n;
		break;
	case NETWORK_OPT_UDP_INBOUND_REFRESH:
		ret = parse_keyword(word, argv[1], &kw_on_off, &value);
		c->udp_inbound_refresh = (uint8_t)value;
		break;
	case NETWORK_OPT_HAIRPIN:
		ret = parse_keyword(word, argv[1], &kw_on_off, &value);
		c->hairpin = (uint8_t)value;
		break;
	case NETWORK_OPT_INBOUND_SHARE:
		ret = parse_u32_range(word, argv[1], 1, 100, &n);
		c->inbound_share = (uint8_t)n;
		break;
	}
	return ret ? ret : 2;
}

/*
 * Parses "NAME [OPTION]..." after argv[0] for "network add" (@add) or
 * "network set".
 */
static int network_parse_conf(struct network_conf *c, bool add, int argc,
			      char **argv)
{
	const char *verb = add ? "add" : "set";
	int i, ret;

	if (argc < 2)
		return natctl_usage_err("network %s: missing network NAME",
					verb);
	ret = parse_name("network name", argv[1]);
	if (ret)
		return ret;
	c->name = argv[1];

	for (i = 2; i < argc; i += ret) {
		ret = network_parse_opt(c, verb, add, argc - i, argv + i);
		if (ret < 0)
			return ret;
	}

	if (add && !(c->given & NETWORK_GIVEN(NETWORK_OPT_INTERNAL)))
		return natctl_usage_err("network add: 'internal PREFIX' is required");
	if (add && !(c->given & NETWORK_GIVEN(NETWORK_OPT_EXTERNAL)))
		return natctl_usage_err("network add: 'external { dev IFNAME | ADDR[,ADDR...] }' is required");
	if (!c->given)
		return natctl_usage_err("network set: nothing to change in '%s'",
					c->name);
	return 0;
}

/*
 * The attributes of @c.  They are a few hundred bytes at most (names are
 * bounded, the pool too), within NETWORK_ARGS_MAX: no put can fail.
 */
static void network_put_conf(struct nlmsghdr *nlh,
			     const struct network_conf *c)
{
	struct nlattr *nest;
	uint16_t attr;
	size_t i;

	mnl_attr_put_strz(nlh, KNAT_A_NETWORK_NAME, c->name);
	if (c->given & NETWORK_GIVEN(NETWORK_OPT_INTERNAL)) {
		mnl_attr_put_u32(nlh, KNAT_A_NETWORK_PREFIX, c->prefix);
		mnl_attr_put_u8(nlh, KNAT_A_NETWORK_PREFIX_LEN,
				c->prefix_len);
	}
	if (c->given & NETWORK_GIVEN(NETWORK_OPT_EXTERNAL)) {
		if (c->ext_dev) {
			mnl_attr_put_strz(nlh, KNAT_A_NETWORK_EXT_DEV,
					  c->ext_dev);
		} else {
			nest = mnl_attr_nest_start(nlh,
						   KNAT_A_NETWORK_EXT_ADDRS);
			for (i = 0; i < c->n_ext_addrs; i++)
				mnl_attr_put_u32(nlh, KNAT_A_EXT_ADDR,
						 c->ext_addrs[i]);
			mnl_attr_nest_end(nlh, nest);
		}
	}
	if (c->given & NETWORK_GIVEN(NETWORK_OPT_PORTS)) {
		mnl_attr_put_u16(nlh, KNAT_A_NETWORK_PORT_MIN, c->port_min);
		mnl_attr_put_u16(nlh, KNAT_A_NETWORK_PORT_MAX, c->port_max);
	}
	if (c->given & NETWORK_GIVEN(NETWORK_OPT_FILTERING))
		mnl_attr_put_u8(nlh, KNAT_A_NETWORK_FILTERING, c->filtering);
	if (c->given & NETWORK_GIVEN(NETWORK_OPT_MAX_SESSIONS))
		mnl_attr_put_u32(nlh, KNAT_A_NETWORK_MAX_SESSIONS,
				 c->max_sessions);
	if (c->given & NETWORK_GIVEN(NETWORK_OPT_HOST_MAX_SESSIONS))
		mnl_attr_put_u32(nlh, KNAT_A_NETWORK_HOST_MAX_SESSIONS,
				 c->host_max_sessions);
	if (c->given & NETWORK_GIVEN(NETWORK_OPT_UDP_INBOUND_REFRESH))
		mnl_attr_put_u8(nlh, KNAT_A_NETWORK_UDP_INBOUND_REFRESH,
				c->udp_inbound_refresh);
	if (c->given & NETWORK_GIVEN(NETWORK_OPT_HAIRPIN))
		mnl_attr_put_u8(nlh, KNAT_A_NETWORK_HAIRPIN, c->hairpin);
	if (c->given & NETWORK_GIVEN(NETWORK_OPT_INBOUND_SHARE))
		mnl_attr_put_u8(nlh, KNAT_A_NETWORK_INBOUND_SHARE,
				c->inbound_share);
	for (i = 0; i < NETWORK_N_TIMEOUTS; i++) {
		attr = (uint16_t)network_timeouts[i].value;
		if (c->given & NETWORK_GIVEN(NETWORK_OPT_TIMEOUT + i))
			mnl_attr_put_u32(nlh, attr, c->timeouts[i]);
	}
}

/* "network delete NAME" */
static int network_parse_del(int argc, char **argv)
{
	int ret;

	if (argc < 2)
		return natctl_usage_err("network delete: missing network NAME");
	ret = parse_name("network name", argv[1]);
	if (ret)
		return ret;
	if (argc > 2)
		return natctl_usage_err("network delete: unexpected argument '%s'",
					argv[2]);
	return 0;
}

int network_parse_args(uint8_t cmd, int argc, char **argv,
		       struct nlmsghdr *nlh, uint64_t *features)
{
	struct network_conf conf = { 0 };
	int ret;

	*features = 0;
	if (cmd == KNAT_CMD_NETWORK_DEL) {
		ret = network_parse_del(argc, argv);
		if (!ret)
			mnl_attr_put_strz(nlh, KNAT_A_NETWORK_NAME, argv[1]);
		return ret;
	}
	ret = network_parse_conf(&conf, cmd == KNAT_CMD_NETWORK_NEW, argc,
				 argv);
	if (ret)
		return ret;
	network_put_conf(nlh, &conf);
	if (conf.given & NETWORK_GIVEN(NETWORK_OPT_HAIRPIN))
		*features |= KNAT_FEATURE_MAPS;
	return 0;
}

/* "network add", "network set" and "network delete" */
static int network_change(struct ctx *ctx, uint8_t cmd, int argc,
			  char **argv)
{
	uint32_t buf[(MNL_NLMSG_HDRLEN + GENL_HDRLEN +
		      NETWORK_ARGS_MAX) / sizeof(uint32_t)];
	struct nlmsghdr *nlh;
	uint64_t features;
	struct nl *nl;
	int ret;

	if (argc == 2 && natctl_is_help(argv[1])) {
		network_usage(stdout);
		return 0;
	}
	/* Checked before the socket opens: a usage error sends nothing. */
	nlh = nl_req_init(buf, cmd, 0);
	ret = network_parse_args(cmd, argc, argv, nlh, &features);
	if (ret)
		goto out;

	/* An older module would refuse the attribute less clearly. */
	if (features) {
		ret = natctl_need(ctx, features, "hairpin setting");
		if (ret)
			goto out;
	}
	ret = natctl_nl(ctx, &nl);
	if (ret)
		goto out;
	ret = nl_req_send(nl, nlh, NULL, NULL);
out:
	return ret;
}

static int network_add(struct ctx *ctx, int argc, char **argv)
{
	return network_change(ctx, KNAT_CMD_NETWORK_NEW, argc, argv);
}

static int network_set(struct ctx *ctx, int argc, char **argv)
{
	return network_change(ctx, KNAT_CMD_NETWORK_SET, argc, argv);
}

static int network_del(struct ctx *ctx, int argc, char **argv)
{
	return network_change(ctx, KNAT_CMD_NETWORK_DEL, argc, argv);
}

struct network_show {
	struct out *o;
	bool started;	/* the JSON array is open */
};

/* Checks the addresses of KNAT_A_NETWORK_EXT_ADDRS before any printing. */
static int network_check_addrs(const struct nlattr *nest)
{
	const struct nlattr *a;

	if (!nest)
		return 0;
	mnl_attr_for_each_nested(a, nest) {
		if (mnl_attr_get_type(a) == KNAT_A_EXT_ADDR &&
		    mnl_attr_validate(a, MNL_TYPE_U32) < 0) {
			natctl_err("malformed external address in the kernel's reply");
			return -EPROTO;
		}
	}
	return 0;
}

/* " external dev eth1 (203.0.113.1)" or " external 203.0.113.1,..." */
static void network_print_external(struct out *o, const struct nlattr **tb)
{
	const struct nlattr *dev = tb[KNAT_A_NETWORK_EXT_DEV];
	const struct nlattr *nest = tb[KNAT_A_NETWORK_EXT_ADDRS];
	char buf[INET_ADDRSTRLEN];
	const struct nlattr *a;
	bool first = true;

	out_text(o, " external ");
	if (dev)
		out_string(o, "external_dev", "dev %s (", mnl_attr_get_str(dev));
	out_start_array(o, "external");
	if (nest) {
		mnl_attr_for_each_nested(a, nest) {
			if (mnl_attr_get_type(a) != KNAT_A_EXT_ADDR)
				continue;
			out_string(o, NULL, first ? "%s" : ",%s",
				   format_addr(mnl_attr_get_u32(a), buf));
			first = false;
		}
	}
	if (first)
		out_text(o, dev ? "no address" : "none");
	out_end_array(o);
	if (dev)
		out_text(o, ")");
}

/* " ports 40000-49999" or " ports default" (0 and 0 or absent) */
static void network_print_ports(struct out *o, const struct nlattr **tb)
{
	uint16_t min = 0, max = 0;

	if (tb[KNAT_A_NETWORK_PORT_MIN] && tb[KNAT_A_NETWORK_PORT_MAX]) {
		min = mnl_attr_get_u16(tb[KNAT_A_NETWORK_PORT_MIN]);
		max = mnl_attr_get_u16(tb[KNAT_A_NETWORK_PORT_MAX]);
	}
	if (!min && !max) {
		out_string(o, "ports", " ports %s", "default");
		return;
	}
	out_text(o, " ports ");
	out_start_object(o, "ports");
	out_u64(o, "min", "%llu", min);
	out_u64(o, "max", "-%llu", max);
	out_end_object(o);
}

/* Text: the separator in front of a field of the second line. */
static void network_sep(struct out *o, const char **sep)
{
	out_text(o, "%s", *sep);
	*sep = " ";
}

/* @sep: what comes before the line, "\n\t" or " " (one line) */
static void network_print_limits(struct out *o, const struct nlattr **tb,
				 const char *sep)
{
	const struct nlattr *attr;

	attr = tb[KNAT_A_NETWORK_MAX_SESSIONS];
	if (attr) {
		network_sep(o, &sep);
		out_u64(o, "max_sessions", "max-sessions %llu",
			mnl_attr_get_u32(attr));
	}
	attr = tb[KNAT_A_NETWORK_HOST_MAX_SESSIONS];
	if (attr) {
		network_sep(o, &sep);
		out_u64(o, "host_max_sessions", "host-max-sessions %llu",
			mnl_attr_get_u32(attr));
	}
	attr = tb[KNAT_A_NETWORK_UDP_INBOUND_REFRESH];
	if (attr) {
		network_sep(o, &sep);
		/* "on"/"off" in text, a boolean in JSON */
		out_text(o, "udp-inbound-refresh %s",
			 mnl_attr_get_u8(attr) ? "on" : "off");
		out_bool(o, "udp_inbound_refresh", NULL,
			 mnl_attr_get_u8(attr));
	}
	attr = tb[KNAT_A_NETWORK_HAIRPIN];
	if (attr) {
		network_sep(o, &sep);
		out_text(o, "hairpin %s", mnl_attr_get_u8(attr) ? "on" : "off");
		out_bool(o, "hairpin", NULL, mnl_attr_get_u8(attr));
	}
	attr = tb[KNAT_A_NETWORK_INBOUND_SHARE];
	if (attr) {
		network_sep(o, &sep);
		out_u64(o, "inbound_share", "inbound-share %llu",
			mnl_attr_get_u8(attr));
	}
	/* In JSON it comes last, after the timeouts. */
	attr = tb[KNAT_A_NETWORK_SESSIONS];
	if (attr) {
		network_sep(o, &sep);
		out_text(o, "sessions %u", mnl_attr_get_u32(attr));
	}
}

static void network_print_timeouts(struct out *o, const struct nlattr **tb,
				   const char *sep)
{
	bool first = true;
	size_t i;

	for (i = 0; i < NETWORK_N_TIMEOUTS; i++) {
		const struct nlattr *attr = tb[network_timeouts[i].value];

		if (!attr)
			continue;
		if (first) {
			out_text(o, "%stimeout", sep);
			out_start_object(o, "timeouts");
			first = false;
		}
		out_text(o, " %s", network_timeouts[i].name);
		out_u64(o, network_timeout_keys[i], " %llu",
			mnl_attr_get_u32(attr));
	}
	if (!first)
		out_end_object(o);
}

int network_parse(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	int ret;

	ret = nl_parse(nlh, network_policy, KNAT_A_NETWORK_MAX, tb);
	if (ret)
		goto out;
	if (!tb[KNAT_A_NETWORK_NAME] || !tb[KNAT_A_NETWORK_PREFIX] ||
	    !tb[KNAT_A_NETWORK_PREFIX_LEN]) {
		natctl_err("a network in the kernel's reply lacks its name or prefix");
		ret = -EPROTO;
		goto out;
	}
	ret = network_check_addrs(tb[KNAT_A_NETWORK_EXT_ADDRS]);
out:
	return ret;
}

void network_print(struct out *o, const struct nlattr **tb, bool one_line)
{
	char addr[INET_ADDRSTRLEN], prefix[INET_ADDRSTRLEN + 4];
	const char *sep = one_line ? " " : "\n\t";
	const struct nlattr *attr;
	const char *filtering;
	char num[16];

	out_string(o, "name", one_line ? "%s" : "%s:",
		   mnl_attr_get_str(tb[KNAT_A_NETWORK_NAME]));
	if (tb[KNAT_A_NETWORK_ID])
		out_u64(o, "id", NULL, mnl_attr_get_u32(tb[KNAT_A_NETWORK_ID]));
	snprintf(prefix, sizeof(prefix), "%s/%u",
		 format_addr(mnl_attr_get_u32(tb[KNAT_A_NETWORK_PREFIX]), addr),
		 mnl_attr_get_u8(tb[KNAT_A_NETWORK_PREFIX_LEN]));
	out_string(o, "internal", " internal %s", prefix);
	network_print_external(o, tb);
	network_print_ports(o, tb);
	attr = tb[KNAT_A_NETWORK_FILTERING];
	if (attr) {
		filtering = keyword_name_or_number(&kw_filtering,
						   mnl_attr_get_u8(attr),
						   num, sizeof(num));
		out_string(o, "filtering", " filtering %s", filtering);
	}
	network_print_limits(o, tb, sep);
	network_print_timeouts(o, tb, sep);
	if (tb[KNAT_A_NETWORK_SESSIONS])
		out_u64(o, "sessions", NULL,
			mnl_attr_get_u32(tb[KNAT_A_NETWORK_SESSIONS]));
}

static int network_reply(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KNAT_A_NETWORK_MAX + 1];
	struct network_show *s = data;
	struct out *o = s->o;
	int ret;

	ret = network_parse(nlh, tb);
	if (ret)
		goto out;

	if (!s->started) {
		out_start_array(o, NULL);
		s->started = true;
	}
	out_start_object(o, NULL);
	network_print(o, tb, false);
	out_text(o, "\n");
	out_end_object(o);
out:
	return ret;
}

static int network_show(struct ctx *ctx, int argc, char **argv)
{
	struct network_show s = { .o = &ctx->out };
	const char *name = NULL;
	struct nlmsghdr *nlh;
	struct nl *nl;
	int ret;

	if (argc >= 2 && natctl_is_help(argv[1])) {
		network_usage(stdout);
		return 0;
	}
	if (argc >= 2) {
		name = argv[1];
		ret = parse_name("network name", name);
		if (ret)
			goto out;
	}
	if (argc > 2)
		return natctl_usage_err("network show: unexpected argument '%s'",
					argv[2]);

	ret = natctl_nl(ctx, &nl);
	if (ret)
		goto out;
	if (name) {
		nlh = nl_req_start(nl, KNAT_CMD_NETWORK_GET, 0);
		mnl_attr_put_strz(nlh, KNAT_A_NETWORK_NAME, name);
	} else {
		nlh = nl_req_start(nl, KNAT_CMD_NETWORK_GET, NLM_F_DUMP);
	}
	ret = nl_req_send(nl, nlh, network_reply, &s);

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

static int network_help(struct ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	if (argc > 1)
		return natctl_usage_err("network help: unexpected argument '%s'",
					argv[1]);
	network_usage(stdout);
	return 0;
}

static const struct natctl_cmd network_cmds[] = {
	{ "add", network_add,
	  "NAME internal PREFIX external EXTERNAL [ OPTION ]...",
	  "create a NAT network" },
	{ "set", network_set, "NAME { external EXTERNAL | OPTION }...",
	  "change a NAT network" },
	{ "delete", network_del, "NAME",
	  "delete a NAT network and its sessions" },
	{ "show", network_show, "[ NAME ]", "show one or every NAT network" },
	{ "help", network_help, "", "show this help" },
};

int cmd_network(struct ctx *ctx, int argc, char **argv)
{
	if (argc == 1)
		return network_show(ctx, argc, argv);
	return natctl_dispatch(ctx, "network command", network_cmds,
			       ARRAY_SIZE(network_cmds), argc - 1, argv + 1);
}
