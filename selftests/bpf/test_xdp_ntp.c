// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP NTP responder (bpf/xnts.bpf.c) through BPF_PROG_TEST_RUN: response
 * bytes, checksums (checked with an independent RFC 1071 routine), time
 * fields, the malformed and pass paths, allow/deny lists, rate limiting, the
 * stale-heartbeat fail-safe and the counters. Each run uses repeat=1 because
 * the kernel does not reset the packet between repeats.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kselftest_harness.h"
#include "pkt.h"
#include "xnts_shared.h"
#include "xnts.skel.h"
#include "xnts_rxts.skel.h"

#ifndef BPF_F_XDP_DEV_BOUND_ONLY
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6)
#endif

#define XDP_PASS_ 2
#define XDP_TX_ 3
#define XDP_DROP_ 1
#define NTP_UNIX 2208988800ULL
#define TAI_OFF 37
#define CLIENT_TX 0xe1234567a5a5a5a5ULL
#define REF_TIME 0xe1234500deadbeefULL
#define REFID_IP 0xc0000201	/* 192.0.2.1 as an upstream refid */

/* A valid NTPv4 client request, optionally behind one 802.1Q tag. */
static void build(struct pkt *p, int v6, int vlan)
{
	uint8_t n[48] = { (0 << 6) | (4 << 3) | 3, 0, 6, (uint8_t)-20 };	/* poll 6 */

	put32(n + 4, 0x00010000);		/* junk the server must overwrite */
	put32(n + 8, 0x00020000);
	put32(n + 12, 0x58585858);
	put64(n + 16, 0x1111111111111111ULL);
	put64(n + 24, 0x2222222222222222ULL);
	put64(n + 32, 0x3333333333333333ULL);
	put64(n + 40, CLIENT_TX);
	pkt_udp(p, v6, vlan, 123, n, sizeof(n));
}

static uint8_t *ntp(struct pkt *p)
{
	return p->b + p->l4 + 8;
}

struct run {
	struct pkt out;
	uint32_t retval;
	uint64_t t0, t1;	/* NTP timestamps (UTC) bracketing the run */
};

static uint64_t ntp_now_from_tai(int32_t tai_off)
{
	struct timespec ts;
	uint64_t sec;

	clock_gettime(CLOCK_TAI, &ts);
	sec = (uint64_t)(ts.tv_sec - tai_off) + NTP_UNIX;
	return sec << 32 | (((uint64_t)ts.tv_nsec << 32) / 1000000000ULL);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

FIXTURE(xdp) {
	struct xnts *skel;
	struct xnts_time_state *ts;	/* mmap of xnts_time */
	struct xnts_time_state state;	/* what the test last published */
	struct xnts_xdp_config cfg;
	int prog_fd;
	int ncpu;
};

static void publish(FIXTURE_DATA(xdp) *self)
{
	xnts_time_state_publish(self->ts, &self->state);
}

static int set_config(FIXTURE_DATA(xdp) *self)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(bpf_map__fd(self->skel->maps.xnts_config), &zero,
				   &self->cfg, BPF_ANY);
}

FIXTURE_SETUP(xdp)
{
	uint32_t zero = 0;
	void *m;

	memset(self, 0, sizeof(*self));
	self->skel = xnts__open_and_load();
	if (!self->skel && (errno == EPERM || errno == EACCES))
		SKIP(return, "cannot load BPF programs here (not root?)");
	ASSERT_NE(NULL, self->skel);
	self->prog_fd = bpf_program__fd(self->skel->progs.xnts_xdp);
	self->ncpu = libbpf_num_possible_cpus();
	ASSERT_GT(self->ncpu, 0);
	m = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(self->skel->maps.xnts_time), 0);
	ASSERT_NE(MAP_FAILED, m);
	self->ts = m;

	self->cfg.ports[0] = htons(123);
	self->cfg.versions = (1 << 3) | (1 << 4);
	self->cfg.rate_v6_prefix = XNTS_RATE_V6_PREFIX_DEFAULT;
	ASSERT_EQ(0, set_config(self));

	self->state.leap = NTP_LEAP_NONE;
	self->state.stratum = 2;
	self->state.precision = -23;
	self->state.stale_action = XNTS_STALE_UNSYNC;
	self->state.root_delay = 0x00001234;
	self->state.root_dispersion = 0x00000567;
	self->state.refid = htonl(REFID_IP);
	self->state.tai_offset = TAI_OFF;
	self->state.reference_time = REF_TIME;
	self->state.heartbeat_ns = mono_ns();
	self->state.heartbeat_timeout_ns = 60ULL * 1000000000ULL;
	publish(self);
	(void)zero;
}

