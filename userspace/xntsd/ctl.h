/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctl: the control socket at [observability] observation-path.
 *
 * A client connects, sends one request line (e.g. "status json"), and reads
 * the answer until the daemon closes the connection. The answer is produced
 * by the render callback. Requests are bounded to CTL_MAX_REQUEST bytes, a
 * connection lives at most CTL_TIMEOUT_MS (request and answer), and at most
 * CTL_MAX_CONNS are open at once: a further one is closed at once and
 * counted. The socket is created with mode `mode` through the umask in
 * force during bind(), never by chmod on the path, so there is no moment
 * when it has other permissions and nothing follows a replaced path. Its
 * directory must exist; the daemon does not create it.
 */
#ifndef XNTS_CTL_H
#define XNTS_CTL_H

#include <sys/types.h>

#include "loop.h"
#include "sbuf.h"

#define CTL_MAX_REQUEST 256
#define CTL_TIMEOUT_MS 2000
#define CTL_MAX_CONNS 16

struct ctl;
typedef void (*ctl_render_fn)(void *arg, const char *request, struct sbuf *out);

struct ctl *ctl_new(struct loop *l, const char *path, mode_t mode,
		    ctl_render_fn render, void *arg, char *err, size_t errlen);
void ctl_free(struct ctl *c);
/* Connections refused because CTL_MAX_CONNS were open. */
unsigned long long ctl_refused(const struct ctl *c);

#endif
