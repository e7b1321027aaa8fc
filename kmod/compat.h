/* SPDX-License-Identifier: GPL-2.0 */
/*
 * knat: the one place for differences between the kernels knat supports
 * (Debian 12's 6.1 and 6.12 and those in between).  Detect by feature
 * where a feature test exists; the core code uses only the names here.
 */
#ifndef _KNAT_COMPAT_H
#define _KNAT_COMPAT_H

#include <linux/netlink.h>
#include <linux/random.h>
#include <net/genetlink.h>
#include <net/udp.h>

/* get_random_u32_below() is in 6.1 (it replaced prandom_u32_max()). */
static inline u32 knat_random_below(u32 ceil)
{
	return get_random_u32_below(ceil);
}

/*
 * The parsed attributes of a dump request: 6.2 moved them into a struct
 * genl_info inside the dump info.  Probed for by kmod/Kbuild.
 */
static inline struct nlattr **knat_dump_attrs(struct netlink_callback *cb)
{
#ifdef KNAT_HAVE_GENL_INFO_DUMP
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

/*
 * Formatted extack messages came in 6.2, with a buffer inside the extack.
 * Before that, format into a small ring of buffers: a message only has to
 * live until the ack that carries it is built, right after the handler
 * returns.  Keep messages under 80 characters, as 6.2+ truncates there.
 */
#ifndef NL_SET_ERR_MSG_FMT
#define KNAT_COMPAT_EXTACK_FMT
const char *knat_compat_fmt_msg(const char *fmt, ...) __printf(1, 2);
#define NL_SET_ERR_MSG_FMT(extack, fmt, args...) do {			\
	struct netlink_ext_ack *__extack = (extack);			\
									\
	if (__extack)							\
		__extack->_msg = knat_compat_fmt_msg(fmt, ##args);	\
} while (0)
#endif

/*
 * The UDP socket table of a namespace: 6.2 let a namespace have its own,
 * with net->ipv4.udp_table pointing at the global one when it has not.
 * Probed for by kmod/Kbuild.
 */
static inline struct udp_table *knat_udp_table(const struct net *net)
{
#ifdef KNAT_HAVE_NETNS_UDP_TABLE
	return net->ipv4.udp_table;
#else
	return &udp_table;
#endif
}

#endif /* _KNAT_COMPAT_H */
