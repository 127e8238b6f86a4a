// SPDX-License-Identifier: GPL-2.0
/*
 * The policy thread, hagentd: the one place where hagent does periodic work.
 * Every interval_ms, under hagent_targets_lock, it drains the sample rings
 * into the targets' sketches and heaps, halves every access count once per
 * decay_ms (or per four passes of the scan, if those take longer), and
 * every scan_interval_ms visits each target to adopt folios
 * faulted in since the last pass and sample accessed bits (at most
 * scan_pages pages per step, all targets together, so the cost is bounded
 * whatever the processes' number and size); once per complete pass it also
 * gives back folios nobody maps any more (a walk of the whole table, too
 * dear for every step, and at most every 30 s).
 *
 * Then it places, across all targets at once (one fast tier is shared):
 *   - the hottest slow folio of any target, if it has more accesses than
 *     the hysteresis (and at least promote_min) and the fast nodes have free
 *     memory above their high watermarks plus fast_reserve_mb, is promoted
 *     into that free memory, with the rest of its target's hottest in the
 *     same batch;
 *   - when they have none, it is exchanged with the coldest fast folio of
 *     any target sharing those fast nodes, as long as it is hotter by more
 *     than hysteresis (so two lukewarm pages never trade places back and
 *     forth).  Another target's folios are demoted in a batch of their own,
 *     as many as the promoting target has folios that beat them, and only
 *     those move into the room.
 * A batch holds at most migrate_batch pages and is run by migrate.c
 * (demotions first).  A token bucket limits all targets together to
 * migrate_mbps MB/s, and a round of placement ends after interval_ms, batch
 * sizes following what a page has lately cost to move: slow migration (6.1
 * unmaps page by page, one TLB shootdown each) never starves sampling.
 */
#include <linux/delay.h>
#include <linux/freezer.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/timekeeping.h>
#include "check.h"
#include "migrate.h"
#include "netlink.h"
#include "overhead.h"
#include "policy.h"
#include "sample.h"
#include "symbols.h"
#include "target.h"
#include "tier.h"

unsigned int hagent_interval_ms = 100;
module_param_named(interval_ms, hagent_interval_ms, uint, 0644);
MODULE_PARM_DESC(interval_ms, "Milliseconds between two policy rounds: drain samples, place (default 100)");

bool hagent_placement = true;
module_param_named(placement, hagent_placement, bool, 0644);
MODULE_PARM_DESC(placement, "Move folios between tiers; off: rank only (default on)");

unsigned int hagent_migrate_mbps = 256;
module_param_named(migrate_mbps, hagent_migrate_mbps, uint, 0644);
MODULE_PARM_DESC(migrate_mbps, "Most MB/s migrated, all processes together (default 256)");

unsigned int hagent_migrate_batch = 1024;
module_param_named(migrate_batch, hagent_migrate_batch, uint, 0644);
MODULE_PARM_DESC(migrate_batch, "Most pages in one batch of migrations, 16..65536 (default 1024)");

unsigned int hagent_hysteresis = 3;
module_param_named(hysteresis, hagent_hysteresis, uint, 0644);
MODULE_PARM_DESC(hysteresis, "Exchange only when the slow top is hotter than the fast top by more than this (default 3)");

unsigned int hagent_promote_min = 1;
module_param_named(promote_min, hagent_promote_min, uint, 0644);
MODULE_PARM_DESC(promote_min, "Least access count a folio needs to be promoted, never below hysteresis + 1 (default 1)");

unsigned int hagent_fast_reserve_mb = 64;
module_param_named(fast_reserve_mb, hagent_fast_reserve_mb, uint, 0644);
MODULE_PARM_DESC(fast_reserve_mb, "MiB kept free above the fast nodes' high watermarks (default 64)");

static struct task_struct *hagent_policy_task;
static unsigned long hagent_last_decay, hagent_last_scan, hagent_last_refill;
static unsigned long hagent_tokens;	/* pages the rate limit lets move now */
static struct hagent_batch hagent_batch;
static unsigned int hagent_rotor;	/* which target wins a tie */
static unsigned long hagent_moved;	/* pages moved since hagent_moved_since */
static u64 hagent_page_ns;		/* what moving one page cost lately */