FIXTURE_TEARDOWN(xdp)
{
	if (self->ts)
		munmap(self->ts, (size_t)sysconf(_SC_PAGESIZE));
	xnts__destroy(self->skel);
}

static int run_pkt(FIXTURE_DATA(xdp) *self, const struct pkt *in, struct run *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct pkt copy = *in;
	int err;

	memset(r, 0, sizeof(*r));
	o.data_in = copy.b;
	o.data_size_in = (uint32_t)copy.len;
	o.data_out = r->out.b;
	o.data_size_out = sizeof(r->out.b);
	o.repeat = 1;
	r->t0 = ntp_now_from_tai(self->state.tai_offset);
	err = bpf_prog_test_run_opts(self->prog_fd, &o);
	r->t1 = ntp_now_from_tai(self->state.tai_offset);
	r->retval = o.retval;
	r->out.len = o.data_size_out;
	r->out.l3 = in->l3;
	r->out.l4 = in->l4;
	r->out.v6 = in->v6;
	return err;
}

static uint64_t counter(FIXTURE_DATA(xdp) *self, enum xnts_counter c)
{
	uint64_t v[512], sum = 0;
	uint32_t key = c;
	int i;

	if (self->ncpu > 512 ||
	    bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.xnts_counters), &key, v))
		return UINT64_MAX;
	for (i = 0; i < self->ncpu; i++)
		sum += v[i];
	return sum;
}

/* Only this counter moved, by exactly one, between two snapshots. */
static int only_counter_moved(FIXTURE_DATA(xdp) *self, const uint64_t *before,
			      enum xnts_counter c)
{
	int i;

	for (i = 0; i < XNTS_CNT_MAX; i++) {
		uint64_t now = counter(self, i);

		if (now != before[i] + (i == (int)c ? 1 : 0))
			return 0;
	}
	return 1;
}

static void snapshot(FIXTURE_DATA(xdp) *self, uint64_t *c)
{
	int i;

	for (i = 0; i < XNTS_CNT_MAX; i++)
		c[i] = counter(self, i);
}

/*
 * The response the request must produce, except for the UDP checksum and the
 * receive/transmit timestamps, which are copied from got and checked apart.
 */
static void expected(const struct pkt *req, const struct pkt *got, struct pkt *e,
		     uint8_t li, uint8_t stratum, uint32_t refid, uint32_t rd, uint32_t disp,
		     uint64_t ref, int8_t prec)
{
	uint8_t *n;

	*e = *req;
	memcpy(e->b, req->b + 6, 6);
	memcpy(e->b + 6, req->b, 6);
	if (e->v6) {
		memcpy(e->b + e->l3 + 8, req->b + req->l3 + 24, 16);
		memcpy(e->b + e->l3 + 24, req->b + req->l3 + 8, 16);
		e->b[e->l3 + 7] = 64;
	} else {
		memcpy(e->b + e->l3 + 12, req->b + req->l3 + 16, 4);
		memcpy(e->b + e->l3 + 16, req->b + req->l3 + 12, 4);
		e->b[e->l3 + 8] = 64;
		put16(e->b + e->l3 + 10, 0);
		put16(e->b + e->l3 + 10, (uint16_t)~pkt_fold(pkt_sum16(e->b + e->l3, 20, 0)));
	}
	memcpy(e->b + e->l4, req->b + req->l4 + 2, 2);
	memcpy(e->b + e->l4 + 2, req->b + req->l4, 2);
	memcpy(e->b + e->l4 + 6, got->b + got->l4 + 6, 2);
	n = e->b + e->l4 + 8;
	n[0] = (uint8_t)(li << 6 | (req->b[req->l4 + 8] & 0x38) | 4);
	n[1] = stratum;
	/* n[2], poll: echoed */
	n[3] = (uint8_t)prec;
	put32(n + 4, rd);
	put32(n + 8, disp);
	put32(n + 12, refid);
	put64(n + 16, ref);
	memcpy(n + 24, req->b + req->l4 + 8 + 40, 8);
	memcpy(n + 32, got->b + got->l4 + 8 + 32, 16);
}

/* Checksums of a response, verified independently of how the program made them. */
static int ts_in_window(const struct run *r)
{
	const uint8_t *n = r->out.b + r->out.l4 + 8;
	uint64_t rx = get64(n + 32), tx = get64(n + 40);

	return r->t0 <= rx && rx <= tx && tx <= r->t1;
}

