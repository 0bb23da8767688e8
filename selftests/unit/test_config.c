// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration schema: defaults, the NTS guide's snippets verbatim, a
 * configuration using every key, and rejections naming key and position.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "load.h"
#include "kselftest_harness.h"

static char err[512];

static int parse(const char *s, struct xnts_config *cfg)
{
	return config_parse("ntp.toml", s, strlen(s), cfg, err, sizeof(err));
}

static void check_defaults_except_sources(struct __test_metadata *_metadata,
					  const struct xnts_config *c)
{
	const struct config_algorithm *a = &c->synchronization.algorithm;

	EXPECT_EQ(4, c->default_poll_limits.min);
	EXPECT_EQ(10, c->default_poll_limits.max);
	EXPECT_EQ(4, c->default_initial_poll);
	EXPECT_EQ(0, c->n_servers);
	EXPECT_EQ(CONFIG_LOG_INFO, c->observability.log_level);
	EXPECT_EQ(NULL, c->observability.log_path);
	EXPECT_EQ(NULL, c->observability.log_path_metrics_exporter);
	EXPECT_EQ(-1, c->observability.ansi_colors);
	EXPECT_EQ(NULL, c->observability.observation_path);
	EXPECT_EQ(0666, c->observability.observation_permissions);
	EXPECT_EQ(AF_INET, c->observability.metrics_exporter_listen.family);
	EXPECT_EQ(0, memcmp(c->observability.metrics_exporter_listen.addr, "\x7f\0\0\x01", 4));
	EXPECT_EQ(9975, c->observability.metrics_exporter_listen.port);
	EXPECT_EQ(0, c->observability.metrics_exporter);
	EXPECT_EQ(7, c->keyset.stale_key_count);
	EXPECT_EQ(86400, c->keyset.key_rotation_interval);
	EXPECT_EQ(3, c->synchronization.minimum_agreeing_sources);
	EXPECT_EQ(1000.0, c->synchronization.single_step_panic_threshold.forward);
	EXPECT_EQ(1000.0, c->synchronization.single_step_panic_threshold.backward);
	EXPECT_TRUE(isinf(c->synchronization.startup_step_panic_threshold.forward));
	EXPECT_EQ(86400.0, c->synchronization.startup_step_panic_threshold.backward);
	EXPECT_FALSE(c->synchronization.has_accumulated_step_panic_threshold);
	EXPECT_TRUE(c->synchronization.warn_on_jump);
	EXPECT_EQ(CONFIG_AUTH_SELECT_PREFER, c->synchronization.auth_select_mode);
	EXPECT_EQ(16, c->synchronization.local_stratum);
	EXPECT_STREQ("XNON", c->synchronization.reference_id);
	EXPECT_EQ(0x584e4f4e, c->synchronization.reference_id_value);
	EXPECT_EQ(1e-8, a->initial_wander);
	EXPECT_EQ(100e-6, a->initial_frequency_uncertainty);
	EXPECT_EQ(0.25, a->maximum_source_uncertainty);
	EXPECT_EQ(0.010, a->step_threshold);
	EXPECT_EQ(200e-6, a->slew_maximum_frequency_offset);
	EXPECT_EQ(8.0, a->slew_minimum_duration);
	EXPECT_EQ(495e-6, a->maximum_frequency_steer);
	EXPECT_FALSE(a->ignore_server_dispersion);
	EXPECT_EQ(0, c->xdp.n_interfaces);
	EXPECT_EQ(CONFIG_XDP_OFF, c->xdp.mode);
	EXPECT_EQ(3000, c->xdp.heartbeat_timeout_ms);
	EXPECT_EQ(CONFIG_XDP_STALE_UNSYNC, c->xdp.stale_action);
	EXPECT_FALSE(c->xdp.keep_serving_on_exit);
	EXPECT_EQ(NULL, c->xdp.pin_path);
	EXPECT_EQ(NULL, c->daemon.user);	/* the daemon's default, "xnts" */
}

TEST(empty_document_gives_defaults)
{
	struct xnts_config c;

	ASSERT_EQ(0, parse("# nothing\n", &c)) TH_LOG("%s", err);
	EXPECT_EQ(0, c.n_sources);
	EXPECT_EQ(0, c.n_nts_ke_servers);
	check_defaults_except_sources(_metadata, &c);
	config_free(&c);
	config_free(&c);
}

/* The snippets of the NTS guide (docs/guide/nts.md), verbatim. */
TEST(guide_snippet_nts_source)
{
	static const char doc[] =
		"[[source]]\n"
		"mode = \"nts\"\n"
		"address = \"nts.netnod.se\"\n";
	struct xnts_config c;
	const struct config_source *s;

	ASSERT_EQ(0, parse(doc, &c)) TH_LOG("%s", err);
	ASSERT_EQ(1, c.n_sources);
	s = &c.sources[0];
	EXPECT_EQ(CONFIG_SOURCE_NTS, s->mode);
	EXPECT_STREQ("nts.netnod.se", s->host);
	EXPECT_EQ(4460, s->port);
	EXPECT_EQ(NULL, s->certificate_authority);
	EXPECT_FALSE(s->has_pin);
	EXPECT_EQ(4, s->poll_limits.min);
	EXPECT_EQ(10, s->poll_limits.max);
	EXPECT_EQ(4, s->initial_poll);
	EXPECT_EQ(4, s->ntp_version);
	EXPECT_EQ(1, s->line);
	check_defaults_except_sources(_metadata, &c);
	config_free(&c);
}

TEST(guide_snippet_private_ca)
{
	static const char doc[] =
		"[[source]]\n"
		"mode = \"nts\"\n"
		"address = \"my.private.server.example.com\"\n"
		"certificate-authority = \"/path/to/certificate/authority.pem\"\n";
	struct xnts_config c;

	ASSERT_EQ(0, parse(doc, &c)) TH_LOG("%s", err);
	ASSERT_EQ(1, c.n_sources);
	EXPECT_EQ(CONFIG_SOURCE_NTS, c.sources[0].mode);
	EXPECT_STREQ("my.private.server.example.com", c.sources[0].host);
	EXPECT_EQ(4460, c.sources[0].port);
	EXPECT_STREQ("/path/to/certificate/authority.pem", c.sources[0].certificate_authority);
	config_free(&c);
}

static void check_ke(struct __test_metadata *_metadata, const char *doc, const char *chain,
		     const char *key)
{
	struct xnts_config c;
	const struct config_nts_ke_server *k;

	ASSERT_EQ(0, parse(doc, &c)) TH_LOG("%s", err);
	ASSERT_EQ(1, c.n_nts_ke_servers);
	k = &c.nts_ke_servers[0];
	EXPECT_EQ(AF_INET6, k->listen.family);
	EXPECT_EQ(0, memcmp(k->listen.addr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16));
	EXPECT_EQ(4460, k->listen.port);
	EXPECT_STREQ(chain, k->certificate_chain_path);
	EXPECT_STREQ(key, k->private_key_path);
	EXPECT_EQ(1000, k->key_exchange_timeout_ms);
	EXPECT_EQ(512, k->concurrent_connections);
	EXPECT_EQ(8, k->per_client_connections);
	EXPECT_EQ(20, k->per_client_accept_rate);
	EXPECT_EQ(100, k->per_client_accept_burst);
	EXPECT_EQ(0, k->workers);
	EXPECT_EQ(0, k->ntp_port);
	EXPECT_EQ(NULL, k->ntp_server);
	EXPECT_EQ(1u << 4, k->accept_ntp_versions);
	ASSERT_EQ(3, k->n_aeads);
	EXPECT_EQ(30, k->aeads[0]);
	EXPECT_EQ(15, k->aeads[1]);
	EXPECT_EQ(17, k->aeads[2]);
	EXPECT_EQ(0, k->n_pool_tokens);
	EXPECT_EQ(51, k->longlived_connections);	/* concurrent-connections / 10 */
	EXPECT_EQ(1000, k->longlived_max_requests);
	EXPECT_EQ(60000, k->longlived_idle_timeout_ms);
	EXPECT_EQ(3600000, k->longlived_max_duration_ms);
	EXPECT_EQ(0, c.n_sources);
	check_defaults_except_sources(_metadata, &c);
	config_free(&c);
}

TEST(guide_snippet_nts_ke_server)
{
	check_ke(_metadata,
		 "[[nts-ke-server]]\n"
		 "listen = \"[::]:4460\"\n"
		 "certificate-chain-path = \"/path/to/certificate/chain.pem\"\n"
		 "private-key-path = \"/path/to/private.key\"\n",
		 "/path/to/certificate/chain.pem", "/path/to/private.key");
}

