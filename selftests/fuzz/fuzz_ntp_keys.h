/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixed session keys shared by the NTP fuzz harness and its corpus
 * generator, so seed packets authenticate and the fuzzer starts past the
 * AEAD check. Each AEAD has its own key pair.
 */
#ifndef XNTS_FUZZ_NTP_KEYS_H
#define XNTS_FUZZ_NTP_KEYS_H

#include <string.h>

#include "nts.h"

static inline void fuzz_ntp_keys(struct nts_keys *k, int aead)
{
	memset(k, 0, sizeof(*k));
	k->aead = (uint16_t)aead;
	for (int i = 0; i < AEAD_MAX_KEY_LEN; i++) {
		k->c2s[i] = (uint8_t)(0x10 + i + aead);
		k->s2c[i] = (uint8_t)(0x80 + i + aead);
	}
}

#endif
