#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs in the VM guest (started by run_in_vm.sh through tools/vmtest): runs
# each test program in turn and re-emits every test case it reports as one
# top-level KTAP line "ok N prog: case" / "not ok N prog: case", numbered
# across all programs, so the host's run_tests.sh counts each case. The
# programs' own output is kept as "# " comments.
#
# In the VM nothing may be skipped: a skipped case counts as a failure, as
# does a program that exits non-zero without a failing case or reports none.
#
# usage: guest_run.sh PROG...     env: XNTS_VM_TEST_TIMEOUT (default 300 s)
set -u
timeout_s=${XNTS_VM_TEST_TIMEOUT:-300}
n=0 failed=0
echo "TAP version 13"
for prog in "$@"; do
	name=$(basename "$prog")
	echo "# vm: $name"
	out=$(mktemp)
	t0=$(date +%s%N)
	timeout -k 5 "$timeout_s" "$prog" >"$out" 2>&1 </dev/null
	rc=$?
	t1=$(date +%s%N)
	cases=0 fails=0
	while IFS= read -r line; do
		if [[ $line =~ ^(not\ )?ok\ [0-9]+\ (.*)$ ]]; then
			n=$((n + 1)) cases=$((cases + 1))
			desc=${BASH_REMATCH[2]}
			if [ -n "${BASH_REMATCH[1]}" ]; then
				echo "not ok $n $name: $desc"
				fails=$((fails + 1))
			elif [[ $desc =~ \#\ *[Ss][Kk][Ii][Pp] ]]; then
				echo "not ok $n $name: ${desc%%#*}(skipped in the VM: a failure)"
				fails=$((fails + 1))
			else
				echo "ok $n $name: $desc"
			fi
		else
			echo "# $line"
		fi
	done <"$out"
	rm -f "$out"
	echo "# vm: $name: exit $rc after $(((t1 - t0) / 1000000)) ms (TCG: not a performance figure)"
	if [ "$rc" -ne 0 ] && [ "$fails" -eq 0 ]; then
		n=$((n + 1)) fails=1
		echo "not ok $n $name # exited $rc without a failing case"
	elif [ "$cases" -eq 0 ]; then
		n=$((n + 1)) fails=1
		echo "not ok $n $name # reported no test results"
	fi
	failed=$((failed + fails))
done
echo "1..$n"
[ "$failed" -eq 0 ]
