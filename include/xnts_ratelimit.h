/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xnts_ratelimit: the one rate-limit algorithm, the same in the XDP program
 * (bpf/xnts_xdp.h) and in userspace (ntp_policy.c), so that a client gets
 * the same answers whichever path serves it. Pure functions: the callers
 * keep the state (an LRU hash map in BPF, a hashed slot table in userspace).
 *
 * Contract:
 * - A client is its rate key: the IPv4 address, or the IPv6 address cut to
 *   a configured prefix (default /64: one subscriber usually gets a whole
 *   /64, so per-address limits would not bind), as 16 bytes (IPv4 as
 *   ::ffff:a.b.c.d).
 * - A token bucket per key in GCRA form: in the long run one request per
 *   interval is answered, up to burst back to back. With burst 1 (the
 *   default) this is ntpd-rs's rate-limiting-cutoff-ms: a request less than
 *   interval after the last one answered is over the limit. A request over
 *   the limit gets a RATE kiss and changes nothing (it does not restart the
 *   interval). interval 0: no limit; burst 0 counts as 1. Times are in any
 *   monotonic unit, the same for now and interval.
 */
#ifndef XNTS_RATELIMIT_H
#define XNTS_RATELIMIT_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define XNTS_RATE_V6_PREFIX_DEFAULT	64

/*
 * The rate key of addr (16 bytes, IPv4 as ::ffff:a.b.c.d): IPv4 whole, IPv6
 * masked to v6_prefix bits (0..128).
 */
static __always_inline void xnts_rate_key(__u8 key[16], const __u8 addr[16], int v4,
					  __u32 v6_prefix)
{
	__u32 bits = v4 || v6_prefix > 128 ? 128 : v6_prefix;
	__u64 w[2], m0, m1;

	/* Masks of the first bits, most significant first, as 64-bit words. */
	m0 = bits >= 64 ? ~0ULL : bits ? ~0ULL << (64 - bits) : 0;
	m1 = bits >= 128 ? ~0ULL : bits > 64 ? ~0ULL << (128 - bits) : 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	m0 = __builtin_bswap64(m0);
	m1 = __builtin_bswap64(m1);
#endif
	__builtin_memcpy(w, addr, 16);
	w[0] &= m0;
	w[1] &= m1;
	__builtin_memcpy(key, w, 16);
}

/*
 * One request at now for a key whose state is *tat, the earliest time its
 * bucket is full again (0 for a key not seen). 1: answer, *tat updated;
 * 0: over the limit, *tat unchanged.
 */
static __always_inline int xnts_rate_admit(__u64 *tat, __u64 now, __u64 interval, __u32 burst)
{
	__u64 t = *tat > now ? *tat : now;

	if (!interval)
		return 1;
	if (!burst)
		burst = 1;
	/* The bucket holds burst tokens: t may run ahead of now by (burst - 1) * interval. */
	if (t - now > (__u64)(burst - 1) * interval)
		return 0;
	*tat = t + interval;
	return 1;
}

#endif /* XNTS_RATELIMIT_H */