TEST(guide_snippet_certbot)
{
	check_ke(_metadata,
		 "[[nts-ke-server]]\n"
		 "listen = \"[::]:4460\"\n"
		 "certificate-chain-path = "
		 "\"/etc/letsencrypt/live/[time.example.com]/fullchain.pem\"\n"
		 "private-key-path = \"/etc/letsencrypt/live/[time.example.com]/privkey.pem\"\n",
		 "/etc/letsencrypt/live/[time.example.com]/fullchain.pem",
		 "/etc/letsencrypt/live/[time.example.com]/privkey.pem");
}

TEST(guide_snippet_lego)
{
	check_ke(_metadata,
		 "[[nts-ke-server]]\n"
		 "listen = \"[::]:4460\"\n"
		 "certificate-chain-path = \"/var/lib/lego/certificates/[time.example.com].crt\"\n"
		 "private-key-path = \"/var/lib/lego/certificates/[time.example.com].key\"\n",
		 "/var/lib/lego/certificates/[time.example.com].crt",
		 "/var/lib/lego/certificates/[time.example.com].key");
}

TEST(keyset_shared_secret)
{
	static const char doc[] =
		"[keyset]\n"
		"shared-secret-path = \"/etc/xnts/fleet.secret\"\n"
		"previous-shared-secret-path = \"/etc/xnts/fleet.secret.old\"\n"
		"previous-shared-secret-grace = 691200\n"
		"key-rotation-interval = 3600\n";
	struct xnts_config c;

	ASSERT_EQ(0, parse(doc, &c)) TH_LOG("%s", err);
	EXPECT_STREQ("/etc/xnts/fleet.secret", c.keyset.shared_secret_path);
	EXPECT_STREQ("/etc/xnts/fleet.secret.old", c.keyset.previous_shared_secret_path);
	EXPECT_EQ(691200, c.keyset.previous_shared_secret_grace);
	EXPECT_EQ(NULL, c.keyset.key_storage_path);
	config_free(&c);
}

TEST(guide_snippet_keyset)
{
	static const char doc[] =
		"[keyset]\n"
		"key-storage-path=\"/path/to/store/key/material\"\n";
	struct xnts_config c;

	ASSERT_EQ(0, parse(doc, &c)) TH_LOG("%s", err);
	EXPECT_STREQ("/path/to/store/key/material", c.keyset.key_storage_path);
	EXPECT_EQ(7, c.keyset.stale_key_count);
	EXPECT_EQ(86400, c.keyset.key_rotation_interval);
	check_defaults_except_sources(_metadata, &c);
	config_free(&c);
}

static const char full_config[] =
	"# Every key xnts knows, none at its default.\n"
	"[source-defaults]\n"
	"poll-interval-limits = { min = 5, max = 12 }\n"
	"initial-poll-interval = 6\n"
	"\n"
	"[[source]]\n"
	"mode = \"server\"\n"
	"address = \"192.0.2.1\"\n"
	"ntp-version = \"auto\"\n"
	"\n"
	"[[source]]\n"
	"mode = \"pool\"\n"
	"address = \"pool.ntp.org:1123\"\n"
	"count = 8\n"
	"ignore = [\"192.0.2.7\", \"2001:db8::1\"]\n"
	"poll-interval-limits = { min = 6 }\n"
	"initial-poll-interval = 7\n"
	"\n"
	"[[source]]\n"
	"mode = \"nts\"\n"
	"address = \"[2001:db8::5]\"\n"
	"certificate-authority = \"/etc/xnts/ca.pem\"\n"
	"certificate-pin = \"sha256:000102030405060708090a0b0c0d0e0f"
	"101112131415161718191A1B1C1D1E1F\"\n"
	"ntp-version = 4\n"
	"\n"
	"[[server]]\n"
	"listen = \"0.0.0.0:123\"\n"
	"rate-limiting-cache-size = 100000\n"
	"rate-limiting-cutoff-ms = 1000\n"
	"rate-limiting-burst = 4\n"
	"rate-limiting-ipv6-prefix = 56\n"
	"allowlist = { filter = [\"10.0.0.0/8\", \"::1/128\", \"192.168.1.77/24\"], "
	"action = \"deny\" }\n"
	"denylist = { filter = [\"10.1.0.0/16\"], action = \"ignore\" }\n"
	"require-nts = \"deny\"\n"
	"accept-ntp-versions = [4]\n"
	"\n"
	"[[server]]\n"
	"listen = \"[::1]:1123\"\n"
	"require-nts = true\n"
	"\n"
	"[observability]\n"
	"log-level = \"debug\"\n"
	"log-path = \"/var/log/xnts.log\"\n"
	"log-path-metrics-exporter = \"/var/log/xnts-metrics.log\"\n"
	"ansi-colors = false\n"
	"observation-path = \"/run/xnts/observe\"\n"
	"observation-permissions = 0o660\n"
	"metrics-exporter-listen = \"[::]:9976\"\n"
	"\n"
	"[keyset]\n"
	"stale-key-count = 3\n"
	"key-rotation-interval = 3600\n"
	"key-storage-path = \"/var/lib/xnts/keys\"\n"
	"\n"
	"[[nts-ke-server]]\n"
	"listen = \"127.0.0.1:4461\"\n"
	"certificate-chain-path = \"/etc/xnts/chain.pem\"\n"
	"private-key-path = \"/etc/xnts/key.pem\"\n"
	"key-exchange-timeout-ms = 2500\n"
	"concurrent-connections = 100\n"
	"per-client-connections = 4\n"
	"per-client-accept-rate = 0\n"
	"per-client-accept-burst = 7\n"
	"workers = 3\n"
	"ntp-port = 1123\n"
	"ntp-server = \"time.example.com\"\n"
	"accept-ntp-versions = [4]\n"
	"\n"
	"[synchronization]\n"
	"minimum-agreeing-sources = 2\n"
	"auth-select-mode = \"mix\"\n"
	"single-step-panic-threshold = { forward = 10, backward = \"inf\" }\n"
	"startup-step-panic-threshold = 500\n"
	"accumulated-step-panic-threshold = 2000.5\n"
	"warn-on-jump = false\n"
	"local-stratum = 3\n"
	"reference-id = \"GPS \"\n"
	"\n"
	"[synchronization.algorithm]\n"
	"initial-wander = 2e-8\n"
	"initial-frequency-uncertainty = 200e-6\n"
	"maximum-source-uncertainty = 0.5\n"
	"step-threshold = 0.02\n"
	"slew-maximum-frequency-offset = 300e-6\n"
	"slew-minimum-duration = 9.0\n"
	"maximum-frequency-steer = 400e-6\n"
	"ignore-server-dispersion = true\n"
	"\n"
	"[xdp]\n"
	"interfaces = [\"eth0\", \"veth-ntp1\"]\n"
	"mode = \"native\"\n"
	"heartbeat-timeout-ms = 1500\n"
	"stale-action = \"pass\"\n"
	"keep-serving-on-exit = true\n"
	"pin-path = \"/sys/fs/bpf/xnts-a\"\n"
	"\n"
	"[daemon]\n"
	"user = \"ntp\"\n";

