// SPDX-License-Identifier: GPL-2.0
/*
 * natctl map: add, delete and show the static mappings of NAT networks.
 *
 *	map add NETWORK { tcp | udp } [EXTADDR:]PORT[-PORT]
 *		to INTADDR[:PORT[-PORT]] [remote PREFIX]
 *	map add NETWORK ip EXTADDR to INTADDR
 *	map delete NETWORK { tcp | udp } [EXTADDR:]PORT[-PORT]
 *	map delete NETWORK ip EXTADDR
 *	map [ show | list ] [ NETWORK ]
 *
 * "map show" prints each mapping as the arguments of the "map add" that
 * makes it, so that save writes them as they are shown.  The internal
 * ports are written only when they differ from the external ones: the
 * kernel reports them always, and a mapping made without them is the same
 * as one made with ports equal to the external ones.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <knat.h>

#include "map.h"
#include "natctl.h"
#include "nl.h"
#include "parse.h"

static const struct keyword map_protos[] = {
	{ "tcp",	IPPROTO_TCP },
	{ "udp",	IPPROTO_UDP },
	{ "ip",		0 },
};

static const struct keyword_table kw_map_proto = {
	.kw = map_protos,
	.n = ARRAY_SIZE(map_protos),
};

static const struct nl_policy map_policy[KNAT_A_MAP_MAX + 1] = {
	[KNAT_A_MAP_NETWORK]		= { .type = MNL_TYPE_NUL_STRING,
					    .len = KNAT_NAME_MAXLEN },
	[KNAT_A_MAP_PROTO]		= { .type = MNL_TYPE_U8 },
	[KNAT_A_MAP_EXT_ADDR]		= { .type = MNL_TYPE_U32 },
	[KNAT_A_MAP_EXT_PORT_MIN]	= { .type = MNL_TYPE_U16 },
	[KNAT_A_MAP_EXT_PORT_MAX]	= { .type = MNL_TYPE_U16 },
	[KNAT_A_MAP_INT_ADDR]		= { .type = MNL_TYPE_U32 },
	[KNAT_A_MAP_INT_PORT_MIN]	= { .type = MNL_TYPE_U16 },
	[KNAT_A_MAP_INT_PORT_MAX]	= { .type = MNL_TYPE_U16 },
	[KNAT_A_MAP_REM_PREFIX]		= { .type = MNL_TYPE_U32 },
	[KNAT_A_MAP_REM_PREFIX_LEN]	= { .type = MNL_TYPE_U8 },
	[KNAT_A_MAP_EXT_ADDR_NOW]	= { .type = MNL_TYPE_U32 },
	[KNAT_A_MAP_PACKETS]		= { .type = MNL_TYPE_U64 },
	[KNAT_A_MAP_SESSIONS]		= { .type = MNL_TYPE_U64 },
};

static void map_usage(FILE *fp)
{
	fputs("Usage: natctl map add NETWORK { tcp | udp } [EXTADDR:]PORT[-PORT]\n"
	      "                    to INTADDR[:PORT[-PORT]] [ remote PREFIX ]\n"
	      "       natctl map add NETWORK ip EXTADDR to INTADDR\n"
	      "       natctl map delete NETWORK { tcp | udp } [EXTADDR:]PORT[-PORT]\n"
	      "       natctl map delete NETWORK ip EXTADDR\n"
	      "       natctl map [ { show | list } [ NETWORK ] ]\n"
	      "\n"
	      "A port mapping (tcp, udp) lets new inbound flows to its external\n"
	      "ports in, to INTADDR, whatever the network's filtering.  EXTADDR:\n"
	      "the external address (default: the network's first, followed when\n"
	      "it changes).  The internal ports: the external ones (default), one\n"
	      "port that the whole external range goes to, or a range as long as\n"
	      "the external one, port for port.  PORT: 1 to 65535.\n"
	      "remote PREFIX (A.B.C.D/LEN, LEN 0 to 32): only remote hosts in\n"
	      "PREFIX may use the mapping.\n"
	      "A 1:1 mapping (ip) translates every packet between EXTADDR and\n"
	      "INTADDR, ports unchanged; INTADDR's own flows leave from EXTADDR.\n"
	      "A mapping is deleted by its network, protocol and external side,\n"
	      "as added.\n"
	      "\n"
	      "show prints one line per mapping, as its 'map add' arguments, then\n"
	      "the external address in use when it is the network's, the packets\n"
	      "translated and (port mappings) the sessions created:\n"
	      "  lan tcp 8080 to 198.18.0.10:80 (external 203.0.113.1) packets 12 sessions 3\n"
	      "Needs a module with the 'maps' feature.\n", fp);
}

/*
 * A side of a mapping: for a port mapping as parse_addr_ports() takes it
 * (@flags), for a 1:1 mapping (@proto 0) an address alone.
 */
