// SPDX-License-Identifier: GPL-2.0
/*
 * Detection of the hardware samplers: Intel PEBS and AMD IBS op.
 *
 * A sampler is available only if the kernel accepts a real counter for it on
 * CPU 0; the counter is released at once.  Inside a VM without a virtual PMU
 * this fails and the reason is kept for status.  hagent_pmu[] is written once
 * at load, before the netlink family exists, and only read afterwards.
 *
 * Sampling (hagent_pmu_init): on Intel, one PEBS counter per CPU and event:
 * loads served by local DRAM (fast tier), by remote DRAM and by PMM/CXL
 * (slow tiers), and all stores -- sampling only local loads would make the
 * fast tier look hotter than it is.  On AMD, IBS op, whose samples carry
 * the data address when IbsDcLinAddrValid is set.  The overflow handlers
 * run in NMI context: they only look the process up in an RCU table and push
 * to this CPU's NMI ring.  CPUs that come online later are not sampled.
 *
 * This path cannot run in the project's VMs (no PMU); it is compiled for
 * both kernels in every build and its detection runs at every load.
 */
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/perf_event.h>
#include <asm/cpufeature.h>
#include <asm/processor.h>
#include <linux/cpu.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include "sample.h"
#include "sampler_pmu.h"
#include "target.h"

static bool hagent_pmu_enable = true;
module_param_named(pmu, hagent_pmu_enable, bool, 0444);
MODULE_PARM_DESC(pmu, "Sample with PEBS/IBS when the CPU offers them (default on)");

static unsigned long hagent_pmu_period = 10007;
module_param_named(pmu_period, hagent_pmu_period, ulong, 0444);
MODULE_PARM_DESC(pmu_period, "Events between two PEBS samples; IBS rounds it to a multiple of 16 (default 10007)");

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

/* Intel PEBS events sampled, with what they say about a sample. */
static const struct {
	u64 config;
	u8 flags;
} hagent_pebs_events[] = {
	{ 0x1d3, 0 },				/* MEM_LOAD_L3_MISS_RETIRED.LOCAL_DRAM */
	{ 0x2d3, 0 },				/* MEM_LOAD_L3_MISS_RETIRED.REMOTE_DRAM */
	{ 0x80d1, 0 },				/* MEM_LOAD_RETIRED.LOCAL_PMM */
	{ 0x82d0, HAGENT_SAMPLE_STORE },	/* MEM_INST_RETIRED.ALL_STORES */
};
#define HAGENT_PMU_MAX_EVENTS ARRAY_SIZE(hagent_pebs_events)

/* IBS op register layout in the raw sample (arch/x86/events/amd/ibs.c). */
#define HAGENT_IBS_OP_DATA3	4
#define HAGENT_IBS_DC_LINAD	5
#define HAGENT_IBS_LD_OP	BIT_ULL(0)
#define HAGENT_IBS_ST_OP	BIT_ULL(1)
#define HAGENT_IBS_LINAD_VALID	BIT_ULL(17)

static struct perf_event **hagent_pmu_events;	/* [cpu * MAX_EVENTS + i] */
static unsigned int hagent_pmu_nr_active;

static void hagent_pmu_push(u64 addr, enum hagent_source src, u8 flags)
{
	struct mm_struct *mm = current->mm;
	struct hagent_target *t;

	if (!mm || !addr)
		return;
	rcu_read_lock();
	t = hagent_sample_target_of(mm);
	if (t)
		hagent_sample_push(t, addr, 1, src, flags, true);
	rcu_read_unlock();
}

static void hagent_pebs_overflow(struct perf_event *event, struct perf_sample_data *data,
				 struct pt_regs *regs)
{
	if (data->sample_flags & PERF_SAMPLE_ADDR)
		hagent_pmu_push(data->addr, HAGENT_SRC_PEBS, (unsigned long)event->overflow_handler_context);
}

static void hagent_ibs_overflow(struct perf_event *event, struct perf_sample_data *data,
				struct pt_regs *regs)
{
	struct perf_raw_record *raw = data->raw;
	const u64 *reg;
	u64 data3;