TEST(every_key)
{
	struct xnts_config c;
	const struct config_source *s;
	const struct config_server *v;
	const struct config_nts_ke_server *k;
	const struct config_algorithm *a = &c.synchronization.algorithm;
	uint8_t ip[16];

	ASSERT_EQ(0, parse(full_config, &c)) TH_LOG("%s", err);
	EXPECT_EQ(5, c.default_poll_limits.min);
	EXPECT_EQ(12, c.default_poll_limits.max);
	EXPECT_EQ(6, c.default_initial_poll);

	ASSERT_EQ(3, c.n_sources);
	s = &c.sources[0];
	EXPECT_EQ(CONFIG_SOURCE_SERVER, s->mode);
	EXPECT_STREQ("192.0.2.1", s->host);
	EXPECT_EQ(123, s->port);
	EXPECT_EQ(0, s->ntp_version);
	EXPECT_EQ(5, s->poll_limits.min);
	EXPECT_EQ(12, s->poll_limits.max);
	EXPECT_EQ(6, s->initial_poll);
	EXPECT_EQ(6, s->line);
	s = &c.sources[1];
	EXPECT_EQ(CONFIG_SOURCE_POOL, s->mode);
	EXPECT_STREQ("pool.ntp.org", s->host);
	EXPECT_EQ(1123, s->port);
	EXPECT_EQ(8, s->count);
	ASSERT_EQ(2, s->n_ignore);
	EXPECT_EQ(AF_INET, s->ignore[0].family);
	EXPECT_EQ(32, s->ignore[0].prefix);
	EXPECT_EQ(0, memcmp(s->ignore[0].addr, "\xc0\x00\x02\x07", 4));
	EXPECT_EQ(AF_INET6, s->ignore[1].family);
	EXPECT_EQ(128, s->ignore[1].prefix);
	EXPECT_EQ(6, s->poll_limits.min);
	EXPECT_EQ(12, s->poll_limits.max);
	EXPECT_EQ(7, s->initial_poll);
	s = &c.sources[2];
	EXPECT_EQ(CONFIG_SOURCE_NTS, s->mode);
	EXPECT_STREQ("2001:db8::5", s->host);
	EXPECT_EQ(4460, s->port);
	EXPECT_STREQ("/etc/xnts/ca.pem", s->certificate_authority);
	EXPECT_TRUE(s->has_pin);
	for (int i = 0; i < CONFIG_PIN_LEN; i++)
		EXPECT_EQ(i, s->pin[i]);
	EXPECT_EQ(4, s->ntp_version);
	EXPECT_EQ(4, s->count);

	ASSERT_EQ(2, c.n_servers);
	v = &c.servers[0];
	EXPECT_EQ(AF_INET, v->listen.family);
	EXPECT_EQ(123, v->listen.port);
	EXPECT_EQ(100000, v->rate_limiting_cache_size);
	EXPECT_EQ(1000, v->rate_limiting_cutoff_ms);
	EXPECT_EQ(4, v->rate_limiting_burst);
	EXPECT_EQ(56, v->rate_limiting_ipv6_prefix);
	EXPECT_TRUE(v->allowlist.set);
	EXPECT_EQ(CONFIG_ACTION_DENY, v->allowlist.action);
	ASSERT_EQ(3, v->allowlist.n_subnets);
	EXPECT_EQ(8, v->allowlist.subnets[0].prefix);
	EXPECT_EQ(0, memcmp(v->allowlist.subnets[0].addr, "\x0a\0\0\0", 4));
	EXPECT_EQ(AF_INET6, v->allowlist.subnets[1].family);
	EXPECT_EQ(128, v->allowlist.subnets[1].prefix);
	EXPECT_EQ(1, v->allowlist.subnets[1].addr[15]);
	/* Host bits are cleared. */
	EXPECT_EQ(0, memcmp(v->allowlist.subnets[2].addr, "\xc0\xa8\x01\x00", 4));
	EXPECT_TRUE(v->denylist.set);
	EXPECT_EQ(CONFIG_ACTION_IGNORE, v->denylist.action);
	EXPECT_EQ(1, v->denylist.n_subnets);
	EXPECT_TRUE(v->require_nts);
	EXPECT_EQ(CONFIG_ACTION_DENY, v->require_nts_action);
	EXPECT_EQ(1u << 4, v->accept_ntp_versions);
	v = &c.servers[1];
	EXPECT_EQ(AF_INET6, v->listen.family);
	inet_pton(AF_INET6, "::1", ip);
	EXPECT_EQ(0, memcmp(ip, v->listen.addr, 16));
	EXPECT_EQ(1123, v->listen.port);
	EXPECT_TRUE(v->require_nts);
	EXPECT_EQ(CONFIG_ACTION_IGNORE, v->require_nts_action);
	EXPECT_EQ((1u << 3) | (1u << 4), v->accept_ntp_versions);
	EXPECT_FALSE(v->allowlist.set);
	EXPECT_EQ(0, v->rate_limiting_cache_size);
	EXPECT_EQ(1, v->rate_limiting_burst);
	EXPECT_EQ(64, v->rate_limiting_ipv6_prefix);

	EXPECT_EQ(CONFIG_LOG_DEBUG, c.observability.log_level);
	EXPECT_STREQ("/var/log/xnts.log", c.observability.log_path);
	EXPECT_STREQ("/var/log/xnts-metrics.log", c.observability.log_path_metrics_exporter);
	EXPECT_EQ(0, c.observability.ansi_colors);
	EXPECT_STREQ("/run/xnts/observe", c.observability.observation_path);
	EXPECT_EQ(0660, c.observability.observation_permissions);
	EXPECT_EQ(AF_INET6, c.observability.metrics_exporter_listen.family);
	EXPECT_EQ(9976, c.observability.metrics_exporter_listen.port);
	EXPECT_EQ(1, c.observability.metrics_exporter);

	EXPECT_EQ(3, c.keyset.stale_key_count);
	EXPECT_EQ(3600, c.keyset.key_rotation_interval);
	EXPECT_STREQ("/var/lib/xnts/keys", c.keyset.key_storage_path);

	ASSERT_EQ(1, c.n_nts_ke_servers);
	k = &c.nts_ke_servers[0];
	EXPECT_EQ(AF_INET, k->listen.family);
	EXPECT_EQ(4461, k->listen.port);
	EXPECT_STREQ("/etc/xnts/chain.pem", k->certificate_chain_path);
	EXPECT_STREQ("/etc/xnts/key.pem", k->private_key_path);
	EXPECT_EQ(2500, k->key_exchange_timeout_ms);
	EXPECT_EQ(100, k->concurrent_connections);
	EXPECT_EQ(4, k->per_client_connections);
	EXPECT_EQ(0, k->per_client_accept_rate);
	EXPECT_EQ(7, k->per_client_accept_burst);
	EXPECT_EQ(3, k->workers);
	EXPECT_EQ(CONFIG_AUTH_SELECT_MIX, c.synchronization.auth_select_mode);
	EXPECT_EQ(1123, k->ntp_port);
	EXPECT_STREQ("time.example.com", k->ntp_server);
	EXPECT_EQ(1u << 4, k->accept_ntp_versions);

	EXPECT_EQ(2, c.synchronization.minimum_agreeing_sources);
	EXPECT_EQ(10.0, c.synchronization.single_step_panic_threshold.forward);
	EXPECT_TRUE(isinf(c.synchronization.single_step_panic_threshold.backward));
	EXPECT_EQ(500.0, c.synchronization.startup_step_panic_threshold.forward);
	EXPECT_EQ(500.0, c.synchronization.startup_step_panic_threshold.backward);
	EXPECT_TRUE(c.synchronization.has_accumulated_step_panic_threshold);
	EXPECT_EQ(2000.5, c.synchronization.accumulated_step_panic_threshold);
	EXPECT_FALSE(c.synchronization.warn_on_jump);
	EXPECT_EQ(3, c.synchronization.local_stratum);
	EXPECT_STREQ("GPS ", c.synchronization.reference_id);
	EXPECT_EQ(0x47505320, c.synchronization.reference_id_value);
	EXPECT_EQ(2e-8, a->initial_wander);
	EXPECT_EQ(200e-6, a->initial_frequency_uncertainty);
	EXPECT_EQ(0.5, a->maximum_source_uncertainty);
	EXPECT_EQ(0.02, a->step_threshold);
	EXPECT_EQ(300e-6, a->slew_maximum_frequency_offset);
	EXPECT_EQ(9.0, a->slew_minimum_duration);
	EXPECT_EQ(400e-6, a->maximum_frequency_steer);
	EXPECT_TRUE(a->ignore_server_dispersion);

	ASSERT_EQ(2, c.xdp.n_interfaces);
	EXPECT_STREQ("eth0", c.xdp.interfaces[0]);
	EXPECT_STREQ("veth-ntp1", c.xdp.interfaces[1]);
	EXPECT_EQ(CONFIG_XDP_NATIVE, c.xdp.mode);
	EXPECT_EQ(1500, c.xdp.heartbeat_timeout_ms);
	EXPECT_EQ(CONFIG_XDP_STALE_PASS, c.xdp.stale_action);
	EXPECT_TRUE(c.xdp.keep_serving_on_exit);
	EXPECT_STREQ("/sys/fs/bpf/xnts-a", c.xdp.pin_path);
	EXPECT_STREQ("ntp", c.daemon.user);
	config_free(&c);
}

/* Our extension: the server's AEAD preference, in the order written. */
TEST(nts_ke_aead_algorithms)
{
	static const char doc[] =
		"[[nts-ke-server]]\n"
		"listen = \"127.0.0.1:4460\"\n"
		"certificate-chain-path = \"c\"\n"
		"private-key-path = \"k\"\n"
		"aead-algorithms = [17, 15]\n";
	struct xnts_config c;

	ASSERT_EQ(0, parse(doc, &c)) TH_LOG("%s", err);
	ASSERT_EQ(2, c.nts_ke_servers[0].n_aeads);
	EXPECT_EQ(17, c.nts_ke_servers[0].aeads[0]);
	EXPECT_EQ(15, c.nts_ke_servers[0].aeads[1]);
	config_free(&c);
}

