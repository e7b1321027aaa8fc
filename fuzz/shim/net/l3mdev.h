/* SPDX-License-Identifier: GPL-2.0 */
/* knat fuzzing shim: see knat_shim.h.  No VRFs. */
#include "../knat_shim.h"

#ifndef KNAT_SHIM_L3MDEV_H
#define KNAT_SHIM_L3MDEV_H

static inline int l3mdev_master_ifindex_rcu(const struct net_device *dev)
{
	return 0;
}

#endif
