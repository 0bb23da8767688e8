#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host side of the in-VM selftests: boots the VM once (tools/vmtest) and runs
# every given test program in it through guest_run.sh, whose KTAP lines this
# passes through. A boot failure, guest panic or oops, or the timeout makes
# the run fail, with tools/vmtest's console log in the output.
#
# usage: run_in_vm.sh PROG...     env: XNTS_VM_TIMEOUT (whole VM, default 600 s)
#
# The guest gets an e1000e NIC (no network behind it) for its PHC, which
# test_phc uses for the ioctl fallback and the lookup by interface.
set -u
cd "$(dirname "$0")/../.." || exit 1
export VMTEST_NIC=${VMTEST_NIC-e1000e}
exec tools/vmtest --timeout "${XNTS_VM_TIMEOUT:-600}" -- \
	selftests/vm/guest_run.sh "$@" 2>&1
