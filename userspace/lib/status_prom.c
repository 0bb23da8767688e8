// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status_prom.h"

/* Where a metric's instances are, and the labels that tell them apart. */
enum scope {
	SC_DAEMON,	/* the document */
	SC_SYNC,	/* .sync */
	SC_KEYSET,	/* .keyset */
	SC_KE,		/* .nts_ke_servers[]: listen_address */
	SC_SERVER,	/* .ntp_servers[]: listen_address */
	SC_XDP,		/* .xdp */
	SC_XDP_IF,	/* .xdp.interfaces[]: interface */
	SC_AFXDP,	/* .af_xdp */
	SC_AFXDP_SRV,	/* .af_xdp.server, while it runs */
	SC_SOURCE,	/* .sources[]: name */
	SC_ASSOC,	/* .sources[].associations[]: name, address */
};

enum conv {
	C_RAW,		/* the number as the daemon wrote it */
	C_MS,		/* milliseconds to seconds */
	C_LOG2,		/* log2 seconds to seconds */
};

struct metric {
	enum scope scope;
	const char *path;	/* dotted, inside the scope; last "*": every member */
	const char *name;
	const char *type;	/* "counter" or "gauge"; "info": a string as label, value 1 */
	const char *label;	/* constant label k="v", or the label name for "*" and info */
	enum conv conv;
	const char *help;
};

