// SPDX-License-Identifier: GPL-2.0
/*
 * The differential test: the same plain NTP requests go to the XDP program
 * (BPF_PROG_TEST_RUN) and to the userspace server's protocol core
 * (ntp_serve()), with the same server state. Whatever one answers the other
 * must answer with identical bytes, except the receive and transmit
 * timestamps, which must both fall inside the run's time window; and
 * whatever XDP does not answer (XDP_PASS), userspace must either answer the
 * same way or drop. Kiss-o'-death answers are compared the same way, with
 * the kiss decided by each side's own policy code (XDP's maps, userspace's
 * ntp_policy inside ntp_serve()) for the same situation.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kselftest_harness.h"
#include "ntp.h"
#include "ntp_policy.h"
#include "ntp_serve.h"
#include "xnts_shared.h"
#include "xnts.skel.h"

#define XDP_TX_ 3
#define TAI_OFF 37
#define L4 34		/* Ethernet 14 + IPv4 20 */

struct frame {
	uint8_t b[256];
	uint32_t len;
};

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

/* An IPv4 frame carrying payload as its UDP data, checksums valid. */
static void frame(struct frame *f, const uint8_t *payload, size_t plen, const uint8_t src[4])
{
	uint8_t *ip = f->b + 14, *udp = f->b + L4;
	uint16_t c;

	memset(f, 0, sizeof(*f));
	memcpy(f->b, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00", 14);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + 8 + plen) >> 8);
	ip[3] = (uint8_t)(20 + 8 + plen);
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, "\xc6\x33\x64\x01", 4);
	c = (uint16_t)~fold(sum16(ip, 20, 0));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	udp[0] = 0x9c;
	udp[1] = 0x40;
	udp[2] = 0;
	udp[3] = 123;
	udp[4] = (uint8_t)((8 + plen) >> 8);
	udp[5] = (uint8_t)(8 + plen);
	memcpy(udp + 8, payload, plen);
	c = (uint16_t)~fold(sum16(udp, 8 + plen, sum16(ip + 12, 8, 0) + 17 + 8 + (uint32_t)plen));
	udp[6] = (uint8_t)(c ? c >> 8 : 0xff);
	udp[7] = (uint8_t)(c ? c : 0xff);
	f->len = (uint32_t)(L4 + 8 + plen);
}

static uint64_t now_ntp(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ntp_ts_from_timespec(&ts);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

FIXTURE(diff) {
	struct xnts *skel;
	struct xnts_time_state *map;
	struct xnts_time_state ts;
	struct xnts_config cfg;
	struct ntp_serve_state us;
	struct ntp_serve_ctx ctx;
	int prog;
};

static void publish(FIXTURE_DATA(diff) *self)
{
	uint32_t zero = 0;
	uint32_t refid = self->ts.refid;

	self->ts.heartbeat_ns = mono_ns();
	xnts_time_state_publish(self->map, &self->ts);
	bpf_map_update_elem(bpf_map__fd(self->skel->maps.xnts_config), &zero, &self->cfg, 0);
	/* The same claims, in the userspace core's terms. */
	self->us.leap = self->ts.leap;
	self->us.stratum = self->ts.stratum;
	self->us.precision = self->ts.precision;
	self->us.root_delay = self->ts.root_delay;
	self->us.root_dispersion = self->ts.root_dispersion;
	memcpy(self->us.refid, &refid, 4);
	self->us.reference_time = self->ts.reference_time;
}

FIXTURE_SETUP(diff)
{
	void *m;

	memset(self, 0, sizeof(*self));
	self->skel = xnts__open_and_load();
	ASSERT_NE(NULL, self->skel);
	self->prog = bpf_program__fd(self->skel->progs.xnts_xdp);
	m = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(self->skel->maps.xnts_time), 0);
	ASSERT_NE(MAP_FAILED, m);
	self->map = m;
	self->cfg.ports[0] = htons(123);
	self->cfg.versions = (1 << 3) | (1 << 4);
	self->ts.leap = XNTS_LEAP_NONE;
	self->ts.stratum = 2;
	self->ts.precision = -24;
	self->ts.root_delay = 0x00000321;
	self->ts.root_dispersion = 0x00000a0b;
	self->ts.refid = htonl(0xc0000201);
	self->ts.reference_time = 0xeb0000001234abcdULL;
	self->ts.tai_offset = 0;	/* this host: TAI = UTC (platform notes) */
	self->ts.heartbeat_timeout_ns = 60ULL * 1000000000ULL;
	self->ts.stale_action = XNTS_STALE_UNSYNC;
	publish(self);
	ASSERT_EQ(0, ntp_serve_ctx_init(&self->ctx, NULL));
}

