// SPDX-License-Identifier: GPL-2.0
/*
 * What hagent costs: TLB flushes (tracepoint tlb:tlb_flush, system-wide),
 * mmap_lock acquisitions and failed tries on managed address spaces
 * (mmap_lock:mmap_lock_acquire_returned), the time handle_mm_fault() takes
 * on managed address spaces (a kretprobe), hagentd's CPU time, hagent's own
 * failed mmap_read_trylock()s and the time per migrated page.
 *
 * The probes cost every process something: every page fault enters the
 * kretprobe before its entry handler can tell whether the address space is
 * managed, and any mmap_lock probe turns on a memcg path lookup for every
 * mmap_lock event (README: what the probes cost).  So they are off unless
 * asked for: module parameter probes, at load or at any time through
 * /sys/module/hagent/parameters/probes.
 *
 * Counters are per CPU, bumped with this_cpu ops from any context (the TLB
 * tracepoint fires in IPIs) and summed on read.  hagent_overhead_lock (a
 * mutex) serialises switching the probes and guards the probe state below.
 */
#include <linux/kprobes.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <asm/tlbflush.h>
#include "compat.h"
#include "overhead.h"
#include "policy.h"
#include "sample.h"
#include "tracepoint.h"

#define HAGENT_OVH_NAME(id, name) [HAGENT_OVH_##id] = name,
const char *const hagent_overhead_names[HAGENT_OVH_NR] = {
	HAGENT_OVERHEAD_COUNTERS(HAGENT_OVH_NAME)
};

struct hagent_ovh_pcpu {
	u64 v[HAGENT_OVH_NR];	/* the event counters; the others are computed on read */
};
static DEFINE_PER_CPU(struct hagent_ovh_pcpu, hagent_ovh);

static DEFINE_MUTEX(hagent_overhead_lock);
/* hagent_overhead_lock guards these. */
static bool hagent_probes;		/* what the parameter says */
static bool hagent_overhead_live;	/* between init and exit: the parameter acts */
static bool hagent_probes_active;	/* registered */
static u64 hagent_fault_missed;		/* nmissed of earlier registrations */
static struct kretprobe hagent_fault_rp;

/*
 * Instances of the fault kretprobe: one is held per managed fault in
 * progress (a fault can sleep), and briefly by every other fault until the
 * entry handler filters it out.  When none is free the fault is not timed
 * and counts in overhead.fault.missed.
 */
#define HAGENT_FAULT_MAXACTIVE	max_t(int, 256, 8 * num_possible_cpus())

static inline void hagent_ovh_add(enum hagent_ovh c, u64 n)
{
	this_cpu_add(hagent_ovh.v[c], n);
}

/* An address space hagent manages (the RCU table the samplers use). */
static bool hagent_mm_managed(struct mm_struct *mm)
{
	bool managed;

	rcu_read_lock();
	managed = mm && hagent_sample_target_of(mm);
	rcu_read_unlock();
	return managed;
}

static void hagent_tlb_flush_probe(void *data, HAGENT_TP_TLB_FLUSH_ARGS)
{
	BUILD_BUG_ON(!HAGENT_TLB_FLUSH_REASONS_OK);
	BUILD_BUG_ON(HAGENT_OVH_TLB_REMOTE_SEND_IPI - HAGENT_OVH_TLB_TASK_SWITCH !=
		     TLB_REMOTE_SEND_IPI - TLB_FLUSH_ON_TASK_SWITCH);

	if ((unsigned int)reason >= HAGENT_TLB_FLUSH_REASONS)
		return;
	hagent_ovh_add(HAGENT_OVH_TLB_TASK_SWITCH + reason, 1);
	if (pages == TLB_FLUSH_ALL)
		hagent_ovh_add(HAGENT_OVH_TLB_FULL, 1);
	else
		hagent_ovh_add(HAGENT_OVH_TLB_PAGES, pages);
}

static void hagent_mmap_lock_probe(void *data, HAGENT_TP_MMAP_LOCK_ACQUIRE_RETURNED_ARGS)
{
	if (!hagent_mm_managed(mm))
		return;
	if (write)
		hagent_ovh_add(success ? HAGENT_OVH_MMAP_WRITE : HAGENT_OVH_MMAP_WRITE_FAIL, 1);
	else
		hagent_ovh_add(success ? HAGENT_OVH_MMAP_READ : HAGENT_OVH_MMAP_READ_FAIL, 1);
}

static struct hagent_tp hagent_tps[] = {
	{ .name = "tlb_flush", .probe = hagent_tlb_flush_probe },
	{ .name = "mmap_lock_acquire_returned", .probe = hagent_mmap_lock_probe },
};

/* Entry of handle_mm_fault(): time faults on managed address spaces only. */
static int hagent_fault_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct vm_area_struct *vma =
		(struct vm_area_struct *)regs_get_kernel_argument(regs, HAGENT_FAULT_VMA_ARG);

	if (!vma || !hagent_mm_managed(vma->vm_mm))
		return 1;	/* no return probe for this one */
	*(u64 *)ri->data = ktime_get_ns();
	return 0;
}

static unsigned int hagent_fault_bucket(u64 ns)
{
	if (ns < (2ULL << HAGENT_FAULT_HIST_SHIFT))
		return 0;
	return min_t(unsigned int, ilog2(ns) - HAGENT_FAULT_HIST_SHIFT, HAGENT_FAULT_HIST_NR - 1);
}