/* A normal answer: every byte, both checksums and both timestamps. */
static void check_answer(struct __test_metadata *_metadata, FIXTURE_DATA(xdp) *self,
			 const struct pkt *req)
{
	uint64_t before[XNTS_CNT_MAX];
	struct run r;
	struct pkt e;

	snapshot(self, before);
	ASSERT_EQ(0, run_pkt(self, req, &r));
	ASSERT_EQ(XDP_TX_, r.retval);
	ASSERT_EQ(req->len, r.out.len);
	expected(req, &r.out, &e, self->state.leap, self->state.stratum, ntohl(self->state.refid),
		 self->state.root_delay, self->state.root_dispersion,
		 self->state.reference_time, self->state.precision);
	EXPECT_EQ(0, memcmp(e.b, r.out.b, r.out.len));
	EXPECT_TRUE(pkt_csums_ok(&r.out));
	EXPECT_TRUE(ts_in_window(&r));
	EXPECT_TRUE(only_counter_moved(self, before, XNTS_CNT_ANSWERED));
}

/* IPv4 and IPv6, each bare and behind one 802.1Q tag. */
TEST_F(xdp, answer_ipv4_ipv6_vlan)
{
	struct pkt p;

	for (int v6 = 0; v6 <= 1; v6++) {
		for (int vlan = 0; vlan <= 1; vlan++) {
			build(&p, v6, vlan);
			check_answer(_metadata, self, &p);
		}
	}
}

/* NTPv3 gets VN 3 back; the poll value is echoed; another leap value and refid. */
TEST_F(xdp, answer_v3_leap_and_fields)
{
	struct pkt p;

	self->state.leap = NTP_LEAP_INSERT;
	self->state.stratum = 1;
	self->state.precision = -7;
	self->state.refid = htonl(0x47505300);	/* "GPS" */
	self->state.root_delay = 0x00010002;
	self->state.root_dispersion = 0x0003a004;
	self->state.reference_time = 0xdeadbeef01020304ULL;
	publish(self);
	build(&p, 0, 0);
	ntp(&p)[0] = (3 << 3) | 3;
	ntp(&p)[2] = 10;
	pkt_fix_csums(&p);
	check_answer(_metadata, self, &p);
	build(&p, 1, 0);
	ntp(&p)[0] = (3 << 6) | (4 << 3) | 3;	/* the client's LI is not echoed */
	pkt_fix_csums(&p);
	check_answer(_metadata, self, &p);
}

/* IPv4 allows "no checksum" (0): answered, with a real checksum. */
TEST_F(xdp, answer_ipv4_no_udp_checksum)
{
	struct pkt p;

	build(&p, 0, 0);
	put16(p.b + p.l4 + 6, 0);
	check_answer(_metadata, self, &p);
}

/*
 * The IPv4 header checksum is updated incrementally for the TTL change; sweep
 * TTL and ID so that many checksum values (including the pkt_fold edge cases) are
 * compared with a checksum computed from scratch.
 */
TEST_F(xdp, ipv4_checksum_sweep)
{
	static const int ttls[] = { 1, 63, 64, 65, 128, 255 };
	unsigned int i;
	struct pkt p;
	int id;

	for (i = 0; i < sizeof(ttls) / sizeof(ttls[0]); i++) {
		for (id = 0; id < 65536; id += 251) {
			build(&p, 0, 0);
			p.b[p.l3 + 8] = (uint8_t)ttls[i];
			put16(p.b + p.l3 + 4, (uint16_t)id);
			pkt_fix_csums(&p);
			check_answer(_metadata, self, &p);
		}
	}
}

/* A second port from the config is served; its port is swapped back correctly. */
TEST_F(xdp, answer_second_port)
{
	struct pkt p;

	self->cfg.ports[2] = htons(10123);
	ASSERT_EQ(0, set_config(self));
	build(&p, 1, 0);
	put16(p.b + p.l4 + 2, 10123);
	pkt_fix_csums(&p);
	check_answer(_metadata, self, &p);
}

/* Not answered and not modified: the packet goes up (or is dropped) as it came. */
static void check_not_answered(struct __test_metadata *_metadata, FIXTURE_DATA(xdp) *self,
			       const struct pkt *p, uint32_t want, enum xnts_counter c,
			       const char *what)
{
	uint64_t before[XNTS_CNT_MAX];
	struct run r;

	snapshot(self, before);
	ASSERT_EQ(0, run_pkt(self, p, &r)) TH_LOG("%s", what);
	EXPECT_EQ(want, r.retval) TH_LOG("%s", what);
	EXPECT_EQ(p->len, r.out.len) TH_LOG("%s", what);
	EXPECT_EQ(0, memcmp(p->b, r.out.b, p->len)) TH_LOG("%s", what);
	EXPECT_TRUE(only_counter_moved(self, before, c)) TH_LOG("%s", what);
}

