// SPDX-License-Identifier: GPL-2.0
/*
 * nl_fuzz: random and mutated generic netlink messages to the knat family.
 *
 *	nl_fuzz [-k] [-n COUNT] [-s SEED] [-p PHASE] [-v]
 *
 * Four phases, each sending COUNT messages (default 2000; the phases
 * without privilege half as many):
 *
 *   root          as root, in the current network namespace (which should
 *                 be a scratch one: its knat configuration is replaced)
 *   userns        as nobody in a user and network namespace of its own:
 *                 it administers that namespace (GENL_UNS_ADMIN_PERM)
 *   nobody        as nobody in the current namespace: nothing may change
 *   userns-guest  as nobody in a user namespace of its own that does not
 *                 own the network namespace: nothing may change
 *
 * A message is one of: random (any command, flags, attribute types, nesting
 * and lengths, garbage), structured (the command's attributes with values
 * around their limits, CONFIG_APPLY with random ops) or a valid request
 * mutated (bits flipped, bytes set, cut short, lengths changed, attributes
 * repeated); sometimes two or three in one datagram.  After each, a
 * GET_INFO round trip (the socket and module still answer) and a dump of
 * every network and mapping, which must be what it was unless a
 * configuration change (NETWORK_NEW/_SET/_DEL, MAP_NEW/_DEL, CONFIG_APPLY)
 * from a privileged phase was accepted.  At the end of each privileged
 * phase, a valid NETWORK_NEW, GET and DEL must work.
 *
 * -k keeps the messages that would hit a known bug (see known_bug()), -p
 * runs one phase, -v tells more.
 *
 * Raw netlink sockets, no libnl: the messages are meant to be wrong.
 * Output: "# ..." lines; exit 0 when every check held, 1 otherwise, 4 when
 * knat is not there.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "knat.h"

#define BUFSZ		(64 * 1024)
#define SNAPSZ		(1024 * 1024)
#define NOBODY		65534

static int family;
static unsigned int verbose;
static uint64_t rng;

/* What a phase did, for the report. */
struct tally {
	unsigned long sent, datagrams, refused, accepted, silent, resnaps;
	unsigned long known;	/* left out: would hit a known bug */
	unsigned long by_kind[3];
	int failures;
};

static uint32_t rnd(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 2685821657736338717ULL) >> 32);
}

static uint32_t below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int percent)
{
	return below(100) < percent;
}

/* ---- building messages ---- */

struct msg {
	unsigned char buf[BUFSZ];
	size_t len;
};

static struct nlattr *put(struct msg *m, uint16_t type, const void *data,
			  size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->buf + m->len);
	size_t room = NLA_HDRLEN + NLA_ALIGN(len);

	if (m->len + room > sizeof(m->buf) - 64)
		return NULL;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	memset((char *)a + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	m->len += room;
	return a;
}

static void put_u8(struct msg *m, uint16_t t, uint8_t v) { put(m, t, &v, 1); }
static void put_u16(struct msg *m, uint16_t t, uint16_t v) { put(m, t, &v, 2); }
static void put_u32(struct msg *m, uint16_t t, uint32_t v) { put(m, t, &v, 4); }

static void put_str(struct msg *m, uint16_t t, const char *s)
{
	put(m, t, s, strlen(s) + 1);
}

static size_t nest_start(struct msg *m, uint16_t type)
{
	size_t at = m->len;

	if (!put(m, type | NLA_F_NESTED, NULL, 0))
		return (size_t)-1;
	return at;
}

static void nest_end(struct msg *m, size_t at)
{
	if (at != (size_t)-1)
		((struct nlattr *)(m->buf + at))->nla_len = m->len - at;
}

static void msg_start(struct msg *m, uint16_t type, uint16_t flags,
		      uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->buf;
	struct genlmsghdr *g = NLMSG_DATA(nlh);

	memset(m->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	g->cmd = cmd;
	g->version = version;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
}

static void msg_end(struct msg *m)
{
	((struct nlmsghdr *)m->buf)->nlmsg_len = m->len;
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return a.s_addr;
}

/* ---- talking ---- */

struct sock {
	int fd;
	uint32_t seq;
};

static int sock_open(struct sock *s)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 20 };
	int one = 1, bufsz = 1 << 20;

	s->seq = 1;
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (s->fd < 0)
		return -errno;
	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

static int sock_send(struct sock *s, const void *buf, size_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (sendto(s->fd, buf, len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/* What came back for one sequence number. */
struct answer {
	int n_err, n_ok;	/* NLMSG_ERROR with an errno, with 0 */
	int n_data, n_done;
	bool open;		/* a dump still going */
	int last_err;
};

typedef void (*data_fn)(const struct nlmsghdr *nlh, void *arg);

static void account(struct answer *a, const struct nlmsghdr *nlh)
{
	if (verbose > 1)
		printf("# answer: type %u flags %#x seq %u len %u error %d\n",
		       nlh->nlmsg_type, nlh->nlmsg_flags, nlh->nlmsg_seq,
		       nlh->nlmsg_len, nlh->nlmsg_type == NLMSG_ERROR ?
		       ((const struct nlmsgerr *)NLMSG_DATA(nlh))->error : 0);
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nlh);

		if (e->error) {
			a->n_err++;
			a->last_err = e->error;
		} else {
			a->n_ok++;
		}
		a->open = false;
	} else if (nlh->nlmsg_type == NLMSG_DONE) {
		a->n_done++;
		a->open = false;
	} else {
		a->n_data++;
		if (nlh->nlmsg_flags & NLM_F_MULTI)
			a->open = true;
	}
}

/*
 * Read until @seq's NLMSG_ERROR (an ack) or NLMSG_DONE, into @a, its data
 * messages to @fn; and, if @wseq, until no dump of @wseq is still open,
 * its answers into @wa.  0, or -errno when the socket failed.
 */
static int sock_read(struct sock *s, uint32_t seq, struct answer *a,
		     data_fn fn, void *arg, uint32_t wseq, struct answer *wa)
{
	static unsigned char buf[BUFSZ];
	bool stopped = false;

	for (;;) {
		struct nlmsghdr *nlh;
		ssize_t n;

		if (stopped && (!wseq || !wa->open))
			return 0;
		n = recv(s->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, (size_t)n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			if (wseq && nlh->nlmsg_seq == wseq)
				account(wa, nlh);
			if (nlh->nlmsg_seq != seq)
				continue;
			account(a, nlh);
			if (nlh->nlmsg_type == NLMSG_ERROR ||
			    nlh->nlmsg_type == NLMSG_DONE)
				stopped = true;
			else if (fn)
				fn(nlh, arg);
		}
	}
}

/*
 * Send request @m (NLM_F_REQUEST and NLM_F_ACK added) and read its answer;
 * the errno.  With @wseq, also what comes back for that (see sock_read).
 */
static int request_watch(struct sock *s, struct msg *m, data_fn fn,
			 void *arg, uint32_t wseq, struct answer *wa)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->buf;
	struct answer a = {};
	int err;

	nlh->nlmsg_seq = ++s->seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST;
	if (!(nlh->nlmsg_flags & NLM_F_DUMP))
		nlh->nlmsg_flags |= NLM_F_ACK;
	msg_end(m);
	err = sock_send(s, m->buf, m->len);
	if (err)
		return err;
	err = sock_read(s, nlh->nlmsg_seq, &a, fn, arg, wseq, wa);
	if (err)
		return err;
	return a.n_err ? a.last_err : 0;
}