TEST(nts_ke_pool_keys)
{
	static const char doc[] =
		"[[nts-ke-server]]\n"
		"listen = \"127.0.0.1:4460\"\n"
		"certificate-chain-path = \"c\"\n"
		"private-key-path = \"k\"\n"
		"concurrent-connections = 40\n"
		"accepted-pool-authentication-tokens = [\"abc\", \"<YOUR TOKEN HERE>\"]\n";
	/* SHA-256("abc"), FIPS 180-2 B.1 */
	static const uint8_t abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde,
		0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
		0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	struct xnts_config c;
	const struct config_nts_ke_server *k;

	ASSERT_EQ(0, parse(doc, &c)) TH_LOG("%s", err);
	k = &c.nts_ke_servers[0];
	/* Only the digests are kept; the text of a token is nowhere. */
	ASSERT_EQ(2, k->n_pool_tokens);
	EXPECT_EQ(0, memcmp(abc, k->pool_token_digests[0], 32));
	EXPECT_NE(0, memcmp(abc, k->pool_token_digests[1], 32));
	EXPECT_EQ(4, k->longlived_connections);
	config_free(&c);
}

TEST(load_from_file)
{
	char path[] = "/tmp/test_config_XXXXXX";
	int fd = mkstemp(path);
	struct xnts_config c;
	size_t n = strlen(full_config);

	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)n, write(fd, full_config, n));
	ASSERT_EQ((ssize_t)12, write(fd, "bogus = 1\n\n\n", 12));
	close(fd);
	EXPECT_EQ(-1, config_load(path, &c, err, sizeof(err)));
	EXPECT_EQ(0, strncmp(err, path, strlen(path)));
	EXPECT_STREQ(":99:1: unknown key 'bogus' in [daemon]", err + strlen(path));
	ASSERT_EQ(0, truncate(path, (off_t)n));
	ASSERT_EQ(0, config_load(path, &c, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(3, c.n_sources);
	EXPECT_EQ(2, c.xdp.n_interfaces);
	config_free(&c);
	unlink(path);
	EXPECT_EQ(-1, config_load(path, &c, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "No such file"));
}

TEST(source_addresses)
{
	static const struct {
		const char *mode, *addr, *host;
		int port;
	} ok[] = {
		{ "nts", "time.example.com", "time.example.com", 4460 },
		{ "nts", "time.example.com:4461", "time.example.com", 4461 },
		{ "server", "time.example.com", "time.example.com", 123 },
		{ "server", "192.0.2.1:1123", "192.0.2.1", 1123 },
		{ "pool", "pool.ntp.org", "pool.ntp.org", 123 },
		{ "server", "::1", "::1", 123 },
		{ "nts", "2001:db8::1", "2001:db8::1", 4460 },
		{ "server", "[::1]", "::1", 123 },
		{ "nts", "[2001:db8::1]:65535", "2001:db8::1", 65535 },
		{ "server", "localhost:1", "localhost", 1 },
	};
	static const char *const bad[] = {
		"", "host:", "host:0", "host:65536", "host:12x", ":123", "[::1", "[::1]x",
		"[::1]:", "[192.0.2.1]:123", "bad host", "a/b", "::1::2", "-lead.example",
		"h\xc3\xa9st",
	};
	char doc[256];
	struct xnts_config c;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(doc, sizeof(doc), "[[source]]\nmode = \"%s\"\naddress = \"%s\"\n",
			 ok[i].mode, ok[i].addr);
		ASSERT_EQ(0, parse(doc, &c)) TH_LOG("%s: %s", ok[i].addr, err);
		EXPECT_STREQ(ok[i].host, c.sources[0].host);
		EXPECT_EQ(ok[i].port, c.sources[0].port) TH_LOG("%s", ok[i].addr);
		config_free(&c);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[256];

		snprintf(doc, sizeof(doc), "[[source]]\nmode = \"server\"\naddress = \"%s\"\n",
			 bad[i]);
		EXPECT_EQ(-1, parse(doc, &c)) TH_LOG("accepted %s", bad[i]);
		if (!bad[i][0])
			snprintf(want, sizeof(want), "ntp.toml:3:11: 'address' in [[source]]: "
				 "must be a non-empty string without NUL");
		else
			snprintf(want, sizeof(want), "ntp.toml:3:11: 'address' in [[source]]: "
				 "invalid address \"%s\" (expected host, host:port, IPv4[:port], "
				 "IPv6 or [IPv6]:port)", bad[i]);
		EXPECT_STREQ(want, err);
	}
}

TEST(value_parsers)
{
	struct config_addr a;
	struct config_subnet n;
	uint8_t pin[CONFIG_PIN_LEN];

	EXPECT_EQ(0, config_parse_sockaddr("[::]:4460", &a));
	EXPECT_EQ(AF_INET6, a.family);
	EXPECT_EQ(4460, a.port);
	EXPECT_EQ(0, config_parse_sockaddr("127.0.0.1:123", &a));
	EXPECT_EQ(AF_INET, a.family);
	EXPECT_EQ(0, memcmp(a.addr, "\x7f\0\0\x01", 4));
	EXPECT_EQ(123, a.port);
	EXPECT_EQ(-1, config_parse_sockaddr("127.0.0.1", &a));
	EXPECT_EQ(-1, config_parse_sockaddr("::1:123", &a));
	EXPECT_EQ(-1, config_parse_sockaddr("[::1]", &a));
	EXPECT_EQ(-1, config_parse_sockaddr("[127.0.0.1]:1", &a));
	EXPECT_EQ(-1, config_parse_sockaddr("localhost:123", &a));
	EXPECT_EQ(-1, config_parse_sockaddr("1.2.3.4:0", &a));
	EXPECT_EQ(-1, config_parse_sockaddr("1.2.3.4:65536", &a));
	EXPECT_EQ(-1, config_parse_sockaddr("1.2.3.4:+12", &a));
	EXPECT_EQ(-1, config_parse_sockaddr("1.2.3:12", &a));
	EXPECT_EQ(0, config_parse_sockaddr("1.2.3.4:65535", &a));

	EXPECT_EQ(0, config_parse_subnet("10.0.0.0/8", &n));
	EXPECT_EQ(8, n.prefix);
	EXPECT_EQ(0, config_parse_subnet("10.255.1.2/9", &n));
	EXPECT_EQ(0, memcmp(n.addr, "\x0a\x80\0\0", 4));
	EXPECT_EQ(0, config_parse_subnet("::1/128", &n));
	EXPECT_EQ(AF_INET6, n.family);
	EXPECT_EQ(0, config_parse_subnet("::/0", &n));
	EXPECT_EQ(0, n.prefix);
	EXPECT_EQ(0, config_parse_subnet("2001:db8:ffff::/33", &n));
	EXPECT_EQ(0, memcmp(n.addr, "\x20\x01\x0d\xb8\x80\0", 6));
	EXPECT_EQ(-1, config_parse_subnet("10.0.0.0/33", &n));
	EXPECT_EQ(-1, config_parse_subnet("::/129", &n));
	EXPECT_EQ(-1, config_parse_subnet("10.0.0.0/", &n));
	EXPECT_EQ(-1, config_parse_subnet("10.0.0.0/8x", &n));
	EXPECT_EQ(-1, config_parse_subnet("10.0.0.0/-1", &n));
	EXPECT_EQ(-1, config_parse_subnet("/8", &n));
	EXPECT_EQ(-1, config_parse_subnet("example.com/8", &n));

	EXPECT_EQ(0, config_parse_pin("sha256:ffeeddccbbaa99887766554433221100"
				      "FFEEDDCCBBAA99887766554433221100", pin));
	EXPECT_EQ(0xff, pin[0]);
	EXPECT_EQ(0x00, pin[31]);
	EXPECT_EQ(0x11, pin[30]);
	EXPECT_EQ(-1, config_parse_pin("sha256:ffeeddccbbaa99887766554433221100"
				       "FFEEDDCCBBAA9988776655443322110", pin));
	EXPECT_EQ(-1, config_parse_pin("sha256:ffeeddccbbaa99887766554433221100"
				       "FFEEDDCCBBAA998877665544332211000", pin));
	EXPECT_EQ(-1, config_parse_pin("sha256:ffeeddccbbaa99887766554433221100"
				       "FFEEDDCCBBAA9988776655443322110g", pin));
	EXPECT_EQ(-1, config_parse_pin("sha1:ffeeddccbbaa99887766554433221100"
				       "FFEEDDCCBBAA99887766554433221100", pin));
	EXPECT_EQ(-1, config_parse_pin("ffeeddccbbaa99887766554433221100"
				       "FFEEDDCCBBAA99887766554433221100", pin));
}

