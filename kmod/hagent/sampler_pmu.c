// SPDX-License-Identifier: GPL-2.0
/*
 * The perf-event samplers: Intel PEBS, AMD IBS op, and page faults.
 *
 * Detection: a sampler is available only if the kernel accepts a real
 * counter for it on CPU 0; the counter is released at once.  Inside a VM
 * without a virtual PMU this fails for PEBS and IBS and the reason is kept
 * for status.  hagent_pmu[].available and .reason are written once at load,
 * before the netlink family exists, and only read afterwards.
 *
 * Counters run only while some process is managed (hagent_pmu_update(),
 * called whenever the managed set changes): one per online CPU and event,
 * created by a work item and released when the last target goes, and
 * created and released with CPUs as they come and go (a CPU hotplug state).
 * On Intel: loads served by local DRAM (fast tier), by remote DRAM and by
 * PMM/CXL (slow tiers), and all stores -- sampling only local loads would
 * make the fast tier look hotter than it is.  On AMD, IBS op, whose samples
 * carry the data address when IbsDcLinAddrValid is set.  With the tunable
 * fault_samples, a software counter of page faults (PERF_COUNT_SW_PAGE_FAULTS
 * with the fault address): it takes the same path, overflow handler -> ring
 * -> drain, so the VM suite, which has no PMU, proves it end to end.
 *
 * The overflow handlers only look current's mm up in the RCU table of
 * managed address spaces and push user addresses to this CPU's ring: the
 * NMI ring in NMI context (PEBS and IBS interrupts), the other one outside
 * it (page faults, and PEBS buffers drained at a context switch).
 *
 * PEBS and IBS cannot run in the project's VMs; they are compiled for both
 * kernels in every build and their detection runs at every load.
 */
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/perf_event.h>
#include <asm/cpufeature.h>
#include <asm/processor.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/hardirq.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
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
	[HAGENT_PMU_PEBS] = {
		.name = "pebs",
		.events = "MEM_LOAD_L3_MISS_RETIRED.LOCAL_DRAM (fast), "
			  "MEM_LOAD_L3_MISS_RETIRED.REMOTE_DRAM, MEM_LOAD_RETIRED.LOCAL_PMM (slow), "
			  "MEM_INST_RETIRED.ALL_STORES; period pmu_period",
	},
	[HAGENT_PMU_IBS] = {
		.name = "ibs",
		.events = "IBS op: loads and stores with a valid data linear address; "
			  "period pmu_period",
	},
	[HAGENT_PMU_FAULT] = {
		.name = "fault",
		.events = "page-faults (software event, every fault, with its address); "
			  "setting fault_samples",
	},
};

bool hagent_fault_samples;
static DEFINE_SPINLOCK(hagent_pmu_ready_lock);
static bool hagent_pmu_ready;			/* between init and exit */
static void hagent_pmu_reconcile(struct work_struct *work);
static DECLARE_WORK(hagent_pmu_work, hagent_pmu_reconcile);

static int hagent_fault_samples_set(const char *val, const struct kernel_param *kp)
{
	int err = param_set_bool(val, kp);

	if (!err)
		hagent_pmu_config_changed();
	return err;
}

static const struct kernel_param_ops hagent_fault_samples_ops = {
	.set = hagent_fault_samples_set,
	.get = param_get_bool,
};
module_param_cb(fault_samples, &hagent_fault_samples_ops, &hagent_fault_samples, 0644);
MODULE_PARM_DESC(fault_samples,
		 "Sample managed processes' page faults with a software perf event "
		 "(default off; a tunable: see hagentctl config)");

/* MEM_LOAD_L3_MISS_RETIRED.LOCAL_DRAM: a precise event on every PEBS core. */
#define HAGENT_PEBS_PROBE_EVENT 0x1d3

static void hagent_pmu_overflow(struct perf_event *event,
				struct perf_sample_data *data,
				struct pt_regs *regs)
{
}

/*
 * @s is available if the kernel accepts a counter of @attr on CPU 0; if not,
 * the reason says that it refused @what.
 */
