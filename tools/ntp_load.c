// SPDX-License-Identifier: GPL-2.0
/*
 * ntp_load: NTP / NTS request load from many simulated clients at stepped
 * rates, measuring what comes back.
 *
 * Each simulated client is one connected UDP socket (its own source port).
 * In NTS mode each client also has its own session keys and cookie jar,
 * filled by a real NTS-KE exchange up front (-e exchanges shared round robin
 * when fewer than the clients) and refilled from the cookies in responses;
 * every request asks for enough placeholders to bring the jar back to 8.
 *
 * The main thread sends: per step, rate * duration requests paced against
 * CLOCK_MONOTONIC, a burst of up to -b requests per client in one sendmmsg,
 * clients taken round robin. A receiver thread waits on epoll over all the
 * client sockets and drains them with recvmmsg, with kernel receive
 * timestamps (SO_TIMESTAMPNS).
 *
 * Matching: the transmit timestamp of a request is random except for its low
 * bits, which index the client's in-flight slot; the server echoes it as the
 * origin timestamp. Each client has 128..4096 slots, enough to cover 0.25 s
 * at the top rate (memory permitting), used round robin; a slot remembers
 * the request it held before, so an answer to that one counts as late. A
 * response whose origin matches neither is invalid. In NTS mode the response must then verify with the
 * slot's unique id and the client's S2C key (nts_ntp_client_response).
 *
 * After each step the sender pauses for the drain time, then the step is
 * closed and printed; responses to a closed step count as late.
 * Counted per step: sent; recv (good time responses: matched, verified, not
 * a kiss-o'-death); loss = 1 - recv / sent; invalid (wrong origin, wrong
 * UID, failed authentication, malformed, duplicate); NAKs (NTSN) and other
 * kiss codes; the distribution of T3 - T2 from the response and of the
 * round trip (kernel receive time - time just before the sendmmsg, so it
 * includes this tool's batching); with -P the server's CPU time over the
 * step and its drain per 1000 good responses (ms), summed over its threads
 * from /proc/PID/task/TID/schedstat (ns), else utime + stime of
 * /proc/PID/stat (clock ticks).
 *
 * Everything is bounded: steps, clients, slots, bursts, KE timeouts, and an
 * alarm() that ends the process if the run overshoots its planned length.
 *
 * usage: ntp_load -t HOST [-p PORT] [-m plain|nts] [-k KEHOST] [-K KEPORT]
 *        [-a CA] [-n NAME] [-e EXCHANGES] [-c CLIENTS] [-r R1,R2,...]
 *        [-d SECONDS] [-w DRAIN] [-b BURST] [-P PID] [-X]
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "ke_proto.h"
#include "ke_sync.h"
#include "ntp.h"
#include "nts.h"
#include "nts_ntp.h"
#include "aead.h"

#define MAX_CLIENTS 4096
#define MAX_STEPS 32
#define MAX_RATE 10000000UL
#define MAX_DURATION 600.0
#define MIN_SLOTS 128			/* in-flight requests per client */
#define MAX_SLOTS 4096
#define SLOT_SECONDS 0.25		/* slots cover this long at the top rate */
#define MAX_SLOT_BYTES (256UL << 20)	/* all clients' slots together */
#define JAR 8				/* cookies a client keeps */
#define JAR_COOKIE_MAX 256		/* longest cookie we keep */
#define MAX_BURST 16
#define RX_BATCH 32
#define RX_ROUNDS 8			/* recvmmsg calls per ready socket */
#define KE_THREADS 4
#define MAX_TASKS 4096			/* threads of the server summed */
#define KE_TIMEOUT_S 5
#define HIST_SUB 32
#define HIST_MAX_EXP 40
#define HIST_BUCKETS (2 * HIST_SUB + (HIST_MAX_EXP - 5) * HIST_SUB)

enum slot_state { SLOT_FREE, SLOT_PENDING, SLOT_DONE };

struct slot {
	uint64_t tx;
	uint64_t prev_tx;		/* the request this slot held before */
	int64_t sent_ns;		/* CLOCK_REALTIME */
	uint16_t step;
	uint8_t state;
	uint8_t uid[NTS_NTP_UID_LEN];
};