TEST(thresholds)
{
	static const struct {
		const char *val;
		double fwd, bwd;
	} ok[] = {
		{ "5", 5, 5 },
		{ "2.5", 2.5, 2.5 },
		{ "\"inf\"", INFINITY, INFINITY },
		{ "\"86400\"", 86400, 86400 },
		{ "{ forward = 1, backward = 2 }", 1, 2 },
		{ "{ forward = \"inf\", backward = \"86400\" }", INFINITY, 86400 },
		{ "{ forward = 3 }", 3, INFINITY },
		{ "{ backward = 0.5 }", INFINITY, 0.5 },
		{ "{}", INFINITY, INFINITY },
		{ "0", 0, 0 },
	};
	char doc[256];
	struct xnts_config c;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(doc, sizeof(doc), "[synchronization]\nsingle-step-panic-threshold = %s\n",
			 ok[i].val);
		ASSERT_EQ(0, parse(doc, &c)) TH_LOG("%s: %s", ok[i].val, err);
		EXPECT_EQ(ok[i].fwd, c.synchronization.single_step_panic_threshold.forward);
		EXPECT_EQ(ok[i].bwd, c.synchronization.single_step_panic_threshold.backward);
		config_free(&c);
	}
	ASSERT_EQ(0, parse("[synchronization]\naccumulated-step-panic-threshold = \"inf\"\n", &c));
	EXPECT_TRUE(c.synchronization.has_accumulated_step_panic_threshold);
	EXPECT_TRUE(isinf(c.synchronization.accumulated_step_panic_threshold));
	config_free(&c);
}

