// SPDX-License-Identifier: GPL-2.0
/*
 * Managed processes: enabling and disabling them, and every path by which a
 * managed folio goes back to the kernel's LRU.
 *
 * A managed folio is isolated from the LRU and held by hagent's isolation
 * reference; it is recorded in its target's table and in the heap of its
 * tier.  It goes back (folio_putback_lru: LRU add + reference drop) when:
 *   - its mapping changes: munmap, mremap, MADV_DONTNEED/FREE, THP split,
 *     COW (invalidate_range_start, any event but mprotect and soft-dirty);
 *   - fork write-protects it for sharing (MMU_NOTIFY_PROTECTION_PAGE);
 *   - the process exits (->release runs before the address space is torn down);
 *   - management stops: disable, module unload (->release via unregister);
 *   - nobody maps it any more (revalidation, adopt.c);
 *   - reclaim asks (shrinker.c), or its cgroup needs room (memcg.c);
 *   - the memory it is in goes offline (hotplug.c).
 *
 * Locking: hagent_targets_lock (mutex) guards the list and is held by the
 * netlink handlers and the policy thread while they use a target, so a
 * target on the list is never freed under them.  The shrinker walks the
 * list under RCU instead, so that reclaim is never turned away because
 * hagentd is busy: a target is freed a grace period after it left the list.  target->lock (mutex) guards
 * the target's structures; the notifier takes it, or only tries to when the
 * range is not blockable (OOM reaper), returning -EAGAIN.  Whoever takes a
 * target off the list destroys it.
 */
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/rculist.h>
#include <linux/mmu_notifier.h>
#include <linux/moduleparam.h>
#include <linux/nodemask.h>
#include <linux/pid.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include "check.h"
#include "follow.h"
#include "memcg.h"
#include "migrate.h"
#include "netlink.h"
#include "symbols.h"
#include "target.h"
#include "tier.h"

LIST_HEAD(hagent_targets);
DEFINE_MUTEX(hagent_targets_lock);

static atomic64_t hagent_ctr_totals[HAGENT_CTR_NR];
static atomic64_t hagent_gctr_totals[HAGENT_GCTR_NR];
static atomic_long_t hagent_node_pages[MAX_NUMNODES];
static unsigned long hagent_node_pressure_until[MAX_NUMNODES];
static struct workqueue_struct *hagent_wq;

static unsigned int hagent_notify_delay_us;
module_param_named(notify_delay_us, hagent_notify_delay_us, uint, 0644);
MODULE_PARM_DESC(notify_delay_us, "Fault injection for tests: sleep this long after a blockable mapping change gave its folios back, before the kernel changes the page tables (default 0)");

#define HAGENT_CTR_NAME(id, kind, name) [HAGENT_CTR_##id] = name,
const char *const hagent_ctr_names[HAGENT_CTR_NR] = { HAGENT_COUNTERS(HAGENT_CTR_NAME) };
#define HAGENT_CTR_KIND(id, kind, name) [HAGENT_CTR_##id] = #kind[0],
const char hagent_ctr_kinds[HAGENT_CTR_NR] = { HAGENT_COUNTERS(HAGENT_CTR_KIND) };
#define HAGENT_GCTR_NAME(id, name) [HAGENT_GCTR_##id] = name,
const char *const hagent_gctr_names[HAGENT_GCTR_NR] = { HAGENT_GLOBAL_COUNTERS(HAGENT_GCTR_NAME) };

/* Entries given back between two drops of target->lock, when all go back. */
#define HAGENT_RELEASE_BATCH	1024


unsigned long hagent_node_managed(int nid)
{
	return max_t(long, 0, atomic_long_read(&hagent_node_pages[nid]));
}

void hagent_node_managed_add(int nid, long pages)
{
	atomic_long_add(pages, &hagent_node_pages[nid]);
}

void hagent_node_pressure(int nid)
{
	WRITE_ONCE(hagent_node_pressure_until[nid], jiffies + HAGENT_PRESSURE_BACKOFF);
}

bool hagent_node_under_pressure(int nid)
{
	unsigned long until = READ_ONCE(hagent_node_pressure_until[nid]);

	return until && time_before(jiffies, until);
}

