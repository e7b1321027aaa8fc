// SPDX-License-Identifier: GPL-2.0
/*
 * The values of natctl's words.  See parse.h.
 */
#include <netinet/in.h>
#include <string.h>

#include <knat.h>

#include "natctl.h"
#include "parse.h"

/* Interface names: IFNAMSIZ - 1, as in <net/if.h>. */
#define IFNAME_MAXLEN	15

#define KEYWORDS(a)	{ .kw = (a), .n = ARRAY_SIZE(a) }

static const struct keyword on_off[] = {
	{ "off",	0 },
	{ "on",		1 },
};

static const struct keyword filtering[] = {
	{ "endpoint-independent",	KNAT_FILTER_ENDPOINT_INDEPENDENT },
	{ "address-dependent",		KNAT_FILTER_ADDRESS_DEPENDENT },
	{ "address-port-dependent",	KNAT_FILTER_ADDRESS_PORT_DEPENDENT },
};

static const struct keyword proto[] = {
	{ "tcp",	IPPROTO_TCP },
	{ "udp",	IPPROTO_UDP },
	{ "icmp",	IPPROTO_ICMP },
};

static const struct keyword session_state[] = {
	{ "active",		KNAT_STATE_ACTIVE },
	{ "syn-sent",		KNAT_STATE_SYN_SENT },
	{ "syn-recv",		KNAT_STATE_SYN_RECV },
	{ "established",	KNAT_STATE_ESTABLISHED },
	{ "fin-wait",		KNAT_STATE_FIN_WAIT },
	{ "closing",		KNAT_STATE_CLOSING },
	{ "closed",		KNAT_STATE_CLOSED },
};

static const struct keyword counter[] = {
	{ "translated_out",		KNAT_CNT_TRANSLATED_OUT },
	{ "translated_in",		KNAT_CNT_TRANSLATED_IN },
	{ "sessions_added",		KNAT_CNT_SESSIONS_ADDED },
	{ "sessions_expired",		KNAT_CNT_SESSIONS_EXPIRED },
	{ "sessions_deleted",		KNAT_CNT_SESSIONS_DELETED },
	{ "sessions_active",		KNAT_CNT_SESSIONS_ACTIVE },
	{ "drop_table_full",		KNAT_CNT_DROP_TABLE_FULL },
	{ "drop_host_limit",		KNAT_CNT_DROP_HOST_LIMIT },
	{ "drop_no_port",		KNAT_CNT_DROP_NO_PORT },
	{ "drop_filtered",		KNAT_CNT_DROP_FILTERED },
	{ "drop_malformed",		KNAT_CNT_DROP_MALFORMED },
	{ "icmp_errors_translated",	KNAT_CNT_ICMP_ERRORS_TRANSLATED },
	{ "bytes_in_use",		KNAT_CNT_BYTES_IN_USE },
	{ "drop_nomem",			KNAT_CNT_DROP_NOMEM },
	{ "hairpinned",			KNAT_CNT_HAIRPINNED },
	{ "loopback",			KNAT_CNT_LOOPBACK },
	{ "drop_tcp_no_syn",		KNAT_CNT_DROP_TCP_NO_SYN },
	{ "drop_tcp_invalid",		KNAT_CNT_DROP_TCP_INVALID },
	{ "drop_inbound_limit",		KNAT_CNT_DROP_INBOUND_LIMIT },
	{ "sessions_evicted",		KNAT_CNT_SESSIONS_EVICTED },
	{ "drop_untranslatable",	KNAT_CNT_DROP_UNTRANSLATABLE },
	{ "drop_spoofed",		KNAT_CNT_DROP_SPOOFED },
	{ "drop_bridged_hairpin",	KNAT_CNT_DROP_BRIDGED_HAIRPIN },
};

