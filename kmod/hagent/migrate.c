// SPDX-License-Identifier: GPL-2.0
/*
 * One batch of migrations and its accounting.
 *
 * A managed folio is already what migrate_pages() wants: isolated, with the
 * isolation reference hagent holds.  So a batch is the folios themselves,
 * linked through folio->lru (which drops the "managed" mark target.h puts
 * there), handed over with NR_ISOLATED_ANON raised for
 * exactly the time they are in flight (migrate_pages() lowers it for what it
 * moves, hagent for what it gives back).  The reason is MR_NUMA_MISPLACED in
 * both directions: it is the reason under which migrate_pages() never splits
 * a THP that fails to move (a managed THP is one entry), and MR_DEMOTION
 * would skip the NR_ISOLATED_ANON decrement on 6.1.  The allocation callback
 * asks for the source folio's order on one node, with no reclaim, no
 * fallback and no warning: placement never forces memory out or onto a
 * third node.
 *
 * While a folio is in flight its entry stays in the table, out of both heaps,
 * marked HAGENT_EF_MIGRATING.  Our own notifier fires during the move and
 * leaves such entries alone, and so does every other give-back path
 * (target.c); hagent_targets_lock, held throughout by the caller, keeps the
 * target from being destroyed meanwhile.  Whatever happened to the mapping
 * during the move (munmap, mremap, fork, exit), the settle step finds out
 * from the page table itself: under mmap_read_lock, target->lock and the
 * page table lock it looks at what is mapped at the entry's address now.
 * An exclusive anonymous folio of the entry's order -- the destination, or
 * the source if the move failed -- is managed again (taken off the LRU if it
 * is the destination); anything else and the entry is given up, as it is
 * when a mapping change is under way there (target.h: inval_count): the
 * folio found would be unmapped under hagent's hold.
 */
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/migrate.h>
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <linux/pagewalk.h>
#include <linux/sched/mm.h>
#include <linux/sort.h>
#include <linux/timekeeping.h>
#include <linux/vmstat.h>
#include "check.h"
#include "migrate.h"
#include "overhead.h"
#include "symbols.h"
#include "tier.h"

static unsigned int hagent_fail_alloc;
module_param_named(fail_alloc, hagent_fail_alloc, uint, 0644);
MODULE_PARM_DESC(fail_alloc, "Fault injection for tests: make this percentage of migration allocations fail (default 0)");

struct hagent_alloc_ctx {
	int nid;
	unsigned int failed;	/* allocations that found no page */
};

static struct folio *hagent_alloc_dst(struct folio *src, unsigned long private)
{
	struct hagent_alloc_ctx *c = (struct hagent_alloc_ctx *)private;
	unsigned int order = folio_order(src);
	gfp_t gfp = order ? GFP_TRANSHUGE_LIGHT | __GFP_THISNODE :
		    (GFP_HIGHUSER_MOVABLE | __GFP_THISNODE | __GFP_NOMEMALLOC |
		     __GFP_NORETRY | __GFP_NOWARN) & ~__GFP_RECLAIM;
	struct folio *dst = NULL;

	if (!hagent_fail_alloc || get_random_u32_below(100) >= hagent_fail_alloc)
		dst = __folio_alloc_node(gfp, order, c->nid);
	if (!dst)
		c->failed++;
	return dst;
}

HAGENT_DEFINE_NEW(hagent_alloc_cb, hagent_alloc_dst)

int hagent_batch_init(struct hagent_batch *b, u32 cap)
{
	memset(b, 0, sizeof(*b));
	b->moves = kvcalloc(cap, sizeof(*b->moves), GFP_KERNEL);
	b->sorted = kvcalloc(cap, sizeof(*b->sorted), GFP_KERNEL);
	if (!b->moves || !b->sorted) {
		hagent_batch_destroy(b);
		return -ENOMEM;
	}
	b->cap = cap;
	return 0;
}

void hagent_batch_destroy(struct hagent_batch *b)
{
	kvfree(b->moves);
	kvfree(b->sorted);
	memset(b, 0, sizeof(*b));
}

void hagent_batch_add(struct hagent_target *t, struct hagent_batch *b,
		      struct hagent_entry *e, enum hagent_tier to)
{
	struct hagent_move *m = &b->moves[b->nr++];
	unsigned long pages = 1UL << e->order;
	int err;

