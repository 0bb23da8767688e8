// SPDX-License-Identifier: GPL-2.0
/*
 * load (system layer): files are read whole up to their bound and no
 * further, only regular files, with errors that name the file.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "load.h"

static void write_file(struct __test_metadata *_metadata, const char *path, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char buf[1000];

	ASSERT_LE(0, fd);
	memset(buf, 'a', sizeof(buf));
	while (n) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);

		ASSERT_EQ((ssize_t)k, write(fd, buf, k));
		n -= k;
	}
	close(fd);
}

TEST(read_file_bounds)
{
	char path[] = "/tmp/test_load_XXXXXX";
	char err[256];
	size_t len = 99;
	char *b;
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	close(fd);
	/* Empty: an empty, terminated buffer. */
	b = sys_read_file(path, 10, &len, err, sizeof(err));
	ASSERT_NE(NULL, b);
	EXPECT_EQ(0, len);
	EXPECT_EQ(0, b[0]);
	free(b);
	/* Exactly the bound. */
	write_file(_metadata, path, 4096);
	b = sys_read_file(path, 4096, &len, err, sizeof(err));
	ASSERT_NE(NULL, b);
	EXPECT_EQ(4096, len);
	EXPECT_EQ('a', b[4095]);
	EXPECT_EQ(0, b[4096]);
	free(b);
	/* One byte over. */
	b = sys_read_file(path, 4095, &len, err, sizeof(err));
	EXPECT_EQ(NULL, b);
	EXPECT_EQ(0, len);
	EXPECT_EQ(0, strncmp(err, path, strlen(path)));
	EXPECT_STREQ(": larger than 4095 bytes", err + strlen(path));
	unlink(path);
	b = sys_read_file(path, 10, &len, err, sizeof(err));
	EXPECT_EQ(NULL, b);
	EXPECT_NE(NULL, strstr(err, "No such file"));
}

TEST(read_file_regular_only)
{
	char err[256];
	size_t len;

	EXPECT_EQ(NULL, sys_read_file("/tmp", 10, &len, err, sizeof(err)));
	EXPECT_STREQ("/tmp: not a regular file", err);
	/* A device would never end: refused before any read. */
	EXPECT_EQ(NULL, sys_read_file("/dev/zero", 10, &len, err, sizeof(err)));
	EXPECT_STREQ("/dev/zero: not a regular file", err);
}

TEST(leapsec_file_too_large)
{
	char path[] = "/tmp/test_load_XXXXXX";
	struct leapsec_table t;
	char err[256];
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	close(fd);
	write_file(_metadata, path, LEAPSEC_FILE_MAX + 1);
	memset(&t, 0x55, sizeof(t));
	EXPECT_EQ(-1, leapsec_load(path, &t, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "larger than"));
	/* Nothing half-filled is left behind. */
	EXPECT_EQ(0, t.n);
	EXPECT_EQ(0, t.expires);
	unlink(path);
}

TEST(config_missing_file_leaves_defaults)
{
	struct xnts_config c, d;
	char err[256];

	memset(&c, 0x55, sizeof(c));
	EXPECT_EQ(-1, config_load("/nonexistent/xnts.toml", &c, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "/nonexistent/xnts.toml: "));
	config_defaults(&d);
	EXPECT_EQ(d.synchronization.minimum_agreeing_sources,
		  c.synchronization.minimum_agreeing_sources);
	EXPECT_EQ(0, c.n_servers);
	config_free(&c);
}

TEST_HARNESS_MAIN
