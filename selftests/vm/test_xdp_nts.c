// SPDX-License-Identifier: GPL-2.0
/*
 * The NTS variant of the XDP program (build/bpf/xnts_nts.bpf.o) with the
 * kernel module xnts_siv.ko loaded, through BPF_PROG_TEST_RUN in the guest:
 * requests from the client library (nts_ntp_client_request) with 0, 1 and 7
 * placeholders, AEAD 15 and 17, IPv4 and IPv6, are answered with responses
 * that verify (nts_ntp_client_response) and whose cookies open with the
 * keyset; the same requests through ntp_serve() give the same fields,
 * lengths and cookie counts; corrupted requests get a NAK or go up, never
 * an answer the client accepts; key rotation keeps old cookies working.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "kselftest_harness.h"
#include "cookie.h"
#include "keyset.h"
#include "ntp.h"
#include "ntp_serve.h"
#include "nts_ntp.h"
#include "aead.h"
#include "vm_guest.h"
#include "../../bpf/xnts_shared.h"
#include "../../kmod/xnts_siv.h"

#define MOD "xnts_siv"
#define NTP_UNIX 2208988800ULL
#define CLIENT_TX 0xe1234567a5a5a5a5ULL

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

struct pkt {
	uint8_t b[2048];
	size_t len, l3, l4;
	int v6;
};

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t udp_sum(const struct pkt *p)
{
	size_t ulen = get16(p->b + p->l4 + 4);
	uint32_t s;

	if (p->l4 + ulen > p->len)
		ulen = p->len - p->l4;
	if (p->v6)
		s = sum16(p->b + p->l3 + 8, 32, 0) + (uint32_t)ulen + 17;
	else
		s = sum16(p->b + p->l3 + 12, 8, 0) + (uint32_t)ulen + 17;
	return sum16(p->b + p->l4, ulen, s);
}

static void fix_csums(struct pkt *p)
{
	uint16_t c;

	if (!p->v6) {
		put16(p->b + p->l3 + 10, 0);
		put16(p->b + p->l3 + 10, (uint16_t)~fold(sum16(p->b + p->l3, 20, 0)));
	}
	put16(p->b + p->l4 + 6, 0);
	c = (uint16_t)~fold(udp_sum(p));
	put16(p->b + p->l4 + 6, c ? c : 0xffff);
}

static int csums_ok(const struct pkt *p)
{
	if (!p->v6 && fold(sum16(p->b + p->l3, 20, 0)) != 0xffff)
		return 0;
	return fold(udp_sum(p)) == 0xffff;
}

/* Frame around an NTP payload: Ethernet, IPv4 or IPv6, UDP 40000 -> 123. */
static void frame(struct pkt *p, int v6, const uint8_t *payload, size_t plen)
{
	static const uint8_t mac_srv[6] = { 2, 0, 0, 0, 0, 1 }, mac_cli[6] = { 2, 0, 0, 0, 0, 2 };
	static const uint8_t v4_cli[4] = { 192, 0, 2, 10 }, v4_srv[4] = { 198, 51, 100, 1 };
	static const uint8_t v6_cli[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };
	static const uint8_t v6_srv[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 };

	memset(p, 0, sizeof(*p));
	p->v6 = v6;
	memcpy(p->b, mac_srv, 6);
	memcpy(p->b + 6, mac_cli, 6);
	put16(p->b + 12, v6 ? 0x86dd : 0x0800);
	p->l3 = 14;
	if (v6) {
		p->b[14] = 0x60;
		put16(p->b + 18, 8 + plen);
		p->b[20] = 17;
		p->b[21] = 9;
		memcpy(p->b + 22, v6_cli, 16);
		memcpy(p->b + 38, v6_srv, 16);
		p->l4 = 54;
	} else {
		p->b[14] = 0x45;
		put16(p->b + 16, 28 + plen);
		put16(p->b + 20, 0x4000);
		p->b[22] = 17;
		p->b[23] = 17;
		memcpy(p->b + 26, v4_cli, 4);
		memcpy(p->b + 30, v4_srv, 4);
		p->l4 = 34;
	}
	put16(p->b + p->l4, 40000);
	put16(p->b + p->l4 + 2, 123);
	put16(p->b + p->l4 + 4, 8 + plen);
	memcpy(p->b + p->l4 + 8, payload, plen);
	p->len = p->l4 + 8 + plen;
	fix_csums(p);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * The verifier takes minutes over this program under TCG, so it is loaded
 * once, before the harness forks the test cases, which inherit the fds.
 */
static struct bpf_object *g_obj;
static int g_load_err;

__attribute__((constructor)) static void load_once(void)
{
	char path[4096];

	g_load_err = -1;
	if (!vm_in_guest() || vm_load_siv_module())
		return;
	if (vm_path_beside_exe("../../bpf/xnts_nts.bpf.o", path, sizeof(path)))
		return;
	g_obj = bpf_object__open_file(path, NULL);
	if (!g_obj)
		return;
	g_load_err = bpf_object__load(g_obj);
}

FIXTURE(nts) {
	struct bpf_object *obj;
	int prog, keys_fd, cur_fd, cnt_fd, ncpu;
	struct xnts_time_state *ts;
	struct keyset *ks;
	struct aead *siv[2];
	struct ntp_serve_ctx us;
};

/*
 * The daemon's order for a key set change (Documentation/xdp.md): insert
 * every valid key, then name the current one, then delete the keys that
 * left the set. A request in flight always finds its key.
 */
static int sync_keys(FIXTURE_DATA(nts) *self)
{
	struct keyset_export ex[16];
	unsigned int n = keyset_export(self->ks, ex, 16), i;
	struct xnts_nts_current cur = { 0 };
	uint32_t k, next, zero = 0;
	bool more;

	for (i = 0; i < n; i++) {
		struct xnts_siv_key v = { .aead = XNTS_SIV_AEAD_CMAC_256 };

		memcpy(v.key, ex[i].key, 32);
		k = htonl(ex[i].id);
		if (bpf_map_update_elem(self->keys_fd, &k, &v, BPF_ANY))
			return -1;
	}
	if (!n)
		return -1;
	cur.key_id = htonl(ex[0].id);
	cur.valid = 1;
	if (bpf_map_update_elem(self->cur_fd, &zero, &cur, BPF_ANY))
		return -1;
	more = !bpf_map_get_next_key(self->keys_fd, NULL, &k);
	while (more) {
		bool keep = false;

		more = !bpf_map_get_next_key(self->keys_fd, &k, &next);
		for (i = 0; i < n; i++)
			keep |= htonl(ex[i].id) == k;
		if (!keep && bpf_map_delete_elem(self->keys_fd, &k))
			return -1;
		k = next;
	}
	return 0;
}

static uint64_t counter(FIXTURE_DATA(nts) *self, enum xnts_counter c)
{
	uint64_t v[512], sum = 0;
	uint32_t key = c;

	if (self->ncpu > 512 || bpf_map_lookup_elem(self->cnt_fd, &key, v))
		return UINT64_MAX;
	for (int i = 0; i < self->ncpu; i++)
		sum += v[i];
	return sum;
}

FIXTURE_SETUP(nts)
{
	struct xnts_config cfg = { .versions = (1 << 3) | (1 << 4) };
	struct xnts_time_state st = { 0 };
	struct keyset_config kc;
	uint32_t zero = 0;
	void *m;

	ASSERT_TRUE(vm_in_guest()) TH_LOG("modules are loaded only in the VM");
	ASSERT_TRUE(exists("/sys/module/" MOD)) TH_LOG("loading " MOD ".ko failed");
	ASSERT_NE(NULL, g_obj);
	ASSERT_EQ(0, g_load_err) TH_LOG("loading xnts_nts.bpf.o failed (log above)");
	self->obj = g_obj;
	self->prog = bpf_program__fd(bpf_object__find_program_by_name(self->obj, "xnts_xdp"));
	self->keys_fd = bpf_map__fd(bpf_object__find_map_by_name(self->obj, "xnts_nts_keys"));
	self->cur_fd = bpf_map__fd(bpf_object__find_map_by_name(self->obj, "xnts_nts_current"));
	self->cnt_fd = bpf_map__fd(bpf_object__find_map_by_name(self->obj, "xnts_counters"));
	ASSERT_LE(0, self->prog);
	ASSERT_LE(0, self->keys_fd);
	ASSERT_LE(0, self->cur_fd);
	ASSERT_LE(0, self->cnt_fd);
	self->ncpu = libbpf_num_possible_cpus();

	cfg.ports[0] = htons(123);
	ASSERT_EQ(0, bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(self->obj,
			"xnts_config")), &zero, &cfg, BPF_ANY));
	m = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(bpf_object__find_map_by_name(self->obj, "xnts_time")), 0);
	ASSERT_NE(MAP_FAILED, m);
	self->ts = m;
	st.stratum = 2;
	st.precision = -23;
	st.root_delay = 0x1234;
	st.root_dispersion = 0x567;
	st.refid = htonl(0xc0000201);
	st.reference_time = 0xe1234500deadbeefULL;
	st.heartbeat_ns = mono_ns();
	st.heartbeat_timeout_ns = 600ULL * 1000000000ULL;
	xnts_time_state_publish(self->ts, &st);

	keyset_config_default(&kc);
	self->ks = keyset_new(&kc);
	ASSERT_NE(NULL, self->ks);
	ASSERT_EQ(0, keyset_load(self->ks, time(NULL)));
	ASSERT_EQ(0, sync_keys(self));
	self->siv[0] = aead_new();
	self->siv[1] = aead_new();
	ASSERT_NE(NULL, self->siv[0]);
	ASSERT_NE(NULL, self->siv[1]);
	ASSERT_EQ(0, ntp_serve_ctx_init(&self->us, self->ks));
}

