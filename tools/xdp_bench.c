// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_bench: cost per request of the XDP NTP responder through
 * BPF_PROG_TEST_RUN, beside an empty XDP_TX program as the baseline from the
 * same run. Not a test: it prints figures and fails only if a path does not
 * return what it should.
 *
 * What is measured: the kernel's own duration of one program run (repeat=1),
 * averaged over many calls. repeat=1 is required on the answer path because
 * the kernel does not reset the packet between repeats, and after one run the
 * packet is a mode-4 response that would take the cheap pass path. Paths that
 * leave the packet unchanged are also run with a large repeat, which removes
 * the per-call timer overhead; compare those with the empty program's figure
 * from the same mode.
 *
 * usage: xdp_bench [-n CALLS] [-r REPEAT]   (root; defaults 200000, 1000000)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ntp_serve.h"
#include "xnts_shared.h"
#include "xnts.skel.h"

struct pkt {
	uint8_t b[256];
	uint32_t len;
};

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t csum(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* A valid NTPv4 request; ext adds that many bytes of extension field. */
static void build(struct pkt *p, int v6, uint16_t dport, uint16_t ext)
{
	size_t l3 = 14, l4 = v6 ? 54 : 34;
	uint16_t ulen = 56 + ext;
	uint32_t s;
	uint16_t c;

	memset(p, 0, sizeof(*p));
	memcpy(p->b, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02", 12);
	put16(p->b + 12, v6 ? 0x86dd : 0x0800);
	if (v6) {
		p->b[l3] = 0x60;
		put16(p->b + l3 + 4, ulen);
		p->b[l3 + 6] = 17;
		p->b[l3 + 7] = 64;
		memcpy(p->b + l3 + 8, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x10", 16);
		memcpy(p->b + l3 + 24, "\x20\x01\x0d\xb8\0\1\0\0\0\0\0\0\0\0\0\x01", 16);
		s = sum16(p->b + l3 + 8, 32, 0);
	} else {
		p->b[l3] = 0x45;
		put16(p->b + l3 + 2, 20 + ulen);
		p->b[l3 + 8] = 64;
		p->b[l3 + 9] = 17;
		memcpy(p->b + l3 + 12, "\xc0\x00\x02\x0a\xc6\x33\x64\x01", 8);
		put16(p->b + l3 + 10, csum(sum16(p->b + l3, 20, 0)));
		s = sum16(p->b + l3 + 12, 8, 0);
	}
	put16(p->b + l4, 40000);
	put16(p->b + l4 + 2, dport);
	put16(p->b + l4 + 4, ulen);
	p->b[l4 + 8] = (4 << 3) | 3;
	memset(p->b + l4 + 8 + 40, 0xa5, 8);
	if (ext) {
		put16(p->b + l4 + 56, 0x0104);
		put16(p->b + l4 + 58, ext);
	}
	c = csum(sum16(p->b + l4, ulen, s + ulen + 17));
	put16(p->b + l4 + 6, c ? c : 0xffff);
	p->len = (uint32_t)(l4 + ulen);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* n calls with repeat=1 on a fresh copy each time; prints prog and syscall figures. */
static int bench_single(const char *name, int fd, const struct pkt *p, uint32_t want, long n,
			uint32_t *dur)
{
	struct pkt in, out;
	uint64_t total = 0, t0, t1;
	long i;

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o);

		in = *p;
		o.data_in = in.b;
		o.data_size_in = in.len;
		o.data_out = out.b;
		o.data_size_out = sizeof(out.b);
		o.repeat = 1;
		if (bpf_prog_test_run_opts(fd, &o) || o.retval != want) {
			fprintf(stderr, "%s: run %ld: err %d retval %u, want %u\n", name, i, errno,
				o.retval, want);
			return -1;
		}
		dur[i] = o.duration;
		total += o.duration;
	}
	t1 = now_ns();
	qsort(dur, (size_t)n, sizeof(*dur), cmp_u32);
	printf("%-34s %8.1f %7u %7u %10.1f\n", name, (double)total / (double)n, dur[n / 2],
	       dur[n * 99 / 100], (double)(t1 - t0) / (double)n);
	return 0;
}

/* One call with a large repeat: only for packets the program leaves unchanged. */
static int bench_repeat(const char *name, int fd, const struct pkt *p, uint32_t want, int rep)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct pkt in = *p, out;

	o.data_in = in.b;
	o.data_size_in = in.len;
	o.data_out = out.b;
	o.data_size_out = sizeof(out.b);
	o.repeat = rep;
	if (bpf_prog_test_run_opts(fd, &o) || o.retval != want) {
		fprintf(stderr, "%s: err %d retval %u, want %u\n", name, errno, o.retval, want);
		return -1;
	}
	printf("%-34s %8u ns/run (repeat=%d)\n", name, o.duration, rep);
	return 0;
}

/*
 * The same answer from the userspace server's core, ntp_serve(), in a loop:
 * receive timestamp read, request parsed, response built with its transmit
 * timestamp. Timed in batches of 100 calls; socket costs are not included
 * (the load generator measures those end to end).
 */
static void bench_userspace(const struct pkt *p, long n, uint32_t *dur)
{
	const uint8_t *req = p->b + 14 + 20 + 8;
	struct ntp_serve_state st = { .stratum = 2, .precision = -23 };
	struct ntp_serve_ctx ctx;
	uint8_t resp[256];
	uint64_t t0, t1, total = 0;
	long batches = n / 100;
	size_t rlen;

	if (ntp_serve_ctx_init(&ctx, NULL)) {
		fprintf(stderr, "xdp_bench: ntp_serve_ctx_init failed\n");
		return;
	}
	for (long b = 0; b < batches; b++) {
		t0 = now_ns();
		for (int i = 0; i < 100; i++)
			ntp_serve(&ctx, req, 48, NULL, ntp_serve_now(), &st, resp,
				  sizeof(resp), &rlen);
		t1 = now_ns();
		dur[b] = (uint32_t)((t1 - t0) / 100);
		total += t1 - t0;
	}
	qsort(dur, (size_t)batches, sizeof(*dur), cmp_u32);
	printf("%-34s %8.1f %7u %7u %10s\n", "userspace ntp_serve(), plain", (double)total / (double)n,
	       dur[batches / 2], dur[batches * 99 / 100], "-");
	ntp_serve_ctx_fini(&ctx);
}

/* The baseline: r0 = XDP_TX; exit. */
static int load_empty_tx(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_TX },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "xdp_empty_tx", "GPL", insns, 2, NULL);
}