static int request(struct sock *s, struct msg *m, data_fn fn, void *arg)
{
	return request_watch(s, m, fn, arg, 0, NULL);
}

static void family_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct genlmsghdr *g = NLMSG_DATA(nlh);
	const struct nlattr *a = (const void *)((const char *)g + GENL_HDRLEN);
	int len = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

	for (; len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= len;
	     len -= NLA_ALIGN(a->nla_len),
	     a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len)))
		if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID)
			*(int *)arg = *(const uint16_t *)((const char *)a +
							  NLA_HDRLEN);
}

static int resolve_family(struct sock *s)
{
	struct msg m;
	int id = 0, err;

	msg_start(&m, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, 1);
	put_str(&m, CTRL_ATTR_FAMILY_NAME, KNAT_GENL_NAME);
	err = request(s, &m, family_cb, &id);
	return err ? err : id;
}

/* ---- the configuration, as dumps ---- */

struct snap {
	unsigned char *p;
	size_t len;
	char names[32][KNAT_NAME_MAXLEN + 1];
	int n_names;
};

/* The payload of a dump message, without its header (seq, pid). */
static void snap_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct snap *sn = arg;
	size_t n = nlh->nlmsg_len - NLMSG_HDRLEN;
	const struct genlmsghdr *g = NLMSG_DATA(nlh);
	const struct nlattr *a = (const void *)((const char *)g + GENL_HDRLEN);
	int len = n - GENL_HDRLEN;

	if (sn->len + n + 4 <= SNAPSZ) {
		memcpy(sn->p + sn->len, &nlh->nlmsg_type, 2);
		memcpy(sn->p + sn->len + 2, NLMSG_DATA(nlh), n);
		sn->len += n + 2;
	}
	if (g->cmd != KNAT_CMD_NETWORK_GET && g->cmd != KNAT_CMD_NETWORK_NEW)
		return;
	for (; len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= len;
	     len -= NLA_ALIGN(a->nla_len),
	     a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len)))
		if ((a->nla_type & NLA_TYPE_MASK) == KNAT_A_NETWORK_NAME &&
		    sn->n_names < 32)
			snprintf(sn->names[sn->n_names++],
				 sizeof(sn->names[0]), "%.*s",
				 (int)(a->nla_len - NLA_HDRLEN),
				 (const char *)a + NLA_HDRLEN);
}

static int dump(struct sock *s, uint8_t cmd, struct snap *sn)
{
	struct msg m;

	msg_start(&m, family, NLM_F_DUMP, cmd, 1);
	return request(s, &m, snap_cb, sn);
}

static int snapshot(struct sock *s, struct snap *sn)
{
	int err;

	sn->len = 0;
	sn->n_names = 0;
	err = dump(s, KNAT_CMD_NETWORK_GET, sn);
	if (!err)
		err = dump(s, KNAT_CMD_MAP_GET, sn);
	return err;
}

/* The configuration every privileged phase starts from, and goes back to. */
static int baseline(struct sock *s)
{
	struct snap sn = { .p = malloc(SNAPSZ) };
	struct msg m;
	size_t nest;
	int i, err;

	if (!sn.p)
		abort();
	err = snapshot(s, &sn);
	for (i = 0; !err && i < sn.n_names; i++) {
		msg_start(&m, family, 0, KNAT_CMD_NETWORK_DEL, 1);
		put_str(&m, KNAT_A_NETWORK_NAME, sn.names[i]);
		err = request(s, &m, NULL, NULL);
	}
	free(sn.p);
	if (err)
		return err;

	msg_start(&m, family, 0, KNAT_CMD_NETWORK_NEW, 1);
	put_str(&m, KNAT_A_NETWORK_NAME, "fz0");
	put_u32(&m, KNAT_A_NETWORK_PREFIX, ip("198.18.0.0"));
	put_u8(&m, KNAT_A_NETWORK_PREFIX_LEN, 24);
	nest = nest_start(&m, KNAT_A_NETWORK_EXT_ADDRS);
	put_u32(&m, KNAT_A_EXT_ADDR, ip("203.0.113.1"));
	nest_end(&m, nest);
	err = request(s, &m, NULL, NULL);
	if (err)
		return err;

	msg_start(&m, family, 0, KNAT_CMD_NETWORK_NEW, 1);
	put_str(&m, KNAT_A_NETWORK_NAME, "fz1");
	put_u32(&m, KNAT_A_NETWORK_PREFIX, ip("198.19.0.0"));
	put_u8(&m, KNAT_A_NETWORK_PREFIX_LEN, 16);
	nest = nest_start(&m, KNAT_A_NETWORK_EXT_ADDRS);
	put_u32(&m, KNAT_A_EXT_ADDR, ip("192.0.2.1"));
	put_u32(&m, KNAT_A_EXT_ADDR, ip("192.0.2.2"));
	nest_end(&m, nest);
	put_u16(&m, KNAT_A_NETWORK_PORT_MIN, 20000);
	put_u16(&m, KNAT_A_NETWORK_PORT_MAX, 30000);
	put_u8(&m, KNAT_A_NETWORK_FILTERING, KNAT_FILTER_ENDPOINT_INDEPENDENT);
	err = request(s, &m, NULL, NULL);
	if (err)
		return err;

	msg_start(&m, family, 0, KNAT_CMD_MAP_NEW, 1);
	put_str(&m, KNAT_A_MAP_NETWORK, "fz0");
	put_u8(&m, KNAT_A_MAP_PROTO, IPPROTO_TCP);
	put_u16(&m, KNAT_A_MAP_EXT_PORT_MIN, 8080);
	put_u32(&m, KNAT_A_MAP_INT_ADDR, ip("198.18.0.80"));
	put_u16(&m, KNAT_A_MAP_INT_PORT_MIN, 80);
	return request(s, &m, NULL, NULL);
}