struct client {
	int fd;
	pthread_mutex_t lock;
	struct nts_keys keys;
	unsigned int jar_n;
	uint16_t jar_len[JAR];
	uint8_t jar[JAR][JAR_COOKIE_MAX];
	uint16_t last_len;		/* last cookie used, for an empty jar */
	uint8_t last[JAR_COOKIE_MAX];
	uint32_t seq;
	struct slot *slots;		/* n_slots */
};

struct hist {
	uint64_t n;
	uint64_t b[HIST_BUCKETS];
};

/* Receiver-side counters, under stats_lock; sender-side ones main only. */
struct step {
	unsigned long rate;
	unsigned long sent, send_err, reuse;
	double tx_secs;
	unsigned long recv, nak, kiss, late;
	unsigned long inv_origin, inv_uid, inv_auth, inv_format, inv_dup;
	unsigned long cookie_err;
	struct hist t32, rtt;
	int64_t cpu_ns;			/* server CPU, -1: not measured */
};

static struct {
	const char *target, *ke_host, *ca, *name;
	int port, ke_port, nts, exchanges, clients, burst, pid, stop_on_loss;
	unsigned long rates[MAX_STEPS];
	int n_rates;
	double duration, drain;
} opt = {
	.name = "localhost", .ke_port = NTS_KE_DEFAULT_PORT, .clients = 16,
	.burst = 4, .duration = 2.0, .drain = 0.5, .pid = 0,
};

static struct client *clients;
static uint32_t n_slots = MIN_SLOTS;	/* power of 2 */
static struct step steps[MAX_STEPS];
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int cur_step;
static atomic_int closed_step = -1;
static atomic_int rx_stop;
static struct sockaddr_storage dst;
static socklen_t dst_len;

static int64_t now_ns(clockid_t clk)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* xorshift64*: request ids need to be unpredictable enough for matching,
 * not secret; seeded from RAND_bytes. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static unsigned int hist_index(uint64_t v)
{
	unsigned int e;

	if (v < 2 * HIST_SUB)
		return (unsigned int)v;
	if (v >= 1ULL << (HIST_MAX_EXP + 1))
		v = (1ULL << (HIST_MAX_EXP + 1)) - 1;
	e = 63 - (unsigned int)__builtin_clzll(v);	/* >= 6 */
	return 2 * HIST_SUB + (e - 6) * HIST_SUB + (unsigned int)(v >> (e - 5)) - HIST_SUB;
}

/* Middle of the bucket's range. */
static double hist_value(unsigned int i)
{
	unsigned int e, mant;

	if (i < 2 * HIST_SUB)
		return i;
	e = (i - 2 * HIST_SUB) / HIST_SUB + 6;
	mant = (i - 2 * HIST_SUB) % HIST_SUB + HIST_SUB;
	return (double)((uint64_t)mant << (e - 5)) + (double)(1ULL << (e - 5)) / 2;
}

static void hist_add(struct hist *h, int64_t v)
{
	h->b[hist_index(v < 0 ? 0 : (uint64_t)v)]++;
	h->n++;
}

/* Value at quantile q (0..1), in ns; -1 if empty. */
static double hist_quantile(const struct hist *h, double q)
{
	uint64_t want, acc = 0;

	if (!h->n)
		return -1;
	want = (uint64_t)(q * (double)h->n + 0.999999);
	if (want < 1)
		want = 1;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		acc += h->b[i];
		if (acc >= want)
			return hist_value(i);
	}
	return hist_value(HIST_BUCKETS - 1);
}

/*
 * CPU time of every thread of pid in ns: the sum of the first field of
 * /proc/PID/task/TID/schedstat (ns resolution), or utime + stime from
 * /proc/PID/stat (clock ticks) where schedstat is missing. -1 if neither.
 */
static int64_t proc_cpu_ns(int pid)
{
	char path[96], buf[1024], *p;
	unsigned long long v, ut, st;
	int64_t sum = 0;
	struct dirent *de;
	int n = 0;
	DIR *d;
	FILE *f;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	while (d && n < MAX_TASKS && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/schedstat", pid, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &v) == 1) {
			sum += (int64_t)v;
			n++;
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	if (n)
		return sum;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	p = strrchr(buf, ')');
	/* After the command: state ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt cmajflt utime stime. */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (int64_t)((ut + st) * 1000000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK));
}

/* ---- NTS-KE ---- */

struct ke_job {
	SSL_CTX *ctx;
	struct addrinfo *ai;
	atomic_int next;
	struct ke_proto_client_result **res;
	atomic_int failed;
};