/*
 * The least access count a promotion needs.  Free fast memory counts as a
 * fast folio nobody touched: a folio moves into it only if it is hotter by
 * more than the hysteresis, as it must be to take an occupied place.  A
 * folio seen touched once or twice may be any cold one the window happened
 * to catch, and each move costs a copy and a TLB shootdown; the free memory
 * it would fill also serves the processes' own new allocations, which the
 * kernel places there first.
 */
static unsigned int hagent_promote_bar(void)
{
	return max3(READ_ONCE(hagent_promote_min), READ_ONCE(hagent_hysteresis) + 1, 1U);
}

/* Pages the fast tier of @t can take before touching its reserve. */
static long hagent_fast_room(struct hagent_target *t)
{
	long room = 0;
	int nid;

	for_each_node_mask(nid, t->fast)
		room += hagent_node_avail_pages(nid);
	return room - ((long)READ_ONCE(hagent_fast_reserve_mb) << (20 - PAGE_SHIFT));
}

/*
 * Under t->lock: fills the batch with at most @limit pages of moves: @t's
 * hottest slow folios with at least @min_hot accesses into @room free fast
 * pages and then into the room @t's own coldest fast folios leave, as long
 * as the exchange is worth it.  Returns the pages planned.
 */
static unsigned long hagent_plan(struct hagent_target *t, struct hagent_batch *b,
				 unsigned long limit, long room, unsigned int min_hot)
{
	struct hagent_heap *fast = &t->heap[HAGENT_TIER_FAST], *slow = &t->heap[HAGENT_TIER_SLOW];
	unsigned int hyst = READ_ONCE(hagent_hysteresis);
	unsigned long planned = 0;
	struct hagent_entry *s, *f;

	while (b->nr < b->cap && planned < limit) {
		unsigned long sp;

		s = hagent_heap_peek(slow);
		if (!s || s->hot < min_hot)
			break;
		sp = 1UL << s->order;
		/* No room: demote the coldest while the exchange is worth it. */
		while (room < (long)sp) {
			f = hagent_heap_peek(fast);
			if (!f || (unsigned int)s->hot <= (unsigned int)f->hot + hyst ||
			    b->nr + 1 >= b->cap || planned >= limit)
				return planned;
			room += 1L << f->order;
			planned += 1UL << f->order;
			hagent_batch_add(t, b, f, HAGENT_TIER_SLOW);
		}
		room -= sp;
		planned += sp;
		hagent_batch_add(t, b, s, HAGENT_TIER_FAST);
	}
	return planned;
}

/*
 * Under t->lock: the pages of @t's slow folios hotter than @bar, counting up
 * to @cap.  They form a subtree at the top of the max-heap, so a depth-first
 * walk that stops below @bar visits only them and their children; its stack
 * never holds more than two entries per level.
 */
static unsigned long hagent_pages_hotter(struct hagent_target *t, unsigned int bar,
					 unsigned long cap)
{
	struct hagent_heap *h = &t->heap[HAGENT_TIER_SLOW];
	unsigned long pages = 0;
	u32 stack[66], pos;
	int sp = 0;

	if (hagent_heap_count(h))
		stack[sp++] = 0;
	while (sp && pages < cap) {
		struct hagent_entry *e;

		pos = stack[--sp];
		e = hagent_heap_at(h, pos);
		if (e->hot <= bar)
			continue;
		pages += 1UL << e->order;
		if (2 * pos + 2 < hagent_heap_count(h) && sp + 2 <= ARRAY_SIZE(stack))
			stack[sp++] = 2 * pos + 2;
		if (2 * pos + 1 < hagent_heap_count(h) && sp + 1 <= ARRAY_SIZE(stack))
			stack[sp++] = 2 * pos + 1;
	}
	return pages;
}

/*
 * Under t->lock: demotions of @t's coldest fast folios, as many as are colder
 * than @hot by more than the hysteresis, at most @limit pages: room for
 * another process's hotter folio.
 */
static unsigned long hagent_plan_demote(struct hagent_target *t, struct hagent_batch *b,
					unsigned long limit, unsigned int hot)
{
	unsigned int hyst = READ_ONCE(hagent_hysteresis);
	unsigned long planned = 0;
	struct hagent_entry *f;

	while (b->nr < b->cap && planned < limit) {
		f = hagent_heap_peek(&t->heap[HAGENT_TIER_FAST]);
		if (!f || hot <= (unsigned int)f->hot + hyst)
			break;
		planned += 1UL << f->order;
		hagent_batch_add(t, b, f, HAGENT_TIER_SLOW);
	}
	return planned;
}

