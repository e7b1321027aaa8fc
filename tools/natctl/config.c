// SPDX-License-Identifier: GPL-2.0
/*
 * natctl -f FILE: a file of changes, applied as one transaction
 * (KNAT_CMD_CONFIG_APPLY); natctl save: the configuration as such a file.
 *
 * A file holds one command per line:
 *	flush				first, if at all: delete every network
 *	network add|set|delete ...	as on the command line
 *	map add|delete ...		as on the command line
 * Words are separated by blanks, without quoting (no name or value has a
 * blank); a word that starts with '#' starts a comment up to the end of
 * the line.  Commands and verbs are written in full ("del" is "delete"
 * too): a file outlives the natctl that reads it, and a later verb could
 * make an abbreviation ambiguous.
 *
 * Each change is a KNAT_A_CONFIG_OP.  A module with KNAT_FEATURE_MAPS
 * takes them at the top level of the request, as many as fit in a message;
 * an older one in a single KNAT_A_CONFIG_OPS nest, at most 64 KiB.  The
 * request is built with the ops at the top level, and put into the nest
 * only for an older module.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <knat.h>

#include "map.h"
#include "natctl.h"
#include "network.h"
#include "nl.h"
#include "parse.h"

/* KNAT_A_CONFIG_OPS is one attribute: its length is a u16. */
#define CONFIG_OPS_MAX		UINT16_MAX

/* The attributes of the longest command: a network's. */
#define CONFIG_ARGS_MAX		NETWORK_ARGS_MAX
_Static_assert(MAP_ARGS_MAX <= CONFIG_ARGS_MAX,
	       "a mapping's attributes fit where a network's do");

/* One KNAT_A_CONFIG_OP: its nest, KNAT_A_OP_CMD, KNAT_A_OP_ATTRS. */
#define CONFIG_OP_MAX		(3 * MNL_ATTR_HDRLEN + MNL_ALIGN(1) + \
				 CONFIG_ARGS_MAX)

/* The request's first size; it grows as the file needs. */
#define CONFIG_REQ_SIZE		65536

/* Where a change is in the request, and where it was in the file. */
struct config_op {
	uint32_t start;		/* its KNAT_A_CONFIG_OP, from the nlmsghdr */
	uint32_t end;
	unsigned int line;
	uint8_t cmd;		/* KNAT_CMD_* */
	uint64_t features;	/* KNAT_FEATURE_* it needs beyond networks */
};

struct config {
	const char *name;	/* of the file, for messages */
	struct nlmsghdr *nlh;
	size_t size;		/* bytes at nlh */
	unsigned int n_cmds;	/* commands so far, flush included */
	struct config_op flush;	/* KNAT_A_CONFIG_FLUSH, if n_cmds */
	struct config_op *op;
	size_t n_ops;
	size_t max_ops;
};

#define CONFIG_BLANKS		" \t\r\v\f\n"

/*
 * Splits @line in place into words, stored in *argvp (grown as needed,
 * NULL-terminated).  Returns the number of words or a negative errno,
 * reported.
 */
static int config_split(char *line, char ***argvp, size_t *maxp)
{
	char *p = line, *word;
	size_t n = 0;
	char **argv;

	for (;;) {
		p += strspn(p, CONFIG_BLANKS);
		if (!*p || *p == '#')
			break;
		word = p;
		p += strcspn(p, CONFIG_BLANKS);
		if (*p)
			*p++ = '\0';
		if (strpbrk(word, "'\"")) {
			return natctl_usage_err("quotes are not supported in '%s' (no name or value has a blank)",
						word);
		}
		if (n + 1 >= *maxp) {
			argv = reallocarray(*argvp, *maxp * 2 + 8,
					    sizeof(*argv));
			if (!argv) {
				natctl_err("out of memory");
				return -ENOMEM;
			}
			*argvp = argv;
			*maxp = *maxp * 2 + 8;
		}
		(*argvp)[n++] = word;
	}
	if (*argvp)
		(*argvp)[n] = NULL;
	return (int)n;
}

