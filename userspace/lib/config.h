/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config: the xnts configuration (ntpd-rs's ntp.toml schema plus the xnts
 * extensions) mapped from a TOML tree onto struct xnts_config.
 *
 * Contract:
 * - config_parse() (and the system layer's config_load(), which reads the
 *   file first: userspace/sys/load.h) fill cfg completely: every key not written
 *   in the file gets its documented default (Documentation/configuration.md).
 *   On failure they return -1, cfg holds nothing that needs freeing, and err
 *   holds "FILE:LINE:COL: message" naming the offending key or value.
 * - Unknown keys and tables are errors, as are values of the wrong type or
 *   out of range. Features xnts does not implement (source modes nts-pool,
 *   sock and pps; NTPv5) are rejected with a "not supported" message.
 * - No name resolution happens here: a source address keeps its host name
 *   as text; listen addresses must be IP literals.
 * - Durations are integers in the unit their key names (seconds or ms).
 * - config_free() releases what a successful parse allocated; it may be
 *   called on a zeroed struct and twice.
 */
#ifndef XNTS_CONFIG_H
#define XNTS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_NTS_KE_PORT 4460
#define CONFIG_NTP_PORT 123
#define CONFIG_PIN_LEN 32	/* SHA-256 */
#define CONFIG_IFNAME_MAX 16	/* IFNAMSIZ, including the NUL */
/* [xdp] af-xdp-batch-wait-us default: see Documentation/design.md, AF_XDP. */
#define XNTS_AF_XDP_BATCH_WAIT_US 100

/* An IP address with port; family is AF_INET or AF_INET6. */
struct config_addr {
	int family;
	uint8_t addr[16];	/* network order; 4 bytes used for AF_INET */
	uint16_t port;		/* host order */
};

struct config_subnet {
	int family;
	uint8_t addr[16];	/* host bits beyond prefix are cleared */
	uint8_t prefix;
};

enum config_filter_action {
	CONFIG_ACTION_IGNORE,	/* drop silently */
	CONFIG_ACTION_DENY,	/* answer with a DENY kiss-o'-death */
};

struct config_filter {
	bool set;
	enum config_filter_action action;
	struct config_subnet *subnets;
	size_t n_subnets;
};

/* Step limits in seconds; INFINITY means no limit in that direction. */
struct config_threshold {
	double forward, backward;
};

struct config_poll_limits {
	int min, max;		/* log2 seconds */
};

enum config_source_mode {
	CONFIG_SOURCE_SERVER,
	CONFIG_SOURCE_POOL,
	CONFIG_SOURCE_NTS,
	CONFIG_SOURCE_PHC,	/* xnts extension: a PTP hardware clock as reference */
};

/* What a PHC's time counts: TAI (the PTP timescale) or UTC. */
enum config_phc_scale {
	CONFIG_PHC_TAI,
	CONFIG_PHC_UTC,
};

struct config_source {
	enum config_source_mode mode;
	char *host;		/* name or IP literal without brackets */
	uint16_t port;		/* 4460 for nts, 123 otherwise, unless given */
	char *certificate_authority;	/* nts: extra CA file, or NULL */
	unsigned int count;	/* pool: how many servers, default 4 */
	struct config_subnet *ignore;	/* pool: addresses never used */
	size_t n_ignore;
	struct config_poll_limits poll_limits;
	int initial_poll;
	int ntp_version;	/* 4, or 0 for "auto" */
	bool has_pin;		/* xnts extension: certificate-pin */
	uint8_t pin[CONFIG_PIN_LEN];	/* SHA-256 of the server's SPKI DER */
	/*
	 * phc: the device (path), or the interface whose PHC to use; exactly
	 * one is set. host then holds a copy of whichever was given, as the
	 * source's name.
	 */
	char *phc_path;
	char phc_interface[CONFIG_IFNAME_MAX];
	enum config_phc_scale phc_scale;	/* default TAI */
	unsigned int line;	/* where its [[source]] header is */
};

struct config_server {
	struct config_addr listen;
	uint64_t rate_limiting_cache_size;
	uint64_t rate_limiting_cutoff_ms;
	/* xnts extensions: token bucket size; IPv6 clients counted per prefix */
	unsigned int rate_limiting_burst;	/* default 1 */
	unsigned int rate_limiting_ipv6_prefix;	/* default 64 */
	struct config_filter allowlist, denylist;
	bool require_nts;
	enum config_filter_action require_nts_action;
	unsigned int accept_ntp_versions;	/* bit v set: NTPv<v> accepted */
	/* xnts extension: NIC receive timestamps from this interface ("": off) */
	char hardware_timestamps[CONFIG_IFNAME_MAX];
};

enum config_log_level {
	CONFIG_LOG_TRACE,
	CONFIG_LOG_DEBUG,
	CONFIG_LOG_INFO,
	CONFIG_LOG_WARN,
	CONFIG_LOG_ERROR,
};

struct config_observability {
	enum config_log_level log_level;
	char *log_path;
	char *log_path_metrics_exporter;
	int ansi_colors;	/* -1 unset (decide by terminal), 0, 1 */
	char *observation_path;
	unsigned int observation_permissions;
	struct config_addr metrics_exporter_listen;
	int metrics_exporter;	/* metrics-exporter-listen given: xntsd serves it */
};

struct config_keyset {
	unsigned int stale_key_count;
	uint64_t key_rotation_interval;	/* seconds */
	char *key_storage_path;
	/* xnts extension: keys derived from a secret a fleet shares. */
	char *shared_secret_path;
	char *previous_shared_secret_path;
	uint64_t previous_shared_secret_grace;	/* seconds; 0: (stale + 2) periods */
};

