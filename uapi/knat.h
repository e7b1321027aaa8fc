/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * knat: a kernel NAT for Linux routers and container hosts.
 *
 * This header is the whole userspace protocol.  A client needs nothing else.
 *
 * Transport
 * ---------
 *
 * Generic netlink, family name KNAT_GENL_NAME ("knat"), family version
 * KNAT_GENL_VERSION.  The family is per network namespace ("netnsok"): a
 * request acts on the namespace of the socket that sends it, and every piece
 * of knat state belongs to one namespace.
 *
 * Every request carries a struct genlmsghdr with .cmd set to one of
 * enum knat_cmd and .version set to KNAT_GENL_VERSION.  Requests should set
 * NLM_F_ACK and the socket option NETLINK_EXT_ACK: on failure the kernel
 * answers with a negative errno and an extended-ack message that says why,
 * and, where one attribute is at fault, which one (NLMSGERR_ATTR_OFFS).
 * A request that fails changes nothing.
 *
 * Compatibility
 * -------------
 *
 * Commands and attributes are only ever added, never renumbered or given a
 * new meaning.  The kernel validates every attribute strictly (exact lengths,
 * ranges, NUL-terminated strings of bounded length) and rejects attributes it
 * does not know with -EINVAL and an extack naming the attribute; a client
 * that uses a newer attribute against an older module therefore gets a clear
 * refusal, never a silent partial success.  KNAT_A_INFO_FEATURES lets a
 * client ask before it tries.
 *
 * Permissions
 * -----------
 *
 * Commands marked [admin] need CAP_NET_ADMIN in the user namespace that owns
 * the network namespace (GENL_UNS_ADMIN_PERM); the others may be called by
 * anyone who can open a generic netlink socket in the namespace.
 *
 * Commands
 * --------
 *
 * KNAT_CMD_GET_INFO
 *   Request: no attributes.
 *   Reply (one message, .cmd = KNAT_CMD_GET_INFO):
 *     KNAT_A_INFO_VERSION   NLA_NUL_STRING  module version, e.g. "0.1.0",
 *                                           at most 31 characters
 *     KNAT_A_INFO_FEATURES  NLA_U64         bitmask of KNAT_FEATURE_*
 *     KNAT_A_INFO_NETWORKS  NLA_U32         NAT networks in this namespace
 *
 * KNAT_CMD_NETWORK_NEW [admin]
 *   Create a NAT network.  Attributes (enum knat_network_attr):
 *     KNAT_A_NETWORK_NAME        NLA_NUL_STRING  required, 1 to
 *                                                KNAT_NAME_MAXLEN characters
 *                                                of [A-Za-z0-9_.-]
 *     KNAT_A_NETWORK_PREFIX      NLA_BE32        required, internal prefix,
 *                                                network byte order, no host
 *                                                bits set
 *     KNAT_A_NETWORK_PREFIX_LEN  NLA_U8          required, 1 to 32
 *     exactly one of
 *       KNAT_A_NETWORK_EXT_DEV   NLA_NUL_STRING  an interface: its primary
 *                                                IPv4 address is used, and
 *                                                followed when it changes
 *       KNAT_A_NETWORK_EXT_ADDRS NLA_NESTED      a pool: 1 to
 *                                                KNAT_EXT_ADDRS_MAX
 *                                                KNAT_A_EXT_ADDR (NLA_BE32)
 *     and, optionally, every attribute of KNAT_CMD_NETWORK_SET.
 *   Refused with -EEXIST when the name is taken; -EINVAL when the prefix
 *   overlaps another network's or contains an external address (the
 *   extack names the other network).
 *
 * KNAT_CMD_NETWORK_SET [admin]
 *   Change a network: KNAT_A_NETWORK_NAME (required) and any of
 *     KNAT_A_NETWORK_EXT_DEV or KNAT_A_NETWORK_EXT_ADDRS (as above)
 *     KNAT_A_NETWORK_PORT_MIN,
 *     KNAT_A_NETWORK_PORT_MAX    NLA_U16         the external port range, in
 *                                                host byte order, 1 to 65535;
 *                                                both or neither; 0 and 0
 *                                                mean the default: the larger
 *                                                part of 1024-65535 outside
 *                                                the namespace's
 *                                                ip_local_port_range
 *     KNAT_A_NETWORK_FILTERING   NLA_U8          enum knat_filtering
 *                                                (default address-dependent)
 *     KNAT_A_NETWORK_MAX_SESSIONS NLA_U32        1 to 2^24 (default: scaled
 *                                                to memory, see the README)
 *     KNAT_A_NETWORK_HOST_MAX_SESSIONS NLA_U32   per internal host,
 *                                                0 = no limit (default)
 *     KNAT_A_NETWORK_UDP_INBOUND_REFRESH NLA_U8  0 (default) or 1
 *     KNAT_A_NETWORK_HAIRPIN     NLA_U8          1 (default) or 0: an
 *                                                internal host reaching an
 *                                                external address and a
 *                                                mapped port is translated
 *                                                both ways (see Hairpinning)
 *     KNAT_A_NETWORK_INBOUND_SHARE NLA_U8        1 to 100 (default 50): the
 *                                                percentage of
 *                                                MAX_SESSIONS that sessions
 *                                                opened from outside
 *                                                (through a mapping or the
 *                                                filtering) may hold, so
 *                                                that they never crowd out
 *                                                the inside
 *     KNAT_A_NETWORK_TIMEOUT_TCP_EST,
 *     KNAT_A_NETWORK_TIMEOUT_TCP_TRANS,
 *     KNAT_A_NETWORK_TIMEOUT_UDP,
 *     KNAT_A_NETWORK_TIMEOUT_ICMP,
 *     KNAT_A_NETWORK_TIMEOUT_TCP_SYN,
 *     KNAT_A_NETWORK_TIMEOUT_OTHER NLA_U32       seconds, 1 to 2592000
 *                                                (defaults 7440, 240, 300,
 *                                                60, 30, 600)
 *   TCP_TRANS is the transitory timeout of a connection opened from inside
 *   before it is established and of every closing one (FIN or RST seen);
 *   TCP_SYN that of a connection opened from outside until its handshake
 *   completes (an embryonic session, see "TCP from outside" below);
 *   OTHER that of the other IP protocols (see "Other protocols" below).
 *   Live sessions are re-timed with the new timeouts.  Sessions whose
 *   external address is no longer the network's are flushed.
 *   -ENOENT when there is no such network.
 *
 * KNAT_CMD_NETWORK_DEL [admin]
 *   KNAT_A_NETWORK_NAME (required).  The network's sessions go with it.
 *
 * KNAT_CMD_NETWORK_GET
 *   With KNAT_A_NETWORK_NAME: one network (a doit); with NLM_F_DUMP and no
 *   attributes: every network of the namespace, one message each.  Each
 *   reply carries every attribute above that is set (PORT_MIN/PORT_MAX only
 *   when not the default; EXT_ADDRS also in EXT_DEV mode, holding the
 *   address in use, or empty when the interface has none) and
 *     KNAT_A_NETWORK_ID          NLA_U32         stable while it exists
 *     KNAT_A_NETWORK_SESSIONS    NLA_U32         sessions now
 *
 * KNAT_CMD_SESSION_GET [admin] (dump only)
 *   Filters in the request, all optional, all of them must match
 *   (enum knat_session_attr):
 *     KNAT_A_SESSION_NETWORK     NLA_NUL_STRING  only this network's
 *     KNAT_A_SESSION_PROTO       NLA_U8          IPPROTO_TCP, _UDP or _ICMP
 *     KNAT_A_SESSION_INT_ADDR, KNAT_A_SESSION_EXT_ADDR,
 *     KNAT_A_SESSION_REM_ADDR    NLA_BE32        this internal, external or
 *                                                remote address
 *     KNAT_A_SESSION_INT_PORT, KNAT_A_SESSION_EXT_PORT,
 *     KNAT_A_SESSION_REM_PORT    NLA_U16         this port (with or without
 *                                                its address)
 *   One message per session:
 *     KNAT_A_SESSION_NETWORK     NLA_NUL_STRING
 *     KNAT_A_SESSION_PROTO       NLA_U8
 *     KNAT_A_SESSION_INT_ADDR, KNAT_A_SESSION_EXT_ADDR,
 *     KNAT_A_SESSION_REM_ADDR    NLA_BE32        internal host, its external
 *                                                address, the remote host
 *     KNAT_A_SESSION_INT_PORT, KNAT_A_SESSION_EXT_PORT,
 *     KNAT_A_SESSION_REM_PORT    NLA_U16         host byte order; for ICMP
 *                                                the echo identifier (the
 *                                                remote's is 0)
 *     KNAT_A_SESSION_STATE       NLA_U8          enum knat_session_state
 *     KNAT_A_SESSION_EXPIRES     NLA_U32         milliseconds until expiry
 *   An unknown network filter fails with -ENOENT.
 *
 *   A dump runs over the live table without holding a lock across it and
 *   may span many messages.  Sessions created or removed meanwhile may or
 *   may not appear; when the table is resized under the dump, its messages
 *   from then on carry NLM_F_DUMP_INTR and the client should dump again.
 *   A session can appear twice in one dump: clients dedupe on
 *   (PROTO, INT_ADDR, INT_PORT, REM_ADDR, REM_PORT), which is unique.
 *
 * KNAT_CMD_SESSION_FLUSH [admin]
 *   Delete every session matching the filters of KNAT_CMD_SESSION_GET
 *   (none: every session).
 *
 * KNAT_CMD_LOOKUP [admin]
 *   Given a flow as seen on either side of the NAT, the other side (what
 *   ipnat's natlookup does, and a transparent proxy needs):
 *     KNAT_A_SESSION_PROTO       NLA_U8          required
 *     KNAT_A_SESSION_SRC_ADDR, KNAT_A_SESSION_DST_ADDR
 *                                NLA_BE32        required
 *     KNAT_A_SESSION_SRC_PORT, KNAT_A_SESSION_DST_PORT
 *                                NLA_U16         required (ICMP: the echo
 *                                                identifier, and 0)
 *   A flow from the inside (SRC = internal, DST = remote) or from the
 *   outside (SRC = remote, DST = external) is looked up; for ICMP the
 *   remote's port is 0 (inside: SRC_PORT = identifier, DST_PORT = 0;
 *   outside: SRC_PORT = 0, DST_PORT = external identifier).  Reply: one
 *   message like a KNAT_CMD_SESSION_GET dump message.  -ENOENT when no
 *   session matches.
 *
 * KNAT_CMD_STATS_GET (dump only)
 *   Request: optionally KNAT_A_STATS_NETWORK to ask for one network.
 *   One message per network, with KNAT_A_STATS_NETWORK, then (without a
 *   network filter) one for the whole namespace, without it.  Each has
 *     KNAT_A_STATS_COUNTERS      NLA_NESTED      one NLA_U64 per counter,
 *                                                its type an enum
 *                                                knat_counter; unknown types
 *                                                are newer counters, type 0
 *                                                (KNAT_CNT_UNSPEC) is padding
 *   The namespace's record counts everything, including packets that
 *   belong to no network (e.g. malformed ones) and those of networks
 *   since deleted: its counters never go backwards but for a reset.  KNAT_CNT_BYTES_IN_USE is
 *   only in the namespace's record: networks share the memory.
 *
 * KNAT_CMD_STATS_RESET [admin]
 *   Set the counters (not the gauges SESSIONS_ACTIVE, BYTES_IN_USE) of
 *   network KNAT_A_STATS_NETWORK, or without it of every network and of
 *   the namespace, to zero.  Resetting one network leaves the namespace's
 *   record as it was: the network's counts move into it.
 *
 * KNAT_CMD_CONFIG_APPLY [admin]
 *   Apply many changes as one transaction: either all of them take effect,
 *   at once for the packet path, or none does.
 *     KNAT_A_CONFIG_FLUSH        NLA_FLAG        first delete every network
 *                                                (the changes below then
 *                                                build the whole
 *                                                configuration anew)
 *     KNAT_A_CONFIG_OPS          NLA_NESTED      the changes, in order, each
 *                                                a KNAT_A_CONFIG_OP; at most
 *                                                64 KiB of them (a nest's
 *                                                length is 16 bits): about
 *                                                a thousand networks
 *     KNAT_A_CONFIG_OP           NLA_NESTED      repeated at the top level:
 *                                                more changes, after those
 *                                                of KNAT_A_CONFIG_OPS, in
 *                                                order; no size limit but
 *                                                the message's
 *                                                (KNAT_FEATURE_MAPS)
 *   KNAT_A_CONFIG_OP (NLA_NESTED, enum knat_op_attr):
 *     KNAT_A_OP_CMD              NLA_U8          KNAT_CMD_NETWORK_NEW,
 *                                                _SET, _DEL, KNAT_CMD_MAP_NEW
 *                                                or _DEL
 *     KNAT_A_OP_ATTRS            NLA_NESTED      that command's attributes
 *   A network deleted (or flushed) and created again in one transaction
 *   with the same internal prefix is the same network: it keeps its
 *   sessions (but those on external addresses it no longer has) and its
 *   counters.  On failure the extack names the reason, and its offending
 *   attribute points into the failed KNAT_A_CONFIG_OP.
 *   A network's mappings go with it when it is deleted; one created again
 *   alike keeps those of its mappings that are added again alike, with
 *   their sessions and counters.
 *   KNAT_CMD_NETWORK_NEW, _SET, _DEL, KNAT_CMD_MAP_NEW and _DEL are
 *   transactions of one change.
 *
 * KNAT_CMD_MAP_NEW [admin]
 *   A static mapping of network KNAT_A_MAP_NETWORK (enum knat_map_attr):
 *     KNAT_A_MAP_NETWORK         NLA_NUL_STRING  required
 *     KNAT_A_MAP_PROTO           NLA_U8          required: IPPROTO_TCP or
 *                                                IPPROTO_UDP for a port
 *                                                mapping, 0 for a 1:1
 *                                                mapping of every protocol
 *     KNAT_A_MAP_EXT_ADDR        NLA_BE32        the external address;
 *                                                required for 1:1, else
 *                                                optional: without it, the
 *                                                network's first external
 *                                                address (followed when it
 *                                                changes)
 *     KNAT_A_MAP_EXT_PORT_MIN,
 *     KNAT_A_MAP_EXT_PORT_MAX    NLA_U16         port mappings: the external
 *                                                ports, 1 to 65535; MIN
 *                                                required, MAX defaults to
 *                                                MIN
 *     KNAT_A_MAP_INT_ADDR        NLA_BE32        required, inside the
 *                                                network's prefix
 *     KNAT_A_MAP_INT_PORT_MIN,
 *     KNAT_A_MAP_INT_PORT_MAX    NLA_U16         port mappings: the internal
 *                                                ports; without them the
 *                                                external ones; MIN alone
 *                                                is one port that the whole
 *                                                external range goes to;
 *                                                both: a range as long as
 *                                                the external one, port
 *                                                for port
 *     KNAT_A_MAP_REM_PREFIX      NLA_BE32        port mappings, optional:
 *     KNAT_A_MAP_REM_PREFIX_LEN  NLA_U8          only remote hosts in this
 *                                                prefix (0 to 32, no host
 *                                                bits) may use the mapping
 *   A port mapping lets new inbound TCP or UDP flows to its external ports
 *   in, whatever the network's filtering, each with a session (replies go
 *   back out through it).  Its ports are never handed out to dynamic
 *   flows; a dynamic mapping that holds one of them when the mapping is
 *   added keeps it until its last session ends, and the static mapping
 *   takes effect for that port then.  A 1:1 mapping translates every
 *   packet (every protocol, ports unchanged, no sessions) between its two
 *   addresses; the internal host's outbound flows use its external
 *   address.  Refused with -EEXIST when an external port (or, for 1:1,
 *   the external or internal address) is another mapping's (the extack
 *   names it); -EINVAL for an internal address outside the prefix,
 *   ranges of unequal length, a 1:1 external address that is a network's
 *   external address or a port mapping's, or ports on a 1:1 mapping;
 *   -ENOENT for an unknown network.
 *
 * KNAT_CMD_MAP_DEL [admin]
 *   KNAT_A_MAP_NETWORK, KNAT_A_MAP_PROTO, KNAT_A_MAP_EXT_ADDR (as given to
 *   MAP_NEW, absent when it was) and, for port mappings,
 *   KNAT_A_MAP_EXT_PORT_MIN (and, if given, _MAX, which must then match)
 *   name the mapping.  Its sessions end.  -ENOENT when there is none.
 *
 * KNAT_CMD_MAP_GET (dump only)
 *   Optionally KNAT_A_MAP_NETWORK: only that network's (-ENOENT if it does
 *   not exist).  One message per mapping with the attributes of MAP_NEW as
 *   given (EXT_PORT_MAX, INT_PORT_MIN and _MAX always, for port mappings)
 *   and
 *     KNAT_A_MAP_EXT_ADDR_NOW    NLA_BE32        the external address in
 *                                                use (absent when the
 *                                                network has none)
 *     KNAT_A_MAP_PACKETS         NLA_U64         packets translated through
 *                                                it, both ways
 *     KNAT_A_MAP_SESSIONS        NLA_U64         sessions it created (port
 *                                                mappings)
 *
 * Hairpinning and host loopback
 * -----------------------------
 *
 * A packet from an internal host to an external address and a mapped port
 * (a static mapping, or a dynamic one that the target's filtering lets
 * this flow into) is translated at once both ways (RFC 4787 REQ-9, RFC
 * 5382 REQ-8, RFC 5508 REQ-7): the target sees it come from the client's
 * external address and port.  KNAT_A_NETWORK_HAIRPIN 0 turns this off for
 * clients of that network.  A process of the NAT host itself that connects
 * to an external address and a mapped port (of a port mapping, or a
 * dynamic one) reaches the target likewise, from its own address and port
 * (host loopback).  Both are for TCP and UDP, and hairpinning also for
 * ICMP echo to a 1:1 mapping's address (RFC 5508 REQ-7); a 1:1 mapping's
 * address is not looped back (to the host it is the host's own).
 * Counted in KNAT_CNT_HAIRPINNED and KNAT_CNT_LOOPBACK.  A hairpinned
 * packet gets its new destination at PREROUTING and its new source at
 * FORWARD, as with nf_nat: a conntrack firewall on the router sees one
 * flow between the two internal hosts.  Between two 1:1-mapped hosts
 * (no session) both are rewritten at PREROUTING, and conntrack sees each
 * direction as a flow of its own; such packets crossing a bridge under
 * br_netfilter are dropped (KNAT_CNT_DROP_BRIDGED_HAIRPIN).
 *
 * Events
 * ------
 *
 * The multicast group KNAT_MCGRP_EVENTS ("events") carries, per network
 * namespace, a message for each change as it happens; listening needs
 * CAP_NET_ADMIN in the namespace's user namespace:
 *   .cmd = KNAT_CMD_NETWORK_NEW, _SET, _DEL   a network was created,
 *                                            changed, deleted; attributes
 *                                            as KNAT_CMD_NETWORK_GET
 *   .cmd = KNAT_CMD_MAP_NEW, _DEL            a mapping was added, deleted;
 *                                            attributes as KNAT_CMD_MAP_GET
 *   .cmd = KNAT_CMD_SESSION_NEW              a session was created
 *   .cmd = KNAT_CMD_SESSION_DEL              a session ended; attributes
 *                                            as KNAT_CMD_SESSION_GET and
 *                                            KNAT_A_SESSION_REASON
 *                                            (enum knat_session_reason)
 * Events are best effort: a listener that does not keep up loses some
 * (its socket reports ENOBUFS).
 */
#ifndef _UAPI_LINUX_KNAT_H
#define _UAPI_LINUX_KNAT_H

#include <linux/const.h>

#define KNAT_GENL_NAME		"knat"
#define KNAT_GENL_VERSION	1

/* Longest network name, without the terminating NUL (IFNAMSIZ - 1). */
#define KNAT_NAME_MAXLEN	15

enum knat_cmd {
	KNAT_CMD_UNSPEC,
	KNAT_CMD_GET_INFO,
	KNAT_CMD_NETWORK_NEW,
	KNAT_CMD_NETWORK_SET,
	KNAT_CMD_NETWORK_DEL,
	KNAT_CMD_NETWORK_GET,
	KNAT_CMD_SESSION_GET,
	KNAT_CMD_SESSION_FLUSH,
	KNAT_CMD_STATS_GET,
	KNAT_CMD_LOOKUP,
	KNAT_CMD_STATS_RESET,
	KNAT_CMD_CONFIG_APPLY,
	KNAT_CMD_SESSION_NEW,		/* events only */
	KNAT_CMD_SESSION_DEL,		/* events only */
	KNAT_CMD_MAP_NEW,
	KNAT_CMD_MAP_DEL,
	KNAT_CMD_MAP_GET,

	__KNAT_CMD_MAX,
};

#define KNAT_CMD_MAX (__KNAT_CMD_MAX - 1)

/* Top-level attributes of KNAT_CMD_GET_INFO replies. */
enum knat_info_attr {
	KNAT_A_INFO_UNSPEC,
	KNAT_A_INFO_VERSION,
	KNAT_A_INFO_FEATURES,
	KNAT_A_INFO_NETWORKS,
	KNAT_A_INFO_PAD,

	__KNAT_A_INFO_MAX,
};

#define KNAT_A_INFO_MAX (__KNAT_A_INFO_MAX - 1)

/*
 * Bits of KNAT_A_INFO_FEATURES: what this module implements.  A bit is set
 * only when every command and attribute of that feature is available.
 */
#define KNAT_FEATURE_INFO	_BITULL(0)	/* KNAT_CMD_GET_INFO */
#define KNAT_FEATURE_NETWORKS	_BITULL(1)	/* NETWORK_*, SESSION_*, STATS */
#define KNAT_FEATURE_CONTROL	_BITULL(2)	/* LOOKUP, STATS_RESET,
						 * CONFIG_APPLY, events,
						 * session filters
						 */
#define KNAT_FEATURE_MAPS	_BITULL(3)	/* MAP_*, hairpin, top-level ops */

#define KNAT_MCGRP_EVENTS	"events"

/* Most addresses in one network's pool. */
#define KNAT_EXT_ADDRS_MAX	16

enum knat_network_attr {
	KNAT_A_NETWORK_UNSPEC,
	KNAT_A_NETWORK_NAME,
	KNAT_A_NETWORK_ID,
	KNAT_A_NETWORK_PREFIX,
	KNAT_A_NETWORK_PREFIX_LEN,
	KNAT_A_NETWORK_EXT_DEV,
	KNAT_A_NETWORK_EXT_ADDRS,
	KNAT_A_NETWORK_PORT_MIN,
	KNAT_A_NETWORK_PORT_MAX,
	KNAT_A_NETWORK_FILTERING,
	KNAT_A_NETWORK_MAX_SESSIONS,
	KNAT_A_NETWORK_HOST_MAX_SESSIONS,
	KNAT_A_NETWORK_UDP_INBOUND_REFRESH,
	KNAT_A_NETWORK_TIMEOUT_TCP_EST,
	KNAT_A_NETWORK_TIMEOUT_TCP_TRANS,
	KNAT_A_NETWORK_TIMEOUT_UDP,
	KNAT_A_NETWORK_TIMEOUT_ICMP,
	KNAT_A_NETWORK_SESSIONS,
	KNAT_A_NETWORK_HAIRPIN,
	KNAT_A_NETWORK_TIMEOUT_TCP_SYN,
	KNAT_A_NETWORK_INBOUND_SHARE,
	KNAT_A_NETWORK_TIMEOUT_OTHER,

	__KNAT_A_NETWORK_MAX,
};

#define KNAT_A_NETWORK_MAX (__KNAT_A_NETWORK_MAX - 1)

/* Inside KNAT_A_NETWORK_EXT_ADDRS. */
enum knat_ext_addr_attr {
	KNAT_A_EXT_ADDR_UNSPEC,
	KNAT_A_EXT_ADDR,

	__KNAT_A_EXT_ADDR_MAX,
};

#define KNAT_A_EXT_ADDR_MAX (__KNAT_A_EXT_ADDR_MAX - 1)

/* Which inbound packets a mapping lets in (RFC 4787 REQ-8). */
enum knat_filtering {
	KNAT_FILTER_ENDPOINT_INDEPENDENT,	/* anyone */
	KNAT_FILTER_ADDRESS_DEPENDENT,		/* hosts it sent to */
	KNAT_FILTER_ADDRESS_PORT_DEPENDENT,	/* addr:port it sent to */

	__KNAT_FILTER_MAX,
};

#define KNAT_FILTER_MAX (__KNAT_FILTER_MAX - 1)

enum knat_session_attr {
	KNAT_A_SESSION_UNSPEC,
	KNAT_A_SESSION_NETWORK,
	KNAT_A_SESSION_PROTO,
	KNAT_A_SESSION_INT_ADDR,
	KNAT_A_SESSION_INT_PORT,
	KNAT_A_SESSION_EXT_ADDR,
	KNAT_A_SESSION_EXT_PORT,
	KNAT_A_SESSION_REM_ADDR,
	KNAT_A_SESSION_REM_PORT,
	KNAT_A_SESSION_STATE,
	KNAT_A_SESSION_EXPIRES,
	KNAT_A_SESSION_SRC_ADDR,	/* KNAT_CMD_LOOKUP requests */
	KNAT_A_SESSION_SRC_PORT,
	KNAT_A_SESSION_DST_ADDR,
	KNAT_A_SESSION_DST_PORT,
	KNAT_A_SESSION_REASON,		/* KNAT_CMD_SESSION_DEL events */

	__KNAT_A_SESSION_MAX,
};

#define KNAT_A_SESSION_MAX (__KNAT_A_SESSION_MAX - 1)

/*
 * A session's state.  TCP sessions follow the handshake and teardown
 * (RFC 7857): ESTABLISHED uses the established timeout; a connection
 * opened from outside that never completed its handshake the tcp-syn one
 * (whatever it has seen since: it is embryonic); every other TCP state the
 * transitory one.  UDP and ICMP sessions are always ACTIVE.
 *
 * Other protocols (RFC 5508 REQ-4): nothing leaves a network with an
 * internal address.  IP protocols other than TCP, UDP and ICMP (GRE, ESP,
 * SCTP, ...) are translated by address alone, as nf_nat's generic
 * protocol: a session per protocol, internal and remote address (ports 0
 * in dumps), made from inside only, replies translated back; a second
 * internal host on the same external address talking the same protocol
 * to the same remote host cannot be told apart and is dropped
 * (KNAT_CNT_DROP_NO_PORT).  UDP-Lite and DCCP keep their checksums right.
 * ICMP queries with an identifier (echo, timestamp, information, address
 * mask) are translated like echo; other ICMP messages from inside, and
 * errors about a later fragment or about another error, are dropped
 * (KNAT_CNT_DROP_UNTRANSLATABLE), as is an error about no session
 * (KNAT_CNT_DROP_FILTERED).
 *
 * Spoofed internal sources (BCP 38): whatever rp_filter says, a packet
 * whose source is in a network's internal prefix makes a session, and is
 * hairpinned, only when it came in on the interface the route to that
 * source leaves by; otherwise it is dropped (KNAT_CNT_DROP_SPOOFED).
 * Packets of existing sessions are not checked (a FIB lookup per packet).
 *
 * TCP from outside (RFC 5382 REQ-4, RFC 5961, RFC 7857):
 *  - only a SYN (no ACK, RST or FIN) opens a session from outside; any
 *    other segment to a mapping with no session is dropped
 *    (KNAT_CNT_DROP_TCP_NO_SYN);
 *  - such a session is embryonic until the outside acknowledges the
 *    internal host's SYN/ACK (an ACK within 64 KiB above the SYN/ACK's
 *    sequence number); an inbound segment of an embryonic session that
 *    acknowledges anything else is dropped (KNAT_CNT_DROP_TCP_INVALID);
 *  - an RST from outside changes a session's state only when it is in the
 *    window: after a SYN from inside, an RST that acknowledges it; once
 *    established, one whose sequence number is within 64 KiB above the
 *    last acknowledgment the internal host sent.  Others are dropped
 *    (KNAT_CNT_DROP_TCP_INVALID); the internal host's own RFC 5961 checks
 *    still apply to those passed;
 *  - from inside, an RST or a SYN/ACK with no session makes none: it is
 *    dropped (KNAT_CNT_DROP_TCP_INVALID); the SYN it would answer had a
 *    session that is gone (evicted, expired);
 *  - sessions opened from outside hold at most INBOUND_SHARE percent of
 *    MAX_SESSIONS (KNAT_CNT_DROP_INBOUND_LIMIT past it); when a new flow
 *    finds the table or that share full, the oldest embryonic session of
 *    the network is evicted for it (KNAT_CNT_SESSIONS_EVICTED, event
 *    reason KNAT_REASON_EVICTED).  Established sessions are never evicted.
 */
enum knat_session_state {
	KNAT_STATE_ACTIVE,		/* UDP, ICMP */
	KNAT_STATE_SYN_SENT,		/* SYN out, nothing back yet */
	KNAT_STATE_SYN_RECV,		/* SYN in (through a mapping) */
	KNAT_STATE_ESTABLISHED,
	KNAT_STATE_FIN_WAIT,		/* FIN seen one way */
	KNAT_STATE_CLOSING,		/* FIN seen both ways */
	KNAT_STATE_CLOSED,		/* RST seen */

	__KNAT_STATE_MAX,
};

#define KNAT_STATE_MAX (__KNAT_STATE_MAX - 1)

/* Why a session ended. */
enum knat_session_reason {
	KNAT_REASON_EXPIRED,		/* timed out */
	KNAT_REASON_DELETED,		/* flushed, or its network changed */
	KNAT_REASON_EVICTED,		/* embryonic, made room for a new flow */

	__KNAT_REASON_MAX,
};

#define KNAT_REASON_MAX (__KNAT_REASON_MAX - 1)

enum knat_map_attr {
	KNAT_A_MAP_UNSPEC,
	KNAT_A_MAP_NETWORK,
	KNAT_A_MAP_PROTO,
	KNAT_A_MAP_EXT_ADDR,
	KNAT_A_MAP_EXT_PORT_MIN,
	KNAT_A_MAP_EXT_PORT_MAX,
	KNAT_A_MAP_INT_ADDR,
	KNAT_A_MAP_INT_PORT_MIN,
	KNAT_A_MAP_INT_PORT_MAX,
	KNAT_A_MAP_REM_PREFIX,
	KNAT_A_MAP_REM_PREFIX_LEN,
	KNAT_A_MAP_EXT_ADDR_NOW,
	KNAT_A_MAP_PACKETS,
	KNAT_A_MAP_SESSIONS,
	KNAT_A_MAP_PAD,

	__KNAT_A_MAP_MAX,
};

#define KNAT_A_MAP_MAX (__KNAT_A_MAP_MAX - 1)

enum knat_stats_attr {
	KNAT_A_STATS_UNSPEC,
	KNAT_A_STATS_NETWORK,
	KNAT_A_STATS_COUNTERS,

	__KNAT_A_STATS_MAX,
};

#define KNAT_A_STATS_MAX (__KNAT_A_STATS_MAX - 1)

/* Attribute types inside KNAT_A_STATS_COUNTERS, each an NLA_U64. */
enum knat_counter {
	KNAT_CNT_UNSPEC,
	KNAT_CNT_TRANSLATED_OUT,	/* packets translated on the way out */
	KNAT_CNT_TRANSLATED_IN,		/* packets translated on the way in */
	KNAT_CNT_SESSIONS_ADDED,
	KNAT_CNT_SESSIONS_EXPIRED,	/* timed out */
	KNAT_CNT_SESSIONS_DELETED,	/* flushed, or their network changed */
	KNAT_CNT_SESSIONS_ACTIVE,	/* a gauge */
	KNAT_CNT_DROP_TABLE_FULL,	/* new flow, max-sessions reached */
	KNAT_CNT_DROP_HOST_LIMIT,	/* new flow, host-max-sessions reached */
	KNAT_CNT_DROP_NO_PORT,		/* new flow, no free external port */
	KNAT_CNT_DROP_FILTERED,		/* inbound, refused by filtering */
	KNAT_CNT_DROP_MALFORMED,	/* headers that could not be parsed */
	KNAT_CNT_ICMP_ERRORS_TRANSLATED,
	KNAT_CNT_BYTES_IN_USE,		/* a gauge: session and mapping memory */
	KNAT_CNT_DROP_NOMEM,		/* new flow, out of memory */
	KNAT_CNT_HAIRPINNED,		/* inside to inside, through the
					 * external address
					 */
	KNAT_CNT_LOOPBACK,		/* the host to inside, through the
					 * external address, and back
					 */
	KNAT_CNT_DROP_TCP_NO_SYN,	/* inbound TCP, no session, not a SYN */
	KNAT_CNT_DROP_TCP_INVALID,	/* inbound TCP out of the handshake or
					 * window of its session; outbound RST
					 * or SYN/ACK with no session
					 */
	KNAT_CNT_DROP_INBOUND_LIMIT,	/* new inbound flow, the inbound share
					 * of max-sessions is held by
					 * established sessions
					 */
	KNAT_CNT_SESSIONS_EVICTED,	/* embryonic, for a new flow */
	KNAT_CNT_DROP_UNTRANSLATABLE,	/* from inside, cannot be translated:
					 * ICMP neither query nor error, an
					 * error about a later fragment or
					 * about an error
					 */
	KNAT_CNT_DROP_SPOOFED,		/* an internal source on a packet that
					 * came in where that source is not
					 * routed (reverse path)
					 */
	KNAT_CNT_DROP_BRIDGED_HAIRPIN,	/* a packet to hairpin that crosses
					 * the IPv4 hooks inside a bridge
					 * (br_netfilter) and had to be
					 * translated both ways at PREROUTING
					 * (between two 1:1-mapped hosts):
					 * cannot be routed after that
					 */

	__KNAT_CNT_MAX,
};

#define KNAT_CNT_MAX (__KNAT_CNT_MAX - 1)

enum knat_config_attr {
	KNAT_A_CONFIG_UNSPEC,
	KNAT_A_CONFIG_FLUSH,
	KNAT_A_CONFIG_OPS,
	KNAT_A_CONFIG_OP,		/* inside KNAT_A_CONFIG_OPS */

	__KNAT_A_CONFIG_MAX,
};

#define KNAT_A_CONFIG_MAX (__KNAT_A_CONFIG_MAX - 1)

enum knat_op_attr {
	KNAT_A_OP_UNSPEC,
	KNAT_A_OP_CMD,
	KNAT_A_OP_ATTRS,

	__KNAT_A_OP_MAX,
};

#define KNAT_A_OP_MAX (__KNAT_A_OP_MAX - 1)

#endif /* _UAPI_LINUX_KNAT_H */
