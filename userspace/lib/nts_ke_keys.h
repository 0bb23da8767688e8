/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nts_ke_keys: the NTS session keys from a finished NTS-KE TLS session
 * (RFC 8915 section 5.1).
 *
 * Contract:
 * - ssl must have completed a TLS 1.3 handshake; both ends call this with
 *   the negotiated AEAD and get the same keys.
 * - Keys come from the TLS exporter (RFC 5705/8446) with the label
 *   "EXPORTER-network-time-security" and the 5-byte context
 *   protocol id (u16, NTPv4 = 0) | AEAD id (u16) | 0x00 for C2S, 0x01 for S2C.
 *   Each key is aead_key_len(aead) bytes.
 * - Returns 0, or -1 for an unsupported AEAD or an exporter failure; on
 *   failure keys is wiped.
 * - nts_ke_export_keys_as() puts ctx_aead in the context instead of aead,
 *   keeping aead's key length: chrony 4.4-4.6 derive AES-128-GCM-SIV keys
 *   with 15 there (Documentation/nts-ke.md), and so must we to talk to
 *   them.
 */
#ifndef XNTS_NTS_KE_KEYS_H
#define XNTS_NTS_KE_KEYS_H

#include <stdint.h>

#include <openssl/ssl.h>

#include "nts.h"

#define NTS_KE_EXPORTER_LABEL "EXPORTER-network-time-security"

int nts_ke_export_keys(SSL *ssl, uint16_t aead, struct nts_keys *keys);
int nts_ke_export_keys_as(SSL *ssl, uint16_t aead, uint16_t ctx_aead, struct nts_keys *keys);

#endif
