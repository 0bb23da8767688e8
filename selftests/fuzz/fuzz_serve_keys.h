/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A keyset with a fixed master key, shared by the ntp_serve fuzz harness and
 * its corpus generator, so seed requests carry cookies the server opens.
 */
#ifndef XNTS_FUZZ_SERVE_KEYS_H
#define XNTS_FUZZ_SERVE_KEYS_H

#include <string.h>

#include "keyset.h"

static inline int fuzz_serve_rand(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(0x5a + i * 7);
	return 0;
}

static inline struct keyset *fuzz_serve_keyset(void)
{
	struct keyset_config kc;
	struct keyset *ks;

	keyset_config_default(&kc);
	kc.rand_bytes = fuzz_serve_rand;
	ks = keyset_new(&kc);
	if (ks && keyset_load(ks, 1700000000) < 0) {
		keyset_free(ks);
		ks = NULL;
	}
	return ks;
}

#endif
