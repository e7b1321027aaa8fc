// SPDX-License-Identifier: GPL-2.0
/*
 * natctl stats: the counters of each NAT network and of the namespace.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <knat.h>

#include "natctl.h"
#include "nl.h"
#include "parse.h"

static const struct nl_policy stats_policy[KNAT_A_STATS_MAX + 1] = {
	[KNAT_A_STATS_NETWORK]	= { .type = MNL_TYPE_NUL_STRING,
				    .len = KNAT_NAME_MAXLEN },
	[KNAT_A_STATS_COUNTERS]	= { .type = MNL_TYPE_NESTED },
};

struct stats_show {
	struct out *o;
	bool started;		/* the JSON object and "networks" are open */
	struct nlattr *total;	/* a copy of the namespace's counters */
};

static void stats_usage(FILE *fp)
{
	fputs("Usage: natctl stats [ show ] [ network NAME ]\n"
	      "\n"
	      "Shows the counters of every NAT network, then the total of the\n"
	      "network namespace (which also counts packets of no network), or\n"
	      "those of network NAME only.\n", fp);
}

/* Each counter is a u64; type 0 (KNAT_CNT_UNSPEC) is padding. */
static int stats_check_counters(const struct nlattr *nest)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest) {
		if (mnl_attr_get_type(a) != KNAT_CNT_UNSPEC &&
		    mnl_attr_validate(a, MNL_TYPE_U64) < 0) {
			natctl_err("malformed counter %u in the kernel's reply",
				   mnl_attr_get_type(a));
			return -EPROTO;
		}
	}
	return 0;
}

/* "  translated_out 12" lines; newer counters as "counter_N". */
static void stats_print_counters(struct out *o, const struct nlattr *nest)
{
	const struct nlattr *a;
	char unknown[16];
	const char *name;
	uint16_t type;

	mnl_attr_for_each_nested(a, nest) {
		type = mnl_attr_get_type(a);
		if (type == KNAT_CNT_UNSPEC)
			continue;
		name = keyword_name(&kw_counter, type);
		if (!name) {
			snprintf(unknown, sizeof(unknown), "counter_%u", type);
			name = unknown;
		}
		out_text(o, "  %s ", name);
		out_u64(o, name, "%llu\n", mnl_attr_get_u64(a));
	}
}

static void stats_begin(struct stats_show *s)
{
	if (s->started)
		return;
	out_start_object(s->o, NULL);
	out_start_object(s->o, "networks");
	s->started = true;
}

static int stats_reply(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KNAT_A_STATS_MAX + 1];
	struct stats_show *s = data;
	const struct nlattr *nest;
	const char *name;
	int ret;

	ret = nl_parse(nlh, stats_policy, KNAT_A_STATS_MAX, tb);
	if (ret)
		goto out;
	nest = tb[KNAT_A_STATS_COUNTERS];
	if (!nest) {
		natctl_err("a record in the kernel's reply lacks its counters");
		ret = -EPROTO;
		goto out;
	}
	ret = stats_check_counters(nest);
	if (ret)
		goto out;

	/* The namespace's record is printed last, whenever it comes. */
	if (!tb[KNAT_A_STATS_NETWORK]) {
		free(s->total);
		s->total = malloc(nest->nla_len);
		if (!s->total) {
			natctl_err("out of memory");
			ret = -ENOMEM;
			goto out;
		}
		memcpy(s->total, nest, nest->nla_len);
		goto out;
	}

	name = mnl_attr_get_str(tb[KNAT_A_STATS_NETWORK]);
	stats_begin(s);
	out_text(s->o, "network %s:\n", name);
	out_start_object(s->o, name);
	stats_print_counters(s->o, nest);
	out_end_object(s->o);
out:
	return ret;
}

/* "[show] [network NAME]" */
static int stats_parse(int argc, char **argv, const char **network)
{
	int i = 1, ret;

	if (i < argc && !strcmp(argv[i], "show"))
		i++;
	for (; i < argc; i += 2) {
		if (strcmp(argv[i], "network"))
			return natctl_usage_err("stats: unknown argument '%s'",
						argv[i]);
		if (*network)
			return natctl_usage_err("stats: 'network' is given twice");
		if (i + 1 == argc)
			return natctl_usage_err("stats: 'network' needs a value");
		ret = parse_name("network name", argv[i + 1]);
		if (ret)
			return ret;
		*network = argv[i + 1];
	}
	return 0;
}

int cmd_stats(struct ctx *ctx, int argc, char **argv)
{
	struct stats_show s = { .o = &ctx->out };
	const char *network = NULL;
	struct nlmsghdr *nlh;
	struct nl *nl;
	int ret;

	if (argc > 1 && natctl_is_help(argv[argc - 1]) &&
	    (argc == 2 || (argc == 3 && !strcmp(argv[1], "show")))) {
		stats_usage(stdout);
		return 0;
	}
	ret = stats_parse(argc, argv, &network);
	if (ret)
		goto out;

	ret = natctl_nl(ctx, &nl);
	if (ret)
		goto out;
	nlh = nl_req_start(nl, KNAT_CMD_STATS_GET, NLM_F_DUMP);
	if (network)
		mnl_attr_put_strz(nlh, KNAT_A_STATS_NETWORK, network);
	ret = nl_req_send(nl, nlh, stats_reply, &s);

	/* What came is printed, even after an error: JSON stays whole. */
	if (!ret || s.started || s.total)
		stats_begin(&s);
	if (s.started) {
		out_end_object(s.o);	/* "networks" */
		if (s.total) {
			out_text(s.o, "total:\n");
			out_start_object(s.o, "total");
			stats_print_counters(s.o, s.total);
			out_end_object(s.o);
		}
		out_end_object(s.o);
	}
	free(s.total);
out:
	return ret;
}
