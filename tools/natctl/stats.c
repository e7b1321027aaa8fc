// SPDX-License-Identifier: GPL-2.0
/*
 * natctl stats: the counters of each NAT network and of the namespace, as
 * text, JSON or Prometheus metrics; and resetting them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <knat.h>

#include "natctl.h"
#include "nl.h"
#include "parse.h"

/* Counter types this natctl keeps; a newer kernel's beyond are ignored. */
#define STATS_TYPES	64

static const struct nl_policy stats_policy[KNAT_A_STATS_MAX + 1] = {
	[KNAT_A_STATS_NETWORK]	= { .type = MNL_TYPE_NUL_STRING,
				    .len = KNAT_NAME_MAXLEN },
	[KNAT_A_STATS_COUNTERS]	= { .type = MNL_TYPE_NESTED },
};

/* What each counter counts, for "explain" and Prometheus' HELP. */
static const struct {
	const char *help;
	bool gauge;
} stats_info[KNAT_CNT_MAX + 1] = {
	[KNAT_CNT_TRANSLATED_OUT] = {
		.help = "Packets translated on the way out." },
	[KNAT_CNT_TRANSLATED_IN] = {
		.help = "Packets translated on the way in." },
	[KNAT_CNT_SESSIONS_ADDED] = {
		.help = "Sessions created." },
	[KNAT_CNT_SESSIONS_EXPIRED] = {
		.help = "Sessions that timed out." },
	[KNAT_CNT_SESSIONS_DELETED] = {
		.help = "Sessions removed by a flush, or a network change or deletion." },
	[KNAT_CNT_SESSIONS_ACTIVE] = {
		.help = "Sessions now.", .gauge = true },
	[KNAT_CNT_DROP_TABLE_FULL] = {
		.help = "New flows dropped: max-sessions reached." },
	[KNAT_CNT_DROP_HOST_LIMIT] = {
		.help = "New flows dropped: host-max-sessions reached." },
	[KNAT_CNT_DROP_NO_PORT] = {
		.help = "New flows dropped: no free external port (or no external address)." },
	[KNAT_CNT_DROP_FILTERED] = {
		.help = "Inbound packets refused by filtering, and outbound ICMP errors about no session." },
	[KNAT_CNT_DROP_MALFORMED] = {
		.help = "Packets whose headers could not be parsed." },
	[KNAT_CNT_ICMP_ERRORS_TRANSLATED] = {
		.help = "ICMP errors translated, either way." },
	[KNAT_CNT_BYTES_IN_USE] = {
		.help = "Kernel memory of sessions, mappings and host records, in bytes (namespace only).",
		.gauge = true },
	[KNAT_CNT_DROP_NOMEM] = {
		.help = "New flows dropped: out of memory." },
	[KNAT_CNT_HAIRPINNED] = {
		.help = "Packets from inside to a mapping on an external address, translated both ways (hairpinning)." },
	[KNAT_CNT_LOOPBACK] = {
		.help = "Packets between the host itself and an internal host through a mapping (host loopback)." },
	[KNAT_CNT_DROP_TCP_NO_SYN] = {
		.help = "Inbound TCP segments to a mapping, with no session, that were not a SYN: only a SYN opens a session from outside." },
	[KNAT_CNT_DROP_TCP_INVALID] = {
		.help = "TCP segments that did not fit their session: from outside, an ACK of an embryonic session that does not acknowledge the internal host's SYN/ACK, an answer to a SYN from inside that does not acknowledge it, an RST outside the window; from inside, an RST or a SYN/ACK with no session." },
	[KNAT_CNT_DROP_INBOUND_LIMIT] = {
		.help = "New flows from outside dropped: sessions opened from outside hold their share of max-sessions (inbound-share), none of them embryonic." },
	[KNAT_CNT_SESSIONS_EVICTED] = {
		.help = "Embryonic TCP sessions (opened from outside, handshake not completed) removed to make room for a new flow." },
	[KNAT_CNT_DROP_SPOOFED] = {
		.help = "Packets with an internal source that came in on an interface the route to that source does not leave by (spoofed from outside): no session is made for them, whatever rp_filter says." },
	[KNAT_CNT_DROP_BRIDGED_HAIRPIN] = {
		.help = "Packets to hairpin that crossed the IPv4 hooks inside a bridge (br_netfilter with bridge-nf-call-iptables=1) and had to be translated both ways before routing (a flow between two 1:1-mapped hosts): br_netfilter would drop them once translated, so knat drops them, counts them and says so in the kernel log. Such flows hairpin over a bridge with bridge-nf-call-iptables=0 in the router's namespace." },
	[KNAT_CNT_DROP_UNTRANSLATABLE] = {
		.help = "Packets from inside that cannot be translated, dropped rather than sent with an internal address: ICMP messages that are neither a query with an identifier nor an error, errors about a later fragment or about another error." },
};

