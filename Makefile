# SPDX-License-Identifier: GPL-2.0
#
# knat: top-level build.  The module itself is built by Kbuild (see Kbuild
# and kmod/Kbuild); this file wraps it and adds the project's own targets.
#
#   make                  module (kmod/knat.ko) for KDIR, and natctl
#   make KDIR=/path       the same against another kernel tree
#   make check            everything, then every selftest in a VM on each
#                         kernel of TEST_KERNELS; ends with "N passed, N failed"
#   make check-debug      every selftest in a VM on a debug kernel (KASAN,
#                         lockdep, UBSAN, kmemleak...) built once per machine
#                         from linux-source-6.1 (scripts/debug-kernel/)
#   make demo             a three-namespace NAT demo in a VM
#   make fuzz             fuzz the packet path (libFuzzer, ASan, UBSan) for
#                         FUZZ_TIME seconds, without the VM; make check runs
#                         CHECK_FUZZ_TIME (60) seconds of it
#   make style            checkpatch (from Debian's linux-source-6.1)
#   make sparse           sparse (C=2) against KDIR
#   make deps             install the Debian packages all of this needs
#   make bench            knat against plain forwarding and nftables
#                         masquerade in a VM (~30 min): bench/results/,
#                         docs/performance.md
#   make bench-quick      a small version of it (a few minutes), a smoke test

VERSION := 0.1.0

# The kernel tree to build against: the running kernel's when it has one,
# otherwise the newest Debian headers installed.
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	$(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64))))

# Kernels `make check` tests on: Debian 12's 6.1 and 6.12, newest installed
# of each.  Override with TEST_KERNELS="VER ..." (a VER from /lib/modules).
newest = $(lastword $(sort $(notdir $(wildcard /lib/modules/$(1)))))
TEST_KERNELS ?= $(call newest,6.1.*-amd64) $(call newest,6.12.*-amd64)
# Kernels `make bench` measures on (bench-quick: the first only).
BENCH_KERNELS ?= $(call newest,6.12.*-amd64)

BUILD := $(CURDIR)/build
MODULE_SRCS := $(wildcard kmod/*.c kmod/*.h) kmod/Kbuild Kbuild uapi/knat.h

export KNAT_VERSION := $(VERSION)

.PHONY: all module natctl clean check check-build demo style sparse deps \
	install modules-% fuzz bench bench-quick check-debug debug-kernel \
	module-debug

all: module natctl

module:
	@test -d "$(KDIR)" || { echo "KDIR '$(KDIR)' not found: install linux-headers or set KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

natctl:
	$(MAKE) -C tools/natctl VERSION=$(VERSION)

# A module per kernel, each in its own shadow tree of symlinks so that
# builds for different kernels never share objects:
# build/VER/kmod/knat.ko.
define shadow_tree
	@mkdir -p $(1)/kmod
	@ln -sfn $(CURDIR)/uapi $(1)/uapi
	@ln -sf $(CURDIR)/Kbuild $(1)/Kbuild
	@find $(1)/kmod -maxdepth 1 -type l -delete
	@for f in $(filter-out %.mod.c,$(wildcard $(CURDIR)/kmod/*.[ch])) \
		$(CURDIR)/kmod/Kbuild; do ln -sf $$f $(1)/kmod/; done
endef

$(BUILD)/%/kmod/knat.ko: $(filter-out %.mod.c,$(MODULE_SRCS))
	$(call shadow_tree,$(BUILD)/$*)
	$(MAKE) -C /lib/modules/$*/build M=$(BUILD)/$* W=1 \
		KCFLAGS=-Werror modules

modules-%: $(BUILD)/%/kmod/knat.ko
	@:

check-build: natctl $(foreach k,$(TEST_KERNELS),$(BUILD)/$(k)/kmod/knat.ko)
	$(MAKE) -C selftests all

check: deps
	@$(MAKE) --no-print-directory check-build
	@$(MAKE) --no-print-directory fuzz FUZZ_TIME=$(CHECK_FUZZ_TIME)
	@scripts/check $(TEST_KERNELS)

FUZZ_TIME ?= 60
CHECK_FUZZ_TIME ?= 60
fuzz:
	$(MAKE) -C fuzz run FUZZ_TIME=$(FUZZ_TIME) OUT=$(BUILD)/fuzz

# The debug-kernel lane: a kernel with KASAN, lockdep, UBSAN, kmemleak and
# more, built once per machine (scripts/debug-kernel/build, ~10 min on
# 2 cores; cached under /var/cache/knat-debug-kernel), knat built against it
# with -g (build/debug/kmod/knat.ko), every selftest in a VM on it.  Any
# report in the kernel log or from kmemleak fails the run.
DEBUG_KERNEL_DIR = $(shell scripts/debug-kernel/build --dir)

check-debug:
	@scripts/deps debug
	@$(MAKE) --no-print-directory debug-kernel
	@$(MAKE) --no-print-directory natctl module-debug
	@$(MAKE) --no-print-directory -C selftests all
	@scripts/check-debug

debug-kernel:
	@scripts/debug-kernel/build >/dev/null

module-debug:
	@test -e $(DEBUG_KERNEL_DIR)/ready || { echo "no debug kernel: make debug-kernel" >&2; exit 1; }
	$(call shadow_tree,$(BUILD)/debug)
	$(MAKE) -C $(DEBUG_KERNEL_DIR)/obj M=$(BUILD)/debug W=1 \
		KCFLAGS="-Werror -g" modules

demo: deps
	@$(MAKE) --no-print-directory check-build
	@scripts/demo $(firstword $(TEST_KERNELS))

deps:
	@scripts/deps

bench: deps
	@bench/run $(foreach k,$(BENCH_KERNELS),-k $(k))

bench-quick: deps
	@bench/run --quick -k $(firstword $(BENCH_KERNELS))

CHECKPATCH_DIR := $(BUILD)/checkpatch
KNAT_SOURCES = $(filter-out %.mod.c,$(wildcard kmod/*.[ch])) uapi/knat.h
style: deps
	@scripts/checkpatch-fetch $(CHECKPATCH_DIR)
	$(CHECKPATCH_DIR)/scripts/checkpatch.pl --no-tree --strict --terse \
		--show-types --ignore FILE_PATH_CHANGES \
		-f $(KNAT_SOURCES)

sparse: deps
	@rm -rf $(BUILD)/sparse && mkdir -p $(BUILD)/sparse
	$(MAKE) -C $(KDIR) M=$(CURDIR) C=2 CF="-D__CHECK_ENDIAN__" \
		modules 2>&1 | tee $(BUILD)/sparse/log
	@! grep -E '(warning|error):' $(BUILD)/sparse/log

install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	$(MAKE) -C tools/natctl install

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C tools/natctl clean
	rm -rf $(BUILD)
