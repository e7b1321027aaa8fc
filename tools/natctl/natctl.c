// SPDX-License-Identifier: GPL-2.0
/*
 * natctl: the command line client of knat.
 *
 * Global options, the table of commands and the plumbing they share.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <knat.h>

#include "natctl.h"
#include "nl.h"

#ifndef KNAT_VERSION
#define KNAT_VERSION "unknown"
#endif

#define NETNS_RUN_DIR	"/run/netns"

static int cmd_help(struct ctx *ctx, int argc, char **argv);

/* "FILE:LINE" while natctl -f reads a file, or NULL. */
static const char *natctl_where;

static const struct natctl_cmd natctl_cmds[] = {
	{ "info", cmd_info, "",
	  "show the module's version, features and network count" },
	{ "network", cmd_network, "{ add | set | delete | show } ...",
	  "create, change, delete and show NAT networks" },
	{ "map", cmd_map, "{ add | delete | show } ...",
	  "add, delete and show static mappings (port forwarding, 1:1)" },
	{ "session", cmd_session, "{ show | flush } [ FILTER ]...",
	  "list and flush sessions" },
	{ "stats", cmd_stats, "[ show | reset ] [ network NAME ] ...",
	  "show or reset the counters of each network and the total" },
	{ "lookup", cmd_lookup, "PROTO SRC:PORT DST:PORT",
	  "show the session of a flow, seen from either side" },
	{ "save", cmd_save, "",
	  "print the configuration as a file for 'natctl -f'" },
	{ "monitor", cmd_monitor, "[ remote ]",
	  "print sessions and networks as they come and go" },
	{ "help", cmd_help, "[ COMMAND ]",
	  "show this help, or the help of COMMAND" },
};

static const struct option natctl_options[] = {
	{ "json",	no_argument,		NULL, 'j' },
	{ "pretty",	no_argument,		NULL, 'p' },
	{ "netns",	required_argument,	NULL, 'n' },
	{ "file",	required_argument,	NULL, 'f' },
	{ "stats",	no_argument,		NULL, 's' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 },
};

static void usage(FILE *fp)
{
	fputs("Usage: natctl [ OPTIONS ] COMMAND [ ARGUMENTS ]\n"
	      "       natctl [ OPTIONS ] -f FILE\n"
	      "\n"
	      "Commands:\n", fp);
	natctl_print_cmds(fp, natctl_cmds, ARRAY_SIZE(natctl_cmds), "");
	fputs("\n"
	      "Options:\n"
	      "  -j, --json               print JSON\n"
	      "  -p, --pretty             print indented JSON (implies -j)\n"
	      "  -n, --netns NETNS        act in network namespace NETNS\n"
	      "                           (" NETNS_RUN_DIR "/NETNS, as \"ip -n\")\n"
	      "  -f, --file FILE          apply the commands of FILE ('-': standard input)\n"
	      "                           as one transaction ('natctl help save')\n"
	      "  -s, --stats              stats: every counter, zero ones too, explained\n"
	      "  -h, --help               show this help and exit\n"
	      "  -V, --version            show natctl's version and exit\n"
	      "\n"
	      "'natctl COMMAND help' shows the arguments of COMMAND.  A command\n"
	      "or verb may be shortened to any unique prefix; other keywords\n"
	      "must be given in full.\n"
	      "Exit status: 0 success, 1 failure, 2 usage error.\n", fp);
}

void natctl_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("natctl: ", stderr);
	if (natctl_where)
		fprintf(stderr, "%s: ", natctl_where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Prints "natctl: <what>" and the hint; returns -NATCTL_EUSAGE. */
int natctl_usage_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("natctl: ", stderr);
	if (natctl_where)
		fprintf(stderr, "%s: ", natctl_where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(natctl_where ? "\n" : "\nTry 'natctl --help'.\n", stderr);
	return -NATCTL_EUSAGE;
}

void natctl_set_where(const char *where)
{
	natctl_where = where;
}

/* The words that ask an object for its help: "natctl network help". */
bool natctl_is_help(const char *word)
{
	return !strcmp(word, "help") || !strcmp(word, "-h") ||
	       !strcmp(word, "--help");
}

/* One line per command: "<prefix><name> <args>", then its help. */
void natctl_print_cmds(FILE *fp, const struct natctl_cmd *cmds, size_t n,
		       const char *prefix)
{
	char syn[128];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(syn, sizeof(syn), "%s%s%s%s", prefix, cmds[i].name,
			 *cmds[i].args ? " " : "", cmds[i].args);
		if (strlen(syn) > 24)
			fprintf(fp, "  %s\n  %-24s %s\n", syn, "", cmds[i].help);
		else
			fprintf(fp, "  %-24s %s\n", syn, cmds[i].help);
	}
}

/*
 * Runs the command of @cmds named by argv[0]: its full name, or a prefix
 * that only one name has.  @what names the kind of word in messages
 * ("command", "network command").
 */
int natctl_dispatch(struct ctx *ctx, const char *what,
		    const struct natctl_cmd *cmds, size_t n,
		    int argc, char **argv)
{
	const struct natctl_cmd *match = NULL;
	size_t len = strlen(argv[0]);
	size_t i, nmatch = 0;

	for (i = 0; i < n && len; i++) {
		if (!strcmp(argv[0], cmds[i].name)) {
			match = &cmds[i];
			nmatch = 1;
			break;
		}
		if (!strncmp(argv[0], cmds[i].name, len)) {
			match = &cmds[i];
			nmatch++;
		}
	}
	if (nmatch == 1)
		return match->fn(ctx, argc, argv);
	if (!nmatch)
		return natctl_usage_err("unknown %s '%s'", what, argv[0]);

	fflush(stdout);
	fprintf(stderr, "natctl: ambiguous %s '%s', it could be:", what,
		argv[0]);
	for (i = 0; i < n; i++)
		if (!strncmp(argv[0], cmds[i].name, len))
			fprintf(stderr, " %s", cmds[i].name);
	fputs("\nTry 'natctl --help'.\n", stderr);
	return -NATCTL_EUSAGE;
}

