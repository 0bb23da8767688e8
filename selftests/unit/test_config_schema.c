// SPDX-License-Identifier: GPL-2.0
/*
 * No configuration key is accepted and then ignored. This walks the
 * parser's schema (config_schema_walk()) and holds every key to one of:
 *
 *   HONOURED(section, key, test): the test file sets it ("key = " appears
 *	in it; NEEDLE() names other text) and checks what it does;
 *   REFUSED(section, key): the parser rejects it by name with "not
 *	supported", whatever its value (checked here by parsing it).
 *
 * A key added to the parser without a line below fails here, as does a
 * line for a key the parser no longer has. Adding a key: add one line.
 * Paths are relative to the top of the source tree (the tests run there;
 * XNTS_TOP overrides).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "kselftest_harness.h"

struct rule {
	const char *section, *key;
	const char *test;	/* HONOURED: where it is exercised */
	const char *needle;	/* text the test must contain; NULL: "key = " */
	bool refused;
};

#define HONOURED(s, k, t) { s, k, t, NULL, false }
#define NEEDLE(s, k, t, n) { s, k, t, n, false }
#define REFUSED(s, k) { s, k, NULL, NULL, true }

#define SD "[source-defaults]"
#define SRC "[[source]]"
#define SRV "[[server]]"
#define OBS "[observability]"
#define KS "[keyset]"
#define KE "[[nts-ke-server]]"
#define SYNC "[synchronization]"
#define ALG "[synchronization.algorithm]"
#define XDP "[xdp]"

#define T_NTP "selftests/net/test_ntp.py"
#define T_KE "selftests/net/test_ke.py"
#define T_XDP "selftests/net/test_xdp.py"
#define T_CHRONY "selftests/net/test_interop_chrony.py"
#define T_KEYS "selftests/net/test_config_keys.py"
#define T_POOL "selftests/net/test_pool.py"
#define T_DISC "selftests/unit/test_discipline.c"
#define T_VMSYNC "selftests/vm/test_clock_sync.py"

