// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only software PTP hardware clock. It registers /dev/ptpN whose time
 * is the guest's CLOCK_TAI run through its own frequency and phase: the
 * clock the phc source tests measure, since qemu offers no PHC that runs
 * (e1000e's never advances, ptp_kvm needs real KVM).
 *
 *   phc(t) = base_phc + (tai(t) - base_tai) * (1 + scaled_ppm / 2^16 / 1e6)
 *
 * It starts at CLOCK_TAI + offset_ns running freq_ppb fast (module
 * parameters, default 0); adjfine, adjtime and settime64 rebase and change it; gettimex64 brackets
 * the read with the system timestamps the PTP core asks for. getcrosststamp
 * (PTP_SYS_OFFSET_PRECISE) exists only with precise=1, so that both the
 * precise path and the fallback from it can be tested.
 */
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/ptp_clock_kernel.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>

static bool precise;
module_param(precise, bool, 0444);
MODULE_PARM_DESC(precise, "offer PTP_SYS_OFFSET_PRECISE (getcrosststamp)");
/* The starting frequency and phase, so a test needs no clock_adjtime. */
static int freq_ppb;
module_param(freq_ppb, int, 0444);
MODULE_PARM_DESC(freq_ppb, "initial frequency offset, ppb (-1000000..1000000)");
static long offset_ns;
module_param(offset_ns, long, 0444);
MODULE_PARM_DESC(offset_ns, "initial phase offset from CLOCK_TAI, ns");

struct swphc {
	struct ptp_clock_info info;
	struct ptp_clock *clock;
	spinlock_t lock;
	s64 base_tai, base_phc;	/* ns */
	long scaled_ppm;
};

static struct swphc swphc;

/* PHC time at TAI time tai; caller holds the lock. */
static s64 phc_at(const struct swphc *p, s64 tai)
{
	s64 d = tai - p->base_tai;
	u64 adj;

	/* |d| * |scaled_ppm| / (2^16 * 1e6) without overflow for any gap. */
	adj = mul_u64_u64_div_u64(d < 0 ? -d : d,
				  p->scaled_ppm < 0 ? -p->scaled_ppm : p->scaled_ppm,
				  65536ULL * 1000000ULL);
	if ((d < 0) != (p->scaled_ppm < 0))
		return p->base_phc + d - (s64)adj;
	return p->base_phc + d + (s64)adj;
}

static void rebase(struct swphc *p)
{
	s64 now = ktime_get_clocktai_ns();

	p->base_phc = phc_at(p, now);
	p->base_tai = now;
}

static int swphc_adjfine(struct ptp_clock_info *info, long scaled_ppm)
{
	struct swphc *p = container_of(info, struct swphc, info);
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	rebase(p);
	p->scaled_ppm = scaled_ppm;
	spin_unlock_irqrestore(&p->lock, flags);
	return 0;
}

static int swphc_adjtime(struct ptp_clock_info *info, s64 delta)
{
	struct swphc *p = container_of(info, struct swphc, info);
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	rebase(p);
	p->base_phc += delta;
	spin_unlock_irqrestore(&p->lock, flags);
	return 0;
}

static int swphc_settime64(struct ptp_clock_info *info, const struct timespec64 *ts)
{
	struct swphc *p = container_of(info, struct swphc, info);
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	p->base_tai = ktime_get_clocktai_ns();
	p->base_phc = timespec64_to_ns(ts);
	spin_unlock_irqrestore(&p->lock, flags);
	return 0;
}

static int swphc_gettimex64(struct ptp_clock_info *info, struct timespec64 *ts,
			    struct ptp_system_timestamp *sts)
{
	struct swphc *p = container_of(info, struct swphc, info);
	unsigned long flags;
	s64 t;

	spin_lock_irqsave(&p->lock, flags);
	ptp_read_system_prets(sts);
	t = phc_at(p, ktime_get_clocktai_ns());
	ptp_read_system_postts(sts);
	spin_unlock_irqrestore(&p->lock, flags);
	*ts = ns_to_timespec64(t);
	return 0;
}

static int swphc_getcrosststamp(struct ptp_clock_info *info,
				struct system_device_crosststamp *cts)
{
	struct swphc *p = container_of(info, struct swphc, info);
	struct system_time_snapshot snap;
	unsigned long flags;
	s64 tai_off;

	/* TAI - UTC is whole seconds: two adjacent reads, rounded, give it. */
	tai_off = ktime_get_clocktai_ns() - ktime_get_real_ns();
	tai_off = div_s64(tai_off + NSEC_PER_SEC / 2, NSEC_PER_SEC) * NSEC_PER_SEC;
	/* One timekeeper snapshot gives both system clocks at one instant. */
	spin_lock_irqsave(&p->lock, flags);
	ktime_get_snapshot(&snap);
	cts->device = ns_to_ktime(phc_at(p, ktime_to_ns(snap.real) + tai_off));
	spin_unlock_irqrestore(&p->lock, flags);
	cts->sys_realtime = snap.real;
	cts->sys_monoraw = snap.raw;
	return 0;
}

static int swphc_enable(struct ptp_clock_info *info, struct ptp_clock_request *rq, int on)
{
	return -EOPNOTSUPP;
}

static int __init swphc_init(void)
{
	struct swphc *p = &swphc;

	if (freq_ppb < -1000000 || freq_ppb > 1000000)
		return -EINVAL;
	spin_lock_init(&p->lock);
	p->base_tai = ktime_get_clocktai_ns();
	p->base_phc = p->base_tai + offset_ns;
	/* scaled ppm: ppm * 2^16 = ppb * 65536 / 1000 */
	p->scaled_ppm = div_s64((s64)freq_ppb * 65536, 1000);
	p->info = (struct ptp_clock_info) {
		.owner = THIS_MODULE,
		.name = "xnts_swphc",
		.max_adj = 1000000,	/* ppb */
		.adjfine = swphc_adjfine,
		.adjtime = swphc_adjtime,
		.settime64 = swphc_settime64,
		.gettimex64 = swphc_gettimex64,
		.getcrosststamp = precise ? swphc_getcrosststamp : NULL,
		.enable = swphc_enable,
	};
	p->clock = ptp_clock_register(&p->info, NULL);
	if (IS_ERR(p->clock))
		return PTR_ERR(p->clock);
	return 0;
}

static void __exit swphc_exit(void)
{
	ptp_clock_unregister(swphc.clock);
}

module_init(swphc_init);
module_exit(swphc_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xnts VM selftest: a software PTP hardware clock");
