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
#include "json.h"
#include "sbuf.h"
#include "status_prom.h"
#include "status_text.h"

#define DEFAULT_CONFIG "/etc/xnts/ntp.toml"
#define REPLY_TIMEOUT_MS 5000
#define MAX_ANSWER (64 << 20)

static void usage(FILE *f)
{
	fprintf(f, "usage: xntsctl [-c CONFIG] COMMAND [-f plain|json|prometheus]\n"
		"commands:\n"
		"  status    daemon, NTS-KE server and source state\n"
		"  keys      the keyset's master key ids\n"
		"  validate  check the configuration file and exit\n");
}

/* The daemon's whole answer, a JSON document, into out (bounded by its max). */
static int query(const char *path, const char *req, struct sbuf *out)
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
		sbuf_printf(out, "%.*s", (int)n, buf);
	}
	close(fd);
	if (n < 0 || sbuf_failed(out)) {
		fprintf(stderr, "xntsctl: reading the answer: %s\n",
			n < 0 ? strerror(errno) : "too long");
		return 1;
	}
	return 0;
}

/* Renders the daemon's JSON answer in the format asked for. */
static int render(const char *cmd, const char *format, const struct sbuf *in)
{
	struct json *doc;
	struct sbuf out;
	char err[256];
	int ret = 0;

	if (!strcmp(format, "json")) {
		fwrite(in->buf, 1, in->len, stdout);
		return 0;
	}
	doc = json_parse(in->buf ? in->buf : "", in->len, err, sizeof(err));
	if (!doc) {
		fprintf(stderr, "xntsctl: xntsd's answer: %s\n", err);
		return 1;
	}
	if (json_get(doc, "error")) {
		fprintf(stderr, "xntsctl: xntsd: %s\n", json_str(doc, "error", "?"));
		json_free(doc);
		return 1;
	}
	sbuf_init(&out, MAX_ANSWER);
	if (!strcmp(format, "prometheus"))
		status_prom(doc, &out);
	else if (!strcmp(cmd, "keys"))
		status_text_keys(doc, &out);
	else
		status_text(doc, &out);
	if (sbuf_failed(&out)) {
		fprintf(stderr, "xntsctl: out of memory\n");
		ret = 1;
	} else if (out.len) {
		fwrite(out.buf, 1, out.len, stdout);
	}
	sbuf_free(&out);
	json_free(doc);
	return ret;
}

int main(int argc, char **argv)
{
	const char *config = DEFAULT_CONFIG, *format = "plain", *cmd;
	struct xnts_config cfg;
	struct sbuf answer;
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
	if (strcmp(format, "plain") && strcmp(format, "json") && strcmp(format, "prometheus")) {
		fprintf(stderr, "xntsctl: unknown format '%s' (plain, json or prometheus)\n",
			format);
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
	snprintf(req, sizeof(req), "%s\n", cmd);
	sbuf_init(&answer, MAX_ANSWER);
	ret = query(cfg.observability.observation_path, req, &answer);
	if (!ret)
		ret = render(cmd, format, &answer);
	sbuf_free(&answer);
	config_free(&cfg);
	return ret;
}