static const struct rule rules[] = {
	HONOURED(SD, "poll-interval-limits", "selftests/vm/test_interop_ntpdrs.py"),
	HONOURED(SD, "initial-poll-interval", "selftests/vm/test_interop_ntpdrs.py"),

	HONOURED(SRC, "mode", T_CHRONY),
	HONOURED(SRC, "address", T_CHRONY),
	HONOURED(SRC, "certificate-authority", T_CHRONY),
	HONOURED(SRC, "count", T_NTP),
	HONOURED(SRC, "enable-srv-resolution", T_KEYS),	/* false; true is refused */
	HONOURED(SRC, "ignore", T_NTP),
	REFUSED(SRC, "precision"),
	REFUSED(SRC, "accuracy"),
	HONOURED(SRC, "poll-interval-limits", T_CHRONY),
	HONOURED(SRC, "initial-poll-interval", T_CHRONY),
	HONOURED(SRC, "ntp-version", T_KEYS),	/* 4 and "auto"; 5 is refused */
	HONOURED(SRC, "certificate-pin", T_KE),
	HONOURED(SRC, "path", T_VMSYNC),
	HONOURED(SRC, "interface", T_VMSYNC),
	HONOURED(SRC, "phc-scale", T_VMSYNC),

	HONOURED(SRV, "listen", T_NTP),
	HONOURED(SRV, "rate-limiting-cache-size", T_NTP),
	HONOURED(SRV, "rate-limiting-cutoff-ms", T_NTP),
	HONOURED(SRV, "rate-limiting-burst", T_XDP),
	HONOURED(SRV, "rate-limiting-ipv6-prefix", T_XDP),
	HONOURED(SRV, "allowlist", T_NTP),
	HONOURED(SRV, "denylist", T_NTP),
	HONOURED(SRV, "require-nts", T_NTP),
	HONOURED(SRV, "accept-ntp-versions", T_NTP),
	HONOURED(SRV, "hardware-timestamps", T_VMSYNC),

	HONOURED(OBS, "log-level", T_KEYS),
	HONOURED(OBS, "log-path", T_KEYS),
	/* Served by the metrics exporter (issue 14 item 4, another branch). */
	HONOURED(OBS, "log-path-metrics-exporter", "selftests/net/test_metrics.py"),
	HONOURED(OBS, "ansi-colors", T_KEYS),
	HONOURED(OBS, "observation-path", "selftests/net/xnts.py"),
	HONOURED(OBS, "observation-permissions", T_KEYS),
	HONOURED(OBS, "metrics-exporter-listen", "selftests/net/test_metrics.py"),

	HONOURED(KS, "stale-key-count", T_NTP),
	HONOURED(KS, "key-rotation-interval", T_NTP),
	HONOURED(KS, "key-storage-path", T_KE),
	HONOURED(KS, "shared-secret-path", "selftests/net/test_fleet.py"),
	HONOURED(KS, "previous-shared-secret-path", "selftests/net/test_fleet.py"),
	HONOURED(KS, "previous-shared-secret-grace", "selftests/net/test_fleet.py"),

	HONOURED(KE, "listen", T_CHRONY),
	HONOURED(KE, "certificate-chain-path", T_CHRONY),
	HONOURED(KE, "private-key-path", T_CHRONY),
	HONOURED(KE, "key-exchange-timeout-ms", T_KE),
	HONOURED(KE, "concurrent-connections", T_KE),
	HONOURED(KE, "longlived-connections", T_POOL),
	HONOURED(KE, "longlived-max-requests", T_POOL),
	HONOURED(KE, "longlived-idle-timeout-ms", T_POOL),
	HONOURED(KE, "longlived-max-duration-ms", T_POOL),
	HONOURED(KE, "ntp-port", T_CHRONY),
	HONOURED(KE, "ntp-server", T_KEYS),
	HONOURED(KE, "accept-ntp-versions", T_KEYS),	/* [4]; 5 is refused */
	HONOURED(KE, "accepted-pool-authentication-tokens", T_POOL),
	HONOURED(KE, "per-client-connections", "selftests/net/test_ke_flood.py"),
	HONOURED(KE, "per-client-accept-rate", "selftests/net/test_ke_flood.py"),
	HONOURED(KE, "per-client-accept-burst", T_KEYS),
	HONOURED(KE, "workers", T_KEYS),
	HONOURED(KE, "aead-algorithms", T_KE),

	HONOURED(SYNC, "minimum-agreeing-sources", T_DISC),
	/* Its behaviour: test_selection.c and test_discipline.c; parsed: test_config.c. */
	HONOURED(SYNC, "auth-select-mode", "selftests/unit/test_config.c"),
	HONOURED(SYNC, "single-step-panic-threshold", T_DISC),
	HONOURED(SYNC, "startup-step-panic-threshold", T_DISC),
	HONOURED(SYNC, "accumulated-step-panic-threshold", T_DISC),
	HONOURED(SYNC, "warn-on-jump", T_DISC),
	HONOURED(SYNC, "local-stratum", T_NTP),
	HONOURED(SYNC, "reference-id", T_KEYS),
	NEEDLE(SYNC, "algorithm", T_DISC, "[synchronization.algorithm]"),

	REFUSED(ALG, "precision-low-probability"),
	REFUSED(ALG, "precision-high-probability"),
	REFUSED(ALG, "precision-hysteresis"),
	REFUSED(ALG, "precision-minimum-weight"),
	REFUSED(ALG, "poll-interval-low-weight"),
	REFUSED(ALG, "poll-interval-high-weight"),
	REFUSED(ALG, "poll-interval-hysteresis"),
	REFUSED(ALG, "poll-interval-step-threshold"),
	REFUSED(ALG, "delay-outlier-threshold"),
	HONOURED(ALG, "initial-wander", T_DISC),
	HONOURED(ALG, "initial-frequency-uncertainty", T_DISC),
	HONOURED(ALG, "maximum-source-uncertainty", T_DISC),
	REFUSED(ALG, "range-statistical-weight"),
	REFUSED(ALG, "range-delay-weight"),
	REFUSED(ALG, "steer-offset-threshold"),
	REFUSED(ALG, "steer-offset-leftover"),
	REFUSED(ALG, "steer-frequency-threshold"),
	REFUSED(ALG, "steer-frequency-leftover"),
	HONOURED(ALG, "step-threshold", T_DISC),
	HONOURED(ALG, "slew-maximum-frequency-offset", T_DISC),
	HONOURED(ALG, "slew-minimum-duration", T_DISC),
	HONOURED(ALG, "maximum-frequency-steer", T_DISC),
	HONOURED(ALG, "ignore-server-dispersion", T_DISC),
	REFUSED(ALG, "meddling-threshold"),

	HONOURED(XDP, "interfaces", T_XDP),
	HONOURED(XDP, "mode", T_XDP),
	HONOURED(XDP, "heartbeat-timeout-ms", T_XDP),
	HONOURED(XDP, "stale-action", T_XDP),
	HONOURED(XDP, "keep-serving-on-exit", T_XDP),
	HONOURED(XDP, "pin-path", T_XDP),
	HONOURED(XDP, "userspace-path", "selftests/net/test_af_xdp.py"),
	HONOURED(XDP, "af-xdp-batch-wait-us", "selftests/net/test_af_xdp.py"),
	HONOURED("[daemon]", "user", "selftests/net/test_privs.py"),
};

