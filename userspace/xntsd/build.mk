# SPDX-License-Identifier: GPL-2.0
XNTSD_SRCS := $(wildcard userspace/xntsd/*.c)
XNTSD_OBJS := $(XNTSD_SRCS:%.c=$(BUILD)/obj/%.o)
NL_CFLAGS := $(shell pkg-config --cflags libnl-route-3.0)
DAEMON_LIBS := -luring -lpthread -lm -lxdp $(BPF_LIBS) -lnl-route-3 -lnl-genl-3 -lnl-3

# xdp_ctl opens the XDP program's skeleton and talks rtnetlink through libnl.
XDP_CTL_OBJS := $(addprefix $(BUILD)/obj/userspace/xntsd/,xdp_ctl.o xdp_load.o xdp_link.o \
	xdp_feed.o xdp_local.o)
$(XDP_CTL_OBJS): CPPFLAGS += -I$(BPF_OUT) $(NL_CFLAGS)
$(XDP_CTL_OBJS): $(BPF_OUT)/xnts.skel.h $(BPF_OUT)/xnts_nts.skel.h

$(BUILD)/xntsd: $(XNTSD_OBJS) $(SYS_LIB) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(DAEMON_LIBS)

ALL += $(BUILD)/xntsd

# phc_source finds an interface's PHC through ethtool's generic netlink family.
$(BUILD)/obj/userspace/xntsd/phc_source.o: CPPFLAGS += $(NL_CFLAGS)
$(BUILD)/obj/userspace/xntsd/xsk_server.o: CPPFLAGS += -Ibpf

# The confinement test links the daemon's own privs.c and loop.c.
$(BUILD)/obj/selftests/unit/test_privs.o: CPPFLAGS += -Iuserspace/xntsd
# It tests the allowlist itself, so it runs it in sanitizer builds too, where
# the daemon's own privs.o allows every call (privs.c: LeakSanitizer).
$(BUILD)/obj/selftests/unit/privs_allowlist.o: userspace/xntsd/privs.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -DPRIVS_ALLOWLIST_ALWAYS -MMD -MP -c -o $@ $<
$(BUILD)/selftests/unit/test_privs: $(BUILD)/obj/selftests/unit/test_privs.o \
		$(BUILD)/obj/selftests/unit/privs_allowlist.o \
		$(filter-out %/main.o %/privs.o,$(XNTSD_OBJS)) $(TEST_HELPER_OBJS) $(SYS_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(DAEMON_LIBS)