static void hagent_pmu_probe(struct hagent_pmu_state *s, const struct perf_event_attr *attr,
			     const char *what)
{
	struct perf_event_attr a = *attr;
	struct perf_event *ev;

	a.disabled = 1;
	ev = perf_event_create_kernel_counter(&a, 0, NULL, hagent_pmu_overflow, NULL);
	if (IS_ERR(ev)) {
		snprintf(s->reason, sizeof(s->reason), "the kernel refused %s (error %ld)",
			 what, PTR_ERR(ev));
		return;
	}
	perf_event_release_kernel(ev);
	s->available = true;
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
	};

	if (boot_cpu_data.x86_vendor != X86_VENDOR_INTEL) {
		snprintf(s->reason, sizeof(s->reason), "not an Intel CPU");
		return;
	}
	if (!boot_cpu_has(X86_FEATURE_ARCH_PERFMON)) {
		snprintf(s->reason, sizeof(s->reason),
			 "no PMU (CPU reports no architectural perfmon; a VM without a virtual PMU?)");
		return;
	}
	hagent_pmu_probe(s, &attr, "a PEBS counter (no PMU)");
}

/* The ibs_op PMU's dynamic type, read at detection; 0 without IBS. */
static u32 hagent_pmu_ibs_pmu_type;

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
	hagent_pmu_probe(s, &attr, "an IBS op counter");
	if (s->available)
		hagent_pmu_ibs_pmu_type = type;
}

static const struct perf_event_attr hagent_fault_attr = {
	.type = PERF_TYPE_SOFTWARE,
	.size = sizeof(struct perf_event_attr),
	.config = PERF_COUNT_SW_PAGE_FAULTS,
	.sample_period = 1,		/* every fault: each one is an access */
	.sample_type = PERF_SAMPLE_ADDR,
	.exclude_hv = 1,
};

