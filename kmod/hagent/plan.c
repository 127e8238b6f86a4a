// SPDX-License-Identifier: GPL-2.0
/*
 * The planner (see plan.h).  Pure: heaps and numbers in, choices out
 * through the caller's add(); the same source builds into the module and
 * into the host tests' library.
 */
#include "plan.h"

void hagent_hist_add(struct hagent_hist *sum, const struct hagent_heap *h)
{
	unsigned int i;

	for (i = 0; i <= HAGENT_HOT_MAX; i++)
		sum->pages[i] += hagent_heap_pages_at(h, i);
}

unsigned int hagent_plan_bar(const struct hagent_hist *all, unsigned long capacity)
{
	unsigned long pages = 0;
	unsigned int h = HAGENT_HOT_MAX + 1;

	/* From the hottest down, while everything so far still fits. */
	while (h > 0) {
		if (pages + all->pages[h - 1] > capacity)
			break;
		pages += all->pages[h - 1];
		h--;
	}
	return h;
}

/* Pages at @hot or hotter in a per-hot array of HAGENT_HOT_MAX + 1. */
static unsigned long hagent_pages_from(const unsigned long *pages_at, unsigned int hot)
{
	unsigned long pages = 0;

	for (; hot <= HAGENT_HOT_MAX; hot++)
		pages += pages_at[hot];
	return pages;
}

unsigned long hagent_hist_pages_from(const struct hagent_hist *sum, unsigned int hot)
{
	return hagent_pages_from(sum->pages, hot);
}

/* What @n workloads take when none may have more than @level: sum of min(demand, level). */
static unsigned long hagent_plan_filled(const unsigned long *demand, unsigned int n,
					unsigned long level)
{
	unsigned long sum = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		sum += min(demand[i], level);
	return sum;
}

void hagent_plan_share(const unsigned long *demand, unsigned long *share, unsigned int n,
		       unsigned long capacity)
{
	unsigned long lo = 0, hi = 0, mid, given = 0, left, extra, rest;
	unsigned int i, below = 0;

	if (!n)
		return;
	for (i = 0; i < n; i++)
		hi = max(hi, demand[i]);
	if (hagent_plan_filled(demand, n, hi) <= capacity) {
		lo = hi;	/* everyone gets all it wants */
	} else {
		/* The highest level that fits: water-filling, by bisection. */
		while (lo < hi) {
			mid = lo + (hi - lo + 1) / 2;
			if (hagent_plan_filled(demand, n, mid) <= capacity)
				lo = mid;
			else
				hi = mid - 1;
		}
	}
	for (i = 0; i < n; i++) {
		share[i] = min(demand[i], lo);
		given += share[i];
		below += demand[i] > lo;
	}
	left = capacity - given;
	/*
	 * What is left: fewer pages than the workloads still wanting more (the
	 * next level would not fit), one each to the first of them; else
	 * (everyone served) an even split among all.
	 */
	if (below) {
		for (i = 0; i < n && left; i++) {
			if (demand[i] > lo) {
				share[i]++;
				left--;
			}
		}
		return;
	}
	extra = left / n;
	rest = left % n;
	for (i = 0; i < n; i++)
		share[i] += extra + (i < rest);
}

unsigned long hagent_plan_pairs(const struct hagent_hist *up, const struct hagent_hist *down,
				unsigned int min_hot, unsigned int below, unsigned int hyst,
				unsigned long cap, unsigned int *vmax)
{
	int h = HAGENT_HOT_MAX, v = 0, lo = min_hot, hi = min(below, HAGENT_HOT_MAX + 1U);
	unsigned long hs = up->pages[h], vs = hi > 0 ? down->pages[0] : 0, pairs = 0, n;

	*vmax = 0;
	if (lo > HAGENT_HOT_MAX)
		return 0;
	while (pairs < cap) {
		while (!hs && h > lo) {
			h--;
			hs = up->pages[h];
		}
		while (!vs && v + 1 < hi) {
			v++;
			vs = down->pages[v];
		}
		if (!hs || !vs || h <= v + (int)hyst)
			break;
		n = min(min(hs, vs), cap - pairs);
		pairs += n;
		hs -= n;
		vs -= n;
		*vmax = v + 1;
	}
	return pairs;
}

