// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "tls.h"

static const unsigned char alpn_ntske[] = "\x07ntske/1";

const char *tls_error_string(char *buf, size_t len)
{
	unsigned long e, last = 0;

	while ((e = ERR_get_error()))
		last = e;
	if (!last)
		snprintf(buf, len, "unknown TLS error");
	else
		ERR_error_string_n(last, buf, len);
	return buf;
}

int tls_alpn_ok(SSL *ssl)
{
	const unsigned char *p;
	unsigned int n;

	SSL_get0_alpn_selected(ssl, &p, &n);
	return n == sizeof(alpn_ntske) - 2 && !memcmp(p, alpn_ntske + 1, n);
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char *sel;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, alpn_ntske, sizeof(alpn_ntske) - 1,
				  in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *ctx_common(const SSL_METHOD *method)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (!ctx)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* NTS-KE is one exchange per connection: no tickets, no resumption. */
	SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
}

SSL_CTX *tls_server_ctx_new(const char *chain_path, const char *key_path,
			    char *err, size_t errlen)
{
	char e[256];
	SSL_CTX *ctx = ctx_common(TLS_server_method());

	ERR_clear_error();
	if (!ctx) {
		snprintf(err, errlen, "TLS context: %s", tls_error_string(e, sizeof(e)));
		return NULL;
	}
	SSL_CTX_set_num_tickets(ctx, 0);
	/* A pool's Fixed Key Request is keys in the clear: no copy in OpenSSL's buffer. */
	SSL_CTX_set_options(ctx, SSL_OP_CLEANSE_PLAINTEXT);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	if (SSL_CTX_use_certificate_chain_file(ctx, chain_path) != 1) {
		snprintf(err, errlen, "certificate chain %s: %s", chain_path,
			 tls_error_string(e, sizeof(e)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errlen, "private key %s: %s", key_path,
			 tls_error_string(e, sizeof(e)));
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "private key %s does not match certificate %s",
			 key_path, chain_path);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int tls_spki_sha256(X509 *cert, uint8_t out[TLS_PIN_LEN])
{
	unsigned char *der = NULL;
	unsigned int n = 0;
	int len;

	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	if (len <= 0)
		return -1;
	len = EVP_Digest(der, (size_t)len, out, &n, EVP_sha256(), NULL) &&
	      n == TLS_PIN_LEN ? 0 : -1;
	OPENSSL_free(der);
	return len;
}

static int pin_index = -1;

/*
 * With a pin, the pin is the whole trust decision: the chain and the name
 * do not matter, and nothing but that key is accepted.
 */
static int verify_pin(X509_STORE_CTX *sctx, void *arg)
{
	uint8_t got[TLS_PIN_LEN];
	X509 *leaf = X509_STORE_CTX_get0_cert(sctx);

	if (!leaf || tls_spki_sha256(leaf, got) ||
	    CRYPTO_memcmp(got, arg, TLS_PIN_LEN)) {
		X509_STORE_CTX_set_error(sctx, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	return 1;
}

static void free_pin(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
		     long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	OPENSSL_free(ptr);
}

SSL_CTX *tls_client_ctx_new(const char *ca_path, const uint8_t *pin,
			    char *err, size_t errlen)
{
	char e[256];
	SSL_CTX *ctx = ctx_common(TLS_client_method());
	uint8_t *copy;

	ERR_clear_error();
	if (!ctx) {
		snprintf(err, errlen, "TLS context: %s", tls_error_string(e, sizeof(e)));
		return NULL;
	}
	if (SSL_CTX_set_alpn_protos(ctx, alpn_ntske, sizeof(alpn_ntske) - 1)) {
		snprintf(err, errlen, "ALPN: %s", tls_error_string(e, sizeof(e)));
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (pin) {
		if (pin_index < 0)
			pin_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
							     free_pin);
		copy = OPENSSL_memdup(pin, TLS_PIN_LEN);
		if (pin_index < 0 || !copy ||
		    !SSL_CTX_set_ex_data(ctx, pin_index, copy)) {
			OPENSSL_free(copy);
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		SSL_CTX_set_cert_verify_callback(ctx, verify_pin, copy);
		return ctx;
	}
	if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(err, errlen, "system CA store: %s",
			 tls_error_string(e, sizeof(e)));
		goto fail;
	}
	if (ca_path && SSL_CTX_load_verify_file(ctx, ca_path) != 1) {
		snprintf(err, errlen, "certificate-authority %s: %s", ca_path,
			 tls_error_string(e, sizeof(e)));
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int tls_client_set_host(SSL *ssl, const char *host)
{
	X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
	unsigned char addr[16];
	int is_ip = inet_pton(AF_INET, host, addr) == 1 ||
		    inet_pton(AF_INET6, host, addr) == 1;

	if (is_ip)
		/* RFC 6066: SNI carries names only; an IP must match an IP SAN. */
		return X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1 ? 0 : -1;
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set_tlsext_host_name(ssl, host) != 1)
		return -1;
	return SSL_set1_host(ssl, host) == 1 ? 0 : -1;
}
