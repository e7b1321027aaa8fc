/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One generic netlink socket bound to one family.
 *
 *	ret = nl_open(&nl, KNAT_GENL_NAME, KNAT_GENL_VERSION);
 *	nlh = nl_req_start(nl, KNAT_CMD_GET_INFO, 0);
 *	(add attributes with mnl_attr_put_*_check(nlh, NL_REQ_SIZE, ...))
 *	ret = nl_req_send(nl, nlh, reply_cb, data);
 *	nl_close(nl);
 *
 * nl_req_send() calls reply_cb once for every message of the reply, a
 * single one for a plain request or many for NLM_F_DUMP, and returns when
 * the kernel's acknowledgment or NLMSG_DONE arrives.  It prints the
 * kernel's error, with its extended-ack message, itself.
 */
#ifndef NATCTL_NL_H
#define NATCTL_NL_H

#include <stdbool.h>
#include <stdint.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

/* Room for one request, headers included. */
#define NL_REQ_SIZE	32768

struct nl;

/* Called for each reply message; returns 0 or a negative errno. */
typedef int (*nl_msg_cb_t)(const struct nlmsghdr *nlh, void *data);

/*
 * Opens a socket and resolves @family; requests will carry @version.
 * Returns 0 or a negative errno and prints a message for every error
 * except -ENOENT (the family does not exist), which the caller words for
 * the user.
 */
int nl_open(struct nl **nlp, const char *family, uint8_t version);
void nl_close(struct nl *nl);

uint32_t nl_family_version(const struct nl *nl);
uint32_t nl_family_maxattr(const struct nl *nl);
uint16_t nl_family_id(const struct nl *nl);
/* The id of the family's multicast group @name, or -ENOENT. */
int nl_group_id(const struct nl *nl, const char *name, uint32_t *id);
/* The socket, to join groups and read their messages (monitor). */
struct mnl_socket *nl_socket(const struct nl *nl);

struct nlmsghdr *nl_req_start(struct nl *nl, uint8_t cmd, uint16_t flags);
int nl_req_send(struct nl *nl, struct nlmsghdr *nlh, nl_msg_cb_t cb,
		void *data);

/*
 * A request built in @buf (4-byte aligned), before the socket is open, so
 * that its arguments are checked before anything is sent; it gets the
 * family's id and version when sent.  A request larger than NL_REQ_SIZE
 * is built this way too.
 */
struct nlmsghdr *nl_req_init(void *buf, uint8_t cmd, uint16_t flags);

/* How a request ended, for callers that word the kernel's answer. */
struct nl_ack {
	int error;			/* the kernel's: 0 or a negative errno */
	bool dump_intr;			/* a message had NLM_F_DUMP_INTR */
	const char *msg;		/* the extended ack's, or NULL */
	const struct nlattr *offs;	/* NLMSGERR_ATTR_OFFS, or NULL */
	const struct nlattr *miss_type;	/* NLMSGERR_ATTR_MISS_TYPE */
	const struct nlattr *miss_nest;	/* NLMSGERR_ATTR_MISS_NEST */
};

/*
 * As nl_req_send(), but the kernel's error is left in @ack unprinted
 * (nl_report() prints it as nl_req_send() does), and NLM_F_DUMP_INTR is
 * not an error either.  Returns 0 when the exchange completed, or the
 * negative errno of a local failure or of @cb, already reported.  @ack
 * points into the socket's buffer: it is valid until the next request.
 */
int nl_req_exchange(struct nl *nl, struct nlmsghdr *nlh, nl_msg_cb_t cb,
		    void *data, struct nl_ack *ack);
void nl_report(const struct nlmsghdr *nlh, const struct nl_ack *ack);

/*
 * Attribute parsing.  A policy lists, per attribute type, what the reply
 * must carry.  For MNL_TYPE_NUL_STRING, len is the longest string allowed
 * (0: any); for MNL_TYPE_BINARY, the exact payload length (0: any); for
 * other types it is unused.  Attributes above maxtype, or with type
 * MNL_TYPE_UNSPEC in the policy (padding), are ignored: a newer module may
 * send more than we know.
 */
struct nl_policy {
	enum mnl_attr_data_type type;
	uint16_t len;
};

/* A session's attributes (session.c), for dumps, lookups and events. */
extern const struct nl_policy session_policy[];

int nl_parse(const struct nlmsghdr *nlh, const struct nl_policy *policy,
	     uint16_t maxtype, const struct nlattr **tb);
int nl_parse_nested(const struct nlattr *nest, const struct nl_policy *policy,
		    uint16_t maxtype, const struct nlattr **tb);

#endif /* NATCTL_NL_H */
