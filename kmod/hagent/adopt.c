// SPDX-License-Identifier: GPL-2.0
/*
 * Adoption: walking a managed process's private anonymous memory and taking
 * its folios off the LRU into the target's table and tier heaps.
 *
 * Which folios: present, anonymous, exclusive to this process (AnonExclusive
 * and mapped once), not KSM, in a VMA that is neither VM_LOCKED, hugetlb nor
 * KSM-mergeable,
 * on a node of one of the target's tiers.  Order-0 folios and PMD-mapped THPs
 * are managed, a THP as one unit (one entry, 512 pages in every counter);
 * a large folio mapped by PTEs is skipped, because it may be mapped only in
 * part and a page-keyed entry would not describe the whole folio.
 *
 * The same walk is the accessed-bit sampler, in two steps.  Each scan
 * interval the walk *primes* the next scan_pages mapped entries (PTEs, and
 * PMDs mapping THPs: one entry each, as the walk's cost is): it clears their
 * accessed bits (and adopts what it can), then flushes the TLB.  A short
 * window later (policy.c sizes it) it *measures* that same range: a page
 * whose bit is set again was touched within the window, and that is one
 * sample (source "abit", recorded at once: sample.c).  The window is short
 * and the same for every page, however long a whole pass over the address
 * space takes, so a page touched a few times a second and one touched a few
 * hundred times look different even in a large process; a one-step scanner
 * would measure over the whole pass and find nearly every page touched.
 * Only managed folios' bits are touched: the kernel's reclaim ages the
 * others by them.
 *
 * A managed folio is off the LRU and its lru field belongs to hagent, which
 * marks it (HAGENT_LRU_MANAGED), so the walk recognises one without a table
 * lookup; the mark is cleared before the folio goes anywhere else.
 *
 * The walk runs under mmap_read_lock and target->lock, and isolates under
 * the page table lock, so an invalidation (which takes target->lock) either
 * happens before a folio is adopted, and the walk no longer sees it, or
 * after, and finds it in the table.  Table and heaps are reserved before each
 * batch because nothing may allocate under the page table lock -- and they
 * are allocated with target->lock dropped (hagent_adopt_reserve()).
 */
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/pagewalk.h>
#include <linux/sched/mm.h>
#include <linux/timekeeping.h>
#include "check.h"
#include "hotplug.h"
#include "overhead.h"
#include "symbols.h"
#include "target.h"

/* Entries adopted between two reservations; the locks drop between batches. */
#define HAGENT_SCAN_BATCH	512

enum { HAGENT_WALK_NEED_ROOM = 1, HAGENT_WALK_BUDGET = 2 };

struct hagent_walk {
	struct hagent_target *t;
	unsigned long budget;	/* mapped entries still to prime in this step */
	unsigned long entries;	/* mapped entries primed by this walk */
	unsigned long resume;	/* where a stopped walk continues */
	u32 room;		/* inserts left before the next reservation */
	struct hagent_abit_tally tally;	/* managed folios primed, or found touched */
	bool cleared;		/* an accessed bit was cleared: flush the TLB */
	bool measure;		/* read the bits of a primed window, adopt nothing */
	bool huge;		/* PMD-mapped folios only: the huge window */
	unsigned long huge_seen, huge_seen_slow;	/* a measure left them to it */
};

static void hagent_skip(struct hagent_target *t, enum hagent_ctr why, unsigned long pages)
{
	t->pass[why] += pages;
}

/* Clears the accessed bit of the mapping the walk is at. */
static bool hagent_walk_young(struct hagent_walk *w, pte_t *ptep, pmd_t *pmdp)
{
	bool young = ptep ? hagent_pte_test_and_clear_young(ptep) :
			    hagent_pmd_test_and_clear_young(pmdp);

	w->cleared |= young;
	return young;
}

static void hagent_walk_primed(struct hagent_walk *w, int nid)
{
	w->tally.primed++;
	if (!node_isset(nid, w->t->fast))
		w->tally.primed_slow++;
}

