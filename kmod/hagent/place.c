// SPDX-License-Identifier: GPL-2.0
/*
 * Placement, across all targets at once (one fast tier is shared).
 *
 * Each step first computes the bar (plan.h) from every target's histograms:
 * the least access count whose pages, with every hotter one, fit in the
 * fast tier -- the managed fast pages plus the free room of the fast nodes.
 * With fair_share (the default), when the workloads (a followed tree, a
 * managed cgroup, a process on its own) want more than the fast tier holds
 * -- pages hot enough to promote -- it is split among them max-min fairly,
 * and each workload gets the bar of its own share; a folio is then a
 * victim for another workload's only below its own workload's bar: when
 * colder by more than the hysteresis, as on one scale, or however hot while
 * its workload holds more than its share and the other less, each by more
 * than a margin (an eighth of an even split).  Otherwise one bar for all:
 * the hottest pages win whoever owns them.
 * Then, in rounds:
 *   - the hottest slow folio of any target, if it is at or above the bar
 *     (and promote_min, and the hysteresis), is promoted into free fast
 *     memory above the high watermarks plus fast_reserve_mb, with the rest
 *     of its target's folios above the bar in the same batch;
 *   - without room, the coldest fast folio of any target whose fast nodes
 *     overlap makes room if it is below the bar and colder by more than the
 *     hysteresis: its own target's in the same batch, another target's in a
 *     batch of their own first, as many pages as the promoting target has
 *     above the bar.
 * A batch holds at most migrate_batch folios and is run by migrate.c
 * (demotions first).  A token bucket limits all targets together to
 * migrate_mbps MB/s, and a step ends at its deadline, batch sizes following
 * what a page has lately cost to move: slow migration (6.1 unmaps page by
 * page, one TLB shootdown each) never starves sampling.
 */
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/timekeeping.h>
#include "check.h"
#include "migrate.h"
#include "netlink.h"
#include "pace.h"
#include "place.h"
#include "plan.h"
#include "target.h"
#include "tier.h"

bool hagent_placement = true;
module_param_named(placement, hagent_placement, bool, 0644);
MODULE_PARM_DESC(placement, "Move folios between tiers; off: rank only (default on)");

unsigned int hagent_migrate_mbps = 256;
module_param_named(migrate_mbps, hagent_migrate_mbps, uint, 0644);
MODULE_PARM_DESC(migrate_mbps, "Most MB/s migrated, all processes together (default 256)");

unsigned int hagent_migrate_batch = 1024;
module_param_named(migrate_batch, hagent_migrate_batch, uint, 0644);
MODULE_PARM_DESC(migrate_batch, "Most folios in one batch of migrations, 16..65536 (default 1024)");

unsigned int hagent_hysteresis = 3;
module_param_named(hysteresis, hagent_hysteresis, uint, 0644);
MODULE_PARM_DESC(hysteresis, "A fast folio makes room only for one hotter by more than this, for counts of four measurements (default 3)");

unsigned int hagent_promote_min = 1;
module_param_named(promote_min, hagent_promote_min, uint, 0644);
MODULE_PARM_DESC(promote_min, "Least access count a folio needs to be promoted, never below hysteresis + 1 (default 1)");

unsigned int hagent_fast_reserve_mb = 64;
module_param_named(fast_reserve_mb, hagent_fast_reserve_mb, uint, 0644);
MODULE_PARM_DESC(fast_reserve_mb, "MiB kept free above a fast node's high watermarks (default 64)");

bool hagent_fair_share = true;
module_param_named(fair_share, hagent_fair_share, bool, 0644);
MODULE_PARM_DESC(fair_share, "Workloads split the fast tier max-min fairly; off: the hottest pages win whoever owns them (default on)");

/* How often, at most, one target's migration failures are summarised. */
#define HAGENT_FAIL_REPORT	(10 * HZ)