static int map_parse_side(const char *what, const char *s,
			  unsigned int proto, unsigned int flags,
			  struct addr_ports *ap)
{
	struct addr_ports a = { .has_addr = true };
	int ret;

	if (proto)
		return parse_addr_ports(what, s, flags, ap);
	if (strchr(s, ':'))
		return natctl_usage_err("invalid %s '%s': a 1:1 mapping ('ip') maps a whole address, without ports",
					what, s);
	ret = parse_addr(what, s, &a.addr);
	if (!ret)
		*ap = a;
	return ret;
}

/* "[remote PREFIX]" after "map add ... to INTERNAL", from argv[0] on. */
static int map_parse_opts(unsigned int proto, int argc, char **argv,
			  struct nlmsghdr *nlh)
{
	bool has_remote = false;
	uint32_t prefix;
	uint8_t len;
	int i, ret;

	for (i = 0; i < argc; i += 2) {
		if (strcmp(argv[i], "remote"))
			return natctl_usage_err("map add: unknown argument '%s'",
						argv[i]);
		if (!proto)
			return natctl_usage_err("map add: 'remote' applies to tcp and udp mappings only (a 1:1 mapping translates every packet)");
		if (has_remote)
			return natctl_usage_err("map add: 'remote' is given twice");
		if (i + 1 == argc)
			return natctl_usage_err("map add: 'remote' needs a PREFIX (A.B.C.D/LEN)");
		ret = parse_prefix_any("remote prefix", argv[i + 1], &prefix,
				       &len);
		if (ret)
			return ret;
		has_remote = true;
	}
	if (has_remote) {
		mnl_attr_put_u32(nlh, KNAT_A_MAP_REM_PREFIX, prefix);
		mnl_attr_put_u8(nlh, KNAT_A_MAP_REM_PREFIX_LEN, len);
	}
	return 0;
}

/* The internal ports: one, or as many as the external ones. */
static int map_check_ports(const struct addr_ports *ext,
			   const struct addr_ports *in, const char *ext_word)
{
	unsigned int ext_n = (unsigned int)ext->max - ext->min + 1;
	unsigned int in_n = (unsigned int)in->max - in->min + 1;

	if (!in->has_ports || in_n == 1 || in_n == ext_n)
		return 0;
	return natctl_usage_err("map add: the internal range %u-%u has %u ports, the external '%s' %u (give a range as long as the external one, or a single port)",
				in->min, in->max, in_n, ext_word, ext_n);
}

