/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_TARGET_H
#define _HAGENT_TARGET_H

#include <linux/list.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/nodemask.h>
#include <linux/poison.h>
#include <linux/sched.h>
#include <linux/workqueue.h>
#include "counters.h"
#include "heap.h"
#include "sample.h"
#include "sketch.h"
#include "table.h"

/*
 * A managed process.  Lock order: hagent_targets_lock -> the mm's mmap_lock
 * -> target->lock -> page table locks -> lruvec locks.  target->lock is never
 * held across migrate_pages() or mmput(): both can call back into the
 * notifier, which takes it.
 */
struct mem_cgroup;
struct hagent_workload;

struct hagent_target {
	struct list_head node;		/* in hagent_targets (RCU), under hagent_targets_lock */
	bool listed;			/* on hagent_targets; under hagent_targets_lock */
	pid_t pid;			/* thread group id */
	struct pid *tgid;		/* the same, referenced: whether it runs (pace.c) */
	char comm[TASK_COMM_LEN];
	pid_t workload;			/* tgid of its followed root (itself too); 0: not followed */
	u64 cgroup;			/* the managed cgroup it came in through; 0: none */
	unsigned int bar;		/* its workload's bar this step (place.c; hagentd only) */
	unsigned int slot;		/* its workload's index this step, with fair shares (the same) */
	bool stuck;			/* nothing of it could move this step (place.c) */
	struct mm_struct *mm;		/* mm_count held by the notifier registration */
	struct mmu_notifier mn;
	nodemask_t fast, slow;		/* set at enable, then read-only */
	struct work_struct exit_work;	/* destroys the target after its process exited */
	struct work_struct failsafe_work; /* shuts the target down after a failed check */
	atomic_t failed;		/* a check failed: failsafe_work is queued */
	bool disabling;			/* set before mmu_notifier_unregister() */
	enum hagent_ctr disable_reason;
	struct hagent_sample_stats samples;	/* atomic: pushed from any context */
	/*
	 * Mapping changes under way: between the notifier's
	 * invalidate_range_start, which gives the range's folios back, and
	 * _end, after which the page tables show the change.  The scan adopts
	 * nothing in their span (hagent_target_invalidating()): a folio taken
	 * in between would be unmapped (or split) under hagent's hold.
	 * inval_lock guards the three, as _end may not sleep.
	 */
	spinlock_t inval_lock;
	unsigned int inval_count;
	unsigned long inval_start, inval_end;

	/* lock guards everything below. */
	struct mutex lock;
	bool dead;			/* adopt nothing more; everything goes back */
	enum hagent_ctr dead_reason;	/* released.* counter of what made it dead */
	struct hagent_table table;
	struct hagent_heap heap[__HAGENT_TIER_LAST];	/* by enum hagent_tier */
	struct hagent_sketch sketch;	/* vpfn -> decaying access count */
	u64 ctr[HAGENT_CTR_NR];		/* see counters.h */
	u64 pass[HAGENT_CTR_NR];	/* skipped.* of the scan pass in progress */
	unsigned long scan_cursor;	/* where the next budgeted pass resumes */
	/*
	 * Mapped entries the scan primed (a PTE, or a PMD mapping a THP, is
	 * one): so far in the pass in progress, and in the last whole pass --
	 * the process's size to the scan budget (policy.c).
	 */
	unsigned long scan_entries, pass_entries;
	u32 pin_cursor;			/* where the next pinned-folio sweep resumes */
	u64 revalidated;		/* passes (scans) as of the last revalidation */
	unsigned long revalidated_at;	/* jiffies then */
	/* Addresses primed by the last scan step, measured once its window ends. */
	unsigned long window_start, window_end;
	unsigned long window_primed;	/* managed folios primed in it */
	unsigned long window_primed_slow;	/* of which in the slow tier */
	u64 primed_ns;			/* when priming started */
	/*
	 * PMD-mapped folios of the last measured window get a window of their
	 * own (adopt.c: hagent_target_huge_prime()); this is its range.
	 */
	unsigned long huge_start, huge_end;
	unsigned long huge_primed, huge_primed_slow;
	u64 huge_primed_ns;
	/* Migration failures as of the last summary (policy.c); [0]: attempted. */
	u64 fail_snap[1 + HAGENT_CTR_MIG_FAIL_END - HAGENT_CTR_MIG_FAIL_FIRST];
	unsigned long fail_report_at;	/* jiffies of the last summary */
	/*
	 * The process's memory cgroup (referenced) and the pages hagent may
	 * hold of it, so that reclaim in the cgroup keeps room (memcg.c).
	 * Written by hagentd under hagent_targets_lock; adoption reads the cap.
	 */
	struct mem_cgroup *memcg;
	unsigned long memcg_cap;
	/* jiffies until which adoption waits: reclaim in its cgroup asked (shrinker.c) */
	unsigned long memcg_reclaim_until;
};