/* Metrics with one name must be adjacent: each family is written once. */
static const struct metric metrics[] = {
	{ SC_DAEMON, "version", "xnts_build_info", "info", "version", C_RAW,
	  "xntsd version, always 1" },
	{ SC_DAEMON, "uptime", "ntp_uptime_seconds", "gauge", NULL, C_RAW,
	  "Time since the daemon started" },
	{ SC_DAEMON, "clock_control", "xnts_clock_control", "gauge", NULL, C_RAW,
	  "1 when the daemon steers the system clock, 0 under -x" },

	{ SC_SYNC, "synced", "xnts_system_synchronized", "gauge", NULL, C_RAW,
	  "1 when the clock is synchronised to a source" },
	{ SC_SYNC, "local_reference", "xnts_system_local_reference", "gauge", NULL, C_RAW,
	  "1 when serving as a local reference (local-stratum, no source selected)" },
	{ SC_SYNC, "serving.stratum", "ntp_system_stratum", "gauge", NULL, C_RAW,
	  "Stratum the server announces" },
	{ SC_SYNC, "serving.leap", "ntp_system_leap_indicator", "gauge", NULL, C_RAW,
	  "Leap indicator the server announces (3: unsynchronised)" },
	{ SC_SYNC, "serving.root_delay", "ntp_system_root_delay_seconds", "gauge", NULL, C_RAW,
	  "Root delay the server announces" },
	{ SC_SYNC, "serving.root_dispersion", "ntp_system_root_dispersion_seconds", "gauge",
	  NULL, C_RAW, "Root dispersion the server announces" },
	{ SC_SYNC, "offset", "xnts_system_offset_seconds", "gauge", NULL, C_RAW,
	  "Estimated offset of the clock still to correct" },
	{ SC_SYNC, "offset_sd", "xnts_system_offset_uncertainty_seconds", "gauge", NULL, C_RAW,
	  "Standard deviation of the offset estimate" },
	{ SC_SYNC, "frequency_ppm", "xnts_system_frequency_ppm", "gauge", NULL, C_RAW,
	  "Estimated frequency correction of the clock, in parts per million" },
	{ SC_SYNC, "jitter", "xnts_system_jitter_seconds", "gauge", NULL, C_RAW,
	  "Jitter of the last combined measurement" },
	{ SC_SYNC, "tai_offset", "xnts_system_tai_offset_seconds", "gauge", NULL, C_RAW,
	  "TAI - UTC" },
	{ SC_SYNC, "candidates", "xnts_system_candidate_sources", "gauge", NULL, C_RAW,
	  "Sources that took part in the last selection" },
	{ SC_SYNC, "truechimers", "xnts_system_truechimer_sources", "gauge", NULL, C_RAW,
	  "Sources that agreed in the last selection" },
	{ SC_SYNC, "steps", "xnts_system_steps_total", "counter", NULL, C_RAW,
	  "Clock steps made" },
	{ SC_SYNC, "accumulated_steps", "ntp_system_accumulated_steps_seconds", "gauge", NULL,
	  C_RAW, "Sum of the absolute steps after the startup one" },

	{ SC_KEYSET, "keys", "xnts_keyset_keys", "gauge", NULL, C_RAW,
	  "Master keys that open cookies" },
	{ SC_KEYSET, "keys.0.age", "xnts_keyset_current_key_age_seconds", "gauge", NULL, C_RAW,
	  "Age of the key that seals new cookies" },
	{ SC_KEYSET, "next_rotation", "xnts_keyset_next_rotation_timestamp_seconds", "gauge",
	  NULL, C_RAW, "Unix time of the next key rotation" },
	{ SC_KEYSET, "cookies.stale", "xnts_keyset_cookies_total", "counter", "key=\"stale\"",
	  C_RAW, "Cookies opened under a key other than the current one, or under none" },
	{ SC_KEYSET, "cookies.next", "xnts_keyset_cookies_total", "counter", "key=\"next\"",
	  C_RAW, "Cookies opened under a key other than the current one, or under none" },
	{ SC_KEYSET, "cookies.previous_secret", "xnts_keyset_cookies_total", "counter",
	  "key=\"previous_secret\"", C_RAW,
	  "Cookies opened under a key other than the current one, or under none" },
	{ SC_KEYSET, "cookies.unknown", "xnts_keyset_cookies_total", "counter",
	  "key=\"unknown\"", C_RAW,
	  "Cookies opened under a key other than the current one, or under none" },
	{ SC_KEYSET, "cookies.far", "xnts_keyset_far_period_cookies_total", "counter", NULL,
	  C_RAW, "Cookies from periods more than one away from ours: a clock is off" },

	{ SC_KE, "accepted", "xnts_nts_ke_accepted_connections_total", "counter", NULL, C_RAW,
	  "NTS-KE connections accepted" },
	{ SC_KE, "refused_limit", "xnts_nts_ke_refused_connections_total", "counter",
	  "reason=\"limit\"", C_RAW, "NTS-KE connections refused" },
	{ SC_KE, "active", "xnts_nts_ke_active_connections", "gauge", NULL, C_RAW,
	  "NTS-KE connections open now" },
	{ SC_KE, "handshakes_ok", "xnts_nts_ke_exchanges_total", "counter", "result=\"ok\"",
	  C_RAW, "NTS-KE exchanges by result" },
	{ SC_KE, "handshakes_failed", "xnts_nts_ke_exchanges_total", "counter",
	  "result=\"failed\"", C_RAW, "NTS-KE exchanges by result" },
	{ SC_KE, "failed.*", "xnts_nts_ke_failures_total", "counter", "reason", C_RAW,
	  "Failed NTS-KE exchanges by reason" },
	{ SC_KE, "cookies_issued", "xnts_nts_ke_cookies_issued_total", "counter", NULL, C_RAW,
	  "Cookies handed out by NTS-KE" },
	{ SC_KE, "ktls_send", "xnts_nts_ke_ktls_offloaded_total", "counter",
	  "direction=\"send\"", C_RAW, "NTS-KE exchanges with kernel TLS offload" },
	{ SC_KE, "ktls_recv", "xnts_nts_ke_ktls_offloaded_total", "counter",
	  "direction=\"receive\"", C_RAW, "NTS-KE exchanges with kernel TLS offload" },
	{ SC_KE, "reloads_ok", "xnts_nts_ke_certificate_reloads_total", "counter",
	  "result=\"ok\"", C_RAW, "Certificate reloads by result" },
	{ SC_KE, "reloads_failed", "xnts_nts_ke_certificate_reloads_total", "counter",
	  "result=\"failed\"", C_RAW, "Certificate reloads by result" },
	{ SC_KE, "pool.*", "xnts_nts_ke_pool_requests_total", "counter", "result", C_RAW,
	  "NTS pool requests by result (fixed_key, support, refused_token, bad_request) "
	  "and NTP Server Deny records seen" },
	{ SC_KE, "longlived.active", "xnts_nts_ke_longlived_connections", "gauge", NULL, C_RAW,
	  "NTS-KE connections kept alive for pools now" },
	{ SC_KE, "longlived.opened", "xnts_nts_ke_longlived_opened_total", "counter", NULL,
	  C_RAW, "NTS-KE connections kept alive for pools" },
	{ SC_KE, "longlived.requests", "xnts_nts_ke_longlived_requests_total", "counter", NULL,
	  C_RAW, "Requests answered on kept-alive connections" },
	{ SC_KE, "longlived.refused_limit", "xnts_nts_ke_longlived_refused_total", "counter",
	  NULL, C_RAW, "Keep-alive requests refused at longlived-connections" },
	{ SC_KE, "longlived.closed.*", "xnts_nts_ke_longlived_closed_total", "counter", "reason",
	  C_RAW, "Kept-alive connections ended by a bound" },

	{ SC_SERVER, "received", "ntp_server_received_packets_total", "counter", NULL, C_RAW,
	  "Requests received by the userspace server" },
	{ SC_SERVER, "plain", "xnts_server_responses_total", "counter", "kind=\"plain\"", C_RAW,
	  "Responses sent by kind" },
	{ SC_SERVER, "nts", "xnts_server_responses_total", "counter", "kind=\"nts\"", C_RAW,
	  "Responses sent by kind" },
	{ SC_SERVER, "nak", "xnts_server_responses_total", "counter", "kind=\"nak\"", C_RAW,
	  "Responses sent by kind" },
	{ SC_SERVER, "rate_limited", "xnts_server_responses_total", "counter", "kind=\"rate\"",
	  C_RAW, "Responses sent by kind" },
	{ SC_SERVER, "denied", "xnts_server_responses_total", "counter", "kind=\"deny\"", C_RAW,
	  "Responses sent by kind" },
	{ SC_SERVER, "nak", "ntp_server_nts_nak_packets_total", "counter", NULL, C_RAW,
	  "NTS NAK responses sent" },
	{ SC_SERVER, "rate_limited", "ntp_server_rate_limited_packets_total", "counter", NULL,
	  C_RAW, "Requests answered with a RATE kiss" },
	{ SC_SERVER, "denied", "ntp_server_denied_packets_total", "counter", NULL, C_RAW,
	  "Requests answered with a DENY kiss" },
	{ SC_SERVER, "ignored", "ntp_server_ignored_packets_total", "counter", NULL, C_RAW,
	  "Requests dropped by the access policy" },
	{ SC_SERVER, "send_errors", "ntp_server_response_send_errors_total", "counter", NULL,
	  C_RAW, "Responses that could not be sent" },
	{ SC_SERVER, "drop_invalid", "xnts_server_dropped_packets_total", "counter",
	  "reason=\"invalid\"", C_RAW, "Requests dropped unanswered by reason" },
	{ SC_SERVER, "drop_nts_malformed", "xnts_server_dropped_packets_total", "counter",
	  "reason=\"nts_malformed\"", C_RAW, "Requests dropped unanswered by reason" },
	{ SC_SERVER, "drop_nts_unconfigured", "xnts_server_dropped_packets_total", "counter",
	  "reason=\"nts_unconfigured\"", C_RAW, "Requests dropped unanswered by reason" },
	{ SC_SERVER, "drop_policy", "xnts_server_dropped_packets_total", "counter",
	  "reason=\"policy\"", C_RAW, "Requests dropped unanswered by reason" },
	{ SC_SERVER, "drop_error", "xnts_server_dropped_packets_total", "counter",
	  "reason=\"error\"", C_RAW, "Requests dropped unanswered by reason" },
	{ SC_SERVER, "truncated", "xnts_server_dropped_packets_total", "counter",
	  "reason=\"truncated\"", C_RAW, "Requests dropped unanswered by reason" },
	{ SC_SERVER, "workers", "xnts_server_workers", "gauge", NULL, C_RAW,
	  "Receive workers of the userspace server" },
	{ SC_SERVER, "hw_timestamps", "xnts_server_hardware_timestamps_total", "counter", NULL,
	  C_RAW, "Requests with a hardware receive timestamp" },

	{ SC_XDP, "loaded", "xnts_xdp_loaded", "gauge", NULL, C_RAW,
	  "1 when the XDP program is loaded" },
	{ SC_XDP, "counters.*", "xnts_xdp_packets_total", "counter", "outcome", C_RAW,
	  "Packets the XDP program handled, by outcome" },
	{ SC_XDP, "heartbeats", "xnts_xdp_heartbeats_total", "counter", NULL, C_RAW,
	  "Time state publications to the XDP program" },
	{ SC_XDP, "heartbeat_age_ms", "xnts_xdp_heartbeat_age_seconds", "gauge", NULL, C_MS,
	  "Age of the last time state publication" },
	{ SC_XDP, "link_events", "xnts_xdp_link_events_total", "counter", NULL, C_RAW,
	  "Netlink link events seen" },
	{ SC_XDP, "reattaches", "xnts_xdp_reattaches_total", "counter", NULL, C_RAW,
	  "Links re-attached after an interface came back" },
	{ SC_XDP_IF, "attaches", "xnts_xdp_interface_attaches_total", "counter", NULL, C_RAW,
	  "XDP links this daemon created, by interface" },

	{ SC_AFXDP, "active", "xnts_af_xdp_active", "gauge", NULL, C_RAW,
	  "1 when requests XDP does not answer go to AF_XDP sockets" },
	{ SC_AFXDP, "rebuilds", "xnts_af_xdp_rebuilds_total", "counter", NULL, C_RAW,
	  "AF_XDP socket sets rebuilt after an interface change" },
	{ SC_AFXDP_SRV, "received", "xnts_af_xdp_received_packets_total", "counter", NULL, C_RAW,
	  "Requests taken from the AF_XDP sockets" },
	{ SC_AFXDP_SRV, "sent", "xnts_af_xdp_sent_packets_total", "counter", NULL, C_RAW,
	  "Responses the kernel sent from the AF_XDP sockets" },
	{ SC_AFXDP_SRV, "plain", "xnts_af_xdp_responses_total", "counter", "kind=\"plain\"",
	  C_RAW, "AF_XDP responses by kind" },
	{ SC_AFXDP_SRV, "nts", "xnts_af_xdp_responses_total", "counter", "kind=\"nts\"", C_RAW,
	  "AF_XDP responses by kind" },
	{ SC_AFXDP_SRV, "nak", "xnts_af_xdp_responses_total", "counter", "kind=\"nak\"", C_RAW,
	  "AF_XDP responses by kind" },
	{ SC_AFXDP_SRV, "rate_limited", "xnts_af_xdp_responses_total", "counter",
	  "kind=\"rate\"", C_RAW, "AF_XDP responses by kind" },
	{ SC_AFXDP_SRV, "denied", "xnts_af_xdp_responses_total", "counter", "kind=\"deny\"",
	  C_RAW, "AF_XDP responses by kind" },
	{ SC_AFXDP_SRV, "drop_invalid", "xnts_af_xdp_dropped_packets_total", "counter",
	  "reason=\"invalid\"", C_RAW, "AF_XDP requests dropped unanswered by reason" },
	{ SC_AFXDP_SRV, "drop_nts_malformed", "xnts_af_xdp_dropped_packets_total", "counter",
	  "reason=\"nts_malformed\"", C_RAW, "AF_XDP requests dropped unanswered by reason" },
	{ SC_AFXDP_SRV, "ignored", "xnts_af_xdp_dropped_packets_total", "counter",
	  "reason=\"ignored\"", C_RAW, "AF_XDP requests dropped unanswered by reason" },
	{ SC_AFXDP_SRV, "tx_full", "xnts_af_xdp_dropped_packets_total", "counter",
	  "reason=\"tx_full\"", C_RAW, "AF_XDP requests dropped unanswered by reason" },
	{ SC_AFXDP_SRV, "kernel_rx_ring_full", "xnts_af_xdp_kernel_dropped_packets_total",
	  "counter", "reason=\"rx_ring_full\"", C_RAW,
	  "Frames the kernel dropped before the AF_XDP workers saw them" },
	{ SC_AFXDP_SRV, "kernel_fill_ring_empty", "xnts_af_xdp_kernel_dropped_packets_total",
	  "counter", "reason=\"fill_ring_empty\"", C_RAW,
	  "Frames the kernel dropped before the AF_XDP workers saw them" },

	{ SC_SOURCE, "nts_ke.cookies", "ntp_source_nts_cookies_available", "gauge", NULL, C_RAW,
	  "NTS cookies held for the source" },
	{ SC_SOURCE, "nts_ke.ok", "xnts_source_nts_ke_total", "counter", "result=\"ok\"", C_RAW,
	  "NTS-KE exchanges with the source by result" },
	{ SC_SOURCE, "nts_ke.failed", "xnts_source_nts_ke_total", "counter",
	  "result=\"failed\"", C_RAW, "NTS-KE exchanges with the source by result" },

	{ SC_ASSOC, "offset", "ntp_source_offset_seconds", "gauge", NULL, C_RAW,
	  "Offset of the last sample" },
	{ SC_ASSOC, "delay", "ntp_source_delay_seconds", "gauge", NULL, C_RAW,
	  "Round-trip delay of the last sample" },
	{ SC_ASSOC, "dispersion", "xnts_source_dispersion_seconds", "gauge", NULL, C_RAW,
	  "Dispersion of the last sample" },
	{ SC_ASSOC, "poll", "ntp_source_poll_interval_seconds", "gauge", NULL, C_LOG2,
	  "Poll interval" },
	{ SC_ASSOC, "reach", "xnts_source_reach", "gauge", NULL, C_RAW,
	  "Reachability register (8 bits, newest poll lowest)" },
	{ SC_ASSOC, "stratum", "xnts_source_stratum", "gauge", NULL, C_RAW,
	  "Stratum of the last sample" },
	{ SC_ASSOC, "sent", "xnts_source_requests_sent_total", "counter", NULL, C_RAW,
	  "Requests sent" },
	{ SC_ASSOC, "received", "xnts_source_responses_total", "counter", "result=\"valid\"",
	  C_RAW, "Responses received by result" },
	{ SC_ASSOC, "invalid", "xnts_source_responses_total", "counter", "result=\"invalid\"",
	  C_RAW, "Responses received by result" },
	{ SC_ASSOC, "naks", "xnts_source_responses_total", "counter", "result=\"nak\"", C_RAW,
	  "Responses received by result" },
	{ SC_ASSOC, "kisses", "xnts_source_responses_total", "counter", "result=\"kiss\"",
	  C_RAW, "Responses received by result" },
	{ SC_ASSOC, "lost", "xnts_source_lost_requests_total", "counter", NULL, C_RAW,
	  "Requests that got no response" },
};

