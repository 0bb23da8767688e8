/* SPDX-License-Identifier: GPL-2.0 */
/*
 * phc_read (system layer): one reading of a PTP hardware clock through its
 * character device's ioctls; the mapping built from readings is the core's
 * (phc.h).
 *
 * Contract:
 * - phc_read() takes one reading through the best method the device
 *   supports: PTP_SYS_OFFSET_PRECISE (a cross timestamp from the hardware),
 *   else PTP_SYS_OFFSET_EXTENDED (system time read just before and after the
 *   PHC, per sample), else PTP_SYS_OFFSET (alternating system and PHC
 *   reads). *method is where it starts; a method the device refuses
 *   (EOPNOTSUPP, ENOTTY, EINVAL) is left for the next one and *method is
 *   updated, so the next call does not retry it. Of n samples (1 to
 *   PHC_MAX_SAMPLES) the one with the narrowest read window is used. Only
 *   reads: nothing here changes either clock. Returns 0 or a negative errno.
 */
#ifndef XNTS_PHC_READ_H
#define XNTS_PHC_READ_H

#include "phc.h"

int phc_read(int fd, enum phc_method *method, unsigned int n, struct phc_reading *out);

#endif
