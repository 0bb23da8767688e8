// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_load: loading the XDP program. Picks the variant (NTS when the
 * xnts_siv module is there), mounts bpffs if needed, pins the maps and the
 * program under the pin directory, and reuses what an earlier run pinned
 * when it has the same shape. xdp_ctl.h has the contract.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "xdp_ctl_int.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define MAX_MAP_IDS 16

#define BPF_FS_ROOT "/sys/fs/bpf"

static int mkdir_pin(const char *p)
{
	if (mkdir(p, 0700) && errno != EEXIST)
		return -1;
	return 0;
}

static int on_bpffs(const char *p)
{
	struct statfs sfs;

	return !statfs(p, &sfs) && (unsigned long)sfs.f_type == BPF_FS_MAGIC;
}

/*
 * A fresh machine, and every `ip netns exec` (which mounts a new sysfs),
 * has no bpf filesystem at /sys/fs/bpf. Mount it, as bpftool and libxdp
 * do, when the pin directory lies below it; a pin path elsewhere is the
 * operator's to provide.
 */
static int ensure_bpffs(const char *pin)
{
	size_t n = strlen(BPF_FS_ROOT);

	if (strncmp(pin, BPF_FS_ROOT, n) || (pin[n] != '/' && pin[n]) || on_bpffs(BPF_FS_ROOT))
		return 0;
	if (mount("bpf", BPF_FS_ROOT, "bpf", 0, "mode=0700")) {
		log_warn("xdp: no bpf filesystem at %s, and mounting one failed: %s",
			 BPF_FS_ROOT, strerror(errno));
		return -1;
	}
	log_info("xdp: mounted a bpf filesystem at %s", BPF_FS_ROOT);
	return 0;
}

/* Remove what an earlier run pinned: known maps, the program, every link. */
void xdp_unpin_all(const char *pin, const char *real)
{
	char p[PIN_MAX + 64];
	struct dirent *de;
	DIR *dir;
	int n = 0;

	fmt(p, sizeof(p), "%s/links", pin);
	dir = opendir(p);
	while (dir && (de = readdir(dir)) && n++ < 4096) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fmt(p, sizeof(p), "%s/links/%s", pin, de->d_name);
		fd = bpf_obj_get(p);
		if (fd >= 0) {
			bpf_link_detach(fd);
			close(fd);
		}
		unlink(p);
	}
	if (dir)
		closedir(dir);
	fmt(p, sizeof(p), "%s/maps", pin);
	dir = opendir(p);
	while (dir && (de = readdir(dir)) && n++ < 4096) {
		if (de->d_name[0] == '.')
			continue;
		fmt(p, sizeof(p), "%s/maps/%s", pin, de->d_name);
		unlink(p);
	}
	if (dir)
		closedir(dir);
	fmt(p, sizeof(p), "%s/prog", pin);
	unlink(p);
	fmt(p, sizeof(p), "%s/links", pin);
	rmdir(p);
	fmt(p, sizeof(p), "%s/maps", pin);
	rmdir(p);
	/* An unprivileged daemon cannot write bpffs's root: the directory stays, empty. */
	if (rmdir(real) && errno != EACCES && errno != EPERM && errno != ENOENT)
		log_debug("xdp: rmdir %s: %s", real, strerror(errno));
}

/* 1 if the pinned map at path has the same shape as map, 0 if not, -1 if none. */
static int pinned_map_compatible(const char *path, const struct bpf_map *map)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path), ok;

	if (fd < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	ok = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	     info.type == bpf_map__type(map) && info.key_size == bpf_map__key_size(map) &&
	     info.value_size == bpf_map__value_size(map) &&
	     info.max_entries == bpf_map__max_entries(map) &&
	     info.map_flags == bpf_map__map_flags(map);
	close(fd);
	return ok;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int prog_info(int fd, struct bpf_prog_info *info, uint32_t *ids)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	info->nr_map_ids = MAX_MAP_IDS;
	info->map_ids = (__u64)(uintptr_t)ids;
	if (bpf_obj_get_info_by_fd(fd, info, &len))
		return -1;
	if (info->nr_map_ids > MAX_MAP_IDS)
		return -1;
	qsort(ids, info->nr_map_ids, sizeof(*ids), cmp_u32);
	return 0;
}

/*
 * Keep the pinned program if it is this very program: same instructions
 * (the tag ignores map fds) and the same maps. Otherwise pin ours.
 */
static void adopt_program(struct xdp_ctl *x)
{
	uint32_t ids_new[MAX_MAP_IDS], ids_old[MAX_MAP_IDS];
	struct bpf_prog_info new_info, old_info;
	char p[PIN_MAX + 16];
	int fd, own = bpf_program__fd(x->prog);

	x->prog_fd = own;
	if (prog_info(own, &new_info, ids_new))
		return;
	x->prog_id = new_info.id;
	path_of(x, p, sizeof(p), "prog", NULL);
	fd = bpf_obj_get(p);
	if (fd >= 0) {
		if (!prog_info(fd, &old_info, ids_old) &&
		    !memcmp(old_info.tag, new_info.tag, sizeof(old_info.tag)) &&
		    old_info.nr_map_ids == new_info.nr_map_ids &&
		    !memcmp(ids_old, ids_new, new_info.nr_map_ids * sizeof(*ids_new))) {
			x->prog_fd = fd;
			x->prog_id = old_info.id;
			x->prog_reused = 1;
			return;
		}
		close(fd);
		unlink(p);
	}
	if (bpf_obj_pin(own, p))
		log_warn("xdp: cannot pin the program at %s: %s", p, strerror(errno));
}

/*
 * The NTS variant needs the kfuncs of kmod/xnts_siv.ko: open it when the
 * module's BTF is there (x->nts), else the plain one. x->variant_note
 * says why. A failed NTS load comes back through load() returning -2.
 */
