// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: cookie_open() on arbitrary bytes against a keyset with
 * fixed keys. It must never crash, must refuse every length but 68, 100 and 164,
 * and anything it accepts must re-seal and open to the same session keys.
 */
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "keyset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fixed "random" source: the fuzzer can then find the current key id. */
static int fixed_rand(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(0x11 * (i + 1));
	return 0;
}

static struct keyset *ks;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t again[COOKIE_MAX_LEN];
	struct nts_keys out, back;
	enum cookie_result r;
	int len;

	if (!ks) {
		struct keyset_config cfg;

		keyset_config_default(&cfg);
		cfg.rand_bytes = fixed_rand;
		ks = keyset_new(&cfg);
		if (!ks || keyset_load(ks, 1700000000))
			abort();
	}
	r = cookie_open(ks, data, size, &out);
	if (r != COOKIE_OK && r != COOKIE_BAD_LENGTH && r != COOKIE_UNKNOWN_KEY &&
	    r != COOKIE_AUTH_FAILED)
		abort();
	if ((r == COOKIE_BAD_LENGTH) != (size != 68 && size != 100 && size != 164))
		abort();
	if (r != COOKIE_OK)
		return 0;
	len = cookie_seal(keyset_current(ks), &out, again, sizeof(again));
	if (len != (int)size || cookie_open(ks, again, (size_t)len, &back) != COOKIE_OK ||
	    memcmp(&out, &back, sizeof(out)))
		abort();
	return 0;
}
