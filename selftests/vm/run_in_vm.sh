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
#
# A guest that dies before the first test starts (seen once under TCG: an
# oops in the idle path during boot, before any module was loaded) is booted
# once more; a failure once the tests run is never retried.
set -u
cd "$(dirname "$0")/../.." || exit 1
export VMTEST_NIC=${VMTEST_NIC-e1000e}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for attempt in 1 2; do
	tools/vmtest --timeout "${XNTS_VM_TIMEOUT:-600}" -- \
		selftests/vm/guest_run.sh "$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -eq 125 ] && [ "$attempt" -eq 1 ] && ! grep -q '^TAP version 13' "$out"; then
		echo "# run_in_vm: the guest failed before any test started; booting once more"
		continue
	fi
	exit "$rc"
done
