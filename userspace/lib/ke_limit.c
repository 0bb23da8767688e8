// SPDX-License-Identifier: GPL-2.0
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "ke_limit.h"

#define PROBE 16
#define MILLI 1000ULL

struct client {
	uint8_t key[16];	/* v4-mapped address or /64 prefix */
	uint32_t active;
	int used;
	uint64_t tokens;	/* thousandths of a connection */
	uint64_t last_ms;	/* when tokens were last brought up to date */
};

struct ke_limit {
	struct ke_limit_config cfg;
	pthread_mutex_t lock;
	uint64_t hkey[2];
	uint32_t mask;
	unsigned int active, clients;
	struct client *t;
};

struct ke_limit *ke_limit_new(const struct ke_limit_config *cfg)
{
	struct ke_limit *l = calloc(1, sizeof(*l));
	uint64_t n = 64;

	if (!l)
		return NULL;
	l->cfg = *cfg;
	if (l->cfg.rate && !l->cfg.burst)
		l->cfg.burst = 1;
	while (n < 2ULL * cfg->max_total && n < (1ULL << 24))
		n <<= 1;
	l->mask = (uint32_t)(n - 1);
	l->t = calloc(n, sizeof(*l->t));
	if (!l->t || RAND_bytes((unsigned char *)l->hkey, sizeof(l->hkey)) != 1 ||
	    pthread_mutex_init(&l->lock, NULL)) {
		free(l->t);
		free(l);
		return NULL;
	}
	return l;
}

void ke_limit_free(struct ke_limit *l)
{
	if (!l)
		return;
	pthread_mutex_destroy(&l->lock);
	free(l->t);
	free(l);
}

static int client_key(const struct sockaddr *sa, uint8_t out[16])
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		/* Whole address for v4-mapped, else the /64 the host sits in. */
		memcpy(out, a, IN6_IS_ADDR_V4MAPPED(a) ? 16 : 8);
		return 0;
	}
	return -1;
}

static uint64_t mix(uint64_t z)
{
	z ^= z >> 30;
	z *= 0xbf58476d1ce4e5b9ULL;
	z ^= z >> 27;
	z *= 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * Keyed, so that clients cannot aim at one probe window to crowd others
 * out; every input bit reaches the low bits that pick the slot.
 */
static uint32_t hash(const struct ke_limit *l, const uint8_t k[16])
{
	uint64_t x, y;

	memcpy(&x, k, 8);
	memcpy(&y, k + 8, 8);
	return (uint32_t)mix(mix(x ^ l->hkey[0]) ^ y ^ l->hkey[1]);
}

static void refill(const struct ke_limit *l, struct client *c, uint64_t now_ms)
{
	uint64_t cap = (uint64_t)l->cfg.burst * MILLI;

	/* A clock that went back adds nothing and moves nothing back. */
	if (now_ms > c->last_ms) {
		uint64_t add = (now_ms - c->last_ms) * l->cfg.rate;

		c->tokens = add >= cap || c->tokens + add >= cap ? cap : c->tokens + add;
		c->last_ms = now_ms;
	}
}

/* The client's slot, a fresh one, or NULL when the window is all busy. */
static struct client *find(struct ke_limit *l, const uint8_t k[16], uint64_t now_ms)
{
	uint32_t h = hash(l, k);
	struct client *victim = NULL, *c;

	for (uint32_t i = 0; i < PROBE; i++) {
		c = &l->t[(h + i) & l->mask];
		if (c->used && !memcmp(c->key, k, 16))
			return c;
		if (!c->used) {
			if (!victim || victim->used)
				victim = c;
		} else if (!c->active && (!victim || (victim->used &&
						      c->last_ms < victim->last_ms))) {
			/* Idle the longest: its bucket is the fullest. */
			victim = c;
		}
	}
	if (!victim)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->key, k, 16);
	victim->used = 1;
	victim->tokens = (uint64_t)l->cfg.burst * MILLI;
	victim->last_ms = now_ms;
	return victim;
}

enum ke_limit_verdict ke_limit_admit(struct ke_limit *l, const struct sockaddr *sa,
				     uint64_t now_ms, struct ke_limit_ticket *t)
{
	enum ke_limit_verdict v = KE_LIMIT_OK;
	struct client *c = NULL;
	uint8_t k[16];

	t->slot = UINT32_MAX;
	pthread_mutex_lock(&l->lock);
	if (l->cfg.max_total && l->active >= l->cfg.max_total) {
		v = KE_LIMIT_TOTAL;
		goto out;
	}
	if ((l->cfg.per_client || l->cfg.rate) && !client_key(sa, k)) {
		c = find(l, k, now_ms);
		if (!c) {
			v = KE_LIMIT_TABLE;
			goto out;
		}
		if (l->cfg.per_client && c->active >= l->cfg.per_client) {
			v = KE_LIMIT_CLIENT;
			goto out;
		}
		if (l->cfg.rate) {
			refill(l, c, now_ms);
			if (c->tokens < MILLI) {
				v = KE_LIMIT_RATE;
				goto out;
			}
			c->tokens -= MILLI;
		}
		if (!c->active++)
			l->clients++;
		t->slot = (uint32_t)(c - l->t);
	}
	l->active++;
out:
	pthread_mutex_unlock(&l->lock);
	return v;
}

void ke_limit_release(struct ke_limit *l, const struct ke_limit_ticket *t)
{
	pthread_mutex_lock(&l->lock);
	if (l->active)
		l->active--;
	if (t->slot <= l->mask && l->t[t->slot].active && !--l->t[t->slot].active)
		l->clients--;
	pthread_mutex_unlock(&l->lock);
}

unsigned int ke_limit_active(struct ke_limit *l)
{
	unsigned int n;

	pthread_mutex_lock(&l->lock);
	n = l->active;
	pthread_mutex_unlock(&l->lock);
	return n;
}

unsigned int ke_limit_clients(struct ke_limit *l)
{
	unsigned int n;

	pthread_mutex_lock(&l->lock);
	n = l->clients;
	pthread_mutex_unlock(&l->lock);
	return n;
}