static void *ke_worker(void *arg)
{
	struct ke_job *job = arg;
	int i;

	while ((i = atomic_fetch_add(&job->next, 1)) < opt.exchanges) {
		char err[256];

		if (ke_sync_exchange(job->ctx, job->ai->ai_addr, job->ai->ai_addrlen, opt.name,
				     opt.ca != NULL, KE_TIMEOUT_S, job->res[i], err,
				     sizeof(err))) {
			fprintf(stderr, "ntp_load: NTS-KE: %s\n", err);
			atomic_fetch_add(&job->failed, 1);
			break;
		}
	}
	return NULL;
}

static struct addrinfo *resolve(const char *host, int port, int type)
{
	struct addrinfo hints = { .ai_socktype = type }, *ai;
	char ps[16];

	snprintf(ps, sizeof(ps), "%d", port);
	if (getaddrinfo(host, ps, &hints, &ai)) {
		fprintf(stderr, "ntp_load: cannot resolve %s\n", host);
		return NULL;
	}
	return ai;
}

/* K exchanges; client i takes exchange i % K's keys and every m-th cookie. */
static int nts_setup(void)
{
	pthread_t tid[KE_THREADS];
	struct ke_job job = { 0 };
	int nthreads, ret = -1, e, i;
	int64_t t0 = now_ns(CLOCK_MONOTONIC);

	job.ai = resolve(opt.ke_host, opt.ke_port, SOCK_STREAM);
	if (!job.ai)
		return -1;
	job.ctx = ke_sync_ctx(opt.ca);
	if (!job.ctx) {
		fprintf(stderr, "ntp_load: TLS setup failed (CA %s)\n", opt.ca ? opt.ca : "-");
		goto out;
	}
	job.res = calloc((size_t)opt.exchanges, sizeof(*job.res));
	if (!job.res)
		goto out;
	for (e = 0; e < opt.exchanges; e++) {
		job.res[e] = calloc(1, sizeof(**job.res));
		if (!job.res[e])
			goto out;
	}
	nthreads = opt.exchanges < KE_THREADS ? opt.exchanges : KE_THREADS;
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&tid[i], NULL, ke_worker, &job)) {
			nthreads = i;
			atomic_fetch_add(&job.failed, 1);
			break;
		}
	for (i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	if (atomic_load(&job.failed)) {
		fprintf(stderr, "ntp_load: NTS-KE with %s:%d failed\n", opt.ke_host,
			opt.ke_port);
		goto out;
	}
	for (i = 0; i < opt.clients; i++) {
		const struct ke_proto_client_result *r = job.res[i % opt.exchanges];
		unsigned int m = (unsigned int)((opt.clients - 1 - i % opt.exchanges) /
						opt.exchanges + 1);
		unsigned int rank = (unsigned int)(i / opt.exchanges);
		struct client *c = &clients[i];

		c->keys = r->keys;
		for (unsigned int j = rank; j < r->n_cookies && c->jar_n < JAR; j += m) {
			if (r->cookie_len[j] > JAR_COOKIE_MAX)
				continue;
			memcpy(c->jar[c->jar_n], r->cookies[j], r->cookie_len[j]);
			c->jar_len[c->jar_n++] = r->cookie_len[j];
		}
		if (!c->jar_n) {
			fprintf(stderr, "ntp_load: client %d got no cookie: use more "
				"exchanges (-e)\n", i);
			goto out;
		}
	}
	if (!opt.port)
		opt.port = job.res[0]->ntp_port ? job.res[0]->ntp_port : NTS_NTP_DEFAULT_PORT;
	printf("# NTS-KE: %d exchanges in %.2f s, AEAD %u, cookie %u bytes\n", opt.exchanges,
	       (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9, job.res[0]->keys.aead,
	       job.res[0]->cookie_len[0]);
	ret = 0;
out:
	if (job.res)
		for (e = 0; e < opt.exchanges; e++)
			free(job.res[e]);
	free(job.res);
	SSL_CTX_free(job.ctx);
	freeaddrinfo(job.ai);
	return ret;
}

/* ---- receive ---- */

struct rx_ctx {
	struct aead *siv15, *siv17;
	uint8_t plain[NTS_NTP_MAX_PACKET];
};

/* One datagram on client c; called with stats_lock held. */
static void handle(struct rx_ctx *rx, struct client *c, const uint8_t *pkt, size_t len,
		   int64_t rx_ns)
{
	struct step *cur = &steps[atomic_load(&cur_step)], *st;
	struct nts_ntp_response resp;
	struct ntp_header h;
	struct slot *s;
	int r, closed;

	if (ntp_header_decode(&h, pkt, len) || h.version != NTP_VERSION ||
	    h.mode != NTP_MODE_SERVER) {
		cur->inv_format++;
		return;
	}
	pthread_mutex_lock(&c->lock);
	s = &c->slots[h.orig_ts & (n_slots - 1)];
	if (s->state != SLOT_FREE && s->tx != h.orig_ts && s->prev_tx == h.orig_ts) {
		/* Answer to a request whose slot was taken since: lost. */
		cur->late++;
		goto out;
	}
	if (s->state == SLOT_FREE || s->tx != h.orig_ts) {
		cur->inv_origin++;
		goto out;
	}
	/* Counted with the step that sent the request, unless that one was
	 * already printed. */
	closed = s->step <= atomic_load(&closed_step);
	st = closed ? cur : &steps[s->step];
	if (s->state == SLOT_DONE) {
		st->inv_dup++;
		goto out;
	}
	if (opt.nts) {
		struct aead *siv = c->keys.aead == AEAD_AES_SIV_CMAC_512 ? rx->siv17 : rx->siv15;

		r = nts_ntp_client_response(pkt, len, s->uid, NTS_NTP_UID_LEN, siv, &c->keys,
					    rx->plain, sizeof(rx->plain), &resp);
		if (r == NTS_NTP_NAK) {
			s->state = SLOT_DONE;
			if (closed)
				cur->late++;
			else
				st->nak++;
			goto out;
		}
		if (r == NTS_NTP_ERR_UID_MISMATCH) {
			st->inv_uid++;
			goto out;
		}
		if (r == NTS_NTP_ERR_AUTH || r == NTS_NTP_ERR_NO_AUTH ||
		    r == NTS_NTP_ERR_AUTH_FORMAT || r == NTS_NTP_ERR_AEAD) {
			st->inv_auth++;
			goto out;
		}
		if (r != NTS_NTP_OK) {
			st->inv_format++;
			goto out;
		}
		for (unsigned int i = 0; i < resp.n_cookies; i++) {
			if (resp.cookie_lens[i] > JAR_COOKIE_MAX) {
				st->cookie_err++;
				continue;
			}
			if (c->jar_n >= JAR)
				break;
			memcpy(c->jar[c->jar_n], resp.cookies[i], resp.cookie_lens[i]);
			c->jar_len[c->jar_n++] = (uint16_t)resp.cookie_lens[i];
		}
	}
	s->state = SLOT_DONE;
	if (closed) {
		cur->late++;
		goto out;
	}
	if (h.stratum == 0) {
		st->kiss++;
		goto out;
	}
	st->recv++;
	/* 32.32 difference to ns: high and low halves separately, no overflow. */
	{
		int64_t d = (int64_t)(h.tx_ts - h.rx_ts);
		int64_t ns = (d >> 32) * 1000000000LL +
			(int64_t)(((uint64_t)d & 0xffffffffULL) * 1000000000ULL >> 32);

		hist_add(&st->t32, ns);
	}
	hist_add(&st->rtt, rx_ns - s->sent_ns);
out:
	pthread_mutex_unlock(&c->lock);
}

static void *rx_thread(void *arg)
{
	static uint8_t bufs[RX_BATCH][NTS_NTP_MAX_PACKET];
	static char cbufs[RX_BATCH][CMSG_SPACE(sizeof(struct timespec))];
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct epoll_event ev[64];
	struct rx_ctx *rx = arg;
	int ep = epoll_create1(0);

	if (ep < 0) {
		perror("ntp_load: epoll");
		return NULL;
	}
	for (int i = 0; i < opt.clients; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.u32 = (uint32_t)i };

		epoll_ctl(ep, EPOLL_CTL_ADD, clients[i].fd, &e);
	}
	while (!atomic_load(&rx_stop)) {
		int n = epoll_wait(ep, ev, 64, 50);

		for (int k = 0; k < n; k++) {
			struct client *c = &clients[ev[k].data.u32];

			for (int round = 0; round < RX_ROUNDS; round++) {
				int got;

				for (int j = 0; j < RX_BATCH; j++) {
					iov[j] = (struct iovec){ bufs[j], sizeof(bufs[j]) };
					msgs[j].msg_hdr = (struct msghdr){
						.msg_iov = &iov[j], .msg_iovlen = 1,
						.msg_control = cbufs[j],
						.msg_controllen = sizeof(cbufs[j]),
					};
				}
				got = recvmmsg(c->fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
				if (got <= 0)
					break;
				pthread_mutex_lock(&stats_lock);
				for (int j = 0; j < got; j++) {
					struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[j].msg_hdr);
					int64_t t = 0;

					for (; cm; cm = CMSG_NXTHDR(&msgs[j].msg_hdr, cm)) {
						struct timespec ts;

						if (cm->cmsg_level != SOL_SOCKET ||
						    cm->cmsg_type != SO_TIMESTAMPNS)
							continue;
						memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
						t = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
					}
					if (!t)
						t = now_ns(CLOCK_REALTIME);
					handle(rx, c, bufs[j], msgs[j].msg_len, t);
				}
				pthread_mutex_unlock(&stats_lock);
				if (got < RX_BATCH)
					break;
			}
		}
	}
	close(ep);
	return NULL;
}

