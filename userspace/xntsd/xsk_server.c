// SPDX-License-Identifier: GPL-2.0
/* xsk_server: the AF_XDP answer path. See xsk_server.h for the contract. */
#include <errno.h>
#include <math.h>
#include <linux/ethtool.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <xdp/xsk.h>

#include "config.h"
#include "log.h"
#include "loop.h"
#include "xdp_ctl.h"
#include "netaddr.h"
#include "ntp.h"
#include "ntp_server.h"
#include "sbuf.h"
#include "udp_frame.h"
/* Until the BPF map value stops sharing the config's struct name: */
#define xnts_config xnts_bpf_config
#include "xnts_shared.h"
#undef xnts_config
#include "xsk_server.h"

#define FRAME_SIZE 2048			/* XSK_UMEM__DEFAULT_FRAME_SIZE / 2: a power of two */
/*
 * Each of fill, completion, RX, TX. The UMEM (2 frames per ring entry) is
 * pinned and counted against RLIMIT_MEMLOCK, 8 MiB by default, which also
 * binds sockets re-created after the privilege drop: 4096 entries failed.
 */
#define RING_SIZE 2048
#define N_FRAMES (2 * RING_SIZE)
#define BATCH 64
#define MAX_QUEUES 64
#define MAX_SOCKETS 256
#define KICK_MAX 64			/* copy mode sends at most 32 frames a kick */
#define ANSWER_MAX 1500

struct xsk_stats {
	uint64_t frames;		/* taken from the RX ring */
	uint64_t frame_err[6];		/* by -enum udp_frame_err */
	uint64_t no_server;		/* to no [[server]] address of ours */
	uint64_t meta_ts;		/* receive time from the program's metadata */
	uint64_t sent;			/* replies completed by the kernel */
	uint64_t tx_full;		/* replies dropped: TX ring full */
	uint64_t wakeups;		/* returns from poll() with frames waiting */
	uint64_t batch_waits;		/* sleeps letting a batch gather */
	uint64_t batches;		/* non-empty batches taken from the RX ring */
	uint64_t kicks;			/* sendto() calls that start transmission */
	struct ntp_server_stats srv;	/* the decisions (ntp_server_answer) */
};

struct xsk_worker {
	struct xsk_server *x;
	char ifname[IF_NAMESIZE];
	unsigned int queue;
	int zerocopy;
	pthread_t tid;
	int started;
	int efd;
	int stop;			/* set (atomically) before efd is signalled */
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	uint64_t free_frames[N_FRAMES];	/* frames owned by userspace, not in any ring */
	unsigned int n_free;
	unsigned int tx_outstanding;
	struct ntp_serve_ctx *ctx;	/* one per server */
	uint8_t answer[ANSWER_MAX];
	struct ntp_drop_log drops;
	struct xsk_stats st;		/* this worker's only; read racily for status */
};

struct xsk_server {
	struct ntp_server **servers;
	unsigned int n_servers;
	int xskmap_fd;
	unsigned int n_workers;
	uint64_t batch_wait_ns;		/* [xdp] af-xdp-batch-wait-us */
	struct xsk_worker *w[MAX_SOCKETS];
};

/* RX queues of an interface, from the driver (ETHTOOL_GCHANNELS); 1 if unknown. */
static unsigned int rx_queues(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { 0 };
	unsigned int n = 1;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (char *)&ch;
	if (!ioctl(fd, SIOCETHTOOL, &ifr)) {
		n = ch.rx_count > ch.combined_count ? ch.rx_count : ch.combined_count;
		if (!n)
			n = 1;
	}
	close(fd);
	return n > MAX_QUEUES ? MAX_QUEUES : n;
}