/*
 * Measuring: one sample for a managed folio whose accessed bit is set,
 * counted with the walk's (hagent_target_measure()).
 */
static void hagent_measure(struct hagent_walk *w, struct folio *folio, u64 vpfn)
{
	struct hagent_entry *e;

	if (!hagent_folio_is_managed(folio))
		return;
	e = hagent_table_lookup(&w->t->table, vpfn);
	if (e && e->folio == folio) {
		hagent_sample_update(w->t, e, 1);
		w->tally.touched++;
		if (e->tier == HAGENT_TIER_SLOW)
			w->tally.touched_slow++;
	}
}

static void hagent_adopt(struct hagent_walk *w, struct vm_area_struct *vma,
			 struct folio *folio, struct page *page, u64 vpfn,
			 pte_t *ptep, pmd_t *pmdp)
{
	bool pmd_mapped = !ptep;
	struct hagent_target *t = w->t;
	unsigned int order = pmd_mapped ? folio_order(folio) : 0;
	unsigned long pages = 1UL << order;
	struct hagent_entry *e;
	enum hagent_tier tier;
	int nid, err;

	/* Priming: clear the bit; the measuring step reads it a window later. */
	if (hagent_abit)
		hagent_walk_young(w, ptep, pmdp);
	if (hagent_folio_is_managed(folio)) {
		hagent_walk_primed(w, folio_nid(folio));
		return;		/* ours already (this process's: mapped exclusively) */
	}
	if (!folio_test_anon(folio))
		return;		/* the huge zero page, a racing file page */
	if (vma->vm_flags & VM_LOCKED)
		return hagent_skip(t, HAGENT_CTR_SKIP_LOCKED, pages);
	/*
	 * KSM's pages, and those it may merge (MADV_MERGEABLE, prctl's
	 * PR_SET_MEMORY_MERGE): a merge attempt fails on a folio hagent holds
	 * or is moving, and KSM makes one attempt per page every other scan.
	 */
	if (folio_test_ksm(folio) || (vma->vm_flags & VM_MERGEABLE))
		return hagent_skip(t, HAGENT_CTR_SKIP_KSM, pages);
	/* Pinned for DMA (RDMA, io_uring, VFIO): it cannot move while it is. */
	if (folio_maybe_dma_pinned(folio))
		return hagent_skip(t, HAGENT_CTR_SKIP_PINNED, pages);
	if (!pmd_mapped && folio_test_large(folio))
		return hagent_skip(t, HAGENT_CTR_SKIP_LARGE_PTE, pages);
	if (!PageAnonExclusive(page) ||
	    (pmd_mapped ? folio_entire_mapcount(folio) : hagent_folio_mapcount_small(folio)) != 1)
		return hagent_skip(t, HAGENT_CTR_SKIP_SHARED, pages);
	nid = folio_nid(folio);
	if (node_isset(nid, t->fast))
		tier = HAGENT_TIER_FAST;
	else if (node_isset(nid, t->slow))
		tier = HAGENT_TIER_SLOW;
	else
		return hagent_skip(t, HAGENT_CTR_SKIP_NODE, pages);
	if (hagent_node_under_pressure(nid))
		return hagent_skip(t, HAGENT_CTR_SKIP_PRESSURE, pages);
	if (hagent_pfn_offlining(folio_pfn(folio), folio_nr_pages(folio)))
		return hagent_skip(t, HAGENT_CTR_SKIP_OFFLINE, pages);
	if (hagent_max_pages && hagent_target_held(t) + pages > hagent_max_pages)
		return hagent_skip(t, HAGENT_CTR_SKIP_CAP, pages);
	/* Room for reclaim in the process's cgroup (memcg.c), which just asked. */
	if (hagent_target_held(t) + pages > READ_ONCE(t->memcg_cap) ||
	    hagent_target_memcg_reclaiming(t))
		return hagent_skip(t, HAGENT_CTR_SKIP_MEMCG, pages);
	if (hagent_table_lookup(&t->table, vpfn))
		return;		/* cannot happen: the notifier gives back first */
	if (hagent_target_invalidating(t, vpfn << PAGE_SHIFT, (vpfn + pages) << PAGE_SHIFT))
		return;		/* being unmapped or split: the next pass sees how it ended */
	/* Fails for a folio in a per-CPU LRU batch or isolated by someone else. */
	if (!HAGENT_ISOLATED(hagent_sym.folio_isolate_lru(folio)))
		return hagent_skip(t, HAGENT_CTR_SKIP_NOT_LRU, pages);

	err = hagent_table_insert(&t->table, vpfn, folio, order, &e);
	if (!err) {
		err = hagent_heap_insert(&t->heap[tier], e);
		if (err)
			hagent_table_delete(&t->table, vpfn);
	}
	if (!HAGENT_CHECK(t, !err, "vpfn=%llx err=%d reserved=%u", vpfn, err, w->room)) {
		hagent_sym.folio_putback_lru(folio);	/* reserved: cannot fail */
		return;
	}
	hagent_folio_mark_managed(folio);
	w->room--;
	t->ctr[tier == HAGENT_TIER_FAST ? HAGENT_CTR_MANAGED_FAST : HAGENT_CTR_MANAGED_SLOW] += pages;
	t->ctr[HAGENT_CTR_MANAGED_FOLIOS]++;
	hagent_target_count(t, HAGENT_CTR_ADOPTED, pages);
	hagent_node_managed_add(nid, pages);
	hagent_walk_primed(w, nid);
}