/* ---- the fuzz ---- */

static const uint32_t u32_edges[] = {
	0, 1, 2, 15, 16, 17, 24, 32, 33, 255, 256, 1023, 1024, 65535, 65536,
	2592000, 2592001, 1U << 24, (1U << 24) + 1, 0x7fffffff, 0x80000000,
	0xfffffffe, 0xffffffff,
};

static const char *const addrs[] = {
	"0.0.0.0", "198.18.0.0", "198.18.0.1", "198.18.0.80", "198.19.0.0",
	"203.0.113.1", "203.0.113.2", "192.0.2.1", "192.0.2.2", "192.0.2.3",
	"10.0.0.0", "127.0.0.1", "224.0.0.1", "255.255.255.255",
};

static const char *const names[] = {
	"fz0", "fz1", "fz2", "fzcheck", "", "a", "fz0 ", "x/y",
	"abcdefghijklmno", "abcdefghijklmnop", "\xff\xfe", "lo", "ext0",
};

static uint32_t rnd_u32(void)
{
	switch (below(4)) {
	case 0:
		return rnd();
	case 1:
		return below(70000);
	default:
		return u32_edges[below(sizeof(u32_edges) / sizeof(u32_edges[0]))];
	}
}

static uint32_t rnd_addr(void)
{
	if (chance(20))
		return rnd();
	return ip(addrs[below(sizeof(addrs) / sizeof(addrs[0]))]);
}

/* A value of a random kind and length: the type may or may not fit. */
static void put_value(struct msg *m, uint16_t type)
{
	unsigned char junk[80];
	uint32_t v = rnd_u32();
	uint64_t v64 = ((uint64_t)rnd() << 32) | rnd();
	size_t i, n;

	switch (below(8)) {
	case 0:
		put_u8(m, type, v);
		break;
	case 1:
		put_u16(m, type, v);
		break;
	case 2:
		put_u32(m, type, chance(50) ? v : rnd_addr());
		break;
	case 3:
		put(m, type, &v64, 8);
		break;
	case 4:
		put_str(m, type, names[below(sizeof(names) / sizeof(names[0]))]);
		break;
	case 5:		/* a string without its NUL */
		n = below(20);
		for (i = 0; i < n; i++)
			junk[i] = 'a' + below(26);
		put(m, type, junk, n);
		break;
	case 6:
		put(m, type, NULL, 0);
		break;
	default:
		n = below(sizeof(junk));
		for (i = 0; i < n; i++)
			junk[i] = rnd();
		put(m, type, junk, n);
		break;
	}
}

/* Random attributes: types around 0..@max, nests, any lengths. */
static void put_random_attrs(struct msg *m, unsigned int max, int depth)
{
	unsigned int i, n = below(8);

	for (i = 0; i < n; i++) {
		uint16_t type = chance(80) ? below(max + 3) : rnd() & 0x7fff;

		if (depth < 4 && chance(20)) {
			size_t at = nest_start(m, type);

			put_random_attrs(m, max, depth + 1);
			nest_end(m, at);
		} else {
			if (chance(5))
				type |= NLA_F_NESTED;
			if (chance(3))
				type |= NLA_F_NET_BYTEORDER;
			put_value(m, type);
		}
	}
}

static unsigned int attr_max(uint8_t cmd)
{
	switch (cmd) {
	case KNAT_CMD_NETWORK_NEW:
	case KNAT_CMD_NETWORK_SET:
	case KNAT_CMD_NETWORK_DEL:
	case KNAT_CMD_NETWORK_GET:
		return KNAT_A_NETWORK_MAX;
	case KNAT_CMD_SESSION_GET:
	case KNAT_CMD_SESSION_FLUSH:
	case KNAT_CMD_LOOKUP:
		return KNAT_A_SESSION_MAX;
	case KNAT_CMD_STATS_GET:
	case KNAT_CMD_STATS_RESET:
		return KNAT_A_STATS_MAX;
	case KNAT_CMD_MAP_NEW:
	case KNAT_CMD_MAP_DEL:
	case KNAT_CMD_MAP_GET:
		return KNAT_A_MAP_MAX;
	case KNAT_CMD_CONFIG_APPLY:
		return KNAT_A_CONFIG_MAX;
	default:
		return 20;
	}
}

