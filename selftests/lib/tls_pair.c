// SPDX-License-Identifier: GPL-2.0
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls_pair.h"

static int make_cert(EVP_PKEY **pkeyp, X509 **certp)
{
	EVP_PKEY *pkey;
	X509 *cert;
	X509_NAME *name;

	pkey = *pkeyp = EVP_EC_gen("P-256");
	cert = *certp = X509_new();
	if (!pkey || !cert)
		return -1;
	name = X509_get_subject_name(cert);
	if (X509_set_version(cert, 2) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) != 1 ||
	    !X509_gmtime_adj(X509_getm_notBefore(cert), -60) ||
	    !X509_gmtime_adj(X509_getm_notAfter(cert), 3600) ||
	    X509_set_pubkey(cert, pkey) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				       (const unsigned char *)"nts.test", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(cert, name) != 1 || X509_sign(cert, pkey, EVP_sha256()) <= 0)
		return -1;
	return 0;
}

static const unsigned char alpn[] = "\x07ntske/1";

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto((unsigned char **)out, outlen, alpn, sizeof(alpn) - 1, in,
				  inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

static int setup(EVP_PKEY *pkey, X509 *cert, SSL_CTX **cctx, SSL_CTX **sctx, SSL **c,
		 SSL **s)
{
	BIO *bc, *bs;
	int i, rc = 0, rs = 0;

	*sctx = SSL_CTX_new(TLS_server_method());
	*cctx = SSL_CTX_new(TLS_client_method());
	if (!*sctx || !*cctx)
		return -1;
	SSL_CTX_set_min_proto_version(*sctx, TLS1_3_VERSION);
	SSL_CTX_set_min_proto_version(*cctx, TLS1_3_VERSION);
	if (SSL_CTX_use_certificate(*sctx, cert) != 1 || SSL_CTX_use_PrivateKey(*sctx, pkey) != 1)
		return -1;
	SSL_CTX_set_alpn_select_cb(*sctx, alpn_select, NULL);
	/* The client really verifies the server against the generated cert. */
	if (X509_STORE_add_cert(SSL_CTX_get_cert_store(*cctx), cert) != 1)
		return -1;
	SSL_CTX_set_verify(*cctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_set_alpn_protos(*cctx, alpn, sizeof(alpn) - 1) != 0)
		return -1;
	*c = SSL_new(*cctx);
	*s = SSL_new(*sctx);
	if (!*c || !*s || SSL_set1_host(*c, "nts.test") != 1)
		return -1;
	if (BIO_new_bio_pair(&bc, 0, &bs, 0) != 1)
		return -1;
	SSL_set_bio(*c, bc, bc);
	SSL_set_bio(*s, bs, bs);
	SSL_set_connect_state(*c);
	SSL_set_accept_state(*s);
	for (i = 0; i < 50 && (rc != 1 || rs != 1); i++) {
		if (rc != 1) {
			rc = SSL_do_handshake(*c);
			if (rc != 1 && SSL_get_error(*c, rc) != SSL_ERROR_WANT_READ)
				return -1;
		}
		if (rs != 1) {
			rs = SSL_do_handshake(*s);
			if (rs != 1 && SSL_get_error(*s, rs) != SSL_ERROR_WANT_READ)
				return -1;
		}
	}
	return rc == 1 && rs == 1 ? 0 : -1;
}

int tls_pair(SSL_CTX **cctx, SSL_CTX **sctx, SSL **c, SSL **s)
{
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	int ret;

	*cctx = *sctx = NULL;
	*c = *s = NULL;
	ret = make_cert(&pkey, &cert) ? -1 : setup(pkey, cert, cctx, sctx, c, s);
	/* The contexts hold their own references. */
	X509_free(cert);
	EVP_PKEY_free(pkey);
	return ret;
}
