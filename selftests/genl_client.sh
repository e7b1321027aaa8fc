#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# knat's generic netlink protocol as an independent libnl client speaks it:
# bad requests refused with the right errno and extack and no change,
# CONFIG_APPLY all or nothing, dumps cut off half way, events, permissions
# (genl_client.c, in kselftest_harness form; its KTAP is this test's log).
#
# The binary is built on the host (make -C selftests, or make check-build):
# this script builds nothing and loads nothing.  GENL_CLIENT overrides its
# path.

. "$(dirname "$0")/lib.sh"

require_root

bin=${GENL_CLIENT:-$KSELFTEST_DIR/../build/selftests/genl_client}
[ -x "$bin" ] || skip_test "$bin is not built (make -C selftests)"
knat_loaded || skip_test "knat is not loaded"

"$bin"