const struct keyword_table kw_on_off = KEYWORDS(on_off);
const struct keyword_table kw_filtering = KEYWORDS(filtering);
const struct keyword_table kw_proto = KEYWORDS(proto);
const struct keyword_table kw_session_state = KEYWORDS(session_state);
const struct keyword_table kw_counter = KEYWORDS(counter);

/* "a", "a or b", "a, b or c" */
static void keyword_list(const struct keyword_table *t, char *buf,
			 size_t size)
{
	size_t i, len = 0;
	int n;

	*buf = '\0';
	for (i = 0; i < t->n && len < size; i++) {
		n = snprintf(buf + len, size - len, "%s%s",
			     !i ? "" : i + 1 < t->n ? ", " : " or ",
			     t->kw[i].name);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

int parse_keyword(const char *what, const char *s,
		  const struct keyword_table *t, unsigned int *value)
{
	char expected[256];
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (!strcmp(s, t->kw[i].name)) {
			*value = t->kw[i].value;
			return 0;
		}
	}
	keyword_list(t, expected, sizeof(expected));
	return natctl_usage_err("invalid %s '%s' (expected %s)", what, s,
				expected);
}

/* The keyword of @value, or NULL when this natctl does not know it. */
const char *keyword_name(const struct keyword_table *t, unsigned int value)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->kw[i].value == value)
			return t->kw[i].name;
	return NULL;
}

/* The keyword of @value, or the number in @buf (a newer kernel's value). */
const char *keyword_name_or_number(const struct keyword_table *t,
				   unsigned int value, char *buf, size_t size)
{
	const char *name = keyword_name(t, value);

	if (name)
		return name;
	snprintf(buf, size, "%u", value);
	return buf;
}

/*
 * A decimal number of @len characters: digits only (no sign, no space, no
 * base prefix).  Returns false when there is none or it exceeds @max.
 */
static bool parse_dec(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t n = 0;
	size_t i;

	if (!len)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		n = n * 10 + (uint64_t)(s[i] - '0');
		if (n > max)
			return false;
	}
	*v = n;
	return true;
}

int parse_u32_range(const char *what, const char *s, uint32_t min,
		    uint32_t max, uint32_t *value)
{
	uint64_t v;

	if (!parse_dec(s, strlen(s), max, &v) || v < min)
		return natctl_usage_err("invalid %s '%s' (expected %u to %u)",
					what, s, min, max);
	*value = (uint32_t)v;
	return 0;
}

bool name_valid(const char *s)
{
	static const char chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
	size_t len = strspn(s, chars);

	return len && len <= KNAT_NAME_MAXLEN && !s[len];
}

int parse_name(const char *what, const char *s)
{
	if (!name_valid(s))
		return natctl_usage_err("invalid %s '%s' (1 to %u characters of A-Z, a-z, 0-9, '_', '.' and '-')",
					what, s, KNAT_NAME_MAXLEN);
	return 0;
}

int parse_ifname(const char *what, const char *s)
{
	size_t len = strlen(s);

	if (!len || len > IFNAME_MAXLEN || !strcmp(s, ".") ||
	    !strcmp(s, "..") || strcspn(s, "/: \t\n\v\f\r") != len)
		return natctl_usage_err("invalid %s '%s' (an interface name of 1 to %u characters)",
					what, s, IFNAME_MAXLEN);
	return 0;
}

/* A dotted quad of @len characters; inet_pton() takes no shortcuts. */
static bool parse_addr_n(const char *s, size_t len, uint32_t *addr)
{
	char buf[INET_ADDRSTRLEN];

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET, buf, addr) == 1;
}

int parse_addr(const char *what, const char *s, uint32_t *addr)
{
	if (!parse_addr_n(s, strlen(s), addr))
		return natctl_usage_err("invalid %s '%s' (expected an IPv4 address A.B.C.D)",
					what, s);
	return 0;
}

/*
 * A.B.C.D/LEN, LEN @min_len to 32, without host bits; with @bare also
 * A.B.C.D alone, as /32.
 */
