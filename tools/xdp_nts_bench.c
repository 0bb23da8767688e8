// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_nts_bench: per-request cost of NTS in XDP against the userspace
 * server, in the same (VM) kernel. Not a test. Needs xnts_siv.ko loaded
 * (it loads build/selftests/vm/xnts_siv/kmod/xnts_siv.ko if not) and root.
 *
 *   tools/vmtest -- build/tools/xdp_nts_bench [N]
 *   build/tools/xdp_nts_bench -N [N]      (any kernel, no module needed)
 *
 * -N runs build/tools/xnts_nts_nocrypto.bpf.o instead: the same program
 * with every AES-SIV call replaced by one that does nothing, so the XDP
 * figures are the NTS path's parsing, copying, building and checksums
 * alone (its answers are garbage). Run with and without -N in the VM, the
 * difference is the crypto.
 *
 * Prints ns per call for: the XDP program on a plain NTP request and on NTS
 * requests with 0 and 7 placeholders (kernel's own duration of one
 * BPF_PROG_TEST_RUN, repeat=1, averaged); ntp_serve() on the same NTS
 * requests (clock_gettime around the loop); and single kfunc calls (cookie
 * open, authenticator-sized seal) through selftests/vm/siv_kfunc.bpf.o.
 * Under TCG the absolute figures are not performance figures; the ratios
 * between paths measured in the same run are what it is for.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cookie.h"
#include "keyset.h"
#include "ntp_serve.h"
#include "nts_ntp.h"
#include "aead.h"
#include "../bpf/xnts_shared.h"
#include "../kmod/xnts_siv.h"
#include "../selftests/vm/siv_kfunc.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Ethernet + IPv4 + UDP 40000 -> 123 around payload; returns the frame length. */
static size_t frame(uint8_t *b, const uint8_t *payload, size_t plen)
{
	static const uint8_t hdr[34] = {
		2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00,
		0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 192, 0, 2, 10, 198, 51, 100, 1,
	};
	uint16_t c;

	memcpy(b, hdr, sizeof(hdr));
	b[16] = (uint8_t)((28 + plen) >> 8);
	b[17] = (uint8_t)(28 + plen);
	c = (uint16_t)~fold(sum16(b + 14, 20, 0));
	b[24] = c >> 8;
	b[25] = c & 0xff;
	b[34] = 40000 >> 8;
	b[35] = 40000 & 0xff;
	b[36] = 0;
	b[37] = 123;
	b[38] = (uint8_t)((8 + plen) >> 8);
	b[39] = (uint8_t)(8 + plen);
	b[40] = b[41] = 0;
	memcpy(b + 42, payload, plen);
	c = (uint16_t)~fold(sum16(b + 34, 8 + plen, sum16(b + 26, 8, 0) + 17 + 8 + plen));
	b[40] = c >> 8;
	b[41] = c & 0xff;
	return 42 + plen;
}

/* Mean kernel-measured ns of n single runs; -1 if any run did not end in want. */
static double xdp_ns(int prog, const uint8_t *pkt, size_t len, int n, int want)
{
	uint8_t out[2048];
	uint64_t total = 0;

	for (int i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o);

		o.data_in = pkt;
		o.data_size_in = (uint32_t)len;
		o.data_out = out;
		o.data_size_out = sizeof(out);
		o.repeat = 1;
		if (bpf_prog_test_run_opts(prog, &o) || (int)o.retval != want)
			return -1;
		total += o.duration;
	}
	return (double)total / n;
}

static struct bpf_object *load(const char *path)
{
	struct bpf_object *o = bpf_object__open_file(path, NULL);

	if (!o || bpf_object__load(o)) {
		fprintf(stderr, "xdp_nts_bench: cannot load %s\n", path);
		exit(1);
	}
	return o;
}

static int map_fd(struct bpf_object *o, const char *name)
{
	return bpf_map__fd(bpf_object__find_map_by_name(o, name));
}