/* Each invalid configuration and the exact error it must give. */
static const struct {
	const char *doc;
	const char *want;
} rejects[] = {
	/* unknown keys and tables, named with their position */
	{ "[sources]\n", "ntp.toml:1:2: unknown table 'sources'" },
	{ "[[sourcez]]\n", "ntp.toml:1:3: unknown table 'sourcez'" },
	{ "mode = 1\n", "ntp.toml:1:1: unknown key 'mode'" },
	{ "[observability]\nlog-level = \"info\"\n  log-levle = \"info\"\n",
	  "ntp.toml:3:3: unknown key 'log-levle' in [observability]" },
	{ "[[source]]\nmode = \"nts\"\naddress = \"a\"\nfoo = 1\n",
	  "ntp.toml:4:1: unknown key 'foo' in [[source]]" },
	{ "[[server]]\nlisten = \"[::]:123\"\n[server.extra]\n",
	  "ntp.toml:3:9: unknown key 'extra' in [[server]]" },
	{ "[synchronization.algorithm]\nfoo-bar = 1.0\n",
	  "ntp.toml:2:1: unknown key 'foo-bar' in [synchronization.algorithm]" },
	{ "[synchronization]\nalgorithm.x = 1\n",
	  "ntp.toml:2:11: unknown key 'x' in [synchronization.algorithm]" },
	{ "[keyset]\nstale-keys = 3\n", "ntp.toml:2:1: unknown key 'stale-keys' in [keyset]" },
	{ "[xdp]\nifaces = []\n", "ntp.toml:2:1: unknown key 'ifaces' in [xdp]" },
	{ "[source-defaults]\npoll-interval-limits = { min = 4, maximum = 10 }\n",
	  "ntp.toml:2:35: unknown key 'maximum' in [source-defaults] poll-interval-limits" },
	{ "[synchronization]\nsingle-step-panic-threshold = { fwd = 1 }\n",
	  "ntp.toml:2:33: unknown key 'fwd' in [synchronization] single-step-panic-threshold" },
	{ "[[server]]\nlisten = \"[::]:123\"\nallowlist = { filter = [], act = \"deny\" }\n",
	  "ntp.toml:3:28: unknown key 'act' in [[server]] allowlist" },
	/* wrong types say what was expected */
	{ "[observability]\nlog-level = 3\n",
	  "ntp.toml:2:13: 'log-level' in [observability]: expected a string, found integer" },
	{ "[observability]\nansi-colors = \"yes\"\n",
	  "ntp.toml:2:15: 'ansi-colors' in [observability]: expected a boolean, found string" },
	{ "[keyset]\nstale-key-count = 1.5\n",
	  "ntp.toml:2:19: 'stale-key-count' in [keyset]: expected an integer, found float" },
	{ "[keyset]\nkey-storage-path = [\"a\"]\n",
	  "ntp.toml:2:20: 'key-storage-path' in [keyset]: expected a string, found array" },
	{ "[synchronization.algorithm]\nstep-threshold = \"0.1\"\n",
	  "ntp.toml:2:18: 'step-threshold' in [synchronization.algorithm]: expected a number, "
	  "found string" },
	{ "[synchronization]\nwarn-on-jump = 1\n",
	  "ntp.toml:2:16: 'warn-on-jump' in [synchronization]: expected a boolean, found integer" },
	{ "source = 1\n", "ntp.toml:1:10: 'source': expected an array of tables ([[source]]), "
	  "found integer" },
	{ "[source]\n", "ntp.toml:1:1: 'source': expected an array of tables ([[source]]), "
	  "found table" },
	{ "server = [1]\n", "ntp.toml:1:11: 'server': expected an array of tables ([[server]]), "
	  "found an element of type integer" },
	{ "observability = 1\n",
	  "ntp.toml:1:17: [observability]: expected a table, found integer" },
	{ "[[xdp]]\n", "ntp.toml:1:3: [xdp]: expected a table, found array of tables" },
	{ "[xdp]\ninterfaces = \"eth0\"\n",
	  "ntp.toml:2:14: 'interfaces' in [xdp]: expected an array of interface names, "
	  "found string" },
	{ "[xdp]\ninterfaces = [1]\n",
	  "ntp.toml:2:15: 'interfaces' in [xdp]: expected an array of strings, found an "
	  "element of type integer" },
	{ "[xdp]\ninterfaces = [\"\"]\n",
	  "ntp.toml:2:15: 'interfaces' in [xdp]: \"\" is not a valid interface name" },
	{ "[[server]]\nlisten = \"[::]:123\"\nallowlist = [\"10.0.0.0/8\"]\n",
	  "ntp.toml:3:13: 'allowlist' in [[server]]: expected a table { filter, action }, "
	  "found array" },
	{ "[[server]]\nlisten = \"[::]:123\"\nrequire-nts = 1\n",
	  "ntp.toml:3:15: 'require-nts' in [[server]]: expected a boolean, \"deny\" or "
	  "\"ignore\", found integer" },
	{ "[synchronization]\nsingle-step-panic-threshold = true\n",
	  "ntp.toml:2:31: 'single-step-panic-threshold' in [synchronization]: expected a "
	  "number, \"inf\" or { forward, backward }, found boolean" },
	{ "[source-defaults]\npoll-interval-limits = 4\n",
	  "ntp.toml:2:24: [source-defaults] poll-interval-limits: expected a table, "
	  "found integer" },
	/* enums */
	{ "[observability]\nlog-level = \"verbose\"\n",
	  "ntp.toml:2:13: 'log-level' in [observability]: expected one of \"trace\", \"debug\", "
	  "\"info\", \"warn\", \"error\"" },
	{ "[xdp]\nmode = \"skb\"\n",
	  "ntp.toml:2:8: 'mode' in [xdp]: expected one of \"off\", \"native\", \"generic\"" },
	{ "[synchronization]\nauth-select-mode = \"maybe\"\n",
	  "ntp.toml:2:20: 'auth-select-mode' in [synchronization]: expected one of "
	  "\"prefer\", \"require\", \"mix\", \"ignore\"" },
	{ "[xdp]\nstale-action = \"drop\"\n",
	  "ntp.toml:2:16: 'stale-action' in [xdp]: expected one of \"unsync\", \"pass\"" },
	{ "[[server]]\nlisten = \"[::]:123\"\nrequire-nts = \"drop\"\n",
	  "ntp.toml:3:15: 'require-nts' in [[server]]: expected one of \"ignore\", \"deny\"" },
	{ "[[server]]\nlisten = \"[::]:123\"\ndenylist = { filter = [], action = \"x\" }\n",
	  "ntp.toml:3:36: 'action' in [[server]] denylist: expected one of \"ignore\", \"deny\"" },
	/* sources */
	{ "[[source]]\naddress = \"a\"\n", "ntp.toml:1:1: [[source]]: missing key 'mode'" },
	{ "[[source]]\nmode = \"nts\"\n", "ntp.toml:1:1: [[source]]: missing key 'address'" },
	{ "[[source]]\nmode = \"nts-pool\"\naddress = \"a\"\n",
	  "ntp.toml:2:8: 'mode' in [[source]]: source mode \"nts-pool\" is not supported" },
	{ "[[source]]\nmode = \"sock\"\naddress = \"/run/x\"\n",
	  "ntp.toml:2:8: 'mode' in [[source]]: source mode \"sock\" is not supported" },
	{ "[[source]]\nmode = \"pps\"\naddress = \"/dev/pps0\"\n",
	  "ntp.toml:2:8: 'mode' in [[source]]: source mode \"pps\" is not supported" },
	{ "[[source]]\nmode = \"ntp\"\naddress = \"a\"\n",
	  "ntp.toml:2:8: 'mode' in [[source]]: expected one of \"server\", \"pool\", \"nts\", \"phc\"" },
	{ "[[source]]\nmode = \"server\"\naddress = \"a\"\ncount = 3\n",
	  "ntp.toml:4:1: key 'count' in [[source]] is not valid for mode \"server\"" },
	{ "[[source]]\nmode = \"nts\"\naddress = \"a\"\nignore = []\n",
	  "ntp.toml:4:1: key 'ignore' in [[source]] is not valid for mode \"nts\"" },
	{ "[[source]]\nmode = \"pool\"\naddress = \"a\"\ncertificate-authority = \"x\"\n",
	  "ntp.toml:4:1: key 'certificate-authority' in [[source]] is not valid for mode "
	  "\"pool\"" },
	{ "[[source]]\nmode = \"server\"\naddress = \"a\"\ncertificate-pin = \"x\"\n",
	  "ntp.toml:4:1: key 'certificate-pin' in [[source]] is not valid for mode \"server\"" },
	{ "[[source]]\nmode = \"nts\"\naddress = \"a\"\ncertificate-pin = \"sha256:00\"\n",
	  "ntp.toml:4:19: 'certificate-pin' in [[source]]: expected \"sha256:\" followed by 64 "
	  "hex digits" },
	{ "[[source]]\nmode = \"pool\"\naddress = \"a\"\ncount = 0\n",
	  "ntp.toml:4:9: 'count' in [[source]]: 0 is out of range 1..64" },
	{ "[[source]]\nmode = \"pool\"\naddress = \"a\"\nignore = [\"10.0.0.0/40\"]\n",
	  "ntp.toml:4:11: 'ignore' in [[source]]: invalid subnet \"10.0.0.0/40\" "
	  "(expected address/prefix-length)" },
	{ "[[source]]\nmode = \"server\"\naddress = \"a\"\nntp-version = 5\n",
	  "ntp.toml:4:15: 'ntp-version' in [[source]]: NTPv5 is not supported" },
	{ "[[source]]\nmode = \"server\"\naddress = \"a\"\nntp-version = 3\n",
	  "ntp.toml:4:15: 'ntp-version' in [[source]]: expected 4, 5 or \"auto\"" },
	{ "[[source]]\nmode = \"server\"\naddress = \"a\"\nprecision = 1e-6\n",
	  "ntp.toml:4:1: 'precision' in [[source]] is not supported: the clock filter estimates "
	  "each source's noise from its samples" },
	{ "[[source]]\nmode = \"server\"\naddress = \"a\"\naccuracy = nan\n",
	  "ntp.toml:4:1: 'accuracy' in [[source]] is not supported: the clock filter estimates "
	  "each source's noise from its samples" },
	{ "[[source]]\nmode = \"server\"\naddress = \"a\"\nenable-srv-resolution = true\n",
	  "ntp.toml:4:25: 'enable-srv-resolution' in [[source]]: SRV resolution is not "
	  "supported" },
	{ "[[source]]\nmode = \"server\"\naddress = \"a\"\n"
	  "poll-interval-limits = { min = 8, max = 6 }\n",
	  "ntp.toml:4:24: poll-interval-limits in [[source]]: min (8) is above max (6)" },
	{ "[source-defaults]\npoll-interval-limits = { min = 11 }\n",
	  "ntp.toml:2:24: poll-interval-limits in [source-defaults]: min (11) is above max (10)" },
	{ "[source-defaults]\npoll-interval-limits = { max = 18 }\n",
	  "ntp.toml:2:32: 'max' in [source-defaults] poll-interval-limits: 18 is out of range "
	  "0..17" },
	{ "[source-defaults]\ninitial-poll-interval = -1\n",
	  "ntp.toml:2:25: 'initial-poll-interval' in [source-defaults]: -1 is out of range 0..17" },
	{ "[[source]]\nmode = \"nts\"\naddress = \"a\\u0000b\"\n",
	  "ntp.toml:3:11: 'address' in [[source]]: must be a non-empty string without NUL" },
	/* servers */
	{ "[[server]]\nrequire-nts = true\n", "ntp.toml:1:1: [[server]]: missing key 'listen'" },
	{ "[[server]]\nlisten = \"0.0.0.0\"\n",
	  "ntp.toml:2:10: 'listen' in [[server]]: invalid socket address \"0.0.0.0\" (expected "
	  "IP:port or [IPv6]:port, port 1-65535)" },
	{ "[[server]]\nlisten = \"[::]:0\"\n",
	  "ntp.toml:2:10: 'listen' in [[server]]: invalid socket address \"[::]:0\" (expected "
	  "IP:port or [IPv6]:port, port 1-65535)" },
	{ "[[server]]\nlisten = \"[::]:123\"\nallowlist = { action = \"deny\" }\n",
	  "ntp.toml:3:13: [[server]] allowlist: missing key 'filter'" },
	{ "[[server]]\nlisten = \"[::]:123\"\nallowlist = { filter = [\"10.0.0.0/8\", 7] }\n",
	  "ntp.toml:3:39: 'filter' in [[server]] allowlist: expected a subnet string, found "
	  "integer" },
	{ "[[server]]\nlisten = \"[::]:123\"\ndenylist = { filter = [\"10.0.0.0/8/1\"] }\n",
	  "ntp.toml:3:24: 'filter' in [[server]] denylist: invalid subnet \"10.0.0.0/8/1\" "
	  "(expected address/prefix-length)" },
	{ "[[server]]\nlisten = \"[::]:123\"\naccept-ntp-versions = [4, 5]\n",
	  "ntp.toml:3:27: 'accept-ntp-versions' in [[server]]: NTPv5 is not supported" },
	{ "[[server]]\nlisten = \"[::]:123\"\naccept-ntp-versions = [2]\n",
	  "ntp.toml:3:24: 'accept-ntp-versions' in [[server]]: version 2 is not allowed here" },
	{ "[[server]]\nlisten = \"[::]:123\"\naccept-ntp-versions = []\n",
	  "ntp.toml:3:23: 'accept-ntp-versions' in [[server]]: must list at least one version" },
	{ "[[server]]\nlisten = \"[::]:123\"\nrate-limiting-cutoff-ms = -1\n",
	  "ntp.toml:3:27: 'rate-limiting-cutoff-ms' in [[server]]: -1 is out of range "
	  "0..86400000" },
	{ "[[server]]\nlisten = \"[::]:123\"\nrate-limiting-burst = 0\n",
	  "ntp.toml:3:23: 'rate-limiting-burst' in [[server]]: 0 is out of range 1..1000" },
	{ "[[server]]\nlisten = \"[::]:123\"\nrate-limiting-ipv6-prefix = 129\n",
	  "ntp.toml:3:29: 'rate-limiting-ipv6-prefix' in [[server]]: 129 is out of range "
	  "16..128" },
	/* NTS-KE servers */
	{ "[[nts-ke-server]]\nlisten = \"[::]:4460\"\nprivate-key-path = \"k\"\n",
	  "ntp.toml:1:1: [[nts-ke-server]]: missing key 'certificate-chain-path'" },
	{ "[[nts-ke-server]]\nlisten = \"[::]:4460\"\ncertificate-chain-path = \"c\"\n",
	  "ntp.toml:1:1: [[nts-ke-server]]: missing key 'private-key-path'" },
	{ "[[nts-ke-server]]\ncertificate-chain-path = \"c\"\nprivate-key-path = \"k\"\n",
	  "ntp.toml:1:1: [[nts-ke-server]]: missing key 'listen'" },
	{ "[[nts-ke-server]]\nlisten = \"[::]:4460\"\ncertificate-chain-path = \"c\"\n"
	  "private-key-path = \"k\"\naccept-ntp-versions = [3]\n",
	  "ntp.toml:5:24: 'accept-ntp-versions' in [[nts-ke-server]]: version 3 is not allowed "
	  "here" },
	{ "[[nts-ke-server]]\nlisten = \"[::]:4460\"\ncertificate-chain-path = \"c\"\n"
	  "private-key-path = \"k\"\naead-algorithms = [15, 16]\n",
	  "ntp.toml:5:24: 'aead-algorithms' in [[nts-ke-server]]: AEAD 16 is not supported (15, "
	  "17 and 30 are)" },
	{ "[[nts-ke-server]]\nlisten = \"[::]:4460\"\ncertificate-chain-path = \"c\"\n"
	  "private-key-path = \"k\"\naead-algorithms = [30, 30]\n",
	  "ntp.toml:5:24: 'aead-algorithms' in [[nts-ke-server]]: AEAD 30 is listed twice" },
	{ "[[nts-ke-server]]\nlisten = \"[::]:4460\"\ncertificate-chain-path = \"c\"\n"
	  "private-key-path = \"k\"\naead-algorithms = []\n",
	  "ntp.toml:5:19: 'aead-algorithms' in [[nts-ke-server]]: must list at least one AEAD" },
	{ "[[nts-ke-server]]\nlisten = \"[::]:4460\"\ncertificate-chain-path = \"c\"\n"
	  "private-key-path = \"k\"\nntp-port = 70000\n",
	  "ntp.toml:5:12: 'ntp-port' in [[nts-ke-server]]: 70000 is out of range 1..65535" },
	{ "[[nts-ke-server]]\nlisten = \"[::]:4460\"\ncertificate-chain-path = \"c\"\n"
	  "private-key-path = \"k\"\nntp-server = \"a b\"\n",
	  "ntp.toml:5:14: 'ntp-server' in [[nts-ke-server]]: \"a b\" is not a host name, IPv4 "
	  "or IPv6 address" },
	{ "[[nts-ke-server]]\nlisten = \"[::]:4460\"\ncertificate-chain-path = \"c\"\n"
	  "private-key-path = \"k\"\nntp-server = \"[::1]\"\n",
	  "ntp.toml:5:14: 'ntp-server' in [[nts-ke-server]]: \"[::1]\" is not a host name, IPv4 "
	  "or IPv6 address" },
	{ "[[nts-ke-server]]\nlisten = \"[::]:4460\"\ncertificate-chain-path = \"c\"\n"
	  "private-key-path = \"k\"\nconcurrent-connections = 10\nlonglived-connections = 11\n",
	  "ntp.toml:6:25: 'longlived-connections' in [[nts-ke-server]]: 11 is more than "
	  "concurrent-connections (10)" },
	{ "[[nts-ke-server]]\nlisten = \"[::]:4460\"\ncertificate-chain-path = \"\"\n"
	  "private-key-path = \"k\"\n",
	  "ntp.toml:3:26: 'certificate-chain-path' in [[nts-ke-server]]: must be a non-empty "
	  "string without NUL" },
	{ "[[nts-ke-server]]\nlisten = \"[::]:4460\"\ncertificate-chain-path = \"c\"\n"
	  "private-key-path = \"k\"\naccepted-pool-authentication-tokens = [\"a\", 1]\n",
	  "ntp.toml:5:45: 'accepted-pool-authentication-tokens' in [[nts-ke-server]]: token 2: "
	  "expected a string, found integer" },
	/* A token is a secret: the error names its position, never its value. */
	{ "[[nts-ke-server]]\nlisten = \"[::]:4460\"\ncertificate-chain-path = \"c\"\n"
	  "private-key-path = \"k\"\naccepted-pool-authentication-tokens = [\"s3cr3t\", \"\"]\n",
	  "ntp.toml:5:50: 'accepted-pool-authentication-tokens' in [[nts-ke-server]]: token 2: "
	  "must be 1 to 1024 bytes without NUL" },
	{ "[[nts-ke-server]]\nlisten = \"[::]:4460\"\ncertificate-chain-path = \"c\"\n"
	  "private-key-path = \"k\"\naccepted-pool-authentication-tokens = \"s3cr3t\"\n",
	  "ntp.toml:5:39: 'accepted-pool-authentication-tokens' in [[nts-ke-server]]: expected "
	  "an array of strings, found string" },
	{ "[[nts-ke-server]]\nlisten = \"[::]:4460\"\ncertificate-chain-path = \"c\"\n"
	  "private-key-path = \"k\"\nlonglived-max-requests = 0\n",
	  "ntp.toml:5:26: 'longlived-max-requests' in [[nts-ke-server]]: 0 is out of range "
	  "1..1000000000" },
	/* synchronization */
	{ "[synchronization]\nlocal-stratum = 0\n",
	  "ntp.toml:2:17: 'local-stratum' in [synchronization]: 0 is out of range 1..16" },
	{ "[synchronization]\nlocal-stratum = 17\n",
	  "ntp.toml:2:17: 'local-stratum' in [synchronization]: 17 is out of range 1..16" },
	{ "[synchronization]\nreference-id = \"\"\n",
	  "ntp.toml:2:16: 'reference-id' in [synchronization]: expected 1 to 4 printable "
	  "ASCII characters" },
	{ "[synchronization]\nreference-id = \"GPSXY\"\n",
	  "ntp.toml:2:16: 'reference-id' in [synchronization]: expected 1 to 4 printable "
	  "ASCII characters" },
	{ "[synchronization]\nreference-id = \"G\\u00e9S\"\n",
	  "ntp.toml:2:16: 'reference-id' in [synchronization]: expected 1 to 4 printable "
	  "ASCII characters" },
	{ "[synchronization]\nreference-id = \"AB\\tC\"\n",
	  "ntp.toml:2:16: 'reference-id' in [synchronization]: expected 1 to 4 printable "
	  "ASCII characters" },
	{ "[synchronization]\nminimum-agreeing-sources = 0\n",
	  "ntp.toml:2:28: 'minimum-agreeing-sources' in [synchronization]: 0 is out of range "
	  "1..1000" },
	{ "[synchronization]\nsingle-step-panic-threshold = -1\n",
	  "ntp.toml:2:31: 'single-step-panic-threshold' in [synchronization]: -1 is out of range "
	  "0..inf" },
	{ "[synchronization]\nsingle-step-panic-threshold = \"infinite\"\n",
	  "ntp.toml:2:31: 'single-step-panic-threshold' in [synchronization]: expected a number "
	  "of seconds or \"inf\"" },
	{ "[synchronization]\nstartup-step-panic-threshold = { forward = \"1e999\" }\n",
	  "ntp.toml:2:44: 'forward' in [synchronization] startup-step-panic-threshold: expected "
	  "a number of seconds or \"inf\"" },
	{ "[synchronization]\nstartup-step-panic-threshold = { backward = \"-5\" }\n",
	  "ntp.toml:2:45: 'backward' in [synchronization] startup-step-panic-threshold: expected "
	  "a number of seconds or \"inf\"" },
	{ "[synchronization]\naccumulated-step-panic-threshold = {}\n",
	  "ntp.toml:2:36: 'accumulated-step-panic-threshold' in [synchronization]: expected a "
	  "number of seconds, found table" },
	{ "[synchronization.algorithm]\nprecision-low-probability = 0.3\n",
	  "ntp.toml:2:1: 'precision-low-probability' in [synchronization.algorithm] is not "
	  "supported: xnts's clock algorithm has no such parameter" },
	{ "[synchronization.algorithm]\nstep-threshold = -inf\n",
	  "ntp.toml:2:18: 'step-threshold' in [synchronization.algorithm]: -inf is out of range "
	  "0..inf" },
	/* observability, keyset */
	{ "[observability]\nobservation-permissions = 0o1777\n",
	  "ntp.toml:2:27: 'observation-permissions' in [observability]: 1023 is out of range "
	  "0..511" },
	{ "[observability]\nmetrics-exporter-listen = \"localhost:9975\"\n",
	  "ntp.toml:2:27: 'metrics-exporter-listen' in [observability]: invalid socket address "
	  "\"localhost:9975\" (expected IP:port or [IPv6]:port, port 1-65535)" },
	{ "[keyset]\nkey-rotation-interval = 0\n",
	  "ntp.toml:2:25: 'key-rotation-interval' in [keyset]: 0 is out of range 1..31536000" },
	{ "[keyset]\nshared-secret-path = \"/s\"\nkey-storage-path = \"/k\"\n",
	  "ntp.toml:3:20: [keyset]: 'key-storage-path' and 'shared-secret-path' exclude each other "
	  "(derived keys are never stored)" },
	{ "[keyset]\nprevious-shared-secret-path = \"/p\"\n",
	  "ntp.toml:2:31: [keyset]: 'previous-shared-secret-path' needs 'shared-secret-path'" },
	{ "[keyset]\nshared-secret-path = \"/s\"\nprevious-shared-secret-grace = 10\n",
	  "ntp.toml:3:32: [keyset]: 'previous-shared-secret-grace' needs 'previous-shared-secret-path'" },
	{ "[keyset]\nshared-secret-path = \"/s\"\nprevious-shared-secret-path = \"/p\"\n"
	  "previous-shared-secret-grace = 0\n",
	  "ntp.toml:4:32: 'previous-shared-secret-grace' in [keyset]: 0 is out of range 1..315360000" },
	/* xdp */
	{ "[xdp]\nmode = \"native\"\n",
	  "ntp.toml:1:1: [xdp]: mode \"native\" needs at least one entry in 'interfaces'" },
	{ "[xdp]\ninterfaces = [\"eth0\", \"eth0\"]\n",
	  "ntp.toml:2:23: 'interfaces' in [xdp]: \"eth0\" listed twice" },
	{ "[xdp]\ninterfaces = [\"a-very-long-name\"]\n",
	  "ntp.toml:2:15: 'interfaces' in [xdp]: \"a-very-long-name\" is not a valid interface "
	  "name" },
	{ "[xdp]\ninterfaces = [\"eth/0\"]\n",
	  "ntp.toml:2:15: 'interfaces' in [xdp]: \"eth/0\" is not a valid interface name" },
	{ "[xdp]\ninterfaces = [\"..\"]\n",
	  "ntp.toml:2:15: 'interfaces' in [xdp]: \"..\" is not a valid interface name" },
	{ "[xdp]\ninterfaces = [\"eth 0\"]\n",
	  "ntp.toml:2:15: 'interfaces' in [xdp]: \"eth 0\" is not a valid interface name" },
	{ "[xdp]\nheartbeat-timeout-ms = 0\n",
	  "ntp.toml:2:24: 'heartbeat-timeout-ms' in [xdp]: 0 is out of range 1..3600000" },
	{ "[xdp]\nkeep-serving-on-exit = \"yes\"\n",
	  "ntp.toml:2:24: 'keep-serving-on-exit' in [xdp]: expected a boolean, found string" },
	{ "[xdp]\npin-path = \"xnts\"\n",
	  "ntp.toml:2:12: 'pin-path' in [xdp]: expected an absolute path of at most 200 bytes" },
	{ "[daemon]\nuser = \"\"\n",
	  "ntp.toml:2:8: 'user' in [daemon]: must be a non-empty string without NUL" },
	{ "[daemon]\nuser = \"abcdefghijklmnopqrstuvwxyz0123456\"\n",
	  "ntp.toml:2:8: 'user' in [daemon]: expected a user name of at most 32 bytes" },
	{ "[daemon]\nuser = 0\n",
	  "ntp.toml:2:8: 'user' in [daemon]: expected a string, found integer" },
	{ "[daemon]\ngroup = \"x\"\n",
	  "ntp.toml:2:1: unknown key 'group' in [daemon]" },
	/* TOML errors come through unchanged */
	{ "[[source]]\nmode = \"nts\"\nmode = \"server\"\n",
	  "ntp.toml:3:1: duplicate key 'mode' (first defined at 2:1)" },
};

