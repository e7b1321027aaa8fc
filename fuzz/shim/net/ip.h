/* SPDX-License-Identifier: GPL-2.0 */
/* knat fuzzing shim: see knat_shim.h. */
#ifndef _KNAT_SHIM_NET_IP_H
#define _KNAT_SHIM_NET_IP_H
#include <linux/ip.h>

#define IP_CE		0x8000
#define IP_DF		0x4000
#define IP_MF		0x2000
#define IP_OFFSET	0x1FFF

static inline bool ip_is_fragment(const struct iphdr *iph)
{
	return (iph->frag_off & htons(IP_MF | IP_OFFSET)) != 0;
}
#endif