static void put_network_attrs(struct msg *m)
{
	unsigned int i;

	if (chance(90))
		put_str(m, KNAT_A_NETWORK_NAME,
			names[below(sizeof(names) / sizeof(names[0]))]);
	if (chance(60))
		put_u32(m, KNAT_A_NETWORK_PREFIX, rnd_addr());
	if (chance(60))
		put_u8(m, KNAT_A_NETWORK_PREFIX_LEN, below(36));
	if (chance(40)) {
		size_t at = nest_start(m, KNAT_A_NETWORK_EXT_ADDRS);
		unsigned int n = chance(10) ? 17 + below(3) : below(4);

		for (i = 0; i < n; i++)
			if (chance(95))
				put_u32(m, KNAT_A_EXT_ADDR, rnd_addr());
			else
				put_value(m, below(3));
		nest_end(m, at);
	}
	if (chance(15))
		put_str(m, KNAT_A_NETWORK_EXT_DEV, chance(50) ? "lo" :
			names[below(sizeof(names) / sizeof(names[0]))]);
	if (chance(25))
		put_u16(m, KNAT_A_NETWORK_PORT_MIN, rnd_u32());
	if (chance(25))
		put_u16(m, KNAT_A_NETWORK_PORT_MAX, rnd_u32());
	if (chance(20))
		put_u8(m, KNAT_A_NETWORK_FILTERING, below(5));
	if (chance(15))
		put_u32(m, KNAT_A_NETWORK_MAX_SESSIONS, rnd_u32());
	if (chance(15))
		put_u32(m, KNAT_A_NETWORK_HOST_MAX_SESSIONS, rnd_u32());
	if (chance(10))
		put_u8(m, KNAT_A_NETWORK_UDP_INBOUND_REFRESH, below(3));
	if (chance(10))
		put_u8(m, KNAT_A_NETWORK_HAIRPIN, below(3));
	for (i = KNAT_A_NETWORK_TIMEOUT_TCP_EST;
	     i <= KNAT_A_NETWORK_TIMEOUT_ICMP; i++)
		if (chance(10))
			put_u32(m, i, rnd_u32());
	if (chance(5))
		put_u32(m, chance(50) ? KNAT_A_NETWORK_ID :
			KNAT_A_NETWORK_SESSIONS, rnd_u32());
}

static void put_map_attrs(struct msg *m)
{
	static const uint8_t protos[] = { 0, IPPROTO_TCP, IPPROTO_UDP,
					  IPPROTO_ICMP, 255 };

	if (chance(90))
		put_str(m, KNAT_A_MAP_NETWORK,
			names[below(sizeof(names) / sizeof(names[0]))]);
	if (chance(85))
		put_u8(m, KNAT_A_MAP_PROTO, protos[below(sizeof(protos))]);
	if (chance(40))
		put_u32(m, KNAT_A_MAP_EXT_ADDR, rnd_addr());
	if (chance(70))
		put_u16(m, KNAT_A_MAP_EXT_PORT_MIN, rnd_u32());
	if (chance(40))
		put_u16(m, KNAT_A_MAP_EXT_PORT_MAX, rnd_u32());
	if (chance(80))
		put_u32(m, KNAT_A_MAP_INT_ADDR, chance(50) ?
			ip("198.18.0.80") : rnd_addr());
	if (chance(40))
		put_u16(m, KNAT_A_MAP_INT_PORT_MIN, rnd_u32());
	if (chance(30))
		put_u16(m, KNAT_A_MAP_INT_PORT_MAX, rnd_u32());
	if (chance(20))
		put_u32(m, KNAT_A_MAP_REM_PREFIX, rnd_addr());
	if (chance(20))
		put_u8(m, KNAT_A_MAP_REM_PREFIX_LEN, below(40));
	if (chance(5))
		put(m, KNAT_A_MAP_EXT_ADDR_NOW + below(4), "\0\0\0\0\0\0\0\0",
		    8);
}

static void put_session_attrs(struct msg *m)
{
	unsigned int t;

	for (t = KNAT_A_SESSION_NETWORK; t <= KNAT_A_SESSION_REASON; t++) {
		if (!chance(25))
			continue;
		switch (t) {
		case KNAT_A_SESSION_NETWORK:
			put_str(m, t, names[below(sizeof(names) /
						  sizeof(names[0]))]);
			break;
		case KNAT_A_SESSION_PROTO:
		case KNAT_A_SESSION_STATE:
		case KNAT_A_SESSION_REASON:
			put_u8(m, t, rnd_u32());
			break;
		case KNAT_A_SESSION_INT_PORT:
		case KNAT_A_SESSION_EXT_PORT:
		case KNAT_A_SESSION_REM_PORT:
		case KNAT_A_SESSION_SRC_PORT:
		case KNAT_A_SESSION_DST_PORT:
			put_u16(m, t, rnd_u32());
			break;
		default:
			put_u32(m, t, rnd_addr());
		}
	}
}

static const uint8_t change_cmds[] = {
	KNAT_CMD_NETWORK_NEW, KNAT_CMD_NETWORK_SET, KNAT_CMD_NETWORK_DEL,
	KNAT_CMD_MAP_NEW, KNAT_CMD_MAP_DEL,
};

static void put_cmd_attrs(struct msg *m, uint8_t cmd, int depth);

static void put_op(struct msg *m, int depth)
{
	size_t op = nest_start(m, KNAT_A_CONFIG_OP), at;
	uint8_t cmd = chance(90) ? change_cmds[below(5)] : below(KNAT_CMD_MAX + 3);

	if (chance(95))
		put_u8(m, KNAT_A_OP_CMD, cmd);
	if (chance(95)) {
		at = nest_start(m, KNAT_A_OP_ATTRS);
		put_cmd_attrs(m, cmd, depth + 1);
		nest_end(m, at);
	}
	if (chance(5))
		put_random_attrs(m, KNAT_A_OP_MAX, depth + 1);
	nest_end(m, op);
}

