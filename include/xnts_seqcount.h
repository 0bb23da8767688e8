/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xnts_seqcount: the one sequence counter of xnts, for state that one writer
 * publishes and many readers copy without a lock: the daemon's time state
 * (timestate.c), the PHC mapping (phc_source.c) and the XDP program's time
 * map (written by xdp_ctl.c through mmap, read by bpf/xnts_xdp.h).
 *
 * Contract:
 * - The counter is a plain __u32 (so it can sit in a BPF map value); it is
 *   odd while the writer is inside. One writer at a time: the caller
 *   serialises writers.
 * - Writer: s = xnts_seq_write_begin(&seq); change the data;
 *   xnts_seq_write_end(&seq, s).
 * - Reader: s = xnts_seq_read_begin(&seq); copy the data;
 *   if xnts_seq_read_retry(&seq, s) the copy is torn: try again (a bounded
 *   number of times) or give up. read_begin returns an odd value while a
 *   write is in progress, which read_retry always rejects.
 * - In BPF (clang -target bpf) the loads are volatile with compiler
 *   barriers: that relies on loads not being reordered with loads, which
 *   holds on x86 (TSO); see Documentation/xdp.md. Userspace uses C11
 *   acquire/release ordering through the __atomic builtins.
 */
#ifndef XNTS_SEQCOUNT_H
#define XNTS_SEQCOUNT_H

#include <linux/types.h>

#if defined(__bpf__) || defined(__BPF__)

static __always_inline __u32 xnts_seq_read_begin(const __u32 *seq)
{
	__u32 s = *(const volatile __u32 *)seq;

	asm volatile("" ::: "memory");
	return s;
}

static __always_inline int xnts_seq_read_retry(const __u32 *seq, __u32 start)
{
	asm volatile("" ::: "memory");
	return (start & 1) || *(const volatile __u32 *)seq != start;
}

#else

/* Odd from here on; also when a writer that died left the counter odd. */
static inline __u32 xnts_seq_write_begin(__u32 *seq)
{
	__u32 s = __atomic_load_n(seq, __ATOMIC_RELAXED) | 1;

	__atomic_store_n(seq, s, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return s;
}

static inline void xnts_seq_write_end(__u32 *seq, __u32 s)
{
	__atomic_store_n(seq, s + 1, __ATOMIC_RELEASE);
}

static inline __u32 xnts_seq_read_begin(const __u32 *seq)
{
	return __atomic_load_n(seq, __ATOMIC_ACQUIRE);
}

static inline int xnts_seq_read_retry(const __u32 *seq, __u32 start)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return (start & 1) || __atomic_load_n(seq, __ATOMIC_RELAXED) != start;
}

#endif

#endif /* XNTS_SEQCOUNT_H */
