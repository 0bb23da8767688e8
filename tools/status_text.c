// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>

#include "status_text.h"

#define U(o, k) json_u64(o, k, 0)
#define S(o, k) json_str(o, k, "")
#define N(o, k) json_num(o, k, 0)

#define for_each(e, arr) \
	for (const struct json *e = (arr) ? (arr)->child : NULL; e; e = e->next)

static const char *yes(int b, const char *y, const char *n)
{
	return b ? y : n;
}

void status_text_keys(const struct json *doc, struct sbuf *out)
{
	const struct json *ks = json_get(doc, "keyset");
	const struct json *keys = json_get(ks, "keys");

	if (!ks || json_num(ks, "next_rotation", -1) < 0)
		return;	/* a client has none */
	const struct json *ck = json_get(ks, "cookies");

	sbuf_printf(out, "keyset: %zu keys, %s, next rotation in %lld s\n", json_len(keys),
		    strcmp(S(ks, "mode"), "shared-secret") ? "random" :
		    "derived from a shared secret", (long long)N(ks, "next_rotation_in"));
	if (S(ks, "fingerprint")[0]) {
		sbuf_printf(out, "  period %lld, secret fingerprint %s", (long long)N(ks, "period"),
			    S(ks, "fingerprint"));
		if (S(ks, "previous_fingerprint")[0])
			sbuf_printf(out, ", previous %s (%s)", S(ks, "previous_fingerprint"),
				    yes(json_bool(ks, "previous_accepted", 0), "still accepted",
					"grace over"));
		sbuf_printf(out, "\n");
	}
	for_each(k, keys)
		sbuf_printf(out, "  key %s  age %lld s  %s\n", S(k, "id"), (long long)N(k, "age"),
			    S(k, "role"));
	if (ck)
		sbuf_printf(out, "  cookies: %llu stale key, %llu next period, %llu previous secret, "
			    "%llu unknown key\n", U(ck, "stale"), U(ck, "next"),
			    U(ck, "previous_secret"), U(ck, "unknown"));
	if (U(ck, "far"))
		sbuf_printf(out, "  cookies from periods far from ours: %llu (%llu not accepted), "
			    "last %+lld periods in our period %lld: a clock is off by more than "
			    "a period\n", U(ck, "far"), U(ck, "far_unknown"),
			    (long long)N(ck, "last_far_offset"), (long long)N(ck, "last_far_period"));
}

static void sync_text(const struct json *y, struct sbuf *out)
{
	static const char *const leap[] = { "none", "insert pending", "delete pending",
					    "unsynchronised" };
	const struct json *sv = json_get(y, "serving");
	const char *sel = S(y, "selected");
	const char *err = S(y, "error");
	const char *state = "not synchronised";

	if (!y)
		return;
	if (json_bool(y, "synced", 0))
		state = "synchronised";
	else if (json_bool(y, "local_reference", 0))
		state = "not synchronised, serving as a local reference";
	sbuf_printf(out, "clock: %s, steering %s (%s)\n", state,
		    strcmp(S(y, "steering"), "adjtimex") ? "a virtual clock, -x" : "via adjtimex",
		    S(y, "mode"));
	sbuf_printf(out, "  selected source %s, stratum %u, %u of %u candidates agree\n",
		    sel[0] ? sel : "none", (unsigned int)U(y, "stratum"),
		    (unsigned int)U(y, "truechimers"), (unsigned int)U(y, "candidates"));
	sbuf_printf(out, "  offset %+.6f s (sd %.6f), frequency %+.3f ppm, jitter %.6f s\n",
		    N(y, "offset"), N(y, "offset_sd"), N(y, "frequency_ppm"), N(y, "jitter"));
	sbuf_printf(out, "  TAI-UTC %d s, steps %llu%s%s\n", (int)N(y, "tai_offset"),
		    U(y, "steps"), err[0] ? ", error: " : "", err);
	if (sv)
		sbuf_printf(out, "  serving stratum %llu, leap %s, refid %s, root delay %.6f s, "
			    "root dispersion %.6f s, reference time %.3f\n", U(sv, "stratum"),
			    leap[(unsigned int)U(sv, "leap") & 3], S(sv, "refid"),
			    N(sv, "root_delay"), N(sv, "root_dispersion"),
			    N(sv, "reference_time"));
}

static void ke_server_text(const struct json *k, struct sbuf *out)
{
	const struct json *f = json_get(k, "failed");

	sbuf_printf(out, "  %s: %llu active, %llu accepted, %llu refused (limit)\n",
		    S(k, "listen"), U(k, "active"), U(k, "accepted"), U(k, "refused_limit"));
	sbuf_printf(out, "    handshakes: %llu ok, %llu failed (tls %llu, alpn %llu, "
		    "timeout %llu, bad request %llu, critical %llu, no match %llu, "
		    "internal %llu)\n", U(k, "handshakes_ok"), U(k, "handshakes_failed"),
		    U(f, "tls"), U(f, "alpn"), U(f, "timeout"), U(f, "bad_request"),
		    U(f, "critical"), U(f, "no_match"), U(f, "internal"));
	sbuf_printf(out, "    cookies issued: %llu (last key %s)\n", U(k, "cookies_issued"),
		    S(k, "last_key_id"));
	sbuf_printf(out, "    kTLS: %s (send offloaded on %llu exchanges, receive on %llu)\n",
		    yes(json_bool(k, "ktls_active", 0), "active", "not active"),
		    U(k, "ktls_send"), U(k, "ktls_recv"));
	sbuf_printf(out, "    certificate reloads: %llu ok, %llu failed\n", U(k, "reloads_ok"),
		    U(k, "reloads_failed"));
}