static struct hagent_place {
	unsigned long tokens;		/* pages the rate limit lets move now */
	unsigned long last_refill;	/* jiffies */
	struct hagent_batch batch;
	unsigned int rotor;		/* which target wins a tie */
	unsigned long moved;		/* pages moved since load */
	u64 page_ns;			/* what moving one page cost lately */
	unsigned int bar;		/* of this step */
	bool pending;			/* a folio above the bar waited */
	unsigned long capacity;		/* the fast tier's pages, this step */
	unsigned long above_bar;	/* slow pages at or above their bar after it */
	struct hagent_hist hist;	/* scratch: every target's pages per hot */
	struct hagent_hist whist;	/* scratch: one workload's */
	/* Scratch for the fair shares, room for share_cap targets. */
	struct hagent_target **share_by;	/* targets, by workload */
	unsigned long *demand, *share;	/* per workload (t->slot) */
	unsigned long *wfast;		/* per workload: its fast pages, as planned */
	unsigned int share_cap;
	unsigned long margin;		/* pages a share may be missed by, either way */
	bool fair;			/* this step's bars are fair shares */
} hagent_place;

unsigned long hagent_place_moved(void)
{
	return hagent_place.moved;
}

unsigned int hagent_place_bar(void)
{
	return READ_ONCE(hagent_place.bar);
}

bool hagent_place_pending(void)
{
	return hagent_place.pending;
}

/*
 * A hot set is left in the slow tier: after the step, more slow pages are
 * at or above their bar and the promotion floor -- pages the fast tier has
 * room for by the counts, hot enough to move -- than a sixteenth of the
 * fast tier.  They stay there when no fast folio is colder than them by
 * more than the hysteresis, and more measurements are what can part them:
 * a process whose fast node is full of its own data, first measured, has
 * its hot set at 4-5 and its cold data at 2-3 (benchmark full-own), and
 * only later windows tell them apart.  A few such pages are the usual
 * state of a bar that cuts through equally warm data (a sixteenth: 2.6% of
 * the fast tier in full-own once settled, 40% while its hot set waited).
 */
bool hagent_place_above_bar(void)
{
	return hagent_place.above_bar > hagent_place.capacity / 16;
}

/*
 * The hysteresis in counts.  hysteresis is set for counts of
 * HAGENT_DECAY_PASSES measurements a halving, where a folio touched in
 * every window counts 4 to 8 (hagent_pace_top_count()).  Where a pass is
 * much shorter than decay_ms -- small processes, processes in THPs (a THP
 * is one entry to the scan) -- every count grows with the measurements it
 * sums: so does the hysteresis used, in proportion to that top count and
 * never below hysteresis (hagent_plan_hyst()), so it keeps its meaning.
 * The counts' chance differences grow only with the square root of the
 * measurements, so equals trade places less often than with few.
 * Measured in the benchmark's full-shared, some 20 measurements a halving:
 * the hysteresis at 3 traded equally warm THPs, 35,000 pages every 10 s;
 * scaled by the square root of the measurements, 28,000; in proportion to
 * the top count, 8,000-10,000.
 */
unsigned int hagent_hyst(void)
{
	return hagent_plan_hyst(READ_ONCE(hagent_hysteresis), hagent_pace_top_count());
}

/*
 * The least access count a promotion needs whatever the bar.  Free fast
 * memory counts as a fast folio nobody touched: a folio moves into it only
 * if it is hotter by more than the hysteresis, as it must be to take an
 * occupied place.  A folio seen touched once or twice may be any cold one
 * the window happened to catch, and each move costs a copy and a TLB
 * shootdown; the free memory it would fill also serves the processes' own
 * new allocations, which the kernel places there first.
 */
static unsigned int hagent_promote_floor(void)
{
	return max3(READ_ONCE(hagent_promote_min), hagent_hyst() + 1, 1U);
}

/*
 * Pages a promotion of @t can use before touching the reserve: on one node,
 * the fast node migrate.c will pick (the one with the most free memory); a
 * batch never spreads over nodes, so neither does its room.
 */