/* How often, at most, one target's migration failures are summarised. */
#define HAGENT_FAIL_REPORT	(10 * HZ)

/*
 * Under t->lock: one log line and one event for the failures since the last
 * summary, never more than one per HAGENT_FAIL_REPORT per target.
 */
static void hagent_report_failures(struct hagent_target *t)
{
	const int nr = HAGENT_CTR_MIG_FAIL_END - HAGENT_CTR_MIG_FAIL_FIRST;
	u64 d[1 + HAGENT_CTR_MIG_FAIL_END - HAGENT_CTR_MIG_FAIL_FIRST], failed = 0;
	char line[160];
	int i, len;

	if (time_before(jiffies, t->fail_report_at + HAGENT_FAIL_REPORT))
		return;
	d[0] = t->ctr[HAGENT_CTR_MIG_ATTEMPTED] - t->fail_snap[0];
	for (i = 0; i < nr; i++) {
		d[1 + i] = t->ctr[HAGENT_CTR_MIG_FAIL_FIRST + i] - t->fail_snap[1 + i];
		failed += d[1 + i];
	}
	if (!failed)
		return;
	len = scnprintf(line, sizeof(line), "pid %d (%s): %llu of %llu pages failed to migrate in %us:",
			t->pid, t->comm, failed, d[0],
			jiffies_to_msecs(jiffies - t->fail_report_at) / 1000);
	for (i = 0; i < nr; i++)
		if (d[1 + i])
			len += scnprintf(line + len, sizeof(line) - len, " %s=%llu",
					 hagent_ctr_names[HAGENT_CTR_MIG_FAIL_FIRST + i], d[1 + i]);
	pr_info("%s\n", line);
	hagent_event_send(HAGENT_EV_MIGRATE_FAILURES, t->pid, GFP_KERNEL, "%s", line);
	t->fail_snap[0] = t->ctr[HAGENT_CTR_MIG_ATTEMPTED];
	for (i = 0; i < nr; i++)
		t->fail_snap[1 + i] = t->ctr[HAGENT_CTR_MIG_FAIL_FIRST + i];
	t->fail_report_at = jiffies;
}

/* One heap's top among all targets: whose it is, and how hot. */
struct hagent_top {
	struct hagent_target *t;
	int hot;		/* -1: no target has one */
};

/* Under t->lock: how hot @t's top of @tier is, or -1. */
static int hagent_top_hot(struct hagent_target *t, enum hagent_tier tier)
{
	struct hagent_entry *e = t->dead ? NULL : hagent_heap_peek(&t->heap[tier]);

	return e ? e->hot : -1;
}

/*
 * Under hagent_targets_lock: the hottest slow folio of all targets, and the
 * coldest fast folio among the targets whose fast tier is the same nodes.
 * One fast tier is shared: the folio to demote for a process's hot folio is
 * the coldest anyone has there, not the coldest that process has.  Ties go
 * first to the promoting target itself (one batch instead of two), then to
 * the target nearest after the rotor, so equals take turns.
 */
static void hagent_tops(struct hagent_top *slow, struct hagent_top *fast)
{
	unsigned int n = 0, i = 0, first, best = UINT_MAX, dist;
	struct hagent_target *t;
	int hot;

	list_for_each_entry(t, &hagent_targets, node)
		n++;
	slow->t = fast->t = NULL;
	slow->hot = fast->hot = -1;
	if (!n)
		return;
	first = hagent_rotor % n;
	list_for_each_entry(t, &hagent_targets, node) {
		dist = (i++ + n - first) % n;
		mutex_lock(&t->lock);
		hot = hagent_top_hot(t, HAGENT_TIER_SLOW);
		mutex_unlock(&t->lock);
		if (hot > slow->hot || (hot >= 0 && hot == slow->hot && dist < best)) {
			slow->t = t;
			slow->hot = hot;
			best = dist;
		}
	}
	if (!slow->t)
		return;
	mutex_lock(&slow->t->lock);
	fast->hot = hagent_top_hot(slow->t, HAGENT_TIER_FAST);
	mutex_unlock(&slow->t->lock);
	fast->t = fast->hot >= 0 ? slow->t : NULL;
	list_for_each_entry(t, &hagent_targets, node) {
		if (t == slow->t || !nodes_equal(t->fast, slow->t->fast))
			continue;
		mutex_lock(&t->lock);
		hot = hagent_top_hot(t, HAGENT_TIER_FAST);
		mutex_unlock(&t->lock);
		if (hot >= 0 && (!fast->t || hot < fast->hot)) {
			fast->t = t;
			fast->hot = hot;
		}
	}
}

