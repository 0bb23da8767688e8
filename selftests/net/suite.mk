# SPDX-License-Identifier: GPL-2.0
# Network selftests: xntsd processes on loopback and in namespaces, with
# chrony and ntpsec (unpacked from Debian, never installed) as peers.
NET_TESTS := $(sort $(wildcard selftests/net/test_*.py))
TEST_PROGS += $(NET_TESTS:%=net:%)
# fetch-peers unpacks python3-ntp last, so its stamp means all are there.
PEERS_STAMP := $(CACHE)/peers/python3-ntp/.done

$(PEERS_STAMP): tools/fetch-peers
	tools/fetch-peers $(CACHE)/peers

ALL += $(PEERS_STAMP)
