// SPDX-License-Identifier: GPL-2.0
/*
 * Text or JSON output from one code path.  See out.h.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>

#include "out.h"

void out_init(struct out *o, FILE *fp, bool json, bool pretty)
{
	*o = (struct out){
		.fp = fp,
		.json = json || pretty,
		.pretty = pretty,
	};
}

/* Length of the valid UTF-8 sequence at @s, or 0 if there is none. */
static size_t utf8_seq_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if (s[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f;	/* surrogates */
		if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if (s[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
		if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

/*
 * Names come from users and need not be UTF-8; JSON must be.  Bytes that
 * are not valid UTF-8 become U+FFFD.
 */
static void json_print_string(FILE *fp, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len;

	fputc('"', fp);
	while (*s) {
		/* Printable ASCII, the usual case, goes out in runs. */
		len = 0;
		while (s[len] >= 0x20 && s[len] < 0x7f && s[len] != '"' &&
		       s[len] != '\\')
			len++;
		if (len) {
			fwrite(s, 1, len, fp);
			s += len;
			continue;
		}
		switch (*s) {
		case '"':
			fputs("\\\"", fp);
			break;
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\b':
			fputs("\\b", fp);
			break;
		case '\f':
			fputs("\\f", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		default:
			if (*s < 0x20) {
				fprintf(fp, "\\u%04x", *s);
				break;
			}
			len = utf8_seq_len(s);
			if (!len) {
				fputs("\\ufffd", fp);
				break;
			}
			fwrite(s, 1, len, fp);
			s += len;
			continue;
		}
		s++;
	}
	fputc('"', fp);
}

static void json_newline(struct out *o, unsigned int depth)
{
	if (!o->pretty)
		return;
	fputc('\n', o->fp);
	while (depth--)
		fputs("    ", o->fp);
}

static bool in_array(const struct out *o)
{
	return o->depth == 0 || (o->is_array & (1u << o->depth));
}

/* Separator, indentation and key in front of a value. */
static void json_member(struct out *o, const char *key)
{
	uint32_t bit = 1u << o->depth;

	if (o->depth) {
		if (o->nonempty & bit)
			fputc(',', o->fp);
		o->nonempty |= bit;
		json_newline(o, o->depth);
	}
	if (in_array(o))
		return;
	assert(key);
	json_print_string(o->fp, key);
	fputs(o->pretty ? ": " : ":", o->fp);
}

/* After a value: a value at the top level ends its line. */
static void json_value_end(struct out *o)
{
	if (!o->depth)
		fputc('\n', o->fp);
}

static void json_open(struct out *o, const char *key, char c, bool array)
{
	uint32_t bit;

	json_member(o, key);
	fputc(c, o->fp);
	o->depth++;
	assert(o->depth < OUT_MAX_DEPTH);
	bit = 1u << o->depth;
	o->nonempty &= ~bit;
	if (array)
		o->is_array |= bit;
	else
		o->is_array &= ~bit;
}

static void json_close(struct out *o, char c)
{
	assert(o->depth > 0);
	if (o->nonempty & (1u << o->depth))
		json_newline(o, o->depth - 1);
	fputc(c, o->fp);
	o->depth--;
	json_value_end(o);
}

void out_start_object(struct out *o, const char *key)
{
	if (o->json)
		json_open(o, key, '{', false);
}

void out_end_object(struct out *o)
{
	if (o->json)
		json_close(o, '}');
}

void out_start_array(struct out *o, const char *key)
{
	if (o->json)
		json_open(o, key, '[', true);
}

void out_end_array(struct out *o)
{
	if (o->json)
		json_close(o, ']');
}

void out_string(struct out *o, const char *key, const char *fmt,
		const char *value)
{
	if (o->json) {
		json_member(o, key);
		json_print_string(o->fp, value);
		json_value_end(o);
	} else if (fmt) {
		fprintf(o->fp, fmt, value);
	}
}

void out_u64(struct out *o, const char *key, const char *fmt, uint64_t value)
{
	if (o->json) {
		json_member(o, key);
		fprintf(o->fp, "%" PRIu64, value);
		json_value_end(o);
	} else if (fmt) {
		fprintf(o->fp, fmt, (unsigned long long)value);
	}
}

void out_s64(struct out *o, const char *key, const char *fmt, int64_t value)
{
	if (o->json) {
		json_member(o, key);
		fprintf(o->fp, "%" PRId64, value);
		json_value_end(o);
	} else if (fmt) {
		fprintf(o->fp, fmt, (long long)value);
	}
}

void out_bool(struct out *o, const char *key, const char *fmt, bool value)
{
	if (o->json) {
		json_member(o, key);
		fputs(value ? "true" : "false", o->fp);
		json_value_end(o);
	} else if (fmt) {
		fprintf(o->fp, fmt, value ? "yes" : "no");
	}
}

void out_null(struct out *o, const char *key)
{
	if (o->json) {
		json_member(o, key);
		fputs("null", o->fp);
		json_value_end(o);
	}
}

void out_text(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->json)
		return;
	va_start(ap, fmt);
	vfprintf(o->fp, fmt, ap);
	va_end(ap);
}
