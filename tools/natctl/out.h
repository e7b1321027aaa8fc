/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Text or JSON output from one code path, in the spirit of iproute2's
 * print_*() helpers.
 *
 * Each out_<type>() call names a JSON key and a printf format for text
 * mode.  In JSON mode the format is ignored; in text mode the key is, and a
 * NULL format prints nothing (a JSON-only field).  Inside an array, or for
 * the top-level value, pass key NULL.  out_text() prints in text mode only.
 *
 * Formats receive: out_string() a const char *, out_u64() an unsigned long
 * long ("%llu", "%llx"), out_s64() a long long ("%lld"), out_bool() the
 * string "yes" or "no".
 *
 * A command that prints a list starts a top-level array, so that "-j" always
 * prints exactly one JSON value, followed by a newline.
 */
#ifndef NATCTL_OUT_H
#define NATCTL_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define OUT_MAX_DEPTH	32

struct out {
	FILE *fp;
	bool json;
	bool pretty;
	unsigned int depth;
	uint32_t nonempty;	/* bit n: container at depth n has a member */
	uint32_t is_array;	/* bit n: container at depth n is an array */
};

void out_init(struct out *o, FILE *fp, bool json, bool pretty);

void out_start_object(struct out *o, const char *key);
void out_end_object(struct out *o);
void out_start_array(struct out *o, const char *key);
void out_end_array(struct out *o);

void out_string(struct out *o, const char *key, const char *fmt,
		const char *value);
void out_u64(struct out *o, const char *key, const char *fmt, uint64_t value);
void out_s64(struct out *o, const char *key, const char *fmt, int64_t value);
void out_bool(struct out *o, const char *key, const char *fmt, bool value);
/* JSON null, for a stable key without a value; nothing in text. */
void out_null(struct out *o, const char *key);

void out_text(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* NATCTL_OUT_H */