FIXTURE_TEARDOWN(nts)
{
	ntp_serve_ctx_fini(&self->us);
	aead_free(self->siv[0]);
	aead_free(self->siv[1]);
	keyset_free(self->ks);
	if (self->ts)
		munmap(self->ts, (size_t)sysconf(_SC_PAGESIZE));
}

/* A client's view of one exchange. */
struct client {
	struct nts_keys keys;
	uint8_t uid[NTS_NTP_UID_LEN];
	uint8_t payload[NTS_NTP_MAX_PACKET];
	size_t len;
	int aead;
};

static int make_request(FIXTURE_DATA(nts) *self, struct client *c, int aead, unsigned int n_ph)
{
	uint8_t cookie[COOKIE_MAX_LEN];
	struct ntp_header h = { .version = 4, .mode = 3, .poll = 6, .precision = -20,
				.tx_ts = CLIENT_TX };
	int clen;

	memset(c, 0, sizeof(*c));
	c->aead = aead;
	c->keys.aead = aead;
	for (size_t i = 0; i < sizeof(c->keys.c2s); i++) {
		c->keys.c2s[i] = (uint8_t)rand();
		c->keys.s2c[i] = (uint8_t)rand();
	}
	clen = cookie_seal(keyset_current(self->ks), &c->keys, cookie, sizeof(cookie));
	if (clen <= 0)
		return -1;
	return nts_ntp_client_request(c->payload, sizeof(c->payload), &c->len, &h,
				      self->siv[aead == AEAD_AES_SIV_CMAC_512], &c->keys, cookie,
				      (size_t)clen, n_ph, c->uid);
}

