// SPDX-License-Identifier: GPL-2.0
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>

#include "ke_sync.h"

SSL_CTX *ke_sync_ctx(const char *ca)
{
	static const unsigned char alpn[] = "\x07ntske/1";
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1) ||
	    (ca && SSL_CTX_load_verify_file(ctx, ca) != 1)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (ca)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

int ke_sync_exchange(SSL_CTX *ctx, const struct sockaddr *sa, socklen_t salen,
		     const char *name, int verify_name, int timeout_s,
		     struct ke_proto_client_result *res, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = timeout_s };
	struct ke_proto_resp resp;
	uint8_t req[256], buf[4096];
	int fd, one = 1, r = 0, ret = -1;
	size_t len, n;
	SSL *ssl = NULL;

	snprintf(err, errlen, "connection failed");
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, sa, salen))
		goto out;
	ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1)
		goto out;
	SSL_set_tlsext_host_name(ssl, name);
	if (verify_name)
		SSL_set1_host(ssl, name);
	snprintf(err, errlen, "TLS handshake failed");
	if (SSL_connect(ssl) != 1)
		goto out;
	len = ke_proto_client_request(req, sizeof(req));
	if (!len || SSL_write_ex(ssl, req, len, &n) != 1 || n != len)
		goto out;
	if (ke_proto_resp_init(&resp))
		goto out;
	/* Reads are bounded in time (SO_RCVTIMEO) and the message in size. */
	for (int i = 0; r == 0 && i < NTS_KE_MAX_MSG / 16 &&
	     SSL_read_ex(ssl, buf, sizeof(buf), &n) == 1; i++)
		r = ke_proto_resp_feed(&resp, buf, n);
	if (r != 1)
		snprintf(err, errlen, "no complete NTS-KE response");
	else if (ke_proto_client_finish(&resp, ssl, res, err, errlen))
		;	/* err says why */
	else if (!res->n_cookies)
		snprintf(err, errlen, "no cookies");
	else
		ret = 0;
	ke_proto_resp_free(&resp);
out:
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	close(fd);
	return ret;
}
