/* SPDX-License-Identifier: GPL-2.0 */
/*
 * status_prom: the daemon's JSON status document in the Prometheus text
 * exposition format (version 0.0.4), for `xntsctl status -f prometheus` and
 * the daemon's [observability] metrics-exporter-listen endpoint alike.
 *
 * It does no I/O and reads only the document. Every metric is one line of a
 * table in status_prom.c naming a JSON member (a dotted path inside a scope
 * such as "each NTP server"), so a new numeric field needs one table line.
 * A path ending in "*" exports every member of an object under one metric
 * with the member's name as a label: the XDP counters and the NTS-KE failure
 * reasons appear by themselves when the daemon gains one. Members that are
 * absent, strings or null give no sample; booleans give 0 or 1; arrays give
 * their length. Names follow ntpd-rs's where it exports the same quantity,
 * and xnts_ otherwise.
 */
#ifndef XNTS_STATUS_PROM_H
#define XNTS_STATUS_PROM_H

#include "json.h"
#include "sbuf.h"

#define STATUS_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

void status_prom(const struct json *doc, struct sbuf *out);

#endif