/* The attributes of @cmd, plausibly. */
static void put_cmd_attrs(struct msg *m, uint8_t cmd, int depth)
{
	unsigned int i, n;
	size_t at;

	switch (cmd) {
	case KNAT_CMD_NETWORK_NEW:
	case KNAT_CMD_NETWORK_SET:
	case KNAT_CMD_NETWORK_DEL:
	case KNAT_CMD_NETWORK_GET:
		put_network_attrs(m);
		break;
	case KNAT_CMD_MAP_NEW:
	case KNAT_CMD_MAP_DEL:
	case KNAT_CMD_MAP_GET:
		put_map_attrs(m);
		break;
	case KNAT_CMD_SESSION_GET:
	case KNAT_CMD_SESSION_FLUSH:
	case KNAT_CMD_LOOKUP:
		put_session_attrs(m);
		break;
	case KNAT_CMD_STATS_GET:
	case KNAT_CMD_STATS_RESET:
		if (chance(60))
			put_str(m, KNAT_A_STATS_NETWORK,
				names[below(sizeof(names) / sizeof(names[0]))]);
		if (chance(10))
			put_value(m, KNAT_A_STATS_COUNTERS);
		break;
	case KNAT_CMD_CONFIG_APPLY:
		if (depth > 2)
			break;
		if (chance(30))
			put(m, KNAT_A_CONFIG_FLUSH, NULL, 0);
		n = below(5);
		if (chance(70)) {
			at = nest_start(m, KNAT_A_CONFIG_OPS);
			for (i = 0; i < n; i++)
				put_op(m, depth);
			nest_end(m, at);
		} else {
			for (i = 0; i < n; i++)
				put_op(m, depth);
		}
		break;
	default:
		put_random_attrs(m, 20, depth);
	}
	if (chance(5))
		put_random_attrs(m, attr_max(cmd), depth);
}

static uint16_t rnd_flags(void)
{
	static const uint16_t extra[] = {
		NLM_F_ACK, NLM_F_DUMP, NLM_F_ECHO, NLM_F_ROOT, NLM_F_MATCH,
		NLM_F_CREATE | NLM_F_EXCL, NLM_F_REPLACE, NLM_F_MULTI,
		NLM_F_ATOMIC, NLM_F_APPEND,
	};
	uint16_t f = chance(97) ? NLM_F_REQUEST : 0;
	unsigned int i;

	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (chance(i < 2 ? 35 : 5))
			f |= extra[i];
	if (chance(2))
		f = rnd();
	return f;
}

static uint8_t rnd_cmd(void)
{
	if (chance(90))
		return 1 + below(KNAT_CMD_MAX);
	return chance(50) ? 0 : rnd();
}

/* A request that is right, for mutating. */
static void valid_request(struct msg *m)
{
	size_t at, op, attrs;

	switch (below(5)) {
	case 0:
		msg_start(m, family, NLM_F_REQUEST | NLM_F_ACK,
			  KNAT_CMD_NETWORK_NEW, 1);
		put_str(m, KNAT_A_NETWORK_NAME, "fz2");
		put_u32(m, KNAT_A_NETWORK_PREFIX, ip("10.0.0.0"));
		put_u8(m, KNAT_A_NETWORK_PREFIX_LEN, 8);
		at = nest_start(m, KNAT_A_NETWORK_EXT_ADDRS);
		put_u32(m, KNAT_A_EXT_ADDR, ip("192.0.2.3"));
		nest_end(m, at);
		put_u32(m, KNAT_A_NETWORK_TIMEOUT_UDP, 30);
		break;
	case 1:
		msg_start(m, family, NLM_F_REQUEST | NLM_F_ACK,
			  KNAT_CMD_NETWORK_SET, 1);
		put_str(m, KNAT_A_NETWORK_NAME, "fz0");
		put_u8(m, KNAT_A_NETWORK_FILTERING,
		       KNAT_FILTER_ADDRESS_PORT_DEPENDENT);
		put_u16(m, KNAT_A_NETWORK_PORT_MIN, 2000);
		put_u16(m, KNAT_A_NETWORK_PORT_MAX, 3000);
		break;
	case 2:
		msg_start(m, family, NLM_F_REQUEST | NLM_F_ACK,
			  KNAT_CMD_MAP_NEW, 1);
		put_str(m, KNAT_A_MAP_NETWORK, "fz0");
		put_u8(m, KNAT_A_MAP_PROTO, IPPROTO_UDP);
		put_u16(m, KNAT_A_MAP_EXT_PORT_MIN, 5300);
		put_u16(m, KNAT_A_MAP_EXT_PORT_MAX, 5309);
		put_u32(m, KNAT_A_MAP_INT_ADDR, ip("198.18.0.53"));
		put_u16(m, KNAT_A_MAP_INT_PORT_MIN, 53);
		put_u32(m, KNAT_A_MAP_REM_PREFIX, ip("203.0.113.0"));
		put_u8(m, KNAT_A_MAP_REM_PREFIX_LEN, 24);
		break;
	case 3:
		msg_start(m, family, NLM_F_REQUEST | NLM_F_ACK,
			  KNAT_CMD_CONFIG_APPLY, 1);
		at = nest_start(m, KNAT_A_CONFIG_OPS);
		op = nest_start(m, KNAT_A_CONFIG_OP);
		put_u8(m, KNAT_A_OP_CMD, KNAT_CMD_NETWORK_SET);
		attrs = nest_start(m, KNAT_A_OP_ATTRS);
		put_str(m, KNAT_A_NETWORK_NAME, "fz1");
		put_u32(m, KNAT_A_NETWORK_MAX_SESSIONS, 5000);
		nest_end(m, attrs);
		nest_end(m, op);
		op = nest_start(m, KNAT_A_CONFIG_OP);
		put_u8(m, KNAT_A_OP_CMD, KNAT_CMD_MAP_DEL);
		attrs = nest_start(m, KNAT_A_OP_ATTRS);
		put_str(m, KNAT_A_MAP_NETWORK, "fz0");
		put_u8(m, KNAT_A_MAP_PROTO, IPPROTO_TCP);
		put_u16(m, KNAT_A_MAP_EXT_PORT_MIN, 8080);
		nest_end(m, attrs);
		nest_end(m, op);
		nest_end(m, at);
		break;
	default:
		msg_start(m, family, NLM_F_REQUEST | NLM_F_ACK,
			  KNAT_CMD_LOOKUP, 1);
		put_u8(m, KNAT_A_SESSION_PROTO, IPPROTO_UDP);
		put_u32(m, KNAT_A_SESSION_SRC_ADDR, ip("198.18.0.2"));
		put_u16(m, KNAT_A_SESSION_SRC_PORT, htons(5000));
		put_u32(m, KNAT_A_SESSION_DST_ADDR, ip("203.0.113.2"));
		put_u16(m, KNAT_A_SESSION_DST_PORT, htons(53));
		break;
	}
}