void hagent_gctr_add(enum hagent_gctr c, u64 n)
{
	atomic64_add(n, &hagent_gctr_totals[c]);
}

void hagent_target_count(struct hagent_target *t, enum hagent_ctr c, u64 n)
{
	t->ctr[c] += n;
	if (hagent_ctr_kinds[c] == 'C')
		atomic64_add(n, &hagent_ctr_totals[c]);
}

void hagent_target_drop_entry(struct hagent_target *t, struct hagent_entry *e,
			      enum hagent_ctr why)
{
	unsigned long pages = 1UL << e->order;
	u64 vpfn = e->vpfn;
	int err = 0;

	if (e->heap_pos != HAGENT_HEAP_NONE)
		err = hagent_heap_delete(&t->heap[e->tier], e);
	HAGENT_CHECK(t, !err, "vpfn=%llx err=%d", vpfn, err);
	t->ctr[e->tier == HAGENT_TIER_FAST ? HAGENT_CTR_MANAGED_FAST :
					     HAGENT_CTR_MANAGED_SLOW] -= pages;
	t->ctr[HAGENT_CTR_MANAGED_FOLIOS]--;
	err = hagent_table_delete(&t->table, vpfn);	/* e is gone from here on */
	HAGENT_CHECK(t, !err, "vpfn=%llx err=%d", vpfn, err);
	hagent_target_count(t, why, pages);
}

void hagent_target_release_entry(struct hagent_target *t, struct hagent_entry *e,
				 enum hagent_ctr why)
{
	struct folio *folio = e->folio;
	long pages = 1L << e->order;

	if (e->flags & HAGENT_EF_MIGRATING)
		return;		/* in flight: the migrator settles it (migrate.c) */
	hagent_target_drop_entry(t, e, why);
	hagent_node_managed_add(folio_nid(folio), -pages);
	hagent_folio_unmark(folio);
	hagent_sym.folio_putback_lru(folio);
}

unsigned long hagent_target_give_back(struct hagent_target *t, int tier, unsigned long want,
				      enum hagent_ctr why)
{
	struct hagent_heap *fast = &t->heap[HAGENT_TIER_FAST], *slow = &t->heap[HAGENT_TIER_SLOW];
	struct hagent_entry *e, *f, *s;
	unsigned long freed = 0;

	while (freed < want && !t->dead) {
		/* The fast heap's top is its coldest; a slow leaf is among its coldest. */
		f = tier != HAGENT_TIER_SLOW && hagent_heap_count(fast) ? hagent_heap_peek(fast) : NULL;
		s = tier != HAGENT_TIER_FAST && hagent_heap_count(slow) ?
		    hagent_heap_at(slow, hagent_heap_count(slow) - 1) : NULL;
		e = f && (!s || f->hot < s->hot) ? f : s;
		if (!e)
			break;
		freed += 1UL << e->order;
		hagent_target_release_entry(t, e, why);
	}
	return freed;
}

static bool hagent_entry_in_pfns(struct hagent_entry *e, unsigned long start, unsigned long end)
{
	unsigned long pfn = folio_pfn(e->folio);

	return !(e->flags & HAGENT_EF_MIGRATING) && pfn < end && start < pfn + (1UL << e->order);
}

void hagent_target_release_pfns_locked(struct hagent_target *t, unsigned long start,
				       unsigned long end, enum hagent_ctr why)
{
	struct hagent_entry *e;
	u32 cursor;

	if (t->dead)
		return;
	hagent_table_for_each(&t->table, e, cursor)
		if (hagent_entry_in_pfns(e, start, end))
			hagent_target_release_entry(t, e, why);
}

void hagent_target_release_pfns(struct hagent_target *t, unsigned long start,
				unsigned long end, enum hagent_ctr why)
{
	struct hagent_entry *e;
	u32 cursor = 0, n = 0;

	mutex_lock(&t->lock);
	while (!t->dead && (e = hagent_table_next(&t->table, &cursor))) {
		if (hagent_entry_in_pfns(e, start, end))
			hagent_target_release_entry(t, e, why);
		hagent_target_yield_every(t, &n, HAGENT_RELEASE_BATCH);
	}
	mutex_unlock(&t->lock);
}