static long hagent_fast_room(const nodemask_t *fast)
{
	long best = 0;
	int nid;

	for_each_node_mask(nid, *fast)
		best = max(best, hagent_node_avail_pages(nid));
	return best - ((long)READ_ONCE(hagent_fast_reserve_mb) << (20 - PAGE_SHIFT));
}

/* The workload @t belongs to, for the fair shares: its cgroup, its followed root, or itself. */
static u64 hagent_share_key(const struct hagent_target *t)
{
	if (t->cgroup)
		return t->cgroup | BIT_ULL(63);
	return t->workload ? t->workload : t->pid;
}

static int hagent_share_cmp(const void *a, const void *b)
{
	u64 x = hagent_share_key(*(struct hagent_target * const *)a);
	u64 y = hagent_share_key(*(struct hagent_target * const *)b);

	return x < y ? -1 : x > y;
}

/*
 * @t's pages per hot value, both tiers, added to @sum, and its fast nodes
 * to @nodes (if given); returns its fast pages.  A dead target has none.
 */
static unsigned long hagent_hist_add_target(struct hagent_hist *sum, struct hagent_target *t,
					    nodemask_t *nodes)
{
	unsigned long fast = 0;
	unsigned int i;

	mutex_lock(&t->lock);
	if (!t->dead) {
		hagent_hist_add(sum, &t->heap[HAGENT_TIER_FAST]);
		hagent_hist_add(sum, &t->heap[HAGENT_TIER_SLOW]);
		for (i = 0; i <= HAGENT_HOT_MAX; i++)
			fast += hagent_heap_pages_at(&t->heap[HAGENT_TIER_FAST], i);
		if (nodes)
			nodes_or(*nodes, *nodes, t->fast);
	}
	mutex_unlock(&t->lock);
	return fast;
}

/* Room in the scratch arrays for @n targets; false without memory. */
static bool hagent_share_reserve(unsigned int n)
{
	struct hagent_place *pl = &hagent_place;
	unsigned int cap = max(roundup_pow_of_two(n), 16UL);

	if (n <= pl->share_cap)
		return true;
	kvfree(pl->share_by);
	kvfree(pl->demand);
	kvfree(pl->share);
	kvfree(pl->wfast);
	pl->share_by = kvmalloc_array(cap, sizeof(*pl->share_by), GFP_KERNEL);
	pl->demand = kvmalloc_array(cap, sizeof(*pl->demand), GFP_KERNEL);
	pl->share = kvmalloc_array(cap, sizeof(*pl->share), GFP_KERNEL);
	pl->wfast = kvmalloc_array(cap, sizeof(*pl->wfast), GFP_KERNEL);
	pl->share_cap = pl->share_by && pl->demand && pl->share && pl->wfast ? cap : 0;
	return pl->share_cap;
}

/*
 * The histogram (pl->whist) of the workload whose sorted targets start at
 * @i, of @n; returns where the next workload starts, and its fast pages in
 * *@fast.
 */
static unsigned int hagent_workload_hist(unsigned int i, unsigned int n, unsigned long *fast)
{
	struct hagent_place *pl = &hagent_place;
	unsigned int j, slot = pl->share_by[i]->slot;

	memset(&pl->whist, 0, sizeof(pl->whist));
	*fast = 0;
	for (j = i; j < n && pl->share_by[j]->slot == slot; j++)
		*fast += hagent_hist_add_target(&pl->whist, pl->share_by[j], NULL);
	return j;
}

/*
 * Each target's bar under fair_share: the targets sorted by workload, each
 * workload's demand (its pages at or above the promotion floor), the
 * capacity split by hagent_plan_share(), then each workload's bar from its
 * own histogram (read again: one per workload is not kept) and share.
 * False (one scale for all) when the demands all fit, or without memory.
 */