static void setup(struct xnts *skel, struct xnts_time_state *ts, uint64_t rate_ns)
{
	struct xnts_config cfg = { 0 };
	struct xnts_time_state st = { 0 };
	uint32_t zero = 0;

	cfg.ports[0] = htons(123);
	cfg.versions = (1 << 3) | (1 << 4);
	cfg.rate_interval_ns = rate_ns;
	cfg.rate_burst = 1;
	bpf_map_update_elem(bpf_map__fd(skel->maps.xnts_config), &zero, &cfg, BPF_ANY);
	st.stratum = 2;
	st.precision = -23;
	st.refid = htonl(0xc0000201);
	st.tai_offset = 37;
	st.reference_time = 0xe1234500deadbeefULL;
	st.heartbeat_ns = now_ns();
	st.heartbeat_timeout_ns = 3600ULL * 1000000000ULL;
	st.stale_action = XNTS_STALE_UNSYNC;
	xnts_time_state_publish(ts, &st);
}

int main(int argc, char **argv)
{
	long n = 200000;
	int rep = 1000000, opt, empty, fd, rc = 1;
	struct pkt v4, v6, nts, other;
	struct xnts_time_state *ts;
	struct xnts *skel;
	uint32_t *dur;
	void *m;

	while ((opt = getopt(argc, argv, "n:r:")) != -1) {
		if (opt == 'n')
			n = strtol(optarg, NULL, 10);
		else if (opt == 'r')
			rep = atoi(optarg);
		else
			return fprintf(stderr, "usage: %s [-n CALLS] [-r REPEAT]\n", argv[0]), 2;
	}
	if (n < 100 || n > 100000000 || rep < 1) {
		fprintf(stderr, "xdp_bench: CALLS must be 100..1e8, REPEAT >= 1\n");
		return 2;
	}
	dur = calloc((size_t)n, sizeof(*dur));
	skel = xnts__open_and_load();
	empty = load_empty_tx();
	if (!dur || !skel || empty < 0) {
		fprintf(stderr, "xdp_bench: cannot load the programs (root?): %s\n", strerror(errno));
		return 1;
	}
	fd = bpf_program__fd(skel->progs.xnts_xdp);
	m = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(skel->maps.xnts_time), 0);
	if (m == MAP_FAILED) {
		perror("xdp_bench: mmap xnts_time");
		return 1;
	}
	ts = m;
	setup(skel, ts, 0);
	build(&v4, 0, 123, 0);
	build(&v6, 1, 123, 0);
	build(&nts, 0, 123, 104);
	build(&other, 0, 53, 0);

	printf("xdp_bench: %ld calls per path, repeat=1 per BPF_PROG_TEST_RUN call\n", n);
	printf("%-34s %8s %7s %7s %10s\n", "path", "mean ns", "median", "p99",
	       "call ns");
	if (bench_single("empty XDP_TX program (baseline)", empty, &v4, XDP_TX, n, dur) ||
	    bench_single("answer NTPv4 over IPv4", fd, &v4, XDP_TX, n, dur) ||
	    bench_single("answer NTPv4 over IPv6", fd, &v6, XDP_TX, n, dur) ||
	    bench_single("pass: NTS request (ext. fields)", fd, &nts, XDP_PASS, n, dur) ||
	    bench_single("pass: UDP to another port", fd, &other, XDP_PASS, n, dur))
		goto out;
	bench_userspace(&v4, n, dur);
	/* A 1 ns minimum interval never limits but exercises the LRU lookup and update. */
	setup(skel, ts, 1);
	if (bench_single("answer IPv4, rate limiter on", fd, &v4, XDP_TX, n, dur))
		goto out;
	setup(skel, ts, 0);
	printf("\nunchanged packets, one call with a large repeat:\n");
	if (bench_repeat("empty XDP_TX program (baseline)", empty, &v4, XDP_TX, rep) ||
	    bench_repeat("pass: NTS request (ext. fields)", fd, &nts, XDP_PASS, rep) ||
	    bench_repeat("pass: UDP to another port", fd, &other, XDP_PASS, rep))
		goto out;
	rc = 0;
out:
	munmap(m, (size_t)sysconf(_SC_PAGESIZE));
	close(empty);
	xnts__destroy(skel);
	free(dur);
	return rc;
}
