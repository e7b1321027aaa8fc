/* SPDX-License-Identifier: GPL-2.0 */
/*
 * knat fuzzing shim: see knat_shim.h.  The FIB, for the reverse-path
 * check: every route leaves by knat_shim_fib_dev, the device the fuzzer's
 * packets come in on (fuzz_hooks.c).
 */
#include "../knat_shim.h"

#ifndef KNAT_SHIM_IP_FIB_H
#define KNAT_SHIM_IP_FIB_H

#define LOOPBACK_IFINDEX	1
#define RTN_UNICAST		1
#define FIB_LOOKUP_NOREF	1

struct flowi4 {
	__be32 daddr;
	int flowi4_iif;
	int flowi4_l3mdev;
};

struct fib_info;

struct fib_result {
	unsigned char type;
	struct fib_info *fi;
};

extern struct net_device *knat_shim_fib_dev;

static inline int fib_lookup(struct net *net, struct flowi4 *fl4,
			     struct fib_result *res, unsigned int flags)
{
	res->type = RTN_UNICAST;
	res->fi = NULL;
	return 0;
}

static inline bool fib_info_nh_uses_dev(struct fib_info *fi,
					const struct net_device *dev)
{
	return dev == knat_shim_fib_dev;
}

#endif
