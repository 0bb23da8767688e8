// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_feed: what the daemon feeds the loaded program. The time state
 * (published on every heartbeat), the config map and the allow/deny tries
 * (from the [[server]] tables, once), and the NTS master keys (after every
 * keyset change). xdp_ctl.h has the contract.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <openssl/crypto.h>

#include "keyset.h"
#include "log.h"
#include "phc_source.h"
#include "xdp_ctl.h"
#include "xdp_ctl_int.h"
#include "xnts_siv.h"

#define LPM_CLEAR_MAX (XNTS_LPM_ENTRIES_DEFAULT * 2)

/* ---- time state ---- */


/* The phc source's PHC-to-system mapping, in the program's integer form. */
static void publish_phc(struct xnts_time_state *s)
{
	struct phc_map m;
	int idx;

	s->phc_index = -1;
	if (phc_map_snapshot(&m, &idx) || idx < 0)
		return;
	s->phc_index = idx;
	s->phc_ref_sys_ns = m.ref_sys_ns;
	s->phc_ref_off_ns = m.ref_off_ns;
	s->phc_slope_q32 = m.slope_q32;
}

void xdp_publish(struct xdp_ctl *x)
{
	struct xnts_time_state s;
	struct ntp_serve_state t;
	struct timex tx;
	int kstate, synced;

	if (!x->ts_map)
		return;
	timestate_read(x->ts, &t);
	synced = t.stratum < 16 && t.leap != NTP_LEAP_UNSYNC;
	/* modes = 0: adjtimex only reads (the TAI offset and pending leap). */
	memset(&tx, 0, sizeof(tx));
	kstate = adjtimex(&tx);
	if (kstate >= 0)
		x->tai_offset = tx.tai;
	memset(&s, 0, sizeof(s));
	s.leap = synced ? t.leap : NTP_LEAP_UNSYNC;
	if (synced && t.leap == NTP_LEAP_NONE) {
		if (kstate == TIME_INS)
			s.leap = NTP_LEAP_INSERT;
		else if (kstate == TIME_DEL)
			s.leap = NTP_LEAP_DELETE;
	}
	s.stratum = t.stratum;
	s.precision = t.precision;
	s.stale_action = x->xcfg->stale_action == CONFIG_XDP_STALE_PASS ? XNTS_STALE_PASS :
									  XNTS_STALE_UNSYNC;
	s.root_delay = t.root_delay;
	s.root_dispersion = t.root_dispersion;
	memcpy(&s.refid, t.refid, 4);
	s.tai_offset = x->tai_offset;
	s.reference_time = t.reference_time;
	s.heartbeat_timeout_ns = x->xcfg->heartbeat_timeout_ms * 1000000ULL;
	publish_phc(&s);
	s.heartbeat_ns = mono_ns();
	xnts_time_state_publish(x->ts_map, &s);
	x->last_publish_ns = s.heartbeat_ns;
	x->heartbeats++;
}

void xdp_heartbeat_done(struct loop_op *op, int res, unsigned int flags)
{
	struct xdp_ctl *x = (struct xdp_ctl *)((char *)op - offsetof(struct xdp_ctl, hb_op));

	(void)flags;
	if (res != -ETIME)
		return;
	xdp_publish(x);
	loop_timeout_ms(x->loop, &x->hb_op, x->hb_interval_ms);
}

/* ---- config map ---- */

static int filter_equal(const struct config_filter *a, const struct config_filter *b)
{
	return a->set == b->set && (!a->set || (a->action == b->action &&
						 a->n_subnets == b->n_subnets &&
						 !memcmp(a->subnets, b->subnets,
							 a->n_subnets * sizeof(*a->subnets))));
}

/* XDP has one policy for all its ports: servers must agree on it to share. */
static int policy_equal(const struct config_server *a, const struct config_server *b)
{
	return a->accept_ntp_versions == b->accept_ntp_versions &&
	       a->rate_limiting_cutoff_ms == b->rate_limiting_cutoff_ms &&
	       a->rate_limiting_burst == b->rate_limiting_burst &&
	       a->rate_limiting_ipv6_prefix == b->rate_limiting_ipv6_prefix &&
	       !a->rate_limiting_cache_size == !b->rate_limiting_cache_size &&
	       filter_equal(&a->allowlist, &b->allowlist) &&
	       filter_equal(&a->denylist, &b->denylist);
}

