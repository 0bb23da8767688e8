// SPDX-License-Identifier: GPL-2.0
/*
 * kTLS in the 6.12 guest: a TLS 1.3 connection made with OpenSSL over
 * loopback TCP, with SSL_OP_ENABLE_KTLS. OpenSSL 3.0 offloads TLS 1.3
 * sending only, so each side must report BIO_get_ktls_send, the kernel must
 * hold a TLS_TX state of the negotiated cipher, /proc/net/tls_stat must count
 * the new software TX contexts, and the peer (decrypting in OpenSSL) must
 * read exactly what the kernel encrypted.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include "kselftest_harness.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

/* A counter from /proc/net/tls_stat, or -1 if absent. */
static long tls_stat(const char *name)
{
	char key[64];
	long val, found = -1;
	FILE *f = fopen("/proc/net/tls_stat", "re");

	if (!f)
		return -1;
	for (int i = 0; i < 64 && fscanf(f, "%63s %ld", key, &val) == 2; i++)
		if (!strcmp(key, name))
			found = val;
	fclose(f);
	return found;
}

/* A throwaway self-signed P-256 certificate for the server. */
static int make_cert(EVP_PKEY **pkey, X509 **cert)
{
	X509_NAME *name;

	*pkey = EVP_EC_gen("P-256");
	*cert = X509_new();
	if (!*pkey || !*cert)
		return -1;
	X509_set_version(*cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(*cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(*cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(*cert), 3600);
	X509_set_pubkey(*cert, *pkey);
	name = X509_get_subject_name(*cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (unsigned char *)"xnts-vm", -1, -1, 0);
	X509_set_issuer_name(*cert, name);
	return X509_sign(*cert, *pkey, EVP_sha256()) > 0 ? 0 : -1;
}

/* A connected loopback TCP pair. */
static int tcp_pair(int fds[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		return -1;
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&a, sizeof(a)))
		return -1;
	fds[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	close(l);
	return fds[1] < 0 ? -1 : 0;
}

static SSL_CTX *ctx_new(const SSL_METHOD *m, const char *suite)
{
	SSL_CTX *ctx = SSL_CTX_new(m);

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);
	SSL_CTX_set_ciphersuites(ctx, suite);
	return ctx;
}

/* Both handshakes on non-blocking sockets, stepped in turn (no threads). */
static int handshake(SSL *c, SSL *s)
{
	int cdone = 0, sdone = 0;

	for (int i = 0; i < 10000 && !(cdone && sdone); i++) {
		int r;

		if (!cdone) {
			r = SSL_connect(c);
			if (r == 1)
				cdone = 1;
			else if (SSL_get_error(c, r) != SSL_ERROR_WANT_READ)
				return -1;
		}
		if (!sdone) {
			r = SSL_accept(s);
			if (r == 1)
				sdone = 1;
			else if (SSL_get_error(s, r) != SSL_ERROR_WANT_READ)
				return -1;
		}
		if (!(cdone && sdone))
			usleep(1000);
	}
	return cdone && sdone ? 0 : -1;
}

/* Reads exactly n bytes (bounded tries), through OpenSSL. */
static int read_all(SSL *ssl, unsigned char *buf, int n)
{
	int got = 0;

	for (int i = 0; i < 100000 && got < n; i++) {
		int r = SSL_read(ssl, buf + got, n - got);

		if (r > 0)
			got += r;
		else if (SSL_get_error(ssl, r) == SSL_ERROR_WANT_READ)
			usleep(500);
		else
			return -1;
	}
	return got;
}

/* Sends n bytes from one side, receives them on the other and compares. */
static int transfer(SSL *from, SSL *to, int n)
{
	static unsigned char out[65536], in[65536];
	int sent = 0;

	if (n > (int)sizeof(out))
		return -1;
	for (int i = 0; i < n; i++)
		out[i] = (unsigned char)(i * 7 + n);
	/* Write and read interleaved, since the sockets do not block. */
	for (int i = 0; i < 100000 && sent < n; i++) {
		int r = SSL_write(from, out + sent, n - sent);

		if (r > 0)
			sent += r;
		else if (SSL_get_error(from, r) != SSL_ERROR_WANT_WRITE)
			return -1;
		else
			usleep(500);
	}
	if (sent != n || read_all(to, in, n) != n)
		return -1;
	return memcmp(in, out, n) ? -1 : 0;
}

static void run_ktls(struct __test_metadata *_metadata, const char *suite, int cipher)
{
	struct tls_crypto_info info;
	socklen_t ilen = sizeof(info);
	long tx_before, tx_after, curr;
	SSL_CTX *cctx, *sctx;
	EVP_PKEY *pkey;
	X509 *cert;
	SSL *c, *s;
	int fds[2];

	/* No tls_stat yet means the tls module is not loaded: no contexts. */
	tx_before = tls_stat("TlsTxSw");
	if (tx_before < 0)
		tx_before = 0;
	ASSERT_EQ(0, make_cert(&pkey, &cert));
	cctx = ctx_new(TLS_client_method(), suite);
	sctx = ctx_new(TLS_server_method(), suite);
	ASSERT_NE(NULL, cctx);
	ASSERT_NE(NULL, sctx);
	ASSERT_EQ(1, SSL_CTX_use_certificate(sctx, cert));
	ASSERT_EQ(1, SSL_CTX_use_PrivateKey(sctx, pkey));
	ASSERT_EQ(0, tcp_pair(fds));
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, fcntl(fds[i], F_SETFL, O_NONBLOCK));
	c = SSL_new(cctx);
	s = SSL_new(sctx);
	ASSERT_NE(NULL, c);
	ASSERT_NE(NULL, s);
	SSL_set_fd(c, fds[0]);
	SSL_set_fd(s, fds[1]);
	ASSERT_EQ(0, handshake(c, s)) {
		ERR_print_errors_fp(stderr);
	}
	EXPECT_EQ(TLS1_3_VERSION, SSL_version(c));
	EXPECT_EQ(1, BIO_get_ktls_send(SSL_get_wbio(c)));
	EXPECT_EQ(1, BIO_get_ktls_send(SSL_get_wbio(s)));

	/*
	 * The kernel holds the TX state, of the cipher that was negotiated
	 * (a header-sized buffer asks for version and cipher only).
	 */
	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, getsockopt(fds[0], SOL_TLS, TLS_TX, &info, &ilen));
	EXPECT_EQ(TLS_1_3_VERSION, info.version);
	EXPECT_EQ(cipher, info.cipher_type);

	/* Kernel-encrypted records, decrypted by OpenSSL on the other side. */
	EXPECT_EQ(0, transfer(c, s, 1));
	EXPECT_EQ(0, transfer(c, s, 40000));
	EXPECT_EQ(0, transfer(s, c, 300));

	tx_after = tls_stat("TlsTxSw");
	curr = tls_stat("TlsCurrTxSw");
	EXPECT_LE(tx_before + 2, tx_after);
	EXPECT_LE(2, curr);

	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	close(fds[0]);
	close(fds[1]);
}

TEST(tls13_aes_128_gcm)
{
	run_ktls(_metadata, "TLS_AES_128_GCM_SHA256", TLS_CIPHER_AES_GCM_128);
}

TEST(tls13_aes_256_gcm)
{
	run_ktls(_metadata, "TLS_AES_256_GCM_SHA384", TLS_CIPHER_AES_GCM_256);
}

TEST(tls13_chacha20_poly1305)
{
	run_ktls(_metadata, "TLS_CHACHA20_POLY1305_SHA256", TLS_CIPHER_CHACHA20_POLY1305);
}

TEST_HARNESS_MAIN
