/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The values of natctl's words, in one place: commands parse their
 * arguments with these, and so will static mappings and "natctl -f" files.
 *
 * Every parse_*() function returns 0 and stores the value, or reports the
 * word at fault with natctl_usage_err() and returns -NATCTL_EUSAGE without
 * touching the output.  @what names the word's role in messages, usually
 * the option word in front of it ("max-sessions", "internal").
 *
 * Addresses are IPv4 and kept in network byte order, as knat.h sends them.
 * Keywords must be given in full: a keyword added later cannot make an
 * abbreviation that scripts rely on ambiguous.
 */
#ifndef NATCTL_PARSE_H
#define NATCTL_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>

/* "255.255.255.255:65535" and its NUL */
#define ADDR_PORT_STRLEN	(INET_ADDRSTRLEN + 6)

struct keyword {
	const char *name;
	unsigned int value;
};

struct keyword_table {
	const struct keyword *kw;
	size_t n;
};

/* Tables of the protocol's enumerations, for parsing and printing. */
extern const struct keyword_table kw_on_off;		/* off 0, on 1 */
extern const struct keyword_table kw_filtering;		/* knat_filtering */
extern const struct keyword_table kw_proto;		/* IPPROTO_* */
extern const struct keyword_table kw_session_state;	/* knat_session_state */
extern const struct keyword_table kw_counter;		/* knat_counter */

int parse_keyword(const char *what, const char *s,
		  const struct keyword_table *t, unsigned int *value);
const char *keyword_name(const struct keyword_table *t, unsigned int value);
const char *keyword_name_or_number(const struct keyword_table *t,
				   unsigned int value, char *buf, size_t size);

int parse_u32_range(const char *what, const char *s, uint32_t min,
		    uint32_t max, uint32_t *value);

/* A knat object name: 1 to KNAT_NAME_MAXLEN of [A-Za-z0-9_.-]. */
bool name_valid(const char *s);
int parse_name(const char *what, const char *s);
/* An interface name, as the kernel's dev_valid_name() accepts it. */
int parse_ifname(const char *what, const char *s);

int parse_addr(const char *what, const char *s, uint32_t *addr);
/* A.B.C.D/LEN, LEN 1 to 32, without host bits. */
int parse_prefix(const char *what, const char *s, uint32_t *addr,
		 uint8_t *len);
/* A.B.C.D/LEN, LEN 0 to 32, without host bits, or A.B.C.D alone (/32). */
int parse_prefix_any(const char *what, const char *s, uint32_t *addr,
		     uint8_t *len);
/* ADDR[,ADDR...]: 1 to @max distinct addresses into @addrs. */
int parse_addr_list(const char *what, const char *s, uint32_t *addrs,
		    size_t max, size_t *n);
/* MIN-MAX, 1 <= MIN <= MAX <= 65535. */
int parse_port_range(const char *what, const char *s, uint16_t *min,
		     uint16_t *max);

/* An address with a port, or for a filter either of them. */
struct endpoint {
	uint32_t addr;		/* network byte order */
	uint16_t port;		/* ICMP: the echo identifier */
	bool has_addr;
	bool has_port;
};

/* ADDR:PORT, PORT 0 to 65535; with @partial also ADDR and :PORT. */
int parse_endpoint(const char *what, const char *s, bool partial,
		   struct endpoint *ep);

/*
 * A side of a static mapping: an address, ports (one, or a range), or
 * both, as "ADDR", "PORT", "LO-HI", "ADDR:PORT" or "ADDR:LO-HI".
 */
struct addr_ports {
	uint32_t addr;		/* network byte order */
	uint16_t min;		/* the ports, min == max for one */
	uint16_t max;
	bool has_addr;
	bool has_ports;
};

/* What parse_addr_ports() requires: an address (else optional), ports. */
#define ADDR_PORTS_ADDR		0x1
#define ADDR_PORTS_PORTS	0x2

/*
 * [ADDR:]PORT[-PORT] (@flags ADDR_PORTS_PORTS) or ADDR[:PORT[-PORT]]
 * (ADDR_PORTS_ADDR): ports 1 to 65535, a range from low to high.
 */
int parse_addr_ports(const char *what, const char *s, unsigned int flags,
		     struct addr_ports *ap);

/* "LO-HI" or "PORT" when @lo == @hi, "255.255.255.255:65535-65535" */
#define ADDR_PORTS_STRLEN	(INET_ADDRSTRLEN + 12)

/* Printing: @buf has INET_ADDRSTRLEN or ADDR_PORT_STRLEN bytes. */
const char *format_addr(uint32_t addr, char *buf);
const char *format_addr_port(uint32_t addr, uint16_t port, char *buf);
/*
 * "[ADDR:]PORT[-PORT]" in @buf of ADDR_PORTS_STRLEN bytes: the address
 * when @has_addr, then the port, or the range when @lo != @hi.
 */
const char *format_addr_ports(bool has_addr, uint32_t addr, uint16_t lo,
			      uint16_t hi, char *buf);

#endif /* NATCTL_PARSE_H */