static bool hagent_place_fair_bars(unsigned int n, unsigned long capacity)
{
	struct hagent_place *pl = &hagent_place;
	unsigned int floor = hagent_promote_floor();
	unsigned int i, j, w, nw = 0;
	unsigned long total = 0, fast;
	struct hagent_target *t;
	unsigned int bar;

	if (!n || !hagent_share_reserve(n))
		return false;
	i = 0;
	list_for_each_entry(t, &hagent_targets, node)
		pl->share_by[i++] = t;
	sort(pl->share_by, n, sizeof(*pl->share_by), hagent_share_cmp, NULL);
	/* A workload is a run of the sorted targets; t->slot numbers the runs. */
	for (i = 0; i < n; i++) {
		if (i && hagent_share_key(pl->share_by[i]) != hagent_share_key(pl->share_by[i - 1]))
			nw++;
		pl->share_by[i]->slot = nw;
	}
	nw++;
	for (i = 0, w = 0; i < n; w++) {
		i = hagent_workload_hist(i, n, &pl->wfast[w]);
		pl->demand[w] = hagent_hist_pages_from(&pl->whist, floor);
		total += pl->demand[w];
	}
	/*
	 * Shares matter only under contention: when every workload's demand
	 * fits, one scale places them all, and counts near the floor moving
	 * from step to step do not move pages between workloads.
	 */
	if (total <= capacity)
		return false;
	hagent_plan_share(pl->demand, pl->share, nw, capacity);
	/* A workload gives or takes only beyond this: noise in demand moves nothing. */
	pl->margin = capacity / (8 * nw);
	for (i = 0, w = 0; i < n; w++, i = j) {
		j = hagent_workload_hist(i, n, &fast);
		bar = hagent_plan_bar(&pl->whist, pl->share[w]);
		for (; i < j; i++)
			pl->share_by[i]->bar = bar;
	}
	return true;
}

/*
 * The bar for all targets: one fast tier is shared, so one histogram and
 * one capacity -- every target's managed fast pages plus the room of every
 * fast node (each node's own, summed: capacity, not one batch's room).
 * Each target's own bar (t->bar) is this one, or its workload's fair one.
 */
static unsigned int hagent_place_compute_bar(void)
{
	struct hagent_hist *all = &hagent_place.hist;
	long reserve = (long)READ_ONCE(hagent_fast_reserve_mb) << (20 - PAGE_SHIFT);
	nodemask_t fast = NODE_MASK_NONE;
	unsigned long capacity = 0;
	struct hagent_target *t;
	unsigned int n = 0, bar;
	int nid;

	memset(all, 0, sizeof(*all));
	list_for_each_entry(t, &hagent_targets, node) {
		n++;
		t->stuck = false;
		capacity += hagent_hist_add_target(all, t, &fast);
	}
	for_each_node_mask(nid, fast)
		capacity += max(hagent_node_avail_pages(nid) - reserve, 0L);
	bar = hagent_plan_bar(all, capacity);
	hagent_place.capacity = capacity;
	hagent_place.fair = READ_ONCE(hagent_fair_share) && hagent_place_fair_bars(n, capacity);
	if (!hagent_place.fair)
		list_for_each_entry(t, &hagent_targets, node)
			t->bar = bar;
	return bar;
}

/*
 * Under t->lock: the summary line of the failures since the last one into
 * @line, never more than one per HAGENT_FAIL_REPORT per target; false when
 * there is none to give.  The caller logs and sends it once the lock is
 * dropped: sending allocates (GFP_KERNEL), and reclaim may take t->lock
 * (adopt.c, hagent_adopt_reserve()).
 */
