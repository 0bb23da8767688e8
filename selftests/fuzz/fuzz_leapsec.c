// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: leapsec_parse() on arbitrary bytes. It must never
 * crash; a refused input leaves a zeroed table and an error message; an
 * accepted one has entries in increasing order with +-1 steps, and the
 * queries on it stay consistent.
 */
#include <stdlib.h>
#include <string.h>

#include "leapsec.h"
#include "ntp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct leapsec_table zero;
	struct leapsec_table t;
	char err[128];
	int64_t when;

	if (leapsec_parse((const char *)data, size, &t, err, sizeof(err))) {
		if (memcmp(&t, &zero, sizeof(t)) || !err[0])
			abort();
		return 0;
	}
	if (!t.n || t.n > LEAPSEC_MAX)
		abort();
	for (size_t i = 1; i < t.n; i++) {
		if (t.e[i].ntp <= t.e[i - 1].ntp || abs(t.e[i].tai - t.e[i - 1].tai) != 1)
			abort();
	}
	for (size_t i = 0; i < t.n; i++) {
		int64_t u = t.e[i].ntp - NTP_UNIX_OFFSET;

		if (leapsec_tai_offset(&t, u) != t.e[i].tai)
			abort();
		if (i && leapsec_next(&t, u - 1, &when) != (t.e[i].tai > t.e[i - 1].tai ? 1 : -1))
			abort();
	}
	return 0;
}