/*
 * Under target->lock, of a dead target: gives everything back, dropping the
 * lock between batches so that the notifier (the OOM reaper only tries it)
 * and the shrinker are not kept waiting by a large process.  Entry ids stay
 * put while the lock is dropped: nothing is adopted into a dead target, the
 * migrator gives back what it settles for one, and the notifier and the
 * shrinker only remove.
 */
static void hagent_target_release_all(struct hagent_target *t, enum hagent_ctr why)
{
	struct hagent_entry *e;
	u32 cursor = 0, n = 0;

	while ((e = hagent_table_next(&t->table, &cursor))) {
		hagent_target_release_entry(t, e, why);
		hagent_target_yield_every(t, &n, HAGENT_RELEASE_BATCH);
	}
}

/* Every entry overlapping [start, end), THPs that begin before start included. */
static void hagent_target_release_range(struct hagent_target *t, unsigned long start,
					unsigned long end, enum hagent_ctr why)
{
	u64 first = start >> PAGE_SHIFT, last = (end - 1) >> PAGE_SHIFT;
	struct hagent_entry *e;
	u32 cursor;
	u64 v;

	if (end <= start || !hagent_table_count(&t->table))
		return;
	if (last - first >= hagent_table_count(&t->table)) {
		hagent_table_for_each(&t->table, e, cursor)
			if (e->vpfn <= last && e->vpfn + (1ULL << e->order) > first)
				hagent_target_release_entry(t, e, why);
		return;
	}
	/* Only order-0 and PMD-mapped folios are managed (adopt.c). */
	e = hagent_table_lookup(&t->table, ALIGN_DOWN(first, HPAGE_PMD_NR));
	if (e && e->vpfn < first && e->vpfn + (1ULL << e->order) > first)
		hagent_target_release_entry(t, e, why);
	for (v = first; v <= last; v++) {
		e = hagent_table_lookup(&t->table, v);
		if (e)
			hagent_target_release_entry(t, e, why);
	}
}

bool hagent_target_invalidating(struct hagent_target *t, unsigned long start, unsigned long end)
{
	bool busy;

	/*
	 * Unlocked first: a change whose count this misses has not given its
	 * folios back yet, and does so after the caller drops target->lock.
	 */
	if (!READ_ONCE(t->inval_count))
		return false;
	spin_lock(&t->inval_lock);
	busy = t->inval_count && start < t->inval_end && t->inval_start < end;
	spin_unlock(&t->inval_lock);
	return busy;
}

static void hagent_inval_begin(struct hagent_target *t, unsigned long start, unsigned long end)
{
	spin_lock(&t->inval_lock);
	if (!t->inval_count++) {
		t->inval_start = start;
		t->inval_end = end;
	} else {
		t->inval_start = min(t->inval_start, start);
		t->inval_end = max(t->inval_end, end);
	}
	spin_unlock(&t->inval_lock);
}

/* The span stays the union of the changes under way until the last ends. */
static void hagent_inval_end(struct hagent_target *t)
{
	spin_lock(&t->inval_lock);
	if (HAGENT_CHECK(t, t->inval_count, "inval_start=%lx inval_end=%lx",
			 t->inval_start, t->inval_end) && !--t->inval_count)
		t->inval_start = t->inval_end = 0;
	spin_unlock(&t->inval_lock);
}

/* The events that give folios back (and whose range the scan leaves alone). */
static bool hagent_mn_gives_back(const struct mmu_notifier_range *range)
{
	switch (range->event) {
	case MMU_NOTIFY_PROTECTION_VMA:	/* mprotect, NUMA hinting: same folios, same owner */
	case MMU_NOTIFY_SOFT_DIRTY:
		return false;
	default:
		return true;
	}
}