/* Runs the batch planned for @t; charges tokens and the per-page cost. */
static unsigned long hagent_run(struct hagent_target *t, unsigned long planned)
{
	u64 t0 = ktime_get_ns(), ns;
	unsigned long moved;

	hagent_tokens -= min(hagent_tokens, planned);
	moved = hagent_batch_run(t, &hagent_batch);
	hagent_moved += moved;
	ns = div64_u64(ktime_get_ns() - t0, max(planned, 1UL));
	hagent_page_ns = hagent_page_ns ? (3 * hagent_page_ns + ns) / 4 : ns;
	cond_resched();
	return moved;
}

/*
 * One batch, or two: the hottest slow folios of all targets move up, into
 * free fast memory if there is some, else in exchange for the coldest fast
 * folios of all targets (another target's are demoted in a batch of their
 * own first).  At most the pages the rate limit and the time left until
 * @deadline allow.  Returns false when nothing was worth moving.
 */
static bool hagent_place_round(u64 deadline)
{
	unsigned long limit = min_t(unsigned long, hagent_tokens, hagent_batch.cap);
	unsigned int min_hot = hagent_promote_bar();
	struct hagent_top s, f;
	unsigned long planned;
	u64 now = ktime_get_ns();
	long room;

	if (hagent_page_ns && now < deadline)
		limit = min_t(unsigned long, limit,
			      max_t(u64, div64_u64(deadline - now, hagent_page_ns), 16));
	hagent_tops(&s, &f);
	if (!s.t || s.hot < (int)min_hot)
		return false;
	room = max(hagent_fast_room(s.t), 0L);
	if (!room && f.t && f.t != s.t) {
		unsigned long want;

		/*
		 * Room for as many of s.t's folios as beat f.t's coldest, and
		 * only they move into it: lukewarm ones never ride along.
		 */
		min_hot = max_t(unsigned int, min_hot, f.hot + READ_ONCE(hagent_hysteresis) + 1);
		mutex_lock(&s.t->lock);
		want = s.t->dead ? 0 : hagent_pages_hotter(s.t, min_hot - 1, limit / 2);
		mutex_unlock(&s.t->lock);
		mutex_lock(&f.t->lock);
		planned = hagent_plan_demote(f.t, &hagent_batch, want, s.hot);
		mutex_unlock(&f.t->lock);
		if (!hagent_batch.nr)
			return false;
		/* What left the fast tier may not show as free yet (per-CPU lists). */
		room = max_t(long, hagent_fast_room(s.t), hagent_run(f.t, planned));
		limit -= min(limit, planned);
		if (!room || !limit)
			return true;
	}
	mutex_lock(&s.t->lock);
	planned = s.t->dead ? 0 : hagent_plan(s.t, &hagent_batch, limit, room, min_hot);
	mutex_unlock(&s.t->lock);
	if (!hagent_batch.nr)
		return false;
	hagent_run(s.t, planned);
	return true;
}

/*
 * Rounds of placement until nothing is worth moving, the rate limit is spent
 * or interval_ms have passed: a round never keeps hagentd from sampling for
 * longer than the interval it sleeps, however slow migration is.
 */
static void hagent_place_all(void)
{
	u64 deadline = ktime_get_ns() +
		       (u64)max(READ_ONCE(hagent_interval_ms), 10U) * NSEC_PER_MSEC;
	struct hagent_target *t;
	int rounds;

	if (list_empty(&hagent_targets))
		return;
	hagent_rotor++;
	for (rounds = 0; rounds < 64 && hagent_tokens && ktime_get_ns() < deadline; rounds++)
		if (!hagent_place_round(deadline))
			break;
	list_for_each_entry(t, &hagent_targets, node) {
		mutex_lock(&t->lock);
		hagent_report_failures(t);
		mutex_unlock(&t->lock);
	}
}

