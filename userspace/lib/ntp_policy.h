/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ntp_policy: who a [[server]] answers, with ntpd-rs's meanings.
 *
 * - denylist: a matching client gets the list's action (DENY kiss or
 *   silence); it wins over the allowlist.
 * - allowlist: when set, a client that does not match gets its action.
 * - Rate limiting: the XDP program's algorithm and key (xnts_ratelimit.h):
 *   a token bucket of rate-limiting-burst requests refilled one per
 *   rate-limiting-cutoff-ms, per IPv4 address or IPv6 prefix
 *   (rate-limiting-ipv6-prefix); over the limit: a RATE kiss. The state is a
 *   table of rate-limiting-cache-size slots indexed by a keyed hash of the
 *   rate key. A slot taken over by another key forgets the old one: the
 *   table bounds memory, not accuracy. 0 for the size or the cutoff turns
 *   limiting off.
 * - Safe to call from several threads at once: slots are updated with
 *   relaxed atomics, and a race at worst lets one extra request through.
 */
#ifndef XNTS_NTP_POLICY_H
#define XNTS_NTP_POLICY_H

#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "ntp_serve.h"

struct ntp_policy;

enum ntp_policy_verdict {
	NTP_POLICY_ANSWER,
	NTP_POLICY_RATE,	/* answer with a RATE kiss */
	NTP_POLICY_DENY,	/* answer with a DENY kiss */
	NTP_POLICY_IGNORE,	/* no answer */
};

struct ntp_policy *ntp_policy_new(const struct config_server *cfg);
void ntp_policy_free(struct ntp_policy *p);
enum ntp_policy_verdict ntp_policy_check(struct ntp_policy *p, const struct sockaddr *sa,
					 uint64_t now_ms);
/* True if the subnet list matches the address (v4-mapped v6 counts as v4). */
int ntp_policy_match(const struct config_filter *f, const struct sockaddr *sa);

#endif
