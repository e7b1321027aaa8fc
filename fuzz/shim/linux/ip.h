/* SPDX-License-Identifier: GPL-2.0 */
/* knat fuzzing shim: the UAPI header and ip_hdr(), see knat_shim.h. */
#ifndef _KNAT_SHIM_LINUX_IP_H
#define _KNAT_SHIM_LINUX_IP_H
#include "../knat_shim.h"
#include_next <linux/ip.h>

static inline struct iphdr *ip_hdr(const struct sk_buff *skb)
{
	return (struct iphdr *)skb->data;
}

static inline unsigned int ip_hdrlen(const struct sk_buff *skb)
{
	return ip_hdr(skb)->ihl * 4;
}
#endif
