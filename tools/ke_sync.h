/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ke_sync: one blocking NTS-KE exchange, for the tools (benchmark and load
 * generator) that need cookies without an event loop. TCP connect, TLS 1.3
 * with ALPN ntske/1 (ctx from ke_sync_ctx()), request, the whole response
 * parsed and checked, keys exported. Every socket wait is bounded by
 * timeout_s and the response by NTS_KE_MAX_MSG.
 */
#ifndef XNTS_KE_SYNC_H
#define XNTS_KE_SYNC_H

#include <stddef.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "ke_proto.h"

/* TLS 1.3, ALPN ntske/1; verifies against ca (and the name) when ca is set. */
SSL_CTX *ke_sync_ctx(const char *ca);
/* 0 with res filled (at least one cookie), or -1 with err set. */
int ke_sync_exchange(SSL_CTX *ctx, const struct sockaddr *sa, socklen_t salen,
		     const char *name, int verify_name, int timeout_s,
		     struct ke_proto_client_result *res, char *err, size_t errlen);

#endif