/* The [[server]] a frame was sent to: same port, and same address or a wildcard. */
static int server_for(const struct xsk_server *x, const struct udp_frame *uf)
{
	for (unsigned int i = 0; i < x->n_servers; i++) {
		const struct netaddr *a = ntp_server_addr(x->servers[i]);

		if (a->ss.ss_family == AF_INET) {
			const struct sockaddr_in *l = (const void *)&a->ss;
			const struct sockaddr_in *d = (const void *)&uf->dst;

			if (uf->family != AF_INET || l->sin_port != d->sin_port)
				continue;
			if (l->sin_addr.s_addr == INADDR_ANY ||
			    l->sin_addr.s_addr == d->sin_addr.s_addr)
				return (int)i;
		} else {
			const struct sockaddr_in6 *l = (const void *)&a->ss;

			/* A [::] listener takes IPv4 too (its sockets are not v6only). */
			if (uf->family == AF_INET) {
				const struct sockaddr_in *d = (const void *)&uf->dst;

				if (l->sin6_port == d->sin_port &&
				    IN6_IS_ADDR_UNSPECIFIED(&l->sin6_addr))
					return (int)i;
				continue;
			}
			const struct sockaddr_in6 *d = (const void *)&uf->dst;

			if (l->sin6_port != d->sin6_port)
				continue;
			if (IN6_IS_ADDR_UNSPECIFIED(&l->sin6_addr) ||
			    IN6_ARE_ADDR_EQUAL(&l->sin6_addr, &d->sin6_addr))
				return (int)i;
		}
	}
	return -1;
}

/*
 * The program's receive time (CLOCK_TAI ns), if it left one in front of the
 * frame. The mark is wiped after reading: the UMEM is reused, and a later
 * frame without metadata must not inherit this one's.
 */
static uint64_t meta_rx_tai_ns(uint8_t *data, uint64_t addr)
{
	struct xnts_xsk_meta m;

	if ((addr % FRAME_SIZE) < sizeof(m))
		return 0;
	memcpy(&m, data - sizeof(m), sizeof(m));
	if (m.magic != XNTS_XSK_META_MAGIC)
		return 0;
	memset(data - sizeof(m), 0, sizeof(m));
	return m.rx_tai_ns;
}

/* TAI - UTC in whole seconds, as ns: the kernel's offset, read without changing it. */
static int64_t tai_offset_ns(const struct timespec *utc)
{
	struct timespec tai;
	int64_t d;

	clock_gettime(CLOCK_TAI, &tai);
	d = (int64_t)(tai.tv_sec - utc->tv_sec) * 1000000000LL + (tai.tv_nsec - utc->tv_nsec);
	return llround((double)d / 1e9) * 1000000000LL;
}

/* Frame length of the reply written in place, or 0 to drop the frame. */
static size_t answer_frame(struct xsk_worker *w, uint8_t *f, uint32_t len, uint64_t addr,
			   const struct timespec *batch_ts, int64_t tai_offset_ns)
{
	struct xsk_server *x = w->x;
	struct udp_frame uf;
	struct timespec rx = *batch_ts;
	uint64_t ns;
	size_t rlen;
	int err, s;

	err = udp_frame_parse(f, len, &uf);
	if (err) {
		w->st.frame_err[-err]++;
		return 0;
	}
	s = server_for(x, &uf);
	if (s < 0) {
		w->st.no_server++;
		return 0;
	}
	ns = meta_rx_tai_ns(f, addr);
	if (ns) {
		ns -= (uint64_t)tai_offset_ns;
		rx.tv_sec = (time_t)(ns / 1000000000ULL);
		rx.tv_nsec = (long)(ns % 1000000000ULL);
		w->st.meta_ts++;
	}
	w->st.srv.received++;
	rlen = ntp_server_answer(x->servers[s], &w->ctx[s], f + uf.payload_off, uf.payload_len,
				 (const struct sockaddr *)&uf.src, ntp_ts_from_timespec(&rx),
				 w->answer, sizeof(w->answer), &w->st.srv, &w->drops);
	/* ntp_serve() never answers longer than asked; refuse to trust it blindly. */
	if (!rlen || rlen > uf.payload_len)
		return 0;
	memcpy(f + uf.payload_off, w->answer, rlen);
	return udp_frame_reply(f, &uf, rlen);
}