/* The batch follows migrate_batch; a failed resize keeps the old one. */
static void hagent_batch_resize(void)
{
	unsigned int want = clamp(READ_ONCE(hagent_migrate_batch), 16U, 65536U);
	struct hagent_batch nb;

	if (hagent_batch.cap == want || hagent_batch_init(&nb, want))
		return;
	hagent_batch_destroy(&hagent_batch);
	hagent_batch = nb;
}

static void hagent_refill(void)
{
	unsigned long now = jiffies, per_s, cap;

	per_s = (unsigned long)READ_ONCE(hagent_migrate_mbps) << (20 - PAGE_SHIFT);
	hagent_tokens += per_s * jiffies_to_msecs(now - hagent_last_refill) / 1000;
	hagent_last_refill = now;
	/* Bursts: at most one second's worth, and never less than a batch. */
	cap = max_t(unsigned long, per_s, hagent_batch.cap);
	hagent_tokens = min(hagent_tokens, per_s ? cap : 0);
}

/*
 * The accessed-bit window.  A sample says "touched within the window", so
 * the window decides what hot means: too long and every page of a busy
 * process looks touched, the hot and the merely warm alike.  Unless
 * abit_window_ms fixes it, it adapts so that 10-30% of the folios primed
 * are found touched: it shrinks while more are (down to the time priming
 * itself takes) and grows while fewer are (up to scan_interval_ms).  One
 * window for every process keeps their access counts comparable, and the
 * placement compares them.  abit.window_us / abit.windows is its mean.
 */
unsigned int hagent_abit_window_ms;
module_param_named(abit_window_ms, hagent_abit_window_ms, uint, 0644);
MODULE_PARM_DESC(abit_window_ms, "Accessed-bit measuring window in ms; 0: adaptive (default)");

static unsigned int hagent_abit_wait_us = U32_MAX;	/* the adaptive window's wait */

static unsigned int hagent_abit_wait_max(void)
{
	return max(READ_ONCE(hagent_scan_interval_ms), 1U) * USEC_PER_MSEC;
}

static void hagent_abit_wait(void)
{
	unsigned int fixed = READ_ONCE(hagent_abit_window_ms), us;

	us = fixed ? fixed * USEC_PER_MSEC : min(hagent_abit_wait_us, hagent_abit_wait_max());
	if (us)
		usleep_range(us, us + us / 8);
}

/*
 * On the touched share smoothed over steps: one step may prime a range of
 * hot pages and the next a range of cold ones, and a window that followed
 * each would swing back and forth.
 */
static unsigned int hagent_touched_avg = 200;	/* per mille */

static void hagent_abit_adapt(unsigned long primed, unsigned long touched)
{
	unsigned int us = min(hagent_abit_wait_us, hagent_abit_wait_max()), avg;

	if (primed < 64)
		return;		/* too few folios to tell */
	avg = (3 * hagent_touched_avg + div64_u64((u64)touched * 1000, primed)) / 4;
	hagent_touched_avg = avg;
	if (avg > 300)
		us = avg > 600 ? us / 2 : us - us / 4;
	else if (avg < 100)
		us = us * 2 + 1000;
	hagent_abit_wait_us = min(us, hagent_abit_wait_max());
}

/*
 * The scan's pace.  While placement is settled -- for 5 s nothing but a
 * trickle (under 1 MiB/s) moved, no process came, went or grew much, and
 * the slow tier's folios come back touched no more often than usual -- scan
 * steps and decay both come scan_idle_div times less often, and so do the
 * rounds between them (hagent_round_sleep()): the sampler then costs that
 * much less, and a hot set that stays put is not measured again and again.
 * Any of these signs of change restores the full pace at once; the slow
 * tier's touched share is the one that notices a hot set moving into it, in
 * the first scan step that reaches it.  That step can be
 * up to an idle pass away (16 steps of scan_pages for 1 GiB: 26 s at the
 * defaults), so the idle pace trades the sampler's settled cost against how
 * soon a move is noticed, in proportion: at 16 the benchmark's move went
 * unnoticed for 25 s.
 *
 * Memory new to hagent (a process came or grew) and a hot set found moving
 * into the slow tier keep the full pace for four passes, not just 5 s: a
 * hot folio crosses the promotion bar only after four measurements, and a
 * pass over a large process outlasts the 5 s.  Both also restart the count
 * decay waits for (hagent_decay_due()), so that no halving comes between
 * those four measurements.  A hot set is a step whose slow folios came back
 * touched at least half of them, outside four passes already under way;
 * other slow-tier wake-ups (a few hot folios left behind, which a step
 * finds after every convergence) only extend the 5 s: restarting four
 * passes for each kept the full pace going for 20 s at a time.
 */