int main(int argc, char **argv)
{
	const char *ko = "build/selftests/vm/xnts_siv/kmod/xnts_siv.ko";
	int nocrypto = argc > 1 && !strcmp(argv[1], "-N");
	int n = argc > 1 + nocrypto ? atoi(argv[1 + nocrypto]) : 2000;
	struct xnts_config cfg = { .versions = 1 << 4 };
	struct xnts_time_state st = { .stratum = 2, .heartbeat_timeout_ns = ~0ULL >> 2 };
	struct ntp_serve_state us = { .stratum = 2 };
	struct xnts_nts_current cur = { 0 };
	struct xnts_siv_key mk = { .aead = XNTS_SIV_AEAD_CMAC_256 };
	struct keyset_config kc;
	struct ntp_serve_ctx sctx;
	struct bpf_object *obj, *kobj;
	struct keyset *ks;
	struct aead *siv;
	uint32_t zero = 0, kid;
	int prog, fd;
	void *m;

	if (n < 1)
		n = 1;
	if (!nocrypto && access("/sys/module/xnts_siv", F_OK)) {
		/* Without AES-NI this fails and the generic AES is used. */
		fd = system("modprobe aesni_intel 2>/dev/null");
		(void)fd;
		fd = open(ko, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || syscall(SYS_finit_module, fd, "", 0)) {
			perror("xdp_nts_bench: loading xnts_siv.ko");
			return 1;
		}
		close(fd);
	}
	obj = load(nocrypto ? "build/tools/xnts_nts_nocrypto.bpf.o" : "build/bpf/xnts_nts.bpf.o");
	kobj = nocrypto ? NULL : load("build/selftests/vm/siv_kfunc.bpf.o");
	prog = bpf_program__fd(bpf_object__find_program_by_name(obj, "xnts_xdp"));
	cfg.ports[0] = htons(123);
	bpf_map_update_elem(map_fd(obj, "xnts_config"), &zero, &cfg, BPF_ANY);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd(obj, "xnts_time"), 0);
	if (m == MAP_FAILED)
		return 1;
	st.heartbeat_ns = now_ns();
	xnts_time_state_publish(m, &st);

	keyset_config_default(&kc);
	ks = keyset_new(&kc);
	if (!ks || keyset_load(ks, time(NULL)) || ntp_serve_ctx_init(&sctx, ks))
		return 1;
	kid = htonl(keyset_current(ks)->id);
	memcpy(mk.key, keyset_current(ks)->key, 32);
	bpf_map_update_elem(map_fd(obj, "xnts_nts_keys"), &kid, &mk, BPF_ANY);
	cur.key_id = kid;
	cur.valid = 1;
	bpf_map_update_elem(map_fd(obj, "xnts_nts_current"), &zero, &cur, BPF_ANY);
	siv = aead_new();

	printf("xdp_nts_bench: %d calls each; %s\n", n, nocrypto ?
	       "XDP AES-SIV calls stubbed out (-N): non-crypto cost only" :
	       access("/sys/module/aesni_intel", F_OK) ? "generic AES" : "aesni_intel loaded");
	{
		uint8_t plain[48] = { 0x23 }, pkt[128];
		size_t len = frame(pkt, plain, 48);

		printf("xdp plain NTP answer:            %8.0f ns\n", xdp_ns(prog, pkt, len, n, XDP_TX));
	}
	for (unsigned int ph = 0; ph <= 7; ph += 7) {
		struct ntp_header h = { .version = 4, .mode = 3, .tx_ts = 1 };
		struct nts_keys keys = { .aead = AEAD_AES_SIV_CMAC_256 };
		uint8_t cookie[COOKIE_MAX_LEN], payload[2048], pkt[2048], out[2048];
		uint8_t uid[NTS_NTP_UID_LEN];
		size_t plen, olen, len;
		uint64_t t0, t1;
		int clen;

		memset(keys.c2s, 1, sizeof(keys.c2s));
		memset(keys.s2c, 2, sizeof(keys.s2c));
		clen = cookie_seal(keyset_current(ks), &keys, cookie, sizeof(cookie));
		if (clen < 0 || nts_ntp_client_request(payload, sizeof(payload), &plen, &h, siv,
						       &keys, cookie, clen, ph, uid))
			return 1;
		len = frame(pkt, payload, plen);
		printf("xdp NTS answer, %u placeholders:  %8.0f ns (request %zu bytes)\n", ph,
		       xdp_ns(prog, pkt, len, n, XDP_TX), plen);
		t0 = now_ns();
		for (int i = 0; i < n; i++)
			if (ntp_serve(&sctx, payload, plen, NULL, 1, &us, out, sizeof(out),
				      &olen) != NTP_SERVE_NTS)
				return 1;
		t1 = now_ns();
		printf("ntp_serve NTS, %u placeholders:   %8.0f ns\n", ph, (double)(t1 - t0) / n);
	}
	if (kobj) {
		int kprog = bpf_program__fd(bpf_object__find_program_by_name(kobj, "siv_xdp"));
		int kmap = map_fd(kobj, "siv_reqs");
		static struct siv_req r;
		uint8_t pkt[64] = { 0 };
		LIBBPF_OPTS(bpf_test_run_opts, o);
		struct { const char *what; uint32_t len, ad, nonce; } c[] = {
			{ "kfunc seal, cookie (100 B: 4 AD, 16 nonce, 64 text)", 100, 4, 16 },
			{ "kfunc seal, 7-cookie authenticator (84 AD, 728 text)", 844, 84, 16 },
			{ "kfunc seal, 16 B buffer (empty AD/text): call floor", 16, 0, 0 },
		};
		double base;

		o.data_in = pkt;
		o.data_size_in = sizeof(pkt);
		o.repeat = n;
		r.key.aead = XNTS_SIV_AEAD_CMAC_256;
		r.op = SIV_OP_SEAL;
		r.len = 16;
		bpf_map_update_elem(kmap, &zero, &r, BPF_ANY);
		/* The program without its kfunc call: an unknown op returns at once. */
		r.op = 99;
		bpf_map_update_elem(kmap, &zero, &r, BPF_ANY);
		bpf_prog_test_run_opts(kprog, &o);
		base = o.duration;
		printf("kfunc test program, no call:     %8.0f ns\n", base);
		for (unsigned int i = 0; i < 3; i++) {
			r.op = SIV_OP_SEAL;
			r.len = c[i].len;
			r.ad_len = c[i].ad;
			r.nonce_len = c[i].nonce;
			bpf_map_update_elem(kmap, &zero, &r, BPF_ANY);
			bpf_prog_test_run_opts(kprog, &o);
			printf("%-52s %8.0f ns\n", c[i].what, o.duration - base);
		}
	}
	return 0;
}
