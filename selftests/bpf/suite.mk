# SPDX-License-Identifier: GPL-2.0
# bpf suite: the XDP program through BPF_PROG_TEST_RUN on the host (needs root).
BPF_TEST_SRCS := $(wildcard selftests/bpf/test_*.c)
BPF_TEST_BINS := $(BPF_TEST_SRCS:selftests/bpf/%.c=$(BUILD)/selftests/bpf/%)

$(BUILD)/obj/selftests/bpf/%.o: CPPFLAGS += -I$(BUILD)/bpf -Ibpf
$(BPF_TEST_SRCS:selftests/bpf/%.c=$(BUILD)/obj/selftests/bpf/%.o): $(BPF_SKELS)

$(BUILD)/selftests/bpf/%: $(BUILD)/obj/selftests/bpf/%.o $(TEST_HELPER_OBJS) $(SYS_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lbpf -lelf -lz $(LIBS)

ALL += $(BPF_TEST_BINS)
TEST_PROGS += $(BPF_TEST_BINS:%=bpf:%)