/*
 * How long adoption leaves a node (global reclaim) or a target (reclaim in
 * its cgroup) alone after reclaim asked for memory there.
 */
#define HAGENT_PRESSURE_BACKOFF (10 * HZ)

/* hagent_targets and hagent_targets_lock: every managed process. */
extern struct list_head hagent_targets;
extern struct mutex hagent_targets_lock;

int hagent_targets_init(void);
void hagent_targets_exit(void);

/*
 * Manage process @pid (any of its thread ids) in tiers given as node lists
 * (NULL: the default); @follow: what it forks is managed too (follow.c).
 */
int hagent_target_enable(pid_t pid, const char *fast, const char *slow, bool follow,
			 struct netlink_ext_ack *extack, pid_t *tgid);
/* Parses node lists (NULL: the default tier) into @fast and @slow. */
int hagent_target_tiers(const char *fast_s, const char *slow_s, nodemask_t *fast,
			nodemask_t *slow, struct netlink_ext_ack *extack);
/* Manage @task's process (the caller holds @task) in workload @wl. */
int hagent_target_start(struct task_struct *task, const struct hagent_workload *wl,
			struct netlink_ext_ack *extack, pid_t *tgid);
/* Stop managing @pid; when @cgroup, only if it came in through that cgroup. */
int hagent_target_disable(pid_t pid, u64 cgroup, struct netlink_ext_ack *extack);
/* Stops every target that came in through @cgroup; how many. */
unsigned int hagent_target_disable_cgroup(u64 cgroup);
/* Under hagent_targets_lock. */
struct hagent_target *hagent_target_find(pid_t tgid);
u32 hagent_nr_targets(void);

/* Add @n to module-wide counter @c. */
void hagent_gctr_add(enum hagent_gctr c, u64 n);
/* Snapshot of a target's counters, taken under its lock. */
void hagent_target_counters(struct hagent_target *t, u64 *out);
/* Totals: cumulative since load, gauges summed over live targets. */
void hagent_totals(u64 *ctr, u64 *gctr);

/*
 * Under target->lock: whether a mapping change is under way in any part of
 * [@start, @end) (adopt.c does not take a folio there).
 */
bool hagent_target_invalidating(struct hagent_target *t, unsigned long start, unsigned long end);

/* Under target->lock: give one entry's folio back to the LRU. */
void hagent_target_release_entry(struct hagent_target *t, struct hagent_entry *e,
				 enum hagent_ctr why);
/*
 * Under target->lock: give back the coldest folios of @tier's heap, or of
 * both heaps (@tier == __HAGENT_TIER_LAST), until @want pages went back;
 * returns the pages given back.
 */
unsigned long hagent_target_give_back(struct hagent_target *t, int tier, unsigned long want,
				      enum hagent_ctr why);
/*
 * hagentd only (entry ids stay put while it drops target->lock between
 * batches): give back every folio in pfns [@start, @end).
 */
void hagent_target_release_pfns(struct hagent_target *t, unsigned long start,
				unsigned long end, enum hagent_ctr why);
/* The same under target->lock, which it never drops (any caller, no sleeping). */
void hagent_target_release_pfns_locked(struct hagent_target *t, unsigned long start,
				       unsigned long end, enum hagent_ctr why);
/*
 * Under target->lock: forget @e without touching its folio (the migrator,
 * which holds no folio for it or gives its folio back itself).
 */
void hagent_target_drop_entry(struct hagent_target *t, struct hagent_entry *e,
			      enum hagent_ctr why);
/* Under target->lock: bump a counter (and its total when cumulative). */
void hagent_target_count(struct hagent_target *t, enum hagent_ctr c, u64 n);

/*
 * adopt.c: walk the address space and take over folios; budget in pages.
 * With the accessed-bit sampler on, a periodic step also primes what it
 * walks, and hagent_target_measure() reads that window after it has lasted.
 */
