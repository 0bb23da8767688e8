#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run selftest programs and report in KTAP, kselftest-runner style: each
# program's own KTAP is nested behind "# ", and one result line per program
# follows. The last line counts individual test cases across all programs:
#   N passed, N failed, N skipped
# A program that exits non-zero without reporting a failed case counts as one
# failure, so a crash or a broken harness can never pass silently.
#
# usage: run_tests.sh PROG...   (PROG is "suite:path", e.g. unit:build/x/test_siv)
# env:   XNTS_TEST_TIMEOUT seconds per program (default 900)
set -u
timeout_s=${XNTS_TEST_TIMEOUT:-900}
pass=0 fail=0 skip=0 n=0
echo "TAP version 13"
echo "1..$#"
for spec in "$@"; do
	suite=${spec%%:*}
	prog=${spec#*:}
	name=$(basename "$prog")
	n=$((n + 1))
	echo "# selftests: $suite: $name"
	out=$(mktemp)
	timeout -k 10 "$timeout_s" "$prog" >"$out" 2>&1 </dev/null
	rc=$?
	sed 's/^/# /' "$out"
	p=$(grep -cE '^ok [0-9]+' "$out" | tr -d ' ')
	s=$(grep -cE '^ok [0-9]+.*# *SKIP' "$out" | tr -d ' ')
	f=$(grep -cE '^not ok [0-9]+' "$out" | tr -d ' ')
	p=$((p - s))
	rm -f "$out"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		[ "$rc" -eq 124 ] && why="timed out after ${timeout_s}s" ||
			why="exited $rc without a failing case"
		echo "# $suite: $name: $why"
	elif [ $((p + s + f)) -eq 0 ]; then
		f=1
		echo "# $suite: $name: reported no test results"
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	if [ "$f" -ne 0 ]; then
		echo "not ok $n selftests: $suite: $name # exit=$rc"
	elif [ "$p" -eq 0 ] && [ "$s" -gt 0 ]; then
		echo "ok $n selftests: $suite: $name # SKIP"
	else
		echo "ok $n selftests: $suite: $name"
	fi
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
