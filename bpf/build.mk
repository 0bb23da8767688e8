# SPDX-License-Identifier: GPL-2.0
# BPF objects and their libbpf skeletons. Included by the top Makefile.
#
# BPF code is always compiled by clang-15 (Debian's clang 14 drops
# btf_type_tag("kptr")), whatever CC builds userspace. Userspace that opens a
# skeleton adds -I$(BPF_OUT) and links $(BPF_LIBS).

BPF_CLANG ?= clang-15
BPFTOOL ?= bpftool
BPF_OUT := $(BUILD)/bpf
BPF_CFLAGS := -target bpf -g -O2 -Wall -Werror -I/usr/include/x86_64-linux-gnu -Iinclude -Ibpf -Ikmod
BPF_LIBS := -lbpf -lelf -lz

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(BPF_SRCS:bpf/%.bpf.c=$(BPF_OUT)/%.bpf.o)
BPF_SKELS := $(BPF_SRCS:bpf/%.bpf.c=$(BPF_OUT)/%.skel.h)

# Every header a BPF object may include: the variants differ only in defines.
BPF_HDRS := $(wildcard bpf/*.h include/*.h) kmod/xnts_siv.h

# $(call bpf_obj,OBJ,SRC,DEPS): the one rule for a BPF object, for every
# .mk that lists BPF targets (used through $(eval)).
define bpf_obj
$(1): $(2) $(BPF_HDRS) $(3)
	@mkdir -p $$(@D)
	$$(BPF_CLANG) $$(BPF_CFLAGS) -c -o $$@ $$<
endef

$(foreach s,$(BPF_SRCS),$(eval $(call bpf_obj,$(s:bpf/%.bpf.c=$(BPF_OUT)/%.bpf.o),$(s))))

$(BPF_OUT)/%.skel.h: $(BPF_OUT)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp
	mv $@.tmp $@

# The XDP benchmark (not a test): tools/xdp_bench.c, built here so that
# tools/build.mk stays free for the tools proper.
XDP_BENCH := $(BUILD)/tools/xdp_bench

$(BUILD)/obj/tools/xdp_bench.o: CPPFLAGS += -I$(BPF_OUT)
$(BUILD)/obj/tools/xdp_bench.o: $(BPF_OUT)/xnts.skel.h

$(XDP_BENCH): $(BUILD)/obj/tools/xdp_bench.o $(BUILD)/obj/selftests/lib/pkt.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(BPF_LIBS) $(LIBS)

ALL += $(BPF_OBJS) $(BPF_SKELS) $(XDP_BENCH)