static int hagent_mn_invalidate_range_start(struct mmu_notifier *mn,
					    const struct mmu_notifier_range *range)
{
	struct hagent_target *t = container_of(mn, struct hagent_target, mn);
	/* fork: the folios become shared */
	enum hagent_ctr why = range->event == MMU_NOTIFY_PROTECTION_PAGE ?
			      HAGENT_CTR_REL_FORK : HAGENT_CTR_REL_UNMAP;
	u32 n;

	if (!hagent_mn_gives_back(range))
		return 0;
	/* Counted before the folios go back: the scan takes none of them again. */
	hagent_inval_begin(t, range->start, range->end);
	if (mmu_notifier_range_blockable(range)) {
		mutex_lock(&t->lock);
	} else if (!mutex_trylock(&t->lock)) {
		hagent_inval_end(t);	/* _end is not called after a failed start */
		return -EAGAIN;
	}
	/* A dead target may still be giving back (release_all drops the lock). */
	n = hagent_table_count(&t->table);
	if (n)
		hagent_target_release_range(t, range->start, range->end, why);
	n -= hagent_table_count(&t->table);
	mutex_unlock(&t->lock);
	/*
	 * What went back waits in this CPU's LRU batch, holding a reference
	 * until the batch is drained.  The caller may count references next
	 * (KSM merges a page only when nobody else holds one; migration and
	 * GUP check too): drain it now, on the CPU that is about to look.
	 */
	if (n)
		hagent_sym.lru_add_drain();
	if (unlikely(READ_ONCE(hagent_notify_delay_us)) && mmu_notifier_range_blockable(range))
		fsleep(min(READ_ONCE(hagent_notify_delay_us), 1000000U));
	return 0;
}

static void hagent_mn_invalidate_range_end(struct mmu_notifier *mn,
					   const struct mmu_notifier_range *range)
{
	if (hagent_mn_gives_back(range))
		hagent_inval_end(container_of(mn, struct hagent_target, mn));
}

/*
 * The process exits (exit_mmap, before the unmap), or the notifier is
 * unregistered (disable, unload).  May run twice when the two race; the
 * second run finds the target dead.
 */
static void hagent_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct hagent_target *t = container_of(mn, struct hagent_target, mn);
	bool exited;

	mutex_lock(&t->lock);
	if (t->dead) {
		mutex_unlock(&t->lock);
		return;
	}
	exited = !READ_ONCE(t->disabling);
	t->dead_reason = exited ? HAGENT_CTR_REL_EXIT : t->disable_reason;
	t->dead = true;		/* first: adopt, place and shrink nothing more */
	hagent_target_release_all(t, t->dead_reason);
	mutex_unlock(&t->lock);
	if (exited)
		queue_work(hagent_wq, &t->exit_work);
}

static const struct mmu_notifier_ops hagent_mn_ops = {
	.release = hagent_mn_release,
	.invalidate_range_start = hagent_mn_invalidate_range_start,
	.invalidate_range_end = hagent_mn_invalidate_range_end,
};

static void hagent_target_free(struct hagent_target *t)
{
	int i;

	for (i = 0; i < __HAGENT_TIER_LAST; i++)
		hagent_heap_destroy(&t->heap[i]);
	hagent_sketch_destroy(&t->sketch);
	hagent_table_destroy(&t->table);
	hagent_memcg_put(t);
	mutex_destroy(&t->lock);
	if (t->mm)
		mmdrop(t->mm);
	put_pid(t->tgid);
	kfree(t);
}

/*
 * The caller took @t off the list.  Gives everything back and frees it.
 * @self: the target's work item the caller runs in, if any.
 */
static void hagent_target_destroy(struct hagent_target *t, enum hagent_ctr why,
				  struct work_struct *self)
{
	t->disable_reason = why;
	WRITE_ONCE(t->disabling, true);
	/* Runs ->release if the process has not exited; drops the mm. */
	mmu_notifier_unregister(&t->mn, t->mm);
	if (self != &t->exit_work)
		cancel_work_sync(&t->exit_work);
	if (self != &t->failsafe_work)
		cancel_work_sync(&t->failsafe_work);
	/*
	 * No NMI producer still sees @t, no ring still holds a sample of it,
	 * and no shrinker still walks the list through it.
	 */
	synchronize_rcu();
	mutex_lock(&hagent_targets_lock);
	hagent_sample_drain();
	mutex_unlock(&hagent_targets_lock);
	hagent_target_free(t);
}

/*
 * Under hagent_targets_lock.  RCU readers (the shrinker) may still be on @t
 * and go on through its next pointer: hagent_target_destroy() waits for them
 * before it frees.
 */
static void hagent_target_unlist_locked(struct hagent_target *t)
{
	list_del_rcu(&t->node);
	t->listed = false;
	hagent_sample_targets_changed();
}