struct labels {
	char text[768];		/* k="v",... with values escaped */
};

static void label_add(struct labels *l, const char *k, const char *v)
{
	size_t n = strlen(l->text);

	if (n + 1 >= sizeof(l->text))
		return;
	n += (size_t)snprintf(l->text + n, sizeof(l->text) - n, "%s%s=\"", n ? "," : "", k);
	for (; v && *v && n + 4 < sizeof(l->text); v++) {
		if (*v == '\\' || *v == '"') {
			l->text[n++] = '\\';
			l->text[n++] = *v;
		} else if (*v == '\n') {
			l->text[n++] = '\\';
			l->text[n++] = 'n';
		} else {
			l->text[n++] = *v;
		}
	}
	if (n + 2 <= sizeof(l->text)) {
		l->text[n++] = '"';
		l->text[n] = '\0';
	}
}

/* A dotted path; a numeric component indexes an array. */
static const struct json *lookup(const struct json *j, const char *path, int *star)
{
	char part[64];

	*star = 0;
	while (j && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(part))
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		path += n + (path[n] == '.');
		if (!strcmp(part, "*")) {
			*star = 1;	/* the caller iterates j's members */
			return j->type == JSON_OBJECT ? j : NULL;
		}
		if (j->type == JSON_ARRAY && part[0] >= '0' && part[0] <= '9') {
			long i = strtol(part, NULL, 10);

			for (j = j->child; j && i > 0; i--)
				j = j->next;
		} else {
			j = json_get(j, part);
		}
	}
	return j;
}