int map_parse_args(uint8_t cmd, int argc, char **argv, struct nlmsghdr *nlh)
{
	const char *verb = cmd == KNAT_CMD_MAP_NEW ? "add" : "delete";
	struct addr_ports ext, in = { 0 };
	unsigned int proto;
	int ret;

	if (argc < 2)
		return natctl_usage_err("map %s: missing NETWORK", verb);
	ret = parse_name("network name", argv[1]);
	if (ret)
		return ret;
	if (argc < 3)
		return natctl_usage_err("map %s: missing the protocol after '%s' (tcp, udp or ip)",
					verb, argv[1]);
	ret = parse_keyword("protocol", argv[2], &kw_map_proto, &proto);
	if (ret)
		return ret;
	if (argc < 4)
		return natctl_usage_err("map %s: missing the external side after '%s' (%s)",
					verb, argv[2],
					proto ? "[EXTADDR:]PORT[-PORT]" :
						"EXTADDR");
	ret = map_parse_side("external", argv[3], proto, ADDR_PORTS_PORTS,
			     &ext);
	if (ret)
		return ret;

	if (cmd == KNAT_CMD_MAP_DEL) {
		if (argc > 4)
			return natctl_usage_err("map delete: unexpected argument '%s' (a mapping is named by its network, protocol and external side)",
						argv[4]);
	} else {
		if (argc < 5)
			return natctl_usage_err("map add: missing 'to INTADDR' after '%s'",
						argv[3]);
		if (strcmp(argv[4], "to"))
			return natctl_usage_err("map add: expected 'to' after '%s', not '%s'",
						argv[3], argv[4]);
		if (argc < 6)
			return natctl_usage_err("map add: 'to' needs the internal side (%s)",
						proto ? "INTADDR[:PORT[-PORT]]" :
							"INTADDR");
		ret = map_parse_side("internal", argv[5], proto,
				     ADDR_PORTS_ADDR, &in);
		if (!ret && proto)
			ret = map_check_ports(&ext, &in, argv[3]);
		if (ret)
			return ret;
	}

	/* At most some 100 bytes, within MAP_ARGS_MAX: no put can fail. */
	mnl_attr_put_strz(nlh, KNAT_A_MAP_NETWORK, argv[1]);
	mnl_attr_put_u8(nlh, KNAT_A_MAP_PROTO, (uint8_t)proto);
	if (ext.has_addr)
		mnl_attr_put_u32(nlh, KNAT_A_MAP_EXT_ADDR, ext.addr);
	if (proto) {
		mnl_attr_put_u16(nlh, KNAT_A_MAP_EXT_PORT_MIN, ext.min);
		if (ext.max != ext.min)
			mnl_attr_put_u16(nlh, KNAT_A_MAP_EXT_PORT_MAX,
					 ext.max);
	}
	if (cmd == KNAT_CMD_MAP_DEL)
		return 0;
	mnl_attr_put_u32(nlh, KNAT_A_MAP_INT_ADDR, in.addr);
	if (in.has_ports) {
		mnl_attr_put_u16(nlh, KNAT_A_MAP_INT_PORT_MIN, in.min);
		if (in.max != in.min)
			mnl_attr_put_u16(nlh, KNAT_A_MAP_INT_PORT_MAX,
					 in.max);
	}
	return map_parse_opts(proto, argc - 6, argv + 6, nlh);
}

int map_parse(const struct nlmsghdr *nlh, struct map *m)
{
	const struct nlattr *tb[KNAT_A_MAP_MAX + 1];
	const struct nlattr *attr;
	int ret;

	ret = nl_parse(nlh, map_policy, KNAT_A_MAP_MAX, tb);
	if (ret)
		return ret;
	if (!tb[KNAT_A_MAP_NETWORK] || !tb[KNAT_A_MAP_PROTO] ||
	    !tb[KNAT_A_MAP_INT_ADDR])
		goto incomplete;

	*m = (struct map){
		.proto = mnl_attr_get_u8(tb[KNAT_A_MAP_PROTO]),
		.int_addr = mnl_attr_get_u32(tb[KNAT_A_MAP_INT_ADDR]),
	};
	/* The policy bounds it to KNAT_NAME_MAXLEN. */
	strcpy(m->network, mnl_attr_get_str(tb[KNAT_A_MAP_NETWORK]));
	attr = tb[KNAT_A_MAP_EXT_ADDR];
	if (attr) {
		m->ext_addr = mnl_attr_get_u32(attr);
		m->has_ext_addr = true;
	}
	if (m->proto) {
		attr = tb[KNAT_A_MAP_EXT_PORT_MIN];
		if (!attr)
			goto incomplete;
		m->ext_min = mnl_attr_get_u16(attr);
		attr = tb[KNAT_A_MAP_EXT_PORT_MAX];
		m->ext_max = attr ? mnl_attr_get_u16(attr) : m->ext_min;
		/* Without internal ports, the external ones. */
		attr = tb[KNAT_A_MAP_INT_PORT_MIN];
		m->int_min = attr ? mnl_attr_get_u16(attr) : m->ext_min;
		attr = tb[KNAT_A_MAP_INT_PORT_MAX];
		m->int_max = attr ? mnl_attr_get_u16(attr) :
			     tb[KNAT_A_MAP_INT_PORT_MIN] ? m->int_min :
							   m->ext_max;
		if (m->ext_min > m->ext_max || m->int_min > m->int_max) {
			natctl_err("a mapping of network %s in the kernel's reply has a reversed port range",
				   m->network);
			return -EPROTO;
		}
	} else if (!m->has_ext_addr) {
		goto incomplete;
	}
	if (tb[KNAT_A_MAP_REM_PREFIX] && tb[KNAT_A_MAP_REM_PREFIX_LEN]) {
		m->rem_prefix = mnl_attr_get_u32(tb[KNAT_A_MAP_REM_PREFIX]);
		m->rem_len = mnl_attr_get_u8(tb[KNAT_A_MAP_REM_PREFIX_LEN]);
		m->has_remote = true;
	}
	attr = tb[KNAT_A_MAP_EXT_ADDR_NOW];
	if (attr) {
		m->ext_now = mnl_attr_get_u32(attr);
		m->has_ext_now = true;
	}
	if (tb[KNAT_A_MAP_PACKETS])
		m->packets = mnl_attr_get_u64(tb[KNAT_A_MAP_PACKETS]);
	if (tb[KNAT_A_MAP_SESSIONS]) {
		m->sessions = mnl_attr_get_u64(tb[KNAT_A_MAP_SESSIONS]);
		m->has_sessions = true;
	}
	return 0;

incomplete:
	natctl_err("a mapping in the kernel's reply lacks its network, protocol, external or internal side");
	return -EPROTO;
}

