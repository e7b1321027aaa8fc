// SPDX-License-Identifier: GPL-2.0
/*
 * natctl monitor: print knat's events as they happen.
 *
 * One line per event, a log record in the spirit of RFC 6888 (mapping
 * creation and deletion, without the remote end unless asked for):
 *
 *   TIME session-new PROTO internal A:P external A:P [remote A:P] network N
 *   TIME session-del ... network N reason { expired | deleted | evicted }
 *   TIME network-{new,set,del} NAME internal PREFIX external ... (as
 *        "network show", on one line)
 *   TIME map-{new,del} NETWORK PROTO EXTERNAL to INTERNAL ... (as "map
 *        show")
 *
 * TIME is when natctl received the event: ISO 8601, UTC, milliseconds.
 * With -j each event is one JSON object on a line of its own.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include <knat.h>

#include "map.h"
#include "natctl.h"
#include "network.h"
#include "nl.h"
#include "parse.h"

/* "2026-11-23T17:02:03.123Z" and its NUL */
#define MONITOR_TIME_STRLEN	25

/*
 * The socket's receive buffer (the kernel doubles it, to 8 MiB): room for
 * some ten thousand events before any is lost.  SO_RCVBUFFORCE goes past
 * net.core.rmem_max and needs CAP_NET_ADMIN, as joining the group does;
 * SO_RCVBUF, capped by rmem_max, is the fallback.
 */
#define MONITOR_RCVBUF		(4 << 20)

/* One read: events are a few hundred bytes, each in a read of its own. */
#define MONITOR_RECV_SIZE	32768

/* The genetlink controller's group "notify" always has the id GENL_ID_CTRL. */
#define MONITOR_CTRL_NOTIFY	GENL_ID_CTRL

struct monitor {
	struct out *o;
	uint16_t family_id;
	bool remote;		/* print the remote end of sessions */
	bool gone;		/* the knat family was unregistered */
	char time[MONITOR_TIME_STRLEN];
};

/* What a session event must carry for its line. */
static const uint16_t monitor_session_required[] = {
	KNAT_A_SESSION_NETWORK,
	KNAT_A_SESSION_PROTO,
	KNAT_A_SESSION_INT_ADDR,
	KNAT_A_SESSION_INT_PORT,
	KNAT_A_SESSION_EXT_ADDR,
	KNAT_A_SESSION_EXT_PORT,
	KNAT_A_SESSION_REM_ADDR,
	KNAT_A_SESSION_REM_PORT,
};

static const struct keyword monitor_reasons[] = {
	{ "expired",	KNAT_REASON_EXPIRED },
	{ "deleted",	KNAT_REASON_DELETED },
	{ "evicted",	KNAT_REASON_EVICTED },
};

static const struct keyword_table kw_reason = {
	.kw = monitor_reasons,
	.n = ARRAY_SIZE(monitor_reasons),
};

static const struct nl_policy monitor_ctrl_policy[CTRL_ATTR_MAX + 1] = {
	[CTRL_ATTR_FAMILY_ID]	= { .type = MNL_TYPE_U16 },
};

static volatile sig_atomic_t monitor_stop;

static void monitor_signal(int sig)
{
	(void)sig;
	monitor_stop = 1;
}

static void monitor_usage(FILE *fp)
{
	fputs("Usage: natctl monitor [ remote ]\n"
	      "\n"
	      "Prints knat's events as they happen, one line each, until\n"
	      "interrupted:\n"
	      "  TIME session-new PROTO internal ADDR:PORT external ADDR:PORT network NAME\n"
	      "  TIME session-del ... network NAME reason { expired | deleted | evicted }\n"
	      "  TIME { network-new | network-set | network-del } NAME internal PREFIX ...\n"
	      "  TIME { map-new | map-del } NETWORK PROTO EXTERNAL to INTERNAL ...\n"
	      "TIME is when the event was received, in UTC with milliseconds.\n"
	      "remote: add 'remote ADDR:PORT', the remote end, to session events\n"
	      "(left out by default, as RFC 6888 suggests for logs).\n"
	      "With -j, each event is a JSON object on a line of its own.\n"
	      "Needs CAP_NET_ADMIN.\n", fp);
}

/* The time now, in @m->time: "2026-11-23T17:02:03.123Z". */
static void monitor_stamp(struct monitor *m)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(m->time, sizeof(m->time), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(m->time + n, sizeof(m->time) - n, ".%03uZ",
		 (unsigned int)(ts.tv_nsec / 1000000) % 1000);
}