unsigned int hagent_scan_idle_div = 8;
module_param_named(scan_idle_div, hagent_scan_idle_div, uint, 0644);
MODULE_PARM_DESC(scan_idle_div, "Scan (and decay) this many times less often while placement is settled; 1: never (default 8)");

#define HAGENT_SETTLE_TIME	(5 * HZ)
/* Passes that measure every folio between two halvings (see hagent_decay_due()). */
#define HAGENT_DECAY_PASSES	4
static unsigned long hagent_pass_steps = 1;	/* scan steps a pass over every process takes */
#define HAGENT_MOVED_TRICKLE	256	/* pages per second (1 MiB/s) */
#define HAGENT_HOT_SET_FRAC	500	/* per mille of a step's slow folios touched */

static unsigned int hagent_scan_div = 1;	/* 1: full pace */
static unsigned long hagent_busy_at;		/* jiffies of the last sign of change */
static unsigned long hagent_new_steps;		/* scan steps since memory new to hagent (or a hot set) came */
static unsigned long hagent_moved_since;	/* jiffies hagent_moved started counting */
static unsigned long hagent_last_total;		/* the processes' anonymous pages then */
static unsigned int hagent_slow_base;		/* usual slow touched share, per mille */
static unsigned long hagent_decay_steps;	/* scan steps since the last halving */

/* Full pace for four passes from now, with no halving in between. */
static void hagent_pace_restart(void)
{
	hagent_new_steps = 0;
	hagent_decay_steps = 0;
}

static void hagent_scan_pace(const struct hagent_abit_tally *s, unsigned long total)
{
	unsigned int div = clamp(READ_ONCE(hagent_scan_idle_div), 1U, 64U), frac;
	unsigned long now = jiffies;
	bool busy = false;

	/*
	 * A rate over the settling time, not a count per step: promotions come
	 * in bursts as the scan reaches a range, and an idle-pace step lasts
	 * scan_idle_div times longer.
	 */
	if (time_after_eq(now, hagent_moved_since + HAGENT_SETTLE_TIME)) {
		if (hagent_moved * HZ > HAGENT_MOVED_TRICKLE * (now - hagent_moved_since)) {
			busy = true;
			hagent_gctr_add(HAGENT_GCTR_SCAN_WAKE_MOVED, 1);
		}
		hagent_moved = 0;
		hagent_moved_since = now;
	}
	if (total > hagent_last_total + hagent_last_total / 16 ||
	    total < hagent_last_total - hagent_last_total / 16) {
		busy = true;
		hagent_pace_restart();
		hagent_gctr_add(HAGENT_GCTR_SCAN_WAKE_SIZE, 1);
	}
	if (s->primed_slow >= 256) {
		frac = div64_u64((u64)s->touched_slow * 1000, s->primed_slow);
		if (frac > 2 * hagent_slow_base + 150) {
			busy = true;
			/* Most of a step's slow folios hot: a hot set came. */
			if (frac >= HAGENT_HOT_SET_FRAC &&
			    hagent_new_steps >= HAGENT_DECAY_PASSES * hagent_pass_steps)
				hagent_pace_restart();
			hagent_gctr_add(HAGENT_GCTR_SCAN_WAKE_SLOW, 1);
		}
		hagent_slow_base = (7 * hagent_slow_base + frac) / 8;
	}
	hagent_last_total = total;
	if (busy)
		hagent_busy_at = now;
	hagent_new_steps++;
	if (time_before(now, hagent_busy_at + HAGENT_SETTLE_TIME) ||
	    hagent_new_steps < HAGENT_DECAY_PASSES * hagent_pass_steps || div == 1) {
		hagent_scan_div = 1;
	} else {
		hagent_scan_div = div;
		hagent_gctr_add(HAGENT_GCTR_SCAN_IDLE_STEPS, 1);
	}
	hagent_gctr_add(HAGENT_GCTR_SCAN_STEPS, 1);
}