TEST(rejections_name_key_and_position)
{
	for (size_t i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		struct xnts_config c;

		EXPECT_EQ(-1, parse(rejects[i].doc, &c)) TH_LOG("accepted #%zu", i);
		EXPECT_STREQ(rejects[i].want, err) TH_LOG("#%zu", i);
		/* A failed parse leaves nothing allocated. */
		EXPECT_EQ(NULL, c.sources);
		EXPECT_EQ(NULL, c.servers);
		EXPECT_EQ(NULL, c.nts_ke_servers);
		EXPECT_EQ(NULL, c.xdp.interfaces);
	}
}

TEST(source_defaults_apply_regardless_of_order)
{
	static const char doc[] =
		"[[source]]\nmode = \"server\"\naddress = \"a\"\n"
		"[source-defaults]\npoll-interval-limits = { min = 2, max = 3 }\n"
		"initial-poll-interval = 2\n";
	struct xnts_config c;

	ASSERT_EQ(0, parse(doc, &c)) TH_LOG("%s", err);
	EXPECT_EQ(2, c.sources[0].poll_limits.min);
	EXPECT_EQ(3, c.sources[0].poll_limits.max);
	EXPECT_EQ(2, c.sources[0].initial_poll);
	config_free(&c);
}

TEST(inline_array_of_tables_form)
{
	static const char doc[] =
		"source = [ { mode = \"nts\", address = \"a.example\" },\n"
		"           { mode = \"server\", address = \"b.example:124\" } ]\n";
	struct xnts_config c;

	ASSERT_EQ(0, parse(doc, &c)) TH_LOG("%s", err);
	ASSERT_EQ(2, c.n_sources);
	EXPECT_EQ(4460, c.sources[0].port);
	EXPECT_EQ(124, c.sources[1].port);
	config_free(&c);
}

