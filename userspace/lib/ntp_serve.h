/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ntp_serve: one NTP request in, one response out - the server's protocol
 * core. The userspace server runs it per datagram; the XDP program must
 * produce responses that agree with it field by field (the differential
 * tests compare the two).
 *
 * Contract:
 * - A valid request is NTPv3 or v4 (as allowed by the versions mask), mode
 *   3, at least 48 bytes. Anything else is dropped (no answer), as is any
 *   request carrying a legacy MAC.
 * - A request with no extension fields, or with fields but no NTS Unique
 *   Identifier and Cookie, is plain: the answer is a 48-byte header. With
 *   require_nts set it gets the configured action instead (DENY kiss or
 *   drop).
 * - An NTS request is parsed strictly (nts_ntp.h); a malformed one is
 *   dropped. A cookie that does not open (unknown key id, bad tag, bad
 *   length) or an authenticator that does not verify gets a NAK (NTSN).
 *   Otherwise the answer echoes the Unique Identifier and carries, sealed
 *   with S2C, 1 + placeholders fresh cookies under the keyset's current
 *   key, never making the response longer than the request.
 * - kiss (set by the caller's access policy: allow/deny list, rate limit)
 *   turns the answer into a kiss-o'-death: leap 3, stratum 0, the code as
 *   refid, zero root delay/dispersion and reference time.
 * - Fields as the XDP program sets them: version and poll echoed, origin =
 *   the request's transmit timestamp, receive = rx_ts, transmit read from
 *   tx_now() as late as possible (for NTS, just before sealing).
 * - Thread safety: a ctx belongs to one thread; the keyset is only read,
 *   inside a keyset read-side section that only NTS requests enter.
 */
#ifndef XNTS_NTP_SERVE_H
#define XNTS_NTP_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siv.h"

struct keyset;

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

enum ntp_serve_kiss {
	NTP_KISS_NONE,
	NTP_KISS_RATE,
	NTP_KISS_DENY,
};

enum ntp_serve_outcome {
	NTP_SERVE_PLAIN,	/* answered, no NTS */
	NTP_SERVE_NTS,		/* answered with NTS */
	NTP_SERVE_NAK,		/* answered with an NTSN NAK */
	NTP_SERVE_KISS,		/* answered with RATE or DENY */
	NTP_SERVE_DROP_INVALID,	/* not an acceptable client request */
	NTP_SERVE_DROP_NTS,	/* malformed NTS request */
	NTP_SERVE_DROP_NO_NTS,	/* NTS request but no keyset here */
	NTP_SERVE_DROP_POLICY,	/* require-nts = ignore */
	NTP_SERVE_DROP_ERROR,	/* internal: crypto or buffer failure */
	NTP_SERVE_N_OUTCOMES,
};

struct ntp_serve_ctx {
	struct siv *siv[2];		/* AEAD 15 and 17 session contexts */
	struct siv *cookie_siv;		/* AEAD 15 for master keys */
	const struct keyset *ks;	/* NULL: no NTS */
	unsigned int versions;		/* bit v: NTPv<v> accepted */
	bool require_nts;
	bool require_nts_deny;		/* true: DENY kiss, false: drop */
	uint64_t (*tx_now)(void);	/* NTP 32.32 now */
};

/* 0, or -1 if a context could not be made. */
int ntp_serve_ctx_init(struct ntp_serve_ctx *c, const struct keyset *ks);
void ntp_serve_ctx_fini(struct ntp_serve_ctx *c);

enum ntp_serve_outcome ntp_serve(struct ntp_serve_ctx *c, const uint8_t *req, size_t len,
				 uint64_t rx_ts, const struct ntp_serve_state *st,
				 enum ntp_serve_kiss kiss, uint8_t *out, size_t cap,
				 size_t *out_len);
const char *ntp_serve_outcome_name(enum ntp_serve_outcome o);
/* NTP 32.32 timestamp of CLOCK_REALTIME now. */
uint64_t ntp_serve_now(void);

#endif
