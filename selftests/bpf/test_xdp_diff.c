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
 * kiss argument) for the same situation.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kselftest_harness.h"
#include "config.h"
#include "ntp.h"
#include "config_map.h"
#include "ntp_policy.h"
#include "ntp_serve.h"
#include "pkt.h"
#include "xnts_shared.h"
#include "xnts.skel.h"

#define XDP_DROP_ 1
#define XDP_PASS_ 2
#define XDP_TX_ 3
#define TAI_OFF 37
/* A frame from src (4 bytes, or 16 with v6) carrying payload, checksums valid. */
static void frame(struct pkt *f, int v6, const uint8_t *payload, size_t plen, const uint8_t *src)
{
	pkt_udp(f, v6, 0, 123, payload, plen);
	memcpy(f->b + f->l3 + (v6 ? 8 : 12), src, v6 ? 16 : 4);
	pkt_fix_csums(f);
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

FIXTURE(diff) {
	struct xnts *skel;
	struct xnts_time_state *map;
	struct xnts_time_state ts;
	struct xnts_xdp_config cfg;
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
	self->ts.leap = NTP_LEAP_NONE;
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
	int xdp_action;
	int us_answer;
	enum ntp_serve_outcome us_outcome;
};

/*
 * One request through both paths; compares and returns what each did.
 * tai must be 0 on this host for CLOCK_TAI and CLOCK_REALTIME to agree.
 */
static struct verdicts compare6(struct __test_metadata *_metadata, FIXTURE_DATA(diff) *self,
				const uint8_t *req, size_t len, int v6, const uint8_t *src)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct pkt in, out = { 0 };
	uint8_t resp[256];
	struct verdicts v;
	size_t rlen = 0;
	uint64_t t0, t1;
	enum ntp_serve_outcome oc;
	const uint8_t *x;

	/* The sender as the socket path would see it; frame() uses port 40000 too. */
	if (v6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(40000);
		memcpy(&s6->sin6_addr, src, 16);
	} else {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(40000);
		memcpy(&s4->sin_addr, src, 4);
	}
	frame(&in, v6, req, len, src);
	o.data_in = in.b;
	o.data_size_in = in.len;
	o.data_out = out.b;
	o.data_size_out = sizeof(out.b);
	o.repeat = 1;
	t0 = now_ntp();
	EXPECT_EQ(0, bpf_prog_test_run_opts(self->prog, &o));
	oc = ntp_serve(&self->ctx, req, len, (struct sockaddr *)&ss, now_ntp(), &self->us, resp,
		       sizeof(resp), &rlen);
	t1 = now_ntp();
	v.xdp_action = (int)o.retval;
	v.us_outcome = oc;
	v.xdp_tx = o.retval == XDP_TX_;
	v.us_answer = rlen > 0;
	if (!v.xdp_tx) {
		/* XDP passed it up: the userspace answer is the system's answer. */
		return v;
	}
	EXPECT_TRUE(v.us_answer);
	EXPECT_TRUE(oc == NTP_SERVE_PLAIN || oc == NTP_SERVE_RATE || oc == NTP_SERVE_DENY);
	EXPECT_EQ(in.l4 + 8 + rlen, o.data_size_out);
	if (!v.us_answer || o.data_size_out != in.l4 + 8 + rlen)
		return v;
	x = out.b + in.l4 + 8;
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

static struct verdicts compare(struct __test_metadata *_metadata, FIXTURE_DATA(diff) *self,
			       const uint8_t *req, size_t len, const uint8_t src[4])
{
	return compare6(_metadata, self, req, len, 0, src);
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

/*
 * One [[server]] policy, decided by userspace's own code (ntp_policy) and by
 * the XDP program from the maps the daemon fills from it (xdp_feed.c's
 * mapping: LPM entries per subnet, the actions, the rate limit): every
 * outcome (answer, DENY and RATE kisses, ignore) must agree, for IPv4 and
 * IPv6, with IPv6 clients rate limited per /64.
 */
static struct ntp_policy *apply_policy(struct __test_metadata *_metadata,
				       FIXTURE_DATA(diff) *self, const struct config_server *c)
{
	const struct config_filter *lists[2] = { &c->allowlist, &c->denylist };
	struct bpf_map *m4[2] = { self->skel->maps.xnts_allow4, self->skel->maps.xnts_deny4 };
	struct bpf_map *m6[2] = { self->skel->maps.xnts_allow6, self->skel->maps.xnts_deny6 };
	uint8_t one = 1;

	for (int l = 0; l < 2; l++) {
		for (size_t i = 0; lists[l]->set && i < lists[l]->n_subnets; i++) {
			const struct config_subnet *sn = &lists[l]->subnets[i];

			if (sn->family == AF_INET) {
				struct xnts_lpm4_key k = { .prefixlen = sn->prefix };

				memcpy(k.addr, sn->addr, 4);
				EXPECT_EQ(0, bpf_map_update_elem(bpf_map__fd(m4[l]), &k, &one, 0));
			} else {
				struct xnts_lpm6_key k = { .prefixlen = sn->prefix };

				memcpy(k.addr, sn->addr, 16);
				EXPECT_EQ(0, bpf_map_update_elem(bpf_map__fd(m6[l]), &k, &one, 0));
			}
		}
	}
	self->cfg.flags = c->allowlist.set ? XNTS_CFG_ALLOWLIST : 0;
	self->cfg.allow_action = c->allowlist.action == CONFIG_ACTION_DENY ? XNTS_ACT_DENY :
									     XNTS_ACT_IGNORE;
	self->cfg.deny_action = c->denylist.action == CONFIG_ACTION_DENY ? XNTS_ACT_DENY :
									   XNTS_ACT_IGNORE;
	self->cfg.rate_burst = c->rate_limiting_burst;
	self->cfg.rate_interval_ns = c->rate_limiting_cutoff_ms * 1000000ULL;
	self->cfg.rate_v6_prefix = (uint8_t)c->rate_limiting_ipv6_prefix;
	publish(self);
	return config_map_ntp_policy(c);
}

/* One request from addr through both deciders; returns userspace's verdict. */
static enum ntp_policy_verdict outcome(struct __test_metadata *_metadata,
				       FIXTURE_DATA(diff) *self, struct ntp_policy *pol,
				       const char *addr)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	enum ntp_policy_verdict pv;
	int v6 = strchr(addr, ':') != NULL;
	struct verdicts v;
	uint8_t r[48];

	if (v6) {
		s6->sin6_family = AF_INET6;
		EXPECT_EQ(1, inet_pton(AF_INET6, addr, &s6->sin6_addr));
	} else {
		s4->sin_family = AF_INET;
		EXPECT_EQ(1, inet_pton(AF_INET, addr, &s4->sin_addr));
	}
	/* Userspace decides inside ntp_serve(), with the policy on its ctx. */
	self->ctx.policy = pol;
	request(r, 0, 4, 3, 6, 0xe4000000ULL << 32);
	v = compare6(_metadata, self, r, 48, v6,
		     v6 ? (const uint8_t *)&s6->sin6_addr : (const uint8_t *)&s4->sin_addr);
	self->ctx.policy = NULL;
	pv = v.us_outcome == NTP_SERVE_DENY ? NTP_POLICY_DENY :
	     v.us_outcome == NTP_SERVE_RATE ? NTP_POLICY_RATE :
	     v.us_outcome == NTP_SERVE_DROP_IGNORED ? NTP_POLICY_IGNORE : NTP_POLICY_ANSWER;
	if (pv == NTP_POLICY_IGNORE) {
		EXPECT_EQ(XDP_DROP_, v.xdp_action) TH_LOG("%s", addr);
	} else {
		EXPECT_TRUE(v.xdp_tx) TH_LOG("%s", addr);
	}
	return pv;
}

static struct config_subnet subnet(const char *s)
{
	struct config_subnet sn;

	memset(&sn, 0, sizeof(sn));
	config_parse_subnet(s, &sn);
	return sn;
}

TEST_F(diff, policy_outcomes_agree)
{
	struct config_subnet deny[] = { subnet("203.0.113.0/24"), subnet("2001:db8:bad::/48") };
	struct config_subnet allow[] = { subnet("192.0.2.0/24"), subnet("203.0.113.0/24"),
					 subnet("2001:db8::/32") };
	struct config_server c = {
		.rate_limiting_cache_size = 1024,
		.rate_limiting_cutoff_ms = 60000,
		.rate_limiting_burst = 2,
		.rate_limiting_ipv6_prefix = 64,
		.allowlist = { true, CONFIG_ACTION_IGNORE, allow, 3 },
		.denylist = { true, CONFIG_ACTION_DENY, deny, 2 },
	};
	struct ntp_policy *pol = apply_policy(_metadata, self, &c);

	ASSERT_NE(NULL, pol);
	/* The denylist wins over the allowlist. */
	EXPECT_EQ(NTP_POLICY_DENY, outcome(_metadata, self, pol, "203.0.113.9"));
	EXPECT_EQ(NTP_POLICY_DENY, outcome(_metadata, self, pol, "2001:db8:bad::1"));
	/* Not on the allowlist: ignored (XDP_DROP). */
	EXPECT_EQ(NTP_POLICY_IGNORE, outcome(_metadata, self, pol, "198.51.100.7"));
	EXPECT_EQ(NTP_POLICY_IGNORE, outcome(_metadata, self, pol, "2001:db9::1"));
	/* Burst 2, then RATE; IPv6 per /64. */
	EXPECT_EQ(NTP_POLICY_ANSWER, outcome(_metadata, self, pol, "192.0.2.10"));
	EXPECT_EQ(NTP_POLICY_ANSWER, outcome(_metadata, self, pol, "192.0.2.10"));
	EXPECT_EQ(NTP_POLICY_RATE, outcome(_metadata, self, pol, "192.0.2.10"));
	EXPECT_EQ(NTP_POLICY_ANSWER, outcome(_metadata, self, pol, "192.0.2.11"));
	EXPECT_EQ(NTP_POLICY_ANSWER, outcome(_metadata, self, pol, "2001:db8:1:2::10"));
	EXPECT_EQ(NTP_POLICY_ANSWER, outcome(_metadata, self, pol, "2001:db8:1:2::11"));
	EXPECT_EQ(NTP_POLICY_RATE, outcome(_metadata, self, pol, "2001:db8:1:2:ffff::1"));
	EXPECT_EQ(NTP_POLICY_ANSWER, outcome(_metadata, self, pol, "2001:db8:1:3::10"));
	ntp_policy_free(pol);
}

/* The other actions: a denylist that ignores, an allowlist that denies. */
TEST_F(diff, policy_actions_swapped_agree)
{
	struct config_subnet deny[] = { subnet("203.0.113.0/24"), subnet("2001:db8:bad::/48") };
	struct config_subnet allow[] = { subnet("192.0.2.0/24"), subnet("2001:db8::/32") };
	struct config_server c = {
		.rate_limiting_ipv6_prefix = 64,
		.allowlist = { true, CONFIG_ACTION_DENY, allow, 2 },
		.denylist = { true, CONFIG_ACTION_IGNORE, deny, 2 },
	};
	struct ntp_policy *pol = apply_policy(_metadata, self, &c);

	ASSERT_NE(NULL, pol);
	EXPECT_EQ(NTP_POLICY_IGNORE, outcome(_metadata, self, pol, "203.0.113.9"));
	EXPECT_EQ(NTP_POLICY_IGNORE, outcome(_metadata, self, pol, "2001:db8:bad::1"));
	EXPECT_EQ(NTP_POLICY_DENY, outcome(_metadata, self, pol, "198.51.100.7"));
	EXPECT_EQ(NTP_POLICY_DENY, outcome(_metadata, self, pol, "2001:db9::1"));
	/* No rate limit: answered every time. */
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(NTP_POLICY_ANSWER, outcome(_metadata, self, pol, "192.0.2.10"));
		EXPECT_EQ(NTP_POLICY_ANSWER, outcome(_metadata, self, pol, "2001:db8::10"));
	}
	ntp_policy_free(pol);
}

