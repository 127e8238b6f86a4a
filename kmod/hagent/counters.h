/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The counters hagent exports, per target and in total, by name.  Names are
 * part of what operators and scripts read (netlink STATS, debugfs, hagentctl
 * stats --json), so a name never changes meaning; new ones are appended.
 *
 * Kinds:
 *   G  gauge: the current value (totals: summed over live targets)
 *   C  cumulative since the target was enabled (totals: since module load,
 *      exited and disabled targets included)
 *   P  measured over the most recent complete scan pass (totals: summed
 *      over live targets); the skipped.* counters, and only they
 * Pages are base pages: a 2 MiB THP counts 512.
 *
 * Placement (migrate.c): promoted/demoted count pages that reached the fast
 * or the slow tier and were managed again there; exchanges counts rounds
 * that demoted to make room for a promotion; migrate.attempted counts pages
 * handed to migrate_pages(), and every attempted page that did not end up
 * managed in its new tier is in exactly one migrate_failed.<reason>:
 *   isolation  moved, but the destination could not be taken off the LRU
 *              again, or the mapping changed while it moved
 *   alloc      no free page of the folio's order on the destination node
 *   eagain     still referenced or locked by someone else after the retries
 *   ebusy      under writeback
 *   enomem     migrate_pages() itself ran out of memory
 *   other      anything else
 * The reason of a page migrate_pages() gave back is diagnosed from the
 * folio's state after the call (the kernel does not report one per folio).
 */
#ifndef _HAGENT_COUNTERS_H
#define _HAGENT_COUNTERS_H

#define HAGENT_COUNTERS(X)						\
	X(MANAGED_FAST,		G, "managed_pages.fast")		\
	X(MANAGED_SLOW,		G, "managed_pages.slow")		\
	X(MANAGED_FOLIOS,	G, "managed_folios")			\
	X(ADOPTED,		C, "adopted")				\
	X(REL_DISABLE,		C, "released.disable")			\
	X(REL_EXIT,		C, "released.exit")			\
	X(REL_UNMAP,		C, "released.unmap")			\
	X(REL_FORK,		C, "released.fork")			\
	X(REL_ORPHAN,		C, "released.orphan")			\
	X(REL_SHRINKER,		C, "released.shrinker")			\
	X(REL_UNLOAD,		C, "released.unload")			\
	X(REL_FAILSAFE,		C, "released.failsafe")			\
	X(REL_MIGRATE,		C, "released.migrate")			\
	X(SKIP_LOCKED,		P, "skipped.locked")			\
	X(SKIP_HUGETLB,		P, "skipped.hugetlb")			\
	X(SKIP_KSM,		P, "skipped.ksm")			\
	X(SKIP_SHARED,		P, "skipped.shared")			\
	X(SKIP_LARGE_PTE,	P, "skipped.large_pte")			\
	X(SKIP_NOT_LRU,		P, "skipped.not_lru")			\
	X(SKIP_NODE,		P, "skipped.node")			\
	X(SKIP_CAP,		P, "skipped.cap")			\
	X(SKIP_PRESSURE,	P, "skipped.pressure")			\
	X(ORPHANS,		C, "orphans")				\
	X(SCANS,		C, "scans")					\
	X(ABIT_FLUSHES,		C, "abit.tlb_flushes")			\
	X(ABIT_WINDOWS,		C, "abit.windows")			\
	X(ABIT_WINDOW_US,	C, "abit.window_us")			\
	X(ABIT_PRIMED,		C, "abit.primed")			\
	X(PROMOTED,		C, "promoted")				\
	X(DEMOTED,		C, "demoted")				\
	X(EXCHANGES,		C, "exchanges")				\
	X(MIG_ATTEMPTED,	C, "migrate.attempted")			\
	X(MIG_FAIL_ISOLATION,	C, "migrate_failed.isolation")		\
	X(MIG_FAIL_ALLOC,	C, "migrate_failed.alloc")		\
	X(MIG_FAIL_EAGAIN,	C, "migrate_failed.eagain")		\
	X(MIG_FAIL_EBUSY,	C, "migrate_failed.ebusy")		\
	X(MIG_FAIL_ENOMEM,	C, "migrate_failed.enomem")		\
	X(MIG_FAIL_OTHER,	C, "migrate_failed.other")		\
	X(ABIT_HUGE_WINDOWS,	C, "abit.huge_windows")			\
	X(ABIT_HUGE_WINDOW_US,	C, "abit.huge_window_us")		\
	X(ABIT_HUGE_PRIMED,	C, "abit.huge_primed")		\
	X(REL_MEMCG,		C, "released.memcg")			\
	X(SKIP_MEMCG,		P, "skipped.memcg")			\
	X(REL_OFFLINE,		C, "released.offline")			\
	X(SKIP_OFFLINE,		P, "skipped.offline")			\
	X(REL_PINNED,		C, "released.pinned")			\
	X(SKIP_PINNED,		P, "skipped.pinned")			\
	X(REL_MEMCG_RECLAIM,	C, "released.memcg_reclaim")

