/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ke_server: one NTS-KE server (one [[nts-ke-server]] table) on a loop.
 *
 * Worker threads (one per CPU, or [[nts-ke-server]] workers), each with its
 * own io_uring, accept TCP connections from the shared listener, drive the
 * TLS 1.3 handshake non-blocking with io_uring polls on the socket (OpenSSL
 * owns the fd so that kTLS can take over after the handshake), read one
 * request, answer it with cookies from the keyset (read-locked against
 * rotation), and close. The main loop that keeps the clock never runs a
 * handshake. Every connection has a deadline and a bounded request size;
 * connections past the total, per-client (IPv6: per /64) or per-client
 * accept-rate limits (ke_limit.h) are closed as soon as they are accepted.
 * Accept errors such as EMFILE pause that worker's accepts (10 ms doubling
 * to 1 s) instead of spinning, and RLIMIT_NOFILE is raised to what
 * concurrent-connections needs.
 * Certificates reload on ke_server_reload() and on inotify events for the
 * chain and key files (their directories are watched, so symlink swaps and
 * renames are seen); a broken new pair leaves the old one serving.
 */
#ifndef XNTS_KE_SERVER_H
#define XNTS_KE_SERVER_H

#include <pthread.h>
#include <stdint.h>

#include "loop.h"

struct ke_server;
struct keyset;
struct config_nts_ke_server;

struct ke_server_stats {
	uint64_t accepted;
	uint64_t refused_limit;		/* concurrent-connections reached */
	uint64_t refused_client;	/* per-client-connections reached */
	uint64_t refused_rate;		/* per-client-accept-rate exceeded */
	uint64_t accept_errors;
	uint64_t accept_backoffs;	/* pauses after resource errors */
	uint64_t handshakes_ok;
	uint64_t handshakes_failed;
	uint64_t fail_tls;
	uint64_t fail_alpn;
	uint64_t fail_timeout;
	uint64_t fail_bad_request;
	uint64_t fail_critical;
	uint64_t fail_no_match;
	uint64_t fail_internal;
	uint64_t responses;
	uint64_t cookies_issued;
	uint64_t ktls_send;	/* exchanges whose send side ran on kTLS */
	uint64_t ktls_recv;
	uint64_t reloads_ok;
	uint64_t reloads_failed;
	/* NTS pools (Documentation/nts-ke.md) */
	uint64_t pool_fixed_key;	/* cookies under keys a pool supplied */
	uint64_t pool_support;		/* protocol / AEAD queries answered */
	uint64_t pool_refused_token;	/* pool request, token missing or not accepted */
	uint64_t pool_bad_request;	/* malformed request carrying pool records */
	uint64_t pool_deny_records;	/* NTP Server Deny records seen (and ignored) */
	uint64_t longlived_opened;	/* connections kept alive */
	uint64_t longlived_requests;	/* requests answered on them */
	uint64_t longlived_refused_limit;	/* longlived-connections reached */
	uint64_t longlived_closed_requests;	/* longlived-max-requests reached */
	uint64_t longlived_closed_idle;		/* longlived-idle-timeout-ms passed */
	uint64_t longlived_closed_duration;	/* longlived-max-duration-ms passed */
	uint32_t longlived_active;
	uint32_t active;
	uint32_t clients;	/* addresses (/64s) holding connections */
	uint32_t workers;
	uint32_t last_key_id;
};

/* Workers read ks's current snapshot; rotation on the main thread never blocks them. */
struct ke_server *ke_server_new(struct loop *l, const struct config_nts_ke_server *cfg,
				struct keyset *ks, char *err, size_t errlen);
void ke_server_free(struct ke_server *s);
/* Reload the certificate chain and key; 0 on success. */
int ke_server_reload(struct ke_server *s);
/* The workers' counters summed (read racily, as for ntp_server). */
void ke_server_stats(const struct ke_server *s, struct ke_server_stats *out);
const char *ke_server_listen_name(const struct ke_server *s);

#endif
