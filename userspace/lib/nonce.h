/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nonce: random bytes for nonces and unique identifiers, drawn from
 * OpenSSL's RAND_bytes in blocks.
 *
 * OpenSSL 3.0 costs about 1.6 us per RAND_bytes call on this project's
 * machines whatever the size asked for, more than all the AEAD work of an
 * NTS answer, which needs two nonces. So each thread keeps a block of
 * NONCE_POOL bytes from one RAND_bytes call and hands it out front to back;
 * every byte is handed out once and wiped as it goes.
 *
 * Contract:
 * - nonce_fill() returns 0, or -1 if RAND_bytes failed (then buf is zeroed).
 *   len is at most NONCE_POOL.
 * - Thread safe: the pool is per thread. A fork() child never reuses bytes
 *   its parent had drawn: the pool is discarded in the child.
 * - No I/O beyond what RAND_bytes itself does.
 */
#ifndef XNTS_NONCE_H
#define XNTS_NONCE_H

#include <stddef.h>
#include <stdint.h>

#define NONCE_POOL 1024

int nonce_fill(uint8_t *buf, size_t len);

#endif
