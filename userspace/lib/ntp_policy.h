/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ntp_policy: who a server answers, with ntpd-rs's meanings. ntp_serve()
 * consults it for every well-formed request; nothing else needs to.
 *
 * - denylist: a matching client gets the list's action (DENY kiss or
 *   silence); it wins over the allowlist.
 * - allowlist: when set, a client that does not match gets its action.
 * - Rate limiting: a table of rate_limiting_cache_size slots indexed by a
 *   keyed hash of the client address. A request arriving less than
 *   rate_limiting_cutoff_ms after the last one answered for that address gets
 *   a RATE kiss and does not restart the interval (as the XDP program does).
 *   A slot taken over by another address forgets the old one: the table
 *   bounds memory, not accuracy. 0 for either setting turns limiting off.
 * - The configuration is its own small struct, filled by the daemon from
 *   the [[server]] table; ntp_policy_new() copies it, lists included.
 * - Safe to call from several threads at once: slots are updated with
 *   relaxed atomics, and a race at worst lets one extra request through.
 */
#ifndef XNTS_NTP_POLICY_H
#define XNTS_NTP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ntp_policy;

struct ntp_policy_subnet {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network order; 4 bytes used for AF_INET */
	uint8_t prefix;
};

struct ntp_policy_list {
	bool set;		/* false: no list configured */
	bool deny;		/* its action: true a DENY kiss, false silence */
	const struct ntp_policy_subnet *subnets;
	size_t n_subnets;
};

struct ntp_policy_config {
	struct ntp_policy_list allowlist, denylist;
	uint64_t rate_limiting_cache_size;
	uint64_t rate_limiting_cutoff_ms;
};

enum ntp_policy_verdict {
	NTP_POLICY_ANSWER,
	NTP_POLICY_RATE,	/* answer with a RATE kiss */
	NTP_POLICY_DENY,	/* answer with a DENY kiss */
	NTP_POLICY_IGNORE,	/* no answer */
};

/* NULL if out of memory or without randomness for the hash key. */
struct ntp_policy *ntp_policy_new(const struct ntp_policy_config *cfg);
void ntp_policy_free(struct ntp_policy *p);
enum ntp_policy_verdict ntp_policy_check(struct ntp_policy *p, const struct sockaddr *sa,
					 uint64_t now_ms);
/* True if the subnet holds the address (v4-mapped v6 counts as v4). */
bool ntp_policy_subnet_match(const struct ntp_policy_subnet *s, const struct sockaddr *sa);
/* True if any subnet of the list holds the address. */
bool ntp_policy_match(const struct ntp_policy_list *l, const struct sockaddr *sa);

#endif
