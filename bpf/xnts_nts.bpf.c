// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP responder with NTS: identical to xnts.bpf.c for plain NTP, and
 * answers NTS requests in the driver through the AES-SIV kfuncs of
 * kmod/xnts_siv.ko (bpf/xnts_nts.h). It loads only while that module is
 * loaded; the daemon falls back to xnts.bpf.c otherwise.
 */
#define XNTS_NTS
#include "xnts.bpf.c"
