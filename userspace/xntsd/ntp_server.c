// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config_map.h"
#include "log.h"
#include "loop.h"
#include "netaddr.h"
#include "ntp.h"
#include "ntp_policy.h"
#include "ntp_server.h"
#include "phc_source.h"

#define BUF_SIZE 2048
#define N_BUFS 256		/* power of two */
#define N_SEND 128
#define SEND_BATCH 8	/* SQEs queued at most before they are submitted */
#define BGID 1
#define CTRL_LEN 256
#define DROP_LOG_MS 10000

struct send_slot {
	struct loop_op op;
	struct worker *w;
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_storage addr;
	uint8_t ctrl[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	uint8_t buf[BUF_SIZE];
};

struct worker {
	struct ntp_server *srv;
	pthread_t tid;
	int started;
	int fd;
	int efd;
	uint64_t ev;
	struct loop loop;
	struct loop_op recv_op;
	struct loop_op stop_op;
	struct msghdr recv_msg;
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	struct ntp_serve_ctx ctx;
	struct send_slot *slots;
	/* Free send slots as a stack: O(1) per request on the hot path. */
	struct send_slot *free_slots[N_SEND];
	unsigned int n_free;
	struct ntp_drop_log drops;
	/* Written by this worker only; read racily for status. */
	struct ntp_server_stats st;
};

struct ntp_server {
	const struct config_server *cfg;
	struct keyset *ks;
	struct timestate *ts;
	struct ntp_policy *policy;
	struct netaddr addr;
	char name[80];
	unsigned int n_workers;
	struct worker *w;
	int hw_phc;		/* PHC index of hardware-timestamps' NIC, -1: off */
};

const char *ntp_server_name(const struct ntp_server *s)
{
	return s->name;
}

unsigned int ntp_server_workers(const struct ntp_server *s)
{
	return s->n_workers;
}

/*
 * A NIC's raw hardware receive timestamp counts its PHC: convert it with the
 * phc source's mapping, only if that source reads this very PHC. 0 if *out
 * was set.
 */
static int hw_to_sys(const struct ntp_server *s, const struct timespec *raw,
		     struct timespec *out)
{
	struct phc_map m;
	int64_t sys;
	int idx;