static void mutate(struct msg *m)
{
	unsigned int i, n = 1 + below(4);
	size_t body = NLMSG_HDRLEN;	/* keep the netlink header mostly */

	msg_end(m);
	for (i = 0; i < n && m->len > body; i++) {
		size_t at = body + below(m->len - body), k;

		switch (below(7)) {
		case 0:
			m->buf[at] ^= 1 << below(8);
			break;
		case 1:
			m->buf[at] = (const uint8_t[]){ 0, 1, 0x7f, 0x80,
							0xff, 4, 8 }[below(7)];
			break;
		case 2:		/* cut short, said or not */
			m->len = at;
			if (chance(50))
				msg_end(m);
			break;
		case 3:		/* an attribute length */
			if (at + 2 <= m->len) {
				uint16_t v = below(4) == 0 ? rnd() :
					     below(40);

				memcpy(m->buf + at, &v, 2);
			}
			break;
		case 4:		/* repeat a stretch */
			k = below(m->len - at + 1);
			if (k && m->len + k < sizeof(m->buf)) {
				memmove(m->buf + at + k, m->buf + at,
					m->len - at);
				m->len += k;
				msg_end(m);
			}
			break;
		case 5:		/* the command */
			m->buf[NLMSG_HDRLEN] = rnd_cmd();
			break;
		default:	/* garbage at the end */
			k = below(32);
			while (k-- && m->len < sizeof(m->buf))
				m->buf[m->len++] = rnd();
			if (chance(50))
				msg_end(m);
			break;
		}
	}
}

enum kind { K_RANDOM, K_STRUCTURED, K_MUTATED };

/* One message of a random kind into @m; its kind. */
static enum kind make_message(struct msg *m)
{
	uint8_t cmd = rnd_cmd();
	unsigned int r = below(100);

	if (r < 30) {
		msg_start(m, chance(95) ? (uint32_t)family :
			  (chance(50) ? GENL_ID_CTRL : below(0x40)),
			  rnd_flags(), cmd, chance(90) ? 1 : rnd());
		if (chance(3))
			((struct genlmsghdr *)NLMSG_DATA(m->buf))->reserved =
				rnd();
		put_random_attrs(m, attr_max(cmd), 0);
		msg_end(m);
		if (chance(5))	/* a length that lies */
			((struct nlmsghdr *)m->buf)->nlmsg_len = rnd_u32();
		return K_RANDOM;
	}
	if (r < 65) {
		msg_start(m, family, rnd_flags(), cmd, 1);
		put_cmd_attrs(m, cmd, 0);
		msg_end(m);
		return K_STRUCTURED;
	}
	valid_request(m);
	mutate(m);
	return K_MUTATED;
}

static bool is_change(uint8_t cmd)
{
	unsigned int i;

	if (cmd == KNAT_CMD_CONFIG_APPLY)
		return true;
	for (i = 0; i < sizeof(change_cmds); i++)
		if (cmd == change_cmds[i])
			return true;
	return false;
}

/*
 * A known bug, reported, not yet fixed: KNAT_A_OP_CMD's policy is
 * NLA_POLICY_VALIDATE_FN(NLA_U8, ...); when that attribute fails the
 * policy (a length other than 1, NLA_F_NESTED set), the extended ack
 * carries its policy, and the kernel's policy dump reads the validation
 * function's address as a range: WARN in nla_get_range_unsigned()
 * (lib/nlattr.c:122 on 6.1 and 6.12).  Messages that could do that are
 * left out unless -k is given: does @p (@len bytes of attributes, @depth
 * 0 for the top of a CONFIG_APPLY) hold such an attribute?
 */
static bool op_cmd_bad(const unsigned char *p, int len, int depth)
{
	const struct nlattr *a = (const void *)p;

	for (; len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= len;
	     len -= NLA_ALIGN(a->nla_len),
	     a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len))) {
		int type = a->nla_type & NLA_TYPE_MASK;
		const unsigned char *d = (const unsigned char *)a + NLA_HDRLEN;
		int dlen = a->nla_len - NLA_HDRLEN;

		switch (depth) {
		case 0:		/* CONFIG_APPLY: OPS or OP */
			if ((type == KNAT_A_CONFIG_OPS &&
			     op_cmd_bad(d, dlen, 1)) ||
			    (type == KNAT_A_CONFIG_OP &&
			     op_cmd_bad(d, dlen, 2)))
				return true;
			break;
		case 1:		/* OPS: OPs */
			if (type == KNAT_A_CONFIG_OP && op_cmd_bad(d, dlen, 2))
				return true;
			break;
		default:	/* an OP */
			if (type == KNAT_A_OP_CMD &&
			    (dlen != 1 || (a->nla_type & NLA_F_NESTED)))
				return true;
		}
	}
	return false;
}

static bool known_bug(const struct msg *m)
{
	const struct nlmsghdr *nlh = (const void *)m->buf;
	size_t len = m->len;

	if (len < NLMSG_HDRLEN + GENL_HDRLEN || nlh->nlmsg_type != family ||
	    m->buf[NLMSG_HDRLEN] != KNAT_CMD_CONFIG_APPLY)
		return false;
	if (nlh->nlmsg_len < len)
		len = nlh->nlmsg_len;
	if (len < NLMSG_HDRLEN + GENL_HDRLEN)
		return false;
	return op_cmd_bad(m->buf + NLMSG_HDRLEN + GENL_HDRLEN,
			  len - NLMSG_HDRLEN - GENL_HDRLEN, 0);
}

static bool keep_known_bugs;

