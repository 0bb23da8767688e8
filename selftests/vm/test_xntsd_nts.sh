#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# xntsd picks the NTS variant of the XDP program when xnts_siv.ko is loaded,
# and chronyd -x as an NTS client over veth is answered by XDP. Runs in the
# guest only; the cases are in xntsd_nts.py (selftests/net helpers).
exec python3 "$(dirname "$0")/xntsd_nts.py"