static uint32_t config_offset(const struct config *c, const void *p)
{
	return (uint32_t)((const char *)p - (const char *)c->nlh);
}

/* Makes room for @len more bytes in the request. */
static int config_room(struct config *c, size_t len)
{
	size_t size = c->size;
	void *nlh;

	while (size - c->nlh->nlmsg_len < len)
		size *= 2;
	if (size == c->size)
		return 0;
	if (size > UINT32_MAX) {
		natctl_err("the transaction is too large for one netlink message");
		return -E2BIG;
	}
	nlh = realloc(c->nlh, size);
	if (!nlh) {
		natctl_err("out of memory");
		return -ENOMEM;
	}
	memset((char *)nlh + c->size, 0, size - c->size);
	c->nlh = nlh;
	c->size = size;
	return 0;
}

static int config_flush(struct config *c, int argc, char **argv,
			unsigned int line)
{
	struct nlattr *flag;

	if (c->n_cmds)
		return natctl_usage_err("'flush' must be the first command");
	if (argc > 1)
		return natctl_usage_err("flush: unexpected argument '%s'",
					argv[1]);
	/* The request starts with room for more than this. */
	flag = mnl_nlmsg_get_payload_tail(c->nlh);
	mnl_attr_put(c->nlh, KNAT_A_CONFIG_FLUSH, 0, NULL);
	c->flush.start = config_offset(c, flag);
	c->flush.end = c->nlh->nlmsg_len;
	c->flush.line = line;
	return 0;
}

static const struct {
	const char *object;
	const char *verb;
	uint8_t cmd;
} config_verbs[] = {
	{ "network",	"add",		KNAT_CMD_NETWORK_NEW },
	{ "network",	"set",		KNAT_CMD_NETWORK_SET },
	{ "network",	"delete",	KNAT_CMD_NETWORK_DEL },
	{ "network",	"del",		KNAT_CMD_NETWORK_DEL },
	{ "map",	"add",		KNAT_CMD_MAP_NEW },
	{ "map",	"delete",	KNAT_CMD_MAP_DEL },
	{ "map",	"del",		KNAT_CMD_MAP_DEL },
};

/* A "network" or "map" line: one KNAT_A_CONFIG_OP at the top level. */
static int config_op(struct config *c, int argc, char **argv,
		     unsigned int line)
{
	struct nlattr *op, *attrs;
	struct config_op *ops;
	uint64_t features = 0;
	bool map = !strcmp(argv[0], "map");
	uint8_t cmd = 0;
	size_t i;
	int ret;

	if (argc < 2)
		return natctl_usage_err(map ? "map: missing add or delete" :
					      "network: missing add, set or delete");
	for (i = 0; i < ARRAY_SIZE(config_verbs); i++)
		if (!strcmp(argv[0], config_verbs[i].object) &&
		    !strcmp(argv[1], config_verbs[i].verb))
			cmd = config_verbs[i].cmd;
	if (!cmd && map)
		return natctl_usage_err("unknown map command '%s' (a file holds 'map add' and 'map delete', in full)",
					argv[1]);
	if (!cmd)
		return natctl_usage_err("unknown network command '%s' (a file holds 'network add', 'network set' and 'network delete', in full)",
					argv[1]);

	if (c->n_ops == c->max_ops) {
		ops = reallocarray(c->op, c->max_ops * 2 + 16, sizeof(*ops));
		if (!ops) {
			natctl_err("out of memory");
			return -ENOMEM;
		}
		c->op = ops;
		c->max_ops = c->max_ops * 2 + 16;
	}
	ret = config_room(c, CONFIG_OP_MAX);
	if (ret)
		return ret;

	op = mnl_attr_nest_start(c->nlh, KNAT_A_CONFIG_OP);
	mnl_attr_put_u8(c->nlh, KNAT_A_OP_CMD, cmd);
	attrs = mnl_attr_nest_start(c->nlh, KNAT_A_OP_ATTRS);
	if (map) {
		ret = map_parse_args(cmd, argc - 1, argv + 1, c->nlh);
		features = KNAT_FEATURE_MAPS;
	} else {
		ret = network_parse_args(cmd, argc - 1, argv + 1, c->nlh,
					 &features);
	}
	if (ret)
		return ret;
	mnl_attr_nest_end(c->nlh, attrs);
	mnl_attr_nest_end(c->nlh, op);

	c->op[c->n_ops++] = (struct config_op){
		.start = config_offset(c, op),
		.end = c->nlh->nlmsg_len,
		.line = line,
		.cmd = cmd,
		.features = features,
	};
	return 0;
}