static void refill(struct xsk_worker *w)
{
	unsigned int n = w->n_free, got;
	uint32_t idx;

	if (!n)
		return;
	got = xsk_ring_prod__reserve(&w->fill, n, &idx);
	while (!got && n > 1)
		got = xsk_ring_prod__reserve(&w->fill, n /= 2, &idx);
	for (unsigned int i = 0; i < got; i++)
		*xsk_ring_prod__fill_addr(&w->fill, idx + i) = w->free_frames[--w->n_free];
	if (got)
		xsk_ring_prod__submit(&w->fill, got);
}

static void reap_completions(struct xsk_worker *w)
{
	uint32_t idx;
	unsigned int n = xsk_ring_cons__peek(&w->comp, RING_SIZE, &idx);

	for (unsigned int i = 0; i < n; i++)
		w->free_frames[w->n_free++] = *xsk_ring_cons__comp_addr(&w->comp, idx + i) &
						 ~(uint64_t)(FRAME_SIZE - 1);
	if (n) {
		xsk_ring_cons__release(&w->comp, n);
		w->tx_outstanding -= n;
		w->st.sent += n;
	}
}

/* Descriptors in the TX ring the kernel has not taken yet. */
static uint32_t tx_unsent(const struct xsk_worker *w)
{
	return *w->tx.producer - __atomic_load_n(w->tx.consumer, __ATOMIC_ACQUIRE);
}

/*
 * Copy mode transmits at most 32 frames a kick: kick until the kernel has
 * taken every descriptor, not until the frames complete. On veth a frame
 * completes only once the peer has consumed it, on another CPU; waiting for
 * that here cost a sendto() per frame. Callers reap completions after the
 * kick.
 */
