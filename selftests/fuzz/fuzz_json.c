// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the status document's reader and its Prometheus
 * rendering (what xntsctl does with a daemon's answer) on arbitrary bytes.
 * Besides memory errors it checks the contract: a failure always says why,
 * and every rendered line is a comment or "name[{labels}] value".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "status_prom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const char *l, size_t n)
{
	const char *sp;

	if (!n || l[0] == '#')
		return;
	sp = memrchr(l, ' ', n);
	if (!sp || sp == l || sp + 1 == l + n)
		abort();
	if (memchr(l, '\n', n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256] = "";
	struct json *j = json_parse((const char *)data, size, err, sizeof(err));
	struct sbuf out;

	if (!j) {
		if (strncmp(err, "JSON: ", 6))
			abort();
		return 0;
	}
	sbuf_init(&out, 1 << 24);
	status_prom(j, &out);
	for (size_t off = 0; out.buf && off < out.len;) {
		const char *nl = memchr(out.buf + off, '\n', out.len - off);

		if (!nl)
			abort();	/* every line ends */
		check_line(out.buf + off, (size_t)(nl - (out.buf + off)));
		off = (size_t)(nl - out.buf) + 1;
	}
	sbuf_free(&out);
	json_free(j);
	return 0;
}