/* Empty a trie; a reused map still holds the previous run's entries. */
static int lpm_clear(int fd)
{
	uint8_t key[sizeof(struct xnts_lpm6_key)];
	int i;

	for (i = 0; i < LPM_CLEAR_MAX; i++) {
		if (bpf_map_get_next_key(fd, NULL, key))
			return errno == ENOENT ? 0 : -1;
		if (bpf_map_delete_elem(fd, key))
			return -1;
	}
	return -1;
}

static int lpm_fill(struct bpf_map *m4, struct bpf_map *m6, const struct config_filter *f)
{
	int fd4 = bpf_map__fd(m4), fd6 = bpf_map__fd(m6);
	__u8 one = 1;
	size_t i;

	if (lpm_clear(fd4) || lpm_clear(fd6))
		return -1;
	for (i = 0; f->set && i < f->n_subnets; i++) {
		const struct config_subnet *s = &f->subnets[i];

		if (s->family == AF_INET) {
			struct xnts_lpm4_key k = { .prefixlen = s->prefix };

			memcpy(k.addr, s->addr, 4);
			if (bpf_map_update_elem(fd4, &k, &one, BPF_ANY))
				return -1;
		} else {
			struct xnts_lpm6_key k = { .prefixlen = s->prefix };

			memcpy(k.addr, s->addr, 16);
			if (bpf_map_update_elem(fd6, &k, &one, BPF_ANY))
				return -1;
		}
	}
	return 0;
}

static __u8 action(enum config_filter_action a)
{
	return a == CONFIG_ACTION_DENY ? XNTS_ACT_DENY : XNTS_ACT_IGNORE;
}

void xdp_configure(struct xdp_ctl *x, const struct xnts_config *cfg)
{
	const struct config_server *ref = NULL;
	struct xnts_xdp_config bc;
	size_t i, k, left = 0;
	int fd = bpf_map__fd(x->maps.config);
	__u32 zero = 0;

	memset(&bc, 0, sizeof(bc));
	free(x->listens);
	x->listens = calloc(cfg->n_servers + 1, sizeof(*x->listens));
	x->n_listens = 0;
	for (i = 0; i < cfg->n_servers; i++) {
		const struct config_server *s = &cfg->servers[i];
		uint16_t port = s->listen.port;

		/* Plain NTP must never be answered for a server that requires NTS. */
		if (s->require_nts || (ref && !policy_equal(ref, s)) ||
		    x->n_ports == XNTS_MAX_PORTS) {
			left++;
			continue;
		}
		/* Every address XDP answers for, even on a port it has already. */
		if (x->listens)
			x->listens[x->n_listens++] = s->listen;
		for (k = 0; k < x->n_ports && x->ports[k] != port; k++)
			;
		if (k < x->n_ports)
			continue;
		ref = s;
		x->ports[x->n_ports++] = port;
	}
	if (left)
		fmt(x->cfg_note, sizeof(x->cfg_note), "%zu [[server]] table(s) left to "
		    "userspace (require-nts, a different policy, or more than %d ports)",
		    left, XNTS_MAX_PORTS);
	if (ref) {
		if (lpm_fill(x->maps.allow4, x->maps.allow6, &ref->allowlist) ||
		    lpm_fill(x->maps.deny4, x->maps.deny6, &ref->denylist)) {
			/* A partial list would answer clients the policy refuses. */
			fmt(x->cfg_note, sizeof(x->cfg_note), "allow/deny lists do not fit "
			    "the XDP maps (%s); XDP serves no port", strerror(errno));
			x->n_ports = 0;
		}
		bc.versions = (__u8)(ref->accept_ntp_versions & 0xff);
		bc.flags = ref->allowlist.set ? XNTS_CFG_ALLOWLIST : 0;
		/* Only what is addressed to this host (xdp_local.c fills the map). */
		bc.flags |= XNTS_CFG_LOCAL_ONLY;
		bc.allow_action = action(ref->allowlist.action);
		bc.deny_action = action(ref->denylist.action);
		if (ref->rate_limiting_cache_size && ref->rate_limiting_cutoff_ms) {
			bc.rate_burst = ref->rate_limiting_burst;
			bc.rate_interval_ns = ref->rate_limiting_cutoff_ms * 1000000ULL;
			bc.rate_v6_prefix = (__u8)ref->rate_limiting_ipv6_prefix;
		}
	}
	for (i = 0; i < x->n_ports; i++)
		bc.ports[i] = htons(x->ports[i]);
	if (bpf_map_update_elem(fd, &zero, &bc, BPF_ANY)) {
		fmt(x->cfg_note, sizeof(x->cfg_note), "cannot write xnts_config: %s",
		    strerror(errno));
		x->n_ports = 0;
	}
	if (x->cfg_note[0])
		log_warn("xdp: %s", x->cfg_note);
}

