// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: udp_frame_parse() on arbitrary frames. It must never
 * read outside the input; whatever it accepts, turned into a reply of any
 * payload length up to the request's, must be no longer than the request
 * and parse again (lengths and checksums right) with the ends swapped.
 */
#include <stdlib.h>
#include <string.h>

#include "udp_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct udp_frame uf, back;
	uint8_t *f;
	size_t plen, rlen;

	f = malloc(size ? size : 1);
	if (!f)
		abort();
	memcpy(f, data, size);
	if (udp_frame_parse(f, size, &uf)) {
		free(f);
		return 0;
	}
	if (uf.payload_off + uf.payload_len > size)
		abort();
	/* The reply's payload length comes from the input too. */
	plen = uf.payload_len ? (size_t)data[size - 1] % (uf.payload_len + 1) : 0;
	rlen = udp_frame_reply(f, &uf, plen);
	if (rlen > size || rlen != uf.payload_off + plen)
		abort();
	if (udp_frame_parse(f, rlen, &back) || back.payload_len != plen ||
	    memcmp(&back.src, &uf.dst, sizeof(uf.dst)) || memcmp(&back.dst, &uf.src, sizeof(uf.src)))
		abort();
	free(f);
	return 0;
}
