/* SPDX-License-Identifier: GPL-2.0 */
/* knat fuzzing shim: see knat_shim.h. */
#include "../knat_shim.h"