static int parse_prefix_from(const char *what, const char *s,
			     unsigned int min_len, bool bare, uint32_t *addr,
			     uint8_t *len)
{
	char buf[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	uint32_t a, mask;
	uint64_t l = 32;

	if (bare && !slash && parse_addr_n(s, strlen(s), &a))
		goto ok;
	if (!slash || !parse_addr_n(s, (size_t)(slash - s), &a) ||
	    !parse_dec(slash + 1, strlen(slash + 1), 32, &l) || l < min_len)
		return natctl_usage_err("invalid %s '%s' (expected a prefix A.B.C.D/LEN, LEN %u to 32)",
					what, s, min_len);

	mask = l ? htonl(~0U << (32 - l)) : 0;
	if (a & ~mask)
		return natctl_usage_err("%s has host bits set; did you mean %s/%u?",
					s, format_addr(a & mask, buf),
					(unsigned int)l);
ok:
	*addr = a;
	*len = (uint8_t)l;
	return 0;
}

int parse_prefix(const char *what, const char *s, uint32_t *addr,
		 uint8_t *len)
{
	return parse_prefix_from(what, s, 1, false, addr, len);
}

int parse_prefix_any(const char *what, const char *s, uint32_t *addr,
		     uint8_t *len)
{
	return parse_prefix_from(what, s, 0, true, addr, len);
}

int parse_addr_list(const char *what, const char *s, uint32_t *addrs,
		    size_t max, size_t *n)
{
	const char *p = s;
	size_t i, len, count = 0;
	uint32_t a;

	for (;;) {
		len = strcspn(p, ",");
		if (!parse_addr_n(p, len, &a)) {
			if (p == s && !p[len])
				return natctl_usage_err("invalid %s '%s' (expected A.B.C.D[,A.B.C.D...])",
							what, s);
			return natctl_usage_err("invalid %s '%.*s' in '%s' (expected A.B.C.D[,A.B.C.D...])",
						what, (int)len, p, s);
		}
		for (i = 0; i < count; i++)
			if (addrs[i] == a)
				return natctl_usage_err("duplicate %s '%.*s' in '%s'",
							what, (int)len, p, s);
		if (count == max)
			return natctl_usage_err("too many addresses in '%s' (at most %zu)",
						s, max);
		addrs[count++] = a;
		if (!p[len])
			break;
		p += len + 1;
	}
	*n = count;
	return 0;
}

int parse_port_range(const char *what, const char *s, uint16_t *min,
		     uint16_t *max)
{
	const char *dash = strchr(s, '-');
	uint64_t lo, hi;

	if (!dash || !parse_dec(s, (size_t)(dash - s), 65535, &lo) ||
	    !parse_dec(dash + 1, strlen(dash + 1), 65535, &hi) || !lo || !hi)
		return natctl_usage_err("invalid %s '%s' (expected MIN-MAX, ports 1 to 65535)",
					what, s);
	if (lo > hi)
		return natctl_usage_err("invalid %s '%s' (MIN is above MAX)",
					what, s);
	*min = (uint16_t)lo;
	*max = (uint16_t)hi;
	return 0;
}

/* One port of "PORT" or "LO-HI": its digits, 1 to 65535. */
static int parse_one_port(const char *what, const char *s, const char *p,
			  size_t len, const char *syntax, uint16_t *port)
{
	uint64_t v = 0;

	/* Any run of digits is a number, only then out of range. */
	if (!len || strspn(p, "0123456789") < len)
		return natctl_usage_err("invalid %s '%s' (expected %s)", what,
					s, syntax);
	if (!parse_dec(p, len, 65535, &v) || !v)
		return natctl_usage_err("invalid %s '%s': port %.*s is out of range (1 to 65535)",
					what, s, (int)len, p);
	*port = (uint16_t)v;
	return 0;
}

int parse_addr_ports(const char *what, const char *s, unsigned int flags,
		     struct addr_ports *ap)
{
	const char *syntax = flags & ADDR_PORTS_PORTS ?
			     "[A.B.C.D:]PORT[-PORT]" : "A.B.C.D[:PORT[-PORT]]";
	const char *colon = strchr(s, ':');
	const char *ports = s, *dash;
	struct addr_ports a = { 0 };
	int ret;

	if (colon || !(flags & ADDR_PORTS_PORTS)) {
		if (!parse_addr_n(s, colon ? (size_t)(colon - s) : strlen(s),
				  &a.addr))
			return natctl_usage_err("invalid %s '%s' (expected %s)",
						what, s, syntax);
		a.has_addr = true;
		ports = colon ? colon + 1 : NULL;
	} else if (strchr(s, '.')) {
		return natctl_usage_err("invalid %s '%s': no port (expected %s)",
					what, s, syntax);
	}
	if ((flags & ADDR_PORTS_ADDR) && !a.has_addr)
		return natctl_usage_err("invalid %s '%s': no address (expected %s)",
					what, s, syntax);

	if (ports) {
		dash = strchr(ports, '-');
		ret = parse_one_port(what, s, ports,
				     dash ? (size_t)(dash - ports) :
					    strlen(ports),
				     syntax, &a.min);
		a.max = a.min;
		if (!ret && dash)
			ret = parse_one_port(what, s, dash + 1,
					     strlen(dash + 1), syntax, &a.max);
		if (ret)
			return ret;
		if (a.min > a.max)
			return natctl_usage_err("invalid %s '%s': the range %s is reversed (LOW-HIGH)",
						what, s, ports);
		a.has_ports = true;
	}
	*ap = a;
	return 0;
}

int parse_endpoint(const char *what, const char *s, bool partial,
		   struct endpoint *ep)
{
	const char *colon = strrchr(s, ':');
	struct endpoint e = { 0 };
	uint64_t port;
	size_t len;

	len = colon ? (size_t)(colon - s) : strlen(s);
	if (len || !partial) {
		if (!parse_addr_n(s, len, &e.addr))
			goto invalid;
		e.has_addr = true;
	}
	if (colon) {
		if (!parse_dec(colon + 1, strlen(colon + 1), 65535, &port))
			goto invalid;
		e.port = (uint16_t)port;
		e.has_port = true;
	} else if (!partial || !e.has_addr) {
		goto invalid;
	}
	*ep = e;
	return 0;

invalid:
	if (partial)
		return natctl_usage_err("invalid %s '%s' (expected A.B.C.D, A.B.C.D:PORT or :PORT, PORT 0 to 65535)",
					what, s);
	return natctl_usage_err("invalid %s '%s' (expected A.B.C.D:PORT, PORT 0 to 65535)",
				what, s);
}

const char *format_addr(uint32_t addr, char *buf)
{
	const uint8_t *b = (const uint8_t *)&addr;

	snprintf(buf, INET_ADDRSTRLEN, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	return buf;
}

const char *format_addr_port(uint32_t addr, uint16_t port, char *buf)
{
	char a[INET_ADDRSTRLEN];

	snprintf(buf, ADDR_PORT_STRLEN, "%s:%u", format_addr(addr, a), port);
	return buf;
}

const char *format_addr_ports(bool has_addr, uint32_t addr, uint16_t lo,
			      uint16_t hi, char *buf)
{
	char a[INET_ADDRSTRLEN];
	int n = 0;

	if (has_addr)
		n = snprintf(buf, ADDR_PORTS_STRLEN, "%s:",
			     format_addr(addr, a));
	if (lo == hi)
		snprintf(buf + n, ADDR_PORTS_STRLEN - (size_t)n, "%u", lo);
	else
		snprintf(buf + n, ADDR_PORTS_STRLEN - (size_t)n, "%u-%u", lo,
			 hi);
	return buf;
}