/*
 * A stale heartbeat: with stale action "unsync" both answer LI=3 and
 * stratum 16 (userspace from the same claims); with "pass" XDP hands the
 * request up and userspace answers it.
 */
TEST_F(diff, stale_outcomes_agree)
{
	uint8_t r[48];
	struct verdicts v;

	self->ts.heartbeat_timeout_ns = 1;
	self->ts.stale_action = XNTS_STALE_UNSYNC;
	publish(self);
	self->ts.heartbeat_ns = mono_ns() - 1000000000ULL;
	xnts_time_state_publish(self->map, &self->ts);
	self->us.leap = NTP_LEAP_UNSYNC;
	self->us.stratum = 16;
	request(r, 0, 4, 3, 6, 0xe5000000ULL << 32);
	EXPECT_TRUE(compare(_metadata, self, r, 48, cli).xdp_tx);

	self->ts.stale_action = XNTS_STALE_PASS;
	xnts_time_state_publish(self->map, &self->ts);
	v = compare(_metadata, self, r, 48, cli);
	EXPECT_EQ(XDP_PASS_, v.xdp_action);
	EXPECT_TRUE(v.us_answer);
}

/* NTPv3 turned off: XDP passes it, userspace drops it (accept-ntp-versions). */
TEST_F(diff, version_off_agrees)
{
	uint8_t r[48];
	struct verdicts v;

	self->cfg.versions = 1 << 4;
	publish(self);
	request(r, 0, 3, 3, 6, 0xe6000000ULL << 32);
	v = compare(_metadata, self, r, 48, cli);
	EXPECT_EQ(XDP_PASS_, v.xdp_action);
	request(r, 0, 4, 3, 6, 0xe6000001ULL << 32);
	EXPECT_TRUE(compare(_metadata, self, r, 48, cli).xdp_tx);
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
