// SPDX-License-Identifier: GPL-2.0
/*
 * Detection of the hardware samplers: Intel PEBS and AMD IBS op.
 *
 * A sampler is available only if the kernel accepts a real counter for it on
 * CPU 0; the counter is released at once.  Inside a VM without a virtual PMU
 * this fails and the reason is kept for status.  hagent_pmu[] is written once
 * at load, before the netlink family exists, and only read afterwards.
 */
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/perf_event.h>
#include <asm/cpufeature.h>
#include <asm/processor.h>
#include "sampler_pmu.h"

struct hagent_pmu_state hagent_pmu[HAGENT_PMU_NR] = {
	[HAGENT_PMU_PEBS] = { .name = "pebs" },
	[HAGENT_PMU_IBS] = { .name = "ibs" },
};

/* MEM_LOAD_L3_MISS_RETIRED.LOCAL_DRAM: a precise event on every PEBS core. */
#define HAGENT_PEBS_PROBE_EVENT 0x1d3

static void hagent_pmu_overflow(struct perf_event *event,
				struct perf_sample_data *data,
				struct pt_regs *regs)
{
}

static int hagent_pmu_try(struct perf_event_attr *attr)
{
	struct perf_event *ev;

	ev = perf_event_create_kernel_counter(attr, 0, NULL, hagent_pmu_overflow, NULL);
	if (IS_ERR(ev))
		return PTR_ERR(ev);
	perf_event_release_kernel(ev);
	return 0;
}

static void hagent_pmu_detect_pebs(struct hagent_pmu_state *s)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_RAW,
		.size = sizeof(attr),
		.config = HAGENT_PEBS_PROBE_EVENT,
		.sample_period = 10007,
		.sample_type = PERF_SAMPLE_ADDR,
		.precise_ip = 2,
		.exclude_kernel = 1,
		.disabled = 1,
	};
	int err;

	if (boot_cpu_data.x86_vendor != X86_VENDOR_INTEL) {
		snprintf(s->reason, sizeof(s->reason), "not an Intel CPU");
		return;
	}
	if (!boot_cpu_has(X86_FEATURE_ARCH_PERFMON)) {
		snprintf(s->reason, sizeof(s->reason),
			 "no PMU (CPU reports no architectural perfmon; a VM without a virtual PMU?)");
		return;
	}
	err = hagent_pmu_try(&attr);
	if (err) {
		snprintf(s->reason, sizeof(s->reason),
			 "no PMU: the kernel refused a PEBS counter (error %d)", err);
		return;
	}
	s->available = true;
}

/* The ibs_op PMU's dynamic type, as the kernel publishes it in sysfs. */
static int hagent_pmu_ibs_type(u32 *type)
{
	char buf[16] = {};
	struct file *f;
	loff_t pos = 0;
	ssize_t n;

	f = filp_open("/sys/bus/event_source/devices/ibs_op/type", O_RDONLY, 0);
	if (IS_ERR(f))
		return PTR_ERR(f);
	n = kernel_read(f, buf, sizeof(buf) - 1, &pos);
	filp_close(f, NULL);
	if (n <= 0)
		return n ? n : -ENODATA;
	return kstrtou32(strim(buf), 10, type);
}

static void hagent_pmu_detect_ibs(struct hagent_pmu_state *s)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.sample_period = 0x10000,	/* IBS wants a multiple of 16 */
		.sample_type = PERF_SAMPLE_ADDR | PERF_SAMPLE_RAW,
		.disabled = 1,
	};
	u32 type;
	int err;

	if (boot_cpu_data.x86_vendor != X86_VENDOR_AMD &&
	    boot_cpu_data.x86_vendor != X86_VENDOR_HYGON) {
		snprintf(s->reason, sizeof(s->reason), "not an AMD CPU");
		return;
	}
	if (!boot_cpu_has(X86_FEATURE_IBS)) {
		snprintf(s->reason, sizeof(s->reason),
			 "no PMU (CPU reports no IBS; a VM without a virtual PMU?)");
		return;
	}
	err = hagent_pmu_ibs_type(&type);
	if (err) {
		snprintf(s->reason, sizeof(s->reason),
			 "no ibs_op PMU registered (error %d)", err);
		return;
	}
	attr.type = type;
	err = hagent_pmu_try(&attr);
	if (err) {
		snprintf(s->reason, sizeof(s->reason),
			 "the kernel refused an IBS op counter (error %d)", err);
		return;
	}
	s->available = true;
}

void hagent_pmu_detect(void)
{
	hagent_pmu_detect_pebs(&hagent_pmu[HAGENT_PMU_PEBS]);
	hagent_pmu_detect_ibs(&hagent_pmu[HAGENT_PMU_IBS]);
}
