/* SPDX-License-Identifier: GPL-2.0 */
/*
 * testutil: small helpers shared by the selftest programs.
 * hex_decode() fills out from a hex string (spaces ignored) and returns the
 * byte count, or -1 on bad input or if it would exceed cap.
 */
#ifndef XNTS_TESTUTIL_H
#define XNTS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

long hex_decode(const char *hex, uint8_t *out, size_t cap);

#endif