static void hexdump(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len && i < 512; i++)
		printf("%s%02x", i % 32 ? "" : "\n#   ", p[i]);
	printf("\n");
}

/*
 * Send @count datagrams of one to three messages, checking after each.
 * @priv: changes may be accepted.
 */
static int fuzz(struct sock *s, const char *phase, unsigned long count,
		bool priv, struct tally *t)
{
	struct snap before = { .p = malloc(SNAPSZ) };
	struct snap after = { .p = malloc(SNAPSZ) };
	static unsigned char dgram[BUFSZ * 3];
	unsigned long i;
	struct msg m;
	int err;

	if (!before.p || !after.p)
		abort();
	err = snapshot(s, &before);
	if (err) {
		printf("# %s: the first dump failed: %s\n", phase,
		       strerror(-err));
		t->failures++;
		return -1;
	}
	for (i = 0; i < count && t->failures < 5; i++) {
		unsigned int k = chance(10) ? 2 + below(2) : 1, j, sent = 0;
		uint32_t fseq = ++s->seq;
		struct answer a = {};
		bool change = false;
		const char *why;
		size_t dlen = 0;

		if (priv && i && i % 500 == 0) {
			/* Back to the start now and then. */
			err = baseline(s);
			if (!err)
				err = snapshot(s, &before);
			if (err) {
				printf("# %s: restoring the baseline failed: %s\n",
				       phase, strerror(-err));
				t->failures++;
				break;
			}
		}

		for (j = 0; j < k; j++) {
			struct nlmsghdr *nlh = (struct nlmsghdr *)m.buf;
			enum kind kind = make_message(&m);

			while (!keep_known_bugs && known_bug(&m)) {
				t->known++;
				kind = make_message(&m);
			}

			if (dlen + NLMSG_ALIGN(m.len) > sizeof(dgram))
				break;
			t->by_kind[kind]++;
			if (m.len >= NLMSG_HDRLEN) {
				nlh->nlmsg_seq = fseq;
				nlh->nlmsg_pid = chance(2) ? rnd() : 0;
			}
			/*
			 * Could it be a configuration change?  Not if it is
			 * no request: the kernel skips those (and acks them
			 * with 0 when asked to).
			 */
			if (m.len < NLMSG_HDRLEN ||
			    (nlh->nlmsg_type == family &&
			     (nlh->nlmsg_flags & NLM_F_REQUEST)))
				change |= m.len <= NLMSG_HDRLEN ||
					  is_change(m.buf[NLMSG_HDRLEN]);
			memcpy(dgram + dlen, m.buf, m.len);
			memset(dgram + dlen + m.len, 0,
			       NLMSG_ALIGN(m.len) - m.len);
			dlen += j + 1 < k ? NLMSG_ALIGN(m.len) : m.len;
			sent++;
		}
		t->sent += sent;
		t->datagrams++;
		if (verbose > 1) {
			printf("# %s: message %lu:", phase, i);
			hexdump(dgram, dlen);
		}
		err = sock_send(s, dgram, dlen);
		if (err && err != -EINVAL && err != -EMSGSIZE &&
		    err != -EOPNOTSUPP && err != -EPERM && err != -ENOBUFS) {
			printf("# %s: send: %s\n", phase, strerror(-err));
			t->failures++;
			break;
		}

		/* Anyone there?  A request of our own, then the dumps. */
		msg_start(&m, family, 0, KNAT_CMD_GET_INFO, 1);
		err = request_watch(s, &m, NULL, NULL, fseq, &a);
		if (!err)
			err = snapshot(s, &after);
		if (err) {
			printf("# %s: message %lu: the module stopped answering: %s; it was:",
			       phase, i, strerror(-err));
			hexdump(dgram, dlen);
			t->failures++;
			break;
		}
		t->refused += a.n_err;
		t->accepted += a.n_ok + a.n_done;
		if (!a.n_err && !a.n_ok && !a.n_done && !a.n_data)
			t->silent++;

		why = NULL;
		if (!priv && change && sent == 1 && a.n_ok)
			why = "a change accepted without privilege";
		else if (after.len == before.len &&
			 !memcmp(after.p, before.p, after.len))
			why = NULL;
		else if (!priv)
			why = "the configuration changed without privilege";
		else if (!change)
			why = "the configuration changed without a change request";
		else if (a.n_err == (int)sent)
			why = "the configuration changed although every request failed";
		if (why) {
			printf("# %s: message %lu: %s (acks %d ok, %d errors); it was:",
			       phase, i, why, a.n_ok, a.n_err);
			hexdump(dgram, dlen);
			t->failures++;
		}
		if (after.len != before.len ||
		    memcmp(after.p, before.p, after.len)) {
			t->resnaps++;
			if (verbose)
				printf("# %s: message %lu changed the configuration\n",
				       phase, i);
			memcpy(before.p, after.p, after.len);
			before.len = after.len;
		}
	}
	free(before.p);
	free(after.p);
	return t->failures ? -1 : 0;
}

static void net_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct genlmsghdr *g = NLMSG_DATA(nlh);
	const struct nlattr *a = (const void *)((const char *)g + GENL_HDRLEN);
	int len = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	uint32_t *got = arg;

	for (; len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= len;
	     len -= NLA_ALIGN(a->nla_len),
	     a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len))) {
		const void *d = (const char *)a + NLA_HDRLEN;

		switch (a->nla_type & NLA_TYPE_MASK) {
		case KNAT_A_NETWORK_PREFIX:
			memcpy(&got[0], d, 4);
			break;
		case KNAT_A_NETWORK_PREFIX_LEN:
			got[1] = *(const uint8_t *)d;
			break;
		}
	}
}