TEST_F(xdp, truncated)
{
	struct pkt p;
	int v6;

	for (v6 = 0; v6 <= 1; v6++) {
		/* BPF_PROG_TEST_RUN refuses frames under 14 bytes: a bare header is the least. */
		build(&p, v6, 0);
		p.len = 14;
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_OTHER, "eth");
		build(&p, v6, 1);
		p.len = 16;
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_OTHER, "vlan");
		build(&p, v6, 0);
		p.len = p.l3 + (v6 ? 39 : 19);
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_OTHER, "ip");
		build(&p, v6, 0);
		p.len = p.l4 + 7;
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_OTHER, "udp");
		/* Frame cut, lengths still claim 48 bytes of NTP. */
		build(&p, v6, 0);
		p.len -= 1;
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_INVALID,
				   "ntp cut");
		/* Consistent lengths, but only 47 bytes of NTP. */
		build(&p, v6, 0);
		p.len -= 1;
		put16(p.b + p.l4 + 4, 55);
		if (v6)
			put16(p.b + p.l3 + 4, 55);
		else
			put16(p.b + p.l3 + 2, 75);
		pkt_fix_csums(&p);
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_INVALID,
				   "ntp short");
		/* No NTP at all. */
		build(&p, v6, 0);
		p.len = p.l4 + 8;
		put16(p.b + p.l4 + 4, 8);
		if (v6)
			put16(p.b + p.l3 + 4, 8);
		else
			put16(p.b + p.l3 + 2, 28);
		pkt_fix_csums(&p);
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_INVALID,
				   "empty udp");
	}
}

TEST_F(xdp, ipv4_options_and_fragments)
{
	struct pkt p;

	/* IHL 6: one 4-byte option (NOPs then EOL) before UDP. */
	build(&p, 0, 0);
	memmove(p.b + p.l4 + 4, p.b + p.l4, p.len - p.l4);
	memset(p.b + p.l4, 1, 3);
	p.b[p.l4 + 3] = 0;
	p.b[p.l3] = 0x46;
	put16(p.b + p.l3 + 2, 80);
	p.len += 4;
	p.l4 += 4;
	pkt_fix_csums(&p);
	check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_UNSUPPORTED, "options");

	build(&p, 0, 0);
	put16(p.b + p.l3 + 6, 0x2000);	/* MF */
	pkt_fix_csums(&p);
	check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_UNSUPPORTED, "MF");
	build(&p, 0, 0);
	put16(p.b + p.l3 + 6, 0x0001);	/* offset 8 */
	pkt_fix_csums(&p);
	check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_UNSUPPORTED,
			   "offset");
	build(&p, 0, 0);
	put16(p.b + p.l3 + 6, 0x1fff);	/* largest offset, no MF: the last fragment */
	pkt_fix_csums(&p);
	check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_UNSUPPORTED,
			   "last fragment");
}

TEST_F(xdp, ipv6_extension_header)
{
	struct pkt p;

	/* A hop-by-hop header (8 bytes, PadN) in front of UDP. */
	build(&p, 1, 0);
	memmove(p.b + p.l4 + 8, p.b + p.l4, p.len - p.l4);
	memset(p.b + p.l4, 0, 8);
	p.b[p.l4] = 17;
	p.b[p.l4 + 2] = 1;
	p.b[p.l4 + 3] = 4;
	p.b[p.l3 + 6] = 0;
	put16(p.b + p.l3 + 4, 64);
	p.len += 8;
	p.l4 += 8;
	pkt_fix_csums(&p);
	check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_UNSUPPORTED, "hbh");
}

TEST_F(xdp, stacked_vlan)
{
	struct pkt p;

	build(&p, 0, 1);
	memmove(p.b + 16, p.b + 12, p.len - 12);
	put16(p.b + 12, 0x88a8);
	put16(p.b + 14, 0x0005);
	p.len += 4;
	p.l3 += 4;
	p.l4 += 4;
	check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_UNSUPPORTED, "QinQ");
}

TEST_F(xdp, bad_lengths)
{
	struct pkt p;
	int v6;

	for (v6 = 0; v6 <= 1; v6++) {
		build(&p, v6, 0);
		put16(p.b + p.l4 + 4, 57);	/* UDP longer than the packet */
		pkt_fix_csums(&p);
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_INVALID,
				   "udp long");
		build(&p, v6, 0);
		put16(p.b + p.l4 + 4, 52);	/* UDP shorter than the IP payload */
		pkt_fix_csums(&p);
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_INVALID,
				   "udp short");
		build(&p, v6, 0);
		put16(p.b + p.l4 + 4, 4);	/* UDP shorter than its own header */
		pkt_fix_csums(&p);
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_INVALID,
				   "udp < 8");
		build(&p, v6, 0);
		if (v6)
			put16(p.b + p.l3 + 4, 57);
		else
			put16(p.b + p.l3 + 2, 77);	/* IP longer than the frame */
		pkt_fix_csums(&p);
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_INVALID,
				   "ip long");
		/* Oversize frame: trailing bytes after a well-formed request. */
		build(&p, v6, 0);
		memset(p.b + p.len, 0xab, 20);
		p.len += 20;
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_INVALID,
				   "trailer");
	}
}