/* Takes @t off the list if it is still on it: true when the caller now owns it. */
static bool hagent_target_unlist(struct hagent_target *t)
{
	bool owned;

	mutex_lock(&hagent_targets_lock);
	owned = t->listed;
	if (owned)
		hagent_target_unlist_locked(t);
	mutex_unlock(&hagent_targets_lock);
	return owned;
}

static void hagent_target_exit_work(struct work_struct *work)
{
	struct hagent_target *t = container_of(work, struct hagent_target, exit_work);

	if (!hagent_target_unlist(t))
		return;		/* disable, unload or the fail-safe got there first */
	atomic64_inc(&hagent_gctr_totals[HAGENT_GCTR_TARGETS_EXITED]);
	hagent_event_send(HAGENT_EV_TARGET_EXITED, t->pid, GFP_KERNEL,
			  "pid %d (%s) exited; %llu pages given back", t->pid, t->comm,
			  t->ctr[HAGENT_CTR_REL_EXIT]);
	hagent_target_destroy(t, HAGENT_CTR_REL_EXIT, &t->exit_work);
}

static void hagent_target_failsafe_work(struct work_struct *work)
{
	struct hagent_target *t = container_of(work, struct hagent_target, failsafe_work);

	if (!hagent_target_unlist(t))
		return;
	atomic64_inc(&hagent_gctr_totals[HAGENT_GCTR_TARGETS_FAILSAFE]);
	hagent_event_send(HAGENT_EV_TARGET_FAILSAFE, t->pid, GFP_KERNEL,
			  "pid %d (%s): check failed, every folio given back, no longer managed",
			  t->pid, t->comm);
	pr_warn("pid %d (%s): check failed, every folio given back, no longer managed\n",
		t->pid, t->comm);
	hagent_target_destroy(t, HAGENT_CTR_REL_FAILSAFE, &t->failsafe_work);
}

void hagent_target_failsafe(struct hagent_target *t)
{
	if (atomic_xchg(&t->failed, 1) == 0)
		queue_work(hagent_wq, &t->failsafe_work);
}

struct hagent_target *hagent_target_find(pid_t tgid)
{
	struct hagent_target *t;

	lockdep_assert_held(&hagent_targets_lock);
	list_for_each_entry(t, &hagent_targets, node)
		if (t->pid == tgid)
			return t;
	return NULL;
}

static struct hagent_target *hagent_target_find_mm(struct mm_struct *mm)
{
	struct hagent_target *t;

	list_for_each_entry(t, &hagent_targets, node)
		if (t->mm == mm)
			return t;
	return NULL;
}

u32 hagent_nr_targets(void)
{
	struct hagent_target *t;
	u32 n = 0;

	mutex_lock(&hagent_targets_lock);
	list_for_each_entry(t, &hagent_targets, node)
		n++;
	mutex_unlock(&hagent_targets_lock);
	return n;
}

/* Parses @s (a node list) into @mask; every node must be an online memory node. */
static int hagent_parse_nodes(const char *s, const char *tier, nodemask_t *mask,
			      struct netlink_ext_ack *extack)
{
	int nid;

	if (nodelist_parse(s, *mask)) {
		HAGENT_SET_ERR_MSG_FMT(extack, "bad %s node list \"%s\"", tier, s);
		return -EINVAL;
	}
	if (nodes_empty(*mask)) {
		HAGENT_SET_ERR_MSG_FMT(extack, "empty %s node list", tier);
		return -EINVAL;
	}
	for_each_node_mask(nid, *mask) {
		if (nid >= MAX_NUMNODES || !node_state(nid, N_MEMORY)) {
			HAGENT_SET_ERR_MSG_FMT(extack, "%s node %d does not exist or has no memory",
					       tier, nid);
			return -EINVAL;
		}
	}
	return 0;
}

