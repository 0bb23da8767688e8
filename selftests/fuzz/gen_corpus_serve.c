// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the seed corpus of fuzz_serve into the directory given: NTS
 * requests whose cookies the fuzz keyset opens (AEAD 15 and 17, 0, 1 and 7
 * placeholders), a plain request, and one with a cookie from another key.
 * Not part of the build; regenerate with:
 *   cc -Iuserspace/lib -Iselftests/fuzz -o /tmp/gen selftests/fuzz/gen_corpus_serve.c \
 *      build/libxnts.a -lssl -lcrypto -lm && /tmp/gen selftests/fuzz/corpus/fuzz_serve
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "fuzz_serve_keys.h"
#include "ntp.h"
#include "nts_ntp.h"

static void put(const char *dir, const char *name, const uint8_t *p, size_t len)
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

int main(int argc, char **argv)
{
	static const unsigned int ph[] = { 0, 1, 7 };
	struct keyset *ks = fuzz_serve_keyset();
	struct ntp_header h = { .leap = 0, .version = 4, .mode = 3, .poll = 6,
				.tx_ts = 0xeb00000000001111ULL };
	uint8_t cookie[COOKIE_MAX_LEN], pkt[2048], uid[NTS_NTP_UID_LEN];
	struct nts_keys keys;
	char name[64];
	size_t len;
	int clen;

	if (argc != 2 || !ks)
		return 2;
	for (int a = 0; a < 2; a++) {
		int aead = a ? AEAD_AES_SIV_CMAC_512 : AEAD_AES_SIV_CMAC_256;
		struct aead *siv = aead_new();

		memset(&keys, 0, sizeof(keys));
		keys.aead = (uint16_t)aead;
		for (int i = 0; i < AEAD_MAX_KEY_LEN; i++) {
			keys.c2s[i] = (uint8_t)(3 * i + a);
			keys.s2c[i] = (uint8_t)(5 * i + a);
		}
		clen = cookie_seal(keyset_current(ks), &keys, cookie, sizeof(cookie));
		for (unsigned int p = 0; p < 3; p++) {
			if (clen < 0 || nts_ntp_client_request(pkt, sizeof(pkt), &len, &h, siv, &keys,
								 cookie, (size_t)clen, ph[p],
								 uid) != NTS_NTP_OK)
				return 1;
			snprintf(name, sizeof(name), "nts-aead%d-ph%u", aead, ph[p]);
			put(argv[1], name, pkt, len);
		}
		aead_free(siv);
	}
	ntp_header_encode(&h, pkt);
	put(argv[1], "plain", pkt, NTP_HEADER_LEN);
	return 0;
}
