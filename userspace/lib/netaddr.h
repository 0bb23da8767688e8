/* SPDX-License-Identifier: GPL-2.0 */
/*
 * netaddr: socket addresses from configuration values, and their text form
 * ("192.0.2.1:123", "[2001:db8::1]:4460").
 */
#ifndef XNTS_NETADDR_H
#define XNTS_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

#include "config.h"

struct netaddr {
	struct sockaddr_storage ss;
	socklen_t len;
};

void netaddr_from_config(const struct config_addr *a, struct netaddr *out);
/* Always NUL-terminates; returns buf. */
char *netaddr_format(const struct sockaddr *sa, char *buf, size_t len);

#endif