static bool hagent_report_failures(struct hagent_target *t, char *line, size_t size)
{
	const int nr = HAGENT_CTR_MIG_FAIL_END - HAGENT_CTR_MIG_FAIL_FIRST;
	u64 d[1 + HAGENT_CTR_MIG_FAIL_END - HAGENT_CTR_MIG_FAIL_FIRST], failed = 0;
	int i, len;

	if (time_before(jiffies, t->fail_report_at + HAGENT_FAIL_REPORT))
		return false;
	d[0] = t->ctr[HAGENT_CTR_MIG_ATTEMPTED] - t->fail_snap[0];
	for (i = 0; i < nr; i++) {
		d[1 + i] = t->ctr[HAGENT_CTR_MIG_FAIL_FIRST + i] - t->fail_snap[1 + i];
		failed += d[1 + i];
	}
	if (!failed)
		return false;
	len = scnprintf(line, size, "pid %d (%s): %llu of %llu pages failed to migrate in %us:",
			t->pid, t->comm, failed, d[0],
			jiffies_to_msecs(jiffies - t->fail_report_at) / 1000);
	for (i = 0; i < nr; i++)
		if (d[1 + i])
			len += scnprintf(line + len, size - len, " %s=%llu",
					 hagent_ctr_names[HAGENT_CTR_MIG_FAIL_FIRST + i], d[1 + i]);
	t->fail_snap[0] = t->ctr[HAGENT_CTR_MIG_ATTEMPTED];
	for (i = 0; i < nr; i++)
		t->fail_snap[1 + i] = t->ctr[HAGENT_CTR_MIG_FAIL_FIRST + i];
	t->fail_report_at = jiffies;
	return true;
}

/* One heap's top among all targets: whose it is, how hot, how large. */
struct hagent_top {
	struct hagent_target *t;
	int hot;		/* -1: no target has one */
	unsigned long pages;
};

/* Under t->lock: how hot and how large @t's top of @tier is; false if it has none. */
static bool hagent_top_of(struct hagent_target *t, enum hagent_tier tier, int *hot,
			  unsigned long *pages)
{
	struct hagent_entry *e = t->dead ? NULL : hagent_heap_peek(&t->heap[tier]);

	*hot = e ? e->hot : -1;
	*pages = e ? 1UL << e->order : 0;
	return e;
}

/*
 * The least count a promotion needs under @bar: the bar's own tie too, the
 * count just below it, of which only some pages fit.  Those move into free
 * room, or in place of folios colder than them by more than the hysteresis,
 * never in place of their equals: so a hot set larger than its room (a
 * workload's whole fast share, say) fills the room instead of waiting for
 * counts to part.
 */
static unsigned int hagent_tie(unsigned int bar)
{
	return bar ? bar - 1 : 0;
}

/* Fair shares this step, and @t and @s in different workloads. */
static bool hagent_across(const struct hagent_target *t, const struct hagent_target *s)
{
	return hagent_place.fair && t->slot != s->slot;
}

/*
 * Pages @t's workload may give to @s's: what the first holds beyond its
 * share, and the second lacks of its own.  Fast pages pass only from a
 * workload over its share to one under it, each by more than the margin,
 * so shares settle and stay.
 */
static unsigned long hagent_transfer(const struct hagent_target *t, const struct hagent_target *s)
{
	const struct hagent_place *pl = &hagent_place;
	unsigned long m = pl->margin;

	if (pl->wfast[t->slot] <= pl->share[t->slot] + m ||
	    pl->wfast[s->slot] + m >= pl->share[s->slot])
		return 0;
	return min(pl->wfast[t->slot] - pl->share[t->slot], pl->share[s->slot] - pl->wfast[s->slot]);
}

/*
 * Fast folios of @t below this may make room for @s's folio at @hot: below
 * @t's bar (its workload's share's) and colder by more than the
 * hysteresis; or, when @t's workload holds more than its share and @s's
 * less (hagent_transfer()), anything below @t's bar, however hot.
 */
static unsigned int hagent_victim_below(const struct hagent_target *t,
					const struct hagent_target *s, int hot)
{
	unsigned int hyst = hagent_hyst();

	if (hagent_across(t, s) && hagent_transfer(t, s))
		return t->bar;
	return min(t->bar, hot > (int)hyst ? hot - hyst : 0U);
}