/* ---- NTS master keys ---- */

/*
 * Master keys for the NTS variant, in an order that never NAKs a valid
 * request: every key of the set in, then the current one named, then keys
 * that left the set out. On failure the current key is marked invalid, so
 * the program passes NTS to userspace instead of answering wrongly.
 *
 * A key already in the map is never written again: a hash map update
 * replaces the element and recycles the old one at once, and the next
 * insert could fill it with another key while a program on another CPU
 * still reads it. Key ids name fixed key material, so a present id is
 * skipped; one whose material differs (never expected) is deleted and
 * inserted anew. Deleted elements are recycled only by the next rotation's
 * inserts, long after any packet that read them.
 */
int xdp_ctl_sync_keys(struct xdp_ctl *x, const struct keyset *ks)
{
	struct keyset_export ex[KEYSET_MAX_KEYS];
	struct xnts_nts_current cur = { 0 };
	uint32_t k, next, zero = 0;
	unsigned int n, i, guard;
	int keys_fd, cur_fd, more;

	if (!x || !x->nts || x->error[0] || !ks)
		return 0;
	if (x->keys_gen == keyset_generation(ks) + 1)
		return 0;
	keys_fd = bpf_map__fd(x->maps.nts_keys);
	cur_fd = bpf_map__fd(x->maps.nts_current);
	n = keyset_export(ks, ex, KEYSET_MAX_KEYS);
	if (keys_fd < 0 || cur_fd < 0 || !n) {
		fmt(x->keys_error, sizeof(x->keys_error), "no key map or no keys");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		struct xnts_siv_key v = { .aead = XNTS_SIV_AEAD_CMAC_256 }, old;
		int same;

		memcpy(v.key, ex[i].key, sizeof(ex[i].key));
		k = htonl(ex[i].id);
		if (!bpf_map_lookup_elem(keys_fd, &k, &old)) {
			same = !memcmp(&old, &v, sizeof(v));
			OPENSSL_cleanse(&old, sizeof(old));
			if (same)
				continue;
			log_warn("xdp: NTS key %08x changed its material; replacing it", ex[i].id);
			bpf_map_delete_elem(keys_fd, &k);
		}
		if (bpf_map_update_elem(keys_fd, &k, &v, BPF_NOEXIST)) {
			fmt(x->keys_error, sizeof(x->keys_error), "key map update: %s",
			    strerror(errno));
			OPENSSL_cleanse(&v, sizeof(v));
			goto fail;
		}
		OPENSSL_cleanse(&v, sizeof(v));
	}
	cur.key_id = htonl(ex[0].id);
	cur.valid = 1;
	if (bpf_map_update_elem(cur_fd, &zero, &cur, BPF_ANY)) {
		fmt(x->keys_error, sizeof(x->keys_error), "current key: %s", strerror(errno));
		goto fail;
	}
	more = !bpf_map_get_next_key(keys_fd, NULL, &k);
	for (guard = 0; more && guard < XNTS_NTS_KEYS_MAX * 2; guard++) {
		int keep = 0;

		more = !bpf_map_get_next_key(keys_fd, &k, &next);
		for (i = 0; i < n; i++)
			keep |= htonl(ex[i].id) == k;
		if (!keep)
			bpf_map_delete_elem(keys_fd, &k);
		k = next;
	}
	OPENSSL_cleanse(ex, sizeof(ex));
	x->keys_gen = keyset_generation(ks) + 1;
	x->keys_error[0] = '\0';
	return 0;
fail:
	OPENSSL_cleanse(ex, sizeof(ex));
	if (cur_fd >= 0)
		bpf_map_update_elem(cur_fd, &zero, &(struct xnts_nts_current){ 0 }, BPF_ANY);
	log_error("xdp: NTS keys: %s; NTS requests go to userspace", x->keys_error);
	x->keys_gen = 0;
	return -1;
}