struct family {
	const char *name;	/* whose HELP/TYPE was written */
};

static void sample(struct sbuf *out, struct family *f, const struct metric *m,
		   const struct labels *base, const char *extra_k, const char *extra_v,
		   const struct json *v)
{
	struct labels l = *base;
	char num[64];

	switch (v->type) {
	case JSON_TRUE:
	case JSON_FALSE:
		snprintf(num, sizeof(num), "%d", v->type == JSON_TRUE);
		break;
	case JSON_ARRAY:
		snprintf(num, sizeof(num), "%zu", json_len(v));
		break;
	case JSON_NUMBER:
		if (m->conv == C_MS)
			snprintf(num, sizeof(num), "%.17g", v->num / 1000.0);
		else if (m->conv == C_LOG2 && fabs(v->num) < 1024)
			snprintf(num, sizeof(num), "%.17g", ldexp(1.0, (int)v->num));
		else if (m->conv == C_LOG2)
			return;	/* no poll exponent is that large: not a number to show */
		else
			snprintf(num, sizeof(num), "%s", v->str);
		break;
	case JSON_STRING:
		if (strcmp(m->type, "info"))
			return;
		snprintf(num, sizeof(num), "1");
		label_add(&l, m->label, v->str);
		break;
	default:
		return;
	}
	if (extra_k)
		label_add(&l, extra_k, extra_v);
	else if (m->label && strcmp(m->type, "info") && strlen(l.text) + strlen(m->label) + 2 <
		 sizeof(l.text))
		snprintf(l.text + strlen(l.text), sizeof(l.text) - strlen(l.text), "%s%s",
			 l.text[0] ? "," : "", m->label);
	if (!f->name || strcmp(f->name, m->name)) {
		f->name = m->name;
		sbuf_printf(out, "# HELP %s %s.\n# TYPE %s %s\n", m->name, m->help, m->name,
			    strcmp(m->type, "info") ? m->type : "gauge");
	}
	sbuf_printf(out, "%s%s%s%s %s\n", m->name, l.text[0] ? "{" : "", l.text,
		    l.text[0] ? "}" : "", num);
}