	m->src = e->folio;
	m->id = hagent_table_id(&t->table, e);
	m->to = to;
	m->failed = 0;
	err = hagent_heap_delete(&t->heap[e->tier], e);
	HAGENT_CHECK(t, !err, "vpfn=%llx err=%d", e->vpfn, err);
	e->flags |= HAGENT_EF_MIGRATING;
	b->pages[to] += pages;
	/* In flight: counted on a node again once settled. */
	hagent_node_managed_add(folio_nid(m->src), -(long)pages);
}

static int hagent_cmp_ptr(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

static bool hagent_batch_gave_back(struct hagent_batch *b, u32 n, struct folio *f)
{
	u32 lo = 0, hi = n;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (b->sorted[mid] == f)
			return true;
		if ((unsigned long)b->sorted[mid] < (unsigned long)f)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Why migrate_pages() gave @f back, judged from the folio after the call. */
static enum hagent_ctr hagent_fail_reason(struct folio *f, int rc, unsigned int alloc_failed)
{
	if (rc == -ENOMEM)
		return alloc_failed ? HAGENT_CTR_MIG_FAIL_ALLOC : HAGENT_CTR_MIG_FAIL_ENOMEM;
	if (folio_test_writeback(f))
		return HAGENT_CTR_MIG_FAIL_EBUSY;
	/*
	 * Our isolation reference plus one per mapping is all a movable folio
	 * has (managed large folios are PMD-mapped only).
	 */
	if (folio_ref_count(f) > 1 + (folio_test_large(f) ? folio_entire_mapcount(f) :
				      hagent_folio_mapcount_small(f)) ||
	    folio_test_locked(f))
		return HAGENT_CTR_MIG_FAIL_EAGAIN;
	if (alloc_failed)
		return HAGENT_CTR_MIG_FAIL_ALLOC;
	return HAGENT_CTR_MIG_FAIL_OTHER;
}

/* The node of @mask with the most free memory above its high watermarks. */
static int hagent_pick_node(const nodemask_t *mask)
{
	long best = LONG_MIN, avail;
	int nid, pick = first_node(*mask);

	for_each_node_mask(nid, *mask) {
		avail = hagent_node_avail_pages(nid);
		if (avail > best) {
			best = avail;
			pick = nid;
		}
	}
	return pick;
}

/* Moves every folio of @b bound for @to; marks the ones given back. Returns the pages moved. */
static unsigned long hagent_batch_move(struct hagent_target *t, struct hagent_batch *b,
			      enum hagent_tier to)
{
	struct hagent_alloc_ctx ctx = {
		.nid = hagent_pick_node(to == HAGENT_TIER_FAST ? &t->fast : &t->slow),
	};
	unsigned long moved = b->pages[to];
	unsigned int succeeded = 0, n = 0;
	struct folio *f, *tmp;
	u64 t0, t1, c0;
	LIST_HEAD(list);
	u32 i;
	int rc;

	if (!b->pages[to])
		return 0;
	for (i = 0; i < b->nr; i++) {
		if (b->moves[i].to != to)
			continue;
		f = b->moves[i].src;
		list_add_tail(&f->lru, &list);
		mod_node_page_state(folio_pgdat(f), NR_ISOLATED_ANON, folio_nr_pages(f));
	}
	t0 = ktime_get_ns();
	c0 = hagent_task_cpu_ns(current);
	rc = hagent_sym.migrate_pages(&list, hagent_alloc_cb, NULL, (unsigned long)&ctx,
				      MIGRATE_ASYNC, MR_NUMA_MISPLACED, &succeeded);
	hagent_gctr_add(HAGENT_GCTR_POLICY_MIGRATE_CPU_NS, hagent_task_cpu_ns(current) - c0);
	t1 = ktime_get_ns();
	hagent_gctr_add(HAGENT_GCTR_POLICY_MIGRATE_NS, t1 - t0);
	/* What is left on the list was given back, still isolated and ours. */
	list_for_each_entry_safe(f, tmp, &list, lru) {
		list_del_init(&f->lru);
		mod_node_page_state(folio_pgdat(f), NR_ISOLATED_ANON, -folio_nr_pages(f));
		if (HAGENT_CHECK(t, n < b->cap, "given_back=%u cap=%u", n, b->cap))
			b->sorted[n++] = f;
		else
			hagent_sym.folio_putback_lru(f);
	}
	sort(b->sorted, n, sizeof(*b->sorted), hagent_cmp_ptr, NULL);
	for (i = 0; i < b->nr; i++) {
		struct hagent_move *m = &b->moves[i];

		if (m->to == to && hagent_batch_gave_back(b, n, m->src)) {
			m->failed = hagent_fail_reason(m->src, rc, ctx.failed);
			moved -= folio_nr_pages(m->src);
		}
	}
	hagent_overhead_migrate_ns(t1 - t0, moved);
	return moved;
}

struct hagent_settle {
	struct hagent_entry *e;
	struct folio *src;	/* the folio hagent still holds, or NULL */
	struct folio *found;	/* the folio managed for the entry from now on */
};

static bool hagent_settle_ok(struct vm_area_struct *vma, struct folio *folio,
			     struct page *page, unsigned int order, bool pmd)
{
	return folio_test_anon(folio) && !folio_test_ksm(folio) &&
	       !(vma->vm_flags & VM_LOCKED) && folio_order(folio) == order &&
	       PageAnonExclusive(page) &&
	       (pmd ? folio_entire_mapcount(folio) : hagent_folio_mapcount_small(folio)) == 1;
}

/* Under the page table lock: the folio mapped at the entry's address. */
static void hagent_settle_take(struct hagent_settle *s, struct vm_area_struct *vma,
			       struct page *page, bool pmd)
{
	struct folio *folio = page_folio(page);

	if (!hagent_settle_ok(vma, folio, page, s->e->order, pmd))
		return;
	if (folio == s->src)
		s->found = folio;	/* did not move, still ours */
	else if (HAGENT_ISOLATED(hagent_sym.folio_isolate_lru(folio)))
		s->found = folio;
}

static int hagent_settle_pmd(pmd_t *pmd, unsigned long addr, unsigned long next,
			     struct mm_walk *walk)
{
	struct hagent_settle *s = walk->private;
	spinlock_t *ptl;
	pmd_t val;

	if (!pmd_trans_huge(READ_ONCE(*pmd)))
		return 0;
	walk->action = ACTION_CONTINUE;
	ptl = pmd_lock(walk->mm, pmd);
	val = *pmd;
	if (pmd_trans_huge(val) && pmd_present(val) && s->e->order == HPAGE_PMD_ORDER)
		hagent_settle_take(s, walk->vma, pmd_page(val), true);
	spin_unlock(ptl);
	return 1;
}

static int hagent_settle_pte(pte_t *ptep, unsigned long addr, unsigned long next,
			     struct mm_walk *walk)
{
	struct hagent_settle *s = walk->private;
	pte_t pte = ptep_get(ptep);
	unsigned long pfn;

	if (s->e->order || !pte_present(pte) || pte_special(pte))
		return 1;
	pfn = pte_pfn(pte);
	if (is_zero_pfn(pfn) || !pfn_valid(pfn))
		return 1;
	hagent_settle_take(s, walk->vma, pfn_to_page(pfn), false);
	return 1;
}

static int hagent_settle_test(unsigned long start, unsigned long end, struct mm_walk *walk)
{
	struct vm_area_struct *vma = walk->vma;

	if (!vma_is_anonymous(vma) || is_vm_hugetlb_page(vma) ||
	    (vma->vm_flags & (VM_SHARED | VM_IO | VM_PFNMAP | VM_MIXEDMAP)))
		return 1;
	return 0;
}

static const struct mm_walk_ops hagent_settle_ops = {
	.pmd_entry = hagent_settle_pmd,
	.pte_entry = hagent_settle_pte,
	.test_walk = hagent_settle_test,
	HAGENT_WALK_LOCK
};

/* Under t->lock (and mmap_read_lock when @live): one move's outcome. */
static void hagent_settle_one(struct hagent_target *t, struct hagent_move *m, bool live)
{
	struct hagent_entry *e = hagent_table_entry(&t->table, m->id);
	struct hagent_settle s = { .e = e, .src = m->failed ? m->src : NULL };
	unsigned long pages = 1UL << e->order, addr = e->vpfn << PAGE_SHIFT;
	enum hagent_tier was = e->tier, now;
	bool changing;
	int nid, err;

	if (!HAGENT_CHECK(t, e->live && (e->flags & HAGENT_EF_MIGRATING),
			  "id=%u live=%d flags=%x", m->id, e->live, e->flags)) {
		if (s.src)	/* cannot tell whose it is now: leak nothing */
			hagent_sym.folio_putback_lru(s.src);
		return;
	}
	e->flags &= ~HAGENT_EF_MIGRATING;
	/*
	 * A mapping change under way (its notifier found the entry in flight
	 * and left it) is about to unmap or split what the walk would find:
	 * the entry is given up instead.
	 */
	changing = live && hagent_target_invalidating(t, addr, addr + (PAGE_SIZE << e->order));
	if (live && !changing)
		hagent_sym.walk_page_range(t->mm, addr, addr + (PAGE_SIZE << e->order),
					   &hagent_settle_ops, &s);

	/* The move's own accounting: every attempted page lands in one counter. */
	if (m->failed)
		hagent_target_count(t, m->failed, pages);
	else if (s.found || !live || changing)
		hagent_target_count(t, m->to == HAGENT_TIER_FAST ? HAGENT_CTR_PROMOTED :
								    HAGENT_CTR_DEMOTED, pages);
	else
		hagent_target_count(t, HAGENT_CTR_MIG_FAIL_ISOLATION, pages);

	if (s.src && s.found != s.src)
		hagent_sym.folio_putback_lru(s.src);	/* moved away or unmapped meanwhile */
	if (!s.found) {
		hagent_target_drop_entry(t, e, live ? HAGENT_CTR_REL_MIGRATE : t->dead_reason);
		return;
	}
	nid = folio_nid(s.found);
	now = node_isset(nid, t->fast) ? HAGENT_TIER_FAST : HAGENT_TIER_SLOW;
	/*
	 * A failed move backs off: at half its count the folio falls behind
	 * the others at the top of its heap, instead of being planned again
	 * next round (and having room made for it again) before anything changed.
	 */
	if (m->failed && s.found == s.src)
		e->hot >>= 1;
	e->folio = s.found;
	hagent_folio_mark_managed(s.found);
	if (now != was) {
		t->ctr[was == HAGENT_TIER_FAST ? HAGENT_CTR_MANAGED_FAST : HAGENT_CTR_MANAGED_SLOW] -= pages;
		t->ctr[now == HAGENT_TIER_FAST ? HAGENT_CTR_MANAGED_FAST : HAGENT_CTR_MANAGED_SLOW] += pages;
	}
	hagent_node_managed_add(nid, pages);
	err = hagent_heap_insert(&t->heap[now], e);	/* room: it left a heap in this batch */
	HAGENT_CHECK(t, !err, "vpfn=%llx err=%d", e->vpfn, err);
	/*
	 * Pinned for DMA since it was adopted: it will not move while the pin
	 * lasts, so it goes back instead of failing every round; the scan
	 * leaves it alone while it stays pinned (skipped.pinned).
	 */
	if (m->failed && s.found == s.src && folio_maybe_dma_pinned(s.found))
		hagent_target_release_entry(t, e, HAGENT_CTR_REL_PINNED);
}

unsigned long hagent_batch_run(struct hagent_target *t, struct hagent_batch *b)
{
	struct mm_struct *mm = t->mm;
	unsigned long moved;
	bool got, live;
	u64 t0;
	u32 i;

	lockdep_assert_held(&hagent_targets_lock);
	hagent_target_count(t, HAGENT_CTR_MIG_ATTEMPTED,
			    b->pages[HAGENT_TIER_FAST] + b->pages[HAGENT_TIER_SLOW]);
	if (b->pages[HAGENT_TIER_FAST] && b->pages[HAGENT_TIER_SLOW])
		hagent_target_count(t, HAGENT_CTR_EXCHANGES, 1);
	moved = hagent_batch_move(t, b, HAGENT_TIER_SLOW);
	moved += hagent_batch_move(t, b, HAGENT_TIER_FAST);
	/* Destinations sit in per-CPU LRU batches until drained. */
	hagent_sym.lru_add_drain_all();

	t0 = ktime_get_ns();
	got = mmget_not_zero(mm);
	if (got)
		mmap_read_lock(mm);
	mutex_lock(&t->lock);
	/* Exiting: ->release gave back the rest and left these to us. */
	live = got && !t->dead;
	if (!live && !t->dead)
		t->dead_reason = HAGENT_CTR_REL_EXIT;
	for (i = 0; i < b->nr; i++)
		hagent_settle_one(t, &b->moves[i], live);
	mutex_unlock(&t->lock);
	if (got) {
		mmap_read_unlock(mm);
		mmput(mm);
	}
	hagent_gctr_add(HAGENT_GCTR_POLICY_SETTLE_NS, ktime_get_ns() - t0);
	b->nr = 0;
	b->pages[HAGENT_TIER_FAST] = b->pages[HAGENT_TIER_SLOW] = 0;
	return moved;
}
