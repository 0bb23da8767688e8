/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ke_client: the NTS-KE client of one nts source.
 *
 * ke_client_start() runs one exchange on the loop: resolve, connect, TLS 1.3
 * with ALPN ntske/1 and the source's trust settings (tls.h), request,
 * response. On success the session keys, cookies, and the negotiated NTP
 * server and port are in the result, and done() runs; on failure done() runs
 * with the reason and the next attempt is due after an exponential backoff
 * (1 s doubling to 1 h... bounded), which the owner honours.
 * Nothing blocks: DNS runs on a thread (resolve.h), I/O through io_uring.
 */
#ifndef XNTS_KE_CLIENT_H
#define XNTS_KE_CLIENT_H

#include <stdint.h>
#include <sys/socket.h>

#include "ke_proto.h"
#include "loop.h"
#include "resolve.h"

enum ke_client_state {
	KEC_IDLE,
	KEC_RESOLVING,
	KEC_CONNECTING,
	KEC_HANDSHAKE,
	KEC_EXCHANGE,
	KEC_DONE,
	KEC_FAILED,
};

struct ke_result {
	/* ntp_server is filled with the KE host when the server named none. */
	struct ke_proto_client_result ke;
	struct sockaddr_storage ke_addr;	/* the address the KE went to */
	socklen_t ke_addr_len;
};

struct ke_client;

struct ke_client_params {
	const char *host;	/* DNS name or IP literal */
	uint16_t port;
	const char *ca_path;	/* may be NULL */
	const uint8_t *pin;	/* may be NULL; SHA-256 of SPKI */
	uint32_t timeout_ms;
};

struct ke_client *ke_client_new(struct loop *l, const struct ke_client_params *p,
				void (*done)(struct ke_client *c, void *arg), void *arg,
				char *err, size_t errlen);
void ke_client_free(struct ke_client *c);
/* Start an exchange unless one runs. */
void ke_client_start(struct ke_client *c);
enum ke_client_state ke_client_state(const struct ke_client *c);
const char *ke_client_state_name(enum ke_client_state s);
const struct ke_result *ke_client_result(const struct ke_client *c);
const char *ke_client_error(const struct ke_client *c);
/* Monotonic ms at which the next attempt is due after a failure. */
uint64_t ke_client_retry_at(const struct ke_client *c);
unsigned int ke_client_failures(const struct ke_client *c);
int ke_client_ktls(const struct ke_client *c);

#endif