static const struct keyword stats_formats[] = {
	{ "prometheus",	1 },
};

static const struct keyword_table kw_stats_format = {
	.kw = stats_formats,
	.n = ARRAY_SIZE(stats_formats),
};

/* The counters of a network, or of the namespace. */
struct stats_record {
	char name[KNAT_NAME_MAXLEN + 1];	/* "" for the namespace */
	uint64_t present;			/* bit n: value[n] came */
	uint64_t value[STATS_TYPES];
};

struct stats_show {
	struct stats_record *net;	/* the networks, in their order */
	size_t n_nets;
	size_t max_nets;
	struct stats_record total;	/* the namespace's, if has_total */
	bool has_total;
	uint64_t types;			/* every counter type that came */
};

struct stats_args {
	const char *network;
	bool explain;
	bool prometheus;
};

static void stats_usage(FILE *fp)
{
	fputs("Usage: natctl [ -s ] stats [ show ] [ network NAME ] [ explain ]\n"
	      "       natctl stats [ show ] [ network NAME ] format prometheus\n"
	      "       natctl stats reset [ network NAME ]\n"
	      "\n"
	      "show prints the counters of every NAT network, then the total of the\n"
	      "network namespace (which also counts packets of no network), or\n"
	      "those of network NAME only.  Text leaves out the counters that are\n"
	      "0; with 'explain' or -s it shows every counter, each with what it\n"
	      "counts.  JSON (-j) always has every counter:\n"
	      "  {\"networks\": {NAME: {COUNTER: N, ...}, ...}, \"total\": {...}}\n"
	      "\n"
	      "format prometheus prints the metrics for node_exporter's textfile\n"
	      "collector: for each network, knat_COUNTER_total{network=\"NAME\"}\n"
	      "(a counter) or knat_GAUGE{network=\"NAME\"} (sessions_active); for\n"
	      "the namespace, knat_namespace_COUNTER_total and knat_namespace_GAUGE\n"
	      "(sessions_active, bytes_in_use), without labels.  The namespace's\n"
	      "are metrics of their own so that sums over the networks' series\n"
	      "count nothing twice.\n"
	      "\n"
	      "reset sets the counters (not the gauges sessions_active and\n"
	      "bytes_in_use) of network NAME, or of every network and the\n"
	      "namespace, to 0.\n", fp);
}

static int stats_counters(struct stats_show *s, struct stats_record *r,
			  const struct nlattr *nest)
{
	const struct nlattr *a;
	uint16_t type;

	/* Each counter is a u64; type 0 (KNAT_CNT_UNSPEC) is padding. */
	mnl_attr_for_each_nested(a, nest) {
		type = mnl_attr_get_type(a);
		if (type == KNAT_CNT_UNSPEC)
			continue;
		if (mnl_attr_validate(a, MNL_TYPE_U64) < 0) {
			natctl_err("malformed counter %u in the kernel's reply",
				   type);
			return -EPROTO;
		}
		if (type >= STATS_TYPES)
			continue;
		r->value[type] = mnl_attr_get_u64(a);
		r->present |= 1ULL << type;
		s->types |= 1ULL << type;
	}
	return 0;
}