int hagent_target_tiers(const char *fast_s, const char *slow_s, nodemask_t *fast,
			       nodemask_t *slow, struct netlink_ext_ack *extack)
{
	nodemask_t both;
	bool two_tiers = hagent_tier_default(fast, slow);
	int err;

	if (fast_s) {
		err = hagent_parse_nodes(fast_s, "fast", fast, extack);
		if (err)
			return err;
		if (!slow_s)
			nodes_andnot(*slow, *slow, *fast);
	}
	if (slow_s) {
		err = hagent_parse_nodes(slow_s, "slow", slow, extack);
		if (err)
			return err;
		if (!fast_s)
			nodes_andnot(*fast, *fast, *slow);
	}
	if (!fast_s && !slow_s && !two_tiers) {
		NL_SET_ERR_MSG(extack,
			       "this machine has no two memory tiers (every memory node has CPUs, or none has); name them with fast and slow node lists");
		return -EINVAL;
	}
	nodes_and(both, *fast, *slow);
	if (!nodes_empty(both)) {
		HAGENT_SET_ERR_MSG_FMT(extack, "node %d is in both the fast and the slow tier",
				       first_node(both));
		return -EINVAL;
	}
	if (nodes_empty(*fast) || nodes_empty(*slow)) {
		NL_SET_ERR_MSG(extack, "need at least one fast and one slow memory node");
		return -EINVAL;
	}
	return 0;
}

static struct hagent_target *hagent_target_new(struct mm_struct *mm)
{
	unsigned long anon = get_mm_counter(mm, MM_ANONPAGES);
	u32 capacity = min_t(unsigned long, anon + 64, hagent_max_pages ?: U32_MAX / 4);
	struct hagent_target *t;
	int i;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return NULL;
	INIT_LIST_HEAD(&t->node);
	t->fail_report_at = jiffies;
	INIT_WORK(&t->exit_work, hagent_target_exit_work);
	INIT_WORK(&t->failsafe_work, hagent_target_failsafe_work);
	mutex_init(&t->lock);
	/*
	 * The notifier takes t->lock from reclaim (try_to_unmap_one() ->
	 * mmu_notifier_invalidate_range_start(), blockable), so nothing may
	 * allocate with reclaim under it (adopt.c, hagent_adopt_reserve()).
	 * Tell lockdep now rather than when reclaim first happens to run into
	 * it, as RDMA's ODP does for its umem_mutex.
	 */
	if (IS_ENABLED(CONFIG_LOCKDEP)) {
		fs_reclaim_acquire(GFP_KERNEL);
		mutex_lock(&t->lock);
		mutex_unlock(&t->lock);
		fs_reclaim_release(GFP_KERNEL);
	}
	spin_lock_init(&t->inval_lock);
	t->memcg_cap = ULONG_MAX;
	t->mn.ops = &hagent_mn_ops;
	if (hagent_table_init(&t->table, capacity) ||
	    hagent_sketch_init(&t->sketch, capacity, get_random_u64()))
		goto fail;
	for (i = 0; i < __HAGENT_TIER_LAST; i++)
		if (hagent_heap_init(&t->heap[i], &t->table, i, capacity / 2 + 1))
			goto fail;
	return t;
fail:
	hagent_target_free(t);
	return NULL;
}

int hagent_target_start(struct task_struct *task, const struct hagent_workload *wl,
			struct netlink_ext_ack *extack, pid_t *tgid)
{
	struct hagent_target *t;
	struct mm_struct *mm;
	int err;

	*tgid = task_tgid_nr(task);
	if (task->flags & PF_KTHREAD) {
		HAGENT_SET_ERR_MSG_FMT(extack, "pid %d is a kernel thread", *tgid);
		return -EINVAL;
	}
	mm = get_task_mm(task);	/* keeps the address space up during adoption */
	if (!mm) {
		HAGENT_SET_ERR_MSG_FMT(extack, "process %d is exiting", *tgid);
		return -ESRCH;
	}
	t = hagent_target_new(mm);
	if (!t) {
		mmput(mm);
		return -ENOMEM;
	}
	t->pid = *tgid;
	t->tgid = get_task_pid(task, PIDTYPE_TGID);
	t->workload = wl->root;
	t->cgroup = wl->cgroup;
	get_task_comm(t->comm, task);
	t->fast = wl->fast;
	t->slow = wl->slow;
	mmgrab(mm);		/* the mm_struct outlives the notifier for late samples */
	t->mm = mm;
	/* Fresh faults sit in per-CPU batches, off the LRU, until drained. */
	hagent_sym.lru_add_drain_all();

