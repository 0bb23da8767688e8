/* SPDX-License-Identifier: GPL-2.0 */
/*
 * source: one configured time source ([[source]]).
 *
 * For mode "nts" it owns the NTS-KE client and the cookie jar: it runs a key
 * exchange at start, keeps the session keys and cookies it got, and runs a
 * new exchange when the jar is empty, after a NAK, or after a failure once
 * the client's backoff allows.
 */
#ifndef XNTS_SOURCE_H
#define XNTS_SOURCE_H

#include <stdint.h>

#include "config.h"
#include "ke_client.h"
#include "loop.h"
#include "sbuf.h"

#define SOURCE_JAR_MAX NTS_KE_MAX_COOKIES

struct source {
	const struct config_source *cfg;
	struct loop *loop;
	struct ke_client *ke;
	struct loop_op retry_op;
	int retry_armed;
	int stopping;
	/* Session from the last successful key exchange. */
	int have_session;
	struct nts_keys keys;
	char ntp_server[NTS_KE_MAX_SERVER_LEN + 1];
	uint16_t ntp_port;
	unsigned int jar_n;
	uint16_t jar_len[SOURCE_JAR_MAX];
	uint8_t jar[SOURCE_JAR_MAX][NTS_KE_MAX_COOKIE_LEN];
	uint64_t ke_ok, ke_failed;
	char name[300];
};

int source_init(struct source *s, struct loop *l, const struct config_source *cfg,
		char *err, size_t errlen);
void source_start(struct source *s);
void source_fini(struct source *s);
void source_status_json(const struct source *s, struct sbuf *out);
void source_status_plain(const struct source *s, struct sbuf *out);

#endif
