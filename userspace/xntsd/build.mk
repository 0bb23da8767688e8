# SPDX-License-Identifier: GPL-2.0
XNTSD_SRCS := $(wildcard userspace/xntsd/*.c)
XNTSD_OBJS := $(XNTSD_SRCS:%.c=$(BUILD)/obj/%.o)
NL_CFLAGS := $(shell pkg-config --cflags libnl-route-3.0)
DAEMON_LIBS := -luring -lpthread -lm -lxdp $(BPF_LIBS) -lnl-route-3 -lnl-genl-3 -lnl-3

# xdp_ctl opens the XDP program's skeleton and talks rtnetlink through libnl.
$(BUILD)/obj/userspace/xntsd/xdp_ctl.o: CPPFLAGS += -I$(BPF_OUT) -Ibpf $(NL_CFLAGS)
$(BUILD)/obj/userspace/xntsd/xdp_ctl.o: $(BPF_OUT)/xnts.skel.h $(BPF_OUT)/xnts_nts.skel.h

$(BUILD)/xntsd: $(XNTSD_OBJS) $(SYS_LIB) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(DAEMON_LIBS)

ALL += $(BUILD)/xntsd

# phc_source finds an interface's PHC through ethtool's generic netlink family.
$(BUILD)/obj/userspace/xntsd/phc_source.o: CPPFLAGS += $(NL_CFLAGS)
$(BUILD)/obj/userspace/xntsd/xsk_server.o: CPPFLAGS += -Ibpf
