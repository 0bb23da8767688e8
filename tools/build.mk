# SPDX-License-Identifier: GPL-2.0
$(BUILD)/xntsctl: $(BUILD)/obj/tools/xntsctl.o $(BUILD)/obj/tools/status_text.o $(SYS_LIB) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/ke_bench: $(BUILD)/obj/tools/ke_bench.o $(BUILD)/obj/tools/ke_sync.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lpthread

ALL += $(BUILD)/xntsctl $(BUILD)/ke_bench

$(BUILD)/ntp_load: $(BUILD)/obj/tools/ntp_load.o $(BUILD)/obj/tools/ke_sync.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lpthread

ALL += $(BUILD)/ntp_load

$(BUILD)/ntp_bench: $(BUILD)/obj/tools/ntp_bench.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

ALL += $(BUILD)/ntp_bench

$(BUILD)/keyset_bench: $(BUILD)/obj/tools/keyset_bench.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lpthread

ALL += $(BUILD)/keyset_bench
