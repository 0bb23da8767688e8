# SPDX-License-Identifier: GPL-2.0
# BPF objects and their libbpf skeletons. Included by the top Makefile.
#
# BPF code is always compiled by clang-15 (Debian's clang 14 drops
# btf_type_tag("kptr")), whatever CC builds userspace. Userspace that opens a
# skeleton adds -I$(BPF_OUT) -Ibpf and links $(BPF_LIBS).

BPF_CLANG ?= clang-15
BPFTOOL ?= bpftool
BPF_OUT := $(BUILD)/bpf
BPF_CFLAGS := -target bpf -g -O2 -Wall -Werror -I/usr/include/x86_64-linux-gnu -Ibpf
BPF_LIBS := -lbpf -lelf -lz

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(BPF_SRCS:bpf/%.bpf.c=$(BPF_OUT)/%.bpf.o)
BPF_SKELS := $(BPF_SRCS:bpf/%.bpf.c=$(BPF_OUT)/%.skel.h)

$(BPF_OUT)/%.bpf.o: bpf/%.bpf.c bpf/xnts.bpf.c bpf/xnts_shared.h bpf/xnts_nts.h kmod/xnts_siv.h
	@mkdir -p $(@D)
	$(BPF_CLANG) $(BPF_CFLAGS) -c -o $@ $<

$(BPF_OUT)/%.skel.h: $(BPF_OUT)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp
	mv $@.tmp $@

# The XDP benchmark (not a test): tools/xdp_bench.c, built here so that
# tools/build.mk stays free for the tools proper.
XDP_BENCH := $(BUILD)/tools/xdp_bench

$(BUILD)/obj/tools/xdp_bench.o: CPPFLAGS += -I$(BPF_OUT) -Ibpf
$(BUILD)/obj/tools/xdp_bench.o: $(BPF_OUT)/xnts.skel.h

$(XDP_BENCH): $(BUILD)/obj/tools/xdp_bench.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(BPF_LIBS) $(LIBS)

ALL += $(BPF_OBJS) $(BPF_SKELS) $(XDP_BENCH)