static void ntp_server_text(const struct json *s, struct sbuf *out)
{
	sbuf_printf(out, "  %s: %llu workers, %llu received\n", S(s, "listen"),
		    U(s, "workers"), U(s, "received"));
	sbuf_printf(out, "    answered: %llu plain, %llu NTS, %llu NAK, %llu kiss "
		    "(%llu rate, %llu deny)\n", U(s, "plain"), U(s, "nts"), U(s, "nak"),
		    U(s, "rate_limited") + U(s, "denied"), U(s, "rate_limited"), U(s, "denied"));
	sbuf_printf(out, "    dropped: %llu invalid, %llu malformed NTS, %llu NTS unconfigured, "
		    "%llu ignored, %llu policy, %llu errors\n", U(s, "drop_invalid"),
		    U(s, "drop_nts_malformed"), U(s, "drop_nts_unconfigured"), U(s, "ignored"),
		    U(s, "drop_policy"), U(s, "drop_error") + U(s, "send_errors"));
}

static void af_xdp_text(const struct json *a, struct sbuf *out)
{
	const struct json *s = json_get(a, "server");

	if (!a)
		return;
	if (!json_bool(a, "active", 0)) {
		sbuf_printf(out, "af_xdp: not active: %s\n", S(a, "reason"));
		return;
	}
	sbuf_printf(out, "af_xdp: %zu sockets, rebuilt %llu times\n",
		    json_len(json_get(s, "sockets")), U(a, "rebuilds"));
	for_each(k, json_get(s, "sockets"))
		sbuf_printf(out, "  %s queue %llu: %s mode\n", S(k, "interface"), U(k, "queue"),
			    S(k, "mode"));
	sbuf_printf(out, "  received %llu, sent %llu; answered: %llu plain, %llu NTS, %llu NAK, "
		    "%llu kiss\n", U(s, "received"), U(s, "sent"), U(s, "plain"), U(s, "nts"),
		    U(s, "nak"), U(s, "rate_limited") + U(s, "denied"));
	sbuf_printf(out, "  dropped: %llu invalid, %llu malformed NTS, %llu ignored, %llu TX ring "
		    "full; kernel: %llu RX ring full, %llu fill ring empty\n",
		    U(s, "drop_invalid"), U(s, "drop_nts_malformed"), U(s, "ignored"),
		    U(s, "tx_full"), U(s, "kernel_rx_ring_full"), U(s, "kernel_fill_ring_empty"));
}

static void xdp_text(const struct json *x, struct sbuf *out)
{
	const struct json *t = json_get(x, "time");
	const char *mode = S(x, "mode");

	if (!x || !strcmp(mode, "off")) {
		sbuf_printf(out, "xdp: off\n");
		return;
	}
	sbuf_printf(out, "xdp: %s mode, pinned in %s\n", mode, S(x, "pin_path"));
	if (!json_bool(x, "loaded", 0)) {
		sbuf_printf(out, "  not loaded: %s\n", S(x, "error"));
	} else {
		sbuf_printf(out, "  program %llu (%s), maps %s\n", U(x, "prog_id"),
			    yes(json_bool(x, "prog_reused", 0), "reused from the pin", "loaded now"),
			    yes(json_bool(x, "maps_reused", 0), "reused from the pins", "new"));
		sbuf_printf(out, "  variant: %s (%s)\n",
			    strcmp(S(x, "variant"), "nts") ? "plain" : "NTS", S(x, "variant_note"));
		if (S(x, "nts_keys_error")[0])
			sbuf_printf(out, "  NTS keys: %s\n", S(x, "nts_keys_error"));
		sbuf_printf(out, "  ports:");
		for_each(p, json_get(x, "ports"))
			sbuf_printf(out, " %s", p->type == JSON_NUMBER ? p->str : "?");
		sbuf_printf(out, "%s\n", json_len(json_get(x, "ports")) ? "" :
			    " none (program passes everything)");
	}
	if (S(x, "config_note")[0])
		sbuf_printf(out, "  note: %s\n", S(x, "config_note"));
	sbuf_printf(out, "  heartbeat every %llu ms, timeout %llu ms, then %s; %s on exit\n",
		    U(x, "heartbeat_interval_ms"), U(x, "heartbeat_timeout_ms"),
		    strcmp(S(x, "stale_action"), "pass") ? "answer with LI=3" : "pass to userspace",
		    yes(json_bool(x, "keep_serving_on_exit", 0), "keep serving", "detach"));
	if (t)
		sbuf_printf(out, "  time state: leap %llu, stratum %llu, precision %d, refid %s, "
			    "TAI offset %d s, heartbeat %lld ms ago\n", U(t, "leap"),
			    U(t, "stratum"), (int)N(t, "precision"), S(t, "refid"),
			    (int)N(t, "tai_offset"), (long long)json_num(x, "heartbeat_age_ms", -1));
	for_each(f, json_get(x, "interfaces")) {
		if (!strcmp(S(f, "mode"), "failed"))
			sbuf_printf(out, "  %s: failed: %s\n", S(f, "name"), S(f, "reason"));
		else
			sbuf_printf(out, "  %s: %s, ifindex %lld, program %llu, link %llu%s\n",
				    S(f, "name"), S(f, "mode"), (long long)N(f, "ifindex"),
				    U(f, "prog_id"), U(f, "link_id"),
				    yes(json_bool(f, "link_reused", 0), " (pinned link kept)", ""));
	}
	sbuf_printf(out, "  counters:");
	for_each(c, json_get(x, "counters"))
		sbuf_printf(out, "%s %s %s", c == json_get(x, "counters")->child ? "" : ",", c->key,
			    c->type == JSON_NUMBER ? c->str : "?");
	sbuf_printf(out, "\n");
}

