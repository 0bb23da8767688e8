# SPDX-License-Identifier: GPL-2.0
XNTSD_SRCS := $(wildcard userspace/xntsd/*.c)
XNTSD_OBJS := $(XNTSD_SRCS:%.c=$(BUILD)/obj/%.o)
DAEMON_LIBS := -luring -lpthread -lm

$(BUILD)/xntsd: $(XNTSD_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(DAEMON_LIBS)

ALL += $(BUILD)/xntsd
