// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP responder with NTS: bpf/xnts_xdp.h answering NTS requests in the
 * driver through the AES-SIV kfuncs of kmod/xnts_siv.ko (bpf/xnts_nts.h). It
 * loads only while that module is loaded; the daemon falls back to
 * xnts.bpf.c otherwise.
 */
#define XNTS_NTS 1
#include "xnts_xdp.h"