static int hagent_fault_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	u64 ns = ktime_get_ns() - *(u64 *)ri->data;
	vm_fault_t ret = regs_return_value(regs);

	BUILD_BUG_ON(HAGENT_OVH_FAULT_HIST_19 - HAGENT_OVH_FAULT_HIST_0 != HAGENT_FAULT_HIST_NR - 1);
	hagent_ovh_add(HAGENT_OVH_FAULT_COUNT, 1);
	hagent_ovh_add(HAGENT_OVH_FAULT_NS, ns);
	hagent_ovh_add(HAGENT_OVH_FAULT_HIST_0 + hagent_fault_bucket(ns), 1);
	/* handle_mm_fault() runs again for the same fault: counted twice. */
	if (ret & VM_FAULT_RETRY)
		hagent_ovh_add(HAGENT_OVH_FAULT_RETRY, 1);
	return 0;
}

/* A kretprobe cannot be registered twice as it was: start from scratch. */
static int hagent_fault_probe_register(void)
{
	memset(&hagent_fault_rp, 0, sizeof(hagent_fault_rp));
	hagent_fault_rp.kp.symbol_name = "handle_mm_fault";
	hagent_fault_rp.entry_handler = hagent_fault_entry;
	hagent_fault_rp.handler = hagent_fault_return;
	hagent_fault_rp.data_size = sizeof(u64);
	hagent_fault_rp.maxactive = HAGENT_FAULT_MAXACTIVE;
	return register_kretprobe(&hagent_fault_rp);
}

/* Under hagent_overhead_lock. */
static int hagent_probes_start(void)
{
	int err;

	err = hagent_tp_attach(hagent_tps, ARRAY_SIZE(hagent_tps), "probes");
	if (err)
		return err;
	err = hagent_fault_probe_register();
	if (err) {
		pr_warn("probes: cannot attach a kretprobe to handle_mm_fault: %d\n", err);
		hagent_tp_detach(hagent_tps, ARRAY_SIZE(hagent_tps));
		return err;
	}
	hagent_probes_active = true;
	return 0;
}

/* Under hagent_overhead_lock.  No probe runs once this returns. */
static void hagent_probes_stop(void)
{
	unregister_kretprobe(&hagent_fault_rp);	/* waits for running handlers */
	hagent_fault_missed += hagent_fault_rp.nmissed;
	hagent_tp_detach(hagent_tps, ARRAY_SIZE(hagent_tps));
	hagent_probes_active = false;
}

/*
 * Runs at load (before init: only records the wish) and on every write to
 * the parameter; the kernel holds the module's parameter lock around it.
 */
static int hagent_probes_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int err = kstrtobool(val, &on);

	if (err)
		return err;
	mutex_lock(&hagent_overhead_lock);
	if (hagent_overhead_live && on != hagent_probes_active) {
		if (on)
			err = hagent_probes_start();
		else
			hagent_probes_stop();
	}
	if (!err)
		hagent_probes = on;
	mutex_unlock(&hagent_overhead_lock);
	return err;
}

static const struct kernel_param_ops hagent_probes_ops = {
	.set = hagent_probes_set,
	.get = param_get_bool,
};
module_param_cb(probes, &hagent_probes_ops, &hagent_probes, 0644);
__MODULE_PARM_TYPE(probes, "bool");
MODULE_PARM_DESC(probes, "Count TLB flushes, mmap_lock tries and page-fault time (costs every process a little; default off)");

void hagent_overhead_count_trylock_fail(void)
{
	hagent_ovh_add(HAGENT_OVH_TRYLOCK_FAIL, 1);
}

void hagent_overhead_migrate_ns(u64 ns, u64 pages)
{
	hagent_ovh_add(HAGENT_OVH_MIGRATE_NS, ns);
	hagent_ovh_add(HAGENT_OVH_MIGRATE_PAGES, pages);
}

void hagent_overhead_read(u64 *v)
{
	int cpu, i;

	memset(v, 0, HAGENT_OVH_NR * sizeof(*v));
	for_each_possible_cpu(cpu) {
		const struct hagent_ovh_pcpu *p = per_cpu_ptr(&hagent_ovh, cpu);

		for (i = 0; i < HAGENT_OVH_NR; i++)
			v[i] += READ_ONCE(p->v[i]);
	}
	mutex_lock(&hagent_overhead_lock);
	v[HAGENT_OVH_PROBES] = hagent_probes_active;
	v[HAGENT_OVH_FAULT_MISSED] = hagent_fault_missed +
		(hagent_probes_active ? READ_ONCE(hagent_fault_rp.nmissed) : 0);
	mutex_unlock(&hagent_overhead_lock);
	v[HAGENT_OVH_POLICY_CPU_NS] = hagent_policy_cpu_ns();
}

int hagent_overhead_init(void)
{
	int err = 0;

	hagent_tp_find(hagent_tps, ARRAY_SIZE(hagent_tps));
	mutex_lock(&hagent_overhead_lock);
	hagent_overhead_live = true;
	if (hagent_probes)
		err = hagent_probes_start();
	if (err)
		hagent_overhead_live = false;
	mutex_unlock(&hagent_overhead_lock);
	return err;
}

void hagent_overhead_exit(void)
{
	mutex_lock(&hagent_overhead_lock);
	hagent_overhead_live = false;	/* a later write to the parameter only records */
	if (hagent_probes_active)
		hagent_probes_stop();
	mutex_unlock(&hagent_overhead_lock);
}