/* The external side as "map add" takes it: [ADDR:]PORT[-PORT] or ADDR. */
static const char *map_external(const struct map *m, char *buf)
{
	if (!m->proto)
		return format_addr(m->ext_addr, buf);
	return format_addr_ports(m->has_ext_addr, m->ext_addr, m->ext_min,
				 m->ext_max, buf);
}

/*
 * The internal side as "map add" takes it: without ports when they are
 * the external ones (@short_form), else ADDR:PORT or ADDR:LO-HI.
 */
static const char *map_internal(const struct map *m, bool short_form,
				char *buf)
{
	if (!m->proto ||
	    (short_form && m->int_min == m->ext_min &&
	     m->int_max == m->ext_max))
		return format_addr(m->int_addr, buf);
	return format_addr_ports(true, m->int_addr, m->int_min, m->int_max,
				 buf);
}

static const char *map_remote(const struct map *m, char *buf)
{
	char addr[INET_ADDRSTRLEN];

	snprintf(buf, MAP_WORD_STRLEN, "%s/%u",
		 format_addr(m->rem_prefix, addr), m->rem_len);
	return buf;
}

const char *map_format_args(const struct map *m, char *buf)
{
	char ext[MAP_WORD_STRLEN], in[MAP_WORD_STRLEN];
	char remote[MAP_WORD_STRLEN];
	const char *proto;

	proto = keyword_name(&kw_map_proto, m->proto);
	if (!proto)
		return NULL;
	snprintf(buf, MAP_ARGS_STRLEN, "%s %s %s to %s%s%s", m->network,
		 proto, map_external(m, ext), map_internal(m, true, in),
		 m->has_remote ? " remote " : "",
		 m->has_remote ? map_remote(m, remote) : "");
	return buf;
}

void map_print(struct out *o, const struct map *m)
{
	char buf[MAP_WORD_STRLEN], num[8];

	out_string(o, "network", "%s", m->network);
	out_string(o, "proto", " %s",
		   keyword_name_or_number(&kw_map_proto, m->proto, num,
					  sizeof(num)));
	out_string(o, "external", " %s", map_external(m, buf));
	/* JSON spells the internal ports out, text as "map add" takes them. */
	out_text(o, " to %s", map_internal(m, true, buf));
	out_string(o, "internal", NULL, map_internal(m, false, buf));
	if (m->has_remote)
		out_string(o, "remote", " remote %s", map_remote(m, buf));
	else
		out_null(o, "remote");

	/* The address in use, in text when it is the network's. */
	if (m->has_ext_now)
		out_string(o, "external_now",
			   m->has_ext_addr ? NULL : " (external %s)",
			   format_addr(m->ext_now, buf));
	else
		out_null(o, "external_now");
	if (!m->has_ext_now && !m->has_ext_addr)
		out_text(o, " (no external address)");

	out_u64(o, "packets", " packets %llu", m->packets);
	out_u64(o, "sessions", m->proto ? " sessions %llu" : NULL,
		m->sessions);
}

/*
 * Sends a map request and words the kernel's answer: a module that does
 * not know the command lacks the maps feature.
 */