/*
 * Stops the walk at @addr when the step's budget or the reserved room is
 * used up.  The budget counts mapped entries, a PTE or a PMD mapping a THP
 * alike: a walk's cost is per entry (a lock, a bit, a lookup), whatever the
 * folio's size, so a process in THPs is measured as often as one in base
 * pages of the same entries, not 512 times less often than its pages.
 */
static int hagent_walk_stop(struct hagent_walk *w, unsigned long addr)
{
	if (!w->budget) {
		w->resume = addr;
		return HAGENT_WALK_BUDGET;
	}
	if (!w->room) {
		w->resume = addr;
		return HAGENT_WALK_NEED_ROOM;
	}
	w->budget--;
	w->entries++;
	return 0;
}

/* One PTE of a page table hagent_walk_ptes() holds locked. */
static int hagent_walk_pte(struct hagent_walk *w, struct vm_area_struct *vma,
			   pte_t *ptep, unsigned long addr)
{
	pte_t pte = ptep_get(ptep);
	unsigned long pfn;
	struct page *page;
	int stop;

	if (!pte_present(pte) || pte_special(pte))
		return 0;
	if (w->measure && !pte_young(pte))
		return 0;	/* the common case of a measuring walk: untouched */
	pfn = pte_pfn(pte);
	if (is_zero_pfn(pfn) || !pfn_valid(pfn))
		return 0;
	if (w->measure) {
		hagent_measure(w, page_folio(pfn_to_page(pfn)), addr >> PAGE_SHIFT);
		return 0;
	}
	stop = hagent_walk_stop(w, addr);
	if (stop)
		return stop;
	page = pfn_to_page(pfn);
	hagent_adopt(w, vma, page_folio(page), page, addr >> PAGE_SHIFT, ptep, NULL);
	return 0;
}

/*
 * A page table at a time, under its lock, rather than through the walker's
 * pte_entry, which is an indirect call per PTE (through a retpoline on
 * distribution kernels); a scan step looks at every PTE twice (prime and
 * measure), and most PTEs need nothing but a look.
 */