/* ---- send ---- */

/*
 * Builds up to n requests for client c into bufs and iov; returns how many
 * were built, *used how many of the n were spent (built or failed). In NTS
 * mode a burst ends at an empty jar, and only a client with no cookie at
 * all reuses its last one (counted): answers may still be on their way.
 */
static int build(struct client *c, struct aead *siv15, struct aead *siv17, int step,
		 uint8_t bufs[][NTS_NTP_MAX_PACKET], struct iovec *iov, int n, int *used)
{
	struct step *st = &steps[step];
	int64_t t = now_ns(CLOCK_REALTIME);
	int k = 0, i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < n; i++) {
		struct ntp_header h = {
			.leap = NTP_LEAP_UNSYNC, .version = NTP_VERSION, .mode = NTP_MODE_CLIENT,
			.poll = 0, .precision = -20,
		};
		struct slot *s;
		uint32_t idx;
		size_t len = NTP_HEADER_LEN;

		if (opt.nts && !c->jar_n && i)
			break;
		idx = c->seq++ & (n_slots - 1);
		s = &c->slots[idx];
		s->prev_tx = s->tx;
		do
			s->tx = (rng_next() & ~(uint64_t)(n_slots - 1)) | idx;
		while (s->tx == idx || s->tx == s->prev_tx);
		h.tx_ts = s->tx;
		if (opt.nts) {
			struct aead *siv = c->keys.aead == AEAD_AES_SIV_CMAC_512 ? siv17 : siv15;
			const uint8_t *ck;
			unsigned int nph;
			size_t cl;

			if (c->jar_n) {
				c->jar_n--;
				cl = c->jar_len[c->jar_n];
				memcpy(c->last, c->jar[c->jar_n], cl);
				c->last_len = (uint16_t)cl;
				nph = JAR - 1 - c->jar_n;
			} else {
				/* Responses still in flight or lost: reuse, and say so. */
				cl = c->last_len;
				st->reuse++;
				nph = JAR - 1;
			}
			ck = c->last;
			if (nph > NTS_NTP_MAX_PLACEHOLDERS)
				nph = NTS_NTP_MAX_PLACEHOLDERS;
			if (nts_ntp_client_request(bufs[k], NTS_NTP_MAX_PACKET, &len, &h, siv,
						   &c->keys, ck, cl, nph, s->uid)) {
				st->send_err++;
				s->state = SLOT_FREE;
				continue;
			}
		} else {
			ntp_header_encode(&h, bufs[k]);
		}
		s->state = SLOT_PENDING;
		s->step = (uint16_t)step;
		s->sent_ns = t;
		iov[k] = (struct iovec){ bufs[k], len };
		k++;
	}
	pthread_mutex_unlock(&c->lock);
	*used = i;
	return k;
}

