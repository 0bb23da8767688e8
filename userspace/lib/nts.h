/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nts: types shared by every NTS module (RFC 8915).
 *
 * struct nts_keys is the C2S/S2C pair one NTS-KE exchange produces: the
 * exporter fills it, cookies carry it, and the NTP extension-field code seals
 * and opens with it. Key lengths follow the AEAD (aead_key_len()).
 */
#ifndef XNTS_NTS_H
#define XNTS_NTS_H

#include <stdint.h>

#include "aead.h"

/* NTS-KE Next Protocol id for NTPv4. */
#define NTS_PROTO_NTPV4 0
#define NTS_KE_DEFAULT_PORT 4460
#define NTS_NTP_DEFAULT_PORT 123
/* A server hands out this many cookies per NTS-KE exchange. */
#define NTS_KE_COOKIES 8

struct nts_keys {
	uint16_t aead;	/* AEAD_AES_SIV_CMAC_256, _512 or AEAD_AES_128_GCM_SIV */
	uint8_t c2s[AEAD_MAX_KEY_LEN];
	uint8_t s2c[AEAD_MAX_KEY_LEN];
};

#endif