static int hagent_walk_ptes(struct hagent_walk *w, struct mm_walk *walk, pmd_t *pmd,
			    unsigned long addr, unsigned long end)
{
	pte_t *start, *ptep;
	spinlock_t *ptl;
	int stop = 0;

	start = hagent_pte_map_lock(walk->mm, pmd, addr, &ptl);
	if (!start)
		return 0;	/* not a page table (any more): nothing of ours */
	for (ptep = start; addr < end; ptep++, addr += PAGE_SIZE) {
		stop = hagent_walk_pte(w, walk->vma, ptep, addr);
		if (stop)
			break;
	}
	pte_unmap_unlock(start, ptl);
	return stop;
}

/*
 * A managed PMD-mapped folio in the huge window (under the PMD lock): primed
 * (its bit cleared), or measured.
 */
static void hagent_walk_huge(struct hagent_walk *w, pmd_t *pmd, pmd_t val, unsigned long addr)
{
	struct folio *folio = page_folio(pmd_page(val));

	if (!hagent_folio_is_managed(folio))
		return;
	if (w->measure) {
		if (pmd_young(val))
			hagent_measure(w, folio, (addr & HPAGE_PMD_MASK) >> PAGE_SHIFT);
		return;
	}
	hagent_walk_young(w, NULL, pmd);
	hagent_walk_primed(w, folio_nid(folio));
}

static int hagent_walk_pmd(pmd_t *pmd, unsigned long addr, unsigned long next,
			   struct mm_walk *walk)
{
	struct hagent_walk *w = walk->private;
	spinlock_t *ptl;
	struct page *page;
	pmd_t val;
	int stop;

	walk->action = ACTION_CONTINUE;	/* never let the walker split a THP */
	if (!pmd_trans_huge(READ_ONCE(*pmd)))
		return w->huge ? 0 : hagent_walk_ptes(w, walk, pmd, addr, next);
	ptl = pmd_lock(walk->mm, pmd);
	val = *pmd;
	if (!pmd_trans_huge(val)) {
		spin_unlock(ptl);	/* split meanwhile: walk its PTEs */
		return w->huge ? 0 : hagent_walk_ptes(w, walk, pmd, addr, next);
	}
	if (w->huge) {
		if (pmd_present(val))
			hagent_walk_huge(w, pmd, val, addr);
		spin_unlock(ptl);
		return 0;
	}
	if (w->measure) {
		/* Not measured here: the huge window that follows does. */
		if (pmd_present(val) && hagent_folio_is_managed(page_folio(pmd_page(val)))) {
			w->huge_seen++;
			if (!node_isset(folio_nid(page_folio(pmd_page(val))), w->t->fast))
				w->huge_seen_slow++;
		}
		spin_unlock(ptl);
		return 0;
	}
	stop = pmd_present(val) ? hagent_walk_stop(w, addr) : 0;
	if (!stop && pmd_present(val)) {
		page = pmd_page(val);
		hagent_adopt(w, walk->vma, page_folio(page), page,
			     (addr & HPAGE_PMD_MASK) >> PAGE_SHIFT, NULL, pmd);
	}
	spin_unlock(ptl);
	return stop;
}

static int hagent_walk_hugetlb(pte_t *ptep, unsigned long hmask, unsigned long addr,
			       unsigned long next, struct mm_walk *walk)
{
	struct hagent_walk *w = walk->private;

	if (!w->measure && pte_present(hagent_huge_ptep_get(walk->mm, addr, ptep)))
		hagent_skip(w->t, HAGENT_CTR_SKIP_HUGETLB, (next - addr) >> PAGE_SHIFT);
	return 0;
}

/* Private anonymous VMAs only; private hugetlb ones are walked to be counted. */
static int hagent_walk_test(unsigned long start, unsigned long end, struct mm_walk *walk)
{
	struct vm_area_struct *vma = walk->vma;

	if (vma->vm_flags & (VM_SHARED | VM_IO | VM_PFNMAP | VM_MIXEDMAP))
		return 1;
	if (is_vm_hugetlb_page(vma))
		return 0;
	return vma_is_anonymous(vma) ? 0 : 1;
}

