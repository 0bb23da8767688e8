// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "metrics.h"
#include "netaddr.h"
#include "status_prom.h"

struct metrics {
	struct ctl *ctl;
	ctl_render_fn status;
	void *arg;
	FILE *logf;		/* log-path-metrics-exporter, or NULL: the daemon's log */
	char name[64];
	unsigned long long refused_seen;
};

static void mlog(struct metrics *m, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void mlog(struct metrics *m, enum log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (level < log_threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (m->logf)
		log_msg_file(m->logf, level, "metrics: %s", line);
	else
		log_msg(level, "metrics: %s", line);
}

static void answer(struct sbuf *out, const char *status, const char *extra,
		   const char *type, const struct sbuf *body, int head)
{
	size_t len = body && body->buf ? body->len : 0;

	sbuf_printf(out, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n%s\r\n", status, type, len, extra ? extra : "");
	if (len && !head)
		sbuf_printf(out, "%.*s", (int)len, body->buf);
}

static void error(struct metrics *m, struct sbuf *out, const char *status,
		  const char *extra, const char *why)
{
	struct sbuf body;

	mlog(m, LOGL_DEBUG, "%s: %s", status, why);
	sbuf_init(&body, 1024);
	sbuf_printf(&body, "%s\n", status);
	answer(out, status, extra, "text/plain; charset=utf-8", &body, 0);
	sbuf_free(&body);
}

/* The whole body first: its length goes in the header. */
static int render_metrics(struct metrics *m, struct sbuf *body)
{
	struct sbuf doc;
	struct json *j;
	char err[128];

	sbuf_init(&doc, 16 << 20);
	m->status(m->arg, "status", &doc);
	j = doc.buf && !sbuf_failed(&doc) ? json_parse(doc.buf, doc.len, err, sizeof(err)) : NULL;
	if (!j)
		mlog(m, LOGL_ERROR, "status document: %s",
		     doc.buf && !sbuf_failed(&doc) ? err : "out of memory");
	sbuf_free(&doc);
	if (!j)
		return -1;
	status_prom(j, body);
	json_free(j);
	return sbuf_failed(body) ? -1 : 0;
}

/* request: the head up to its blank line. Only the request line matters. */
static void http(void *arg, const char *req, struct sbuf *out)
{
	struct metrics *m = arg;
	char method[16], target[256], version[16];
	const char *eol = strstr(req, "\r\n");
	size_t path_len;
	struct sbuf body;
	int head;

	if (ctl_refused(m->ctl) != m->refused_seen) {
		mlog(m, LOGL_WARN, "%llu connections refused: more than %d open",
		     ctl_refused(m->ctl) - m->refused_seen, METRICS_MAX_CONNS);
		m->refused_seen = ctl_refused(m->ctl);
	}
	if (strlen(req) >= METRICS_MAX_REQUEST) {
		error(m, out, "431 Request Header Fields Too Large", NULL, "request head too long");
		return;
	}
	if (!eol || eol - req >= 300 ||
	    sscanf(req, "%15[A-Z] %255[^ \r\n] %15[^ \r\n]", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) || req + strlen(method) + strlen(target) +
	    strlen(version) + 2 != eol) {
		error(m, out, "400 Bad Request", NULL, "malformed request line");
		return;
	}
	head = !strcmp(method, "HEAD");
	if (!head && strcmp(method, "GET")) {
		error(m, out, "405 Method Not Allowed", "Allow: GET, HEAD\r\n", method);
		return;
	}
	path_len = strcspn(target, "?");
	if (path_len != 8 || strncmp(target, "/metrics", 8)) {
		error(m, out, "404 Not Found", NULL, target);
		return;
	}
	sbuf_init(&body, 16 << 20);
	if (render_metrics(m, &body))
		error(m, out, "500 Internal Server Error", NULL, "cannot render");
	else
		answer(out, "200 OK", NULL, STATUS_PROM_CONTENT_TYPE, &body, head);
	sbuf_free(&body);
}

struct metrics *metrics_new(struct loop *l, const struct config_observability *o,
			    ctl_render_fn status, void *arg, char *err, size_t errlen)
{
	static const struct ctl_proto proto = {
		.end = "\r\n\r\n",
		.max_request = METRICS_MAX_REQUEST,
		.max_conns = METRICS_MAX_CONNS,
		.timeout_ms = METRICS_TIMEOUT_MS,
	};
	struct metrics *m = calloc(1, sizeof(*m));
	struct netaddr na;
	char why[128];

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->status = status;
	m->arg = arg;
	netaddr_from_config(&o->metrics_exporter_listen, &na);
	netaddr_format((const struct sockaddr *)&na.ss, m->name, sizeof(m->name));
	if (o->log_path_metrics_exporter) {
		m->logf = fopen(o->log_path_metrics_exporter, "ae");
		if (!m->logf) {
			snprintf(err, errlen, "log-path-metrics-exporter %s: %s",
				 o->log_path_metrics_exporter, strerror(errno));
			free(m);
			return NULL;
		}
		setvbuf(m->logf, NULL, _IOLBF, 0);
	}
	m->ctl = ctl_new_tcp(l, (const struct sockaddr *)&na.ss, na.len, &proto, http, m, why,
			     sizeof(why));
	if (!m->ctl) {
		snprintf(err, errlen, "metrics-exporter-listen %s: %s", m->name, why);
		if (m->logf)
			fclose(m->logf);
		free(m);
		return NULL;
	}
	mlog(m, LOGL_INFO, "serving Prometheus metrics on http://%s/metrics", m->name);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	ctl_free(m->ctl);
	if (m->logf)
		fclose(m->logf);
	free(m);
}
