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
 */
#ifndef _UAPI_LINUX_KNAT_H
#define _UAPI_LINUX_KNAT_H

#define KNAT_GENL_NAME		"knat"
#define KNAT_GENL_VERSION	1

/* Longest network name, without the terminating NUL (IFNAMSIZ - 1). */
#define KNAT_NAME_MAXLEN	15

enum knat_cmd {
	KNAT_CMD_UNSPEC,
	KNAT_CMD_GET_INFO,

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
#define KNAT_FEATURE_INFO	(1ULL << 0)	/* KNAT_CMD_GET_INFO */

#endif /* _UAPI_LINUX_KNAT_H */