/* Least time between two revalidations of one process's table. */
#define HAGENT_REVALIDATE_TIME	(30 * HZ)

/* Least pages a process's share of a scan step may be: it keeps adopting. */
#define HAGENT_SCAN_MIN		1024UL

static unsigned long hagent_scan_size(struct hagent_target *t)
{
	return get_mm_counter(t->mm, MM_ANONPAGES);
}

/*
 * scan_pages bounds one scan step for all processes together, so the
 * sampler's cost does not grow with their number: each gets the share of
 * its anonymous memory, and every page is measured as often in a small
 * process as in a large one.
 */
static unsigned long hagent_scan_budget(struct hagent_target *t, unsigned long total)
{
	unsigned long pages = max(READ_ONCE(hagent_scan_pages), 1UL);

	if (total <= pages)
		return pages;
	return max(mult_frac(pages, hagent_scan_size(t), total), min(pages, HAGENT_SCAN_MIN));
}

/* When something last done at @last and due every @ms (at least 10) is due. */
static unsigned long hagent_due_at(unsigned long last, unsigned int ms)
{
	return last + msecs_to_jiffies(max(ms, 10U));
}

/* Between two scan steps, at the pace of the moment. */
static unsigned int hagent_scan_ms(void)
{
	return READ_ONCE(hagent_scan_interval_ms) * hagent_scan_div;
}

static bool hagent_due(unsigned long *last, unsigned int ms)
{
	if (time_before(jiffies, hagent_due_at(*last, ms)))
		return false;
	*last = jiffies;
	return true;
}

/*
 * Counts are halved once per decay_ms, but never before every folio has
 * been measured HAGENT_DECAY_PASSES times since the last halving.  A folio
 * touched in every window then counts 4-8, and one touched in a few of them
 * 0-2, so the hysteresis separates them whatever the process's size: a pass
 * over a large one takes longer than decay_ms (scan_pages bounds each step),
 * and halving more often than a folio is measured would keep every count at
 * 0 or 1.
 */
static bool hagent_decay_due(void)
{
	if (hagent_decay_steps < HAGENT_DECAY_PASSES * hagent_pass_steps ||
	    !hagent_due(&hagent_last_decay, READ_ONCE(hagent_decay_ms) * hagent_scan_div))
		return false;
	hagent_decay_steps = 0;
	return true;
}

/* Charges the time since *@t0 to module-wide counter @c; restarts the clock. */
static void hagent_clock(u64 *t0, enum hagent_gctr c)
{
	u64 now = ktime_get_ns();

	hagent_gctr_add(c, now - *t0);
	*t0 = now;
}