#define CONFIG_POOL_TOKEN_DIGEST 32	/* SHA-256 */
#define CONFIG_MAX_POOL_TOKENS 64

struct config_nts_ke_server {
	struct config_addr listen;
	char *certificate_chain_path;
	char *private_key_path;
	uint64_t key_exchange_timeout_ms;
	unsigned int concurrent_connections;
	/* xnts extensions: per client address (IPv6: per /64), 0 = no limit */
	unsigned int per_client_connections;
	unsigned int per_client_accept_rate;	/* connections per second */
	unsigned int per_client_accept_burst;
	unsigned int workers;	/* 0: one per online CPU */
	uint16_t ntp_port;	/* 0: not sent to clients */
	char *ntp_server;	/* NULL: not sent to clients */
	unsigned int accept_ntp_versions;	/* bit mask as in config_server */
	uint16_t aeads[3];	/* aead-algorithms: preference order */
	unsigned int n_aeads;
	/*
	 * NTS pools. The tokens are secrets: only their SHA-256 is kept, so
	 * nothing can print them. longlived_connections as ntpd-rs (default
	 * concurrent-connections / 10); the longlived_max_* bounds are ours.
	 */
	uint8_t (*pool_token_digests)[CONFIG_POOL_TOKEN_DIGEST];
	unsigned int n_pool_tokens;
	unsigned int longlived_connections;
	unsigned int longlived_max_requests;
	uint64_t longlived_idle_timeout_ms;
	uint64_t longlived_max_duration_ms;
};

struct config_algorithm {
	double initial_wander;
	double initial_frequency_uncertainty;
	double maximum_source_uncertainty;
	double step_threshold;
	double slew_maximum_frequency_offset;
	double slew_minimum_duration;
	double maximum_frequency_steer;
	bool ignore_server_dispersion;
};

/* How authentication weighs in source selection (selection.h, same order). */
enum config_auth_select {
	CONFIG_AUTH_SELECT_PREFER,
	CONFIG_AUTH_SELECT_REQUIRE,
	CONFIG_AUTH_SELECT_MIX,
	CONFIG_AUTH_SELECT_IGNORE,
};

struct config_synchronization {
	unsigned int minimum_agreeing_sources;
	enum config_auth_select auth_select_mode;	/* xnts extension */
	struct config_threshold single_step_panic_threshold;
	struct config_threshold startup_step_panic_threshold;
	bool has_accumulated_step_panic_threshold;
	double accumulated_step_panic_threshold;
	bool warn_on_jump;
	unsigned int local_stratum;
	char reference_id[5];		/* as written, NUL terminated */
	uint32_t reference_id_value;	/* the four bytes, big endian */
	struct config_algorithm algorithm;
};

enum config_xdp_mode {
	CONFIG_XDP_OFF,
	CONFIG_XDP_NATIVE,
	CONFIG_XDP_GENERIC,
};

enum config_xdp_stale {
	CONFIG_XDP_STALE_UNSYNC,	/* answer with leap indicator 3 */
	CONFIG_XDP_STALE_PASS,		/* hand requests to the daemon */
};

/* How requests the XDP program does not answer reach the daemon. */
enum config_xdp_userspace {
	CONFIG_XDP_US_AUTO,	/* AF_XDP unless the NTS variant answers NTS in XDP */
	CONFIG_XDP_US_AF_XDP,	/* AF_XDP sockets, whichever variant runs */
	CONFIG_XDP_US_SOCKET,	/* the kernel stack and the UDP sockets */
};

/* xnts extension: the XDP fast path. */
struct config_xdp {
	char (*interfaces)[CONFIG_IFNAME_MAX];
	size_t n_interfaces;
	enum config_xdp_mode mode;
	uint64_t heartbeat_timeout_ms;
	enum config_xdp_stale stale_action;
	bool keep_serving_on_exit;
	char *pin_path;		/* bpffs directory for the pins; NULL: the default */
	enum config_xdp_userspace userspace_path;
	uint64_t af_xdp_batch_wait_us;	/* let an AF_XDP batch gather this long; 0: never */
};

/* [daemon] (xnts extension): how the process runs. */
struct config_daemon {
	char *user;	/* switch to this user after start-up; NULL: "xnts" */
};

struct xnts_config {
	struct config_poll_limits default_poll_limits;	/* [source-defaults] */
	int default_initial_poll;
	struct config_source *sources;
	size_t n_sources;
	struct config_server *servers;
	size_t n_servers;
	struct config_observability observability;
	struct config_keyset keyset;
	struct config_nts_ke_server *nts_ke_servers;
	size_t n_nts_ke_servers;
	struct config_synchronization synchronization;
	struct config_xdp xdp;
	struct config_daemon daemon;
};

int config_parse(const char *name, const char *buf, size_t len, struct xnts_config *cfg,
		 char *err, size_t errlen);
void config_free(struct xnts_config *cfg);
/* cfg with every default, nothing allocated. */
void config_defaults(struct xnts_config *cfg);

/* Parsers for single values, shared with the tools: 0 on success, -1 if invalid. */
/*
 * Every key the parser knows, section by section ("[[source]]", "[keyset]",
 * ...): supported is false for the keys it refuses by name ("not
 * supported"). For tests that hold the schema to its rule.
 */
typedef void (*config_schema_fn)(const char *section, const char *key, bool supported,
				 void *arg);
void config_schema_walk(config_schema_fn fn, void *arg);

int config_parse_sockaddr(const char *s, struct config_addr *out);
int config_parse_subnet(const char *s, struct config_subnet *out);
int config_parse_pin(const char *s, uint8_t pin[CONFIG_PIN_LEN]);

#endif
