// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "config_map.h"

static struct discipline_threshold threshold(const struct config_threshold *t)
{
	return (struct discipline_threshold){ .forward = t->forward, .backward = t->backward };
}

static enum sel_auth_mode map_auth_select(enum config_auth_select m)
{
	switch (m) {
	case CONFIG_AUTH_SELECT_REQUIRE:
		return SEL_AUTH_REQUIRE;
	case CONFIG_AUTH_SELECT_MIX:
		return SEL_AUTH_MIX;
	case CONFIG_AUTH_SELECT_IGNORE:
		return SEL_AUTH_IGNORE;
	case CONFIG_AUTH_SELECT_PREFER:
		break;
	}
	return SEL_AUTH_PREFER;
}

void config_map_discipline(const struct config_synchronization *s,
			   struct discipline_config *out)
{
	const struct config_algorithm *a = &s->algorithm;

	memset(out, 0, sizeof(*out));
	out->minimum_agreeing_sources = s->minimum_agreeing_sources;
	out->auth_select_mode = map_auth_select(s->auth_select_mode);
	out->single_step_panic_threshold = threshold(&s->single_step_panic_threshold);
	out->startup_step_panic_threshold = threshold(&s->startup_step_panic_threshold);
	out->has_accumulated_step_panic_threshold = s->has_accumulated_step_panic_threshold;
	out->accumulated_step_panic_threshold = s->accumulated_step_panic_threshold;
	out->warn_on_jump = s->warn_on_jump;
	out->local_stratum = s->local_stratum;
	out->step_threshold = a->step_threshold;
	out->initial_wander = a->initial_wander;
	out->initial_frequency_uncertainty = a->initial_frequency_uncertainty;
	out->maximum_source_uncertainty = a->maximum_source_uncertainty;
	out->maximum_frequency_steer = a->maximum_frequency_steer;
	out->slew_maximum_frequency_offset = a->slew_maximum_frequency_offset;
	out->slew_minimum_duration = a->slew_minimum_duration;
	out->ignore_server_dispersion = a->ignore_server_dispersion;
}

void config_map_subnet(const struct config_subnet *c, struct ntp_policy_subnet *out)
{
	out->family = c->family;
	memcpy(out->addr, c->addr, sizeof(out->addr));
	out->prefix = c->prefix;
}

static void policy_list(const struct config_filter *f, struct ntp_policy_list *l,
			struct ntp_policy_subnet *out)
{
	l->set = f->set;
	l->deny = f->action == CONFIG_ACTION_DENY;
	l->subnets = out;
	l->n_subnets = f->set ? f->n_subnets : 0;
	for (size_t i = 0; i < l->n_subnets; i++)
		config_map_subnet(&f->subnets[i], &out[i]);
}

struct ntp_policy *config_map_ntp_policy(const struct config_server *s)
{
	size_t na = s->allowlist.n_subnets, nd = s->denylist.n_subnets;
	struct ntp_policy_config pc = {
		.rate_limiting_cache_size = s->rate_limiting_cache_size,
		.rate_limiting_cutoff_ms = s->rate_limiting_cutoff_ms,
		.rate_limiting_burst = s->rate_limiting_burst,
		.rate_limiting_ipv6_prefix = s->rate_limiting_ipv6_prefix,
	};
	/* ntp_policy_new() keeps its own copy of the lists. */
	struct ntp_policy_subnet *subnets = calloc(na + nd + 1, sizeof(*subnets));
	struct ntp_policy *p;

	if (!subnets)
		return NULL;
	policy_list(&s->allowlist, &pc.allowlist, subnets);
	policy_list(&s->denylist, &pc.denylist, subnets + na);
	p = ntp_policy_new(&pc);
	free(subnets);
	return p;
}