/* The start of every record: time and event. */
static void monitor_begin(struct monitor *m, const char *event)
{
	out_start_object(m->o, NULL);
	out_string(m->o, "time", "%s", m->time);
	out_string(m->o, "event", " %s", event);
}

static void monitor_end(struct monitor *m)
{
	out_text(m->o, "\n");
	out_end_object(m->o);
}

static void monitor_addr(struct out *o, const char *key, const char *fmt,
			 const struct nlattr **tb, uint16_t addr,
			 uint16_t port)
{
	char buf[ADDR_PORT_STRLEN];

	out_string(o, key, fmt,
		   format_addr_port(mnl_attr_get_u32(tb[addr]),
				    mnl_attr_get_u16(tb[port]), buf));
}

static int monitor_session(struct monitor *m, const struct nlmsghdr *nlh,
			   const char *event, bool del)
{
	const struct nlattr *tb[KNAT_A_SESSION_MAX + 1];
	char proto_num[8], reason_num[8];
	const char *proto, *reason;
	unsigned int value;
	size_t i;
	int ret;

	ret = nl_parse(nlh, session_policy, KNAT_A_SESSION_MAX, tb);
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(monitor_session_required); i++) {
		if (!tb[monitor_session_required[i]]) {
			natctl_err("a %s event lacks attribute %u", event,
				   monitor_session_required[i]);
			return -EPROTO;
		}
	}

	value = mnl_attr_get_u8(tb[KNAT_A_SESSION_PROTO]);
	proto = keyword_name_or_number(&kw_proto, value, proto_num,
				       sizeof(proto_num));
	monitor_begin(m, event);
	out_string(m->o, "proto", " %s", proto);
	monitor_addr(m->o, "internal", " internal %s", tb,
		     KNAT_A_SESSION_INT_ADDR, KNAT_A_SESSION_INT_PORT);
	monitor_addr(m->o, "external", " external %s", tb,
		     KNAT_A_SESSION_EXT_ADDR, KNAT_A_SESSION_EXT_PORT);
	if (m->remote)
		monitor_addr(m->o, "remote", " remote %s", tb,
			     KNAT_A_SESSION_REM_ADDR, KNAT_A_SESSION_REM_PORT);
	out_string(m->o, "network", " network %s",
		   mnl_attr_get_str(tb[KNAT_A_SESSION_NETWORK]));
	if (del && tb[KNAT_A_SESSION_REASON]) {
		value = mnl_attr_get_u8(tb[KNAT_A_SESSION_REASON]);
		reason = keyword_name_or_number(&kw_reason, value, reason_num,
						sizeof(reason_num));
		out_string(m->o, "reason", " reason %s", reason);
	}
	monitor_end(m);
	return 0;
}

static int monitor_network(struct monitor *m, const struct nlmsghdr *nlh,
			   const char *event)
{
	const struct nlattr *tb[KNAT_A_NETWORK_MAX + 1];
	int ret;

	ret = network_parse(nlh, tb);
	if (ret)
		return ret;
	monitor_begin(m, event);
	out_text(m->o, " ");
	network_print(m->o, tb, true);
	monitor_end(m);
	return 0;
}

static int monitor_map(struct monitor *m, const struct nlmsghdr *nlh,
		       const char *event)
{
	struct map map;
	int ret;

	ret = map_parse(nlh, &map);
	if (ret)
		return ret;
	monitor_begin(m, event);
	out_text(m->o, " ");
	map_print(m->o, &map);
	monitor_end(m);
	return 0;
}

/* The controller's notifications: only "the knat family is gone" matters. */
static void monitor_ctrl(struct monitor *m, const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];

	if (genl->cmd != CTRL_CMD_DELFAMILY ||
	    nl_parse(nlh, monitor_ctrl_policy, CTRL_ATTR_MAX, tb) ||
	    !tb[CTRL_ATTR_FAMILY_ID] ||
	    mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]) != m->family_id)
		return;
	m->gone = true;
}

/*
 * One message from the socket.  A malformed event is reported, one of a
 * newer module skipped, and monitoring goes on.
 */