static void kick_tx(struct xsk_worker *w)
{
	for (int i = 0; i < KICK_MAX && tx_unsent(w); i++) {
		if (!xsk_ring_prod__needs_wakeup(&w->tx))
			break;
		w->st.kicks++;
		if (sendto(xsk_socket__fd(w->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
			break;
	}
}

/* Frames taken from the RX ring (0: it was empty). */
static unsigned int process_batch(struct xsk_worker *w)
{
	struct xdp_desc out[BATCH];
	struct timespec now;
	int64_t tai_off;
	unsigned int n, n_out = 0;
	uint32_t idx_rx, idx_tx;

	n = xsk_ring_cons__peek(&w->rx, BATCH, &idx_rx);
	if (!n)
		return 0;
	w->st.batches++;
	clock_gettime(CLOCK_REALTIME, &now);
	tai_off = tai_offset_ns(&now);
	for (unsigned int i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&w->rx, idx_rx + i);
		uint8_t *f = xsk_umem__get_data(w->area, d->addr);
		size_t rlen;

		w->st.frames++;
		rlen = answer_frame(w, f, d->len, d->addr, &now, tai_off);
		if (rlen) {
			out[n_out].addr = d->addr;
			out[n_out].len = (uint32_t)rlen;
			out[n_out].options = 0;
			n_out++;
		} else {
			w->free_frames[w->n_free++] = d->addr & ~(uint64_t)(FRAME_SIZE - 1);
		}
	}
	xsk_ring_cons__release(&w->rx, n);
	if (n_out && !xsk_ring_prod__reserve(&w->tx, n_out, &idx_tx)) {
		reap_completions(w);
		if (!xsk_ring_prod__reserve(&w->tx, n_out, &idx_tx)) {
			w->st.tx_full += n_out;
			for (unsigned int i = 0; i < n_out; i++)
				w->free_frames[w->n_free++] = out[i].addr & ~(uint64_t)(FRAME_SIZE - 1);
			n_out = 0;
		}
	}
	for (unsigned int i = 0; i < n_out; i++)
		*xsk_ring_prod__tx_desc(&w->tx, idx_tx + i) = out[i];
	if (n_out) {
		xsk_ring_prod__submit(&w->tx, n_out);
		w->tx_outstanding += n_out;
		kick_tx(w);
	}
	reap_completions(w);
	refill(w);
	return n;
}

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/*
 * Every wake-up, every transmit kick (and on veth, the peer's NAPI wake-up
 * each kick causes) costs the same whatever the batch holds, and on a
 * virtual machine they dominate the cost of an answer. The receive time is
 * stamped in XDP, and T3 just before transmission, so a batch may gather:
 * while frames come more often than every 2 waits, sleep one wait after a
 * partial batch instead of waking for every frame. An answer is then late by
 * at most the wait plus the timer slack (a quarter of the wait), and T3 - T2
 * says so to the client. Sparse frames are answered at once.
 */
static void *worker_main(void *arg)
{
	struct xsk_worker *w = arg;
	uint64_t wait = w->x->batch_wait_ns, last = 0, now;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)wait };
	struct pollfd pfd[2] = {
		{ .fd = xsk_socket__fd(w->xsk), .events = POLLIN },
		{ .fd = w->efd, .events = POLLIN },
	};
	unsigned int n;
	int close_by;

	if (wait)
		prctl(PR_SET_TIMERSLACK, wait / 4 ? wait / 4 : 1, 0, 0, 0);
	for (;;) {
		n = process_batch(w);
		if (n && wait) {
			now = mono_ns();
			close_by = now - last < 2 * wait;
			last = now;
			if (n < BATCH && close_by) {
				w->st.batch_waits++;
				nanosleep(&ts, NULL);
			}
		}
		/* Under steady load the ring never drains: look for a stop here. */
		if (n && !__atomic_load_n(&w->stop, __ATOMIC_RELAXED))
			continue;
		if (n)
			break;
		/* Sleep only once the RX ring is drained. */
		if (tx_unsent(w))
			kick_tx(w);
		reap_completions(w);
		if (poll(pfd, 2, tx_unsent(w) ? 1 : 1000) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if (pfd[0].revents)
			w->st.wakeups++;
	}
	return NULL;
}

static void worker_free(struct xsk_worker *w, int xskmap_fd)
{
	if (!w)
		return;
	if (w->started) {
		uint64_t one = 1;

		__atomic_store_n(&w->stop, 1, __ATOMIC_RELAXED);
		if (write(w->efd, &one, sizeof(one)) != sizeof(one))
			log_error("af_xdp: cannot stop the worker of %s queue %u", w->ifname,
				  w->queue);
		pthread_join(w->tid, NULL);
	}
	if (w->xsk) {
		uint32_t q = w->queue;

		if (xskmap_fd >= 0)
			bpf_map_delete_elem(xskmap_fd, &q);
		xsk_socket__delete(w->xsk);
	}
	if (w->umem)
		xsk_umem__delete(w->umem);
	if (w->area)
		munmap(w->area, (size_t)N_FRAMES * FRAME_SIZE);
	if (w->efd >= 0)
		close(w->efd);
	for (unsigned int i = 0; w->ctx && i < w->x->n_servers; i++)
		ntp_serve_ctx_fini(&w->ctx[i]);
	free(w->ctx);
	free(w);
}

static int worker_open(struct xsk_worker *w, char *err, size_t errlen)
{
	struct xsk_umem_config ucfg = {
		.fill_size = RING_SIZE,
		.comp_size = RING_SIZE,
		.frame_size = FRAME_SIZE,
		.frame_headroom = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = RING_SIZE,
		.tx_size = RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
	};
	int ret;

	w->area = mmap(NULL, (size_t)N_FRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w->area == MAP_FAILED) {
		w->area = NULL;
		snprintf(err, errlen, "out of memory for the UMEM");
		return -1;
	}
	ret = xsk_umem__create(&w->umem, w->area, (uint64_t)N_FRAMES * FRAME_SIZE, &w->fill,
			       &w->comp, &ucfg);
	if (ret) {
		w->umem = NULL;
		snprintf(err, errlen, "UMEM: %s", strerror(-ret));
		return -1;
	}
	scfg.bind_flags = XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP;
	ret = xsk_socket__create(&w->xsk, w->ifname, w->queue, w->umem, &w->rx, &w->tx, &scfg);
	w->zerocopy = !ret;
	if (ret) {
		scfg.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
		ret = xsk_socket__create(&w->xsk, w->ifname, w->queue, w->umem, &w->rx, &w->tx,
					 &scfg);
	}
	if (ret) {
		w->xsk = NULL;
		snprintf(err, errlen, "%s queue %u: %s", w->ifname, w->queue, strerror(-ret));
		return -1;
	}
	for (unsigned int i = 0; i < N_FRAMES; i++)
		w->free_frames[w->n_free++] = (uint64_t)i * FRAME_SIZE;
	refill(w);
	ret = xsk_socket__update_xskmap(w->xsk, w->x->xskmap_fd);
	if (ret) {
		snprintf(err, errlen, "%s queue %u: XSKMAP: %s", w->ifname, w->queue,
			 strerror(-ret));
		return -1;
	}
	return 0;
}

static struct xsk_worker *worker_new(struct xsk_server *x, const char *ifname, unsigned int q,
				     char *err, size_t errlen)
{
	struct xsk_worker *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->x = x;
	w->queue = q;
	w->efd = eventfd(0, EFD_CLOEXEC);
	snprintf(w->ifname, sizeof(w->ifname), "%s", ifname);
	w->ctx = calloc(x->n_servers, sizeof(*w->ctx));
	if (w->efd < 0 || !w->ctx) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (unsigned int i = 0; i < x->n_servers; i++) {
		if (ntp_server_serve_ctx_init(x->servers[i], &w->ctx[i])) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (worker_open(w, err, errlen))
		goto fail;
	if (pthread_create(&w->tid, NULL, worker_main, w)) {
		snprintf(err, errlen, "cannot start a worker");
		goto fail;
	}
	w->started = 1;
	return w;
fail:
	worker_free(w, x->xskmap_fd);
	return NULL;
}

struct xsk_server *xsk_server_new(const struct xsk_server_ifc *ifcs, unsigned int n_ifcs,
				  int xskmap_fd, struct ntp_server **servers,
				  unsigned int n_servers, uint64_t batch_wait_us, char *err,
				  size_t errlen)
{
	struct xsk_server *x;

	if (!n_servers) {
		snprintf(err, errlen, "no [[server]] to answer for");
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->servers = servers;
	x->n_servers = n_servers;
	x->xskmap_fd = xskmap_fd;
	x->batch_wait_ns = batch_wait_us * 1000;
	for (unsigned int i = 0; i < n_ifcs; i++) {
		unsigned int nq = rx_queues(ifcs[i].name);

		for (unsigned int q = 0; q < nq && x->n_workers < MAX_SOCKETS; q++) {
			struct xsk_worker *w = worker_new(x, ifcs[i].name, q, err, errlen);

			if (!w) {
				xsk_server_free(x);
				return NULL;
			}
			x->w[x->n_workers++] = w;
			log_info("af_xdp: %s queue %u, %s mode", ifcs[i].name, q,
				 w->zerocopy ? "zero-copy" : "copy");
		}
	}
	return x;
}

void xsk_server_free(struct xsk_server *x)
{
	if (!x)
		return;
	for (unsigned int i = 0; i < x->n_workers; i++)
		worker_free(x->w[i], x->xskmap_fd);
	free(x);
}

static void stats_sum(const struct xsk_server *x, struct xsk_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < x->n_workers; i++) {
		const volatile uint64_t *src = (const volatile uint64_t *)&x->w[i]->st;
		uint64_t *dst = (uint64_t *)out;

		for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
}

/* The kernel's own drop counters of every socket, summed (XDP_STATISTICS). */
static void kernel_stats_json(const struct xsk_server *x, struct sbuf *out)
{
	struct xdp_statistics sum = { 0 };

	for (unsigned int i = 0; i < x->n_workers; i++) {
		struct xdp_statistics st;
		socklen_t len = sizeof(st);

		if (getsockopt(xsk_socket__fd(x->w[i]->xsk), SOL_XDP, XDP_STATISTICS, &st, &len))
			continue;
		sum.rx_dropped += st.rx_dropped;
		sum.rx_invalid_descs += st.rx_invalid_descs;
		sum.tx_invalid_descs += st.tx_invalid_descs;
		sum.rx_ring_full += st.rx_ring_full;
		sum.rx_fill_ring_empty_descs += st.rx_fill_ring_empty_descs;
		sum.tx_ring_empty_descs += st.tx_ring_empty_descs;
	}
	sbuf_printf(out, ",\"kernel_rx_dropped\":%llu,\"kernel_rx_ring_full\":%llu,"
		    "\"kernel_fill_ring_empty\":%llu,\"kernel_invalid_descs\":%llu",
		    (unsigned long long)sum.rx_dropped, (unsigned long long)sum.rx_ring_full,
		    (unsigned long long)sum.rx_fill_ring_empty_descs,
		    (unsigned long long)(sum.rx_invalid_descs + sum.tx_invalid_descs));
}

void xsk_server_status_json(const struct xsk_server *x, struct sbuf *out)
{
	struct xsk_stats st;

	if (!x) {
		sbuf_printf(out, "null");
		return;
	}
	stats_sum(x, &st);
	sbuf_printf(out, "{\"sockets\":[");
	for (unsigned int i = 0; i < x->n_workers; i++) {
		sbuf_printf(out, "%s{\"interface\":", i ? "," : "");
		sbuf_json_str(out, x->w[i]->ifname);
		sbuf_printf(out, ",\"queue\":%u,\"mode\":\"%s\"}", x->w[i]->queue,
			    x->w[i]->zerocopy ? "zero-copy" : "copy");
	}
	sbuf_printf(out, "]");
	kernel_stats_json(x, out);
	sbuf_printf(out, ",\"frames\":%llu,\"received\":%llu,\"sent\":%llu,"
		    "\"meta_timestamps\":%llu,\"no_server\":%llu,\"tx_full\":%llu,"
		    "\"batch_wait_us\":%llu,\"wakeups\":%llu,\"batches\":%llu,"
		    "\"batch_waits\":%llu,\"kicks\":%llu",
		    (unsigned long long)st.frames, (unsigned long long)st.srv.received,
		    (unsigned long long)st.sent, (unsigned long long)st.meta_ts,
		    (unsigned long long)st.no_server, (unsigned long long)st.tx_full,
		    (unsigned long long)(x->batch_wait_ns / 1000),
		    (unsigned long long)st.wakeups, (unsigned long long)st.batches,
		    (unsigned long long)st.batch_waits, (unsigned long long)st.kicks);
	for (int e = 1; e < 6; e++)
		sbuf_printf(out, ",\"frame_%s\":%llu", udp_frame_err_name(-e),
			    (unsigned long long)st.frame_err[e]);
	for (int i = 0; i < NTP_SERVE_N_OUTCOMES; i++)
		sbuf_printf(out, ",\"%s\":%llu", ntp_serve_outcome_name(i),
			    (unsigned long long)st.srv.outcome[i]);
	sbuf_printf(out, "}");
}

/* ---- the path: whether AF_XDP serves, and keeping its sockets bound ---- */

#define PATH_CHECK_MS 1000

struct xsk_path {
	struct loop *loop;
	const struct config_xdp *xc;
	struct xdp_ctl *xdp;
	struct ntp_server **servers;
	unsigned int n_servers;
	struct xsk_server *srv;
	uint64_t gen;			/* xdp_ctl_attached() generation srv was made for */
	int started;
	uint64_t rebuilds;
	char reason[240];		/* why the socket path serves instead */
	struct loop_op tick;
};

static void path_build(struct xsk_path *p)
{
	struct xsk_server_ifc ifcs[32];
	unsigned int n;
	uint64_t gen;
	char err[200];
	int fd;

	n = xdp_ctl_attached(p->xdp, ifcs, 32, &gen);
	if (p->started && gen == p->gen)
		return;
	if (p->started)
		p->rebuilds++;
	p->started = 1;
	p->gen = gen;
	xsk_server_free(p->srv);
	p->srv = NULL;
	fd = xdp_ctl_xsk_map_fd(p->xdp);
	if (fd < 0) {
		snprintf(p->reason, sizeof(p->reason), "the XDP program is not loaded");
		return;
	}
	if (!n) {
		snprintf(p->reason, sizeof(p->reason), "the XDP program is attached nowhere");
		return;
	}
	p->srv = xsk_server_new(ifcs, n, fd, p->servers, p->n_servers,
				p->xc->af_xdp_batch_wait_us, err, sizeof(err));
	if (!p->srv) {
		snprintf(p->reason, sizeof(p->reason), "AF_XDP: %s", err);
		log_warn("af_xdp: %s; requests XDP does not answer go to the UDP sockets", err);
		return;
	}
	p->reason[0] = '\0';
}

static void path_tick(struct loop_op *op, int res, unsigned int flags)
{
	struct xsk_path *p = (struct xsk_path *)((char *)op - offsetof(struct xsk_path, tick));

	(void)flags;
	if (res != -ETIME)
		return;
	path_build(p);
	loop_timeout_ms(p->loop, &p->tick, PATH_CHECK_MS);
}

struct xsk_path *xsk_path_new(struct loop *l, const struct config_xdp *xc, struct xdp_ctl *xdp,
			      struct ntp_server **servers, unsigned int n_servers)
{
	struct xsk_path *p;

	if (!xdp)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->loop = l;
	p->xc = xc;
	p->xdp = xdp;
	p->servers = servers;
	p->n_servers = n_servers;
	p->tick.cb = path_tick;
	if (xc->userspace_path == CONFIG_XDP_US_SOCKET) {
		snprintf(p->reason, sizeof(p->reason), "userspace-path = \"socket\"");
		return p;
	}
	if (xc->userspace_path == CONFIG_XDP_US_AUTO && xdp_ctl_nts_variant(xdp)) {
		snprintf(p->reason, sizeof(p->reason),
			 "NTS is answered in XDP (xnts_siv); userspace-path = \"af-xdp\" "
			 "adds AF_XDP for the rest");
		return p;
	}
	path_build(p);
	loop_timeout_ms(l, &p->tick, PATH_CHECK_MS);
	return p;
}

void xsk_path_free(struct xsk_path *p)
{
	if (!p)
		return;
	if (p->started)
		loop_timeout_cancel(p->loop, &p->tick);
	xsk_server_free(p->srv);
	free(p);
}

void xsk_path_status_json(const struct xsk_path *p, struct sbuf *out)
{
	if (!p) {
		sbuf_printf(out, "{\"active\":false,\"reason\":\"XDP is off\"}");
		return;
	}
	sbuf_printf(out, "{\"active\":%s,\"reason\":", p->srv ? "true" : "false");
	sbuf_json_str(out, p->reason);
	sbuf_printf(out, ",\"rebuilds\":%llu,\"server\":", (unsigned long long)p->rebuilds);
	xsk_server_status_json(p->srv, out);
	sbuf_printf(out, "}");
}