static void sleep_ns(int64_t ns)
{
	struct timespec t = { .tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL };

	nanosleep(&t, NULL);
}

static void run_step(int step, struct aead *siv15, struct aead *siv17)
{
	static uint8_t bufs[MAX_BURST][NTS_NTP_MAX_PACKET];
	struct iovec iov[MAX_BURST];
	struct mmsghdr msgs[MAX_BURST];
	struct step *st = &steps[step];
	unsigned long total = (unsigned long)((double)st->rate * opt.duration + 0.5);
	int64_t t0 = now_ns(CLOCK_MONOTONIC), deadline, now;
	unsigned long sent = 0;
	int next = 0;

	/* The sender may fall behind; it gets one extra duration, then stops. */
	deadline = t0 + (int64_t)(2 * opt.duration * 1e9);
	while (sent < total) {
		struct client *c;
		unsigned long due;
		int k, n, r, used;

		now = now_ns(CLOCK_MONOTONIC);
		if (now > deadline)
			break;
		due = (unsigned long)((double)(now - t0) * (double)st->rate / 1e9);
		if (due > total)
			due = total;
		if (due <= sent) {
			int64_t wait = (int64_t)(1e9 / (double)st->rate);

			sleep_ns(wait < 1000000 ? wait : 1000000);
			continue;
		}
		n = (int)(due - sent < (unsigned long)opt.burst ? due - sent :
			  (unsigned long)opt.burst);
		c = &clients[next];
		next = (next + 1) % opt.clients;
		k = build(c, siv15, siv17, step, bufs, iov, n, &used);
		for (int j = 0; j < k; j++)
			msgs[j].msg_hdr = (struct msghdr){ .msg_iov = &iov[j], .msg_iovlen = 1 };
		r = k ? sendmmsg(c->fd, msgs, (unsigned int)k, 0) : 0;
		if (r < 0)
			r = 0;
		st->send_err += (unsigned long)(k - r);
		/* Count every attempt as sent: the pacing must not speed up to
		 * make up for errors, and loss covers them. */
		sent += (unsigned long)used;
	}
	st->sent = sent;
	st->tx_secs = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
}

