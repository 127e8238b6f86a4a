/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What hagent costs the machine, as module-wide counters (totals only).
 * Like counters.h, the names are part of what scripts read: a name never
 * changes meaning, new ones are appended.  All are cumulative since load
 * except overhead.probes (1 while the probes are registered).
 *
 * The tracepoint and page-fault counters move only while the probes are on
 * (module parameter probes=1); policy CPU time, trylock failures and
 * migration time are counted always.
 */
#ifndef _HAGENT_OVERHEAD_H
#define _HAGENT_OVERHEAD_H

#include <linux/sched.h>
#include <linux/types.h>

/*
 * overhead.fault.hist.<lower bound in ns>: bucket 0 holds faults under
 * 512 ns, bucket k >= 1 those in [2^(k+8), 2^(k+9)) ns, the last one
 * everything from 2^27 ns (134 ms) up.
 */
#define HAGENT_FAULT_HIST_NR		20
#define HAGENT_FAULT_HIST_SHIFT		8

#define HAGENT_OVERHEAD_COUNTERS(X)						\
	X(PROBES,		"overhead.probes")				\
	X(TLB_TASK_SWITCH,	"overhead.tlb_flush.task_switch")		\
	X(TLB_REMOTE_SHOOTDOWN,	"overhead.tlb_flush.remote_shootdown")		\
	X(TLB_LOCAL_SHOOTDOWN,	"overhead.tlb_flush.local_shootdown")		\
	X(TLB_LOCAL_MM_SHOOTDOWN, "overhead.tlb_flush.local_mm_shootdown")	\
	X(TLB_REMOTE_SEND_IPI,	"overhead.tlb_flush.remote_send_ipi")		\
	X(TLB_PAGES,		"overhead.tlb_flush.pages")			\
	X(TLB_FULL,		"overhead.tlb_flush.full")			\
	X(MMAP_READ,		"overhead.mmap_lock.read")			\
	X(MMAP_READ_FAIL,	"overhead.mmap_lock.read_fail")			\
	X(MMAP_WRITE,		"overhead.mmap_lock.write")			\
	X(MMAP_WRITE_FAIL,	"overhead.mmap_lock.write_fail")		\
	X(FAULT_COUNT,		"overhead.fault.count")				\
	X(FAULT_NS,		"overhead.fault.ns")				\
	X(FAULT_RETRY,		"overhead.fault.retry")				\
	X(FAULT_MISSED,		"overhead.fault.missed")			\
	X(POLICY_CPU_NS,	"overhead.policy_cpu_ns")			\
	X(TRYLOCK_FAIL,		"overhead.trylock_fail")			\
	X(MIGRATE_NS,		"overhead.migrate_ns")				\
	X(MIGRATE_PAGES,	"overhead.migrate_pages")			\
	X(FAULT_HIST_0,		"overhead.fault.hist.0")			\
	X(FAULT_HIST_1,		"overhead.fault.hist.512")			\
	X(FAULT_HIST_2,		"overhead.fault.hist.1024")			\
	X(FAULT_HIST_3,		"overhead.fault.hist.2048")			\
	X(FAULT_HIST_4,		"overhead.fault.hist.4096")			\
	X(FAULT_HIST_5,		"overhead.fault.hist.8192")			\
	X(FAULT_HIST_6,		"overhead.fault.hist.16384")			\
	X(FAULT_HIST_7,		"overhead.fault.hist.32768")			\
	X(FAULT_HIST_8,		"overhead.fault.hist.65536")			\
	X(FAULT_HIST_9,		"overhead.fault.hist.131072")			\
	X(FAULT_HIST_10,	"overhead.fault.hist.262144")			\
	X(FAULT_HIST_11,	"overhead.fault.hist.524288")			\
	X(FAULT_HIST_12,	"overhead.fault.hist.1048576")			\
	X(FAULT_HIST_13,	"overhead.fault.hist.2097152")			\
	X(FAULT_HIST_14,	"overhead.fault.hist.4194304")			\
	X(FAULT_HIST_15,	"overhead.fault.hist.8388608")			\
	X(FAULT_HIST_16,	"overhead.fault.hist.16777216")			\
	X(FAULT_HIST_17,	"overhead.fault.hist.33554432")			\
	X(FAULT_HIST_18,	"overhead.fault.hist.67108864")			\
	X(FAULT_HIST_19,	"overhead.fault.hist.134217728")

#define HAGENT_OVH_ENUM(id, name) HAGENT_OVH_##id,
enum hagent_ovh {
	HAGENT_OVERHEAD_COUNTERS(HAGENT_OVH_ENUM)
	HAGENT_OVH_NR
};
#undef HAGENT_OVH_ENUM

extern const char *const hagent_overhead_names[HAGENT_OVH_NR];

int hagent_overhead_init(void);
void hagent_overhead_exit(void);

/* Every counter, per-CPU parts summed; @v has HAGENT_OVH_NR entries.  Any context. */
void hagent_overhead_read(u64 *v);

/* hagent's own mmap_read_trylock() failed.  Any context. */
void hagent_overhead_count_trylock_fail(void);
/* A migration batch moved @pages base pages in @ns.  Any context. */
void hagent_overhead_migrate_ns(u64 ns, u64 pages);

/*
 * CPU time @task has run, as its schedstat reports it: wall time without
 * the waits for a CPU or in sleep.  Updated at each tick and switch, so a
 * difference is off by up to a tick either way, evenly: a sum of many is
 * close.
 */
static inline u64 hagent_task_cpu_ns(struct task_struct *task)
{
	return READ_ONCE(task->se.sum_exec_runtime);
}

#endif /* _HAGENT_OVERHEAD_H */
