/* SPDX-License-Identifier: GPL-2.0 */
/*
 * load (system layer): the core's parsers fed from files. Each reads one
 * regular file whole, bounded by what its parser accepts, and hands the
 * bytes to the core (toml_parse, config_parse, leapsec_parse), which does
 * no I/O itself.
 *
 * Contract:
 * - sys_read_file(): a malloc'd, NUL-terminated copy of the file and its
 *   length in *len; NULL with "PATH: reason" in err if it cannot be opened,
 *   is not a regular file, is longer than max bytes, or a read fails.
 * - toml_load(), config_load(), leapsec_load(): as their parsers, with the
 *   file's path as the name in messages; a file too large or unreadable is
 *   refused the same way.
 */
#ifndef XNTS_LOAD_H
#define XNTS_LOAD_H

#include <stddef.h>

#include "config.h"
#include "leapsec.h"
#include "toml.h"

char *sys_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);
struct toml_node *toml_load(const char *path, char *err, size_t errlen);
int config_load(const char *path, struct xnts_config *cfg, char *err, size_t errlen);
int leapsec_load(const char *path, struct leapsec_table *t, char *err, size_t errlen);

#endif
