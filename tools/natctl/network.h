/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Networks as the kernel describes them (KNAT_CMD_NETWORK_GET replies and
 * network events), for the commands that print them.
 */
#ifndef NATCTL_NETWORK_H
#define NATCTL_NETWORK_H

#include <stdbool.h>

#include <knat.h>

#include "nl.h"
#include "out.h"

/*
 * Parses a network message into @tb (KNAT_A_NETWORK_MAX + 1 entries) and
 * checks it has what network_print() needs; reports what is wrong.
 */
int network_parse(const struct nlmsghdr *nlh, const struct nlattr **tb);

/*
 * The members of a network's object, as "network show" prints them: in
 * text "NAME: internal ..." on two or three lines, or with @one_line
 * "NAME internal ..." on one line (monitor).  No newline at the end.
 */
void network_print(struct out *o, const struct nlattr **tb, bool one_line);

/* The most bytes of attributes network_parse_args() puts. */
#define NETWORK_ARGS_MAX	512

/*
 * Parses the arguments of "network add", "set" or "delete" (@cmd
 * KNAT_CMD_NETWORK_NEW, _SET or _DEL; argv[0] is the verb, the arguments
 * follow) and puts that command's attributes into @nlh, which must have
 * room for NETWORK_ARGS_MAX more bytes; *@features gets the
 * KNAT_FEATURE_* bits the module needs for them beyond the networks'
 * own (KNAT_FEATURE_MAPS for hairpin).  Returns 0 or -NATCTL_EUSAGE
 * (reported); the command line and "natctl -f" files share it.
 */
int network_parse_args(uint8_t cmd, int argc, char **argv,
		       struct nlmsghdr *nlh, uint64_t *features);

#endif /* NATCTL_NETWORK_H */