	mutex_lock(&hagent_targets_lock);
	if (hagent_target_find_mm(mm)) {
		HAGENT_SET_ERR_MSG_FMT(extack, "pid %d is already managed", *tgid);
		err = -EEXIST;
		goto unlock;
	}
	err = mmu_notifier_register(&t->mn, mm);
	if (err)
		goto unlock;
	list_add_tail_rcu(&t->node, &hagent_targets);
	t->listed = true;
	hagent_sample_targets_changed();
	atomic64_inc(&hagent_gctr_totals[HAGENT_GCTR_TARGETS_ENABLED]);
	hagent_memcg_update();
	hagent_target_scan(t, ULONG_MAX, true);
	/*
	 * Reclaim in its cgroup reaches what it just adopted from now on, not
	 * from hagentd's next round: a memory.reclaim write gives up within
	 * milliseconds when its cgroup's LRU is empty and hagent's bit unset.
	 */
	hagent_memcg_mark();
	if (wl->root && wl->root != t->pid)
		hagent_event_send(HAGENT_EV_TARGET_ENABLED, t->pid, GFP_KERNEL,
				  "managing pid %d (%s), followed in workload %d: %llu pages adopted",
				  t->pid, t->comm, wl->root, t->ctr[HAGENT_CTR_ADOPTED]);
	else if (wl->cgroup)
		hagent_event_send(HAGENT_EV_TARGET_ENABLED, t->pid, GFP_KERNEL,
				  "managing pid %d (%s) in cgroup %llu: %llu pages adopted",
				  t->pid, t->comm, wl->cgroup, t->ctr[HAGENT_CTR_ADOPTED]);
	else
		hagent_event_send(HAGENT_EV_TARGET_ENABLED, t->pid, GFP_KERNEL,
				  "managing pid %d (%s): %llu pages adopted", t->pid, t->comm,
				  t->ctr[HAGENT_CTR_ADOPTED]);
	t = NULL;
unlock:
	mutex_unlock(&hagent_targets_lock);
	if (t)
		hagent_target_free(t);
	/* Last: if the process exited meanwhile, this runs exit_mmap and ->release. */
	mmput(mm);
	return err;
}

int hagent_target_enable(pid_t pid, const char *fast_s, const char *slow_s, bool follow,
			 struct netlink_ext_ack *extack, pid_t *tgid)
{
	struct hagent_workload wl = {};
	struct task_struct *task;
	bool added = false;
	struct pid *p;
	int err;

	if (pid <= 0) {
		NL_SET_ERR_MSG(extack, "pid must be positive");
		return -EINVAL;
	}
	err = hagent_target_tiers(fast_s, slow_s, &wl.fast, &wl.slow, extack);
	if (err)
		return err;
	p = find_get_pid(pid);
	task = p ? get_pid_task(p, PIDTYPE_PID) : NULL;
	put_pid(p);
	if (!task) {
		HAGENT_SET_ERR_MSG_FMT(extack, "no process with pid %d", pid);
		return -ESRCH;
	}
	/* Followed first: nothing it forks while it is being enabled is missed. */
	if (follow) {
		wl.root = task_tgid_nr(task);
		err = hagent_follow_add(task, &wl);
		added = err > 0;
		if (err < 0) {
			if (err == -EOPNOTSUPP)
				NL_SET_ERR_MSG(extack, "cannot follow: the scheduler tracepoints are missing");
			else if (err == -EDQUOT)
				NL_SET_ERR_MSG(extack, "cannot follow: its workload has workload_max processes already");
			else
				NL_SET_ERR_MSG(extack, "cannot follow: follow_max processes are followed already");
			put_task_struct(task);
			return err;
		}
	}
	err = hagent_target_start(task, &wl, extack, tgid);
	if (err && added)
		hagent_follow_forget(task_tgid_nr(task));
	put_task_struct(task);
	return err;
}

bool hagent_target_running(struct hagent_target *t)
{
	struct task_struct *task, *thread;
	bool running = false;

	rcu_read_lock();
	task = pid_task(t->tgid, PIDTYPE_TGID);
	if (task)
		for_each_thread(task, thread)
			if (READ_ONCE(thread->on_cpu)) {
				running = true;
				break;
			}
	rcu_read_unlock();
	return running;
}