TEST_F(xdp, wrong_mode_and_version)
{
	static const int modes[] = { 0, 1, 2, 4, 5, 6, 7 };
	static const int versions[] = { 0, 1, 2, 5, 6, 7 };
	char what[32];
	struct pkt p;
	unsigned int i;
	int v6;

	/* Every version bit on: the program itself must refuse what it cannot answer. */
	self->cfg.versions = 0xff;
	ASSERT_EQ(0, set_config(self));
	for (v6 = 0; v6 <= 1; v6++) {
		for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
			build(&p, v6, 0);
			ntp(&p)[0] = (uint8_t)((4 << 3) | modes[i]);
			pkt_fix_csums(&p);
			snprintf(what, sizeof(what), "v6=%d mode %d", v6, modes[i]);
			check_not_answered(_metadata, self, &p, XDP_PASS_,
					   XNTS_CNT_PASSED_INVALID, what);
		}
		for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
			build(&p, v6, 0);
			ntp(&p)[0] = (uint8_t)((versions[i] << 3) | 3);
			pkt_fix_csums(&p);
			snprintf(what, sizeof(what), "v6=%d version %d", v6, versions[i]);
			check_not_answered(_metadata, self, &p, XDP_PASS_,
					   XNTS_CNT_PASSED_INVALID, what);
		}
	}
	/* A version the config does not accept goes up as well. */
	self->cfg.versions = 1 << 4;
	ASSERT_EQ(0, set_config(self));
	build(&p, 0, 0);
	ntp(&p)[0] = (3 << 3) | 3;
	pkt_fix_csums(&p);
	check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_INVALID, "v3 off");
}

TEST_F(xdp, bad_checksums)
{
	struct pkt p;
	int v6;

	for (v6 = 0; v6 <= 1; v6++) {
		build(&p, v6, 0);
		ntp(&p)[47] ^= 1;		/* payload corrupted after checksumming */
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_INVALID,
				   "udp csum");
	}
	build(&p, 0, 0);
	p.b[p.l3 + 1] ^= 4;			/* TOS: only the IP header checksum covers it */
	check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_INVALID, "ip csum");
	build(&p, 1, 0);
	put16(p.b + p.l4 + 6, 0);		/* IPv6 requires a UDP checksum */
	check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_INVALID, "v6 zero");
}

TEST_F(xdp, bad_addresses_and_ports)
{
	struct pkt p;
	int v6;

	for (v6 = 0; v6 <= 1; v6++) {
		build(&p, v6, 0);
		put16(p.b + p.l4, 0);		/* source port 0 */
		pkt_fix_csums(&p);
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_INVALID,
				   "sport 0");
		build(&p, v6, 0);
		put16(p.b + p.l4 + 2, 124);	/* not a served port */
		pkt_fix_csums(&p);
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_OTHER,
				   "port 124");
		build(&p, v6, 0);
		p.b[0] = 0x01;			/* multicast destination MAC */
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_INVALID,
				   "mcast mac");
		build(&p, v6, 0);
		if (v6)
			p.b[p.l3 + 24] = 0xff;	/* to a multicast group */
		else
			p.b[p.l3 + 16] = 224;
		pkt_fix_csums(&p);
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_INVALID,
				   "mcast dst");
		build(&p, v6, 0);
		if (v6)
			memset(p.b + p.l3 + 8, 0, 16);	/* from :: */
		else
			memset(p.b + p.l3 + 12, 0xff, 4);	/* from 255.255.255.255 */
		pkt_fix_csums(&p);
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_INVALID,
				   "bad src");
	}
	build(&p, 0, 0);
	put16(p.b + 12, 0x0806);		/* ARP */
	check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_OTHER, "arp");
	build(&p, 0, 0);
	p.b[p.l3 + 9] = 6;			/* TCP */
	pkt_fix_csums(&p);
	check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_OTHER, "tcp");
}

/* Extension fields (NTS, or anything longer than 48 bytes) go to userspace. */
TEST_F(xdp, nts_request_passes)
{
	struct pkt p;
	uint8_t *ef;
	int v6;

	for (v6 = 0; v6 <= 1; v6++) {
		build(&p, v6, 0);
		ef = p.b + p.len;		/* Unique Identifier EF, 32 bytes of body */
		put16(ef, 0x0104);
		put16(ef + 2, 36);
		memset(ef + 4, 0x5a, 32);
		p.len += 36;
		put16(p.b + p.l4 + 4, 56 + 36);
		if (v6)
			put16(p.b + p.l3 + 4, 56 + 36);
		else
			put16(p.b + p.l3 + 2, 76 + 36);
		pkt_fix_csums(&p);
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_NTS, "nts");
	}
}