void hagent_target_scan(struct hagent_target *t, unsigned long budget, bool full);
/* Managed folios primed and found touched, in all and in the slow tier. */
struct hagent_abit_tally {
	unsigned long primed, touched, primed_slow, touched_slow;
	unsigned long windows;		/* base-page windows measured */
	u64 window_us;			/* their lengths, summed */
};
/* One sample per managed folio of the primed window touched since; adds to @sum. */
void hagent_target_measure(struct hagent_target *t, struct hagent_abit_tally *sum);
/*
 * The huge window: the PMD-mapped folios the last measure found in its range
 * are primed again (returns whether any was), and measured a short window
 * later (adds to @sum).
 */
bool hagent_target_huge_prime(struct hagent_target *t);
u64 hagent_target_huge_measure(struct hagent_target *t, struct hagent_abit_tally *sum);
/* Whether a thread of the process is on a CPU now. */
bool hagent_target_running(struct hagent_target *t);
/* Give back folios nobody maps any more (a missed or raced unmap). */
void hagent_target_revalidate(struct hagent_target *t);
/* Gives back managed folios pinned for DMA, a bounded slice of the table per call. */
void hagent_target_sweep_pinned(struct hagent_target *t);

/*
 * A managed folio is isolated, and its lru field is hagent's: a mark there
 * tells the scanner "ours" without a table lookup.  Set once a folio is
 * managed, cleared before it goes anywhere else (LRU, migrate_pages()).
 * mlock_count, which shares the field, is only written on the LRU.  The
 * mark is even: lru.next shares its word with compound_head, whose bit 0
 * says "tail page" to page_folio().
 */
#define HAGENT_LRU_MANAGED	((struct list_head *)(0x4860UL + POISON_POINTER_DELTA))

static inline void hagent_folio_mark_managed(struct folio *folio)
{
	BUILD_BUG_ON((unsigned long)HAGENT_LRU_MANAGED & 1);
	folio->lru.next = HAGENT_LRU_MANAGED;
	folio->lru.prev = HAGENT_LRU_MANAGED;
}

static inline void hagent_folio_unmark(struct folio *folio)
{
	INIT_LIST_HEAD(&folio->lru);
}

static inline bool hagent_folio_is_managed(struct folio *folio)
{
	return READ_ONCE(folio->lru.next) == HAGENT_LRU_MANAGED;
}

/* Whether reclaim in the target's cgroup asked for its folios lately. */
static inline bool hagent_target_memcg_reclaiming(struct hagent_target *t)
{
	unsigned long until = READ_ONCE(t->memcg_reclaim_until);

	return until && time_before(jiffies, until);
}

/* Pages the target holds, both tiers (read without its lock by memcg.c). */
static inline unsigned long hagent_target_held(struct hagent_target *t)
{
	return READ_ONCE(t->ctr[HAGENT_CTR_MANAGED_FAST]) +
	       READ_ONCE(t->ctr[HAGENT_CTR_MANAGED_SLOW]);
}

/*
 * Under target->lock, in a walk over its table: every @batch calls, drop the
 * lock and reschedule, so that the notifier, the shrinker and the OOM reaper
 * get in.  Only hagentd inserts, so entry ids stay put meanwhile.
 */
static inline void hagent_target_yield_every(struct hagent_target *t, u32 *n, u32 batch)
{
	if (++*n % batch)
		return;
	mutex_unlock(&t->lock);
	cond_resched();
	mutex_lock(&t->lock);
}

/* Per-node managed pages, for the shrinker. */
unsigned long hagent_node_managed(int nid);
void hagent_node_managed_add(int nid, long pages);
/* Adoption pauses on a node for a while after reclaim asked for memory there. */
void hagent_node_pressure(int nid);
bool hagent_node_under_pressure(int nid);

/* A check failed for @t: shut it down soon (any context). */
void hagent_target_failsafe(struct hagent_target *t);

/* Halve every access count (sketch and heap keys alike); under target->lock. */
void hagent_target_decay(struct hagent_target *t);

/* Module parameters (main.c). */
extern unsigned long hagent_max_pages;
extern unsigned int hagent_scan_interval_ms;
extern unsigned long hagent_scan_pages;
extern unsigned int hagent_decay_ms;
extern bool hagent_abit;

#endif /* _HAGENT_TARGET_H */