/*
 * Under hagent_targets_lock: the hottest slow folio of all targets that may
 * be promoted (at or above its target's bar and the floor), and the fast
 * folio among the targets whose fast nodes overlap its target's that is
 * furthest below its own bar and may make room for it (with one bar for
 * all: the coldest).  One fast tier is shared: the folio to demote for a
 * process's hot folio is the one that least belongs there, not the coldest
 * that process has.  Ties go first to the promoting target itself (one
 * batch instead of two), then to the target nearest after the rotor, so
 * equals take turns.
 */
static void hagent_tops(struct hagent_top *slow, struct hagent_top *fast)
{
	unsigned int n = 0, i = 0, first, best = UINT_MAX, dist, floor = hagent_promote_floor();
	long key, best_key = LONG_MAX, room;
	unsigned long pages, need;
	unsigned int below;
	bool enough;
	struct hagent_target *t;
	int hot;

	list_for_each_entry(t, &hagent_targets, node)
		n++;
	memset(slow, 0, sizeof(*slow));
	memset(fast, 0, sizeof(*fast));
	slow->hot = fast->hot = -1;
	if (!n)
		return;
	first = hagent_place.rotor % n;
	list_for_each_entry(t, &hagent_targets, node) {
		dist = (i++ + n - first) % n;
		mutex_lock(&t->lock);
		hagent_top_of(t, HAGENT_TIER_SLOW, &hot, &pages);
		mutex_unlock(&t->lock);
		if (t->stuck || hot < (int)max(floor, hagent_tie(t->bar)))
			continue;
		if (hot > slow->hot || (hot == slow->hot && dist < best)) {
			slow->t = t;
			slow->hot = hot;
			slow->pages = pages;
			best = dist;
		}
	}
	if (!slow->t)
		return;
	/*
	 * A target is a candidate only if it can make all the room the folio
	 * needs beyond the free room: a THP's 512 pages are not made by a
	 * process with a few cold base pages in the fast tier.  The
	 * promoting target first (i == 0): it wins a tie.
	 */
	room = max(hagent_fast_room(&slow->t->fast), 0L);
	need = slow->pages > room ? slow->pages - room : 1;
	for (i = 0; i < 2; i++) {
		list_for_each_entry(t, &hagent_targets, node) {
			if ((i == 0) != (t == slow->t) || !nodes_intersects(t->fast, slow->t->fast))
				continue;
			below = hagent_victim_below(t, slow->t, slow->hot);
			mutex_lock(&t->lock);
			hagent_top_of(t, HAGENT_TIER_FAST, &hot, &pages);
			enough = hot >= 0 && hot < (int)below &&
				 hagent_plan_colder(&t->heap[HAGENT_TIER_FAST], below) >= need;
			mutex_unlock(&t->lock);
			if (!enough)
				continue;
			key = (long)hot - (long)t->bar;
			if (!fast->t || key < best_key) {
				fast->t = t;
				fast->hot = hot;
				fast->pages = pages;
				best_key = key;
			}
		}
	}
}

/* Runs the batch planned for @t; charges tokens and the per-page cost. */
static unsigned long hagent_run(struct hagent_target *t, unsigned long planned)
{
	u64 t0 = ktime_get_ns(), ns;
	unsigned long moved;

	hagent_place.tokens -= min(hagent_place.tokens, planned);
	moved = hagent_batch_run(t, &hagent_place.batch);
	hagent_place.moved += moved;
	ns = div64_u64(ktime_get_ns() - t0, max(planned, 1UL));
	hagent_place.page_ns = hagent_place.page_ns ? (3 * hagent_place.page_ns + ns) / 4 : ns;
	cond_resched();
	return moved;
}

static void hagent_place_add(struct hagent_plan *p, struct hagent_heap *h,
			     struct hagent_entry *e, enum hagent_tier to)
{
	hagent_batch_add(p->ctx, &hagent_place.batch, e, to);
}