static int stats_reply(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KNAT_A_STATS_MAX + 1];
	struct stats_show *s = data;
	struct stats_record *r;
	int ret;

	ret = nl_parse(nlh, stats_policy, KNAT_A_STATS_MAX, tb);
	if (ret)
		return ret;
	if (!tb[KNAT_A_STATS_COUNTERS]) {
		natctl_err("a record in the kernel's reply lacks its counters");
		return -EPROTO;
	}

	if (!tb[KNAT_A_STATS_NETWORK]) {
		r = &s->total;
		s->has_total = true;
	} else {
		if (s->n_nets == s->max_nets) {
			r = reallocarray(s->net, s->max_nets * 2 + 8,
					 sizeof(*r));
			if (!r) {
				natctl_err("out of memory");
				return -ENOMEM;
			}
			s->net = r;
			s->max_nets = s->max_nets * 2 + 8;
		}
		r = &s->net[s->n_nets++];
		strcpy(r->name, mnl_attr_get_str(tb[KNAT_A_STATS_NETWORK]));
	}
	memset(r->value, 0, sizeof(r->value));
	r->present = 0;
	return stats_counters(s, r, tb[KNAT_A_STATS_COUNTERS]);
}

/* "translated_out", or "counter_N" for a newer kernel's */
static const char *stats_name(unsigned int type, char *buf, size_t size)
{
	const char *name = keyword_name(&kw_counter, type);

	if (name)
		return name;
	snprintf(buf, size, "counter_%u", type);
	return buf;
}

static const char *stats_help(unsigned int type)
{
	if (type <= KNAT_CNT_MAX && stats_info[type].help)
		return stats_info[type].help;
	return "A counter this natctl does not know.";
}

/* The counters of @r: in JSON all of them, in text as @explain says. */
static void stats_print_record(struct out *o, const struct stats_record *r,
			       bool explain)
{
	unsigned int type;
	bool shown = false;
	const char *name;
	char buf[16];

	for (type = 1; type < STATS_TYPES; type++) {
		if (!(r->present & (1ULL << type)))
			continue;
		name = stats_name(type, buf, sizeof(buf));
		if (o->json) {
			out_u64(o, name, NULL, r->value[type]);
		} else if (explain) {
			out_text(o, "  %-23s %14llu  %s\n", name,
				 (unsigned long long)r->value[type],
				 stats_help(type));
		} else if (r->value[type]) {
			out_text(o, "  %s %llu\n", name,
				 (unsigned long long)r->value[type]);
			shown = true;
		}
	}
	if (!explain && !shown)
		out_text(o, "  (every counter is 0)\n");
}

static void stats_print(struct out *o, const struct stats_show *s,
			bool explain)
{
	size_t i;

	out_start_object(o, NULL);
	out_start_object(o, "networks");
	for (i = 0; i < s->n_nets; i++) {
		out_text(o, "network %s:\n", s->net[i].name);
		out_start_object(o, s->net[i].name);
		stats_print_record(o, &s->net[i], explain);
		out_end_object(o);
	}
	out_end_object(o);
	if (s->has_total) {
		out_text(o, "total:\n");
		out_start_object(o, "total");
		stats_print_record(o, &s->total, explain);
		out_end_object(o);
	}
	out_end_object(o);
}