static void hagent_pmu_detect_fault(struct hagent_pmu_state *s)
{
	hagent_pmu_probe(s, &hagent_fault_attr, "a page-fault counter");
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

/* Counter slots per CPU: the hardware events, then the page-fault one. */
#define HAGENT_PMU_FAULT_SLOT	HAGENT_PMU_MAX_EVENTS
#define HAGENT_PMU_SLOTS	(HAGENT_PMU_MAX_EVENTS + 1)

/*
 * Counters are created and released only by a work item, under
 * hagent_pmu_lock, never from a CPU hotplug callback and never with the
 * hotplug lock held: a software event's creation and release take it
 * (static_key_slow_inc/dec), so doing either in a hotplug callback hangs
 * (seen: cpuhp/1 in D state in sw_perf_event_destroy), and doing it under
 * cpus_read_lock() nests that lock.  The hotplug callbacks only queue the
 * work: after a CPU has come online (its perf context is online by then),
 * and after one is dead (perf has detached its events, which never count
 * again).  The work brings every CPU's counters in line with what is wanted
 * and with cpu_online(); a counter the perf core detached meanwhile is
 * recognised by its state and replaced.  hagent_pmu_ready_lock is a leaf:
 * hagent_pmu_update() takes it under hagent_targets_lock.
 */
static DEFINE_MUTEX(hagent_pmu_lock);
static struct perf_event **hagent_pmu_events;	/* [cpu * SLOTS + slot] */
static unsigned int hagent_pmu_targets;		/* managed address spaces */
static int hagent_pmu_hp_online = -1, hagent_pmu_hp_dead = -1;

static void hagent_pmu_push(u64 addr, enum hagent_source src, u8 flags)
{
	struct mm_struct *mm = current->mm;
	struct hagent_target *t;

	/* Kernel threads, address 0, kernel addresses: nothing to place. */
	if (!mm || !addr || addr >= TASK_SIZE_MAX)
		return;
	rcu_read_lock();
	t = hagent_sample_target_of(mm);
	if (t)
		hagent_sample_push(t, addr, 1, src, flags, in_nmi());
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

/* Runs in the faulting task, preemption off, before the fault is handled. */
static void hagent_fault_overflow(struct perf_event *event, struct perf_sample_data *data,
				  struct pt_regs *regs)
{
	if (data->sample_flags & PERF_SAMPLE_ADDR)
		hagent_pmu_push(data->addr, HAGENT_SRC_FAULT, 0);
}

/* The hardware sampler used, if any: PEBS before IBS. */
static enum hagent_pmu_kind hagent_pmu_hw(void)
{
	if (!hagent_pmu_enable)
		return HAGENT_PMU_NR;
	if (hagent_pmu[HAGENT_PMU_PEBS].available)
		return HAGENT_PMU_PEBS;
	if (hagent_pmu[HAGENT_PMU_IBS].available)
		return HAGENT_PMU_IBS;
	return HAGENT_PMU_NR;
}

static void hagent_pmu_open(int cpu, unsigned int slot, enum hagent_pmu_kind kind,
			    struct perf_event_attr *attr, perf_overflow_handler_t handler,
			    void *context)
{
	struct perf_event *ev;

	lockdep_assert_held(&hagent_pmu_lock);
	if (hagent_pmu_events[cpu * HAGENT_PMU_SLOTS + slot])
		return;
	if (!cpu_online(cpu))
		return;
	ev = perf_event_create_kernel_counter(attr, cpu, NULL, handler, context);
	if (IS_ERR(ev)) {
		/* A CPU going offline now, or a PEBS event this model lacks. */
		if (PTR_ERR(ev) != -ENODEV)
			pr_info_ratelimited("%s counter %u on CPU %d refused (%ld)\n",
				    hagent_pmu[kind].name, slot, cpu, PTR_ERR(ev));
		return;
	}
	hagent_pmu_events[cpu * HAGENT_PMU_SLOTS + slot] = ev;
	WRITE_ONCE(hagent_pmu[kind].counters, hagent_pmu[kind].counters + 1);
}

/*
 * Releases the counter in @slot of @cpu unless it is wanted (@keep) and
 * still attached: the perf core detaches a CPU's events when it goes
 * offline, and they stay off when it comes back.
 */
static void hagent_pmu_close(int cpu, unsigned int slot, enum hagent_pmu_kind kind, bool keep)
{
	struct perf_event **ev = &hagent_pmu_events[cpu * HAGENT_PMU_SLOTS + slot];

	lockdep_assert_held(&hagent_pmu_lock);
	if (!*ev || (keep && READ_ONCE((*ev)->state) >= PERF_EVENT_STATE_INACTIVE))
		return;
	perf_event_release_kernel(*ev);
	*ev = NULL;
	WRITE_ONCE(hagent_pmu[kind].counters, hagent_pmu[kind].counters - 1);
}

/*
 * Makes sampler @kind's counters on @cpu attached ones (@on, and @cpu
 * online) or none.
 */
static void hagent_pmu_cpu(int cpu, enum hagent_pmu_kind kind, bool on)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.sample_period = hagent_pmu_period,
		.exclude_kernel = 1,
		.exclude_hv = 1,
		.wakeup_events = 1,	/* every sample reaches the handler, even large PEBS */
	};
	unsigned int i;

	switch (kind) {
	case HAGENT_PMU_PEBS:
		attr.type = PERF_TYPE_RAW;
		attr.sample_type = PERF_SAMPLE_ADDR;
		attr.precise_ip = 2;
		for (i = 0; i < HAGENT_PMU_MAX_EVENTS; i++) {
			attr.config = hagent_pebs_events[i].config;
			hagent_pmu_close(cpu, i, kind, on);
			if (on)
				hagent_pmu_open(cpu, i, kind, &attr, hagent_pebs_overflow,
						(void *)(unsigned long)hagent_pebs_events[i].flags);
		}
		break;
	case HAGENT_PMU_IBS:
		attr.type = hagent_pmu_ibs_pmu_type;
		attr.sample_type = PERF_SAMPLE_RAW;
		attr.sample_period = max(16UL, hagent_pmu_period & ~15UL);
		/* IBS takes no exclude_* bits; kernel addresses are dropped at the push. */
		attr.exclude_kernel = 0;
		attr.exclude_hv = 0;
		hagent_pmu_close(cpu, 0, kind, on);
		if (on)
			hagent_pmu_open(cpu, 0, kind, &attr, hagent_ibs_overflow, NULL);
		break;
	case HAGENT_PMU_FAULT:
		attr = hagent_fault_attr;
		hagent_pmu_close(cpu, HAGENT_PMU_FAULT_SLOT, kind, on);
		if (on)
			hagent_pmu_open(cpu, HAGENT_PMU_FAULT_SLOT, kind, &attr,
					hagent_fault_overflow, NULL);
		break;
	default:
		break;
	}
}