	if (!(data->sample_flags & PERF_SAMPLE_RAW) || !raw ||
	    raw->frag.size < 4 + (HAGENT_IBS_DC_LINAD + 1) * sizeof(u64))
		return;
	reg = raw->frag.data + 4;	/* after the u32 caps word */
	data3 = reg[HAGENT_IBS_OP_DATA3];
	if (!(data3 & HAGENT_IBS_LINAD_VALID) || !(data3 & (HAGENT_IBS_LD_OP | HAGENT_IBS_ST_OP)))
		return;
	hagent_pmu_push(reg[HAGENT_IBS_DC_LINAD], HAGENT_SRC_IBS,
			data3 & HAGENT_IBS_ST_OP ? HAGENT_SAMPLE_STORE : 0);
}

static int hagent_pmu_open(int cpu, unsigned int i, struct perf_event_attr *attr,
			   perf_overflow_handler_t handler, void *context)
{
	struct perf_event *ev = perf_event_create_kernel_counter(attr, cpu, NULL, handler, context);

	if (IS_ERR(ev))
		return PTR_ERR(ev);
	hagent_pmu_events[cpu * HAGENT_PMU_MAX_EVENTS + i] = ev;
	hagent_pmu_nr_active++;
	return 0;
}

int hagent_pmu_init(void)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.sample_period = hagent_pmu_period,
		.exclude_kernel = 1,
		.exclude_hv = 1,
		.wakeup_events = 1,	/* every sample reaches the handler, even large PEBS */
	};
	bool pebs = hagent_pmu[HAGENT_PMU_PEBS].available;
	bool ibs = hagent_pmu[HAGENT_PMU_IBS].available;
	unsigned int i;
	int cpu, err;
	u32 type;

	if (!hagent_pmu_enable || (!pebs && !ibs))
		return 0;
	hagent_pmu_events = kcalloc(nr_cpu_ids * HAGENT_PMU_MAX_EVENTS,
				    sizeof(*hagent_pmu_events), GFP_KERNEL);
	if (!hagent_pmu_events)
		return -ENOMEM;
	if (ibs && hagent_pmu_ibs_type(&type))
		ibs = false;
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		if (pebs) {
			attr.type = PERF_TYPE_RAW;
			attr.sample_type = PERF_SAMPLE_ADDR;
			attr.precise_ip = 2;
			for (i = 0; i < HAGENT_PMU_MAX_EVENTS; i++) {
				attr.config = hagent_pebs_events[i].config;
				/* A model without this event: sample the others. */
				hagent_pmu_open(cpu, i, &attr, hagent_pebs_overflow,
						(void *)(unsigned long)hagent_pebs_events[i].flags);
			}
		} else {
			attr.type = type;
			attr.config = 0;
			attr.sample_type = PERF_SAMPLE_RAW;
			attr.sample_period = max(16UL, hagent_pmu_period & ~15UL);
			/* IBS takes no exclude_* bits */
			attr.exclude_kernel = 0;
			attr.exclude_hv = 0;
			err = hagent_pmu_open(cpu, 0, &attr, hagent_ibs_overflow, NULL);
			if (err)
				pr_info("IBS op counter on CPU %d refused (%d)\n", cpu, err);
		}
	}
	cpus_read_unlock();
	pr_info("%s sampling with %u counters\n", pebs ? "PEBS" : "IBS", hagent_pmu_nr_active);
	return 0;
}

void hagent_pmu_exit(void)
{
	unsigned int i;

	if (!hagent_pmu_events)
		return;
	for (i = 0; i < nr_cpu_ids * HAGENT_PMU_MAX_EVENTS; i++)
		if (hagent_pmu_events[i])
			perf_event_release_kernel(hagent_pmu_events[i]);
	kfree(hagent_pmu_events);
	hagent_pmu_events = NULL;
	hagent_pmu_nr_active = 0;
}

unsigned int hagent_pmu_active(void)
{
	return hagent_pmu_nr_active;
}

void hagent_pmu_detect(void)
{
	hagent_pmu_detect_pebs(&hagent_pmu[HAGENT_PMU_PEBS]);
	hagent_pmu_detect_ibs(&hagent_pmu[HAGENT_PMU_IBS]);
}