/*
 * One batch, or two: the hottest slow folios of all targets move up, into
 * free fast memory if there is some, else in exchange for the coldest fast
 * folios of all targets (another target's are demoted in a batch of their
 * own first).  At most the pages the rate limit and the time left until
 * @deadline allow.  Returns false when no target has a folio worth moving;
 * a target whose top could not move sits out the rest of the step.
 */
static bool hagent_place_round(u64 deadline)
{
	struct hagent_batch *b = &hagent_place.batch;
	struct hagent_plan p = {
		.hyst = hagent_hyst(),
		.limit = min_t(unsigned long, hagent_place.tokens, b->cap),
		.add = hagent_place_add,
	};
	struct hagent_top s, f;
	unsigned long planned;
	u64 now = ktime_get_ns();

	if (hagent_place.page_ns && now < deadline)
		p.limit = min_t(unsigned long, p.limit,
				max_t(u64, div64_u64(deadline - now, hagent_place.page_ns), 16));
	hagent_tops(&s, &f);
	if (!s.t)
		return false;
	p.bar = s.t->bar;
	p.min_hot = max(hagent_promote_floor(), hagent_tie(s.t->bar));
	p.room = max(hagent_fast_room(&s.t->fast), 0L);
	if (p.room < (long)s.pages && f.t && f.t != s.t) {
		struct hagent_plan d = p;
		unsigned long want, moved;

		/*
		 * Room for as many of s.t's folios as may take f.t's place, and
		 * only they move into it: lukewarm ones never ride along.  In
		 * one workload (one scale) s.t's hottest pair with f.t's
		 * coldest, each hotter than its pair by more than the
		 * hysteresis (the bar's tie never trades places with its
		 * equals), and only the paired victims leave; across
		 * workloads, whatever may be promoted, within what f.t's
		 * workload gives.
		 */
		d.bar = hagent_victim_below(f.t, s.t, s.hot);
		if (hagent_across(f.t, s.t) && hagent_transfer(f.t, s.t)) {
			mutex_lock(&s.t->lock);
			want = s.t->dead ? 0 :
			       hagent_plan_pages_above(&s.t->heap[HAGENT_TIER_SLOW], p.min_hot,
						       p.limit / 2);
			mutex_unlock(&s.t->lock);
			want = min(max(want, s.pages), max(hagent_transfer(f.t, s.t), s.pages));
		} else {
			struct hagent_hist *up = &hagent_place.whist, *down = &hagent_place.hist;

			memset(up, 0, sizeof(*up));
			memset(down, 0, sizeof(*down));
			mutex_lock(&s.t->lock);
			if (!s.t->dead)
				hagent_hist_add(up, &s.t->heap[HAGENT_TIER_SLOW]);
			mutex_unlock(&s.t->lock);
			mutex_lock(&f.t->lock);
			if (!f.t->dead)
				hagent_hist_add(down, &f.t->heap[HAGENT_TIER_FAST]);
			mutex_unlock(&f.t->lock);
			want = hagent_plan_pairs(up, down, p.min_hot, d.bar, p.hyst, p.limit / 2,
						 &d.bar);
			want = max(want, s.pages);
		}
		/* f.t's victims: below its own bar (hagent_victim_below()). */
		d.ctx = f.t;
		d.slots = b->cap - b->nr;
		d.hyst = 0;
		mutex_lock(&f.t->lock);
		planned = f.t->dead ? 0 :
			  hagent_plan_demote(&d, &f.t->heap[HAGENT_TIER_FAST], HAGENT_BAR_NONE,
					     want);
		mutex_unlock(&f.t->lock);
		if (!b->nr)
			goto stuck;
		/* What left the fast tier may not show as free yet (per-CPU lists). */
		moved = hagent_run(f.t, planned);
		if (hagent_across(f.t, s.t) && hagent_transfer(f.t, s.t)) {
			hagent_place.wfast[f.t->slot] -= min(moved, hagent_place.wfast[f.t->slot]);
			hagent_place.wfast[s.t->slot] += moved;
		}
		p.room = max_t(long, hagent_fast_room(&s.t->fast), moved);
		p.limit -= min(p.limit, planned);
		p.planned = 0;
		if (!p.room || !p.limit)
			return true;
	}
	p.ctx = s.t;
	p.slots = b->cap - b->nr;
	mutex_lock(&s.t->lock);
	planned = s.t->dead ? 0 : hagent_plan_exchange(&p, &s.t->heap[HAGENT_TIER_FAST],
						      &s.t->heap[HAGENT_TIER_SLOW]);
	mutex_unlock(&s.t->lock);
	if (!b->nr)
		goto stuck;
	hagent_run(s.t, planned);
	return true;
stuck:
	/* Nothing of s.t can move now: the others' turn, in this step. */
	s.t->stuck = true;
	return true;
}