	if (phc_map_snapshot(&m, &idx) || idx != s->hw_phc ||
	    phc_map_to_sys(&m, (int64_t)raw->tv_sec * 1000000000LL + raw->tv_nsec, &sys))
		return -1;
	out->tv_sec = (time_t)(sys / 1000000000LL);
	out->tv_nsec = (long)(sys % 1000000000LL);
	return 0;
}

/* SIOCSHWTSTAMP: the NIC timestamps every received packet (changes no clock). */
static void enable_hw_timestamps(struct ntp_server *s)
{
	const char *ifname = s->cfg->hardware_timestamps;
	struct hwtstamp_config hc = { .tx_type = HWTSTAMP_TX_OFF,
				      .rx_filter = HWTSTAMP_FILTER_ALL };
	struct ifreq ifr;
	char err[256];
	int fd, idx;

	s->hw_phc = -1;
	if (!ifname[0])
		return;
	idx = phc_index_of_interface(ifname, err, sizeof(err));
	if (idx < 0) {
		log_warn("ntp server %s: hardware timestamps: %s", s->name, err);
		return;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (char *)&hc;
	if (ioctl(fd, SIOCSHWTSTAMP, &ifr)) {
		log_warn("ntp server %s: hardware timestamps on %s: %s; software timestamps",
			 s->name, ifname, strerror(errno));
	} else {
		s->hw_phc = idx;
		log_info("ntp server %s: hardware receive timestamps on %s (/dev/ptp%d), "
			 "filter %d", s->name, ifname, idx, hc.rx_filter);
	}
	close(fd);
}

static void arm_recv(struct worker *w)
{
	struct io_uring_sqe *sqe = loop_sqe(&w->loop, &w->recv_op);

	io_uring_prep_recvmsg_multishot(sqe, w->fd, &w->recv_msg, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
}

static void give_back(struct worker *w, unsigned int bid)
{
	io_uring_buf_ring_add(w->br, w->bufs + (size_t)bid * BUF_SIZE, BUF_SIZE, (uint16_t)bid,
			      io_uring_buf_ring_mask(N_BUFS), 0);
	io_uring_buf_ring_advance(w->br, 1);
}

static void send_done(struct loop_op *op, int res, unsigned int flags)
{
	struct send_slot *s = (struct send_slot *)op;

	(void)flags;
	if (res < 0)
		s->w->st.send_errors++;
	s->w->free_slots[s->w->n_free++] = s;
}

static struct send_slot *take_slot(struct worker *w)
{
	return w->n_free ? w->free_slots[--w->n_free] : NULL;
}

/* Reply from the address the request was sent to (wildcard listeners). */
static void set_source(struct send_slot *s, const struct cmsghdr *pkt)
{
	struct cmsghdr *c;

	s->msg.msg_control = NULL;
	s->msg.msg_controllen = 0;
	if (!pkt)
		return;
	s->msg.msg_control = s->ctrl;
	s->msg.msg_controllen = sizeof(s->ctrl);
	c = CMSG_FIRSTHDR(&s->msg);
	if (pkt->cmsg_level == IPPROTO_IP) {
		struct in_pktinfo pi;

		memcpy(&pi, CMSG_DATA(pkt), sizeof(pi));
		pi.ipi_ifindex = 0;
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		s->msg.msg_controllen = CMSG_SPACE(sizeof(pi));
	} else {
		struct in6_pktinfo pi;

		memcpy(&pi, CMSG_DATA(pkt), sizeof(pi));
		pi.ipi6_ifindex = 0;
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		s->msg.msg_controllen = CMSG_SPACE(sizeof(pi));
	}
}

/* Bad input: counted in outcome[] always, logged at most every DROP_LOG_MS. */
static void log_drop(const struct ntp_server *srv, struct ntp_drop_log *dl,
		     const struct sockaddr *from, enum ntp_serve_outcome o)
{
	uint64_t now = loop_now_ms();
	char addr[80];

	dl->unlogged++;
	if (dl->last_ms && now - dl->last_ms < DROP_LOG_MS)
		return;
	log_info("ntp server %s: no answer to a request from %s: %s (%llu such since the "
		 "last line)", srv->name, netaddr_format(from, addr, sizeof(addr)),
		 ntp_serve_outcome_name(o), (unsigned long long)dl->unlogged);
	dl->last_ms = now;
	dl->unlogged = 0;
}

size_t ntp_server_answer(struct ntp_server *srv, struct ntp_serve_ctx *ctx, const uint8_t *req,
			 size_t len, const struct sockaddr *from, uint64_t rx_ts, uint8_t *out,
			 size_t cap, struct ntp_server_stats *stats, struct ntp_drop_log *dl)
{
	struct ntp_serve_state st;
	enum ntp_serve_outcome o;
	size_t rlen;

	timestate_read(srv->ts, &st);
	/* The whole decision, access policy included; only NTS reads the keyset. */
	o = ntp_serve(ctx, req, len, from, rx_ts, &st, out, cap, &rlen);
	stats->outcome[o]++;
	if (o == NTP_SERVE_DROP_INVALID || o == NTP_SERVE_DROP_NTS)
		log_drop(srv, dl, from, o);
	return rlen;
}

int ntp_server_serve_ctx_init(const struct ntp_server *s, struct ntp_serve_ctx *ctx)
{
	if (ntp_serve_ctx_init(ctx, s->ks))
		return -1;
	ctx->policy = s->policy;
	ctx->versions = s->cfg->accept_ntp_versions;
	ctx->require_nts = s->cfg->require_nts;
	ctx->require_nts_deny = s->cfg->require_nts_action == CONFIG_ACTION_DENY;
	return 0;
}

const struct netaddr *ntp_server_addr(const struct ntp_server *s)
{
	return &s->addr;
}

static void handle(struct worker *w, struct io_uring_recvmsg_out *o, unsigned int len)
{
	struct ntp_server *srv = w->srv;
	const struct sockaddr *from = io_uring_recvmsg_name(o);
	struct cmsghdr *c, *pktinfo = NULL;
	struct timespec rx = { 0 };
	struct send_slot *slot;
	const uint8_t *payload;
	size_t plen, rlen;

	w->st.received++;
	if (o->flags & (MSG_TRUNC | MSG_CTRUNC) ||
	    o->namelen > sizeof(struct sockaddr_storage)) {
		w->st.truncated++;
		return;
	}
	payload = io_uring_recvmsg_payload(o, &w->recv_msg);
	plen = io_uring_recvmsg_payload_length(o, (int)len, &w->recv_msg);
	for (c = io_uring_recvmsg_cmsg_firsthdr(o, &w->recv_msg); c;
	     c = io_uring_recvmsg_cmsg_nexthdr(o, &w->recv_msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
			struct scm_timestamping tss;

			memcpy(&tss, CMSG_DATA(c), sizeof(tss));
			rx = tss.ts[0];
			if (srv->hw_phc >= 0 && (tss.ts[2].tv_sec || tss.ts[2].tv_nsec) &&
			    !hw_to_sys(srv, &tss.ts[2], &rx))
				w->st.hw_timestamps++;
		} else if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) ||
			   (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)) {
			pktinfo = c;
		}
	}
	if (!rx.tv_sec)
		clock_gettime(CLOCK_REALTIME, &rx);
	slot = take_slot(w);
	if (!slot) {
		w->st.send_errors++;
		return;
	}
	rlen = ntp_server_answer(srv, &w->ctx, payload, plen, from, ntp_ts_from_timespec(&rx),
				 slot->buf, sizeof(slot->buf), &w->st, &w->drops);
	if (!rlen) {
		w->free_slots[w->n_free++] = slot;
		return;
	}
	memcpy(&slot->addr, from, o->namelen);
	slot->iov.iov_base = slot->buf;
	slot->iov.iov_len = rlen;
	slot->msg.msg_name = &slot->addr;
	slot->msg.msg_namelen = o->namelen;
	slot->msg.msg_iov = &slot->iov;
	slot->msg.msg_iovlen = 1;
	set_source(slot, pktinfo);
	io_uring_prep_sendmsg(loop_sqe(&w->loop, &slot->op), w->fd, &slot->msg, 0);
	/*
	 * T3 is in the answer: it must not wait behind a long batch of later
	 * answers. loop_run() submits the rest with its next wait.
	 */
	if (io_uring_sq_ready(&w->loop.ring) >= SEND_BATCH)
		loop_submit(&w->loop);
}

static void recv_done(struct loop_op *op, int res, unsigned int flags)
{
	struct worker *w = (struct worker *)((char *)op - offsetof(struct worker, recv_op));
	unsigned int bid;

	if (res >= 0 && (flags & IORING_CQE_F_BUFFER)) {
		struct io_uring_recvmsg_out *o;
		uint8_t *buf;

		bid = flags >> IORING_CQE_BUFFER_SHIFT;
		buf = w->bufs + (size_t)bid * BUF_SIZE;
		o = io_uring_recvmsg_validate(buf, res, &w->recv_msg);
		if (o)
			handle(w, o, (unsigned int)res);
		give_back(w, bid);
	} else if (res < 0 && res != -ENOBUFS && res != -ECANCELED) {
		log_warn("ntp server %s: receive: %s", w->srv->name, strerror(-res));
	}
	if (!(flags & IORING_CQE_F_MORE) && res != -ECANCELED)
		arm_recv(w);
}

static void stop_done(struct loop_op *op, int res, unsigned int flags)
{
	struct worker *w = (struct worker *)((char *)op - offsetof(struct worker, stop_op));

	(void)res;
	(void)flags;
	loop_stop(&w->loop);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct io_uring_cqe *cqe;

	arm_recv(w);
	loop_read(&w->loop, &w->stop_op, w->efd, &w->ev, sizeof(w->ev));
	loop_run(&w->loop);
	/*
	 * Cancel before close: a ring's teardown is asynchronous and would keep
	 * the port bound, so a restart would get EADDRINUSE.
	 */
	io_uring_prep_cancel_fd(loop_sqe(&w->loop, NULL), w->fd, IORING_ASYNC_CANCEL_ALL);
	io_uring_submit_and_wait(&w->loop.ring, 1);
	while (io_uring_peek_cqe(&w->loop.ring, &cqe) == 0)
		io_uring_cqe_seen(&w->loop.ring, cqe);
	return NULL;
}

static int open_socket(struct worker *w, char *err, size_t errlen)
{
	struct ntp_server *s = w->srv;
	int one = 1, zero = 0, tsflags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
	int fam = s->addr.ss.ss_family;

	if (s->hw_phc >= 0)
		tsflags |= SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE;

	w->fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (w->fd < 0)
		goto fail;
	if (setsockopt(w->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    setsockopt(w->fd, SOL_SOCKET, SO_TIMESTAMPING, &tsflags, sizeof(tsflags)))
		goto fail;
	if (fam == AF_INET6) {
		setsockopt(w->fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		setsockopt(w->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	}
	setsockopt(w->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	if (bind(w->fd, (struct sockaddr *)&s->addr.ss, s->addr.len))
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "ntp server %s: %s", s->name, strerror(errno));
	return -1;
}

static int worker_init(struct worker *w, char *err, size_t errlen)
{
	struct io_uring_buf_reg reg = { 0 };
	int ret;

	w->fd = w->efd = -1;
	w->recv_op.cb = recv_done;
	w->stop_op.cb = stop_done;
	if (open_socket(w, err, errlen))
		return -1;
	w->efd = eventfd(0, EFD_CLOEXEC);
	if (w->efd < 0 || loop_init(&w->loop, 512)) {
		snprintf(err, errlen, "ntp server %s: io_uring setup failed", w->srv->name);
		return -1;
	}
	w->br = mmap(NULL, N_BUFS * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE,
		     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	w->bufs = malloc((size_t)N_BUFS * BUF_SIZE);
	w->slots = calloc(N_SEND, sizeof(*w->slots));
	if (w->br == MAP_FAILED || !w->bufs || !w->slots) {
		if (w->br == MAP_FAILED)
			w->br = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	reg.ring_addr = (unsigned long)w->br;
	reg.ring_entries = N_BUFS;
	reg.bgid = BGID;
	ret = io_uring_register_buf_ring(&w->loop.ring, &reg, 0);
	if (ret) {
		snprintf(err, errlen, "ntp server %s: provided buffers: %s", w->srv->name,
			 strerror(-ret));
		return -1;
	}
	io_uring_buf_ring_init(w->br);
	for (unsigned int i = 0; i < N_BUFS; i++)
		io_uring_buf_ring_add(w->br, w->bufs + (size_t)i * BUF_SIZE, BUF_SIZE,
				      (uint16_t)i, io_uring_buf_ring_mask(N_BUFS), (int)i);
	io_uring_buf_ring_advance(w->br, N_BUFS);
	for (int i = 0; i < N_SEND; i++) {
		w->slots[i].op.cb = send_done;
		w->slots[i].w = w;
		w->free_slots[w->n_free++] = &w->slots[i];
	}
	w->recv_msg.msg_namelen = sizeof(struct sockaddr_storage);
	w->recv_msg.msg_controllen = CTRL_LEN;
	if (ntp_server_serve_ctx_init(w->srv, &w->ctx)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void worker_fini(struct worker *w)
{
	if (w->started) {
		uint64_t one = 1;

		if (write(w->efd, &one, sizeof(one)) != sizeof(one))
			log_error("ntp server %s: cannot stop a worker", w->srv->name);
		pthread_join(w->tid, NULL);
	}
	if (w->loop.ring.ring_fd > 0)
		loop_exit(&w->loop);
	if (w->fd >= 0)
		close(w->fd);
	if (w->efd >= 0)
		close(w->efd);
	if (w->br)
		munmap(w->br, N_BUFS * sizeof(struct io_uring_buf));
	free(w->bufs);
	free(w->slots);
	ntp_serve_ctx_fini(&w->ctx);
}

struct ntp_server *ntp_server_new(const struct config_server *cfg, struct keyset *ks,
				  struct timestate *ts,
				  unsigned int workers, char *err, size_t errlen)
{
	struct ntp_server *s = calloc(1, sizeof(*s));
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = cfg;
	s->ks = ks;
	s->ts = ts;
	netaddr_from_config(&cfg->listen, &s->addr);
	netaddr_format((struct sockaddr *)&s->addr.ss, s->name, sizeof(s->name));
	s->n_workers = workers ? workers : (unsigned int)(ncpu > 0 ? ncpu : 1);
	if (s->n_workers > 64)
		s->n_workers = 64;
	enable_hw_timestamps(s);
	s->policy = config_map_ntp_policy(cfg);
	s->w = calloc(s->n_workers, sizeof(*s->w));
	if (!s->policy || !s->w) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (unsigned int i = 0; i < s->n_workers; i++) {
		s->w[i].srv = s;
		if (worker_init(&s->w[i], err, errlen))
			goto fail;
	}
	for (unsigned int i = 0; i < s->n_workers; i++) {
		if (pthread_create(&s->w[i].tid, NULL, worker_main, &s->w[i])) {
			snprintf(err, errlen, "ntp server %s: cannot start a worker", s->name);
			goto fail;
		}
		s->w[i].started = 1;
	}
	log_info("ntp server: listening on %s with %u workers%s", s->name, s->n_workers,
		 ks ? ", NTS" : "");
	return s;
fail:
	ntp_server_free(s);
	return NULL;
}

void ntp_server_free(struct ntp_server *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; s->w && i < s->n_workers; i++)
		if (s->w[i].srv)
			worker_fini(&s->w[i]);
	free(s->w);
	ntp_policy_free(s->policy);
	free(s);
}

void ntp_server_stats(struct ntp_server *s, struct ntp_server_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < s->n_workers; i++) {
		/* Racy snapshot of the workers' own counters: good enough for status. */
		const volatile uint64_t *src = (const volatile uint64_t *)&s->w[i].st;
		uint64_t *dst = (uint64_t *)out;

		for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
}

void ntp_server_status_json(struct ntp_server *s, struct sbuf *out)
{
	struct ntp_server_stats st;

	ntp_server_stats(s, &st);
	sbuf_printf(out, "{\"listen\":");
	sbuf_json_str(out, s->name);
	/* rate_limited, denied and ignored are outcomes of ntp_serve(), below. */
	sbuf_printf(out, ",\"workers\":%u,\"received\":%llu,"
		    "\"truncated\":%llu,\"send_errors\":%llu,"
		    "\"hw_phc\":%d,\"hw_timestamps\":%llu",
		    s->n_workers, (unsigned long long)st.received,
		    (unsigned long long)st.truncated,
		    (unsigned long long)st.send_errors, s->hw_phc,
		    (unsigned long long)st.hw_timestamps);
	for (int i = 0; i < NTP_SERVE_N_OUTCOMES; i++)
		sbuf_printf(out, ",\"%s\":%llu", ntp_serve_outcome_name(i),
			    (unsigned long long)st.outcome[i]);
	sbuf_printf(out, "}");
}