unsigned int hagent_plan_hyst(unsigned int hyst, unsigned long top)
{
	unsigned long scaled = ((unsigned long)hyst * top + HAGENT_HYST_TOP - 1) / HAGENT_HYST_TOP;

	return min_t(unsigned long, max((unsigned long)hyst, scaled), HAGENT_HOT_MAX);
}

unsigned long hagent_plan_colder(const struct hagent_heap *fast, unsigned int below)
{
	unsigned long pages = 0;
	unsigned int i;

	for (i = 0; i < below && i <= HAGENT_HOT_MAX; i++)
		pages += hagent_heap_pages_at(fast, i);
	return pages;
}

unsigned long hagent_plan_pages_from(const struct hagent_heap *h, unsigned int hot)
{
	return hagent_pages_from(h->pages_at, hot);
}

/* Fast folios may leave for one at @hot: below the bar, colder by more than hyst. */
static unsigned int hagent_plan_victim_below(const struct hagent_plan *p, unsigned int hot)
{
	return min(p->bar, hot > p->hyst ? hot - p->hyst : 0);
}

unsigned long hagent_plan_exchange(struct hagent_plan *p, struct hagent_heap *fast,
				   struct hagent_heap *slow)
{
	unsigned long start = p->planned;
	struct hagent_entry *s, *f;

	while (p->slots && p->planned < p->limit) {
		unsigned long sp, need;

		s = hagent_heap_peek(slow);
		if (!s || s->hot < p->min_hot)
			break;
		sp = 1UL << s->order;
		if (p->room < (long)sp) {
			/*
			 * Start only if the room can be made in full, and the
			 * batch has a slot for every victim (base pages, at
			 * worst) and for the folio itself.
			 */
			need = sp - max(p->room, 0L);
			if (hagent_plan_colder(fast, hagent_plan_victim_below(p, s->hot)) < need ||
			    p->slots < min_t(unsigned long, need, hagent_heap_count(fast)) + 1)
				break;
			while (p->room < (long)sp) {
				f = hagent_heap_peek(fast);
				if (HAGENT_BROKEN(!f))	/* the histogram said there were */
					return p->planned - start;
				p->room += 1L << f->order;
				p->planned += 1UL << f->order;
				p->slots--;
				p->add(p, fast, f, HAGENT_TIER_SLOW);
			}
		}
		p->room -= sp;
		p->planned += sp;
		p->slots--;
		p->add(p, slow, s, HAGENT_TIER_FAST);
	}
	return p->planned - start;
}

unsigned long hagent_plan_demote(struct hagent_plan *p, struct hagent_heap *fast,
				 unsigned int hot, unsigned long want)
{
	unsigned int below = hagent_plan_victim_below(p, hot);
	unsigned long planned = 0;
	struct hagent_entry *f;

	while (p->slots && planned < want) {
		f = hagent_heap_peek(fast);
		if (!f || f->hot >= below)
			break;
		planned += 1UL << f->order;
		p->planned += 1UL << f->order;
		p->slots--;
		p->add(p, fast, f, HAGENT_TIER_SLOW);
	}
	return planned;
}

/*
 * The slow folios at or above @bar form a subtree at the top of the
 * max-heap, so a depth-first walk that stops below @bar visits only them
 * and their children; its stack never holds more than two entries per level.
 */
unsigned long hagent_plan_pages_above(const struct hagent_heap *slow, unsigned int bar,
				      unsigned long cap)
{
	unsigned long pages = 0;
	u32 stack[66], pos;
	int sp = 0;

	if (hagent_heap_count(slow))
		stack[sp++] = 0;
	while (sp && pages < cap) {
		struct hagent_entry *e;

		pos = stack[--sp];
		e = hagent_heap_at(slow, pos);
		if (e->hot < bar)
			continue;
		pages += 1UL << e->order;
		if (2 * pos + 2 < hagent_heap_count(slow) && sp + 2 <= (int)(sizeof(stack) / sizeof(stack[0])))
			stack[sp++] = 2 * pos + 2;
		if (2 * pos + 1 < hagent_heap_count(slow) && sp + 1 <= (int)(sizeof(stack) / sizeof(stack[0])))
			stack[sp++] = 2 * pos + 1;
	}
	return pages;
}