static int run(FIXTURE_DATA(nts) *self, const struct pkt *in, struct pkt *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct pkt copy = *in;

	*out = *in;
	o.data_in = copy.b;
	o.data_size_in = (uint32_t)copy.len;
	o.data_out = out->b;
	o.data_size_out = sizeof(out->b);
	o.repeat = 1;
	if (bpf_prog_test_run_opts(self->prog, &o))
		return -1;
	out->len = o.data_size_out;
	return (int)o.retval;
}

/*
 * Checks an XDP_TX answer's framing and returns what the client library
 * says of its payload (resp filled); plain receives the cookies.
 */
static int client_check(struct __test_metadata *_metadata, FIXTURE_DATA(nts) *self,
			const struct client *c, const struct pkt *in, const struct pkt *out,
			struct nts_ntp_response *resp, uint8_t *plain, size_t cap)
{
	size_t plen = out->len - out->l4 - 8;

	EXPECT_TRUE(csums_ok(out));
	EXPECT_LE(out->len, in->len);
	EXPECT_EQ(0, memcmp(out->b, in->b + 6, 6));
	EXPECT_EQ(40000, get16(out->b + out->l4 + 2));
	EXPECT_EQ(123, get16(out->b + out->l4));
	EXPECT_EQ(8 + plen, get16(out->b + out->l4 + 4));
	return nts_ntp_client_response(out->b + out->l4 + 8, plen, c->uid, sizeof(c->uid),
				       self->siv[c->aead == AEAD_AES_SIV_CMAC_512], &c->keys, plain,
				       cap, resp);
}

