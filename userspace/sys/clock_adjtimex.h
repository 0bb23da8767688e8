/* SPDX-License-Identifier: GPL-2.0 */
/*
 * clock_adjtimex (system layer): clock_ops on the kernel's CLOCK_REALTIME through
 * clock_adjtime(2). Unless writable is set (it is not in a zeroed context),
 * every operation that would change the clock returns -EPERM without a
 * system call; only now() and get_frequency() (modes == 0) work. The daemon
 * sets writable; tests on a development machine never do.
 */
#ifndef XNTS_CLOCK_ADJTIMEX_H
#define XNTS_CLOCK_ADJTIMEX_H

#include <stdbool.h>

#include "clock.h"

struct clock_adjtimex {
	bool writable;
};

extern const struct clock_ops clock_adjtimex_ops;

#endif
