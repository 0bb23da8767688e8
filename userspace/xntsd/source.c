// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "log.h"
#include "source.h"

static const char *mode_name(enum config_source_mode m)
{
	switch (m) {
	case CONFIG_SOURCE_SERVER:
		return "server";
	case CONFIG_SOURCE_POOL:
		return "pool";
	case CONFIG_SOURCE_NTS:
		return "nts";
	}
	return "?";
}

static void arm_retry(struct source *s)
{
	uint64_t now = loop_now_ms(), at = ke_client_retry_at(s->ke);

	if (s->retry_armed || s->stopping)
		return;
	s->retry_armed = 1;
	loop_timeout_ms(s->loop, &s->retry_op, at > now ? at - now : 0);
}

static void retry_done(struct loop_op *op, int res, unsigned int flags)
{
	struct source *s = (struct source *)((char *)op - offsetof(struct source, retry_op));

	(void)flags;
	s->retry_armed = 0;
	if (res == -ETIME && !s->stopping)
		ke_client_start(s->ke);
}

static void ke_done(struct ke_client *c, void *arg)
{
	struct source *s = arg;
	const struct ke_result *r = ke_client_result(c);

	if (!r) {
		s->ke_failed++;
		arm_retry(s);
		return;
	}
	s->ke_ok++;
	OPENSSL_cleanse(&s->keys, sizeof(s->keys));
	s->keys = r->ke.keys;
	s->jar_n = r->ke.n_cookies < SOURCE_JAR_MAX ? r->ke.n_cookies : SOURCE_JAR_MAX;
	for (unsigned int i = 0; i < s->jar_n; i++) {
		s->jar_len[i] = r->ke.cookie_len[i];
		memcpy(s->jar[i], r->ke.cookies[i], r->ke.cookie_len[i]);
	}
	snprintf(s->ntp_server, sizeof(s->ntp_server), "%s", r->ke.ntp_server);
	s->ntp_port = r->ke.ntp_port ? r->ke.ntp_port : CONFIG_NTP_PORT;
	s->have_session = 1;
	log_info("source %s: NTS-KE done: AEAD %u, %u cookies, NTP at %s port %u%s",
		 s->name, s->keys.aead, s->jar_n, s->ntp_server, s->ntp_port,
		 ke_client_ktls(c) ? ", kTLS" : "");
}

int source_init(struct source *s, struct loop *l, const struct config_source *cfg,
		char *err, size_t errlen)
{
	struct ke_client_params p = { 0 };

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->loop = l;
	s->retry_op.cb = retry_done;
	snprintf(s->name, sizeof(s->name), "%s:%u", cfg->host, cfg->port);
	if (cfg->mode != CONFIG_SOURCE_NTS)
		return 0;
	p.host = cfg->host;
	p.port = cfg->port;
	p.ca_path = cfg->certificate_authority;
	p.pin = cfg->has_pin ? cfg->pin : NULL;
	s->ke = ke_client_new(l, &p, ke_done, s, err, errlen);
	return s->ke ? 0 : -1;
}

void source_start(struct source *s)
{
	if (s->ke)
		ke_client_start(s->ke);
}

void source_fini(struct source *s)
{
	s->stopping = 1;
	ke_client_free(s->ke);
	s->ke = NULL;
	OPENSSL_cleanse(&s->keys, sizeof(s->keys));
	OPENSSL_cleanse(s->jar, sizeof(s->jar));
}

void source_status_json(const struct source *s, struct sbuf *out)
{
	sbuf_printf(out, "{\"address\":");
	sbuf_json_str(out, s->name);
	sbuf_printf(out, ",\"mode\":\"%s\"", mode_name(s->cfg->mode));
	if (s->ke) {
		sbuf_printf(out, ",\"nts_ke\":{\"state\":\"%s\",\"ok\":%llu,\"failed\":%llu,"
			    "\"consecutive_failures\":%u,\"ktls\":%s,\"error\":",
			    ke_client_state_name(ke_client_state(s->ke)),
			    (unsigned long long)s->ke_ok, (unsigned long long)s->ke_failed,
			    ke_client_failures(s->ke), ke_client_ktls(s->ke) ? "true" : "false");
		sbuf_json_str(out, ke_client_error(s->ke));
		sbuf_printf(out, ",\"aead\":%u,\"cookies\":%u,\"ntp_server\":",
			    s->have_session ? s->keys.aead : 0, s->jar_n);
		sbuf_json_str(out, s->ntp_server);
		sbuf_printf(out, ",\"ntp_port\":%u}", s->ntp_port);
	}
	sbuf_printf(out, "}");
}

void source_status_plain(const struct source *s, struct sbuf *out)
{
	sbuf_printf(out, "  %-30s %-6s", s->name, mode_name(s->cfg->mode));
	if (s->ke) {
		sbuf_printf(out, " nts-ke %s (ok %llu, failed %llu)",
			    ke_client_state_name(ke_client_state(s->ke)),
			    (unsigned long long)s->ke_ok, (unsigned long long)s->ke_failed);
		if (s->have_session)
			sbuf_printf(out, ", AEAD %u, %u cookies, NTP %s port %u%s", s->keys.aead,
				    s->jar_n, s->ntp_server, s->ntp_port,
				    ke_client_ktls(s->ke) ? ", kTLS" : "");
		if (ke_client_error(s->ke)[0])
			sbuf_printf(out, "\n      last error: %s", ke_client_error(s->ke));
	}
	sbuf_printf(out, "\n");
}