FIXTURE_TEARDOWN(diff)
{
	ntp_serve_ctx_fini(&self->ctx);
	munmap(self->map, (size_t)sysconf(_SC_PAGESIZE));
	xnts__destroy(self->skel);
}

struct verdicts {
	int xdp_tx;
	int us_answer;
};

/*
 * One request through both paths; compares and returns what each did.
 * tai must be 0 on this host for CLOCK_TAI and CLOCK_REALTIME to agree.
 */
static struct verdicts compare(struct __test_metadata *_metadata, FIXTURE_DATA(diff) *self,
			       const uint8_t *req, size_t len, const uint8_t src[4])
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct frame in, out = { 0 };
	uint8_t resp[256];
	struct verdicts v;
	size_t rlen = 0;
	uint64_t t0, t1;
	enum ntp_serve_outcome oc;
	const uint8_t *x;
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = htons(40000) };

	memcpy(&from.sin_addr, src, 4);
	frame(&in, req, len, src);
	o.data_in = in.b;
	o.data_size_in = in.len;
	o.data_out = out.b;
	o.data_size_out = sizeof(out.b);
	o.repeat = 1;
	t0 = now_ntp();
	EXPECT_EQ(0, bpf_prog_test_run_opts(self->prog, &o));
	oc = ntp_serve(&self->ctx, req, len, (struct sockaddr *)&from, now_ntp(), &self->us,
		       resp, sizeof(resp), &rlen);
	t1 = now_ntp();
	v.xdp_tx = o.retval == XDP_TX_;
	v.us_answer = rlen > 0;
	if (!v.xdp_tx) {
		/* XDP passed it up: the userspace answer is the system's answer. */
		return v;
	}
	EXPECT_TRUE(v.us_answer);
	EXPECT_TRUE(oc == NTP_SERVE_PLAIN || oc == NTP_SERVE_RATE || oc == NTP_SERVE_DENY);
	EXPECT_EQ(L4 + 8 + rlen, o.data_size_out);
	if (!v.us_answer || o.data_size_out != L4 + 8 + rlen)
		return v;
	x = out.b + L4 + 8;
	/* Everything up to the receive timestamp, byte for byte. */
	EXPECT_EQ(0, memcmp(x, resp, 32)) {
		for (int i = 0; i < 32; i++)
			if (x[i] != resp[i])
				TH_LOG("byte %d: xdp %02x userspace %02x", i, x[i], resp[i]);
	}
	for (int off = 32; off <= 40; off += 8) {
		EXPECT_GE(get64(x + off), t0 - (1ULL << 22));
		EXPECT_LE(get64(x + off), t1 + (1ULL << 22));
		EXPECT_GE(get64(resp + off), t0);
		EXPECT_LE(get64(resp + off), t1);
	}
	return v;
}

static void request(uint8_t *r, int li, int vn, int mode, int poll, uint64_t tx)
{
	memset(r, 0, 48);
	r[0] = (uint8_t)(li << 6 | vn << 3 | mode);
	r[2] = (uint8_t)poll;
	r[3] = (uint8_t)-18;
	for (int i = 0; i < 8; i++)
		r[40 + i] = (uint8_t)(tx >> (56 - 8 * i));
	memset(r + 4, 0x5a, 12);	/* client junk the server must not echo */
}

static const uint8_t cli[4] = { 192, 0, 2, 10 };

TEST_F(diff, plain_requests_agree)
{
	static const int polls[] = { 0, 3, 6, 10, 17, -3 };
	uint8_t r[48];
	int n = 0;

	for (int vn = 3; vn <= 4; vn++)
		for (int li = 0; li <= 3; li++)
			for (unsigned int p = 0; p < sizeof(polls) / sizeof(polls[0]); p++) {
				struct verdicts v;

				request(r, li, vn, 3, polls[p], 0xe0000000ULL << 32 | (uint64_t)n);
				v = compare(_metadata, self, r, 48, cli);
				EXPECT_TRUE(v.xdp_tx);
				n++;
			}
	ASSERT_EQ(48, n);
}