/* The kiss-o'-death a request must produce (RFC 5905 7.4). */
static void check_kiss(struct __test_metadata *_metadata, FIXTURE_DATA(xdp) *self,
		       const struct pkt *req, const char *code, enum xnts_counter c)
{
	uint64_t before[XNTS_CNT_MAX];
	struct run r;
	struct pkt e;

	snapshot(self, before);
	ASSERT_EQ(0, run_pkt(self, req, &r));
	ASSERT_EQ(XDP_TX_, r.retval);
	expected(req, &r.out, &e, 3, 0, get32((const uint8_t *)code), 0, 0, 0,
		 self->state.precision);
	EXPECT_EQ(0, memcmp(e.b, r.out.b, r.out.len)) TH_LOG("%s", code);
	EXPECT_EQ(0, memcmp(r.out.b + r.out.l4 + 8 + 12, code, 4));
	EXPECT_TRUE(pkt_csums_ok(&r.out));
	EXPECT_TRUE(ts_in_window(&r));
	EXPECT_TRUE(only_counter_moved(self, before, c)) TH_LOG("%s", code);
}

TEST_F(xdp, rate_limit_burst)
{
	struct pkt p, other;
	int v6;

	self->cfg.rate_interval_ns = 10ULL * 1000000000ULL;
	self->cfg.rate_burst = 3;
	ASSERT_EQ(0, set_config(self));
	for (v6 = 0; v6 <= 1; v6++) {
		build(&p, v6, 0);
		check_answer(_metadata, self, &p);
		check_answer(_metadata, self, &p);
		check_answer(_metadata, self, &p);
		check_kiss(_metadata, self, &p, "RATE", XNTS_CNT_RATE_LIMITED);
		check_kiss(_metadata, self, &p, "RATE", XNTS_CNT_RATE_LIMITED);
		/* Another client (IPv6: in another /64) has its own bucket. */
		build(&other, v6, 0);
		other.b[v6 ? other.l3 + 8 + 7 : other.l3 + 15] ^= 0x40;
		pkt_fix_csums(&other);
		check_answer(_metadata, self, &other);
	}
}

/*
 * IPv6 clients share a bucket per rate-limiting-ipv6-prefix (64 by
 * default): another address in the same /64 is over the limit too, one in
 * the next /64 is not. With the prefix at 128 every address counts alone.
 */
TEST_F(xdp, rate_limit_ipv6_prefix)
{
	struct pkt p, same64, next64;

	self->cfg.rate_interval_ns = 10ULL * 1000000000ULL;
	self->cfg.rate_burst = 1;
	ASSERT_EQ(0, set_config(self));
	build(&p, 1, 0);
	build(&same64, 1, 0);
	same64.b[same64.l3 + 8 + 15] ^= 0x40;
	pkt_fix_csums(&same64);
	build(&next64, 1, 0);
	next64.b[next64.l3 + 8 + 7] ^= 0x01;
	pkt_fix_csums(&next64);
	check_answer(_metadata, self, &p);
	check_kiss(_metadata, self, &same64, "RATE", XNTS_CNT_RATE_LIMITED);
	check_answer(_metadata, self, &next64);
	check_kiss(_metadata, self, &next64, "RATE", XNTS_CNT_RATE_LIMITED);

	self->cfg.rate_v6_prefix = 128;
	ASSERT_EQ(0, set_config(self));
	same64.b[same64.l3 + 8 + 14] ^= 0x01;	/* a key not seen yet */
	pkt_fix_csums(&same64);
	check_answer(_metadata, self, &same64);
	check_kiss(_metadata, self, &same64, "RATE", XNTS_CNT_RATE_LIMITED);
	p.b[p.l3 + 8 + 14] ^= 0x01;
	p.b[p.l3 + 8 + 15] ^= 0x80;
	pkt_fix_csums(&p);
	check_answer(_metadata, self, &p);
}

/* Burst 1: the interval is the minimum gap between answered requests. */
TEST_F(xdp, rate_limit_interval)
{
	struct pkt p;

	self->cfg.rate_interval_ns = 200ULL * 1000000ULL;
	self->cfg.rate_burst = 1;
	ASSERT_EQ(0, set_config(self));
	build(&p, 0, 0);
	check_answer(_metadata, self, &p);
	check_kiss(_metadata, self, &p, "RATE", XNTS_CNT_RATE_LIMITED);
	usleep(250 * 1000);
	check_answer(_metadata, self, &p);
	check_kiss(_metadata, self, &p, "RATE", XNTS_CNT_RATE_LIMITED);
}

