# SPDX-License-Identifier: GPL-2.0
SHELL := /bin/bash
#
# make            build all userspace code into build/
# make check      build, then run every selftest (host and VM); KTAP output
# make check SANITIZE=1   the same under ASan+UBSan, in build-san/
# make check-unit SANITIZE=thread   the unit tests under TSan, in build-tsan/
# make fuzz       run each libFuzzer harness for FUZZ_SECONDS (clang)
# make CC=clang   any of the above with clang
# make install     binaries, man pages, systemd unit, sysusers/tmpfiles, config
#                  (DESTDIR, PREFIX=/usr/local, sysconfdir=/etc; dist/install.mk)

CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif
BUILD ?= build
CACHE ?= build/cache
ifeq ($(SANITIZE),1)
BUILD := build-san
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
ifeq ($(SANITIZE),thread)
BUILD := build-tsan
SAN := -fsanitize=thread -fno-omit-frame-pointer
endif

KSFT_DIR := $(CACHE)/kselftest
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-missing-field-initializers
CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 $(WARN) $(SAN) -D_GNU_SOURCE -fno-strict-aliasing
override CPPFLAGS += -Iinclude -Ikmod -Iuserspace/lib -Iselftests/lib
# The kselftest harness is written for the kernel's -Wall, not -Wextra.
TEST_CFLAGS = $(filter-out -Wextra -Wshadow -Wmissing-prototypes,$(CFLAGS))
LDFLAGS += $(SAN)
LIBS := -lssl -lcrypto -lgcrypt -lm

LIB_SRCS := $(wildcard userspace/lib/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB := $(BUILD)/libxnts.a

# userspace/sys: the system layer (files, PHC devices, the kernel clock).
# The core (userspace/lib) does no I/O and cannot include it: only the
# daemon, the tools and the tests get its include path.
SYS_SRCS := $(wildcard userspace/sys/*.c)
SYS_OBJS := $(SYS_SRCS:%.c=$(BUILD)/obj/%.o)
SYS_LIB := $(BUILD)/libxnts_sys.a
SYS_CPPFLAGS := -Iuserspace/sys

UNIT_SRCS := $(wildcard selftests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:selftests/unit/%.c=$(BUILD)/selftests/unit/%)
TEST_HELPER_SRCS := $(wildcard selftests/lib/*.c)
TEST_HELPER_OBJS := $(TEST_HELPER_SRCS:%.c=$(BUILD)/obj/%.o)

FUZZ_SRCS := $(wildcard selftests/fuzz/fuzz_*.c)
FUZZ_SECONDS ?= 60

# Each further suite (bpf, net, vm, ...) lives in selftests/<suite>/suite.mk,
# adds its programs to TEST_PROGS as "suite:path" and its builds to ALL.
TEST_PROGS := $(UNIT_BINS:%=unit:%)
ALL := $(LIB) $(SYS_LIB) $(UNIT_BINS)

.SECONDARY:
.PHONY: all all-targets check fuzz clean deps demo
all: all-targets

include $(sort $(wildcard userspace/*/build.mk tools/build.mk bpf/build.mk kmod/build.mk \
	dist/install.mk selftests/*/suite.mk))

all-targets: $(ALL)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# The core does no I/O (Documentation/design.md, Layers): its objects may not
# call into files, sockets, devices or the clock's adjtime. keyset.o (the key
# storage file) is the one exception left.
CORE_IO_CALLS := open|open64|openat|openat64|creat|read|write|pread|pread64|pwrite|pwrite64|\
	ioctl|clock_adjtime|adjtimex|ntp_adjtime|fopen|fopen64|fread|fwrite|socket|sendmsg|\
	recvmsg|sendto|recvfrom|connect|bind|mkstemp|mkstemp64|rename|renameat|unlink|unlinkat|\
	fsync|fstat|fstat64|stat|stat64|close
$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	@if nm -A -u $(filter-out %/keyset.o,$^) | grep -E ' U ($(CORE_IO_CALLS))$$'; then \
		echo "userspace/lib does no I/O: move these calls to userspace/sys" >&2; exit 1; fi
	rm -f $@
	ar rcs $@ $^

$(SYS_LIB): $(SYS_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/obj/userspace/sys/%.o $(BUILD)/obj/userspace/xntsd/%.o $(BUILD)/obj/tools/%.o \
	$(BUILD)/obj/selftests/%.o: CPPFLAGS += $(SYS_CPPFLAGS)

$(KSFT_DIR)/kselftest_harness.h:
	tools/fetch-kselftest $(KSFT_DIR)

# Test programs include the kselftest harness, which is extracted at build time.
$(BUILD)/obj/selftests/%.o: selftests/%.c $(KSFT_DIR)/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(KSFT_DIR) $(TEST_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/selftests/unit/%: $(BUILD)/obj/selftests/unit/%.o $(TEST_HELPER_OBJS) $(SYS_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# The README's two commands: each installs what it needs first.
deps:
	tools/install-deps

demo: deps
	$(MAKE) all
	XNTS_BUILD=$(abspath $(BUILD)) tools/demo

check: deps
	$(MAKE) all
	XNTS_BUILD=$(abspath $(BUILD)) selftests/run_tests.sh $(TEST_PROGS)

# One suite only: make check-unit, check-bpf, check-net, check-vm.
check-%: all-targets
	XNTS_BUILD=$(abspath $(BUILD)) selftests/run_tests.sh $(filter $*:%,$(TEST_PROGS))

# Each harness runs for FUZZ_SECONDS from its seed corpus, built with clang's
# libFuzzer plus ASan/UBSan. A crash leaves its reproducer in build/fuzz/.
FUZZ_CC ?= clang
FUZZ_FLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Iinclude -Ikmod -Iuserspace/lib \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
fuzz:
	@mkdir -p build/fuzz
	@set -e; for f in $(FUZZ_SRCS); do \
		n=$$(basename $$f .c); \
		$(FUZZ_CC) $(FUZZ_FLAGS) -o build/fuzz/$$n $$f $(LIB_SRCS) $(LIBS); \
		mkdir -p build/fuzz/$$n.corpus; \
		echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
		build/fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=build/fuzz/$$n- \
			build/fuzz/$$n.corpus selftests/fuzz/corpus/$$n 2>&1 | \
			grep -E '^(stat::number_of_executed_units|==|SUMMARY|INFO: (Loaded|seed))|Done' ; \
		test $${PIPESTATUS[0]} -eq 0; \
	done

clean:
	rm -rf build/obj build/selftests build/libxnts.a build/libxnts_sys.a build-san build/fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
