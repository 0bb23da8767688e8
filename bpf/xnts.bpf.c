// SPDX-License-Identifier: GPL-2.0
/* The plain XDP responder: bpf/xnts_xdp.h with no variant defines. */
#include "xnts_xdp.h"
