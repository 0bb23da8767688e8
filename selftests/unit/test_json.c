// SPDX-License-Identifier: GPL-2.0
/*
 * The status document's reader (json) and its Prometheus rendering
 * (status_prom): values, escapes, bounds and rejections; metric families
 * written once, labels escaped, and members the table does not name (new
 * XDP counters, new NTS-KE failure reasons) exported by themselves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "json.h"
#include "status_prom.h"

static char err[256];

static struct json *parse(const char *s)
{
	return json_parse(s, strlen(s), err, sizeof(err));
}

TEST(values_and_lookups)
{
	struct json *j = parse(" {\"a\":1,\"b\":-2.5e1,\"c\":\"x\\\"\\\\\\/\\n\\u00e9\\ud83d\\ude00\","
			       "\"d\":true,\"e\":false,\"f\":null,\"g\":[1,[2],{}],"
			       "\"big\":18446744073709551615,\"h\":{\"i\":{\"j\":7}}} ");

	ASSERT_NE(NULL, j) TH_LOG("%s", err);
	EXPECT_EQ(JSON_OBJECT, j->type);
	EXPECT_EQ(1, json_num(j, "a", 0));
	EXPECT_EQ(-25, json_num(j, "b", 0));
	EXPECT_STREQ("x\"\\/\n\xc3\xa9\xf0\x9f\x98\x80", json_str(j, "c", NULL));
	EXPECT_EQ(1, json_bool(j, "d", -1));
	EXPECT_EQ(0, json_bool(j, "e", -1));
	EXPECT_EQ(JSON_NULL, json_get(j, "f")->type);
	EXPECT_EQ(3, json_len(json_get(j, "g")));
	/* Counters pass through exactly, beyond a double's 53 bits. */
	EXPECT_EQ(18446744073709551615ULL, json_u64(j, "big", 0));
	EXPECT_STREQ("18446744073709551615", json_get(j, "big")->str);
	EXPECT_EQ(7, json_num(json_get(json_get(j, "h"), "i"), "j", 0));
	/* Absent members and wrong types give the fallback, NULL included. */
	EXPECT_EQ(42, json_num(j, "zz", 42));
	EXPECT_STREQ("dflt", json_str(j, "a", "dflt"));
	EXPECT_EQ(5, json_u64(j, "b", 5));
	EXPECT_EQ(9, json_num(NULL, "a", 9));
	EXPECT_EQ(NULL, json_get(json_get(j, "a"), "x"));
	json_free(j);
}

TEST(rejections)
{
	static const char *const bad[] = {
		"", "{", "[1,]", "{\"a\"}", "{\"a\":}", "{a:1}", "[1 2]", "tru", "nul",
		"\"abc", "\"a\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00x\"", "\"\\u0000\"",
		"\"a\nb\"", "-", "1 2", "{\"a\":1}}", "01x", "[\"\\",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json *j = parse(bad[i]);

		EXPECT_EQ(NULL, j) TH_LOG("accepted: %s", bad[i]);
		json_free(j);
	}
}

TEST(depth_is_bounded)
{
	char deep[2 * (JSON_MAX_DEPTH + 2) + 1];
	size_t n = JSON_MAX_DEPTH + 2;
	struct json *j;

	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	j = parse(deep);
	EXPECT_EQ(NULL, j);
	EXPECT_NE(NULL, strstr(err, "deeply"));
	deep[0] = ' ';
	deep[2 * n - 1] = ' ';	/* JSON_MAX_DEPTH levels below the top */
	j = parse(deep);
	EXPECT_NE(NULL, j) TH_LOG("%s", err);
	json_free(j);
}

static const char doc[] =
	"{\"version\":\"0.1\",\"uptime\":12,\"clock_control\":false,"
	"\"keyset\":{\"keys\":[{\"id\":\"0a\",\"age\":3}],\"next_rotation\":100},"
	"\"sync\":{\"synced\":false,\"local_reference\":true,\"steps\":2,"
	"\"serving\":{\"stratum\":1,\"leap\":0,\"refid\":\"XNON\"}},"
	"\"nts_ke_servers\":[{\"listen\":\"127.0.0.1:4460\",\"accepted\":5,"
	"\"failed\":{\"tls\":1,\"brand_new_reason\":4}}],"
	"\"ntp_servers\":[{\"listen\":\"a\\\"b\\\\c\",\"received\":10,\"plain\":3,\"nts\":4,"
	"\"nak\":1,\"kiss\":2},{\"listen\":\"[::1]:123\",\"received\":18446744073709551615,"
	"\"plain\":0,\"nts\":0,\"nak\":0,\"kiss\":0}],"
	"\"xdp\":{\"mode\":\"native\",\"loaded\":true,\"heartbeat_age_ms\":250,"
	"\"counters\":{\"answered\":7,\"a_counter_added_later\":9}},"
	"\"sources\":[{\"address\":\"ntp.example:4460\",\"nts_ke\":{\"cookies\":8},"
	"\"associations\":[{\"address\":\"192.0.2.1:123\",\"poll\":4,\"reach\":255,"
	"\"offset\":-0.001,\"delay\":0.002}]}]}";

