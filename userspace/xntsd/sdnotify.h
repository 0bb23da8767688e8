/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sdnotify: the service manager's notification protocol, without libsystemd.
 *
 * One datagram per message to the AF_UNIX socket named by $NOTIFY_SOCKET (a
 * path, or an abstract name written with a leading '@'). Without that
 * variable every call does nothing. sdnotify_open() runs before privileges
 * are dropped and keeps a connected socket, so sending needs neither the
 * path nor any right later. If $WATCHDOG_USEC is set (and $WATCHDOG_PID, if
 * set, is ours), a timer on the main loop sends WATCHDOG=1 at half that
 * period: a stalled main loop stops the pings and the manager acts.
 */
#ifndef XNTS_SDNOTIFY_H
#define XNTS_SDNOTIFY_H

#include "loop.h"

/* 0, or -1 with a message in err (a malformed variable, an unusable socket). */
int sdnotify_open(char *err, size_t errlen);
/* Send one message, e.g. "READY=1\nSTATUS=serving". */
void sdnotify_send(const char *msg);
/* Start the watchdog pings on l, if the manager asked for them. */
void sdnotify_watchdog_start(struct loop *l);
/* Period of the pings in ms, 0 if none. */
unsigned long long sdnotify_watchdog_ms(void);
void sdnotify_close(void);

#endif
