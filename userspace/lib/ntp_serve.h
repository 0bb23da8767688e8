/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ntp_serve: one NTP request in, one response out - the server's protocol
 * core. The userspace server runs it per datagram; the XDP program must
 * produce responses that agree with it field by field (the differential
 * tests compare the two).
 *
 * One call makes the whole decision, in this order:
 * 1. A valid request is NTPv3 or v4 (as allowed by the versions mask; never
 *    below 3), mode 3, at least 48 bytes. Anything else is dropped
 *    (DROP_INVALID), as is any request carrying a legacy MAC.
 * 2. A request whose extension fields include any NTS field (Unique
 *    Identifier, Cookie, Cookie Placeholder, Authenticator) must be a
 *    well-formed NTS request (nts_ntp.h), or it is dropped (DROP_NTS): it is
 *    never answered as plain NTP. A request with no extension fields, or
 *    only non-NTS ones, is plain.
 * 3. Access policy (ntp_policy.h, when the ctx has one) for the sender:
 *    deny/allow list silence (DROP_IGNORED), DENY kiss (DENY), RATE kiss
 *    (RATE). Only requests that pass 1 and 2 reach it, so garbage neither
 *    spends a client's rate nor earns a kiss.
 * 4. With require_nts set, a plain request gets the configured action
 *    instead of time (DENY kiss, or DROP_POLICY).
 * 5. An NTS request: a cookie that does not open (unknown key id, bad tag,
 *    bad length) or an authenticator that does not verify gets a NAK (NTSN).
 *    Otherwise the answer echoes the Unique Identifier and carries, sealed
 *    with S2C, 1 + placeholders fresh cookies under the keyset's current
 *    key, never making the response longer than the request. Without a
 *    keyset here it is dropped (DROP_NO_NTS).
 * - A kiss-o'-death is a 48-byte header: leap 3, stratum 0, the code as
 *   refid, zero root delay/dispersion and reference time (for an NTS request
 *   too: the client's cookie is not spent).
 * - Fields as the XDP program sets them: version and poll echoed, origin =
 *   the request's transmit timestamp, receive = rx_ts, transmit read from
 *   tx_now() as late as possible (for NTS, just before sealing).
 * - A request longer than NTS_NTP_MAX_PACKET is dropped as invalid; any
 *   shorter one is decrypted whole (the plaintext buffer is that size).
 * - Thread safety: a ctx belongs to one thread; the keyset is only read,
 *   inside a keyset read-side section that only NTS requests enter; one
 *   policy may serve the ctxs of several threads.
 */
#ifndef XNTS_NTP_SERVE_H
#define XNTS_NTP_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aead.h"

struct keyset;
struct ntp_policy;
struct sockaddr;

/* What the server claims about its clock. */
struct ntp_serve_state {
	uint8_t leap;
	uint8_t stratum;
	int8_t precision;
	uint32_t root_delay;		/* short format, host order */
	uint32_t root_dispersion;	/* short format, host order */
	uint8_t refid[4];		/* wire order */
	uint64_t reference_time;	/* NTP 32.32 */
};

enum ntp_serve_outcome {
	NTP_SERVE_PLAIN,	/* answered, no NTS */
	NTP_SERVE_NTS,		/* answered with NTS */
	NTP_SERVE_NAK,		/* answered with an NTSN NAK */
	NTP_SERVE_RATE,		/* answered with a RATE kiss (rate limit) */
	NTP_SERVE_DENY,		/* answered with a DENY kiss (lists, require-nts) */
	NTP_SERVE_DROP_INVALID,	/* not an acceptable client request */
	NTP_SERVE_DROP_NTS,	/* NTS fields, but not a well-formed NTS request */
	NTP_SERVE_DROP_NO_NTS,	/* NTS request but no keyset here */
	NTP_SERVE_DROP_IGNORED,	/* allow/deny list with action ignore */
	NTP_SERVE_DROP_POLICY,	/* require-nts = ignore */
	NTP_SERVE_DROP_ERROR,	/* internal: crypto or buffer failure */
	NTP_SERVE_N_OUTCOMES,
};

struct ntp_serve_ctx {
	struct aead *session;		/* session keys: C2S, S2C */
	struct aead *cookie;		/* master keys, so their key schedule stays */
	const struct keyset *ks;	/* NULL: no NTS */
	struct ntp_policy *policy;	/* NULL: every client is answered */
	unsigned int versions;		/* bit v: NTPv<v> accepted */
	bool require_nts;
	bool require_nts_deny;		/* true: DENY kiss, false: drop */
	uint64_t (*tx_now)(void);	/* NTP 32.32 now */
	uint64_t (*mono_ms)(void);	/* the rate limit's clock, milliseconds */
};

/* 0, or -1 if a context could not be made. */
int ntp_serve_ctx_init(struct ntp_serve_ctx *c, const struct keyset *ks);
void ntp_serve_ctx_fini(struct ntp_serve_ctx *c);

/*
 * from is the sender, for the access policy; it may be NULL only when the
 * ctx has no policy. rx_ts is the NTP 32.32 receive time. The answer (if
 * any) goes to out, its length to *out_len (0: no answer).
 */
enum ntp_serve_outcome ntp_serve(struct ntp_serve_ctx *c, const uint8_t *req, size_t len,
				 const struct sockaddr *from, uint64_t rx_ts,
				 const struct ntp_serve_state *st, uint8_t *out, size_t cap,
				 size_t *out_len);
const char *ntp_serve_outcome_name(enum ntp_serve_outcome o);
/* NTP 32.32 timestamp of CLOCK_REALTIME now. */
uint64_t ntp_serve_now(void);
/* Milliseconds of CLOCK_MONOTONIC now. */
uint64_t ntp_serve_mono_ms(void);

#endif
