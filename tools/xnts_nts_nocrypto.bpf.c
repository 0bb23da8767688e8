// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark only: the NTS XDP variant with its AES-SIV calls replaced by
 * calls that do nothing (kmod/xnts_siv.h, XNTS_NTS_NO_CRYPTO), so that
 * tools/xdp_nts_bench -N can time everything but the crypto on a kernel
 * without the module. Its answers are not authenticated: never load it to
 * serve.
 */
#define XNTS_NTS 1
#define XNTS_NTS_NO_CRYPTO 1
#include "xnts_xdp.h"