/* One full exchange that must succeed, with 1 + n_ph cookies that open. */
static void exchange(struct __test_metadata *_metadata, FIXTURE_DATA(nts) *self, int aead,
		     unsigned int n_ph, int v6)
{
	uint64_t before = counter(self, XNTS_CNT_NTS_ANSWERED);
	struct nts_ntp_response resp;
	uint8_t plain[NTS_NTP_MAX_PACKET];
	struct client c;
	struct pkt in, out;

	ASSERT_EQ(0, make_request(self, &c, aead, n_ph));
	frame(&in, v6, c.payload, c.len);
	ASSERT_EQ(XDP_TX, run(self, &in, &out)) TH_LOG("aead %d ph %u v6 %d", aead, n_ph, v6);
	ASSERT_EQ(NTS_NTP_OK, client_check(_metadata, self, &c, &in, &out, &resp, plain,
					   sizeof(plain)));
	EXPECT_EQ(4, resp.hdr.mode);
	EXPECT_EQ(4, resp.hdr.version);
	EXPECT_EQ(2, resp.hdr.stratum);
	EXPECT_EQ(CLIENT_TX, resp.hdr.orig_ts);
	EXPECT_EQ(1 + n_ph, resp.n_cookies);
	for (unsigned int i = 0; i < resp.n_cookies; i++) {
		struct nts_keys k;

		ASSERT_EQ(COOKIE_OK, cookie_open(self->ks, resp.cookies[i], resp.cookie_lens[i],
						 &k));
		EXPECT_EQ(aead, k.aead);
		EXPECT_EQ(0, memcmp(k.c2s, c.keys.c2s, aead_key_len(aead)));
		EXPECT_EQ(0, memcmp(k.s2c, c.keys.s2c, aead_key_len(aead)));
		/* Fresh nonces: no two cookies alike. */
		if (i)
			EXPECT_NE(0, memcmp(resp.cookies[i], resp.cookies[i - 1], 20));
	}
	EXPECT_EQ(before + 1, counter(self, XNTS_CNT_NTS_ANSWERED));
}

TEST_F(nts, placeholders_0_1_7)
{
	unsigned int ph[] = { 0, 1, 7 };

	for (unsigned int i = 0; i < 3; i++) {
		exchange(_metadata, self, AEAD_AES_SIV_CMAC_256, ph[i], 0);
		exchange(_metadata, self, AEAD_AES_SIV_CMAC_512, ph[i], 0);
		exchange(_metadata, self, AEAD_AES_SIV_CMAC_256, ph[i], 1);
	}
}

/* The same request through XDP and ntp_serve(): the same answer but for time and crypto. */
TEST_F(nts, differential_ntp_serve)
{
	struct ntp_serve_state us = { .stratum = 2, .precision = -23, .root_delay = 0x1234,
				      .root_dispersion = 0x567, .refid = { 192, 0, 2, 1 },
				      .reference_time = 0xe1234500deadbeefULL };

	for (int it = 0; it < 12; it++) {
		int aead = it & 1 ? AEAD_AES_SIV_CMAC_512 : AEAD_AES_SIV_CMAC_256;
		struct nts_ntp_response rx, ru;
		uint8_t plain_x[NTS_NTP_MAX_PACKET], plain_u[NTS_NTP_MAX_PACKET];
		uint8_t uout[NTS_NTP_MAX_PACKET];
		size_t ulen = 0;
		struct client c;
		struct pkt in, out;

		ASSERT_EQ(0, make_request(self, &c, aead, (unsigned int)it % 8));
		frame(&in, it & 2, c.payload, c.len);
		ASSERT_EQ(XDP_TX, run(self, &in, &out));
		ASSERT_EQ(NTP_SERVE_NTS, ntp_serve(&self->us, c.payload, c.len, NULL,
						   ntp_serve_now(), &us, uout, sizeof(uout),
						   &ulen));
		ASSERT_EQ(NTS_NTP_OK, client_check(_metadata, self, &c, &in, &out, &rx, plain_x,
						   sizeof(plain_x)));
		ASSERT_EQ(NTS_NTP_OK, nts_ntp_client_response(uout, ulen, c.uid, sizeof(c.uid),
							      self->siv[aead == AEAD_AES_SIV_CMAC_512],
							      &c.keys, plain_u, sizeof(plain_u), &ru));
		EXPECT_EQ(ulen, out.len - out.l4 - 8);
		EXPECT_EQ(ru.n_cookies, rx.n_cookies);
		for (unsigned int i = 0; i < rx.n_cookies; i++)
			EXPECT_EQ(ru.cookie_lens[i], rx.cookie_lens[i]);
		EXPECT_EQ(ru.hdr.leap, rx.hdr.leap);
		EXPECT_EQ(ru.hdr.version, rx.hdr.version);
		EXPECT_EQ(ru.hdr.mode, rx.hdr.mode);
		EXPECT_EQ(ru.hdr.stratum, rx.hdr.stratum);
		EXPECT_EQ(ru.hdr.poll, rx.hdr.poll);
		EXPECT_EQ(ru.hdr.precision, rx.hdr.precision);
		EXPECT_EQ(ru.hdr.root_delay, rx.hdr.root_delay);
		EXPECT_EQ(ru.hdr.root_dispersion, rx.hdr.root_dispersion);
		EXPECT_EQ(0, memcmp(ru.hdr.refid, rx.hdr.refid, 4));
		EXPECT_EQ(ru.hdr.ref_ts, rx.hdr.ref_ts);
		EXPECT_EQ(ru.hdr.orig_ts, rx.hdr.orig_ts);
		/* The UID is echoed at the same place, byte for byte. */
		EXPECT_EQ(0, memcmp(uout + 48, out.b + out.l4 + 8 + 48, 36));
	}
}

