// SPDX-License-Identifier: GPL-2.0
/* NTS key export from the NTS-KE TLS session; see nts_ke_keys.h. */
#include <string.h>

#include <openssl/crypto.h>

#include "nts_ke_keys.h"

static int export_one(SSL *ssl, uint16_t aead, uint8_t dir, uint8_t *key, size_t len)
{
	const uint8_t ctx[5] = {
		NTS_PROTO_NTPV4 >> 8, NTS_PROTO_NTPV4 & 0xff, aead >> 8, aead & 0xff, dir,
	};

	return SSL_export_keying_material(ssl, key, len, NTS_KE_EXPORTER_LABEL,
					  strlen(NTS_KE_EXPORTER_LABEL), ctx, sizeof(ctx),
					  1) == 1 ? 0 : -1;
}

int nts_ke_export_keys(SSL *ssl, uint16_t aead, struct nts_keys *keys)
{
	return nts_ke_export_keys_as(ssl, aead, aead, keys);
}

int nts_ke_export_keys_as(SSL *ssl, uint16_t aead, uint16_t ctx_aead, struct nts_keys *keys)
{
	size_t len = aead_key_len(aead);

	if (!keys)
		return -1;
	OPENSSL_cleanse(keys, sizeof(*keys));
	/* The exporter only means what RFC 8915 needs under TLS 1.3. */
	if (!ssl || !len || SSL_version(ssl) != TLS1_3_VERSION)
		return -1;
	if (!aead_key_len(ctx_aead) || export_one(ssl, ctx_aead, 0x00, keys->c2s, len) ||
	    export_one(ssl, ctx_aead, 0x01, keys->s2c, len)) {
		OPENSSL_cleanse(keys, sizeof(*keys));
		return -1;
	}
	keys->aead = aead;
	return 0;
}