static void lpm4_add(FIXTURE_DATA(xdp) *self, struct bpf_map *m, const uint8_t *a, uint32_t len)
{
	struct xnts_lpm4_key k = { .prefixlen = len };
	uint8_t one = 1;

	memcpy(k.addr, a, 4);
	bpf_map_update_elem(bpf_map__fd(m), &k, &one, BPF_ANY);
}

static void lpm6_add(FIXTURE_DATA(xdp) *self, struct bpf_map *m, const uint8_t *a, uint32_t len)
{
	struct xnts_lpm6_key k = { .prefixlen = len };
	uint8_t one = 1;

	memcpy(k.addr, a, 16);
	bpf_map_update_elem(bpf_map__fd(m), &k, &one, BPF_ANY);
}

TEST_F(xdp, denylist)
{
	static const uint8_t net4[4] = { 192, 0, 2, 0 };
	static const uint8_t net6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	struct pkt p;
	int v6;

	lpm4_add(self, self->skel->maps.xnts_deny4, net4, 24);
	lpm6_add(self, self->skel->maps.xnts_deny6, net6, 32);
	for (v6 = 0; v6 <= 1; v6++) {
		self->cfg.deny_action = XNTS_ACT_DENY;
		ASSERT_EQ(0, set_config(self));
		build(&p, v6, 0);
		check_kiss(_metadata, self, &p, "DENY", XNTS_CNT_DENIED);
		self->cfg.deny_action = XNTS_ACT_IGNORE;
		ASSERT_EQ(0, set_config(self));
		check_not_answered(_metadata, self, &p, XDP_DROP_, XNTS_CNT_IGNORED, "ignore");
		/* Outside the listed prefix: answered. */
		if (v6)
			p.b[p.l3 + 8 + 3] = 0xb9;
		else
			p.b[p.l3 + 12 + 2] = 3;
		pkt_fix_csums(&p);
		check_answer(_metadata, self, &p);
	}
}

TEST_F(xdp, allowlist)
{
	static const uint8_t net4[4] = { 192, 0, 2, 8 };
	static const uint8_t net6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };
	struct pkt p;
	int v6;

	lpm4_add(self, self->skel->maps.xnts_allow4, net4, 29);
	lpm6_add(self, self->skel->maps.xnts_allow6, net6, 128);
	self->cfg.flags = XNTS_CFG_ALLOWLIST;
	for (v6 = 0; v6 <= 1; v6++) {
		self->cfg.allow_action = XNTS_ACT_DENY;
		ASSERT_EQ(0, set_config(self));
		build(&p, v6, 0);
		check_answer(_metadata, self, &p);
		/* 192.0.2.16 or 2001:db8::11: not on the list. */
		p.b[v6 ? p.l3 + 8 + 15 : p.l3 + 12 + 3] = v6 ? 0x11 : 16;
		pkt_fix_csums(&p);
		check_kiss(_metadata, self, &p, "DENY", XNTS_CNT_DENIED);
		self->cfg.allow_action = XNTS_ACT_IGNORE;
		ASSERT_EQ(0, set_config(self));
		check_not_answered(_metadata, self, &p, XDP_DROP_, XNTS_CNT_IGNORED, "ignore");
	}
	/* The denylist wins over the allowlist. */
	lpm4_add(self, self->skel->maps.xnts_deny4, net4, 32);
	self->cfg.deny_action = XNTS_ACT_DENY;
	ASSERT_EQ(0, set_config(self));
	build(&p, 0, 0);
	check_answer(_metadata, self, &p);	/* .10 is allowed, .8 is denied */
	p.b[p.l3 + 12 + 3] = 8;
	pkt_fix_csums(&p);
	check_kiss(_metadata, self, &p, "DENY", XNTS_CNT_DENIED);
}

TEST_F(xdp, stale_unsync)
{
	uint64_t before[XNTS_CNT_MAX];
	struct pkt p, e;
	struct run r;
	int v6;

	self->state.heartbeat_ns = mono_ns() - 20ULL * 1000000000ULL;
	self->state.heartbeat_timeout_ns = 10ULL * 1000000000ULL;
	self->state.stale_action = XNTS_STALE_UNSYNC;
	publish(self);
	for (v6 = 0; v6 <= 1; v6++) {
		build(&p, v6, 0);
		snapshot(self, before);
		ASSERT_EQ(0, run_pkt(self, &p, &r));
		ASSERT_EQ(XDP_TX_, r.retval);
		expected(&p, &r.out, &e, 3, 16, ntohl(self->state.refid), self->state.root_delay,
			 self->state.root_dispersion, self->state.reference_time,
			 self->state.precision);
		EXPECT_EQ(0, memcmp(e.b, r.out.b, r.out.len));
		EXPECT_TRUE(pkt_csums_ok(&r.out));
		EXPECT_TRUE(ts_in_window(&r));
		EXPECT_TRUE(only_counter_moved(self, before, XNTS_CNT_STALE_UNSYNC));
	}
	/* A fresh heartbeat restores normal answers. */
	self->state.heartbeat_ns = mono_ns();
	publish(self);
	check_answer(_metadata, self, &p);
}