static const struct mm_walk_ops hagent_adopt_ops = {
	.pmd_entry = hagent_walk_pmd,
	.hugetlb_entry = hagent_walk_hugetlb,
	.test_walk = hagent_walk_test,
	HAGENT_WALK_LOCK
};

static void hagent_pass_done(struct hagent_target *t, struct hagent_walk *w)
{
	int i;

	t->pass_entries = t->scan_entries + w->entries;
	t->scan_entries = w->entries = 0;

	for (i = 0; i < HAGENT_CTR_NR; i++) {
		if (hagent_ctr_kinds[i] != 'P')
			continue;
		t->ctr[i] = t->pass[i];
		t->pass[i] = 0;
	}
	hagent_target_count(t, HAGENT_CTR_SCANS, 1);
	t->scan_cursor = 0;
}

void hagent_target_measure(struct hagent_target *t, struct hagent_abit_tally *sum)
{
	struct hagent_walk w = { .t = t, .budget = ULONG_MAX, .measure = true };
	struct mm_struct *mm = t->mm;

	if (!mmget_not_zero(mm))
		return;
	if (!mmap_read_trylock(mm)) {	/* the window is lost, not waited for */
		hagent_overhead_count_trylock_fail();
		mmput(mm);
		return;
	}
	mutex_lock(&t->lock);
	t->huge_start = t->huge_end = 0;
	if (!t->dead && t->window_end > t->window_start) {
		unsigned long primed, primed_slow;
		u64 us;

		hagent_sym.walk_page_range(mm, t->window_start, t->window_end,
					   &hagent_adopt_ops, &w);
		us = div_u64(ktime_get_ns() - t->primed_ns, NSEC_PER_USEC);
		/* The PMD-mapped folios are the huge window's to count. */
		primed = t->window_primed - min(t->window_primed, w.huge_seen);
		primed_slow = t->window_primed_slow - min(t->window_primed_slow, w.huge_seen_slow);
		hagent_target_count(t, HAGENT_CTR_ABIT_WINDOWS, 1);
		hagent_target_count(t, HAGENT_CTR_ABIT_WINDOW_US, us);
		hagent_target_count(t, HAGENT_CTR_ABIT_PRIMED, primed);
		hagent_sample_account(t, HAGENT_SRC_ABIT, w.tally.touched - w.tally.touched_slow,
				      w.tally.touched_slow);
		sum->primed += primed;
		sum->primed_slow += primed_slow;
		sum->touched += w.tally.touched;
		sum->touched_slow += w.tally.touched_slow;
		if (primed) {
			sum->windows++;
			sum->window_us += us;
		}
		if (w.huge_seen) {
			t->huge_start = t->window_start;
			t->huge_end = t->window_end;
		}
	}
	t->window_start = t->window_end = 0;
	mutex_unlock(&t->lock);
	mmap_read_unlock(mm);
	mmput(mm);
}

/*
 * The huge window.  A PMD-mapped THP is one accessed bit for 512 pages: in
 * a window long enough to tell a base page touched a few times a second
 * from one touched hundreds of times, nearly every THP of a busy process is
 * touched, the hot and the cold alike (measured: every THP in every window,
 * so no THP ranked above another and nothing moved).  So the THPs of a
 * measured range get a second, short window of their own, and only it
 * counts for them.  pace.c makes it HPAGE_PMD_NR times shorter than the
 * base pages' window: a THP is then counted touched at the same access rate
 * per base page as a base page is, and their counts share one scale.
 * hagent_target_huge_measure() returns how long the window lasted (us; 0:
 * not measured), from the end of the priming flush to the end of its walk.
 */
