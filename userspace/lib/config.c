// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration schema. Each section is described by a table of fields
 * (key, kind, where it goes, range); one walker applies it, so that every
 * key is checked the same way and an unknown key is always reported with
 * its position.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include "config.h"
#include "ke_proto.h"
#include "xnts_ratelimit.h"
#include "toml.h"

_Static_assert(CONFIG_POOL_TOKEN_DIGEST == KE_PROTO_TOKEN_DIGEST,
	       "config keeps pool tokens as ke_proto hashes them");

struct ctx {
	const char *name;
	char *err;
	size_t errlen;
	bool failed;
};

static int fail_at(struct ctx *c, unsigned int line, unsigned int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_at(struct ctx *c, unsigned int line, unsigned int col, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->failed)
		return -1;
	c->failed = true;
	if (!c->err || !c->errlen)
		return -1;
	n = snprintf(c->err, c->errlen, "%s:%u:%u: ", c->name, line, col);
	if (n < 0 || (size_t)n >= c->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Error at a value, naming the key it belongs to. */
#define fail_val(c, v, ...) fail_at(c, (v)->line, (v)->col, __VA_ARGS__)
#define fail_key(c, v, ...) fail_at(c, (v)->key_line, (v)->key_col, __VA_ARGS__)

/* ---- single values ---- */

static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t k;

	if (!*s || strlen(s) > 5)
		return -1;
	for (k = 0; s[k]; k++) {
		if (s[k] < '0' || s[k] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[k] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int parse_ip(const char *s, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

/* "[v6]:port" or "v4:port"; the port is required. */
int config_parse_sockaddr(const char *s, struct config_addr *out)
{
	char host[64];
	const char *colon, *hs = s;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return -1;
		hs = s + 1;
		hl = (size_t)(end - hs);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return -1;
		hl = (size_t)(colon - s);
	}
	if (!hl || hl >= sizeof(host))
		return -1;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (parse_ip(host, &out->family, out->addr))
		return -1;
	if (s[0] == '[' && out->family != AF_INET6)
		return -1;
	return parse_port(colon + 1, &out->port);
}

/* "addr/prefix", or a bare address meaning a single host. */
int config_parse_subnet(const char *s, struct config_subnet *out)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	unsigned int bits, prefix = 0, k;

	memset(out, 0, sizeof(*out));
	if (!hl || hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (parse_ip(host, &out->family, out->addr))
		return -1;
	bits = out->family == AF_INET ? 32 : 128;
	if (!slash) {
		prefix = bits;
	} else {
		const char *d = slash + 1;

		if (!*d || strlen(d) > 3)
			return -1;
		for (k = 0; d[k]; k++) {
			if (d[k] < '0' || d[k] > '9')
				return -1;
			prefix = prefix * 10 + (unsigned int)(d[k] - '0');
		}
		if (prefix > bits)
			return -1;
	}
	out->prefix = (uint8_t)prefix;
	/* Clear host bits so that matching is a plain masked compare. */
	for (k = prefix; k < bits; k++)
		out->addr[k / 8] &= (uint8_t)~(0x80u >> (k % 8));
	return 0;
}

int config_parse_pin(const char *s, uint8_t pin[CONFIG_PIN_LEN])
{
	static const char prefix[] = "sha256:";
	size_t k;

	if (strncmp(s, prefix, sizeof(prefix) - 1))
		return -1;
	s += sizeof(prefix) - 1;
	if (strlen(s) != 2 * CONFIG_PIN_LEN)
		return -1;
	for (k = 0; k < 2 * CONFIG_PIN_LEN; k++) {
		char ch = s[k];
		int v;

		if (ch >= '0' && ch <= '9')
			v = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			v = ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			v = ch - 'A' + 10;
		else
			return -1;
		if (k % 2)
			pin[k / 2] |= (uint8_t)v;
		else
			pin[k / 2] = (uint8_t)(v << 4);
	}
	return 0;
}

static bool valid_hostname(const char *s)
{
	size_t n = strlen(s), k;

	if (!n || n > 253)
		return false;
	for (k = 0; k < n; k++) {
		char ch = s[k];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_'))
			return false;
	}
	return s[0] != '.' && s[0] != '-';
}

/*
 * A source address: "host", "host:port", "v4", "v4:port", "v6", "[v6]",
 * "[v6]:port". Without a port, def_port.
 */
static int parse_source_address(const char *s, char **host, uint16_t *port, uint16_t def_port)
{
	const char *hs = s, *ps = NULL;
	size_t hl;
	const char *c1 = strchr(s, ':');
	char buf[256];
	int family;
	uint8_t addr[16];

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end)
			return -1;
		hs = s + 1;
		hl = (size_t)(end - hs);
		if (end[1] == ':')
			ps = end + 2;
		else if (end[1])
			return -1;
	} else if (c1 && strchr(c1 + 1, ':')) {
		hl = strlen(s);	/* bare IPv6 literal */
	} else if (c1) {
		hl = (size_t)(c1 - s);
		ps = c1 + 1;
	} else {
		hl = strlen(s);
	}
	if (!hl || hl >= sizeof(buf))
		return -1;
	memcpy(buf, hs, hl);
	buf[hl] = '\0';
	if (s[0] == '[' || (c1 && !ps)) {
		if (parse_ip(buf, &family, addr) || family != AF_INET6)
			return -1;
	} else if (!valid_hostname(buf)) {
		return -1;
	}
	*port = def_port;
	if (ps && parse_port(ps, port))
		return -1;
	*host = strdup(buf);
	return *host ? 0 : -1;
}

/* ---- typed getters ---- */

static const char *found(const struct toml_node *v)
{
	if (v->type == TOML_ARRAY && v->flags & TOML_F_AOT)
		return "array of tables";
	return toml_type_name(v->type);
}

static int want_type(struct ctx *c, const struct toml_node *v, const char *sect,
		     enum toml_type t, const char *what)
{
	if (v->type == t)
		return 0;
	return fail_val(c, v, "'%s' in %s: expected %s, found %s", v->key ? v->key : "value",
			sect, what, found(v));
}

/* A string that must be a usable C string (no U+0000, not empty). */
static int get_cstr(struct ctx *c, const struct toml_node *v, const char *sect, const char **out)
{
	if (want_type(c, v, sect, TOML_STRING, "a string"))
		return -1;
	if (!v->len || strlen(v->str) != v->len)
		return fail_val(c, v, "'%s' in %s: must be a non-empty string without NUL",
				v->key ? v->key : "value", sect);
	*out = v->str;
	return 0;
}

static int dup_str(struct ctx *c, const struct toml_node *v, const char *sect, char **out)
{
	const char *s;

	if (get_cstr(c, v, sect, &s))
		return -1;
	free(*out);
	*out = strdup(s);
	if (!*out)
		return fail_val(c, v, "out of memory");
	return 0;
}

static int get_int(struct ctx *c, const struct toml_node *v, const char *sect, int64_t min,
		   int64_t max, int64_t *out)
{
	if (want_type(c, v, sect, TOML_INT, "an integer"))
		return -1;
	if (v->i < min || v->i > max)
		return fail_val(c, v, "'%s' in %s: %lld is out of range %lld..%lld",
				v->key ? v->key : "value", sect, (long long)v->i,
				(long long)min, (long long)max);
	*out = v->i;
	return 0;
}

/* Integers are accepted where a float is expected. */
static int get_num(struct ctx *c, const struct toml_node *v, const char *sect, double min,
		   double max, double *out)
{
	double d;

	if (v->type == TOML_INT)
		d = (double)v->i;
	else if (v->type == TOML_FLOAT)
		d = v->f;
	else
		return fail_val(c, v, "'%s' in %s: expected a number, found %s",
				v->key ? v->key : "value", sect, found(v));
	if (!(d >= min && d <= max))
		return fail_val(c, v, "'%s' in %s: %g is out of range %g..%g",
				v->key ? v->key : "value", sect, d, min, max);
	*out = d;
	return 0;
}

/* Pick one of names[] for a string value. */
static int get_enum(struct ctx *c, const struct toml_node *v, const char *sect,
		    const char *const *names, size_t n, int *out)
{
	const char *s;
	char list[160] = "";
	size_t k;

	if (want_type(c, v, sect, TOML_STRING, "a string"))
		return -1;
	s = v->str;
	for (k = 0; k < n; k++) {
		if (strlen(s) == v->len && !strcmp(s, names[k])) {
			*out = (int)k;
			return 0;
		}
	}
	for (k = 0; k < n; k++) {
		size_t l = strlen(list);

		snprintf(list + l, sizeof(list) - l, "%s\"%s\"", k ? ", " : "", names[k]);
	}
	return fail_val(c, v, "'%s' in %s: expected one of %s", v->key ? v->key : "value", sect,
			list);
}

/* ---- the field walker ---- */

enum kind {
	K_BOOL,
	K_UINT,		/* unsigned int */
	K_U64,
	K_INTV,		/* int */
	K_U16,
	K_DOUBLE,
	K_STR,		/* char *, duplicated */
	K_FN,		/* custom */
	K_UNSUPPORTED,	/* a known key refused by name: why says why */
};

struct field;
typedef int (*field_fn)(struct ctx *c, const struct toml_node *v, const char *sect, void *base);

struct field {
	const char *key;
	enum kind kind;
	size_t off;
	double min, max;
	field_fn fn;
	unsigned int modes;	/* [[source]]: bit per mode where allowed; 0 = all */
	const char *why;	/* K_UNSUPPORTED */
};

#define F(k, kind, type, member, lo, hi) { k, kind, offsetof(type, member), lo, hi, NULL, 0 }
#define FN(k, f) { k, K_FN, 0, 0, 0, f, 0 }
/* A key of the shared (ntpd-rs) format that xnts does not implement: refused
 * by name whatever its value, never accepted and ignored. */
#define FU(k, reason) { k, K_UNSUPPORTED, 0, 0, 0, NULL, 0, reason }

static int apply_field(struct ctx *c, const struct field *f, const struct toml_node *v,
		       const char *sect, void *base)
{
	char *p = (char *)base + f->off;
	int64_t i = 0;

	switch (f->kind) {
	case K_BOOL:
		if (want_type(c, v, sect, TOML_BOOL, "a boolean"))
			return -1;
		*(bool *)p = v->b;
		return 0;
	case K_UINT:
	case K_U64:
	case K_INTV:
	case K_U16:
		/* The field's range is checked here; the store only narrows. */
		if (get_int(c, v, sect, (int64_t)f->min, (int64_t)f->max, &i))
			return -1;
		if (f->kind == K_UINT)
			*(unsigned int *)p = (unsigned int)i;
		else if (f->kind == K_U64)
			*(uint64_t *)p = (uint64_t)i;
		else if (f->kind == K_INTV)
			*(int *)p = (int)i;
		else
			*(uint16_t *)p = (uint16_t)i;
		return 0;
	case K_DOUBLE:
		return get_num(c, v, sect, f->min, f->max, (double *)p);
	case K_STR:
		return dup_str(c, v, sect, (char **)p);
	case K_FN:
		return f->fn(c, v, sect, base);
	case K_UNSUPPORTED:
		return fail_key(c, v, "'%s' in %s is not supported: %s", f->key, sect, f->why);
	}
	return -1;
}

/* Check that t is a table, then apply every entry; unknown keys fail. */
static int apply_table(struct ctx *c, const struct toml_node *t, const char *sect,
		       const struct field *fields, size_t n, void *base, unsigned int mode_bit,
		       const char *mode_name)
{
	const struct toml_node *v;

	if (t->type != TOML_TABLE)
		return fail_val(c, t, "%s: expected a table, found %s", sect, found(t));
	for (v = t->child; v; v = v->next) {
		const struct field *f = NULL;
		size_t k;

		for (k = 0; k < n; k++) {
			if (!strcmp(fields[k].key, v->key)) {
				f = &fields[k];
				break;
			}
		}
		if (!f)
			return fail_key(c, v, "unknown key '%s' in %s", v->key, sect);
		if (f->modes && !(f->modes & mode_bit))
			return fail_key(c, v, "key '%s' in %s is not valid for mode \"%s\"",
					v->key, sect, mode_name);
		if (apply_field(c, f, v, sect, base))
			return -1;
	}
	return 0;
}

#define APPLY(c, t, sect, fields, base) \
	apply_table(c, t, sect, fields, sizeof(fields) / sizeof(fields[0]), base, 0, NULL)

/* ---- shared value forms ---- */

static int fn_poll_limits(struct ctx *c, const struct toml_node *v, const char *sect,
			  struct config_poll_limits *pl)
{
	static const struct field fields[] = {
		F("min", K_INTV, struct config_poll_limits, min, 0, 17),
		F("max", K_INTV, struct config_poll_limits, max, 0, 17),
	};
	char s[64];

	snprintf(s, sizeof(s), "%s poll-interval-limits", sect);
	if (APPLY(c, v, s, fields, pl))
		return -1;
	if (pl->min > pl->max)
		return fail_val(c, v, "poll-interval-limits in %s: min (%d) is above max (%d)",
				sect, pl->min, pl->max);
	return 0;
}

/* A threshold bound: a number, "inf", or a number written as a string. */
static int threshold_value(struct ctx *c, const struct toml_node *v, const char *sect,
			   double *out)
{
	if (v->type == TOML_STRING) {
		char *end;
		double d;

		if (v->len == 3 && !strcmp(v->str, "inf")) {
			*out = INFINITY;
			return 0;
		}
		if (v->str[0] < '0' || v->str[0] > '9')
			goto bad;
		d = strtod(v->str, &end);
		if (*end || end != v->str + v->len || !isfinite(d))
			goto bad;
		*out = d;
		return 0;
bad:
		return fail_val(c, v, "'%s' in %s: expected a number of seconds or \"inf\"",
				v->key ? v->key : "value", sect);
	}
	return get_num(c, v, sect, 0, INFINITY, out);
}

static int fn_threshold(struct ctx *c, const struct toml_node *v, const char *sect,
			struct config_threshold *th)
{
	const struct toml_node *e;
	char s[96];

	if (v->type != TOML_TABLE) {
		if (v->type != TOML_INT && v->type != TOML_FLOAT && v->type != TOML_STRING)
			return fail_val(c, v, "'%s' in %s: expected a number, \"inf\" or "
					"{ forward, backward }, found %s", v->key, sect, found(v));
		if (threshold_value(c, v, sect, &th->forward))
			return -1;
		th->backward = th->forward;
		return 0;
	}
	snprintf(s, sizeof(s), "%s %s", sect, v->key);
	/* A direction left out has no limit. */
	th->forward = th->backward = INFINITY;
	for (e = v->child; e; e = e->next) {
		if (!strcmp(e->key, "forward")) {
			if (threshold_value(c, e, s, &th->forward))
				return -1;
		} else if (!strcmp(e->key, "backward")) {
			if (threshold_value(c, e, s, &th->backward))
				return -1;
		} else {
			return fail_key(c, e, "unknown key '%s' in %s", e->key, s);
		}
	}
	return 0;
}

static int fn_subnets(struct ctx *c, const struct toml_node *v, const char *sect,
		      struct config_subnet **out, size_t *n_out)
{
	const struct toml_node *e;
	size_t n = 0;

	if (want_type(c, v, sect, TOML_ARRAY, "an array of subnets"))
		return -1;
	free(*out);
	*n_out = 0;
	*out = calloc(v->count ? v->count : 1, sizeof(**out));
	if (!*out)
		return fail_val(c, v, "out of memory");
	for (e = v->child; e; e = e->next) {
		if (e->type != TOML_STRING)
			return fail_val(c, e, "'%s' in %s: expected a subnet string, found %s",
					v->key, sect, found(e));
		if (strlen(e->str) != e->len || config_parse_subnet(e->str, &(*out)[n]))
			return fail_val(c, e, "'%s' in %s: invalid subnet \"%s\" "
					"(expected address/prefix-length)", v->key, sect, e->str);
		n++;
		*n_out = n;
	}
	return 0;
}

static int fn_listen(struct ctx *c, const struct toml_node *v, const char *sect,
		     struct config_addr *a)
{
	const char *s;

	if (get_cstr(c, v, sect, &s))
		return -1;
	if (config_parse_sockaddr(s, a))
		return fail_val(c, v, "'%s' in %s: invalid socket address \"%s\" "
				"(expected IP:port or [IPv6]:port, port 1-65535)", v->key, sect,
				s);
	return 0;
}

/* accept-ntp-versions: a list out of allowed (bit mask); 5 is not supported. */
static int fn_versions(struct ctx *c, const struct toml_node *v, const char *sect,
		       unsigned int *mask, unsigned int allowed)
{
	const struct toml_node *e;

	if (want_type(c, v, sect, TOML_ARRAY, "an array of NTP versions"))
		return -1;
	if (!v->count)
		return fail_val(c, v, "'%s' in %s: must list at least one version", v->key,
				sect);
	*mask = 0;
	for (e = v->child; e; e = e->next) {
		if (e->type != TOML_INT)
			return fail_val(c, e, "'%s' in %s: expected an integer version, found %s",
					v->key, sect, found(e));
		if (e->i == 5)
			return fail_val(c, e, "'%s' in %s: NTPv5 is not supported", v->key, sect);
		if (e->i < 0 || e->i > 5 || !(allowed & (1u << e->i)))
			return fail_val(c, e, "'%s' in %s: version %lld is not allowed here",
					v->key, sect, (long long)e->i);
		*mask |= 1u << e->i;
	}
	return 0;
}

/* ---- [source-defaults] ---- */

static int fn_sd_limits(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	return fn_poll_limits(c, v, sect, &((struct xnts_config *)base)->default_poll_limits);
}

static const struct field source_defaults_fields[] = {
	FN("poll-interval-limits", fn_sd_limits),
	F("initial-poll-interval", K_INTV, struct xnts_config, default_initial_poll, 0, 17),
};

/* ---- [[source]] ---- */

#define M_SERVER (1u << CONFIG_SOURCE_SERVER)
#define M_POOL (1u << CONFIG_SOURCE_POOL)
#define M_NTS (1u << CONFIG_SOURCE_NTS)
#define M_PHC (1u << CONFIG_SOURCE_PHC)
#define M_NET (M_SERVER | M_POOL | M_NTS)

static int fn_src_mode(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	(void)c, (void)v, (void)sect, (void)base;
	return 0;	/* read before the walk */
}

static int fn_src_address(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	struct config_source *s = base;
	const char *str;

	if (get_cstr(c, v, sect, &str))
		return -1;
	if (parse_source_address(str, &s->host, &s->port,
				 s->mode == CONFIG_SOURCE_NTS ? CONFIG_NTS_KE_PORT :
				 CONFIG_NTP_PORT))
		return fail_val(c, v, "'address' in %s: invalid address \"%s\" (expected host, "
				"host:port, IPv4[:port], IPv6 or [IPv6]:port)", sect, str);
	return 0;
}

static int fn_src_ignore(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	struct config_source *s = base;

	return fn_subnets(c, v, sect, &s->ignore, &s->n_ignore);
}

/* SRV lookup is not implemented; false, the default, is what xnts does. */
static int fn_src_srv(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	(void)base;
	if (want_type(c, v, sect, TOML_BOOL, "a boolean"))
		return -1;
	if (v->b)
		return fail_val(c, v, "'enable-srv-resolution' in %s: SRV resolution is not "
				"supported", sect);
	return 0;
}

static int fn_src_limits(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	return fn_poll_limits(c, v, sect, &((struct config_source *)base)->poll_limits);
}

static int fn_src_version(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	struct config_source *s = base;

	if (v->type == TOML_STRING && v->len == 4 && !strcmp(v->str, "auto")) {
		s->ntp_version = 0;
		return 0;
	}
	if (v->type == TOML_INT && v->i == 4) {
		s->ntp_version = 4;
		return 0;
	}
	if (v->type == TOML_INT && v->i == 5)
		return fail_val(c, v, "'ntp-version' in %s: NTPv5 is not supported", sect);
	return fail_val(c, v, "'ntp-version' in %s: expected 4, 5 or \"auto\"", sect);
}

static int fn_src_pin(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	struct config_source *s = base;
	const char *str;

	if (get_cstr(c, v, sect, &str))
		return -1;
	if (config_parse_pin(str, s->pin))
		return fail_val(c, v, "'certificate-pin' in %s: expected \"sha256:\" followed "
				"by 64 hex digits", sect);
	s->has_pin = true;
	return 0;
}

/* An interface name as the kernel accepts it (dev_valid_name()). */
static int valid_ifname(const char *s, size_t len)
{
	if (!len || strlen(s) != len || len >= CONFIG_IFNAME_MAX || !strcmp(s, ".") ||
	    !strcmp(s, ".."))
		return 0;
	for (size_t k = 0; s[k]; k++)
		if (s[k] == '/' || s[k] == ':' || (unsigned char)s[k] <= ' ' ||
		    (unsigned char)s[k] >= 0x7f)
			return 0;
	return 1;
}

static int fn_src_phc_path(struct ctx *c, const struct toml_node *v, const char *sect,
			   void *base)
{
	struct config_source *s = base;
	const char *str;

	if (get_cstr(c, v, sect, &str))
		return -1;
	if (str[0] != '/')
		return fail_val(c, v, "'path' in %s: expected an absolute device path", sect);
	if (dup_str(c, v, sect, &s->phc_path))
		return -1;
	return 0;
}

static int fn_src_phc_if(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	struct config_source *s = base;
	const char *str;

	if (get_cstr(c, v, sect, &str))
		return -1;
	if (!valid_ifname(str, v->len))
		return fail_val(c, v, "'interface' in %s: invalid interface name", sect);
	memcpy(s->phc_interface, str, v->len + 1);
	return 0;
}

static int fn_src_phc_scale(struct ctx *c, const struct toml_node *v, const char *sect,
			    void *base)
{
	static const char *const scales[] = { "tai", "utc" };
	int m;

	if (get_enum(c, v, sect, scales, 2, &m))
		return -1;
	((struct config_source *)base)->phc_scale = (enum config_phc_scale)m;
	return 0;
}

static const struct field source_fields[] = {
	FN("mode", fn_src_mode),
	{ "address", K_FN, 0, 0, 0, fn_src_address, M_NET },
	{ "certificate-authority", K_STR, offsetof(struct config_source, certificate_authority),
	  0, 0, NULL, M_NTS },
	{ "count", K_UINT, offsetof(struct config_source, count), 1, 64, NULL, M_POOL },
	FN("enable-srv-resolution", fn_src_srv),
	{ "ignore", K_FN, 0, 0, 0, fn_src_ignore, M_POOL },
	FU("precision", "the clock filter estimates each source's noise from its samples"),
	FU("accuracy", "the clock filter estimates each source's noise from its samples"),
	FN("poll-interval-limits", fn_src_limits),
	F("initial-poll-interval", K_INTV, struct config_source, initial_poll, 0, 17),
	FN("ntp-version", fn_src_version),
	{ "certificate-pin", K_FN, 0, 0, 0, fn_src_pin, M_NTS },	/* xnts extension */
	/* xnts extension: mode "phc" */
	{ "path", K_FN, 0, 0, 0, fn_src_phc_path, M_PHC },
	{ "interface", K_FN, 0, 0, 0, fn_src_phc_if, M_PHC },
	{ "phc-scale", K_FN, 0, 0, 0, fn_src_phc_scale, M_PHC },
};

static int parse_source(struct ctx *c, const struct toml_node *t, struct xnts_config *cfg,
			struct config_source *s)
{
	static const char *const modes[] = { "server", "pool", "nts", "phc" };
	const char *sect = "[[source]]";
	const struct toml_node *m, *a, *pp, *pi;
	int mode;

	if (t->type != TOML_TABLE)
		return fail_val(c, t, "%s: expected a table, found %s", sect, found(t));
	s->line = t->line;
	s->poll_limits = cfg->default_poll_limits;
	s->initial_poll = cfg->default_initial_poll;
	s->count = 4;
	s->ntp_version = 4;
	m = toml_get(t, "mode");
	if (!m)
		return fail_val(c, t, "%s: missing key 'mode'", sect);
	if (m->type == TOML_STRING &&
	    (!strcmp(m->str, "nts-pool") || !strcmp(m->str, "sock") || !strcmp(m->str, "pps")))
		return fail_val(c, m, "'mode' in %s: source mode \"%s\" is not supported", sect,
				m->str);
	if (get_enum(c, m, sect, modes, 4, &mode))
		return -1;
	s->mode = (enum config_source_mode)mode;
	if (s->mode == CONFIG_SOURCE_PHC) {
		pp = toml_get(t, "path");
		pi = toml_get(t, "interface");
		if (!pp == !pi)
			return fail_val(c, t, "%s: mode \"phc\" needs exactly one of 'path' and "
					"'interface'", sect);
		if (apply_table(c, t, sect, source_fields,
				sizeof(source_fields) / sizeof(source_fields[0]), s, M_PHC, "phc"))
			return -1;
		s->host = strdup(s->phc_path ? s->phc_path : s->phc_interface);
		if (!s->host)
			return fail_val(c, t, "out of memory");
		return 0;
	}
	a = toml_get(t, "address");
	if (!a)
		return fail_val(c, t, "%s: missing key 'address'", sect);
	/* The address default port depends on the mode: read it after mode. */
	if (apply_table(c, t, sect, source_fields,
			sizeof(source_fields) / sizeof(source_fields[0]), s, 1u << mode,
			modes[mode]))
		return -1;
	return 0;
}

/* ---- [[server]] ---- */

static int fn_srv_listen(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	return fn_listen(c, v, sect, &((struct config_server *)base)->listen);
}

static int fn_filter(struct ctx *c, const struct toml_node *v, const char *sect,
		     struct config_filter *f)
{
	static const char *const actions[] = { "ignore", "deny" };
	const struct toml_node *e;
	char s[64];
	int act;

	if (v->type != TOML_TABLE)
		return fail_val(c, v, "'%s' in %s: expected a table { filter, action }, found %s",
				v->key, sect, found(v));
	snprintf(s, sizeof(s), "%s %s", sect, v->key);
	f->set = true;
	f->action = CONFIG_ACTION_IGNORE;
	if (!toml_get(v, "filter"))
		return fail_val(c, v, "%s: missing key 'filter'", s);
	for (e = v->child; e; e = e->next) {
		if (!strcmp(e->key, "filter")) {
			if (fn_subnets(c, e, s, &f->subnets, &f->n_subnets))
				return -1;
		} else if (!strcmp(e->key, "action")) {
			if (get_enum(c, e, s, actions, 2, &act))
				return -1;
			f->action = (enum config_filter_action)act;
		} else {
			return fail_key(c, e, "unknown key '%s' in %s", e->key, s);
		}
	}
	return 0;
}

static int fn_srv_allow(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	return fn_filter(c, v, sect, &((struct config_server *)base)->allowlist);
}

static int fn_srv_deny(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	return fn_filter(c, v, sect, &((struct config_server *)base)->denylist);
}

static int fn_srv_require_nts(struct ctx *c, const struct toml_node *v, const char *sect,
			      void *base)
{
	static const char *const actions[] = { "ignore", "deny" };
	struct config_server *s = base;
	int act;

	if (v->type == TOML_BOOL) {
		s->require_nts = v->b;
		s->require_nts_action = CONFIG_ACTION_IGNORE;
		return 0;
	}
	if (v->type != TOML_STRING)
		return fail_val(c, v, "'require-nts' in %s: expected a boolean, \"deny\" or "
				"\"ignore\", found %s", sect, found(v));
	if (get_enum(c, v, sect, actions, 2, &act))
		return -1;
	s->require_nts = true;
	s->require_nts_action = (enum config_filter_action)act;
	return 0;
}

static int fn_srv_versions(struct ctx *c, const struct toml_node *v, const char *sect,
			   void *base)
{
	return fn_versions(c, v, sect, &((struct config_server *)base)->accept_ntp_versions,
			   (1u << 3) | (1u << 4));
}

static int fn_srv_hwts(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	struct config_server *s = base;
	const char *str;

	if (get_cstr(c, v, sect, &str))
		return -1;
	if (!valid_ifname(str, v->len))
		return fail_val(c, v, "'hardware-timestamps' in %s: expected an interface name",
				sect);
	memcpy(s->hardware_timestamps, str, v->len + 1);
	return 0;
}

static const struct field server_fields[] = {
	FN("listen", fn_srv_listen),
	F("rate-limiting-cache-size", K_U64, struct config_server, rate_limiting_cache_size, 0,
	  1 << 24),
	F("rate-limiting-cutoff-ms", K_U64, struct config_server, rate_limiting_cutoff_ms, 0,
	  86400000),
	/* xnts extensions */
	F("rate-limiting-burst", K_UINT, struct config_server, rate_limiting_burst, 1, 1000),
	F("rate-limiting-ipv6-prefix", K_UINT, struct config_server, rate_limiting_ipv6_prefix,
	  16, 128),
	FN("allowlist", fn_srv_allow),
	FN("denylist", fn_srv_deny),
	FN("require-nts", fn_srv_require_nts),
	FN("accept-ntp-versions", fn_srv_versions),
	FN("hardware-timestamps", fn_srv_hwts),	/* xnts extension */
};

static int parse_server(struct ctx *c, const struct toml_node *t, struct config_server *s)
{
	s->accept_ntp_versions = (1u << 3) | (1u << 4);
	s->rate_limiting_burst = 1;
	s->rate_limiting_ipv6_prefix = XNTS_RATE_V6_PREFIX_DEFAULT;
	if (APPLY(c, t, "[[server]]", server_fields, s))
		return -1;
	if (!toml_get(t, "listen"))
		return fail_val(c, t, "[[server]]: missing key 'listen'");
	return 0;
}

/* ---- [observability] ---- */

static int fn_obs_level(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	static const char *const levels[] = { "trace", "debug", "info", "warn", "error" };
	struct config_observability *o = base;
	int l;

	if (get_enum(c, v, sect, levels, 5, &l))
		return -1;
	o->log_level = (enum config_log_level)l;
	return 0;
}

static int fn_obs_colors(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	if (want_type(c, v, sect, TOML_BOOL, "a boolean"))
		return -1;
	((struct config_observability *)base)->ansi_colors = v->b;
	return 0;
}

static int fn_obs_listen(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	struct config_observability *o = base;

	o->metrics_exporter = 1;
	return fn_listen(c, v, sect, &o->metrics_exporter_listen);
}

static const struct field observability_fields[] = {
	FN("log-level", fn_obs_level),
	F("log-path", K_STR, struct config_observability, log_path, 0, 0),
	F("log-path-metrics-exporter", K_STR, struct config_observability,
	  log_path_metrics_exporter, 0, 0),
	FN("ansi-colors", fn_obs_colors),
	F("observation-path", K_STR, struct config_observability, observation_path, 0, 0),
	F("observation-permissions", K_UINT, struct config_observability,
	  observation_permissions, 0, 0777),
	FN("metrics-exporter-listen", fn_obs_listen),
};

/* ---- [keyset] ---- */

static const struct field keyset_fields[] = {
	F("stale-key-count", K_UINT, struct config_keyset, stale_key_count, 0, 1000),
	F("key-rotation-interval", K_U64, struct config_keyset, key_rotation_interval, 1,
	  365 * 86400),
	F("key-storage-path", K_STR, struct config_keyset, key_storage_path, 0, 0),
	/* xnts extension: Documentation/key-storage.md, shared secret. */
	F("shared-secret-path", K_STR, struct config_keyset, shared_secret_path, 0, 0),
	F("previous-shared-secret-path", K_STR, struct config_keyset,
	  previous_shared_secret_path, 0, 0),
	F("previous-shared-secret-grace", K_U64, struct config_keyset,
	  previous_shared_secret_grace, 1, 10 * 365 * 86400ULL),
};

/* ---- [[nts-ke-server]] ---- */

static int fn_ke_listen(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	return fn_listen(c, v, sect, &((struct config_nts_ke_server *)base)->listen);
}

static int fn_ke_server(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	struct config_nts_ke_server *k = base;

	uint8_t a6[16];
	char text[INET6_ADDRSTRLEN];

	if (dup_str(c, v, sect, &k->ntp_server))
		return -1;
	/* RFC 8915 4.1.7: an IPv6 address is sent in its text form without
	 * brackets or zone; write it the canonical way (RFC 5952). */
	if (strchr(k->ntp_server, ':') && inet_pton(AF_INET6, k->ntp_server, a6) == 1) {
		inet_ntop(AF_INET6, a6, text, sizeof(text));
		free(k->ntp_server);
		k->ntp_server = strdup(text);
		if (!k->ntp_server)
			return fail_val(c, v, "out of memory");
		return 0;
	}
	if (!valid_hostname(k->ntp_server))
		return fail_val(c, v, "'ntp-server' in %s: \"%s\" is not a host name, IPv4 or "
				"IPv6 address", sect, k->ntp_server);
	return 0;
}

static int fn_ke_versions(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	return fn_versions(c, v, sect,
			   &((struct config_nts_ke_server *)base)->accept_ntp_versions, 1u << 4);
}

/* aead-algorithms: 15, 17 and 30 in preference order, each at most once. */
static int fn_ke_aeads(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	struct config_nts_ke_server *k = base;
	const struct toml_node *e;

	if (want_type(c, v, sect, TOML_ARRAY, "an array of AEAD ids"))
		return -1;
	if (!v->count)
		return fail_val(c, v, "'%s' in %s: must list at least one AEAD", v->key, sect);
	k->n_aeads = 0;
	for (e = v->child; e; e = e->next) {
		if (e->type != TOML_INT)
			return fail_val(c, e, "'%s' in %s: expected an integer AEAD id, found %s",
					v->key, sect, found(e));
		if (e->i != 15 && e->i != 17 && e->i != 30)
			return fail_val(c, e, "'%s' in %s: AEAD %lld is not supported (15, 17 "
					"and 30 are)", v->key, sect, (long long)e->i);
		for (unsigned int i = 0; i < k->n_aeads; i++)
			if (k->aeads[i] == e->i)
				return fail_val(c, e, "'%s' in %s: AEAD %lld is listed twice",
						v->key, sect, (long long)e->i);
		k->aeads[k->n_aeads++] = (uint16_t)e->i;
	}
	return 0;
}

/*
 * accepted-pool-authentication-tokens: non-empty strings, hashed at once
 * (config.h). Errors name the position, never the value.
 */
static int fn_ke_pool_tokens(struct ctx *c, const struct toml_node *v, const char *sect,
			     void *base)
{
	struct config_nts_ke_server *k = base;
	const struct toml_node *e;
	unsigned int n = 0;

	if (want_type(c, v, sect, TOML_ARRAY, "an array of strings"))
		return -1;
	if (v->count > CONFIG_MAX_POOL_TOKENS)
		return fail_val(c, v, "'%s' in %s: at most %d tokens", v->key, sect,
				CONFIG_MAX_POOL_TOKENS);
	free(k->pool_token_digests);
	k->n_pool_tokens = 0;
	k->pool_token_digests = calloc(v->count ? v->count : 1, sizeof(*k->pool_token_digests));
	if (!k->pool_token_digests)
		return fail_val(c, v, "out of memory");
	for (e = v->child; e; e = e->next, n++) {
		if (e->type != TOML_STRING)
			return fail_val(c, e, "'%s' in %s: token %u: expected a string, found %s",
					v->key, sect, n + 1, found(e));
		if (!e->len || e->len > NTS_KE_MAX_AUTH_LEN || memchr(e->str, 0, e->len))
			return fail_val(c, e, "'%s' in %s: token %u: must be 1 to %d bytes "
					"without NUL", v->key, sect, n + 1, NTS_KE_MAX_AUTH_LEN);
		/* Hashed as the KE server hashes the tokens it is presented. */
		if (ke_proto_token_digest(e->str, e->len, k->pool_token_digests[n]))
			return fail_val(c, e, "'%s' in %s: cannot hash token %u", v->key, sect,
					n + 1);
		k->n_pool_tokens = n + 1;
	}
	return 0;
}

static const struct field nts_ke_fields[] = {
	FN("listen", fn_ke_listen),
	F("certificate-chain-path", K_STR, struct config_nts_ke_server, certificate_chain_path,
	  0, 0),
	F("private-key-path", K_STR, struct config_nts_ke_server, private_key_path, 0, 0),
	F("key-exchange-timeout-ms", K_U64, struct config_nts_ke_server,
	  key_exchange_timeout_ms, 1, 3600000),
	F("concurrent-connections", K_UINT, struct config_nts_ke_server,
	  concurrent_connections, 1, 1000000),
	F("longlived-connections", K_UINT, struct config_nts_ke_server,
	  longlived_connections, 0, 1000000),
	F("longlived-max-requests", K_UINT, struct config_nts_ke_server,
	  longlived_max_requests, 1, 1000000000),
	F("longlived-idle-timeout-ms", K_U64, struct config_nts_ke_server,
	  longlived_idle_timeout_ms, 1, 86400000),
	F("longlived-max-duration-ms", K_U64, struct config_nts_ke_server,
	  longlived_max_duration_ms, 1, 604800000),
	F("per-client-connections", K_UINT, struct config_nts_ke_server,
	  per_client_connections, 0, 1000000),
	F("per-client-accept-rate", K_UINT, struct config_nts_ke_server,
	  per_client_accept_rate, 0, 1000000),
	F("per-client-accept-burst", K_UINT, struct config_nts_ke_server,
	  per_client_accept_burst, 1, 1000000),
	F("workers", K_UINT, struct config_nts_ke_server, workers, 0, 256),
	F("ntp-port", K_U16, struct config_nts_ke_server, ntp_port, 1, 65535),
	FN("ntp-server", fn_ke_server),
	FN("accept-ntp-versions", fn_ke_versions),
	FN("accepted-pool-authentication-tokens", fn_ke_pool_tokens),
	FN("aead-algorithms", fn_ke_aeads),
};

static int parse_nts_ke(struct ctx *c, const struct toml_node *t, struct config_nts_ke_server *k)
{
	static const char *const required[] = {
		"listen", "certificate-chain-path", "private-key-path",
	};
	k->key_exchange_timeout_ms = 1000;
	k->concurrent_connections = 512;
	k->per_client_connections = 8;
	k->per_client_accept_rate = 20;
	k->per_client_accept_burst = 100;
	k->accept_ntp_versions = 1u << 4;
	/* 30 first: the shortest packets and the cheapest crypto (benchmarks.md). */
	k->aeads[0] = 30;
	k->aeads[1] = 15;
	k->aeads[2] = 17;
	k->n_aeads = 3;
	k->longlived_connections = UINT_MAX;	/* unset: concurrent-connections / 10 */
	k->longlived_max_requests = 1000;
	k->longlived_idle_timeout_ms = 60000;
	k->longlived_max_duration_ms = 3600000;
	if (APPLY(c, t, "[[nts-ke-server]]", nts_ke_fields, k))
		return -1;
	if (k->longlived_connections == UINT_MAX)
		k->longlived_connections = k->concurrent_connections / 10;
	/* Each kept-alive connection is also one of the concurrent ones. */
	if (k->longlived_connections > k->concurrent_connections)
		return fail_val(c, toml_get(t, "longlived-connections"),
				"'longlived-connections' in [[nts-ke-server]]: %u is more than "
				"concurrent-connections (%u)", k->longlived_connections,
				k->concurrent_connections);
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!toml_get(t, required[i]))
			return fail_val(c, t, "[[nts-ke-server]]: missing key '%s'", required[i]);
	return 0;
}

/* ---- [synchronization] ---- */

#define ALG(k, m, lo, hi) F(k, K_DOUBLE, struct config_algorithm, m, lo, hi)
/* ntpd-rs's Kalman filter parameters with no counterpart in xnts's clock
 * filter, selection and discipline (Documentation/clock-discipline.md). */
#define ALG_OTHER "xnts's clock algorithm has no such parameter"

static const struct field algorithm_fields[] = {
	FU("precision-low-probability", ALG_OTHER),
	FU("precision-high-probability", ALG_OTHER),
	FU("precision-hysteresis", ALG_OTHER),
	FU("precision-minimum-weight", ALG_OTHER),
	FU("poll-interval-low-weight", ALG_OTHER),
	FU("poll-interval-high-weight", ALG_OTHER),
	FU("poll-interval-hysteresis", ALG_OTHER),
	FU("poll-interval-step-threshold", ALG_OTHER),
	FU("delay-outlier-threshold", ALG_OTHER),
	ALG("initial-wander", initial_wander, 0, INFINITY),
	ALG("initial-frequency-uncertainty", initial_frequency_uncertainty, 0, INFINITY),
	ALG("maximum-source-uncertainty", maximum_source_uncertainty, 0, INFINITY),
	FU("range-statistical-weight", ALG_OTHER),
	FU("range-delay-weight", ALG_OTHER),
	FU("steer-offset-threshold", ALG_OTHER),
	FU("steer-offset-leftover", ALG_OTHER),
	FU("steer-frequency-threshold", ALG_OTHER),
	FU("steer-frequency-leftover", ALG_OTHER),
	ALG("step-threshold", step_threshold, 0, INFINITY),
	ALG("slew-maximum-frequency-offset", slew_maximum_frequency_offset, 0, 1),
	ALG("slew-minimum-duration", slew_minimum_duration, 0, INFINITY),
	ALG("maximum-frequency-steer", maximum_frequency_steer, 0, 1),
	F("ignore-server-dispersion", K_BOOL, struct config_algorithm, ignore_server_dispersion,
	  0, 0),
	FU("meddling-threshold", ALG_OTHER),
};

static int fn_sync_algorithm(struct ctx *c, const struct toml_node *v, const char *sect,
			     void *base)
{
	struct config_algorithm *a = &((struct config_synchronization *)base)->algorithm;

	(void)sect;
	if (APPLY(c, v, "[synchronization.algorithm]", algorithm_fields, a))
		return -1;
	return 0;
}

static int fn_sync_single(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	return fn_threshold(c, v, sect,
			    &((struct config_synchronization *)base)->single_step_panic_threshold);
}

static int fn_sync_startup(struct ctx *c, const struct toml_node *v, const char *sect,
			   void *base)
{
	return fn_threshold(c, v, sect,
			    &((struct config_synchronization *)base)->startup_step_panic_threshold);
}

static int fn_sync_accum(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	struct config_synchronization *s = base;

	if (v->type != TOML_INT && v->type != TOML_FLOAT && v->type != TOML_STRING)
		return fail_val(c, v, "'%s' in %s: expected a number of seconds, found %s",
				v->key, sect, found(v));
	s->has_accumulated_step_panic_threshold = true;
	return threshold_value(c, v, sect, &s->accumulated_step_panic_threshold);
}

static int fn_sync_refid(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	struct config_synchronization *s = base;
	size_t k;

	if (want_type(c, v, sect, TOML_STRING, "a string"))
		return -1;
	if (v->len < 1 || v->len > 4)
		goto bad;
	for (k = 0; k < v->len; k++)
		if (v->str[k] < 0x20 || v->str[k] > 0x7e)
			goto bad;
	/* Shorter ones are padded with spaces, as ntpd-rs does. */
	memcpy(s->reference_id, "    ", 5);
	memcpy(s->reference_id, v->str, v->len);
	s->reference_id_value = (uint32_t)(uint8_t)s->reference_id[0] << 24 |
				(uint32_t)(uint8_t)s->reference_id[1] << 16 |
				(uint32_t)(uint8_t)s->reference_id[2] << 8 |
				(uint8_t)s->reference_id[3];
	return 0;
bad:
	return fail_val(c, v, "'reference-id' in %s: expected 1 to 4 printable ASCII "
			"characters", sect);
}

static int fn_sync_auth(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	static const char *const modes[] = { "prefer", "require", "mix", "ignore" };
	int m;

	if (get_enum(c, v, sect, modes, 4, &m))
		return -1;
	((struct config_synchronization *)base)->auth_select_mode = (enum config_auth_select)m;
	return 0;
}

static const struct field sync_fields[] = {
	F("minimum-agreeing-sources", K_UINT, struct config_synchronization,
	  minimum_agreeing_sources, 1, 1000),
	FN("auth-select-mode", fn_sync_auth),
	FN("single-step-panic-threshold", fn_sync_single),
	FN("startup-step-panic-threshold", fn_sync_startup),
	FN("accumulated-step-panic-threshold", fn_sync_accum),
	F("warn-on-jump", K_BOOL, struct config_synchronization, warn_on_jump, 0, 0),
	F("local-stratum", K_UINT, struct config_synchronization, local_stratum, 1, 16),
	FN("reference-id", fn_sync_refid),
	FN("algorithm", fn_sync_algorithm),
};

/* ---- [xdp] (xnts extension) ---- */

static int fn_xdp_ifaces(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	struct config_xdp *x = base;
	const struct toml_node *e;

	if (want_type(c, v, sect, TOML_ARRAY, "an array of interface names"))
		return -1;
	x->interfaces = calloc(v->count ? v->count : 1, sizeof(*x->interfaces));
	if (!x->interfaces)
		return fail_val(c, v, "out of memory");
	for (e = v->child; e; e = e->next) {
		const char *s;
		size_t k;

		if (e->type != TOML_STRING)
			return fail_val(c, e, "'interfaces' in %s: expected an array of strings, "
					"found an element of type %s", sect, found(e));
		s = e->str;
		if (!e->len || strlen(s) != e->len || e->len >= CONFIG_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
			goto bad;
		for (k = 0; s[k]; k++)
			if (s[k] == '/' || s[k] == ':' || (unsigned char)s[k] <= ' ' ||
			    (unsigned char)s[k] >= 0x7f)
				goto bad;
		for (k = 0; k < x->n_interfaces; k++)
			if (!strcmp(x->interfaces[k], s))
				return fail_val(c, e, "'interfaces' in %s: \"%s\" listed twice",
						sect, s);
		memcpy(x->interfaces[x->n_interfaces++], s, e->len + 1);
		continue;
bad:
		return fail_val(c, e, "'interfaces' in %s: \"%s\" is not a valid interface "
				"name", sect, s);
	}
	return 0;
}

static int fn_xdp_mode(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	static const char *const modes[] = { "off", "native", "generic" };
	int m;

	if (get_enum(c, v, sect, modes, 3, &m))
		return -1;
	((struct config_xdp *)base)->mode = (enum config_xdp_mode)m;
	return 0;
}

static int fn_xdp_stale(struct ctx *c, const struct toml_node *v, const char *sect, void *base)
{
	static const char *const acts[] = { "unsync", "pass" };
	int m;

	if (get_enum(c, v, sect, acts, 2, &m))
		return -1;
	((struct config_xdp *)base)->stale_action = (enum config_xdp_stale)m;
	return 0;
}

static int fn_xdp_userspace(struct ctx *c, const struct toml_node *v, const char *sect,
			    void *base)
{
	static const char *const paths[] = { "auto", "af-xdp", "socket" };
	int m;

	if (get_enum(c, v, sect, paths, 3, &m))
		return -1;
	((struct config_xdp *)base)->userspace_path = (enum config_xdp_userspace)m;
	return 0;
}

static const struct field xdp_fields[] = {
	FN("interfaces", fn_xdp_ifaces),
	FN("mode", fn_xdp_mode),
	F("heartbeat-timeout-ms", K_U64, struct config_xdp, heartbeat_timeout_ms, 1, 3600000),
	FN("stale-action", fn_xdp_stale),
	F("keep-serving-on-exit", K_BOOL, struct config_xdp, keep_serving_on_exit, 0, 0),
	F("pin-path", K_STR, struct config_xdp, pin_path, 0, 0),
	FN("userspace-path", fn_xdp_userspace),
	F("af-xdp-batch-wait-us", K_U64, struct config_xdp, af_xdp_batch_wait_us, 0, 1000),
};

/* ---- [daemon] (xnts extension) ---- */

static const struct field daemon_fields[] = {
	F("user", K_STR, struct config_daemon, user, 0, 0),
};

/* ---- the schema, for config_schema_walk() ---- */

#define SECTION(name, fields) { name, fields, sizeof(fields) / sizeof(fields[0]) }

/* Every table of keys above: a new one must be listed here too. */
static const struct {
	const char *name;
	const struct field *fields;
	size_t n;
} sections[] = {
	SECTION("[source-defaults]", source_defaults_fields),
	SECTION("[[source]]", source_fields),
	SECTION("[[server]]", server_fields),
	SECTION("[observability]", observability_fields),
	SECTION("[keyset]", keyset_fields),
	SECTION("[[nts-ke-server]]", nts_ke_fields),
	SECTION("[synchronization]", sync_fields),
	SECTION("[synchronization.algorithm]", algorithm_fields),
	SECTION("[xdp]", xdp_fields),
	SECTION("[daemon]", daemon_fields),
};

void config_schema_walk(config_schema_fn fn, void *arg)
{
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		for (size_t k = 0; k < sections[i].n; k++)
			fn(sections[i].name, sections[i].fields[k].key,
			   sections[i].fields[k].kind != K_UNSUPPORTED, arg);
}

/* ---- top level ---- */

void config_defaults(struct xnts_config *cfg)
{
	struct config_algorithm *a = &cfg->synchronization.algorithm;

	memset(cfg, 0, sizeof(*cfg));
	cfg->default_poll_limits.min = 4;
	cfg->default_poll_limits.max = 10;
	cfg->default_initial_poll = 4;
	cfg->observability.log_level = CONFIG_LOG_INFO;
	cfg->observability.ansi_colors = -1;
	cfg->observability.observation_permissions = 0666;
	cfg->observability.metrics_exporter_listen.family = AF_INET;
	cfg->observability.metrics_exporter_listen.addr[0] = 127;
	cfg->observability.metrics_exporter_listen.addr[3] = 1;
	cfg->observability.metrics_exporter_listen.port = 9975;
	cfg->keyset.stale_key_count = 7;
	cfg->keyset.key_rotation_interval = 86400;
	cfg->synchronization.minimum_agreeing_sources = 3;
	cfg->synchronization.auth_select_mode = CONFIG_AUTH_SELECT_PREFER;
	cfg->synchronization.single_step_panic_threshold.forward = 1000;
	cfg->synchronization.single_step_panic_threshold.backward = 1000;
	cfg->synchronization.startup_step_panic_threshold.forward = INFINITY;
	cfg->synchronization.startup_step_panic_threshold.backward = 86400;
	cfg->synchronization.warn_on_jump = true;
	cfg->synchronization.local_stratum = 16;
	memcpy(cfg->synchronization.reference_id, "XNON", 5);
	cfg->synchronization.reference_id_value = 0x584e4f4e;
	a->initial_wander = 1e-8;
	a->initial_frequency_uncertainty = 100e-6;
	a->maximum_source_uncertainty = 0.25;
	a->step_threshold = 0.010;
	a->slew_maximum_frequency_offset = 200e-6;
	a->slew_minimum_duration = 8.0;
	a->maximum_frequency_steer = 495e-6;
	a->ignore_server_dispersion = false;
	cfg->xdp.mode = CONFIG_XDP_OFF;
	cfg->xdp.heartbeat_timeout_ms = 3000;
	cfg->xdp.stale_action = CONFIG_XDP_STALE_UNSYNC;
	cfg->xdp.af_xdp_batch_wait_us = XNTS_AF_XDP_BATCH_WAIT_US;
}

void config_free(struct xnts_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n_sources; i++) {
		free(cfg->sources[i].host);
		free(cfg->sources[i].certificate_authority);
		free(cfg->sources[i].phc_path);
		free(cfg->sources[i].ignore);
	}
	free(cfg->sources);
	for (i = 0; i < cfg->n_servers; i++) {
		free(cfg->servers[i].allowlist.subnets);
		free(cfg->servers[i].denylist.subnets);
	}
	free(cfg->servers);
	free(cfg->observability.log_path);
	free(cfg->observability.log_path_metrics_exporter);
	free(cfg->observability.observation_path);
	free(cfg->keyset.key_storage_path);
	free(cfg->keyset.shared_secret_path);
	free(cfg->keyset.previous_shared_secret_path);
	for (i = 0; i < cfg->n_nts_ke_servers; i++) {
		struct config_nts_ke_server *k = &cfg->nts_ke_servers[i];

		free(k->certificate_chain_path);
		free(k->private_key_path);
		free(k->ntp_server);
		if (k->pool_token_digests)
			OPENSSL_cleanse(k->pool_token_digests,
					k->n_pool_tokens * sizeof(*k->pool_token_digests));
		free(k->pool_token_digests);
	}
	free(cfg->nts_ke_servers);
	free(cfg->xdp.interfaces);
	free(cfg->xdp.pin_path);
	free(cfg->daemon.user);
	memset(cfg, 0, sizeof(*cfg));
}

/* An array of tables ([[name]]), or an array of inline tables. */
static int want_aot(struct ctx *c, const struct toml_node *v)
{
	const struct toml_node *e;

	if (v->type != TOML_ARRAY)
		return fail_val(c, v, "'%s': expected an array of tables ([[%s]]), found %s",
				v->key, v->key, found(v));
	for (e = v->child; e; e = e->next)
		if (e->type != TOML_TABLE)
			return fail_val(c, e, "'%s': expected an array of tables ([[%s]]), "
					"found an element of type %s", v->key, v->key, found(e));
	return 0;
}

static int parse_root(struct ctx *c, const struct toml_node *root, struct xnts_config *cfg)
{
	static const char *const known[] = {
		"source-defaults", "source", "server", "observability", "keyset",
		"nts-ke-server", "synchronization", "xdp", "daemon",
	};
	const struct toml_node *v, *e;
	size_t i;

	for (v = root->child; v; v = v->next) {
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (!strcmp(v->key, known[i]))
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			return fail_key(c, v, "unknown %s '%s'",
					v->type == TOML_TABLE || v->flags & TOML_F_AOT ?
					"table" : "key", v->key);
	}
	/* [source-defaults] first: sources inherit from it wherever it is written. */
	v = toml_get(root, "source-defaults");
	if (v && APPLY(c, v, "[source-defaults]", source_defaults_fields, cfg))
		return -1;
	v = toml_get(root, "source");
	if (v) {
		if (want_aot(c, v))
			return -1;
		cfg->sources = calloc(v->count ? v->count : 1, sizeof(*cfg->sources));
		if (!cfg->sources)
			return fail_val(c, v, "out of memory");
		for (e = v->child; e; e = e->next)
			if (parse_source(c, e, cfg, &cfg->sources[cfg->n_sources++]))
				return -1;
	}
	v = toml_get(root, "server");
	if (v) {
		if (want_aot(c, v))
			return -1;
		cfg->servers = calloc(v->count ? v->count : 1, sizeof(*cfg->servers));
		if (!cfg->servers)
			return fail_val(c, v, "out of memory");
		for (e = v->child; e; e = e->next)
			if (parse_server(c, e, &cfg->servers[cfg->n_servers++]))
				return -1;
	}
	v = toml_get(root, "nts-ke-server");
	if (v) {
		if (want_aot(c, v))
			return -1;
		cfg->nts_ke_servers = calloc(v->count ? v->count : 1, sizeof(*cfg->nts_ke_servers));
		if (!cfg->nts_ke_servers)
			return fail_val(c, v, "out of memory");
		for (e = v->child; e; e = e->next)
			if (parse_nts_ke(c, e, &cfg->nts_ke_servers[cfg->n_nts_ke_servers++]))
				return -1;
	}
	v = toml_get(root, "observability");
	if (v && APPLY(c, v, "[observability]", observability_fields, &cfg->observability))
		return -1;
	v = toml_get(root, "keyset");
	if (v) {
		if (APPLY(c, v, "[keyset]", keyset_fields, &cfg->keyset))
			return -1;
		if (cfg->keyset.shared_secret_path && cfg->keyset.key_storage_path)
			return fail_val(c, toml_get(v, "key-storage-path"),
					"[keyset]: 'key-storage-path' and 'shared-secret-path' "
					"exclude each other (derived keys are never stored)");
		if (cfg->keyset.previous_shared_secret_path && !cfg->keyset.shared_secret_path)
			return fail_val(c, toml_get(v, "previous-shared-secret-path"),
					"[keyset]: 'previous-shared-secret-path' needs "
					"'shared-secret-path'");
		if (cfg->keyset.previous_shared_secret_grace &&
		    !cfg->keyset.previous_shared_secret_path)
			return fail_val(c, toml_get(v, "previous-shared-secret-grace"),
					"[keyset]: 'previous-shared-secret-grace' needs "
					"'previous-shared-secret-path'");
	}
	v = toml_get(root, "synchronization");
	if (v && APPLY(c, v, "[synchronization]", sync_fields, &cfg->synchronization))
		return -1;
	v = toml_get(root, "daemon");
	if (v) {
		if (APPLY(c, v, "[daemon]", daemon_fields, &cfg->daemon))
			return -1;
		if (cfg->daemon.user && strlen(cfg->daemon.user) > 32)
			return fail_val(c, toml_get(v, "user"), "'user' in [daemon]: expected "
					"a user name of at most 32 bytes");
	}
	v = toml_get(root, "xdp");
	if (v) {
		if (APPLY(c, v, "[xdp]", xdp_fields, &cfg->xdp))
			return -1;
		if (cfg->xdp.mode != CONFIG_XDP_OFF && !cfg->xdp.n_interfaces)
			return fail_val(c, v, "[xdp]: mode \"%s\" needs at least one entry in "
					"'interfaces'",
					cfg->xdp.mode == CONFIG_XDP_NATIVE ? "native" : "generic");
		if (cfg->xdp.pin_path && (cfg->xdp.pin_path[0] != '/' ||
					  strlen(cfg->xdp.pin_path) > 200))
			return fail_val(c, toml_get(v, "pin-path"), "'pin-path' in [xdp]: "
					"expected an absolute path of at most 200 bytes");
	}
	return 0;
}

int config_parse(const char *name, const char *buf, size_t len, struct xnts_config *cfg,
		 char *err, size_t errlen)
{
	struct ctx c = { .name = name ? name : "<input>", .err = err, .errlen = errlen };
	struct toml_node *root;

	config_defaults(cfg);
	root = toml_parse(c.name, buf, len, err, errlen);
	if (!root)
		return -1;
	if (parse_root(&c, root, cfg)) {
		config_free(cfg);
		toml_free(root);
		return -1;
	}
	toml_free(root);
	return 0;
}