static int open_variant(struct xdp_ctl *x)
{
	if (!x->variant_note[0] && !access("/sys/kernel/btf/xnts_siv", F_OK)) {
		x->skel_nts = xnts_nts__open();
		if (x->skel_nts) {
			x->obj = x->skel_nts->obj;
			x->prog = x->skel_nts->progs.xnts_xdp;
			XDP_MAPS_FROM_SKEL(&x->maps, x->skel_nts);
			x->maps.nts_keys = x->skel_nts->maps.xnts_nts_keys;
			x->maps.nts_current = x->skel_nts->maps.xnts_nts_current;
			x->nts = 1;
			fmt(x->variant_note, sizeof(x->variant_note),
			    "kernel module xnts_siv loaded: NTS answered in XDP");
			return 0;
		}
		fmt(x->variant_note, sizeof(x->variant_note),
		    "cannot open the NTS variant: NTS requests go to userspace");
	} else if (!x->variant_note[0]) {
		fmt(x->variant_note, sizeof(x->variant_note),
		    "kernel module xnts_siv not loaded: NTS requests go to userspace");
	}
	x->skel = xnts__open();
	if (!x->skel)
		return -1;
	x->obj = x->skel->obj;
	x->prog = x->skel->progs.xnts_xdp;
	memset(&x->maps, 0, sizeof(x->maps));
	XDP_MAPS_FROM_SKEL(&x->maps, x->skel);
	x->nts = 0;
	return 0;
}

int xdp_load(struct xdp_ctl *x, const struct xnts_config *cfg)
{
	struct bpf_map *pinned[XDP_MAPS_PINNED], *m;
	uint64_t cache = 0;
	char p[PIN_MAX + 64];
	size_t i;
	int err, existing = 0, mismatch = 0;

	ensure_bpffs(x->pin);
	if (mkdir_pin(x->pin)) {
		fmt(x->error, sizeof(x->error), "pin directory %s: %s", x->pin,
		    strerror(errno));
		return -1;
	}
	if (!on_bpffs(x->pin)) {
		fmt(x->error, sizeof(x->error), "pin directory %s is not on a bpf filesystem",
		    x->pin);
		return -1;
	}
	path_of(x, p, sizeof(p), "maps", NULL);
	if (mkdir_pin(p)) {
		fmt(x->error, sizeof(x->error), "%s: %s", p, strerror(errno));
		return -1;
	}
	path_of(x, p, sizeof(p), "links", NULL);
	if (mkdir_pin(p)) {
		fmt(x->error, sizeof(x->error), "%s: %s", p, strerror(errno));
		return -1;
	}

	if (open_variant(x)) {
		fmt(x->error, sizeof(x->error), "cannot open the BPF object: %s",
		    strerror(errno));
		return -1;
	}
	/* The rate limiter remembers as many clients as the largest cache asks. */
	for (i = 0; i < cfg->n_servers; i++)
		if (cfg->servers[i].rate_limiting_cache_size > cache)
			cache = cfg->servers[i].rate_limiting_cache_size;
	if (cache)
		bpf_map__set_max_entries(x->maps.rate, (__u32)cache);
	pinned[0] = x->maps.time;
	pinned[1] = x->maps.config;
	pinned[2] = x->maps.allow4;
	pinned[3] = x->maps.deny4;
	pinned[4] = x->maps.allow6;
	pinned[5] = x->maps.deny6;
	pinned[6] = x->maps.rate;
	pinned[7] = x->maps.counters;
	pinned[8] = x->maps.local;
	pinned[9] = x->maps.xsk;
	for (i = 0; i < XDP_MAPS_PINNED; i++) {
		m = pinned[i];
		path_of(x, p, sizeof(p), "maps", bpf_map__name(m));
		err = pinned_map_compatible(p, m);
		if (err >= 0)
			existing++;
		if (err == 0)
			mismatch++;
		bpf_map__set_pin_path(m, p);
	}
	/*
	 * One incompatible map (another version of the program) replaces the whole
	 * set: mixing old and new maps would mix two layouts. The running program
	 * keeps its old maps until the links switch to the new one.
	 */
	if (mismatch) {
		log_warn("xdp: pinned maps in %s do not match this program; replacing them",
			 x->pin);
		for (i = 0; i < XDP_MAPS_PINNED; i++) {
			path_of(x, p, sizeof(p), "maps", bpf_map__name(pinned[i]));
			unlink(p);
		}
		x->maps_replaced = 1;
		existing = 0;
	}
	x->maps_reused = existing == XDP_MAPS_PINNED;
	err = x->nts ? xnts_nts__load(x->skel_nts) : xnts__load(x->skel);
	if (err && x->nts) {
		/* The module went away, or its kfuncs do not match: plain NTP in XDP. */
		fmt(x->variant_note, sizeof(x->variant_note),
		    "NTS variant failed to load (%s): NTS requests go to userspace",
		    strerror(-err));
		log_warn("xdp: %s", x->variant_note);
		xnts_nts__destroy(x->skel_nts);
		x->skel_nts = NULL;
		x->obj = NULL;
		x->nts = 0;
		return -2;
	}
	if (err) {
		fmt(x->error, sizeof(x->error), "cannot load the XDP program: %s",
		    strerror(-err));
		return -1;
	}
	adopt_program(x);
	x->ts_len = (size_t)sysconf(_SC_PAGESIZE);
	x->ts_map = mmap(NULL, x->ts_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 bpf_map__fd(x->maps.time), 0);
	if (x->ts_map == MAP_FAILED) {
		x->ts_map = NULL;
		fmt(x->error, sizeof(x->error), "cannot map xnts_time: %s", strerror(errno));
		return -1;
	}
	return 0;
}