TEST_F(diff, server_states_agree)
{
	static const struct { uint8_t leap, stratum; int8_t prec; } st[] = {
		{ 0, 1, -20 }, { 1, 2, -25 }, { 2, 3, -10 }, { 3, 16, -20 }, { 0, 15, 0 },
	};
	uint8_t r[48];

	for (unsigned int i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		self->ts.leap = st[i].leap;
		self->ts.stratum = st[i].stratum;
		self->ts.precision = st[i].prec;
		self->ts.root_delay = 0x10000 * i + 7;
		self->ts.refid = htonl(0x47505300 + i);
		publish(self);
		request(r, 0, 4, 3, 6, 0xe1000000ULL << 32 | i);
		EXPECT_TRUE(compare(_metadata, self, r, 48, cli).xdp_tx);
	}
}

TEST_F(diff, kisses_agree)
{
	struct xnts_lpm4_key k = { .prefixlen = 24, .addr = { 203, 0, 113, 0 } };
	static const uint8_t denied[4] = { 203, 0, 113, 9 };
	uint8_t r[48], one = 1;

	const struct ntp_policy_subnet deny = { .family = AF_INET, .addr = { 203, 0, 113, 0 },
						.prefix = 24 };
	const struct ntp_policy_config pc = {
		.denylist = { .set = true, .deny = true, .subnets = &deny, .n_subnets = 1 },
		.rate_limiting_cache_size = 64,
		.rate_limiting_cutoff_ms = 60000,
	};

	/* The same lists and limit on both sides: XDP's maps, ntp_serve()'s policy. */
	self->ctx.policy = ntp_policy_new(&pc);
	ASSERT_NE(NULL, self->ctx.policy);
	/* DENY: XDP from its denylist map, userspace from its policy verdict. */
	self->cfg.deny_action = XNTS_ACT_DENY;
	publish(self);
	ASSERT_EQ(0, bpf_map_update_elem(bpf_map__fd(self->skel->maps.xnts_deny4), &k, &one, 0));
	request(r, 0, 4, 3, 6, 0xe2000000ULL << 32);
	EXPECT_TRUE(compare(_metadata, self, r, 48, denied).xdp_tx);

	/* RATE: the second request inside the interval. */
	self->cfg.rate_burst = 1;
	self->cfg.rate_interval_ns = 60ULL * 1000000000ULL;
	publish(self);
	request(r, 0, 4, 3, 6, 0xe3000000ULL << 32);
	EXPECT_TRUE(compare(_metadata, self, r, 48, cli).xdp_tx);
	request(r, 0, 3, 3, 4, 0xe3000001ULL << 32);
	EXPECT_TRUE(compare(_metadata, self, r, 48, cli).xdp_tx);
	ntp_policy_free(self->ctx.policy);
	self->ctx.policy = NULL;
}

/* What XDP does not answer, userspace does not answer differently. */
TEST_F(diff, unanswered_agree)
{
	uint8_t r[128];
	struct verdicts v;

	for (int vn = 0; vn <= 7; vn++) {
		for (int mode = 0; mode <= 7; mode++) {
			if ((vn == 3 || vn == 4) && mode == 3)
				continue;
			request(r, 0, vn, mode, 6, 1);
			v = compare(_metadata, self, r, 48, cli);
			EXPECT_FALSE(v.xdp_tx);
			EXPECT_FALSE(v.us_answer);
		}
	}
	/* A legacy MAC: neither answers. */
	request(r, 0, 4, 3, 6, 1);
	memset(r + 48, 0x11, 20);
	v = compare(_metadata, self, r, 68, cli);
	EXPECT_FALSE(v.xdp_tx);
	EXPECT_FALSE(v.us_answer);
	/* Short: neither answers. */
	v = compare(_metadata, self, r, 47, cli);
	EXPECT_FALSE(v.xdp_tx);
	EXPECT_FALSE(v.us_answer);
}

TEST_HARNESS_MAIN
