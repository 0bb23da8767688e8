#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What tools/vmtest promises the in-VM tests: Debian's 6.12 kernel, the host
# root read-only under a writable overlay, the writable results dir, bpffs,
# debugfs and tracefs mounted, module autoload through request_module(), and
# network namespaces joined by veth. Runs in the guest only.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=/dev/null
. "$top/build/cache/kselftest/ktap_helpers.sh"

NS_A=xnts_envA
NS_B=xnts_envB

fstype() {
	awk -v m="$1" '$2 == m { t = $3 } END { print t }' /proc/mounts
}

is_fs() {
	[ "$(fstype "$1")" = "$2" ]
}

kernel_is_612() {
	case $(uname -r) in 6.12.*+deb12-amd64) return 0 ;; *) return 1 ;; esac
}

root_overlay_writable() {
	is_fs / overlay && touch /etc/xnts-vm-probe && rm /etc/xnts-vm-probe
}

results_writable() {
	[ -n "${XNTS_VM_RESULTS:-}" ] && is_fs "$XNTS_VM_RESULTS" 9p &&
		echo probe >"$XNTS_VM_RESULTS/probe" && rm "$XNTS_VM_RESULTS/probe"
}

# "dummy" is not loaded at boot: creating one must autoload it.
module_autoload() {
	[ ! -d /sys/module/dummy ] || return 1
	ip link add xnts_dummy0 type dummy || return 1
	[ -d /sys/module/dummy ]
	local rc=$?
	ip link del xnts_dummy0
	return $rc
}

netns_veth_ping() {
	local rc=0
	ip netns add $NS_A && ip netns add $NS_B &&
		ip link add xea netns $NS_A type veth peer name xeb netns $NS_B &&
		ip -n $NS_A addr add 10.212.0.1/24 dev xea &&
		ip -n $NS_B addr add 10.212.0.2/24 dev xeb &&
		ip -n $NS_A link set xea up && ip -n $NS_B link set xeb up &&
		ip netns exec $NS_A busybox ping -q -c 1 -W 10 10.212.0.2 >/dev/null || rc=1
	ip netns del $NS_A 2>/dev/null
	ip netns del $NS_B 2>/dev/null
	return $rc
}

ktap_print_header
if ! grep -qw 'xnts_vm=1' /proc/cmdline; then
	ktap_exit_fail_msg "not in the VM guest: run through tools/vmtest"
fi
ktap_set_plan 8
ktap_test_result "kernel is Debian 6.12 ($(uname -r))" kernel_is_612
ktap_test_result "root is a writable overlay" root_overlay_writable
ktap_test_result "results dir is writable 9p" results_writable
ktap_test_result "bpffs at /sys/fs/bpf" is_fs /sys/fs/bpf bpf
ktap_test_result "debugfs at /sys/kernel/debug" is_fs /sys/kernel/debug debugfs
ktap_test_result "tracefs at /sys/kernel/tracing" is_fs /sys/kernel/tracing tracefs
ktap_test_result "module autoload (dummy)" module_autoload
ktap_test_result "netns + veth ping" netns_veth_ping
ktap_finished