static int map_request(struct nl *nl, struct nlmsghdr *nlh, nl_msg_cb_t cb,
		       void *data)
{
	struct nl_ack ack;
	int ret;

	ret = nl_req_exchange(nl, nlh, cb, data, &ack);
	if (ret)
		return ret;
	if (ack.error == -EOPNOTSUPP && !ack.msg && !ack.offs &&
	    !ack.miss_type) {
		natctl_lacks(KNAT_FEATURE_MAPS, "static mappings");
		return ack.error;
	}
	if (ack.error) {
		nl_report(nlh, &ack);
		return ack.error;
	}
	if (ack.dump_intr) {
		natctl_err("the dump was interrupted by a concurrent change, try again");
		return -EINTR;
	}
	return 0;
}

/* "map add" and "map delete" */
static int map_change(struct ctx *ctx, uint8_t cmd, int argc, char **argv)
{
	uint32_t buf[(MNL_NLMSG_HDRLEN + GENL_HDRLEN +
		      MAP_ARGS_MAX) / sizeof(uint32_t)];
	struct nlmsghdr *nlh;
	struct nl *nl;
	int ret;

	if (argc == 2 && natctl_is_help(argv[1])) {
		map_usage(stdout);
		return 0;
	}
	/* Checked before the socket opens: a usage error sends nothing. */
	nlh = nl_req_init(buf, cmd, 0);
	ret = map_parse_args(cmd, argc, argv, nlh);
	if (ret)
		return ret;

	ret = natctl_nl(ctx, &nl);
	if (ret)
		return ret;
	return map_request(nl, nlh, NULL, NULL);
}

static int map_add(struct ctx *ctx, int argc, char **argv)
{
	return map_change(ctx, KNAT_CMD_MAP_NEW, argc, argv);
}

static int map_del(struct ctx *ctx, int argc, char **argv)
{
	return map_change(ctx, KNAT_CMD_MAP_DEL, argc, argv);
}

struct map_show {
	struct out *o;
	bool started;	/* the JSON array is open */
};

static int map_reply(const struct nlmsghdr *nlh, void *data)
{
	struct map_show *s = data;
	struct map m;
	int ret;

	ret = map_parse(nlh, &m);
	if (ret)
		return ret;
	if (!s->started) {
		out_start_array(s->o, NULL);
		s->started = true;
	}
	out_start_object(s->o, NULL);
	map_print(s->o, &m);
	out_text(s->o, "\n");
	out_end_object(s->o);
	return 0;
}

static int map_show(struct ctx *ctx, int argc, char **argv)
{
	struct map_show s = { .o = &ctx->out };
	const char *name = NULL;
	struct nlmsghdr *nlh;
	struct nl *nl;
	int ret;

	if (argc >= 2 && natctl_is_help(argv[1])) {
		map_usage(stdout);
		return 0;
	}
	if (argc >= 2) {
		name = argv[1];
		ret = parse_name("network name", name);
		if (ret)
			return ret;
	}
	if (argc > 2)
		return natctl_usage_err("map show: unexpected argument '%s'",
					argv[2]);

	ret = natctl_nl(ctx, &nl);
	if (ret)
		return ret;
	nlh = nl_req_start(nl, KNAT_CMD_MAP_GET, NLM_F_DUMP);
	if (name)
		mnl_attr_put_strz(nlh, KNAT_A_MAP_NETWORK, name);
	ret = map_request(nl, nlh, map_reply, &s);

	/* An array, even empty, once the kernel answered. */
	if (!ret && !s.started) {
		out_start_array(s.o, NULL);
		s.started = true;
	}
	if (s.started)
		out_end_array(s.o);
	return ret;
}

static int map_help(struct ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	if (argc > 1)
		return natctl_usage_err("map help: unexpected argument '%s'",
					argv[1]);
	map_usage(stdout);
	return 0;
}

static const struct natctl_cmd map_cmds[] = {
	{ "add", map_add,
	  "NETWORK PROTO EXTERNAL to INTERNAL [ remote PREFIX ]",
	  "add a static mapping" },
	{ "delete", map_del, "NETWORK PROTO EXTERNAL",
	  "delete a static mapping and its sessions" },
	{ "show", map_show, "[ NETWORK ]",
	  "show the mappings of one or every network" },
	{ "list", map_show, "[ NETWORK ]", "the same as show" },
	{ "help", map_help, "", "show this help" },
};

int cmd_map(struct ctx *ctx, int argc, char **argv)
{
	if (argc == 1)
		return map_show(ctx, argc, argv);
	return natctl_dispatch(ctx, "map command", map_cmds,
			       ARRAY_SIZE(map_cmds), argc - 1, argv + 1);
}