static char *prom(const char *text)
{
	struct json *j = parse(text);
	struct sbuf out;
	char *s;

	if (!j)
		return NULL;
	sbuf_init(&out, 1 << 20);
	status_prom(j, &out);
	json_free(j);
	sbuf_printf(&out, "%s", "");
	s = strdup(out.buf ? out.buf : "");
	sbuf_free(&out);
	return s;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

TEST(prometheus_rendering)
{
	char *p = prom(doc);

	ASSERT_NE(NULL, p) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(p, "xnts_build_info{version=\"0.1\"} 1\n"));
	EXPECT_NE(NULL, strstr(p, "\nntp_uptime_seconds 12\n"));
	EXPECT_NE(NULL, strstr(p, "\nxnts_clock_control 0\n"));
	EXPECT_NE(NULL, strstr(p, "\nxnts_system_local_reference 1\n"));
	EXPECT_NE(NULL, strstr(p, "\nntp_system_stratum 1\n"));
	EXPECT_NE(NULL, strstr(p, "\nxnts_keyset_keys 1\n"));
	EXPECT_NE(NULL, strstr(p, "\nxnts_keyset_current_key_age_seconds 3\n"));
	/* Label values escaped; 64-bit counters exact. */
	EXPECT_NE(NULL, strstr(p, "\nntp_server_received_packets_total"
			       "{listen_address=\"a\\\"b\\\\c\"} 10\n"));
	EXPECT_NE(NULL, strstr(p, "{listen_address=\"[::1]:123\"} 18446744073709551615\n"));
	EXPECT_NE(NULL, strstr(p, "\nxnts_server_responses_total{listen_address=\"a\\\"b\\\\c\","
			       "kind=\"nts\"} 4\n"));
	/* Members the table never names appear by themselves. */
	EXPECT_NE(NULL, strstr(p, "\nxnts_xdp_packets_total{outcome=\"a_counter_added_later\"} 9\n"));
	EXPECT_NE(NULL, strstr(p, "\nxnts_nts_ke_failures_total{listen_address=\"127.0.0.1:4460\","
			       "reason=\"brand_new_reason\"} 4\n"));
	/* Units converted to seconds. */
	EXPECT_NE(NULL, strstr(p, "\nxnts_xdp_heartbeat_age_seconds 0.25\n"));
	EXPECT_NE(NULL, strstr(p, "\nntp_source_poll_interval_seconds{name=\"ntp.example:4460\","
			       "address=\"192.0.2.1:123\"} 16\n"));
	EXPECT_NE(NULL, strstr(p, "\nntp_source_offset_seconds{name=\"ntp.example:4460\","
			       "address=\"192.0.2.1:123\"} -0.001\n"));
	EXPECT_NE(NULL, strstr(p, "\nntp_source_nts_cookies_available{name=\"ntp.example:4460\"} 8\n"));
	/* Every family has one HELP and one TYPE, before its samples, and its samples together. */
	for (const char *h = strstr(p, "# TYPE "); h; h = strstr(h + 1, "# TYPE ")) {
		char name[128], line[160];
		const char *q;

		ASSERT_EQ(1, sscanf(h, "# TYPE %127s", name));
		snprintf(line, sizeof(line), "# TYPE %s ", name);
		EXPECT_EQ(1, count(p, line)) TH_LOG("%s", name);
		snprintf(line, sizeof(line), "# HELP %s ", name);
		EXPECT_EQ(1, count(p, line)) TH_LOG("%s", name);
		/* After this family's samples, no sample of it comes again. */
		q = strchr(h, '\n') + 1;
		while (!strncmp(q, name, strlen(name)) &&
		       (q[strlen(name)] == '{' || q[strlen(name)] == ' '))
			q = strchr(q, '\n') + 1;
		snprintf(line, sizeof(line), "\n%s{", name);
		EXPECT_EQ(NULL, strstr(q - 1, line)) TH_LOG("%s split", name);
		snprintf(line, sizeof(line), "\n%s ", name);
		EXPECT_EQ(NULL, strstr(q - 1, line)) TH_LOG("%s split", name);
	}
	/* Counters end in _total. */
	for (const char *h = strstr(p, " counter\n"); h; h = strstr(h + 1, " counter\n"))
		EXPECT_EQ(0, strncmp(h - 6, "_total", 6));
	free(p);
}

TEST(prometheus_absent_parts)
{
	/* A client: no keyset, XDP off, no servers; nothing about them. */
	char *p = prom("{\"version\":\"0.1\",\"keyset\":{\"keys\":[],\"next_rotation\":-1},"
		       "\"xdp\":{\"mode\":\"off\"},\"ntp_servers\":[],\"sources\":[]}");

	ASSERT_NE(NULL, p);
	EXPECT_EQ(NULL, strstr(p, "xnts_keyset"));
	EXPECT_EQ(NULL, strstr(p, "xnts_xdp"));
	EXPECT_EQ(NULL, strstr(p, "ntp_server"));
	EXPECT_NE(NULL, strstr(p, "xnts_build_info"));
	free(p);
}

TEST_HARNESS_MAIN