/* The batch follows migrate_batch; a failed resize keeps the old one. */
static void hagent_batch_resize(void)
{
	unsigned int want = clamp(READ_ONCE(hagent_migrate_batch), 16U, 65536U);
	struct hagent_batch nb;

	if (hagent_place.batch.cap == want || hagent_batch_init(&nb, want))
		return;
	hagent_batch_destroy(&hagent_place.batch);
	hagent_place.batch = nb;
}

static void hagent_refill(void)
{
	unsigned long now = jiffies, per_s, cap;

	per_s = (unsigned long)READ_ONCE(hagent_migrate_mbps) << (20 - PAGE_SHIFT);
	hagent_place.tokens += per_s * jiffies_to_msecs(now - hagent_place.last_refill) / 1000;
	hagent_place.last_refill = now;
	/* Bursts: at most one second's worth, and never less than a batch. */
	cap = max_t(unsigned long, per_s, hagent_place.batch.cap);
	hagent_place.tokens = min(hagent_place.tokens, per_s ? cap : 0);
}

void hagent_place_step(u64 deadline)
{
	struct hagent_target *t;
	unsigned int floor;
	int rounds;
	bool more = true;

	hagent_batch_resize();
	hagent_refill();
	hagent_place.pending = false;
	hagent_place.above_bar = 0;
	if (list_empty(&hagent_targets) || !READ_ONCE(hagent_placement) ||
	    !hagent_place.batch.cap)
		return;
	WRITE_ONCE(hagent_place.bar, hagent_place_compute_bar());
	hagent_place.rotor++;
	for (rounds = 0; rounds < 64 && more; rounds++) {
		if (!hagent_place.tokens || ktime_get_ns() >= deadline) {
			hagent_place.pending = true;	/* stopped, not done */
			break;
		}
		more = hagent_place_round(deadline);
	}
	floor = hagent_promote_floor();
	list_for_each_entry(t, &hagent_targets, node) {
		char line[160];
		bool report;

		mutex_lock(&t->lock);
		report = hagent_report_failures(t, line, sizeof(line));
		if (!t->dead)
			hagent_place.above_bar +=
				hagent_plan_pages_from(&t->heap[HAGENT_TIER_SLOW],
						       max(t->bar, floor));
		mutex_unlock(&t->lock);
		if (report) {
			pr_info("%s\n", line);
			hagent_event_send(HAGENT_EV_MIGRATE_FAILURES, t->pid, GFP_KERNEL, "%s", line);
		}
	}
}

int hagent_place_init(void)
{
	hagent_place.last_refill = jiffies;
	hagent_place.bar = HAGENT_BAR_NONE;
	return hagent_batch_init(&hagent_place.batch, clamp(hagent_migrate_batch, 16U, 65536U));
}

void hagent_place_exit(void)
{
	hagent_batch_destroy(&hagent_place.batch);
	kvfree(hagent_place.share_by);
	kvfree(hagent_place.demand);
	kvfree(hagent_place.share);
	kvfree(hagent_place.wfast);
	hagent_place.share_by = NULL;
	hagent_place.demand = hagent_place.share = hagent_place.wfast = NULL;
	hagent_place.share_cap = 0;
}
