/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Static mappings: their arguments ("map add", "map delete", the same
 * lines of "natctl -f" files) and their descriptions (KNAT_CMD_MAP_GET
 * replies and map events), for the commands that print them.
 */
#ifndef NATCTL_MAP_H
#define NATCTL_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include <knat.h>

#include "nl.h"
#include "out.h"

/* The most bytes of attributes map_parse_args() puts. */
#define MAP_ARGS_MAX		128

/*
 * Parses the arguments of "map add" or "map delete" (@cmd
 * KNAT_CMD_MAP_NEW or _DEL; argv[0] is the verb, the arguments follow) and
 * puts that command's attributes into @nlh, which must have room for
 * MAP_ARGS_MAX more bytes.  Returns 0 or -NATCTL_EUSAGE (reported).
 */
int map_parse_args(uint8_t cmd, int argc, char **argv, struct nlmsghdr *nlh);

/* A mapping as the kernel describes it. */
struct map {
	char network[KNAT_NAME_MAXLEN + 1];
	uint8_t proto;		/* IPPROTO_TCP, _UDP, or 0 for 1:1 */
	bool has_ext_addr;	/* else the network's first address */
	bool has_ext_now;
	bool has_remote;
	bool has_sessions;
	uint32_t ext_addr;	/* network byte order, as the others */
	uint32_t ext_now;	/* the external address in use */
	uint16_t ext_min;	/* port mappings: the ports */
	uint16_t ext_max;
	uint32_t int_addr;
	uint16_t int_min;
	uint16_t int_max;
	uint32_t rem_prefix;
	uint8_t rem_len;
	uint64_t packets;
	uint64_t sessions;
};

/* A mapping message into @m; reports what is wrong with it. */
int map_parse(const struct nlmsghdr *nlh, struct map *m);

/* "[ADDR:]PORT[-PORT]" and the other forms: a mapping's longest word. */
#define MAP_WORD_STRLEN		32

/*
 * The arguments of "map add" that make @m, after "map add": "NETWORK
 * PROTO EXTERNAL to INTERNAL [remote PREFIX]", in @buf of
 * MAP_ARGS_STRLEN bytes.  Returns NULL when @m's protocol is unknown to
 * this natctl (a newer module's).
 */
#define MAP_ARGS_STRLEN		(KNAT_NAME_MAXLEN + 3 * MAP_WORD_STRLEN + 32)
const char *map_format_args(const struct map *m, char *buf);

/*
 * The members of a mapping's object, as "map show" prints them: in text
 * "NETWORK PROTO EXTERNAL to INTERNAL ... packets N sessions N" on one
 * line, without the newline.
 */
void map_print(struct out *o, const struct map *m);

#endif /* NATCTL_MAP_H */
