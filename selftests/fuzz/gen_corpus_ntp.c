// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the seed corpus of fuzz_ntp into the directory given: valid NTS
 * requests (AEAD 15 and 17, 0/1/7 placeholders), the responses and a NAK
 * to them, all under the fuzz keys, plus a few broken packets. Not part of
 * the build; regenerate with:
 *   cc -Iuserspace/lib -o /tmp/gen selftests/fuzz/gen_corpus_ntp.c \
 *      userspace/lib/siv.c userspace/lib/ntp.c \
 *      userspace/lib/nts_ntp.c -lcrypto && /tmp/gen selftests/fuzz/corpus/fuzz_ntp
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nts_ntp.h"
#include "fuzz_ntp_keys.h"

static const char *dir;

static void put(const char *name, const uint8_t *p, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void die(const char *what, int err)
{
	fprintf(stderr, "%s: %s\n", what, nts_ntp_strerror(err));
	exit(1);
}

int main(int argc, char **argv)
{
	static const int aeads[2] = { AEAD_AES_SIV_CMAC_256, AEAD_AES_SIV_CMAC_512 };
	static const size_t clens[2] = { 100, 164 };
	static const unsigned int phs[3] = { 0, 1, 7 };
	static uint8_t req[NTS_NTP_MAX_PACKET], resp[NTS_NTP_MAX_PACKET];
	static uint8_t plain[NTS_NTP_MAX_PACKET], cookies[8 * 164], cookie[164];
	struct ntp_header ch = { .version = 4, .mode = 3, .poll = 6,
				 .tx_ts = 0xeb0e1c2d3e4f5a6bULL };
	struct ntp_header sh = { .stratum = 1, .refid = { 'G', 'P', 'S', 0 },
				 .orig_ts = 0xeb0e1c2d3e4f5a6bULL,
				 .rx_ts = 0xeb0e1c2e00000000ULL,
				 .tx_ts = 0xeb0e1c2e00001000ULL };
	uint8_t uid[NTS_NTP_UID_LEN];
	struct nts_ntp_request r;
	size_t rl, sl;
	char name[64];
	int err;

	if (argc != 2)
		return 2;
	dir = argv[1];
	for (size_t i = 0; i < sizeof(cookies); i++)
		cookies[i] = (uint8_t)(i * 13 + 1);
	for (size_t i = 0; i < sizeof(cookie); i++)
		cookie[i] = (uint8_t)(i * 5 + 9);
	for (int k = 0; k < 2; k++) {
		struct aead *siv = aead_new();
		struct nts_keys keys;

		fuzz_ntp_keys(&keys, aeads[k]);
		for (int j = 0; j < 3; j++) {
			err = nts_ntp_client_request(req, sizeof(req), &rl, &ch, siv, &keys,
						     cookie, clens[k], phs[j], uid);
			if (err)
				die("request", err);
			snprintf(name, sizeof(name), "req_aead%d_ph%u", aeads[k], phs[j]);
			put(name, req, rl);
			err = nts_ntp_server_parse(req, rl, &r);
			if (!err)
				err = nts_ntp_server_verify(&r, siv, &keys, plain, sizeof(plain));
			if (!err)
				err = nts_ntp_server_response(resp, sizeof(resp), &sl, &sh, &r, siv,
							      &keys, cookies, clens[k], 8, NULL,
							      NULL);
			if (err)
				die("response", err);
			snprintf(name, sizeof(name), "resp_aead%d_c%u", aeads[k], phs[j] + 1);
			put(name, resp, sl);
		}
		err = nts_ntp_server_nak(resp, sizeof(resp), &sl, &sh, &r);
		if (err)
			die("nak", err);
		snprintf(name, sizeof(name), "nak_aead%d", aeads[k]);
		put(name, resp, sl);
		aead_free(siv);
	}
	/* Broken: truncated request, flipped byte, legacy MAC, bad field length. */
	put("bad_truncated", req, rl - 3);
	req[60] ^= 0x40;
	put("bad_flip_uid", req, rl);
	req[60] ^= 0x40;
	memset(req + 48, 0, 20);
	put("bad_mac_md5", req, 68);
	ntp_put16(req + 50, 18);
	put("bad_ef_align", req, rl);
	ntp_put16(req + 50, 0);
	put("bad_ef_zero_len", req, rl);
	put("plain_ntp", req, 48);
	return 0;
}
