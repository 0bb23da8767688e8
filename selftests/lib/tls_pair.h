/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tls_pair: a client and a server SSL joined by an in-memory BIO pair,
 * handshaken with TLS 1.3 and ALPN "ntske/1" over a freshly generated
 * self-signed P-256 certificate for "nts.test", which the client verifies.
 * For tests of what runs on top of a TLS session (key export, NTS-KE).
 * Returns 0 with all four set; the caller frees them with SSL_free and
 * SSL_CTX_free. After the handshake, bytes written on one side are read on
 * the other.
 */
#ifndef XNTS_TLS_PAIR_H
#define XNTS_TLS_PAIR_H

#include <openssl/ssl.h>

int tls_pair(SSL_CTX **cctx, SSL_CTX **sctx, SSL **c, SSL **s);

#endif
