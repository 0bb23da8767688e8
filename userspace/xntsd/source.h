/* SPDX-License-Identifier: GPL-2.0 */
/*
 * source: one configured time source ([[source]]) and its associations.
 *
 * A server source has one association (the first address its name resolves
 * to), a pool source up to `count`, an nts source one: the NTP server that
 * its NTS-KE named. Each association polls at 2^poll seconds within the
 * source's poll-interval-limits, over a connected UDP socket on the loop,
 * and turns each valid response into a sample (offset, delay, dispersion,
 * RFC 5905 section 8) from the kernel's receive timestamp.
 *
 * NTS (RFC 8915): the source keeps the session keys and a cookie jar. Each
 * request spends one cookie and asks, with placeholders, for enough new ones
 * to refill the jar; a response counts only if its Unique Identifier,
 * authenticator and origin timestamp check out. An empty jar starts a new key
 * exchange; so does a NAK, which is not authenticated and may be forged, but
 * only when no authenticated response arrived by the next poll (RFC 8915
 * section 5.7). Failures back off (ke_client.h).
 *
 * A phc source (xnts extension) has one association without a socket; its
 * samples come from reading a PTP hardware clock (phc_source.h).
 */
#ifndef XNTS_SOURCE_H
#define XNTS_SOURCE_H

#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "ke_client.h"
#include "loop.h"
#include "nts_ntp.h"
#include "resolve.h"
#include "sbuf.h"

#define SOURCE_JAR_MAX 8
#define SOURCE_MAX_ASSOC 16

struct source;
struct phc_source;

struct sample {
	double offset;		/* seconds, positive: our clock is behind */
	double delay;
	double dispersion;
	uint8_t stratum;
	uint8_t leap;
	uint8_t refid[4];
	double root_delay, root_dispersion;
	int64_t when_ns;	/* CLOCK_REALTIME of the receive */
	int64_t mono_ns;	/* CLOCK_MONOTONIC of the receive */
};

struct assoc {
	struct source *src;
	int fd;
	int pending;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char name[80];
	struct loop_op send_op;
	struct loop_op recv_op;
	struct msghdr msg;
	struct iovec iov;
	uint8_t ctrl[256];
	uint8_t rbuf[2048];
	uint8_t sbuf[1200];
	/* the request in flight */
	int waiting;
	uint64_t t1;			/* our transmit, NTP 32.32 */
	uint8_t uid[NTS_NTP_UID_LEN];
	int poll;
	unsigned int good_in_row;
	uint8_t reach;
	uint64_t sent, received, invalid, naks, kisses, lost;
	char last_error[128];
	int have_sample;
	struct sample last;
};

struct source {
	const struct config_source *cfg;
	struct loop *loop;
	int stopping;
	char name[300];
	struct loop_op poll_op;
	int poll_armed;
	struct resolve_req res;
	int resolving;
	int resolved;
	unsigned int n_assoc;
	struct assoc assoc[SOURCE_MAX_ASSOC];
	/* NTS */
	struct ke_client *ke;
	int have_session;
	/*
	 * An NTS NAK arrived and no authenticated response since: it may be
	 * forged, so the cookies are kept until the next poll (RFC 8915 5.7).
	 */
	int nak_pending;
	struct nts_keys keys;
	/* AEAD 30 without record 1024: RFC 8915 keys to try after a NAK. */
	int have_alt_keys;
	struct nts_keys alt_keys;
	struct aead *aead;
	char ntp_server[NTS_KE_MAX_SERVER_LEN + 1];
	uint16_t ntp_port;
	unsigned int jar_n;
	uint16_t jar_len[SOURCE_JAR_MAX];
	uint8_t jar[SOURCE_JAR_MAX][NTS_NTP_MAX_COOKIE_LEN];
	uint64_t ke_ok, ke_failed;
	struct phc_source *phc;	/* mode phc: the device (phc_source.h) */
	unsigned int sync_base;	/* first discipline index of its associations */
	/* Called for each new sample (may be NULL). */
	void (*on_sample)(struct source *s, struct assoc *a, void *arg);
	void *arg;
};

int source_init(struct source *s, struct loop *l, const struct config_source *cfg,
		char *err, size_t errlen);
void source_start(struct source *s);
void source_fini(struct source *s);
void source_status_json(const struct source *s, struct sbuf *out);
const char *source_mode_name(enum config_source_mode m);

#endif
