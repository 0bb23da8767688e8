# SPDX-License-Identifier: GPL-2.0
# The NTS kernel module (kmod/xnts_siv.c, top-level Kbuild). Included by the
# top Makefile. Not part of plain make: it needs kernel headers with BTF.
#
#   make kmod KDIR=/lib/modules/$(uname -r)/build   -> build/kmod/kmod/xnts_siv.ko
#   make kmod                                        -> the same against the VM's
#                                                       6.12 headers (tools/vmtest --kdir)
#
# The VM suite builds its own copy against the 6.12 headers
# (selftests/vm/suite.mk). The build runs on a copy of the sources under
# $(BUILD), so kbuild's output never lands in the source tree.

KMOD_SRCS := Kbuild kmod/xnts_siv.c kmod/xnts_siv.h

# $(call kmod_build,OUTDIR,KDIR,KBUILD,SRCS,SUBDIR): the one recipe for an
# out-of-tree module. Copies KBUILD to OUTDIR/Kbuild and SRCS to
# OUTDIR/SUBDIR, then runs kbuild there against KDIR (empty: the VM's 6.12
# headers, tools/vmtest --kdir), with none of this make's variables leaking
# into it.
define kmod_build
	rm -rf $(1) && mkdir -p $(1)/$(5)
	cp $(3) $(1)/Kbuild && cp $(4) $(1)/$(5)/
	kdir="$(2)" && kdir=$${kdir:-$$(tools/vmtest --kdir)} && \
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CC -u CFLAGS -u LDFLAGS \
		make -s -C "$$kdir" M=$(abspath $(1)) modules
endef
# The NTS module: $(call kmod_siv,OUTDIR,KDIR).
kmod_siv = $(call kmod_build,$(1),$(2),Kbuild,kmod/xnts_siv.c kmod/xnts_siv.h,kmod)

.PHONY: kmod
kmod: $(KMOD_SRCS)
	$(call kmod_siv,$(BUILD)/kmod,$(KDIR))
	@echo "kmod: $(BUILD)/kmod/kmod/xnts_siv.ko"

# tools/xdp_nts_bench: NTS in XDP against ntp_serve() and the kfunc cost, in
# the VM (tools/vmtest -- build/tools/xdp_nts_bench). Not a test. On a host
# without the module (-N) it times the NTS path with the crypto stubbed out.
XDP_NTS_BENCH := $(BUILD)/tools/xdp_nts_bench
NTS_NOCRYPTO_OBJ := $(BUILD)/tools/xnts_nts_nocrypto.bpf.o

$(eval $(call bpf_obj,$(NTS_NOCRYPTO_OBJ),tools/xnts_nts_nocrypto.bpf.c))

$(XDP_NTS_BENCH): $(BUILD)/obj/tools/xdp_nts_bench.o $(BUILD)/obj/selftests/lib/pkt.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lbpf -lelf -lz $(LIBS)

ALL += $(XDP_NTS_BENCH) $(NTS_NOCRYPTO_OBJ)