static void hagent_policy_step(void)
{
	struct hagent_target *t;
	/* Settled, both slow down alike: access counts keep their scale. */
	bool decay = hagent_decay_due();
	bool scan = hagent_due(&hagent_last_scan, hagent_scan_ms());
	u64 t0 = ktime_get_ns();

	mutex_lock(&hagent_targets_lock);
	hagent_gctr_add(HAGENT_GCTR_POLICY_ROUNDS, 1);
	hagent_sample_drain();
	hagent_clock(&t0, HAGENT_GCTR_POLICY_DRAIN_NS);
	if (decay) {
		list_for_each_entry(t, &hagent_targets, node) {
			mutex_lock(&t->lock);
			hagent_target_decay(t);
			mutex_unlock(&t->lock);
		}
		hagent_clock(&t0, HAGENT_GCTR_POLICY_DECAY_NS);
	}
	if (scan) {
		struct hagent_abit_tally tally = {};
		unsigned long total = 0, budget, pass = 1;

		list_for_each_entry(t, &hagent_targets, node)
			total += hagent_scan_size(t);
		/* Fresh faults sit in per-CPU batches, off the LRU: once for all. */
		if (total)
			hagent_sym.lru_add_drain_all();
		list_for_each_entry(t, &hagent_targets, node) {
			budget = hagent_scan_budget(t, total);
			pass = max(pass, DIV_ROUND_UP(hagent_scan_size(t), budget));
			hagent_target_scan(t, budget, false);
			/*
			 * A walk of the whole table that reads every folio: once
			 * per pass over the process, and at most once per
			 * HAGENT_REVALIDATE_TIME (a pass of a small process is
			 * a step or two).
			 */
			if (t->revalidated != t->ctr[HAGENT_CTR_SCANS] &&
			    (!t->revalidated_at ||
			     time_after_eq(jiffies, t->revalidated_at + HAGENT_REVALIDATE_TIME))) {
				t->revalidated = t->ctr[HAGENT_CTR_SCANS];
				t->revalidated_at = jiffies;
				hagent_target_revalidate(t);
			}
			cond_resched();
		}
		hagent_clock(&t0, HAGENT_GCTR_POLICY_SCAN_NS);
		if (READ_ONCE(hagent_abit)) {
			/* Nobody waits for hagentd while the windows last. */
			mutex_unlock(&hagent_targets_lock);
			hagent_abit_wait();
			mutex_lock(&hagent_targets_lock);
			t0 = ktime_get_ns();
			list_for_each_entry(t, &hagent_targets, node)
				hagent_target_measure(t, &tally);
			hagent_abit_adapt(tally.primed, tally.touched);
			hagent_clock(&t0, HAGENT_GCTR_POLICY_SCAN_NS);
		}
		hagent_scan_pace(&tally, total);
		hagent_pass_steps = pass;
		hagent_decay_steps++;
		/* What the scan sampled counts before this round's placement. */
		hagent_sample_drain();
		hagent_clock(&t0, HAGENT_GCTR_POLICY_DRAIN_NS);
	}
	hagent_batch_resize();
	hagent_refill();
	if (READ_ONCE(hagent_placement) && hagent_batch.cap) {
		hagent_place_all();
		hagent_clock(&t0, HAGENT_GCTR_POLICY_PLACE_NS);
	}
	mutex_unlock(&hagent_targets_lock);
}

/* Longest sleep between two rounds while settled: bounds a ring sample's wait. */
#define HAGENT_IDLE_ROUND_MS	500

/*
 * Jiffies until the next round: interval_ms, or while settled scan_idle_div
 * times that (at most HAGENT_IDLE_ROUND_MS), but never past the next scan
 * step.  A settled round finds nothing to move, and ten a second cost
 * nearly as much CPU as the idle scan (in the VM, settled hagentd fell from
 * 1.1% to 0.7% of a CPU); a sign of change is seen by a scan step, which
 * restores the full pace at once.
 */
static unsigned long hagent_round_sleep(void)
{
	unsigned long j = msecs_to_jiffies(max(READ_ONCE(hagent_interval_ms), 10U)), due;

	if (hagent_scan_div == 1)
		return j;
	j = min(j * hagent_scan_div, msecs_to_jiffies(HAGENT_IDLE_ROUND_MS));
	due = hagent_due_at(hagent_last_scan, hagent_scan_ms());
	if (time_before(jiffies, due))
		j = min(j, due - jiffies);
	return max(j, 1UL);
}

static int hagent_policy_fn(void *unused)
{
	while (!kthread_should_stop()) {
		schedule_timeout_interruptible(hagent_round_sleep());
		if (kthread_should_stop())
			break;
		hagent_policy_step();
	}
	return 0;
}

/* CPU time hagentd has run so far (scheduler accounting, up to a tick behind). */
u64 hagent_policy_cpu_ns(void)
{
	struct task_struct *task = READ_ONCE(hagent_policy_task);

	return task ? hagent_task_cpu_ns(task) : 0;
}

int hagent_policy_init(void)
{
	struct task_struct *task;
	int err;

	err = hagent_batch_init(&hagent_batch, clamp(hagent_migrate_batch, 16U, 65536U));
	if (err)
		return err;
	hagent_last_decay = hagent_last_scan = hagent_last_refill = hagent_busy_at =
		hagent_moved_since = jiffies;
	hagent_scan_div = 1;
	task = kthread_run(hagent_policy_fn, NULL, "hagentd");
	if (IS_ERR(task)) {
		hagent_batch_destroy(&hagent_batch);
		return PTR_ERR(task);
	}
	hagent_policy_task = task;
	return 0;
}

void hagent_policy_exit(void)
{
	kthread_stop(hagent_policy_task);
	hagent_policy_task = NULL;
	hagent_batch_destroy(&hagent_batch);
}
