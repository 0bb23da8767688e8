// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the whole configuration path (TOML parser and schema)
 * on arbitrary bytes. Besides memory errors it checks the error contract: a
 * failure always yields "NAME:LINE:COL: message", and success frees cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const char *err)
{
	static const char prefix[] = "fuzz.toml:";
	const char *p = err + sizeof(prefix) - 1;
	char *end;

	if (strncmp(err, prefix, sizeof(prefix) - 1))
		abort();
	if (strtoul(p, &end, 10) < 1 || *end != ':')
		abort();
	if (strtoul(end + 1, &end, 10) < 1 || strncmp(end, ": ", 2) || !end[2])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xnts_config cfg;
	struct toml_node *root;
	char err[256];

	root = toml_parse("fuzz.toml", (const char *)data, size, err, sizeof(err));
	if (!root)
		check_error(err);
	toml_free(root);
	if (config_parse("fuzz.toml", (const char *)data, size, &cfg, err, sizeof(err)))
		check_error(err);
	else
		config_free(&cfg);
	return 0;
}
