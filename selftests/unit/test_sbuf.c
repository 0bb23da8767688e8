// SPDX-License-Identifier: GPL-2.0
/*
 * sbuf: appends grow the buffer up to its bound and never past it; a failed
 * buffer stays failed and keeps what it had; JSON strings are escaped.
 */
#include <string.h>

#include "kselftest_harness.h"
#include "sbuf.h"

TEST(empty_and_free)
{
	struct sbuf s;

	sbuf_init(&s, 1024);
	EXPECT_EQ(0, s.len);
	EXPECT_EQ(0, sbuf_failed(&s));
	sbuf_free(&s);
	EXPECT_EQ(NULL, s.buf);
	/* Twice is harmless. */
	sbuf_free(&s);
}

TEST(printf_appends_and_terminates)
{
	struct sbuf s;

	sbuf_init(&s, 1 << 20);
	sbuf_printf(&s, "%s=%d", "a", 1);
	sbuf_printf(&s, ",%llu", 18446744073709551615ULL);
	sbuf_printf(&s, "%s", "");
	ASSERT_EQ(0, sbuf_failed(&s));
	EXPECT_EQ(strlen("a=1,18446744073709551615"), s.len);
	EXPECT_STREQ("a=1,18446744073709551615", s.buf);
	sbuf_free(&s);
}

TEST(grows_past_first_allocation)
{
	struct sbuf s;
	char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	sbuf_init(&s, 1 << 20);
	for (int i = 0; i < 10; i++)
		sbuf_printf(&s, "%s", big);
	ASSERT_EQ(0, sbuf_failed(&s));
	EXPECT_EQ(10 * (sizeof(big) - 1), s.len);
	EXPECT_LE(s.len + 1, s.cap);
	EXPECT_EQ('x', s.buf[s.len - 1]);
	EXPECT_EQ(0, s.buf[s.len]);
	sbuf_free(&s);
}

TEST(bound_is_kept_exactly)
{
	struct sbuf s;
	char line[100];

	memset(line, 'y', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	/* 299 characters and the NUL fit in 300, though doubling would ask 512. */
	sbuf_init(&s, 300);
	sbuf_printf(&s, "%s%s%s", line, line, line);
	sbuf_printf(&s, "zz");
	ASSERT_EQ(0, sbuf_failed(&s));
	EXPECT_EQ(299, s.len);
	EXPECT_LE(s.cap, 300);
	/* One more byte does not fit: failed, and what was there is kept. */
	sbuf_printf(&s, "z");
	EXPECT_EQ(1, sbuf_failed(&s));
	EXPECT_EQ(299, s.len);
	EXPECT_EQ(0, s.buf[299]);
	/* Later appends are ignored, even small ones. */
	sbuf_free(&s);
	sbuf_init(&s, 16);
	sbuf_printf(&s, "%s", line);
	EXPECT_EQ(1, sbuf_failed(&s));
	sbuf_printf(&s, "a");
	EXPECT_EQ(0, s.len);
	EXPECT_EQ(1, sbuf_failed(&s));
	sbuf_free(&s);
}

TEST(json_string_escapes)
{
	struct sbuf s;

	sbuf_init(&s, 4096);
	sbuf_json_str(&s, "plain");
	sbuf_printf(&s, " ");
	sbuf_json_str(&s, "q\"b\\s\n\t\x01\x1f end");
	sbuf_printf(&s, " ");
	sbuf_json_str(&s, NULL);
	sbuf_printf(&s, " ");
	sbuf_json_str(&s, "");
	ASSERT_EQ(0, sbuf_failed(&s));
	EXPECT_STREQ("\"plain\" \"q\\\"b\\\\s\\u000a\\u0009\\u0001\\u001f end\" \"\" \"\"", s.buf);
	sbuf_free(&s);
}

TEST_HARNESS_MAIN
