// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the key storage file decoder on arbitrary bytes. It
 * must never crash or read out of bounds, and whatever it accepts must
 * have 1..KEYSET_FILE_KEYS keys with unique non-zero ids and sane times.
 */
#include <stdlib.h>

#include "keyset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyset_key keys[KEYSET_FILE_KEYS];
	const char *why = NULL;
	int n = keyset_decode(data, size, keys, &why);

	if (n < 0) {
		if (n != KEYSET_E_FORMAT || !why)
			abort();
		return 0;
	}
	if (n < 1 || n > KEYSET_FILE_KEYS || size != (size_t)(48 + 48 * n))
		abort();
	for (int i = 0; i < n; i++) {
		if (keys[i].id == 0 || keys[i].created < 0 ||
		    keys[i].created > KEYSET_TIME_MAX)
			abort();
		for (int j = 0; j < i; j++)
			if (keys[j].id == keys[i].id)
				abort();
	}
	return 0;
}