static double us(double ns)
{
	return ns < 0 ? 0 : ns / 1000;
}

/* The three quantiles of h in us as table columns, "-" when h is empty. */
static void quantiles(char *out, size_t cap, const struct hist *h)
{
	if (!h->n)
		snprintf(out, cap, " %8s %8s %8s", "-", "-", "-");
	else
		snprintf(out, cap, " %8.1f %8.1f %8.1f", us(hist_quantile(h, 0.5)),
			 us(hist_quantile(h, 0.9)), us(hist_quantile(h, 0.99)));
}

static void print_step(const struct step *st)
{
	char t32[40], rtt[40];

	double loss = st->sent ? 100.0 * (double)(st->sent - st->recv) / (double)st->sent : 100;
	unsigned long inv = st->inv_origin + st->inv_uid + st->inv_auth + st->inv_format +
		st->inv_dup;
	char cpu[32] = "-";

	if (st->cpu_ns >= 0 && st->recv)
		snprintf(cpu, sizeof(cpu), "%.2f", (double)st->cpu_ns / 1e3 / (double)st->recv);
	quantiles(t32, sizeof(t32), &st->t32);
	quantiles(rtt, sizeof(rtt), &st->rtt);
	printf("%9lu %9.0f %9lu %9lu %6.2f %7lu %6lu %6lu%s%s %9s\n", st->rate,
	       st->tx_secs > 0 ? (double)st->sent / st->tx_secs : 0, st->sent, st->recv, loss,
	       inv, st->nak, st->kiss, t32, rtt, cpu);
	printf("#  detail rate %lu: invalid origin %lu uid %lu auth %lu format %lu dup %lu; "
	       "late %lu send_err %lu cookie_reuse %lu cookie_err %lu\n",
	       st->rate, st->inv_origin, st->inv_uid, st->inv_auth, st->inv_format,
	       st->inv_dup, st->late, st->send_err, st->reuse, st->cookie_err);
	fflush(stdout);
}

static int parse_rates(const char *s)
{
	char *copy = strdup(s), *save = NULL, *tok;

	opt.n_rates = 0;
	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long r = strtoul(tok, &end, 10);

		if (*end || !r || r > MAX_RATE || opt.n_rates >= MAX_STEPS) {
			free(copy);
			return -1;
		}
		opt.rates[opt.n_rates++] = r;
	}
	free(copy);
	return opt.n_rates ? 0 : -1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ntp_load -t HOST [-p PORT] [-m plain|nts] [-k KEHOST] [-K KEPORT]\n"
		"       [-a CA] [-n NAME] [-e EXCHANGES] [-c CLIENTS] [-r R1,R2,...]\n"
		"       [-d SECONDS] [-w DRAIN] [-b BURST] [-P PID] [-X]\n");
}

