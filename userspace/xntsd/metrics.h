/* SPDX-License-Identifier: GPL-2.0 */
/*
 * metrics: the Prometheus endpoint at [observability] metrics-exporter-listen.
 *
 * A minimal HTTP/1.x responder on the daemon's io_uring loop (through ctl's
 * one-request-one-answer server): GET or HEAD /metrics answers the status
 * document rendered by status_prom, exactly what `xntsctl status -f
 * prometheus` prints; anything else gets 400, 404, 405 or 431 and the
 * connection is closed after every answer. A request head is bounded to
 * METRICS_MAX_REQUEST bytes, open connections to METRICS_MAX_CONNS (more are
 * closed at once) and each connection to METRICS_TIMEOUT_MS.
 *
 * The exporter's own messages (listening, refused requests) go to
 * [observability] log-path-metrics-exporter when it is set, else to the
 * daemon's log.
 */
#ifndef XNTS_METRICS_H
#define XNTS_METRICS_H

#include "config.h"
#include "ctl.h"
#include "loop.h"

#define METRICS_MAX_REQUEST 8192
#define METRICS_MAX_CONNS 16
#define METRICS_TIMEOUT_MS 5000

struct metrics;

/* status renders the JSON status document into out (the control socket's "status"). */
struct metrics *metrics_new(struct loop *l, const struct config_observability *o,
			    ctl_render_fn status, void *arg, char *err, size_t errlen);
void metrics_free(struct metrics *m);

#endif
