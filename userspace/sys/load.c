// SPDX-License-Identifier: GPL-2.0
/* Files into the core's parsers: see load.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "load.h"

char *sys_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd;

	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	/* One byte more than allowed tells "too large" without trusting st_size. */
	buf = malloc(max + 2);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return NULL;
	}
	while (got <= max) {
		ssize_t r = read(fd, buf + got, max + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (!r)
			break;
		got += (size_t)r;
	}
	if (got > max) {
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
		goto fail;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

struct toml_node *toml_load(const char *path, char *err, size_t errlen)
{
	struct toml_node *root;
	size_t len;
	char *buf = sys_read_file(path, TOML_MAX_INPUT, &len, err, errlen);

	if (!buf)
		return NULL;
	root = toml_parse(path, buf, len, err, errlen);
	free(buf);
	return root;
}

int config_load(const char *path, struct xnts_config *cfg, char *err, size_t errlen)
{
	size_t len;
	char *buf = sys_read_file(path, TOML_MAX_INPUT, &len, err, errlen);
	int ret;

	if (!buf) {
		/* Filled even on failure, as config_parse() leaves it. */
		config_defaults(cfg);
		return -1;
	}
	ret = config_parse(path, buf, len, cfg, err, errlen);
	/* The text holds accepted-pool-authentication-tokens. */
	OPENSSL_cleanse(buf, len);
	free(buf);
	return ret;
}

int leapsec_load(const char *path, struct leapsec_table *t, char *err, size_t errlen)
{
	size_t len;
	char *buf = sys_read_file(path, LEAPSEC_FILE_MAX, &len, err, errlen);
	int ret;

	if (!buf) {
		memset(t, 0, sizeof(*t));
		return -1;
	}
	ret = leapsec_parse(buf, len, t, err, errlen);
	free(buf);
	return ret;
}