/* The module still works: a network made, read back, deleted. */
static int roundtrip(struct sock *s, const char *phase)
{
	uint32_t got[2] = { 0, 0 };
	struct msg m;
	size_t at;
	int err;

	msg_start(&m, family, 0, KNAT_CMD_NETWORK_NEW, 1);
	put_str(&m, KNAT_A_NETWORK_NAME, "fzcheck");
	put_u32(&m, KNAT_A_NETWORK_PREFIX, ip("10.99.0.0"));
	put_u8(&m, KNAT_A_NETWORK_PREFIX_LEN, 16);
	at = nest_start(&m, KNAT_A_NETWORK_EXT_ADDRS);
	put_u32(&m, KNAT_A_EXT_ADDR, ip("192.0.2.99"));
	nest_end(&m, at);
	err = request(s, &m, NULL, NULL);
	if (err) {
		printf("# %s: NETWORK_NEW fzcheck failed: %s\n", phase,
		       strerror(-err));
		return -1;
	}
	msg_start(&m, family, 0, KNAT_CMD_NETWORK_GET, 1);
	put_str(&m, KNAT_A_NETWORK_NAME, "fzcheck");
	err = request(s, &m, net_cb, got);
	if (err || got[0] != ip("10.99.0.0") || got[1] != 16) {
		printf("# %s: NETWORK_GET fzcheck: %s, prefix %08x/%u\n",
		       phase, strerror(-err), ntohl(got[0]), got[1]);
		return -1;
	}
	msg_start(&m, family, 0, KNAT_CMD_NETWORK_DEL, 1);
	put_str(&m, KNAT_A_NETWORK_NAME, "fzcheck");
	err = request(s, &m, NULL, NULL);
	if (err) {
		printf("# %s: NETWORK_DEL fzcheck failed: %s\n", phase,
		       strerror(-err));
		return -1;
	}
	printf("# %s: NETWORK_NEW, GET, DEL of a valid network work\n",
	       phase);
	return 0;
}

enum phase { P_ROOT, P_USERNS, P_NOBODY, P_GUEST };

static const char *const phase_names[] = {
	"root", "userns", "nobody", "userns-guest",
};

static int drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		return -errno;
	return 0;
}

/* One phase, in this process: 0 pass, 1 fail, 4 skip. */
static int run_phase(enum phase p, unsigned long count, uint64_t seed)
{
	const char *name = phase_names[p];
	bool priv = p == P_ROOT || p == P_USERNS;
	struct tally t = {};
	struct sock s;
	int err;

	rng = seed ^ ((uint64_t)(p + 1) * 0x9e3779b97f4a7c15ULL);
	if (!rng)
		rng = 1;
	if (p != P_ROOT) {
		err = drop_to_nobody();
		if (err) {
			printf("# %s: cannot become nobody: %s\n", name,
			       strerror(-err));
			return 1;
		}
	}
	if (p == P_USERNS && unshare(CLONE_NEWUSER | CLONE_NEWNET)) {
		printf("# %s: SKIP: no unprivileged user namespaces: %s\n",
		       name, strerror(errno));
		return 4;
	}
	if (p == P_GUEST && unshare(CLONE_NEWUSER)) {
		printf("# %s: SKIP: no unprivileged user namespaces: %s\n",
		       name, strerror(errno));
		return 4;
	}
	err = sock_open(&s);
	if (err) {
		printf("# %s: netlink socket: %s\n", name, strerror(-err));
		return 1;
	}
	family = resolve_family(&s);
	if (family <= 0) {
		printf("# %s: no knat family: %s\n", name, strerror(-family));
		return 4;
	}
	if (priv) {
		err = baseline(&s);
		if (err) {
			printf("# %s: setting up the baseline failed: %s\n",
			       name, strerror(-err));
			return 1;
		}
	}

	fuzz(&s, name, count, priv, &t);
	if (priv && !t.failures) {
		err = baseline(&s);
		if (err) {
			printf("# %s: the baseline after the fuzz failed: %s\n",
			       name, strerror(-err));
			t.failures++;
		} else if (roundtrip(&s, name)) {
			t.failures++;
		}
	}
	printf("# %s: %lu messages in %lu datagrams (%lu random, %lu structured, %lu mutated): %lu refused, %lu accepted, %lu unanswered; configuration changed %lu times; %lu left out (known bug); %d failures\n",
	       name, t.sent, t.datagrams, t.by_kind[K_RANDOM],
	       t.by_kind[K_STRUCTURED], t.by_kind[K_MUTATED], t.refused,
	       t.accepted, t.silent, t.resnaps, t.known, t.failures);
	close(s.fd);
	return t.failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long count = 2000;
	int only = -1;
	uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	int opt, p, fails = 0, skips = 0;

	while ((opt = getopt(argc, argv, "kn:p:s:v")) != -1) {
		switch (opt) {
		case 'n':
			count = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'v':
			verbose++;
			break;
		case 'k':
			keep_known_bugs = true;
			break;
		case 'p':
			for (p = P_ROOT; p <= P_GUEST; p++)
				if (!strcmp(optarg, phase_names[p]))
					only = p;
			break;
		default:
			fprintf(stderr, "usage: nl_fuzz [-k] [-n COUNT] [-s SEED] [-p PHASE] [-v]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid()) {
		printf("# nl_fuzz: SKIP: not root\n");
		return 4;
	}
	printf("# nl_fuzz: seed %llu, %lu messages for root and userns, %lu for nobody and userns-guest\n",
	       (unsigned long long)seed, count, count / 2);

	for (p = P_ROOT; p <= P_GUEST; p++) {
		unsigned long n = p == P_NOBODY || p == P_GUEST ? count / 2 :
				  count;
		int status, rc;
		pid_t pid;

		if (only >= 0 && p != only)
			continue;
		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (!pid)
			_exit(run_phase(p, n, seed));
		if (waitpid(pid, &status, 0) < 0) {
			perror("waitpid");
			return 1;
		}
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
		if (!WIFEXITED(status))
			printf("# %s: the fuzzer died (status %#x)\n",
			       phase_names[p], status);
		if (rc == 4 && p == P_ROOT)
			return 4;
		if (rc == 4)
			skips++;
		else if (rc)
			fails++;
	}
	printf("# nl_fuzz: %d phases failed, %d skipped\n", fails, skips);
	return fails ? 1 : 0;
}
