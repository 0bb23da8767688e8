// SPDX-License-Identifier: GPL-2.0
/*
 * xntsctl: ask a running xntsd for its state over the control socket named
 * by [observability] observation-path, or validate a configuration file.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "load.h"

#define DEFAULT_CONFIG "/etc/xnts/ntp.toml"
#define REPLY_TIMEOUT_MS 5000

static void usage(FILE *f)
{
	fprintf(f, "usage: xntsctl [-c CONFIG] COMMAND [-f plain|json]\n"
		"commands:\n"
		"  status    daemon, NTS-KE server and source state\n"
		"  keys      the keyset's master key ids\n"
		"  validate  check the configuration file and exit\n");
}

static int query(const char *path, const char *req)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[65536];
	struct pollfd pfd;
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "xntsctl: observation-path too long\n");
		return 1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		fprintf(stderr, "xntsctl: cannot reach xntsd at %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		fprintf(stderr, "xntsctl: write: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, REPLY_TIMEOUT_MS) != 1) {
			fprintf(stderr, "xntsctl: no answer from xntsd\n");
			close(fd);
			return 1;
		}
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, stdout);
	}
	close(fd);
	return n < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *config = DEFAULT_CONFIG, *format = "plain", *cmd;
	struct xnts_config cfg;
	char err[1024], req[64];
	int opt, ret;

	while ((opt = getopt(argc, argv, "+c:f:h")) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	/* Options may also follow the command: xntsctl status -f json. */
	while ((opt = getopt(argc, argv, "c:f:")) != -1) {
		if (opt == 'c')
			config = optarg;
		else if (opt == 'f')
			format = optarg;
		else
			return 2;
	}
	if (strcmp(format, "plain") && strcmp(format, "json")) {
		fprintf(stderr, "xntsctl: unknown format '%s' (plain or json)\n", format);
		return 2;
	}
	if (config_load(config, &cfg, err, sizeof(err))) {
		fprintf(stderr, "xntsctl: %s\n", err);
		return 1;
	}
	if (!strcmp(cmd, "validate")) {
		printf("%s: configuration is valid\n", config);
		config_free(&cfg);
		return 0;
	}
	if (strcmp(cmd, "status") && strcmp(cmd, "keys")) {
		fprintf(stderr, "xntsctl: unknown command '%s'\n", cmd);
		config_free(&cfg);
		return 2;
	}
	if (!cfg.observability.observation_path) {
		fprintf(stderr, "xntsctl: %s sets no [observability] observation-path\n", config);
		config_free(&cfg);
		return 1;
	}
	snprintf(req, sizeof(req), "%s %s\n", cmd, format);
	ret = query(cfg.observability.observation_path, req);
	config_free(&cfg);
	return ret;
}