static void phc_text(const struct json *p, struct sbuf *out)
{
	sbuf_printf(out, "    device %s, PTP_SYS_OFFSET method %s, scale %s", S(p, "device"),
		    S(p, "method"), strcmp(S(p, "scale"), "tai") ? "UTC" : "TAI");
	if (json_get(p, "offset"))
		sbuf_printf(out, ", offset %+.9f s, delay %.9f s", N(p, "offset"), N(p, "delay"));
	sbuf_printf(out, "\n");
	if (json_get(p, "map_offset_ns"))
		sbuf_printf(out, "    PHC - system %+lld ns, rate %+.4f ppm\n",
			    (long long)N(p, "map_offset_ns"), N(p, "map_rate_ppm"));
}

static void source_text(const struct json *s, struct sbuf *out)
{
	const struct json *ke = json_get(s, "nts_ke"), *phc = json_get(s, "phc");

	sbuf_printf(out, "  %s (%s)\n", S(s, "address"), S(s, "mode"));
	if (ke) {
		sbuf_printf(out, "    nts-ke %s (ok %llu, failed %llu)", S(ke, "state"),
			    U(ke, "ok"), U(ke, "failed"));
		if (U(ke, "aead"))
			sbuf_printf(out, ", AEAD %llu, %llu cookies, NTP %s port %llu%s",
				    U(ke, "aead"), U(ke, "cookies"), S(ke, "ntp_server"),
				    U(ke, "ntp_port"), yes(json_bool(ke, "ktls", 0), ", kTLS", ""));
		sbuf_printf(out, "\n");
		if (S(ke, "error")[0])
			sbuf_printf(out, "    nts-ke last error: %s\n", S(ke, "error"));
	}
	if (phc)
		phc_text(phc, out);
	for_each(a, json_get(s, "associations")) {
		sbuf_printf(out, "    %-28s %s reach %03llo poll %d", S(a, "address"),
			    json_bool(s, "authenticated", 0) ? "NTS-authenticated" :
			    phc ? "reference clock" : "unauthenticated", U(a, "reach"),
			    (int)N(a, "poll"));
		if (json_get(a, "offset"))
			sbuf_printf(out, " stratum %llu offset %+.6f s delay %.6f s",
				    U(a, "stratum"), N(a, "offset"), N(a, "delay"));
		sbuf_printf(out, "\n      sent %llu, received %llu, invalid %llu, lost %llu, "
			    "NAKs %llu, kisses %llu\n", U(a, "sent"), U(a, "received"),
			    U(a, "invalid"), U(a, "lost"), U(a, "naks"), U(a, "kisses"));
		if (S(a, "error")[0])
			sbuf_printf(out, "      last error: %s\n", S(a, "error"));
	}
}

void status_text(const struct json *doc, struct sbuf *out)
{
	const struct json *arr;

	sbuf_printf(out, "xntsd %s, pid %llu, up %llu s, clock control %s\n", S(doc, "version"),
		    U(doc, "pid"), U(doc, "uptime"),
		    yes(json_bool(doc, "clock_control", 0), "on", "off (-x)"));
	sync_text(json_get(doc, "sync"), out);
	status_text_keys(doc, out);
	arr = json_get(doc, "nts_ke_servers");
	sbuf_printf(out, "nts-ke servers: %zu\n", json_len(arr));
	for_each(k, arr)
		ke_server_text(k, out);
	arr = json_get(doc, "ntp_servers");
	sbuf_printf(out, "ntp servers: %zu\n", json_len(arr));
	for_each(s, arr)
		ntp_server_text(s, out);
	xdp_text(json_get(doc, "xdp"), out);
	af_xdp_text(json_get(doc, "af_xdp"), out);
	arr = json_get(doc, "sources");
	sbuf_printf(out, "sources: %zu\n", json_len(arr));
	for_each(s, arr)
		source_text(s, out);
}
