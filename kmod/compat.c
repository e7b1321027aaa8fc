// SPDX-License-Identifier: GPL-2.0
/*
 * knat: helpers for older kernels (see compat.h).
 */
#include <linux/atomic.h>
#include <linux/kernel.h>

#include "compat.h"

#ifdef KNAT_COMPAT_EXTACK_FMT
#define KNAT_FMT_BUFS	64
#define KNAT_FMT_LEN	80

static char knat_fmt_bufs[KNAT_FMT_BUFS][KNAT_FMT_LEN];
static atomic_t knat_fmt_next = ATOMIC_INIT(0);

const char *knat_compat_fmt_msg(const char *fmt, ...)
{
	unsigned int i = atomic_inc_return(&knat_fmt_next) % KNAT_FMT_BUFS;
	va_list args;

	va_start(args, fmt);
	vsnprintf(knat_fmt_bufs[i], KNAT_FMT_LEN, fmt, args);
	va_end(args);
	return knat_fmt_bufs[i];
}
#endif