bool hagent_target_huge_prime(struct hagent_target *t)
{
	struct hagent_walk w = { .t = t, .budget = ULONG_MAX, .huge = true };
	struct mm_struct *mm = t->mm;
	bool primed = false;

	if (t->huge_end <= t->huge_start || !mmget_not_zero(mm))
		return false;
	if (!mmap_read_trylock(mm)) {
		hagent_overhead_count_trylock_fail();
		t->huge_start = t->huge_end = 0;
		mmput(mm);
		return false;
	}
	mutex_lock(&t->lock);
	if (!t->dead) {
		hagent_sym.walk_page_range(mm, t->huge_start, t->huge_end, &hagent_adopt_ops, &w);
		if (w.cleared) {
			hagent_sym.flush_tlb_mm_range(mm, t->huge_start, t->huge_end, PMD_SHIFT, false);
			hagent_target_count(t, HAGENT_CTR_ABIT_FLUSHES, 1);
		}
		primed = w.tally.primed;
	}
	t->huge_primed = w.tally.primed;
	t->huge_primed_slow = w.tally.primed_slow;
	t->huge_primed_ns = ktime_get_ns();
	if (!primed)
		t->huge_start = t->huge_end = 0;
	mutex_unlock(&t->lock);
	mmap_read_unlock(mm);
	mmput(mm);
	return primed;
}

u64 hagent_target_huge_measure(struct hagent_target *t, struct hagent_abit_tally *sum)
{
	struct hagent_walk w = { .t = t, .budget = ULONG_MAX, .huge = true, .measure = true };
	struct mm_struct *mm = t->mm;
	u64 us = 0;

	if (t->huge_end <= t->huge_start || !mmget_not_zero(mm))
		return 0;
	if (!mmap_read_trylock(mm)) {
		hagent_overhead_count_trylock_fail();
		t->huge_start = t->huge_end = 0;
		mmput(mm);
		return 0;
	}
	mutex_lock(&t->lock);
	if (!t->dead) {
		hagent_sym.walk_page_range(mm, t->huge_start, t->huge_end, &hagent_adopt_ops, &w);
		us = max_t(u64, div_u64(ktime_get_ns() - t->huge_primed_ns, NSEC_PER_USEC), 1);
		hagent_target_count(t, HAGENT_CTR_ABIT_HUGE_WINDOWS, 1);
		hagent_target_count(t, HAGENT_CTR_ABIT_HUGE_WINDOW_US, us);
		hagent_target_count(t, HAGENT_CTR_ABIT_HUGE_PRIMED, t->huge_primed);
		hagent_sample_account(t, HAGENT_SRC_ABIT, w.tally.touched - w.tally.touched_slow,
				      w.tally.touched_slow);
		sum->primed += t->huge_primed;
		sum->primed_slow += t->huge_primed_slow;
		sum->touched += w.tally.touched;
		sum->touched_slow += w.tally.touched_slow;
	}
	t->huge_start = t->huge_end = 0;
	mutex_unlock(&t->lock);
	mmap_read_unlock(mm);
	mmput(mm);
	return us;
}

/*
 * Room for @n more folios in the table and both heaps.  Called and returns
 * with t->lock held, but allocates with it dropped: a GFP_KERNEL allocation
 * may enter direct reclaim, and reclaim unmapping a page of this very
 * process (a file page it maps, an anonymous page not adopted yet) calls its
 * notifier through try_to_unmap_one() -> mmu_notifier_invalidate_range_start()
 * with a blockable range, which takes t->lock: under the lock, hagentd
 * would wait for itself (target.c primes lockdep with that order, so a
 * debug kernel reports any allocation put back under the lock).  The lock
 * is dropped only when
 * something must grow -- a few times as a process grows -- at a point where
 * the scan lets the notifier in anyway, between batches.  Only hagentd
 * inserts, so what was allocated still fits; what the notifier removed
 * meanwhile only leaves more room.  -ESRCH: the process went away meanwhile.
 */