/* One line's words: a command, into the request. */
static int config_line(struct config *c, int argc, char **argv,
		       unsigned int line)
{
	int ret;

	if (!strcmp(argv[0], "flush"))
		ret = config_flush(c, argc, argv, line);
	else if (!strcmp(argv[0], "network") || !strcmp(argv[0], "map"))
		ret = config_op(c, argc, argv, line);
	else
		ret = natctl_usage_err("unknown command '%s' (a file holds 'flush', 'network add|set|delete' and 'map add|delete' lines)",
				       argv[0]);
	if (!ret)
		c->n_cmds++;
	return ret;
}

/* Reads the file into the request; usage errors name FILE:LINE. */
static int config_read(struct config *c, FILE *fp)
{
	char where[4096 + 16];
	size_t cap = 0, max_words = 0;
	char **argv = NULL;
	char *line = NULL;
	unsigned int n = 0;
	ssize_t len;
	int ret = 0;

	while ((len = getline(&line, &cap, fp)) >= 0) {
		n++;
		snprintf(where, sizeof(where), "%s:%u", c->name, n);
		natctl_set_where(where);
		if (strlen(line) != (size_t)len) {
			ret = natctl_usage_err("a NUL byte in the line");
			break;
		}
		ret = config_split(line, &argv, &max_words);
		if (ret > 0)
			ret = config_line(c, ret, argv, n);
		natctl_set_where(NULL);
		if (ret < 0)
			break;
		ret = 0;
	}
	natctl_set_where(NULL);
	if (!ret && ferror(fp)) {
		ret = -errno;
		natctl_err("cannot read %s: %s", c->name, strerror(-ret));
	}
	free(argv);
	free(line);
	return ret;
}

