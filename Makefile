# SPDX-License-Identifier: GPL-2.0
#
# knat: top-level build.  The module itself is built by Kbuild (see Kbuild
# and kmod/Kbuild); this file wraps it and adds the project's own targets.
#
#   make                  module (kmod/knat.ko) for KDIR, and natctl
#   make KDIR=/path       the same against another kernel tree
#   make check            everything, then every selftest in a VM on each
#                         kernel of TEST_KERNELS; ends with "N passed, N failed"
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
	install modules-% fuzz bench bench-quick

all: module natctl

module:
	@test -d "$(KDIR)" || { echo "KDIR '$(KDIR)' not found: install linux-headers or set KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

natctl:
	$(MAKE) -C tools/natctl VERSION=$(VERSION)

# A module per kernel, each in its own shadow tree of symlinks so that
# builds for different kernels never share objects:
# build/VER/kmod/knat.ko.
$(BUILD)/%/kmod/knat.ko: $(filter-out %.mod.c,$(MODULE_SRCS))
	@mkdir -p $(BUILD)/$*/kmod
	@ln -sfn $(CURDIR)/uapi $(BUILD)/$*/uapi
	@ln -sf $(CURDIR)/Kbuild $(BUILD)/$*/Kbuild
	@find $(BUILD)/$*/kmod -maxdepth 1 -type l -delete
	@for f in $(filter-out %.mod.c,$(wildcard $(CURDIR)/kmod/*.[ch])) \
		$(CURDIR)/kmod/Kbuild; do ln -sf $$f $(BUILD)/$*/kmod/; done
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