TEST_F(xdp, stale_pass)
{
	struct pkt p;
	int v6;

	self->state.heartbeat_ns = mono_ns() - 2000000ULL;
	self->state.heartbeat_timeout_ns = 1000000ULL;
	self->state.stale_action = XNTS_STALE_PASS;
	publish(self);
	for (v6 = 0; v6 <= 1; v6++) {
		build(&p, v6, 0);
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_STALE_PASS, "stale");
	}
}

/* Before the daemon has published anything, the program answers nothing. */
TEST_F(xdp, unpublished_state_passes)
{
	struct pkt p;

	memset(self->ts, 0, sizeof(*self->ts));
	build(&p, 0, 0);
	check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_STALE_PASS, "zero state");
}

/* A state caught mid-write (odd seqcount) is never used. */
TEST_F(xdp, state_being_written_passes)
{
	struct pkt p;

	__atomic_store_n(&self->ts->seq, self->ts->seq | 1, __ATOMIC_RELEASE);
	build(&p, 1, 0);
	check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_BUSY, "odd seq");
	publish(self);
	check_answer(_metadata, self, &p);
}

/* An unconfigured program (no ports) passes NTP untouched. */
TEST_F(xdp, no_ports_configured)
{
	struct pkt p;

	memset(&self->cfg, 0, sizeof(self->cfg));
	ASSERT_EQ(0, set_config(self));
	build(&p, 0, 0);
	check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_OTHER, "no ports");
}

/*
 * The RX-metadata variant (bpf/xnts_rxts.bpf.c): its kfunc must pass the
 * verifier in a program bound to a device, here a veth in a network namespace
 * private to this test process (the harness forks per test, so it vanishes
 * with the process).
 */
TEST(rx_metadata_variant_loads_device_bound)
{
	struct xnts_rxts *skel;
	int ifindex;

	if (unshare(CLONE_NEWNET))
		SKIP(return, "cannot create a network namespace: %s", strerror(errno));
	ASSERT_EQ(0, system("ip link add xnts_rx0 type veth peer name xnts_rx1"));
	ifindex = (int)if_nametoindex("xnts_rx0");
	ASSERT_NE(0, ifindex);

	skel = xnts_rxts__open();
	ASSERT_NE(NULL, skel);
	bpf_program__set_ifindex(skel->progs.xnts_xdp, ifindex);
	ASSERT_EQ(0, bpf_program__set_flags(skel->progs.xnts_xdp, BPF_F_XDP_DEV_BOUND_ONLY));
	EXPECT_EQ(0, xnts_rxts__load(skel));
	xnts_rxts__destroy(skel);

	/* Without a device the kfunc does not resolve (libbpf's log of that is muted). */
	skel = xnts_rxts__open();
	ASSERT_NE(NULL, skel);
	libbpf_set_print(NULL);
	EXPECT_NE(0, xnts_rxts__load(skel));
	xnts_rxts__destroy(skel);
}

/*
 * XNTS_CFG_LOCAL_ONLY: only destinations in xnts_local are answered; the
 * same address on another port, or another address, goes up untouched.
 */
TEST_F(xdp, local_only)
{
	int fd = bpf_map__fd(self->skel->maps.xnts_local);
	struct xnts_local_key k;
	uint8_t one = 1;
	struct pkt p;
	int v6;

	self->cfg.flags = XNTS_CFG_LOCAL_ONLY;
	ASSERT_EQ(0, set_config(self));
	for (v6 = 0; v6 <= 1; v6++) {
		build(&p, v6, 0);
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_NOT_LOCAL,
				   "empty map");
		memset(&k, 0, sizeof(k));
		xnts_addr16(k.addr, v6 ? pkt_v6_srv : pkt_v4_srv, v6);
		k.port = htons(1123);
		ASSERT_EQ(0, bpf_map_update_elem(fd, &k, &one, BPF_ANY));
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_NOT_LOCAL,
				   "other port");
		k.port = htons(123);
		ASSERT_EQ(0, bpf_map_update_elem(fd, &k, &one, BPF_ANY));
		check_answer(_metadata, self, &p);
		/* Another destination address on the same port. */
		build(&p, v6, 0);
		p.b[p.l3 + (v6 ? 39 : 19)] ^= 0x20;
		pkt_fix_csums(&p);
		check_not_answered(_metadata, self, &p, XDP_PASS_, XNTS_CNT_PASSED_NOT_LOCAL,
				   "other address");
	}
}

TEST_HARNESS_MAIN
