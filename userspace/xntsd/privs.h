/* SPDX-License-Identifier: GPL-2.0 */
/*
 * privs: least privilege once start-up is done (issue 13 item 2; design
 * "Privilege model").
 *
 * privs_drop() is called once, after every socket is bound, BPF is loaded and
 * attached and the files that only root may open are open. It then, for the
 * whole process:
 *  - switches to [daemon] user ("xnts" by default) and that user's groups,
 *    unless the daemon was started without root (then it keeps its user);
 *  - keeps only the capabilities the configuration needs (privs_needed())
 *    and drops every other one from the bounding set;
 *  - sets NoNewPrivs and installs a seccomp allowlist on every thread. A
 *    call outside the list fails with ENOSYS and is logged once per call
 *    number (SIGSYS handler); it never kills the daemon;
 *  - checks that what must stay usable is: certificates and private keys
 *    readable (reload), the key storage directory writable (rotation).
 * io_uring opcode restrictions are per ring and live in loop.c.
 * Returns 0, or -1 with a message in err naming what is wrong.
 */
#ifndef XNTS_PRIVS_H
#define XNTS_PRIVS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define PRIVS_DEFAULT_USER "xnts"

/* Bit mask (1 << CAP_x) of the capabilities this configuration needs. */
uint64_t privs_needed(const struct xnts_config *cfg, int no_clock);
struct xdp_ctl;
/* xdp (may be NULL) gets its pins handed over to the user first. */
int privs_drop(const struct xnts_config *cfg, int no_clock, struct xdp_ctl *xdp, char *err,
	       size_t errlen);

#endif
