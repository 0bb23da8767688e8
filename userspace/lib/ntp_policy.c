// SPDX-License-Identifier: GPL-2.0
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "ntp_policy.h"

struct rate_slot {
	_Atomic uint64_t tag;	/* hash of the address, 0 = empty */
	_Atomic uint64_t last_ms;
};

struct ntp_policy {
	struct ntp_policy_config cfg;	/* lists point into subnets */
	struct ntp_policy_subnet *subnets;
	uint64_t key[2];
	size_t n_slots;
	struct rate_slot *slots;
};

struct ntp_policy *ntp_policy_new(const struct ntp_policy_config *cfg)
{
	size_t na = cfg->allowlist.set ? cfg->allowlist.n_subnets : 0;
	size_t nd = cfg->denylist.set ? cfg->denylist.n_subnets : 0;
	struct ntp_policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cfg = *cfg;
	if (na + nd) {
		p->subnets = calloc(na + nd, sizeof(*p->subnets));
		if (!p->subnets)
			goto fail;
		if (na)
			memcpy(p->subnets, cfg->allowlist.subnets, na * sizeof(*p->subnets));
		if (nd)
			memcpy(p->subnets + na, cfg->denylist.subnets, nd * sizeof(*p->subnets));
	}
	p->cfg.allowlist.subnets = p->subnets;
	p->cfg.allowlist.n_subnets = na;
	p->cfg.denylist.subnets = p->subnets + na;
	p->cfg.denylist.n_subnets = nd;
	if (RAND_bytes((unsigned char *)p->key, sizeof(p->key)) != 1)
		goto fail;
	if (cfg->rate_limiting_cache_size && cfg->rate_limiting_cutoff_ms) {
		p->n_slots = cfg->rate_limiting_cache_size;
		p->slots = calloc(p->n_slots, sizeof(*p->slots));
		if (!p->slots)
			goto fail;
	}
	return p;
fail:
	ntp_policy_free(p);
	return NULL;
}

void ntp_policy_free(struct ntp_policy *p)
{
	if (!p)
		return;
	free(p->slots);
	free(p->subnets);
	free(p);
}

/* The address as 16 bytes, IPv4 v4-mapped; family reports the original. */
static int addr16(const struct sockaddr *sa, uint8_t out[16], int *v4)
{
	if (sa->sa_family == AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		*v4 = 1;
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		*v4 = IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)out);
		return 0;
	}
	return -1;
}

static int prefix_match(const uint8_t *a, const uint8_t *b, unsigned int bits)
{
	unsigned int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full))
		return 0;
	return !rest || !((a[full] ^ b[full]) & (uint8_t)(0xff00 >> rest));
}

static bool match16(const struct ntp_policy_subnet *s, const uint8_t a[16], int v4)
{
	if (s->family == AF_INET)
		return v4 && s->prefix <= 32 && prefix_match(a + 12, s->addr, s->prefix);
	return s->family == AF_INET6 && s->prefix <= 128 && prefix_match(a, s->addr, s->prefix);
}

bool ntp_policy_subnet_match(const struct ntp_policy_subnet *s, const struct sockaddr *sa)
{
	uint8_t a[16];
	int v4;

	return !addr16(sa, a, &v4) && match16(s, a, v4);
}

bool ntp_policy_match(const struct ntp_policy_list *l, const struct sockaddr *sa)
{
	uint8_t a[16];
	int v4;

	if (addr16(sa, a, &v4))
		return false;
	for (size_t i = 0; i < l->n_subnets; i++)
		if (match16(&l->subnets[i], a, v4))
			return true;
	return false;
}

/* A keyed mix so clients cannot aim at one slot to evict others. */
static uint64_t hash(const struct ntp_policy *p, const uint8_t a[16])
{
	uint64_t x, y, h;

	memcpy(&x, a, 8);
	memcpy(&y, a + 8, 8);
	h = (x ^ p->key[0]) * 0x9e3779b97f4a7c15ULL;
	h ^= (y ^ p->key[1]) + (h << 6) + (h >> 2);
	/*
	 * The last address byte lands in the top bits of y, and a multiply only
	 * carries upward: without shifts down before and between the multiplies,
	 * every address of an IPv4 /24 took the same slot (h % n_slots).
	 */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h | 1;
}

enum ntp_policy_verdict ntp_policy_check(struct ntp_policy *p, const struct sockaddr *sa,
					 uint64_t now_ms)
{
	const struct ntp_policy_config *c = &p->cfg;
	struct rate_slot *slot;
	uint64_t h, last;
	uint8_t a[16];
	int v4;

	if (c->denylist.set && ntp_policy_match(&c->denylist, sa))
		return c->denylist.deny ? NTP_POLICY_DENY : NTP_POLICY_IGNORE;
	if (c->allowlist.set && !ntp_policy_match(&c->allowlist, sa))
		return c->allowlist.deny ? NTP_POLICY_DENY : NTP_POLICY_IGNORE;
	if (!p->slots || addr16(sa, a, &v4))
		return NTP_POLICY_ANSWER;
	h = hash(p, a);
	slot = &p->slots[h % p->n_slots];
	if (atomic_load_explicit(&slot->tag, memory_order_relaxed) == h) {
		last = atomic_load_explicit(&slot->last_ms, memory_order_relaxed);
		if (now_ms - last < c->rate_limiting_cutoff_ms)
			return NTP_POLICY_RATE;
	} else {
		atomic_store_explicit(&slot->tag, h, memory_order_relaxed);
	}
	atomic_store_explicit(&slot->last_ms, now_ms, memory_order_relaxed);
	return NTP_POLICY_ANSWER;
}
