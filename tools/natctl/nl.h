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

struct nlmsghdr *nl_req_start(struct nl *nl, uint8_t cmd, uint16_t flags);
int nl_req_send(struct nl *nl, struct nlmsghdr *nlh, nl_msg_cb_t cb,
		void *data);

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

int nl_parse(const struct nlmsghdr *nlh, const struct nl_policy *policy,
	     uint16_t maxtype, const struct nlattr **tb);
int nl_parse_nested(const struct nlattr *nest, const struct nl_policy *policy,
		    uint16_t maxtype, const struct nlattr **tb);

#endif /* NATCTL_NL_H */
