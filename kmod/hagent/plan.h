/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The planner: which folios move between the tiers, decided from the heaps
 * and their histograms alone.  No mm call, no lock, no allocation: the
 * policy (place.c) feeds it the targets' heaps and the fast room it read,
 * and turns its choices into a migration batch; the host tests feed it
 * synthetic heaps (tests/host/test_plan.py).
 *
 * Hotness is one scale for every folio and every process: a count per folio
 * of measuring windows it was found touched in, every window sized so that
 * a base page and a THP count at the same access rate per base page
 * (adopt.c: the huge window), aged by the same halving.  The histograms
 * count pages, so a THP weighs 512 base pages.
 *
 * The bar: the least hot value such that every managed page at least that
 * hot fits in the fast tier (the fast tier's managed pages plus its free
 * room).  Above the bar a page belongs in the fast tier, below it in the
 * slow tier; the count just below it (the tie: some of its pages fit, not
 * all) may go either way.  A folio is promoted only at or above the tie
 * (place.c passes it as min_hot, with the promote_min floor); room is made
 * for it only by demoting folios below the bar that are also colder than it
 * by more than the hysteresis.  So a hot set larger than the fast tier fills
 * the room it has and then nothing trades places with its equal, and a hot
 * set that fits is pulled in whatever the fast tier held before.
 */
#ifndef _HAGENT_PLAN_H
#define _HAGENT_PLAN_H

#include "heap.h"

/* Pages per hot value, summed over heaps. */
struct hagent_hist {
	unsigned long pages[HAGENT_HOT_MAX + 1];
};

void hagent_hist_add(struct hagent_hist *sum, const struct hagent_heap *h);

/* No hot value is high enough: nothing may be promoted. */
#define HAGENT_BAR_NONE		(HAGENT_HOT_MAX + 1)

/*
 * The least hot value h such that the pages of @all at h or hotter number
 * at most @capacity; HAGENT_BAR_NONE when even the hottest do not fit.
 */
unsigned int hagent_plan_bar(const struct hagent_hist *all, unsigned long capacity);

/*
 * Fair shares of the fast tier (fair_share, place.c).  @n workloads want
 * @demand[i] pages each (their pages hot enough to be promoted); @capacity
 * is split max-min fairly: a workload that wants less than an even split
 * gets all it wants, the others split the rest evenly, and what nobody wants
 * is split evenly too, so the shares always add up to @capacity.  One
 * workload's share is the whole capacity, so its bar is the bar of one scale.
 */
void hagent_plan_share(const unsigned long *demand, unsigned long *share, unsigned int n,
		       unsigned long capacity);

/*
 * The count a folio touched at every measurement has that hysteresis is
 * meant for: four measurements a halving (pace.c halves after four passes
 * at least), so 4 to 8.
 */
#define HAGENT_HYST_TOP		8

/*
 * The hysteresis in counts, when a folio touched at every measurement
 * counts @top now: @hyst scaled by @top / HAGENT_HYST_TOP, rounded up,
 * never below @hyst nor above HAGENT_HOT_MAX.  More measurements a halving
 * make every count larger in proportion; the hysteresis keeps its share.
 */
unsigned int hagent_plan_hyst(unsigned int hyst, unsigned long top);

/* Pages of @h (both tiers) at or above @hot, in @sum. */
unsigned long hagent_hist_pages_from(const struct hagent_hist *sum, unsigned int hot);

struct hagent_plan;

/*
 * Takes @e out of its heap into the batch, bound for @to.  The planner
 * peeks at the heaps' tops again after every call, so the entry must leave
 * its heap.
 */
typedef void (*hagent_plan_add_t)(struct hagent_plan *p, struct hagent_heap *h,
				  struct hagent_entry *e, enum hagent_tier to);

struct hagent_plan {
	unsigned int bar;	/* hagent_plan_bar() */
	unsigned int min_hot;	/* least hot a promotion needs (>= bar) */
	unsigned int hyst;	/* a demoted folio is colder than this by more than hyst */
	unsigned long limit;	/* most pages to plan (a soft bound: see below) */
	long room;		/* free fast pages */
	unsigned long planned;	/* pages planned so far */
	u32 slots;		/* moves the batch can still take */
	hagent_plan_add_t add;
	void *ctx;		/* the caller's */
};

/*
 * One target's exchange: its hottest slow folios at or above min_hot move
 * up, into the room, and once that is used up into the room its own fast
 * folios below the bar leave.  A slow folio whose room cannot be made in
 * full is not started; one that is started is planned whole, even past the
 * limit (a THP needs 512 base pages out before it can come in).  Returns
 * the pages planned.
 */
unsigned long hagent_plan_exchange(struct hagent_plan *p, struct hagent_heap *fast,
				   struct hagent_heap *slow);

/*
 * Another target's room: its coldest fast folios below the bar and colder
 * than @hot by more than the hysteresis, at most @want pages.  Returns the
 * pages planned.
 */
unsigned long hagent_plan_demote(struct hagent_plan *p, struct hagent_heap *fast,
				 unsigned int hot, unsigned long want);

/* Pages of @fast's folios colder than @below (a min-heap's top ones). */
unsigned long hagent_plan_colder(const struct hagent_heap *fast, unsigned int below);

/* Pages of @h's folios at @hot or hotter (none when @hot is HAGENT_BAR_NONE). */
unsigned long hagent_plan_pages_from(const struct hagent_heap *h, unsigned int hot);

/*
 * How many pages may change places, pairing the hottest of @up (slow pages
 * at @min_hot or hotter) with the coldest of @down (fast pages below
 * @below), each pair's slow page hotter by more than @hyst: at most @cap.
 * *@vmax: the fast pages to move out are those below it.
 */
unsigned long hagent_plan_pairs(const struct hagent_hist *up, const struct hagent_hist *down,
				unsigned int min_hot, unsigned int below, unsigned int hyst,
				unsigned long cap, unsigned int *vmax);

/*
 * Pages of slow folios at or above @bar in @slow, counting up to @cap: what
 * a target would move in given room.
 */
unsigned long hagent_plan_pages_above(const struct hagent_heap *slow, unsigned int bar,
				      unsigned long cap);

#endif /* _HAGENT_PLAN_H */