static int hagent_adopt_reserve(struct hagent_target *t, u32 n)
{
	struct hagent_table_spare ts = {};
	struct hagent_heap_spare hs[__HAGENT_TIER_LAST] = {};
	u32 tcap, hcap[__HAGENT_TIER_LAST];
	int err, i;

	err = hagent_table_want(&t->table, n, &tcap);
	for (i = 0; i < __HAGENT_TIER_LAST && !err; i++)
		err = hagent_heap_want(&t->heap[i], n, &hcap[i]);
	if (err || !(tcap | hcap[HAGENT_TIER_FAST] | hcap[HAGENT_TIER_SLOW]))
		return err;
	mutex_unlock(&t->lock);
	if (tcap)
		err = hagent_table_spare_alloc(&ts, tcap);
	for (i = 0; i < __HAGENT_TIER_LAST && !err; i++)
		if (hcap[i])
			err = hagent_heap_spare_alloc(&hs[i], hcap[i]);
	mutex_lock(&t->lock);
	if (!err && t->dead)
		err = -ESRCH;
	if (!err) {
		hagent_table_spare_install(&t->table, &ts);
		for (i = 0; i < __HAGENT_TIER_LAST; i++)
			hagent_heap_spare_install(&t->heap[i], &hs[i]);
	}
	hagent_table_spare_free(&ts);	/* whatever was not installed */
	for (i = 0; i < __HAGENT_TIER_LAST; i++)
		hagent_heap_spare_free(&hs[i]);
	return err;
}

/*
 * One scan step: prime (and adopt in) the next @budget pages from where the
 * last step stopped; that is the window hagent_target_measure() reads.
 * @full primes the whole address space from 0, ignoring the budget (enable).
 */
void hagent_target_scan(struct hagent_target *t, unsigned long budget, bool full)
{
	struct mm_struct *mm = t->mm;
	struct hagent_walk w = { .t = t, .budget = budget };
	unsigned long start, end = mm->task_size;
	int ret;

	if (!mmget_not_zero(mm))
		return;		/* exiting: ->release does the rest */
	/* Fresh faults sit in per-CPU batches: the callers drain them first. */
	/*
	 * A periodic step never waits for the mmap_lock: when the process (or
	 * anyone) holds it for writing, the step is skipped and counted.
	 * Enabling waits: it must adopt.
	 */
	if (full) {
		mmap_read_lock(mm);
	} else if (!mmap_read_trylock(mm)) {
		hagent_overhead_count_trylock_fail();
		mmput(mm);
		return;
	}
	mutex_lock(&t->lock);
	start = full ? 0 : t->scan_cursor;
	t->window_start = start;
	t->primed_ns = ktime_get_ns();
	if (full)
		memset(t->pass, 0, sizeof(t->pass));
	while (!t->dead) {
		if (hagent_adopt_reserve(t, HAGENT_SCAN_BATCH) || t->dead)
			break;		/* no memory: try again next pass */
		w.room = HAGENT_SCAN_BATCH;
		ret = hagent_sym.walk_page_range(mm, start, end, &hagent_adopt_ops, &w);
		if (w.cleared) {
			/*
			 * Without a flush a cached translation keeps the CPU from
			 * setting the bit again, and a hot page looks cold.
			 */
			hagent_sym.flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL, PAGE_SHIFT, false);
			hagent_target_count(t, HAGENT_CTR_ABIT_FLUSHES, 1);
			w.cleared = false;
		}
		if (ret == HAGENT_WALK_BUDGET) {
			t->scan_cursor = w.resume;
			break;
		}
		if (ret != HAGENT_WALK_NEED_ROOM) {
			w.resume = end;
			hagent_pass_done(t, &w);
			break;
		}
		start = w.resume;
		/* Let faults, unmaps and the notifier in between batches. */
		mutex_unlock(&t->lock);
		mmap_read_unlock(mm);
		cond_resched();
		if (full) {
			mmap_read_lock(mm);
		} else if (!mmap_read_trylock(mm)) {
			hagent_overhead_count_trylock_fail();
			mutex_lock(&t->lock);
			t->scan_cursor = start;	/* resume here next step */
			t->scan_entries += w.entries;
			t->window_end = hagent_abit ? start : t->window_start;
			t->window_primed = w.tally.primed;
			t->window_primed_slow = w.tally.primed_slow;
			mutex_unlock(&t->lock);
			mmput(mm);
			return;
		}
		mutex_lock(&t->lock);
	}
	t->scan_entries += w.entries;
	/* What this step primed is measured once the window has lasted. */
	t->window_end = t->dead || full || !hagent_abit ? t->window_start :
			max(w.resume, t->window_start);
	t->window_primed = w.tally.primed;
	t->window_primed_slow = w.tally.primed_slow;
	mutex_unlock(&t->lock);
	mmap_read_unlock(mm);
	mmput(mm);
}