static int open_clients(void)
{
	struct addrinfo *ai = resolve(opt.target, opt.port, SOCK_DGRAM);
	struct rlimit rl;
	int one = 1, rcvbuf = 1 << 20;

	if (!ai)
		return -1;
	memcpy(&dst, ai->ai_addr, ai->ai_addrlen);
	dst_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < (rlim_t)opt.clients + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < (rlim_t)opt.clients + 64) {
			fprintf(stderr, "ntp_load: open file limit too low for %d clients\n",
				opt.clients);
			return -1;
		}
	}
	for (int i = 0; i < opt.clients; i++) {
		int fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);

		clients[i].fd = fd;
		if (fd < 0 || connect(fd, (struct sockaddr *)&dst, dst_len)) {
			perror("ntp_load: client socket");
			return -1;
		}
		setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct rx_ctx *rx = NULL;
	struct aead *siv15, *siv17;
	int o, best = -1, ret = 1, sender_limited = -1;
	pthread_t rxt;
	double planned;
	const char *mode = "plain";

	while ((o = getopt(argc, argv, "t:p:m:k:K:a:n:e:c:r:d:w:b:P:X")) != -1) {
		switch (o) {
		case 't':
			opt.target = optarg;
			break;
		case 'p':
			opt.port = atoi(optarg);
			break;
		case 'm':
			mode = optarg;
			break;
		case 'k':
			opt.ke_host = optarg;
			break;
		case 'K':
			opt.ke_port = atoi(optarg);
			break;
		case 'a':
			opt.ca = optarg;
			break;
		case 'n':
			opt.name = optarg;
			break;
		case 'e':
			opt.exchanges = atoi(optarg);
			break;
		case 'c':
			opt.clients = atoi(optarg);
			break;
		case 'r':
			if (parse_rates(optarg)) {
				fprintf(stderr, "ntp_load: rates are 1..%lu, at most %d steps\n",
					MAX_RATE, MAX_STEPS);
				return 2;
			}
			break;
		case 'd':
			opt.duration = atof(optarg);
			break;
		case 'w':
			opt.drain = atof(optarg);
			break;
		case 'b':
			opt.burst = atoi(optarg);
			break;
		case 'P':
			opt.pid = atoi(optarg);
			break;
		case 'X':
			opt.stop_on_loss = 1;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (!strcmp(mode, "nts"))
		opt.nts = 1;
	else if (strcmp(mode, "plain"))
		opt.target = NULL;
	if (!opt.n_rates)
		parse_rates("1000,2000,5000,10000");
	if (opt.nts && !opt.ke_host)
		opt.ke_host = opt.target;
	if (opt.nts && !opt.target)
		opt.target = opt.ke_host;
	if (!opt.exchanges)
		opt.exchanges = opt.clients;
	if (!opt.target || opt.clients < 1 || opt.clients > MAX_CLIENTS ||
	    opt.duration <= 0 || opt.duration > MAX_DURATION || opt.drain < 0 ||
	    opt.drain > 10 || opt.burst < 1 || opt.burst > MAX_BURST || opt.port < 0 ||
	    opt.port > 65535 || opt.ke_port < 1 || opt.ke_port > 65535 || opt.exchanges < 1 ||
	    opt.exchanges > opt.clients || (long)opt.exchanges * NTS_KE_COOKIES < opt.clients ||
	    opt.pid < 0) {
		usage();
		fprintf(stderr, "ntp_load: need -t (or -k for nts), 1..%d clients, 1..%d burst, "
			"0 < duration <= %.0f, clients <= 8 * exchanges <= 8 * clients\n",
			MAX_CLIENTS, MAX_BURST, MAX_DURATION);
		return 2;
	}
	if (!opt.nts && !opt.port)
		opt.port = NTS_NTP_DEFAULT_PORT;
	/* Hard stop: KE, every step with its sender overrun and drain, slack. */
	planned = (opt.nts ? 60 : 0) + opt.n_rates * (2 * opt.duration + opt.drain) + 10;
	alarm((unsigned int)planned + 1);
	signal(SIGPIPE, SIG_IGN);
	if (RAND_bytes((unsigned char *)&rng_state, sizeof(rng_state)) != 1)
		return 1;
	rng_state |= 1;

	clients = calloc((size_t)opt.clients, sizeof(*clients));
	rx = calloc(1, sizeof(*rx));
	siv15 = aead_new();
	siv17 = aead_new();
	if (!clients || !rx || !siv15 || !siv17)
		goto out_free;
	rx->siv15 = aead_new();
	rx->siv17 = aead_new();
	if (!rx->siv15 || !rx->siv17)
		goto out_free;
	/* Enough slots per client to cover SLOT_SECONDS at the top rate,
	 * as far as MAX_SLOT_BYTES allows. */
	for (int i = 0; i < opt.n_rates; i++)
		while (n_slots < MAX_SLOTS && (double)n_slots < (double)opt.rates[i] /
		       opt.clients * SLOT_SECONDS)
			n_slots <<= 1;
	while (n_slots > MIN_SLOTS &&
	       (unsigned long)opt.clients * n_slots * sizeof(struct slot) > MAX_SLOT_BYTES)
		n_slots >>= 1;
	for (int i = 0; i < opt.clients; i++) {
		clients[i].fd = -1;
		pthread_mutex_init(&clients[i].lock, NULL);
	}
	for (int i = 0; i < opt.clients; i++) {
		clients[i].slots = calloc(n_slots, sizeof(struct slot));
		if (!clients[i].slots)
			goto out_free;
	}
	if (opt.nts && nts_setup())
		goto out_free;
	if (open_clients())
		goto out_free;
	printf("# ntp_load: %s:%d mode %s, %d clients, %.2f s per step, drain %.2f s, "
	       "burst %d%s\n", opt.target, opt.port, opt.nts ? "nts" : "plain", opt.clients,
	       opt.duration, opt.drain, opt.burst, opt.pid ? ", server cpu from /proc" : "");
	printf("#    rate    tx_pps      sent      recv  loss%% invalid    nak   kiss "
	       "t32_p50  t32_p90  t32_p99  rtt_p50  rtt_p90  rtt_p99 cpu_ms/1k  (times in us)\n");
	fflush(stdout);
	if (pthread_create(&rxt, NULL, rx_thread, rx))
		goto out_free;
	for (int i = 0; i < opt.n_rates; i++) {
		struct step *st = &steps[i];
		int64_t c0 = opt.pid ? proc_cpu_ns(opt.pid) : -1, c1;

		st->rate = opt.rates[i];
		atomic_store(&cur_step, i);
		run_step(i, siv15, siv17);
		sleep_ns((int64_t)(opt.drain * 1e9));
		c1 = opt.pid ? proc_cpu_ns(opt.pid) : -1;
		pthread_mutex_lock(&stats_lock);
		atomic_store(&closed_step, i);
		st->cpu_ns = c0 >= 0 && c1 >= c0 ? c1 - c0 : -1;
		print_step(st);
		pthread_mutex_unlock(&stats_lock);
		if (st->tx_secs > 0 && (double)st->sent / st->tx_secs < 0.97 * (double)st->rate) {
			if (sender_limited < 0)
				sender_limited = i;
		} else if (st->sent && st->recv * 100 >= st->sent * 99 &&
			   (best < 0 || st->rate > steps[best].rate)) {
			best = i;
		}
		if (opt.stop_on_loss && (!st->sent || st->recv * 100 < st->sent * 99))
			break;
	}
	atomic_store(&rx_stop, 1);
	pthread_join(rxt, NULL);
	if (sender_limited >= 0)
		printf("# sender could not keep up from %lu pps: those steps do not count\n",
		       steps[sender_limited].rate);
	if (best < 0) {
		printf("highest rate with <= 1%% loss: none\n");
	} else {
		const struct step *b = &steps[best];
		char cpu[32] = "-";

		if (b->cpu_ns >= 0 && b->recv)
			snprintf(cpu, sizeof(cpu), "%.2f",
				 (double)b->cpu_ns / 1e3 / (double)b->recv);
		printf("highest rate with <= 1%% loss: %lu pps (t3-t2 p50 %.1f us, "
		       "rtt p50 %.1f us, server cpu %s ms/1000)\n", b->rate,
		       us(hist_quantile(&b->t32, 0.5)),
		       us(hist_quantile(&b->rtt, 0.5)), cpu);
	}
	ret = 0;
out_free:
	if (clients)
		for (int i = 0; i < opt.clients; i++) {
			if (clients[i].fd >= 0)
				close(clients[i].fd);
			free(clients[i].slots);
		}
	free(clients);
	if (rx) {
		aead_free(rx->siv15);
		aead_free(rx->siv17);
	}
	free(rx);
	aead_free(siv15);
	aead_free(siv17);
	return ret;
}
