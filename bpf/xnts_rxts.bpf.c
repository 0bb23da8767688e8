// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP responder with NIC receive timestamps: bpf/xnts_xdp.h asking
 * bpf_xdp_metadata_rx_timestamp() first. The kfunc only exists for a
 * device-bound program, so the loader must call bpf_program__set_ifindex()
 * and set BPF_F_XDP_DEV_BOUND_ONLY before loading; such a program cannot be
 * run through BPF_PROG_TEST_RUN.
 */
#define XNTS_RX_METADATA 1
#include "xnts_xdp.h"
