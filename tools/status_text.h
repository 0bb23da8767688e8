/* SPDX-License-Identifier: GPL-2.0 */
/*
 * status_text: xntsctl's plain-text view of the daemon's JSON status
 * document (the control socket's "status" and "keys" answers). It reads
 * only the document, never the daemon's state, and shows a member the
 * document lacks as absent rather than failing, so an older or newer
 * daemon still gets a readable report.
 */
#ifndef XNTS_STATUS_TEXT_H
#define XNTS_STATUS_TEXT_H

#include "json.h"
#include "sbuf.h"

void status_text(const struct json *doc, struct sbuf *out);
/* The keyset alone, from either document. */
void status_text_keys(const struct json *doc, struct sbuf *out);

#endif
