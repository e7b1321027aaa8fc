// SPDX-License-Identifier: GPL-2.0
/*
 * natctl info: what the loaded module is and can do.
 */
#include <errno.h>

#include <knat.h>

#include "natctl.h"
#include "nl.h"

static const struct {
	uint64_t bit;
	const char *name;
} info_features[] = {
	{ KNAT_FEATURE_INFO,	"info" },
	{ KNAT_FEATURE_NETWORKS, "networks" },
	{ KNAT_FEATURE_CONTROL,	"control" },
	{ KNAT_FEATURE_MAPS,	"maps" },
};

static const struct nl_policy info_policy[KNAT_A_INFO_MAX + 1] = {
	[KNAT_A_INFO_VERSION]	= { .type = MNL_TYPE_NUL_STRING },
	[KNAT_A_INFO_FEATURES]	= { .type = MNL_TYPE_U64 },
	[KNAT_A_INFO_NETWORKS]	= { .type = MNL_TYPE_U32 },
};

static void info_usage(FILE *fp)
{
	fputs("Usage: natctl info\n"
	      "\n"
	      "Shows the version of the knat module, the features it\n"
	      "implements and the number of NAT networks in the network\n"
	      "namespace.\n", fp);
}

/* Features by name; a bit this natctl does not know yet is "bit<N>". */
static void info_print_features(struct out *o, uint64_t features)
{
	const char *name;
	bool first = true;
	char unknown[8];
	unsigned int bit;
	size_t i;

	out_text(o, "  features ");
	out_start_array(o, "features");
	for (bit = 0; bit < 64; bit++) {
		if (!(features & (1ULL << bit)))
			continue;
		snprintf(unknown, sizeof(unknown), "bit%u", bit);
		name = unknown;
		for (i = 0; i < ARRAY_SIZE(info_features); i++)
			if (info_features[i].bit == 1ULL << bit)
				name = info_features[i].name;
		out_string(o, NULL, first ? "%s" : ",%s", name);
		first = false;
	}
	if (first)
		out_text(o, "none");
	out_end_array(o);
}

static int info_reply(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KNAT_A_INFO_MAX + 1];
	struct out *o = data;
	int ret;

	ret = nl_parse(nlh, info_policy, KNAT_A_INFO_MAX, tb);
	if (ret)
		goto out;

	out_start_object(o, NULL);
	out_text(o, "knat");
	if (tb[KNAT_A_INFO_VERSION])
		out_string(o, "version", " %s",
			   mnl_attr_get_str(tb[KNAT_A_INFO_VERSION]));
	if (tb[KNAT_A_INFO_FEATURES])
		info_print_features(o,
				    mnl_attr_get_u64(tb[KNAT_A_INFO_FEATURES]));
	if (tb[KNAT_A_INFO_NETWORKS])
		out_u64(o, "networks", "  networks %llu",
			mnl_attr_get_u32(tb[KNAT_A_INFO_NETWORKS]));
	out_text(o, "\n");
	out_end_object(o);
out:
	return ret;
}

static int info_cache_reply(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KNAT_A_INFO_MAX + 1];
	struct natctl_info *info = data;
	int ret;

	ret = nl_parse(nlh, info_policy, KNAT_A_INFO_MAX, tb);
	if (ret)
		return ret;
	if (tb[KNAT_A_INFO_VERSION])
		snprintf(info->version, sizeof(info->version), "%s",
			 mnl_attr_get_str(tb[KNAT_A_INFO_VERSION]));
	if (tb[KNAT_A_INFO_FEATURES])
		info->features = mnl_attr_get_u64(tb[KNAT_A_INFO_FEATURES]);
	return 0;
}

int natctl_info(struct ctx *ctx, const struct natctl_info **infop)
{
	struct natctl_info info = { 0 };
	struct nlmsghdr *nlh;
	struct nl *nl;
	int ret;

	if (ctx->have_info)
		goto out;
	ret = natctl_nl(ctx, &nl);
	if (ret)
		return ret;
	nlh = nl_req_start(nl, KNAT_CMD_GET_INFO, 0);
	ret = nl_req_send(nl, nlh, info_cache_reply, &info);
	if (ret)
		return ret;
	ctx->info = info;
	ctx->have_info = true;
out:
	*infop = &ctx->info;
	return 0;
}

void natctl_lacks(uint64_t features, const char *what)
{
	const char *name = "?";
	size_t i;

	/* Name the first feature missing: there is one per command set. */
	for (i = 0; i < ARRAY_SIZE(info_features); i++) {
		if (features & info_features[i].bit) {
			name = info_features[i].name;
			break;
		}
	}
	natctl_err("this knat module has no %s: it lacks the '%s' feature (an older module? see 'natctl info')",
		   what, name);
}

int natctl_need(struct ctx *ctx, uint64_t features, const char *what)
{
	const struct natctl_info *info;
	int ret;

	ret = natctl_info(ctx, &info);
	if (ret)
		return ret;
	if ((info->features & features) != features) {
		natctl_lacks(features & ~info->features, what);
		return -EOPNOTSUPP;
	}
	return 0;
}

int cmd_info(struct ctx *ctx, int argc, char **argv)
{
	struct nlmsghdr *nlh;
	struct nl *nl;
	int ret;

	if (argc == 2 && natctl_is_help(argv[1])) {
		info_usage(stdout);
		return 0;
	}
	if (argc > 1)
		return natctl_usage_err("info: unexpected argument '%s'",
					argv[1]);

	ret = natctl_nl(ctx, &nl);
	if (ret)
		goto out;
	nlh = nl_req_start(nl, KNAT_CMD_GET_INFO, 0);
	ret = nl_req_send(nl, nlh, info_reply, &ctx->out);
out:
	return ret;
}
