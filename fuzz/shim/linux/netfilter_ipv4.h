/* SPDX-License-Identifier: GPL-2.0 */
/* knat fuzzing shim: the UAPI header, see knat_shim.h. */
#include "../knat_shim.h"
#include_next <linux/netfilter_ipv4.h>
