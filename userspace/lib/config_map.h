/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config_map: the configuration schema (config.h) in the terms of the
 * modules that consume it, so that those modules (discipline, ntp_policy)
 * do not depend on the whole schema. One mapping per consumer, written
 * once, used by the daemon and the tests alike.
 */
#ifndef XNTS_CONFIG_MAP_H
#define XNTS_CONFIG_MAP_H

#include "config.h"
#include "discipline.h"
#include "ntp_policy.h"

void config_map_discipline(const struct config_synchronization *s,
			   struct discipline_config *out);
void config_map_subnet(const struct config_subnet *c, struct ntp_policy_subnet *out);
/* The [[server]]'s access policy (lists and rate limit); NULL if out of memory. */
struct ntp_policy *config_map_ntp_policy(const struct config_server *s);

#endif