static int cmd_help(struct ctx *ctx, int argc, char **argv)
{
	char help[] = "help";
	char *help_argv[] = { NULL, help, NULL };

	if (argc > 2)
		return natctl_usage_err("unexpected argument '%s' after 'help %s'",
					argv[2], argv[1]);
	if (argc == 2 && !natctl_is_help(argv[1])) {
		/* "natctl help info" is "natctl info help" */
		help_argv[0] = argv[1];
		return natctl_dispatch(ctx, "command", natctl_cmds,
				       ARRAY_SIZE(natctl_cmds), 2, help_argv);
	}
	usage(stdout);
	return 0;
}

static int netns_enter(const char *name)
{
	char path[sizeof(NETNS_RUN_DIR) + 256];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		natctl_err("cannot open network namespace \"%s\": %s",
			   name, strerror(-ret));
		goto out;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		ret = -errno;
		natctl_err("cannot enter network namespace \"%s\": %s",
			   name, strerror(-ret));
	}
	close(fd);
out:
	return ret;
}

/*
 * The knat socket, opened on first use in the namespace the options name.
 * Commands that need no kernel (help) never enter the namespace.
 */
int natctl_nl(struct ctx *ctx, struct nl **nlp)
{
	int ret = 0;

	if (ctx->nl)
		goto out;
	if (ctx->opts.netns) {
		ret = netns_enter(ctx->opts.netns);
		if (ret)
			goto out;
	}
	ret = nl_open(&ctx->nl, KNAT_GENL_NAME, KNAT_GENL_VERSION);
	if (ret == -ENOENT)
		natctl_err("the knat kernel module is not loaded (generic netlink family \"%s\" not found)",
			   KNAT_GENL_NAME);
out:
	*nlp = ctx->nl;
	return ret;
}

/* A name for /run/netns/NAME, not a path that leaves it. */
static bool netns_name_ok(const char *name)
{
	return *name && strlen(name) < 256 && !strchr(name, '/') &&
	       strcmp(name, ".") && strcmp(name, "..");
}

/*
 * Parses the global options into @opts.  Returns the index of the command
 * word or a negative errno; sets @done when -h or -V was handled.
 */
static int parse_options(struct natctl_opts *opts, int argc, char **argv,
			 bool *done)
{
	const char *word;
	bool is_long;
	int c, cur;

	opterr = 0;
	for (;;) {
		/* The word getopt is at, for messages about it. */
		cur = optind;
		/* "+": options end at the command word, the rest is its own */
		c = getopt_long(argc, argv, "+:jpn:f:shV", natctl_options,
				NULL);
		if (c == -1)
			break;
		word = cur < argc ? argv[cur] : "";
		is_long = !strncmp(word, "--", 2);

		switch (c) {
		case 'j':
			opts->json = true;
			break;
		case 'p':
			opts->json = true;
			opts->pretty = true;
			break;
		case 'n':
			if (!netns_name_ok(optarg))
				return natctl_usage_err("invalid network namespace name '%s'",
							optarg);
			opts->netns = optarg;
			break;
		case 'f':
			if (!*optarg)
				return natctl_usage_err("option '-f' needs a file name ('-': standard input)");
			opts->file = optarg;
			break;
		case 's':
			opts->stats = true;
			break;
		case 'h':
			usage(stdout);
			*done = true;
			return 0;
		case 'V':
			printf("natctl %s\n", KNAT_VERSION);
			*done = true;
			return 0;
		case ':':
			if (is_long)
				return natctl_usage_err("option '%s' needs an argument",
							word);
			return natctl_usage_err("option '-%c' needs an argument",
						optopt);
		default:
			/* getopt names a known long option given a value */
			if (is_long && optopt)
				return natctl_usage_err("option '%.*s' takes no argument",
							(int)strcspn(word, "="),
							word);
			if (is_long)
				return natctl_usage_err("unknown option '%s'",
							word);
			return natctl_usage_err("unknown option '-%c'", optopt);
		}
	}
	return optind;
}

int main(int argc, char **argv)
{
	struct ctx ctx = { 0 };
	bool done = false;
	int ret;

	ret = parse_options(&ctx.opts, argc, argv, &done);
	if (ret < 0 || done)
		goto out;
	if (ctx.opts.file) {
		if (ret < argc) {
			ret = natctl_usage_err("unexpected command '%s' after '-f %s' (the commands are in the file)",
					       argv[ret], ctx.opts.file);
			goto out;
		}
		out_init(&ctx.out, stdout, ctx.opts.json, ctx.opts.pretty);
		ret = natctl_file(&ctx, ctx.opts.file);
		goto out;
	}
	if (ret == argc) {
		usage(stderr);
		ret = -NATCTL_EUSAGE;
		goto out;
	}
	argc -= ret;
	argv += ret;

	out_init(&ctx.out, stdout, ctx.opts.json, ctx.opts.pretty);
	ret = natctl_dispatch(&ctx, "command", natctl_cmds,
			      ARRAY_SIZE(natctl_cmds), argc, argv);
out:
	nl_close(ctx.nl);
	if (fflush(stdout) || ferror(stdout)) {
		natctl_err("cannot write the output: %s", strerror(errno));
		if (!ret)
			ret = -EIO;
	}
	if (ret == -NATCTL_EUSAGE)
		return 2;
	return ret ? 1 : 0;
}
