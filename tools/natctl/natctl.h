/* SPDX-License-Identifier: GPL-2.0 */
/*
 * natctl: the command line client of knat.
 *
 * Conventions every command file follows:
 *  - A command is "int cmd_<object>(struct ctx *ctx, int argc, char **argv)"
 *    and is listed in natctl_cmds[] in natctl.c.  argv[0] is the command
 *    word as typed; its arguments start at argv[1].
 *  - Functions return 0 or a negative errno.  Whoever detects an error
 *    prints it, once; callers only pass the code up.  main() turns
 *    -NATCTL_EUSAGE into exit status 2 and any other error into 1.
 *  - Output goes through out.h, so text and JSON come from the same code.
 *  - An object with verbs ("network add", "network show") keeps its own
 *    struct natctl_cmd table and calls natctl_dispatch() on it.
 */
#ifndef NATCTL_H
#define NATCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "out.h"

struct nl;

/*
 * Returned (negated) after a usage error has been reported; main() exits 2.
 * It is above every errno value, so it never collides with a kernel error.
 */
#define NATCTL_EUSAGE	4096

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct natctl_opts {
	bool json;
	bool pretty;
	const char *netns;	/* name under /run/netns, or NULL */
	const char *file;	/* -f: a file of commands, "-" stdin */
	bool stats;		/* -s: every counter, explained */
};

/* What KNAT_CMD_GET_INFO says of the module, asked once (natctl_info()). */
struct natctl_info {
	char version[32];	/* "" when the module did not say */
	uint64_t features;	/* KNAT_FEATURE_* */
};

struct ctx {
	struct natctl_opts opts;
	struct out out;
	struct nl *nl;		/* opened on first use by natctl_nl() */
	struct natctl_info info;
	bool have_info;		/* info holds the module's answer */
};

struct natctl_cmd {
	const char *name;
	int (*fn)(struct ctx *ctx, int argc, char **argv);
	const char *args;	/* synopsis of the arguments, for usage */
	const char *help;	/* one line, for usage */
};

void natctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int natctl_usage_err(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* While set ("FILE:LINE"), messages start with it, and usage hints go. */
void natctl_set_where(const char *where);

bool natctl_is_help(const char *word);
void natctl_print_cmds(FILE *fp, const struct natctl_cmd *cmds, size_t n,
		       const char *prefix);
int natctl_dispatch(struct ctx *ctx, const char *what,
		    const struct natctl_cmd *cmds, size_t n,
		    int argc, char **argv);

int natctl_nl(struct ctx *ctx, struct nl **nlp);

/*
 * The module's version and features (info.c), asked on first use; opens
 * the socket.  Returns 0 or a negative errno, reported.
 */
int natctl_info(struct ctx *ctx, const struct natctl_info **infop);
/*
 * Fails with -EOPNOTSUPP, saying so, unless the module has every feature
 * of @features; @what names what needs them ("static mappings").
 */
int natctl_need(struct ctx *ctx, uint64_t features, const char *what);
/* The message of natctl_need(), for a module found to lack @features. */
void natctl_lacks(uint64_t features, const char *what);

int cmd_info(struct ctx *ctx, int argc, char **argv);
int cmd_network(struct ctx *ctx, int argc, char **argv);
int cmd_map(struct ctx *ctx, int argc, char **argv);
int cmd_session(struct ctx *ctx, int argc, char **argv);
int cmd_stats(struct ctx *ctx, int argc, char **argv);
int cmd_lookup(struct ctx *ctx, int argc, char **argv);
int cmd_save(struct ctx *ctx, int argc, char **argv);
/* natctl -f FILE (config.c) */
int natctl_file(struct ctx *ctx, const char *path);
int cmd_monitor(struct ctx *ctx, int argc, char **argv);

#endif /* NATCTL_H */