/*
 * A long-term pin (FOLL_LONGTERM: io_uring fixed buffers, RDMA, VFIO) of a
 * folio in ZONE_MOVABLE or CMA must first migrate it out, and GUP retries
 * for as long as it cannot isolate the folio from the LRU
 * (check_and_migrate_movable_folios() returns -EAGAIN): for a managed folio,
 * forever.  GUP holds the pin for most of each try and tells no one, so
 * hagentd looks: every round a slice of the table, and a pinned folio goes
 * back (released.pinned; adoption then skips it while pinned).  A pin in
 * other memory needs no migration; its folio goes back too, as it would at
 * its first failed move.  The slice bounds the cost per round: reading a
 * folio's refcount, HAGENT_PIN_SWEEP of them.
 */
#define HAGENT_PIN_SWEEP	16384

void hagent_target_sweep_pinned(struct hagent_target *t)
{
	struct hagent_entry *e;
	u32 n;

	mutex_lock(&t->lock);
	for (n = 0; !t->dead && n < HAGENT_PIN_SWEEP; n++) {
		e = hagent_table_next(&t->table, &t->pin_cursor);
		if (!e) {
			t->pin_cursor = 0;	/* from the start next round */
			break;
		}
		if (folio_maybe_dma_pinned(e->folio))
			hagent_target_release_entry(t, e, HAGENT_CTR_REL_PINNED);
	}
	mutex_unlock(&t->lock);
}

#define HAGENT_REVALIDATE_BATCH	4096

void hagent_target_revalidate(struct hagent_target *t)
{
	struct hagent_entry *e;
	u32 cursor, fast, slow, n = 0;

	mutex_lock(&t->lock);
	/* Cheap invariants every pass: every entry is in one heap, and counted. */
	fast = hagent_heap_count(&t->heap[HAGENT_TIER_FAST]);
	slow = hagent_heap_count(&t->heap[HAGENT_TIER_SLOW]);
	if (!t->dead &&
	    (!HAGENT_CHECK(t, hagent_table_count(&t->table) == fast + slow,
			   "entries=%u fast=%u slow=%u", hagent_table_count(&t->table), fast, slow) ||
	     !HAGENT_CHECK(t, t->ctr[HAGENT_CTR_MANAGED_FOLIOS] == hagent_table_count(&t->table),
			   "managed_folios=%llu entries=%u", t->ctr[HAGENT_CTR_MANAGED_FOLIOS],
			   hagent_table_count(&t->table)))) {
		mutex_unlock(&t->lock);
		return;
	}
	/*
	 * In batches, letting the notifier in between: only hagentd inserts,
	 * so entry ids stay put while the lock is dropped.
	 */
	cursor = 0;
	while (!t->dead && (e = hagent_table_next(&t->table, &cursor))) {
		if (!folio_mapped(e->folio)) {
			hagent_target_count(t, HAGENT_CTR_ORPHANS, 1);
			hagent_target_release_entry(t, e, HAGENT_CTR_REL_ORPHAN);
		}
		hagent_target_yield_every(t, &n, HAGENT_REVALIDATE_BATCH);
	}
	mutex_unlock(&t->lock);
}