/* Brings the counters in line with the managed set, the settings and the CPUs. */
static void hagent_pmu_reconcile(struct work_struct *work)
{
	bool want[HAGENT_PMU_NR] = {};
	enum hagent_pmu_kind kind, hw = hagent_pmu_hw();
	unsigned long flags;
	unsigned int before;
	bool ready;
	int cpu;

	spin_lock_irqsave(&hagent_pmu_ready_lock, flags);
	ready = hagent_pmu_ready && hagent_pmu_targets;
	spin_unlock_irqrestore(&hagent_pmu_ready_lock, flags);
	if (ready) {
		if (hw != HAGENT_PMU_NR)
			want[hw] = true;
		want[HAGENT_PMU_FAULT] = READ_ONCE(hagent_fault_samples) &&
					 hagent_pmu[HAGENT_PMU_FAULT].available;
	}
	mutex_lock(&hagent_pmu_lock);
	for (kind = 0; kind < HAGENT_PMU_NR; kind++) {
		before = hagent_pmu[kind].counters;
		for_each_possible_cpu(cpu)
			hagent_pmu_cpu(cpu, kind, want[kind] && cpu_online(cpu));
		if (before != hagent_pmu[kind].counters)
			pr_info("%s sampling %s: %u counters\n", hagent_pmu[kind].name,
				want[kind] ? "on" : "off", hagent_pmu[kind].counters);
	}
	mutex_unlock(&hagent_pmu_lock);
}

/* Any context; takes only a leaf lock. */
void hagent_pmu_config_changed(void)
{
	unsigned long flags;

	spin_lock_irqsave(&hagent_pmu_ready_lock, flags);
	if (hagent_pmu_ready)
		schedule_work(&hagent_pmu_work);
	spin_unlock_irqrestore(&hagent_pmu_ready_lock, flags);
}

void hagent_pmu_update(unsigned int targets)
{
	WRITE_ONCE(hagent_pmu_targets, targets);
	hagent_pmu_config_changed();
}

/* CPU hotplug: after a CPU came online, and after one died. */
static int hagent_pmu_cpu_changed(unsigned int cpu)
{
	hagent_pmu_config_changed();
	return 0;
}

int hagent_pmu_init(void)
{
	unsigned long flags;
	int ret;

	hagent_pmu_events = kcalloc(nr_cpu_ids * HAGENT_PMU_SLOTS, sizeof(*hagent_pmu_events),
				    GFP_KERNEL);
	if (!hagent_pmu_events)
		return -ENOMEM;
	ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "hagent/sampler:online",
					hagent_pmu_cpu_changed, NULL);
	if (ret < 0)
		goto err;
	hagent_pmu_hp_online = ret;
	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "hagent/sampler:dead",
					NULL, hagent_pmu_cpu_changed);
	if (ret < 0)
		goto err;
	hagent_pmu_hp_dead = ret;
	spin_lock_irqsave(&hagent_pmu_ready_lock, flags);
	hagent_pmu_ready = true;
	spin_unlock_irqrestore(&hagent_pmu_ready_lock, flags);
	return 0;
err:
	hagent_pmu_exit();
	return ret;
}

/* After every target is gone: nothing queues the work any more. */
void hagent_pmu_exit(void)
{
	enum hagent_pmu_kind kind;
	unsigned long flags;
	int cpu;

	if (!hagent_pmu_events)
		return;
	spin_lock_irqsave(&hagent_pmu_ready_lock, flags);
	hagent_pmu_ready = false;
	spin_unlock_irqrestore(&hagent_pmu_ready_lock, flags);
	if (hagent_pmu_hp_dead >= 0)
		cpuhp_remove_state_nocalls(hagent_pmu_hp_dead);
	if (hagent_pmu_hp_online >= 0)
		cpuhp_remove_state_nocalls(hagent_pmu_hp_online);
	hagent_pmu_hp_online = hagent_pmu_hp_dead = -1;
	cancel_work_sync(&hagent_pmu_work);
	mutex_lock(&hagent_pmu_lock);
	for_each_possible_cpu(cpu)
		for (kind = 0; kind < HAGENT_PMU_NR; kind++)
			hagent_pmu_cpu(cpu, kind, false);
	mutex_unlock(&hagent_pmu_lock);
	kfree(hagent_pmu_events);
	hagent_pmu_events = NULL;
}

unsigned int hagent_pmu_active(void)
{
	unsigned int n = 0;
	int kind;

	for (kind = 0; kind < HAGENT_PMU_NR; kind++)
		n += READ_ONCE(hagent_pmu[kind].counters);
	return n;
}

void hagent_pmu_detect(void)
{
	hagent_pmu_detect_pebs(&hagent_pmu[HAGENT_PMU_PEBS]);
	hagent_pmu_detect_ibs(&hagent_pmu[HAGENT_PMU_IBS]);
	hagent_pmu_detect_fault(&hagent_pmu[HAGENT_PMU_FAULT]);
}
