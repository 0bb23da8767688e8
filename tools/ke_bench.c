// SPDX-License-Identifier: GPL-2.0
/*
 * ke_bench: complete NTS-KE exchanges per second against one server.
 * Each thread loops: TCP connect, TLS 1.3 handshake (ALPN ntske/1, chain
 * verified against -a CA), request, whole response parsed and checked,
 * keys exported. Only exchanges that yield cookies count.
 *
 * usage: ke_bench -p PORT [-h HOST] [-a CA] [-t THREADS] [-d SECONDS]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "ke_sync.h"

static const char *host = "127.0.0.1", *ca;
static int port, threads = 2;
static double seconds = 5;
static atomic_ulong ok, failed;
static volatile int stop;

static int exchange(SSL_CTX *ctx, const struct sockaddr_in *sa)
{
	struct ke_proto_client_result *res = malloc(sizeof(*res));
	char err[256];
	int ret;

	if (!res)
		return -1;
	ret = ke_sync_exchange(ctx, (const struct sockaddr *)sa, sizeof(*sa), "localhost",
			       ca != NULL, 5, res, err, sizeof(err));
	free(res);
	return ret;
}

static void *worker(void *arg)
{
	SSL_CTX *ctx = arg;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, host, &sa.sin_addr);
	while (!stop) {
		if (exchange(ctx, &sa))
			atomic_fetch_add(&failed, 1);
		else
			atomic_fetch_add(&ok, 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t tid[64];
	struct timespec t0, t1;
	SSL_CTX *ctx;
	double dt;
	int opt;

	while ((opt = getopt(argc, argv, "h:p:a:t:d:")) != -1) {
		switch (opt) {
		case 'h':
			host = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'a':
			ca = optarg;
			break;
		case 't':
			threads = atoi(optarg);
			break;
		case 'd':
			seconds = atof(optarg);
			break;
		default:
			fprintf(stderr, "usage: ke_bench -p PORT [-h HOST] [-a CA] "
				"[-t THREADS] [-d SECONDS]\n");
			return 2;
		}
	}
	if (!port || threads < 1 || threads > 64 || seconds <= 0) {
		fprintf(stderr, "ke_bench: need -p PORT, 1..64 threads, seconds > 0\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	ctx = ke_sync_ctx(ca);
	if (!ctx) {
		fprintf(stderr, "ke_bench: TLS setup failed\n");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, worker, ctx);
	usleep((useconds_t)(seconds * 1e6));
	stop = 1;
	for (int i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%.1f exchanges/s (%lu ok, %lu failed in %.2f s, %d threads)\n",
	       (double)atomic_load(&ok) / dt, atomic_load(&ok), atomic_load(&failed), dt,
	       threads);
	SSL_CTX_free(ctx);
	return atomic_load(&ok) ? 0 : 1;
}
