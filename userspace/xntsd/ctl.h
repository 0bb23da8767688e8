/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctl: the control socket at [observability] observation-path.
 *
 * A client connects, sends one request line (e.g. "status"), and reads the
 * answer until the daemon closes the connection. The answer is produced by
 * the render callback. Requests are bounded to CTL_MAX_REQUEST bytes, open
 * connections to CTL_MAX_CONNS (more are closed at once), and a connection
 * is closed CTL_TIMEOUT_MS after it was accepted, whatever its state.
 *
 * ctl_new_tcp() serves another one-request-one-answer protocol the same way
 * on a TCP socket (the metrics exporter's HTTP/1.x), with its own request
 * terminator and bounds.
 */
#ifndef XNTS_CTL_H
#define XNTS_CTL_H

#include <sys/socket.h>
#include <sys/types.h>

#include "loop.h"
#include "sbuf.h"

#define CTL_MAX_REQUEST 256
#define CTL_MAX_CONNS 64
#define CTL_TIMEOUT_MS 5000

struct ctl;
/* request: what the client sent, cut at the protocol's terminator (if it came). */
typedef void (*ctl_render_fn)(void *arg, const char *request, struct sbuf *out);

struct ctl_proto {
	const char *end;		/* a request is complete at this string */
	size_t max_request;		/* bytes; rendered as it is when reached */
	unsigned int max_conns;		/* open at once; beyond: closed unanswered */
	unsigned int timeout_ms;	/* from accept to close */
};

struct ctl *ctl_new(struct loop *l, const char *path, mode_t mode,
		    ctl_render_fn render, void *arg, char *err, size_t errlen);
/* err gets only the reason (strerror); the caller names the address. */
struct ctl *ctl_new_tcp(struct loop *l, const struct sockaddr *sa, socklen_t salen,
			const struct ctl_proto *proto, ctl_render_fn render, void *arg,
			char *err, size_t errlen);
/* Connections closed unanswered because max_conns were open. */
unsigned long long ctl_refused(const struct ctl *ctl);
void ctl_free(struct ctl *c);

#endif