/*
 * Every byte of the payload flipped in turn (checksums fixed, so the NTS
 * logic sees it): XDP passes it unchanged or answers with something the
 * client does not accept as a time answer (a NAK, or a NAK echoing a
 * corrupted UID). Unknown key id, bad cookie tag and bad authenticator each
 * give a NAK, counted apart.
 */
TEST_F(nts, corruption_nak_or_pass)
{
	uint8_t plain[NTS_NTP_MAX_PACKET];
	struct nts_ntp_response resp;
	unsigned int tx = 0, pass = 0;
	struct client c;
	struct pkt in, out;
	uint64_t before;
	size_t ck, auth;
	int r;

	ASSERT_EQ(0, make_request(self, &c, AEAD_AES_SIV_CMAC_256, 1));
	for (size_t i = 0; i < c.len; i++) {
		frame(&in, 0, c.payload, c.len);
		in.b[in.l4 + 8 + i] ^= 0x10;
		fix_csums(&in);
		r = run(self, &in, &out);
		if (r == XDP_PASS) {
			EXPECT_EQ(0, memcmp(in.b, out.b, in.len)) TH_LOG("byte %zu", i);
			pass++;
			continue;
		}
		ASSERT_EQ(XDP_TX, r) TH_LOG("byte %zu", i);
		tx++;
		EXPECT_NE(NTS_NTP_OK, client_check(_metadata, self, &c, &in, &out, &resp, plain,
						   sizeof(plain))) TH_LOG("byte %zu", i);
	}
	TH_LOG("%u NAKs, %u passed of %zu", tx, pass, c.len);
	EXPECT_GT(tx, 0);
	EXPECT_GT(pass, 0);

	/* Layout of the client library's request: header, UID(36), cookie field. */
	ck = 48 + 36 + 4;
	auth = c.len - 40;
	struct { size_t off; enum xnts_counter cnt; } cases[] = {
		{ ck + 1, XNTS_CNT_NTS_NAK_KEY },	/* key id */
		{ ck + 30, XNTS_CNT_NTS_NAK_COOKIE },	/* cookie tag */
		{ ck + 80, XNTS_CNT_NTS_NAK_COOKIE },	/* cookie ciphertext */
		{ auth + 30, XNTS_CNT_NTS_NAK_AUTH },	/* authenticator tag */
		{ 44, XNTS_CNT_NTS_NAK_AUTH },		/* transmit timestamp (AD) */
	};
	for (unsigned int k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		frame(&in, 0, c.payload, c.len);
		in.b[in.l4 + 8 + cases[k].off] ^= 0x01;
		fix_csums(&in);
		before = counter(self, cases[k].cnt);
		ASSERT_EQ(XDP_TX, run(self, &in, &out)) TH_LOG("case %u", k);
		EXPECT_EQ(NTS_NTP_NAK, client_check(_metadata, self, &c, &in, &out, &resp, plain,
						    sizeof(plain))) TH_LOG("case %u", k);
		EXPECT_EQ(before + 1, counter(self, cases[k].cnt)) TH_LOG("case %u", k);
	}
	/* A bad UDP checksum goes up untouched. */
	frame(&in, 0, c.payload, c.len);
	in.b[in.l4 + 8 + 60] ^= 1;
	EXPECT_EQ(XDP_PASS, run(self, &in, &out));
}