/* A label value: backslash, quote and newline escaped. */
static void prom_label(FILE *fp, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(fp, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
}

/* "# HELP" and "# TYPE" of a metric family. */
static void prom_family(FILE *fp, const char *metric, unsigned int type,
			const char *suffix)
{
	const char *kind = "counter";

	if (type > KNAT_CNT_MAX)
		kind = "untyped";
	else if (stats_info[type].gauge)
		kind = "gauge";
	fprintf(fp, "# HELP %s %s%s\n# TYPE %s %s\n", metric,
		stats_help(type), suffix, metric, kind);
}

/*
 * The metrics, one family per counter for the networks (labelled) and one
 * for the namespace (knat_namespace_..., unlabelled).
 */
static void stats_print_prometheus(FILE *fp, const struct stats_show *s)
{
	char metric[64], buf[16];
	const char *name, *total;
	unsigned int type;
	bool any;
	size_t i;

	for (type = 1; type < STATS_TYPES; type++) {
		if (!(s->types & (1ULL << type)))
			continue;
		name = stats_name(type, buf, sizeof(buf));
		total = "_total";
		if (type > KNAT_CNT_MAX || stats_info[type].gauge)
			total = "";

		snprintf(metric, sizeof(metric), "knat_%s%s", name, total);
		any = false;
		for (i = 0; i < s->n_nets; i++) {
			if (!(s->net[i].present & (1ULL << type)))
				continue;
			if (!any)
				prom_family(fp, metric, type, "");
			any = true;
			fprintf(fp, "%s{network=\"", metric);
			prom_label(fp, s->net[i].name);
			fprintf(fp, "\"} %llu\n",
				(unsigned long long)s->net[i].value[type]);
		}

		if (!s->has_total || !(s->total.present & (1ULL << type)))
			continue;
		snprintf(metric, sizeof(metric), "knat_namespace_%s%s", name,
			 total);
		prom_family(fp, metric, type,
			    " In the whole network namespace.");
		fprintf(fp, "%s %llu\n", metric,
			(unsigned long long)s->total.value[type]);
	}
}

/* "[show] [network NAME] [explain] [format prometheus]" after argv[0] */
static int stats_parse(int argc, char **argv, struct stats_args *a)
{
	unsigned int format;
	int i = 1, ret;

	if (i < argc && !strcmp(argv[i], "show"))
		i++;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "explain")) {
			if (a->explain)
				return natctl_usage_err("stats: 'explain' is given twice");
			a->explain = true;
			continue;
		}
		if (strcmp(argv[i], "network") && strcmp(argv[i], "format"))
			return natctl_usage_err("stats: unknown argument '%s'",
						argv[i]);
		if (i + 1 == argc)
			return natctl_usage_err("stats: '%s' needs a value",
						argv[i]);
		if (!strcmp(argv[i], "format")) {
			if (a->prometheus)
				return natctl_usage_err("stats: 'format' is given twice");
			ret = parse_keyword("format", argv[++i],
					    &kw_stats_format, &format);
			a->prometheus = true;
		} else {
			if (a->network)
				return natctl_usage_err("stats: 'network' is given twice");
			ret = parse_name("network name", argv[++i]);
			a->network = argv[i];
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int stats_show(struct ctx *ctx, int argc, char **argv)
{
	struct stats_args a = { .explain = ctx->opts.stats };
	struct stats_show s = { 0 };
	struct nlmsghdr *nlh;
	struct nl *nl;
	int ret;

	ret = stats_parse(argc, argv, &a);
	if (ret)
		goto out;
	if (a.prometheus && ctx->opts.json) {
		ret = natctl_usage_err("stats: 'format prometheus' and -j exclude each other");
		goto out;
	}

	ret = natctl_nl(ctx, &nl);
	if (ret)
		goto out;
	nlh = nl_req_start(nl, KNAT_CMD_STATS_GET, NLM_F_DUMP);
	if (a.network)
		mnl_attr_put_strz(nlh, KNAT_A_STATS_NETWORK, a.network);
	ret = nl_req_send(nl, nlh, stats_reply, &s);

	/* What came is printed, even after an error: JSON stays whole. */
	if (a.prometheus) {
		if (!ret)
			stats_print_prometheus(ctx->out.fp, &s);
	} else if (!ret || s.n_nets || s.has_total) {
		stats_print(&ctx->out, &s, a.explain);
	}
out:
	free(s.net);
	return ret;
}

static int stats_reset(struct ctx *ctx, int argc, char **argv)
{
	const char *network = NULL;
	struct nlmsghdr *nlh;
	struct nl *nl;
	int ret;

	if (argc > 1 && strcmp(argv[1], "network"))
		return natctl_usage_err("stats reset: unknown argument '%s'",
					argv[1]);
	if (argc == 2)
		return natctl_usage_err("stats reset: 'network' needs a value");
	if (argc > 3)
		return natctl_usage_err("stats reset: unexpected argument '%s'",
					argv[3]);
	if (argc == 3) {
		ret = parse_name("network name", argv[2]);
		if (ret)
			return ret;
		network = argv[2];
	}

	ret = natctl_nl(ctx, &nl);
	if (ret)
		return ret;
	nlh = nl_req_start(nl, KNAT_CMD_STATS_RESET, 0);
	if (network)
		mnl_attr_put_strz(nlh, KNAT_A_STATS_NETWORK, network);
	return nl_req_send(nl, nlh, NULL, NULL);
}

int cmd_stats(struct ctx *ctx, int argc, char **argv)
{
	int last = argc - 1;

	if (argc > 1 && natctl_is_help(argv[last]) &&
	    (argc == 2 || (argc == 3 && (!strcmp(argv[1], "show") ||
					 !strcmp(argv[1], "reset"))))) {
		stats_usage(stdout);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "reset"))
		return stats_reset(ctx, argc - 1, argv + 1);
	return stats_show(ctx, argc, argv);
}