static void monitor_msg(struct monitor *m, const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *genl;

	/* Netlink's own messages (an error, a no-op): nothing we asked for. */
	if (nlh->nlmsg_type < NLMSG_MIN_TYPE ||
	    mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN)
		return;
	if (nlh->nlmsg_type == GENL_ID_CTRL) {
		monitor_ctrl(m, nlh);
		return;
	}
	if (nlh->nlmsg_type != m->family_id)
		return;

	genl = mnl_nlmsg_get_payload(nlh);
	switch (genl->cmd) {
	case KNAT_CMD_SESSION_NEW:
		monitor_session(m, nlh, "session-new", false);
		break;
	case KNAT_CMD_SESSION_DEL:
		monitor_session(m, nlh, "session-del", true);
		break;
	case KNAT_CMD_NETWORK_NEW:
		monitor_network(m, nlh, "network-new");
		break;
	case KNAT_CMD_NETWORK_SET:
		monitor_network(m, nlh, "network-set");
		break;
	case KNAT_CMD_NETWORK_DEL:
		monitor_network(m, nlh, "network-del");
		break;
	case KNAT_CMD_MAP_NEW:
		monitor_map(m, nlh, "map-new");
		break;
	case KNAT_CMD_MAP_DEL:
		monitor_map(m, nlh, "map-del");
		break;
	default:
		return;		/* an event of a newer module */
	}
	fflush(m->o->fp);
}

/*
 * Joins the knat events group (and the controller's, to notice when the
 * module goes away) and makes room for bursts.
 */
static int monitor_join(struct nl *nl)
{
	struct mnl_socket *sock = nl_socket(nl);
	int fd = mnl_socket_get_fd(sock);
	int size = MONITOR_RCVBUF;
	uint32_t group;
	int ret;

	if (nl_group_id(nl, KNAT_MCGRP_EVENTS, &group)) {
		natctl_err("this knat module has no events (KNAT_FEATURE_CONTROL)");
		return -ENOENT;
	}
	if (mnl_socket_setsockopt(sock, NETLINK_ADD_MEMBERSHIP, &group,
				  sizeof(group)) < 0) {
		ret = -errno;
		natctl_err("cannot listen to knat's events: %s%s",
			   strerror(-ret),
			   ret == -EPERM ? " (CAP_NET_ADMIN is needed)" : "");
		return ret;
	}
	/* Not being told of an unload only costs the warning. */
	group = MONITOR_CTRL_NOTIFY;
	mnl_socket_setsockopt(sock, NETLINK_ADD_MEMBERSHIP, &group,
			      sizeof(group));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
		       sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return 0;
}

/*
 * Reads and prints events until SIGINT or SIGTERM (returns 0) or an error.
 * The signals are blocked but while waiting in ppoll(), so that one
 * arriving at any other time is not lost.
 */
static int monitor_loop(struct monitor *m, struct nl *nl)
{
	struct mnl_socket *sock = nl_socket(nl);
	struct pollfd pfd = { .fd = mnl_socket_get_fd(sock), .events = POLLIN };
	static char buf[MONITOR_RECV_SIZE];
	struct sigaction sa = { .sa_handler = monitor_signal };
	sigset_t block, waitmask;
	const struct nlmsghdr *nlh;
	ssize_t len;
	int rem, ret = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	while (!monitor_stop && !m->gone) {
		if (ppoll(&pfd, 1, NULL, &waitmask) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			natctl_err("cannot wait for events: %s",
				   strerror(-ret));
			break;
		}
		len = recv(pfd.fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				natctl_err("events lost (receive buffer full)");
				continue;
			}
			ret = -errno;
			natctl_err("cannot receive events: %s",
				   strerror(-ret));
			break;
		}
		monitor_stamp(m);
		rem = (int)len;
		for (nlh = (const struct nlmsghdr *)buf;
		     !m->gone && mnl_nlmsg_ok(nlh, rem);
		     nlh = mnl_nlmsg_next(nlh, &rem))
			monitor_msg(m, nlh);
		if (ferror(m->o->fp)) {
			ret = -EIO;
			break;	/* main() reports it */
		}
	}
	if (m->gone && !ret) {
		natctl_err("the knat module was unloaded");
		ret = -ENOENT;
	}
	return ret;
}

int cmd_monitor(struct ctx *ctx, int argc, char **argv)
{
	struct monitor m = { .o = &ctx->out };
	struct nl *nl;
	int i, ret;

	if (argc == 2 && natctl_is_help(argv[1])) {
		monitor_usage(stdout);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "remote"))
			return natctl_usage_err("monitor: unknown argument '%s'",
						argv[i]);
		if (m.remote)
			return natctl_usage_err("monitor: 'remote' is given twice");
		m.remote = true;
	}

	ret = natctl_nl(ctx, &nl);
	if (ret)
		goto out;
	m.family_id = nl_family_id(nl);
	ret = monitor_join(nl);
	if (ret)
		goto out;
	ret = monitor_loop(&m, nl);
out:
	return ret;
}