#define N_RULES (sizeof(rules) / sizeof(rules[0]))

struct walk {
	struct __test_metadata *md;
	bool seen[N_RULES];
	unsigned int keys, unclassified, mismatched;
};

static void visit(const char *section, const char *key, bool supported, void *arg)
{
	struct walk *w = arg;

	w->keys++;
	for (size_t i = 0; i < N_RULES; i++) {
		if (strcmp(rules[i].section, section) || strcmp(rules[i].key, key))
			continue;
		w->seen[i] = true;
		if (rules[i].refused == supported) {
			w->mismatched++;
			printf("# %s %s: the parser %s it, the rule says %s\n", section, key,
			       supported ? "accepts" : "refuses",
			       rules[i].refused ? "refused" : "honoured");
		}
		return;
	}
	w->unclassified++;
	printf("# %s %s: accepted by the parser but not classified: add a HONOURED or "
	       "REFUSED line to %s\n", section, key, __FILE__);
}

TEST(every_key_is_classified)
{
	struct walk w = { .md = _metadata };

	config_schema_walk(visit, &w);
	EXPECT_LT(50u, w.keys);
	EXPECT_EQ(0u, w.unclassified);
	EXPECT_EQ(0u, w.mismatched);
	for (size_t k = 0; k < N_RULES; k++) {
		EXPECT_TRUE(w.seen[k]) TH_LOG("%s %s: no such key in the parser",
					      rules[k].section, rules[k].key);
	}
}

/* The start of a document setting a key in r's section: its header and
 * whatever the section needs to get as far as the key. */
static void doc_for(char *buf, size_t len, const struct rule *r)
{
	if (!strcmp(r->section, SRC))
		snprintf(buf, len, "[[source]]\nmode = \"server\"\naddress = \"192.0.2.1\"\n");
	else if (!strcmp(r->section, KE))
		snprintf(buf, len, "[[nts-ke-server]]\nlisten = \"[::]:4460\"\n"
			 "certificate-chain-path = \"c\"\nprivate-key-path = \"k\"\n");
	else if (!strcmp(r->section, SRV))
		snprintf(buf, len, "[[server]]\nlisten = \"[::]:123\"\n");
	else
		snprintf(buf, len, "%s\n", r->section);
}

TEST(refused_keys_are_refused_by_name)
{
	for (size_t i = 0; i < N_RULES; i++) {
		const struct rule *r = &rules[i];
		struct xnts_config c;
		char doc[512], err[512], want[256];

		if (!r->refused)
			continue;
		doc_for(doc, sizeof(doc), r);
		snprintf(doc + strlen(doc), sizeof(doc) - strlen(doc), "%s = 1\n", r->key);
		EXPECT_EQ(-1, config_parse("ntp.toml", doc, strlen(doc), &c, err, sizeof(err)))
			TH_LOG("%s %s was accepted", r->section, r->key);
		snprintf(want, sizeof(want), "'%s' in %s is not supported", r->key, r->section);
		EXPECT_NE(NULL, strstr(err, want)) TH_LOG("%s", err);
	}
}

TEST(honoured_keys_are_set_by_their_test)
{
	const char *top = getenv("XNTS_TOP") ? getenv("XNTS_TOP") : ".";

	for (size_t i = 0; i < N_RULES; i++) {
		const struct rule *r = &rules[i];
		char path[512], needle[128], *text;
		size_t n;
		FILE *f;

		if (r->refused)
			continue;
		snprintf(path, sizeof(path), "%s/%s", top, r->test);
		f = fopen(path, "r");
		EXPECT_NE(NULL, f) TH_LOG("%s %s: no test file %s", r->section, r->key, path);
		if (!f)
			continue;
		text = calloc(1, 1 << 20);
		ASSERT_NE(NULL, text);
		n = fread(text, 1, (1 << 20) - 1, f);
		fclose(f);
		text[n] = 0;
		snprintf(needle, sizeof(needle), "%s = ", r->key);
		EXPECT_NE(NULL, strstr(text, r->needle ? r->needle : needle))
			TH_LOG("%s %s: %s does not set it", r->section, r->key, r->test);
		free(text);
	}
}

TEST_HARNESS_MAIN