static void emit(struct sbuf *out, struct family *f, const struct metric *m,
		 const struct json *scope, const struct labels *base)
{
	int star;
	const struct json *v = lookup(scope, m->path, &star);

	if (!v)
		return;
	if (!star) {
		sample(out, f, m, base, NULL, NULL, v);
		return;
	}
	for (const struct json *e = v->child; e; e = e->next)
		sample(out, f, m, base, m->label, e->key, e);
}

static void emit_each(struct sbuf *out, struct family *f, const struct metric *m,
		      const struct json *arr, const char *label, const char *key,
		      const struct labels *outer)
{
	if (!arr || arr->type != JSON_ARRAY)
		return;
	for (const struct json *e = arr->child; e; e = e->next) {
		struct labels l = *outer;

		label_add(&l, label, json_str(e, key, ""));
		emit(out, f, m, e, &l);
	}
}

void status_prom(const struct json *doc, struct sbuf *out)
{
	struct family f = { 0 };
	const struct labels none = { "" };

	for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
		const struct metric *m = &metrics[i];
		const struct json *xdp = json_get(doc, "xdp");

		switch (m->scope) {
		case SC_DAEMON:
			emit(out, &f, m, doc, &none);
			break;
		case SC_SYNC:
			emit(out, &f, m, json_get(doc, "sync"), &none);
			break;
		case SC_KEYSET:
			/* A client has no keyset: next_rotation -1 says so. */
			if (json_num(json_get(doc, "keyset"), "next_rotation", -1) >= 0)
				emit(out, &f, m, json_get(doc, "keyset"), &none);
			break;
		case SC_KE:
			emit_each(out, &f, m, json_get(doc, "nts_ke_servers"), "listen_address",
				  "listen", &none);
			break;
		case SC_SERVER:
			emit_each(out, &f, m, json_get(doc, "ntp_servers"), "listen_address",
				  "listen", &none);
			break;
		case SC_XDP:
			if (strcmp(json_str(xdp, "mode", "off"), "off"))
				emit(out, &f, m, xdp, &none);
			break;
		case SC_XDP_IF:
			emit_each(out, &f, m, json_get(xdp, "interfaces"), "interface", "name",
				  &none);
			break;
		case SC_AFXDP:
			if (json_get(doc, "af_xdp"))
				emit(out, &f, m, json_get(doc, "af_xdp"), &none);
			break;
		case SC_AFXDP_SRV: {
			const struct json *srv = json_get(json_get(doc, "af_xdp"), "server");

			if (srv && srv->type == JSON_OBJECT)
				emit(out, &f, m, srv, &none);
			break;
		}
		case SC_SOURCE:
			emit_each(out, &f, m, json_get(doc, "sources"), "name", "address", &none);
			break;
		case SC_ASSOC: {
			const struct json *srcs = json_get(doc, "sources");

			for (const struct json *s = srcs ? srcs->child : NULL; s; s = s->next) {
				struct labels l = none;

				label_add(&l, "name", json_str(s, "address", ""));
				emit_each(out, &f, m, json_get(s, "associations"), "address",
					  "address", &l);
			}
			break;
		}
		}
	}
}
