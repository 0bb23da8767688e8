#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ntpsec's ntpd as an NTS client of xntsd and xntsd as an NTS client of
# ntpd, on the guest's loopback. ntpd disciplines the clock, so this runs
# in the VM only; ntpsec_interop.py refuses anywhere else. Prints KTAP.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
exec /usr/bin/python3 "$top/selftests/vm/ntpsec_interop.py"