#define HAGENT_CTR_ENUM(id, kind, name) HAGENT_CTR_##id,
enum hagent_ctr {
	HAGENT_COUNTERS(HAGENT_CTR_ENUM)
	HAGENT_CTR_NR
};
#undef HAGENT_CTR_ENUM

/*
 * released.* and skipped.* are not one run each (names are appended): the
 * skipped.* are the counters of kind P.
 */
#define HAGENT_CTR_MIG_FAIL_FIRST	HAGENT_CTR_MIG_FAIL_ISOLATION
#define HAGENT_CTR_MIG_FAIL_END	(HAGENT_CTR_MIG_FAIL_OTHER + 1)

/*
 * Module-wide counters that belong to no target (totals only).  policy.*_ns:
 * wall time hagentd spent in each part of its rounds (drain the rings,
 * scan = prime + measure + adopt + revalidate, decay, place = plan +
 * migrate + settle; migrate_ns and settle_ns are the parts of place_ns
 * spent inside migrate_pages() and re-reading the page tables after it),
 * since load.  policy.drains: drains between rounds, because a ring was
 * half full (sample.c).  follow.enabled: processes enabled because a followed one
 * forked or exec'd (follow.c); follow.missed: forks of followed processes
 * not followed (no memory for the record, or follow_max reached);
 * follow.over_limit: processes not followed because their workload had
 * workload_max processes followed already.
 * shrinker.scans and shrinker.memcg_scans: calls from reclaim (global,
 * inside a cgroup) asking hagent's shrinker to give back;
 * shrinker.memcg_counts: calls from reclaim inside a cgroup asking how much
 * hagent holds there (it asks before it scans); shrinker.busy:
 * targets reclaim asked for that were busy (hagentd held their lock), so
 * gave nothing back to that call.
 */
#define HAGENT_GLOBAL_COUNTERS(X)					\
	X(TARGETS_ENABLED,	"targets.enabled")			\
	X(TARGETS_DISABLED,	"targets.disabled")			\
	X(TARGETS_EXITED,	"targets.exited")			\
	X(TARGETS_FAILSAFE,	"targets.failsafe")			\
	X(CHECKS_FAILED,	"checks.failed")				\
	X(POLICY_DRAIN_NS,	"policy.drain_ns")			\
	X(POLICY_SCAN_NS,	"policy.scan_ns")			\
	X(POLICY_DECAY_NS,	"policy.decay_ns")			\
	X(POLICY_PLACE_NS,	"policy.place_ns")			\
	X(POLICY_MIGRATE_NS,	"policy.migrate_ns")			\
	X(POLICY_SETTLE_NS,	"policy.settle_ns")			\
	X(POLICY_ROUNDS,	"policy.rounds")				\
	X(POLICY_DRAINS,	"policy.drains")				\
	X(SCAN_STEPS,		"scan.steps")				\
	X(SCAN_IDLE_STEPS,	"scan.idle_steps")				\
	X(SCAN_WAKE_MOVED,	"scan.wake.moved")				\
	X(SCAN_WAKE_SIZE,	"scan.wake.size")				\
	X(SCAN_WAKE_SLOW,	"scan.wake.slow_touched")		\
	X(SCAN_WAKE_ABOVE_BAR,	"scan.wake.above_bar")			\
	X(POLICY_MIGRATE_CPU_NS, "policy.migrate_cpu_ns")		\
	X(FOLLOW_ENABLED,	"follow.enabled")			\
	X(FOLLOW_MISSED,	"follow.missed")			\
	X(FOLLOW_OVER_LIMIT,	"follow.over_limit")			\
	X(SHRINKER_SCANS,	"shrinker.scans")			\
	X(SHRINKER_MEMCG_SCANS,	"shrinker.memcg_scans")			\
	X(SHRINKER_MEMCG_COUNTS, "shrinker.memcg_counts")		\
	X(SHRINKER_BUSY,	"shrinker.busy")

#define HAGENT_GCTR_ENUM(id, name) HAGENT_GCTR_##id,
enum hagent_gctr {
	HAGENT_GLOBAL_COUNTERS(HAGENT_GCTR_ENUM)
	HAGENT_GCTR_NR
};
#undef HAGENT_GCTR_ENUM

extern const char *const hagent_ctr_names[HAGENT_CTR_NR];
extern const char hagent_ctr_kinds[HAGENT_CTR_NR];
extern const char *const hagent_gctr_names[HAGENT_GCTR_NR];

#endif /* _HAGENT_COUNTERS_H */