/*
 * Rotation: after each of 10 rotations (keys synced in the daemon's order)
 * a request with a cookie under any still valid key is answered, never
 * NAKed, and the fresh cookies are under the new current key.
 */
TEST_F(nts, key_rotation)
{
	uint8_t plain[NTS_NTP_MAX_PACKET];
	struct nts_ntp_response resp;
	struct client old, c;
	struct pkt in, out;
	time_t now = time(NULL);
	uint32_t id;

	ASSERT_EQ(0, make_request(self, &old, AEAD_AES_SIV_CMAC_256, 0));
	for (int r = 1; r <= 10; r++) {
		ASSERT_LE(0, keyset_rotate(self->ks, now + r * 86400));
		ASSERT_EQ(0, sync_keys(self));
		ASSERT_EQ(0, make_request(self, &c, AEAD_AES_SIV_CMAC_256, 0));
		frame(&in, 0, c.payload, c.len);
		ASSERT_EQ(XDP_TX, run(self, &in, &out));
		ASSERT_EQ(NTS_NTP_OK, client_check(_metadata, self, &c, &in, &out, &resp, plain,
						   sizeof(plain)));
		ASSERT_EQ(0, cookie_key_id(resp.cookies[0], resp.cookie_lens[0], &id));
		EXPECT_EQ(keyset_current(self->ks)->id, id);
		/* The first cookie: valid while its key is in the set (7 stale keys). */
		frame(&in, 0, old.payload, old.len);
		ASSERT_EQ(XDP_TX, run(self, &in, &out));
		EXPECT_EQ(r <= 7 ? NTS_NTP_OK : NTS_NTP_NAK,
			  client_check(_metadata, self, &old, &in, &out, &resp, plain,
				       sizeof(plain))) TH_LOG("rotation %d", r);
	}
}

struct rotator {
	FIXTURE_DATA(nts) *self;
	pthread_mutex_t lock;		/* the keyset: rotation vs cookie sealing */
	atomic_uint done;		/* requests finished */
	atomic_int stop, failed;
	unsigned int rotations;
};

/* Rotates and syncs the maps after each finished request, while XDP runs. */
static void *rotate_loop(void *arg)
{
	struct rotator *r = arg;
	time_t now = time(NULL);
	unsigned int seen = 0;

	while (!atomic_load(&r->stop) && r->rotations < 40) {
		unsigned int d = atomic_load(&r->done);

		if (d == seen) {
			usleep(100);
			continue;
		}
		seen = d;
		pthread_mutex_lock(&r->lock);
		r->rotations++;
		if (keyset_rotate(r->self->ks, now + r->rotations * 86400) < 0 ||
		    sync_keys(r->self))
			atomic_store(&r->failed, 1);
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

/*
 * Rotation while requests flow: a second thread rotates the keyset and
 * rewrites the key maps (insert, mark current, delete) between and during
 * XDP runs; every request, sealed under the key that was current a moment
 * before, is answered and never NAKed.
 */
TEST_F(nts, rotation_while_requests_flow)
{
	uint8_t plain[NTS_NTP_MAX_PACKET];
	struct nts_ntp_response resp;
	struct rotator rot = { .self = self };
	struct client c;
	struct pkt in, out;
	pthread_t th;
	int i, r;

	pthread_mutex_init(&rot.lock, NULL);
	ASSERT_EQ(0, pthread_create(&th, NULL, rotate_loop, &rot));
	for (i = 0; i < 400 && rot.rotations < 40; i++) {
		pthread_mutex_lock(&rot.lock);
		r = make_request(self, &c, i & 1 ? AEAD_AES_SIV_CMAC_512 : AEAD_AES_SIV_CMAC_256, i % 3);
		pthread_mutex_unlock(&rot.lock);
		ASSERT_EQ(0, r);
		frame(&in, i & 2, c.payload, c.len);
		r = run(self, &in, &out);
		ASSERT_EQ(XDP_TX, r) TH_LOG("request %d", i);
		EXPECT_EQ(NTS_NTP_OK, client_check(_metadata, self, &c, &in, &out, &resp, plain,
						   sizeof(plain))) TH_LOG("request %d", i);
		atomic_fetch_add(&rot.done, 1);
	}
	atomic_store(&rot.stop, 1);
	pthread_join(th, NULL);
	TH_LOG("%d requests, %u rotations", i, rot.rotations);
	EXPECT_EQ(0, atomic_load(&rot.failed));
	EXPECT_GE(rot.rotations, 10);
}

TEST_HARNESS_MAIN