TEST(truncated_error_buffer)
{
	struct xnts_config c;
	char small[12];

	EXPECT_EQ(-1, config_parse("ntp.toml", "x = 1", 5, &c, small, sizeof(small)));
	EXPECT_STREQ("ntp.toml:1:", small);
	EXPECT_EQ(-1, config_parse("ntp.toml", "x = 1", 5, &c, NULL, 0));
}

TEST_HARNESS_MAIN

/* xnts extension: mode "phc" with a device path or an interface. */
TEST(phc_source)
{
	struct xnts_config c;

	ASSERT_EQ(0, parse("[[source]]\nmode = \"phc\"\npath = \"/dev/ptp0\"\n"
			   "poll-interval-limits = { min = 0, max = 2 }\n"
			   "[[source]]\nmode = \"phc\"\ninterface = \"eth0\"\n"
			   "phc-scale = \"utc\"\n", &c)) TH_LOG("%s", err);
	ASSERT_EQ(2, c.n_sources);
	EXPECT_EQ(CONFIG_SOURCE_PHC, c.sources[0].mode);
	EXPECT_STREQ("/dev/ptp0", c.sources[0].phc_path);
	EXPECT_STREQ("/dev/ptp0", c.sources[0].host);
	EXPECT_EQ(CONFIG_PHC_TAI, c.sources[0].phc_scale);
	EXPECT_EQ(0, c.sources[0].poll_limits.min);
	EXPECT_EQ(NULL, c.sources[1].phc_path);
	EXPECT_STREQ("eth0", c.sources[1].phc_interface);
	EXPECT_STREQ("eth0", c.sources[1].host);
	EXPECT_EQ(CONFIG_PHC_UTC, c.sources[1].phc_scale);
	config_free(&c);
}

TEST(phc_source_rejections)
{
	static const char *const bad[][2] = {
		{ "[[source]]\nmode = \"phc\"\n", "exactly one of 'path' and 'interface'" },
		{ "[[source]]\nmode = \"phc\"\npath = \"/dev/ptp0\"\ninterface = \"eth0\"\n",
		  "exactly one of 'path' and 'interface'" },
		{ "[[source]]\nmode = \"phc\"\npath = \"ptp0\"\n", "absolute device path" },
		{ "[[source]]\nmode = \"phc\"\ninterface = \"a/b\"\n", "invalid interface name" },
		{ "[[source]]\nmode = \"phc\"\ninterface = \"eth0\"\nphc-scale = \"gps\"\n",
		  "expected one of \"tai\", \"utc\"" },
		{ "[[source]]\nmode = \"phc\"\npath = \"/dev/ptp0\"\naddress = \"x\"\n",
		  "not valid for mode \"phc\"" },
		{ "[[source]]\nmode = \"server\"\naddress = \"x\"\npath = \"/dev/ptp0\"\n",
		  "not valid for mode \"server\"" },
	};
	struct xnts_config c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-1, parse(bad[i][0], &c)) TH_LOG("case %zu accepted", i);
		EXPECT_NE(NULL, strstr(err, bad[i][1])) TH_LOG("case %zu: %s", i, err);
	}
}

TEST(server_hardware_timestamps)
{
	struct xnts_config c;

	ASSERT_EQ(0, parse("[[server]]\nlisten = \"127.0.0.1:123\"\n"
			   "[[server]]\nlisten = \"[::1]:123\"\nhardware-timestamps = \"eth1\"\n",
			   &c)) TH_LOG("%s", err);
	ASSERT_EQ(2, c.n_servers);
	EXPECT_STREQ("", c.servers[0].hardware_timestamps);
	EXPECT_STREQ("eth1", c.servers[1].hardware_timestamps);
	config_free(&c);
	EXPECT_EQ(-1, parse("[[server]]\nlisten = \"127.0.0.1:123\"\n"
			    "hardware-timestamps = \"a b\"\n", &c));
	EXPECT_NE(NULL, strstr(err, "expected an interface name")) TH_LOG("%s", err);
	EXPECT_EQ(-1, parse("[[server]]\nlisten = \"127.0.0.1:123\"\n"
			    "hardware-timestamps = true\n", &c));
}
