/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tls: OpenSSL contexts for NTS-KE: TLS 1.3 only, ALPN "ntske/1", kTLS
 * requested (the kernel decides whether it is used).
 *
 * Server: tls_server_ctx_new() loads a chain and key and fails with a message
 * naming the file; the caller swaps contexts on reload, and connections keep
 * the context they started with (OpenSSL reference counts it).
 * Client: the system CA store plus an optional extra CA file, hostname or IP
 * SAN verification, or - when a pin is given - acceptance of exactly the
 * certificate whose SubjectPublicKeyInfo hashes to the pin (self-signed
 * allowed), and nothing else.
 */
#ifndef XNTS_TLS_H
#define XNTS_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

#define TLS_PIN_LEN 32

SSL_CTX *tls_server_ctx_new(const char *chain_path, const char *key_path,
			    char *err, size_t errlen);
/* ca_path and pin may be NULL. pin is a SHA-256 of the SPKI DER. */
SSL_CTX *tls_client_ctx_new(const char *ca_path, const uint8_t *pin,
			    char *err, size_t errlen);
/* SNI and name checks for one connection: host is a DNS name or IP literal. */
int tls_client_set_host(SSL *ssl, const char *host);
/* 1 when the negotiated ALPN is ntske/1. */
int tls_alpn_ok(SSL *ssl);
/* SHA-256 over the certificate's SubjectPublicKeyInfo DER. */
int tls_spki_sha256(X509 *cert, uint8_t out[TLS_PIN_LEN]);
/* The OpenSSL error queue as one line (drains it). */
const char *tls_error_string(char *buf, size_t len);

#endif