/* The change at byte @offs of the request, or NULL. */
static const struct config_op *config_find(const struct config *c,
					   uint32_t offs)
{
	size_t lo = 0, hi = c->n_ops, mid;

	if (c->n_cmds && offs >= c->flush.start && offs < c->flush.end)
		return &c->flush;
	/* The ops are in the order of their offsets. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (offs < c->op[mid].start)
			hi = mid;
		else if (offs >= c->op[mid].end)
			lo = mid + 1;
		else
			return &c->op[mid];
	}
	return NULL;
}

/* "FILE:LINE: <error>: <why>", the line from the extack's offset. */
static void config_report(const struct config *c, const struct nl_ack *ack)
{
	const struct config_op *op = NULL;
	const char *msg = ack->msg;

	if (ack->offs)
		op = config_find(c, mnl_attr_get_u32(ack->offs));
	else if (ack->miss_nest)
		op = config_find(c, mnl_attr_get_u32(ack->miss_nest));

	if (op)
		natctl_err("%s:%u: %s%s%s", c->name, op->line,
			   strerror(-ack->error), msg ? ": " : "",
			   msg ? msg : "");
	else
		natctl_err("%s: %s%s%s (the kernel did not say which line)",
			   c->name, strerror(-ack->error), msg ? ": " : "",
			   msg ? msg : "");
}

/* natctl_err() with "FILE:LINE: " in front. */
static void config_where(const struct config *c, const struct config_op *op)
{
	static char where[4096 + 16];

	snprintf(where, sizeof(where), "%s:%u", c->name, op->line);
	natctl_set_where(where);
}

/*
 * Fails, naming the line, when a change needs what the module does not
 * have: an older module would refuse it less clearly.
 */
static int config_check_features(const struct config *c, uint64_t features)
{
	const struct config_op *op;
	uint64_t missing;
	size_t i;

	for (i = 0; i < c->n_ops; i++) {
		op = &c->op[i];
		missing = op->features & ~features;
		if (!missing)
			continue;
		config_where(c, op);
		natctl_lacks(missing, op->cmd == KNAT_CMD_MAP_NEW ||
				      op->cmd == KNAT_CMD_MAP_DEL ?
				      "static mappings" : "hairpin setting");
		natctl_set_where(NULL);
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * For a module without KNAT_FEATURE_MAPS: the ops, built at the top
 * level, into one KNAT_A_CONFIG_OPS nest, whose length is 16 bits.
 */
static int config_nest_ops(struct config *c)
{
	uint32_t start, len;
	struct nlattr *nest;
	size_t i;
	int ret;

	if (!c->n_ops)
		return 0;
	start = c->op[0].start;
	len = c->nlh->nlmsg_len - start;
	if (MNL_ATTR_HDRLEN + len > CONFIG_OPS_MAX) {
		for (i = 0; MNL_ATTR_HDRLEN + c->op[i].end - start <=
			    CONFIG_OPS_MAX; i++)
			;
		config_where(c, &c->op[i]);
		natctl_err("too many changes for this knat module: it takes 64 KiB of them in one transaction, reached here (a module with the 'maps' feature takes any number; see 'natctl info')");
		natctl_set_where(NULL);
		return -E2BIG;
	}
	ret = config_room(c, MNL_ATTR_HDRLEN);
	if (ret)
		return ret;
	nest = (struct nlattr *)((char *)c->nlh + start);
	memmove((char *)nest + MNL_ATTR_HDRLEN, nest, len);
	nest->nla_type = NLA_F_NESTED | KNAT_A_CONFIG_OPS;
	nest->nla_len = (uint16_t)(MNL_ATTR_HDRLEN + len);
	c->nlh->nlmsg_len += MNL_ATTR_HDRLEN;
	for (i = 0; i < c->n_ops; i++) {
		c->op[i].start += MNL_ATTR_HDRLEN;
		c->op[i].end += MNL_ATTR_HDRLEN;
	}
	return 0;
}

int natctl_file(struct ctx *ctx, const char *path)
{
	const struct natctl_info *info;
	struct config c = { .name = path };
	struct nl_ack ack;
	struct nl *nl;
	FILE *fp = stdin;
	int ret;

	if (!strcmp(path, "-")) {
		c.name = "<stdin>";
	} else {
		fp = fopen(path, "re");
		if (!fp) {
			ret = -errno;
			natctl_err("cannot open %s: %s", path, strerror(-ret));
			return ret;
		}
	}
	c.nlh = calloc(1, CONFIG_REQ_SIZE);
	if (!c.nlh) {
		natctl_err("out of memory");
		ret = -ENOMEM;
		goto out;
	}
	c.size = CONFIG_REQ_SIZE;
	nl_req_init(c.nlh, KNAT_CMD_CONFIG_APPLY, 0);

	ret = config_read(&c, fp);
	if (ret || !c.n_cmds)
		goto out;	/* an empty file changes nothing */

	/* The layout of the request depends on the module. */
	ret = natctl_info(ctx, &info);
	if (!ret)
		ret = config_check_features(&c, info->features);
	if (!ret && !(info->features & KNAT_FEATURE_MAPS))
		ret = config_nest_ops(&c);
	if (!ret)
		ret = natctl_nl(ctx, &nl);
	if (ret)
		goto out;
	ret = nl_req_exchange(nl, c.nlh, NULL, NULL, &ack);
	if (!ret && ack.error) {
		config_report(&c, &ack);
		ret = ack.error;
	}
out:
	free(c.op);
	free(c.nlh);
	if (fp != stdin)
		fclose(fp);
	return ret;
}

/* natctl save */

struct save_timeout {
	const char *name;
	uint16_t attr;
	uint32_t def;
};

static const struct save_timeout save_timeouts[] = {
	{ "tcp-established",	KNAT_A_NETWORK_TIMEOUT_TCP_EST,		7440 },
	{ "tcp-transitory",	KNAT_A_NETWORK_TIMEOUT_TCP_TRANS,	240 },
	{ "udp",		KNAT_A_NETWORK_TIMEOUT_UDP,		300 },
	{ "icmp",		KNAT_A_NETWORK_TIMEOUT_ICMP,		60 },
	{ "tcp-syn",		KNAT_A_NETWORK_TIMEOUT_TCP_SYN,		30 },
	{ "other",		KNAT_A_NETWORK_TIMEOUT_OTHER,		600 },
};

struct save {
	FILE *fp;		/* the file, in memory until complete */
	struct map *maps;	/* sorted by network, then external side */
	size_t n_maps;
	size_t max_maps;
	size_t n_saved;		/* maps written */
};

static int save_map_reply(const struct nlmsghdr *nlh, void *data)
{
	struct save *s = data;
	struct map *maps;
	int ret;

	if (s->n_maps == s->max_maps) {
		maps = reallocarray(s->maps, s->max_maps * 2 + 64,
				    sizeof(*maps));
		if (!maps) {
			natctl_err("out of memory");
			return -ENOMEM;
		}
		s->maps = maps;
		s->max_maps = s->max_maps * 2 + 64;
	}
	ret = map_parse(nlh, &s->maps[s->n_maps]);
	if (!ret)
		s->n_maps++;
	return ret;
}

/*
 * The order of a network's mappings in the file: the same whatever the
 * kernel's, so that saving the same configuration gives the same file.
 */
static int save_map_cmp(const void *a, const void *b)
{
	const struct map *x = a, *y = b;
	int ret;

	ret = strcmp(x->network, y->network);
	if (ret)
		return ret;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->has_ext_addr != y->has_ext_addr)
		return x->has_ext_addr ? 1 : -1;
	if (x->ext_addr != y->ext_addr)
		return ntohl(x->ext_addr) < ntohl(y->ext_addr) ? -1 : 1;
	if (x->ext_min != y->ext_min)
		return x->ext_min < y->ext_min ? -1 : 1;
	return 0;
}

/* The mappings of network @name, as "map add" lines. */
static int save_maps_of(struct save *s, const char *name)
{
	char args[MAP_ARGS_STRLEN];
	size_t lo = 0, hi = s->n_maps, mid;
	const struct map *m;

	/* The first of the network's mappings. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(s->maps[mid].network, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->n_maps && !strcmp(s->maps[lo].network, name); lo++) {
		m = &s->maps[lo];
		if (!map_format_args(m, args)) {
			natctl_err("network %s: a mapping of protocol %u is unknown to this natctl",
				   name, m->proto);
			return -EPROTO;
		}
		fprintf(s->fp, "map add %s\n", args);
		s->n_saved++;
	}
	return 0;
}

/* Names the kernel takes but a file cannot hold: blanks, quotes, '#'. */
static bool save_ifname_bad(const char *s)
{
	return !*s || *s == '#' ||
	       strcspn(s, CONFIG_BLANKS "'\"") != strlen(s);
}

/* "external dev IFNAME" or "external ADDR[,ADDR...]" */
static int save_external(FILE *fp, const char *name,
			 const struct nlattr **tb)
{
	const struct nlattr *dev = tb[KNAT_A_NETWORK_EXT_DEV];
	const struct nlattr *nest = tb[KNAT_A_NETWORK_EXT_ADDRS];
	char addr[INET_ADDRSTRLEN];
	const struct nlattr *a;
	const char *sep = " external ";

	if (dev) {
		/* A name that would not read back is not written. */
		if (save_ifname_bad(mnl_attr_get_str(dev))) {
			natctl_err("network %s: its interface name cannot be saved",
				   name);
			return -EPROTO;
		}
		fprintf(fp, " external dev %s", mnl_attr_get_str(dev));
		return 0;
	}
	if (nest) {
		mnl_attr_for_each_nested(a, nest) {
			if (mnl_attr_get_type(a) != KNAT_A_EXT_ADDR)
				continue;
			fprintf(fp, "%s%s", sep,
				format_addr(mnl_attr_get_u32(a), addr));
			sep = ",";
		}
	}
	if (*sep == ' ') {
		natctl_err("network %s has neither an external interface nor addresses",
			   name);
		return -EPROTO;
	}
	return 0;
}

/*
 * One "network add" line with every setting that is not the default;
 * max-sessions always, its default depending on the memory.
 */
static int save_network(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KNAT_A_NETWORK_MAX + 1];
	struct save *s = data;
	FILE *fp = s->fp;
	char addr[INET_ADDRSTRLEN];
	const struct nlattr *attr;
	const char *name, *filtering;
	uint32_t value;
	size_t i;
	int ret;

	ret = network_parse(nlh, tb);
	if (ret)
		return ret;
	name = mnl_attr_get_str(tb[KNAT_A_NETWORK_NAME]);
	if (!name_valid(name)) {
		natctl_err("network '%s': its name cannot be saved", name);
		return -EPROTO;
	}

	fprintf(fp, "network add %s internal %s/%u", name,
		format_addr(mnl_attr_get_u32(tb[KNAT_A_NETWORK_PREFIX]), addr),
		mnl_attr_get_u8(tb[KNAT_A_NETWORK_PREFIX_LEN]));
	ret = save_external(fp, name, tb);
	if (ret)
		return ret;

	if (tb[KNAT_A_NETWORK_PORT_MIN] && tb[KNAT_A_NETWORK_PORT_MAX] &&
	    (mnl_attr_get_u16(tb[KNAT_A_NETWORK_PORT_MIN]) ||
	     mnl_attr_get_u16(tb[KNAT_A_NETWORK_PORT_MAX])))
		fprintf(fp, " ports %u-%u",
			mnl_attr_get_u16(tb[KNAT_A_NETWORK_PORT_MIN]),
			mnl_attr_get_u16(tb[KNAT_A_NETWORK_PORT_MAX]));

	attr = tb[KNAT_A_NETWORK_FILTERING];
	if (attr && mnl_attr_get_u8(attr) != KNAT_FILTER_ADDRESS_DEPENDENT) {
		filtering = keyword_name(&kw_filtering, mnl_attr_get_u8(attr));
		if (!filtering) {
			natctl_err("network %s: filtering %u is unknown to this natctl",
				   name, mnl_attr_get_u8(attr));
			return -EPROTO;
		}
		fprintf(fp, " filtering %s", filtering);
	}

	attr = tb[KNAT_A_NETWORK_MAX_SESSIONS];
	if (attr)
		fprintf(fp, " max-sessions %u", mnl_attr_get_u32(attr));
	attr = tb[KNAT_A_NETWORK_HOST_MAX_SESSIONS];
	if (attr && mnl_attr_get_u32(attr))
		fprintf(fp, " host-max-sessions %u", mnl_attr_get_u32(attr));
	attr = tb[KNAT_A_NETWORK_UDP_INBOUND_REFRESH];
	if (attr && mnl_attr_get_u8(attr))
		fputs(" udp-inbound-refresh on", fp);
	attr = tb[KNAT_A_NETWORK_HAIRPIN];
	if (attr && !mnl_attr_get_u8(attr))
		fputs(" hairpin off", fp);
	attr = tb[KNAT_A_NETWORK_INBOUND_SHARE];
	if (attr && mnl_attr_get_u8(attr) != 50)
		fprintf(fp, " inbound-share %u", mnl_attr_get_u8(attr));

	for (i = 0; i < ARRAY_SIZE(save_timeouts); i++) {
		attr = tb[save_timeouts[i].attr];
		if (!attr)
			continue;
		value = mnl_attr_get_u32(attr);
		if (value != save_timeouts[i].def)
			fprintf(fp, " timeout %s %u", save_timeouts[i].name,
				value);
	}
	fputc('\n', fp);
	return save_maps_of(s, name);
}

static void save_usage(FILE *fp)
{
	fputs("Usage: natctl save\n"
	      "       natctl -f FILE\n"
	      "\n"
	      "save prints the configuration of the network namespace as a file\n"
	      "for 'natctl -f': a '# natctl save' comment, 'flush', then one\n"
	      "'network add' line per network, with every option that is not the\n"
	      "default (and max-sessions, whose default depends on the memory),\n"
	      "each followed by a 'map add' line per static mapping of the\n"
	      "network.\n"
	      "\n"
	      "natctl -f FILE (or -f - for standard input) applies the commands\n"
	      "of FILE as one transaction: all of them or, after an error, none.\n"
	      "One command per line:\n"
	      "  flush                         first, if at all: delete every\n"
	      "                                network (networks added again\n"
	      "                                with the same internal prefix\n"
	      "                                keep their sessions and counters)\n"
	      "  network add NAME ...          as 'natctl network add'\n"
	      "  network set NAME ...          as 'natctl network set'\n"
	      "  network delete NAME           as 'natctl network delete'\n"
	      "  map add NETWORK ...           as 'natctl map add'\n"
	      "  map delete NETWORK ...        as 'natctl map delete'\n"
	      "Words are separated by blanks, with no quoting; a word starting\n"
	      "with '#' starts a comment; blank lines are ignored.  Commands and\n"
	      "verbs are written in full ('del' for 'delete' too).  A file\n"
	      "without commands changes nothing.  Errors name the line:\n"
	      "FILE:LINE: ...\n"
	      "\n"
	      "  natctl save > knat.conf && natctl -f knat.conf\n"
	      "reapplies the configuration as it was.\n", fp);
}

int cmd_save(struct ctx *ctx, int argc, char **argv)
{
	const struct natctl_info *info;
	struct save s = { 0 };
	struct nlmsghdr *nlh;
	char *buf = NULL;
	size_t len = 0;
	struct nl *nl;
	int ret;

	if (argc == 2 && natctl_is_help(argv[1])) {
		save_usage(stdout);
		return 0;
	}
	if (argc > 1)
		return natctl_usage_err("save: unexpected argument '%s'",
					argv[1]);
	if (ctx->opts.json)
		return natctl_usage_err("save prints a file for 'natctl -f', not JSON (try 'natctl -j network show')");

	ret = natctl_nl(ctx, &nl);
	if (ret)
		return ret;
	/* Nothing is printed unless the whole file is there. */
	s.fp = open_memstream(&buf, &len);
	if (!s.fp) {
		ret = -errno;
		natctl_err("cannot save: %s", strerror(-ret));
		return ret;
	}

	ret = natctl_info(ctx, &info);
	if (ret)
		goto out;
	fprintf(s.fp, "# natctl save, knat %s\nflush\n",
		*info->version ? info->version : "unknown");
	/* The mappings first: each network's go after its line. */
	if (info->features & KNAT_FEATURE_MAPS) {
		nlh = nl_req_start(nl, KNAT_CMD_MAP_GET, NLM_F_DUMP);
		ret = nl_req_send(nl, nlh, save_map_reply, &s);
		if (ret)
			goto out;
		qsort(s.maps, s.n_maps, sizeof(*s.maps), save_map_cmp);
	}
	nlh = nl_req_start(nl, KNAT_CMD_NETWORK_GET, NLM_F_DUMP);
	ret = nl_req_send(nl, nlh, save_network, &s);
	if (!ret && s.n_saved < s.n_maps)
		natctl_err("warning: %zu mappings of networks deleted during the save are left out",
			   s.n_maps - s.n_saved);
out:
	free(s.maps);
	if (fclose(s.fp) && !ret) {
		ret = -errno;
		natctl_err("cannot save: %s", strerror(-ret));
	}
	if (!ret)
		fwrite(buf, 1, len, ctx->out.fp);
	free(buf);
	return ret;
}
