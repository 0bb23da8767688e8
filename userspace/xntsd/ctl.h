/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctl: the control socket at [observability] observation-path.
 *
 * A client connects, sends one request line (e.g. "status json"), and reads
 * the answer until the daemon closes the connection. The answer is produced
 * by the render callback. Requests are bounded to CTL_MAX_REQUEST bytes and
 * a connection that sends nothing is closed after CTL_TIMEOUT_MS.
 */
#ifndef XNTS_CTL_H
#define XNTS_CTL_H

#include <sys/types.h>

#include "loop.h"
#include "sbuf.h"

#define CTL_MAX_REQUEST 256
#define CTL_TIMEOUT_MS 2000

struct ctl;
typedef void (*ctl_render_fn)(void *arg, const char *request, struct sbuf *out);

struct ctl *ctl_new(struct loop *l, const char *path, mode_t mode,
		    ctl_render_fn render, void *arg, char *err, size_t errlen);
void ctl_free(struct ctl *c);

#endif