/* Unlisted, @t goes: every folio back, what it forks stays unmanaged. */
static void hagent_target_stop(struct hagent_target *t, const char *why)
{
	hagent_follow_forget(t->pid);
	atomic64_inc(&hagent_gctr_totals[HAGENT_GCTR_TARGETS_DISABLED]);
	hagent_event_send(HAGENT_EV_TARGET_DISABLED, t->pid, GFP_KERNEL,
			  "stopped managing pid %d (%s)%s", t->pid, t->comm, why);
	hagent_target_destroy(t, HAGENT_CTR_REL_DISABLE, NULL);
}

int hagent_target_disable(pid_t pid, u64 cgroup, struct netlink_ext_ack *extack)
{
	struct hagent_target *t;

	mutex_lock(&hagent_targets_lock);
	t = hagent_target_find(pid);
	if (t && cgroup && t->cgroup != cgroup)
		t = NULL;	/* managed, but not through that cgroup */
	if (t)
		hagent_target_unlist_locked(t);
	mutex_unlock(&hagent_targets_lock);
	if (!t) {
		HAGENT_SET_ERR_MSG_FMT(extack, "pid %d is not managed", pid);
		return -ENOENT;
	}
	hagent_target_stop(t, cgroup ? ": it left the managed cgroup" : "");
	return 0;
}

unsigned int hagent_target_disable_cgroup(u64 cgroup)
{
	struct hagent_target *t;
	unsigned int n = 0;

	for (;;) {
		mutex_lock(&hagent_targets_lock);
		list_for_each_entry(t, &hagent_targets, node)
			if (t->cgroup == cgroup)
				break;
		if (list_entry_is_head(t, &hagent_targets, node))
			t = NULL;
		else
			hagent_target_unlist_locked(t);
		mutex_unlock(&hagent_targets_lock);
		if (!t)
			return n;
		hagent_target_stop(t, "");
		n++;
	}
}

void hagent_target_counters(struct hagent_target *t, u64 *out)
{
	mutex_lock(&t->lock);
	memcpy(out, t->ctr, sizeof(t->ctr));
	mutex_unlock(&t->lock);
}

void hagent_totals(u64 *ctr, u64 *gctr)
{
	u64 one[HAGENT_CTR_NR];
	struct hagent_target *t;
	int i;

	for (i = 0; i < HAGENT_CTR_NR; i++)
		ctr[i] = hagent_ctr_kinds[i] == 'C' ? atomic64_read(&hagent_ctr_totals[i]) : 0;
	for (i = 0; i < HAGENT_GCTR_NR; i++)
		gctr[i] = atomic64_read(&hagent_gctr_totals[i]);
	gctr[HAGENT_GCTR_CHECKS_FAILED] = hagent_checks_failed();
	mutex_lock(&hagent_targets_lock);
	list_for_each_entry(t, &hagent_targets, node) {
		hagent_target_counters(t, one);
		for (i = 0; i < HAGENT_CTR_NR; i++)
			if (hagent_ctr_kinds[i] != 'C')
				ctr[i] += one[i];
	}
	mutex_unlock(&hagent_targets_lock);
}

void hagent_target_decay(struct hagent_target *t)
{
	int i;

	hagent_sketch_decay(&t->sketch);
	for (i = 0; i < __HAGENT_TIER_LAST; i++)
		hagent_heap_decay(&t->heap[i]);
}

int hagent_targets_init(void)
{
	hagent_wq = alloc_workqueue("hagent", WQ_UNBOUND, 0);
	return hagent_wq ? 0 : -ENOMEM;
}

/* Module unload: give everything back.  The policy thread is already stopped. */
void hagent_targets_exit(void)
{
	struct hagent_target *t;

	for (;;) {
		mutex_lock(&hagent_targets_lock);
		t = list_first_entry_or_null(&hagent_targets, struct hagent_target, node);
		if (t)
			hagent_target_unlist_locked(t);
		mutex_unlock(&hagent_targets_lock);
		if (!t)
			break;
		hagent_event_send(HAGENT_EV_TARGET_DISABLED, t->pid, GFP_KERNEL,
				  "stopped managing pid %d (%s): module unloading", t->pid, t->comm);
		hagent_target_destroy(t, HAGENT_CTR_REL_UNLOAD, NULL);
	}
	destroy_workqueue(hagent_wq);	/* drains exit work that lost the race */
}
