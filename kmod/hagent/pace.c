// SPDX-License-Identifier: GPL-2.0
/*
 * The pace of sampling (see pace.h).
 *
 * The accessed-bit window.  A sample says "touched within the window", so
 * the window decides what hot means: too long and every page of a busy
 * process looks touched, the hot and the merely warm alike.  Unless
 * abit_window_ms fixes it, it adapts so that 10-30% of the folios primed
 * are found touched: it shrinks while more are (down to the time priming
 * itself takes) and grows while fewer are (up to scan_interval_ms).  One
 * window for every process keeps their access counts comparable, and the
 * placement compares them.  abit.window_us / abit.windows is its mean.
 * THPs get windows HPAGE_PMD_NR times shorter (hagent_pace_huge_window()).
 *
 * The scan's pace.  While placement is settled -- for 5 s nothing but a
 * trickle (under 1 MiB/s) moved, no folio above the bar waited for the rate
 * limit, no process came, went or grew much, and the slow tier's folios
 * come back touched no more often than usual -- scan steps and decay both
 * come scan_idle_div times less often, and so do the rounds between them
 * (hagent_pace_round_sleep()): the sampler then costs that much less, and a
 * hot set that stays put is not measured again and again.  Any of these
 * signs of change restores the full pace at once; the slow tier's touched
 * share is the one that notices a hot set moving into it, in the first
 * scan step that reaches it.  That step can be up to an idle pass away (16
 * steps of scan_pages for 1 GiB of base pages: 26 s at the defaults; a
 * THP is one entry, so 1 GiB of THPs is one step), so the idle pace
 * trades the sampler's settled cost against how soon a move is noticed, in
 * proportion: at 16 the benchmark's move went unnoticed for 25 s.
 *
 * Memory new to hagent (a process came or grew) and a hot set found moving
 * into the slow tier keep the full pace for four passes, not just 5 s: a
 * hot folio crosses the promotion bar only after four measurements, and a
 * pass over a large process outlasts the 5 s.  Both also restart the count
 * decay waits for (hagent_pace_decay_due()), so that no halving comes
 * between those four measurements.  A hot set is a step whose slow folios
 * came back touched at least half of them, outside four passes already
 * under way; other slow-tier wake-ups (a few hot folios left behind, which
 * a step finds after every convergence) only extend the 5 s: restarting
 * four passes for each kept the full pace going for 20 s at a time.
 *
 * Four passes make a hot folio promotable, not always movable: into a full
 * fast tier it moves only in place of folios colder by more than the
 * hysteresis, and a process first measured may have its hot set at 4-5
 * and its cold data at 2-3 after them.  While such a hot set waits in the
 * slow tier (hagent_place_above_bar()), the full pace goes on, up to
 * HAGENT_WAIT_PASSES passes from when the memory came: in the benchmark's
 * full-own the idle pace set in after the four, the counts then took 30 s
 * more to part, and the hot set reached 0.90 after 53 s (another run, with
 * the cold data counted one lower, 29 s).  The bound is for a hot set
 * larger than the fast tier, whose equals never part.
 */
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/moduleparam.h>
#include "pace.h"
#include "place.h"
#include "target.h"

unsigned int hagent_abit_window_ms;
module_param_named(abit_window_ms, hagent_abit_window_ms, uint, 0644);
MODULE_PARM_DESC(abit_window_ms, "Accessed-bit measuring window in ms; 0: adaptive (default)");

unsigned int hagent_scan_idle_div = 8;
module_param_named(scan_idle_div, hagent_scan_idle_div, uint, 0644);
MODULE_PARM_DESC(scan_idle_div, "Scan (and decay) this many times less often while placement is settled; 1: never (default 8)");

#define HAGENT_SETTLE_TIME	(5 * HZ)
#define HAGENT_MOVED_TRICKLE	256	/* pages per second (1 MiB/s) */
#define HAGENT_HOT_SET_FRAC	500	/* per mille of a step's slow folios touched */
#define HAGENT_WAIT_PASSES	16	/* full pace while a hot set waits, at most */
#define HAGENT_HUGE_WINDOW_MIN_US	20
/* How long a huge window waits for its process to be on a CPU, and how often it looks. */
#define HAGENT_HUGE_RUN_WAIT_US		8000
#define HAGENT_HUGE_RUN_POLL_US		500

static struct hagent_pace {
	unsigned int wait_us;		/* the adaptive window's wait */
	/*
	 * The touched share smoothed over steps (per mille): one step may
	 * prime a range of hot pages and the next a range of cold ones, and a
	 * window that followed each would swing back and forth.
	 */
	unsigned int touched_avg;
	unsigned long pass_steps;	/* scan steps a pass over every process takes */
	unsigned int div;		/* 1: full pace */
	unsigned long busy_at;		/* jiffies of the last sign of change */
	unsigned long new_steps;	/* scan steps since memory new to hagent (or a hot set) came */
	unsigned long moved_since;	/* jiffies moved_base was taken */
	unsigned long moved_base;	/* hagent_place_moved() then */
	unsigned long last_total;	/* the processes' anonymous pages then */
	unsigned int slow_base;		/* usual slow touched share, per mille */
	unsigned long decay_steps;	/* scan steps since the last halving */
	unsigned long top_steps;	/* hagent_pace_top_count(), in scan steps */
	unsigned long last_decay, last_scan;	/* jiffies */
} hagent_pace;

static unsigned int hagent_abit_wait_max(void)
{
	return max(READ_ONCE(hagent_scan_interval_ms), 1U) * USEC_PER_MSEC;
}

static unsigned int hagent_abit_wait_us(void)
{
	unsigned int fixed = READ_ONCE(hagent_abit_window_ms);

	return fixed ? fixed * USEC_PER_MSEC : min(hagent_pace.wait_us, hagent_abit_wait_max());
}

void hagent_pace_abit_wait(void)
{
	unsigned int us = hagent_abit_wait_us();

	if (us)
		usleep_range(us, us + us / 8);
}

/*
 * The huge window (adopt.c: hagent_target_huge_prime()), for every target
 * whose measured range held PMD-mapped folios: HPAGE_PMD_NR times shorter
 * than the base pages' windows just measured (their mean length, priming
 * included), so that a THP and a base page are counted touched at the same
 * access rate per base page.
 *
 * One target at a time, each measured right after its own window, and
 * while the process runs:
 *   - Priming every target first and then measuring them all made every
 *     window as long as the other targets' walks and TLB flushes.
 *   - The window is at least as long as asked, and the time its flush and
 *     measuring walk take is not taken off the sleep.  That is a few
 *     microseconds on hardware; under TCG it is most of the window (2.2 ms
 *     windows stood for 325 us ones), and taking it off (windows of 100-270
 *     us as asked) left the hot THPs of a full fast node counted touched no
 *     more often than the cold ones: after 90 s, counts of 1-2 against 0-3,
 *     none promoted on 6.1 (with it kept: 3-7 against 0-3, all promoted).
 *     Most likely an emulated CPU, which runs in its host thread's time
 *     slices, sees a busy process idle through a window much shorter than
 *     those; on hardware the window is as asked either way.
 *   - A window this short is shorter than a scheduler time slice.  A
 *     process that is off its CPU for the window looks as if it touched
 *     nothing: with three workloads sharing two CPUs, the hot THPs of one
 *     were counted touched in 52 of about 136 windows, and its hot set was
 *     never promoted.  So the window starts only once one of the process's
 *     threads is on a CPU (waiting up to HAGENT_HUGE_RUN_WAIT_US for it; an
 *     idle process is measured anyway, as what it is).
 * hagent_targets_lock stays held through these short sleeps.
 */
void hagent_pace_huge_window(struct hagent_abit_tally *tally)
{
	struct hagent_target *t;
	unsigned int us, waited;

	us = tally->windows ? div64_u64(tally->window_us, tally->windows) : hagent_abit_wait_us();
	us = max_t(unsigned int, us / HPAGE_PMD_NR, HAGENT_HUGE_WINDOW_MIN_US);
	list_for_each_entry(t, &hagent_targets, node) {
		if (t->huge_end <= t->huge_start)
			continue;
		for (waited = 0; waited < HAGENT_HUGE_RUN_WAIT_US && !hagent_target_running(t);
		     waited += HAGENT_HUGE_RUN_POLL_US)
			usleep_range(HAGENT_HUGE_RUN_POLL_US, HAGENT_HUGE_RUN_POLL_US + 100);
		if (!hagent_target_huge_prime(t))
			continue;
		usleep_range(us, us + us / 8 + 1);
		hagent_target_huge_measure(t, tally);
	}
}

static void hagent_pace_adapt_window(unsigned long primed, unsigned long touched)
{
	unsigned int us = min(hagent_pace.wait_us, hagent_abit_wait_max()), avg;

	if (primed < 64)
		return;		/* too few folios to tell */
	avg = (3 * hagent_pace.touched_avg + div64_u64((u64)touched * 1000, primed)) / 4;
	hagent_pace.touched_avg = avg;
	if (avg > 300)
		us = avg > 600 ? us / 2 : us - us / 4;
	else if (avg < 100)
		us = us * 2 + 1000;
	hagent_pace.wait_us = min(us, hagent_abit_wait_max());
}

/* Full pace for four passes from now, with no halving in between. */
static void hagent_pace_restart(void)
{
	hagent_pace.new_steps = 0;
	hagent_pace.decay_steps = 0;
}

static void hagent_pace_scan(const struct hagent_abit_tally *s, unsigned long total)
{
	struct hagent_pace *p = &hagent_pace;
	unsigned int div = clamp(READ_ONCE(hagent_scan_idle_div), 1U, 64U), frac;
	unsigned long now = jiffies, moved;
	bool busy = false;

	/*
	 * A rate over the settling time, not a count per step: promotions come
	 * in bursts as the scan reaches a range, and an idle-pace step lasts
	 * scan_idle_div times longer.
	 */
	if (time_after_eq(now, p->moved_since + HAGENT_SETTLE_TIME)) {
		moved = hagent_place_moved() - p->moved_base;
		if (moved * HZ > HAGENT_MOVED_TRICKLE * (now - p->moved_since)) {
			busy = true;
			hagent_gctr_add(HAGENT_GCTR_SCAN_WAKE_MOVED, 1);
		}
		p->moved_base = hagent_place_moved();
		p->moved_since = now;
	}
	/* Folios above the bar still waiting: not settled, whatever moved. */
	if (hagent_place_pending())
		busy = true;
	/* A hot set waiting for its counts to part from the fast tier's. */
	if (hagent_place_above_bar() && p->new_steps < HAGENT_WAIT_PASSES * p->pass_steps) {
		busy = true;
		hagent_gctr_add(HAGENT_GCTR_SCAN_WAKE_ABOVE_BAR, 1);
	}
	if (total > p->last_total + p->last_total / 16 ||
	    total < p->last_total - p->last_total / 16) {
		busy = true;
		hagent_pace_restart();
		hagent_gctr_add(HAGENT_GCTR_SCAN_WAKE_SIZE, 1);
	}
	if (s->primed_slow >= 256) {
		frac = div64_u64((u64)s->touched_slow * 1000, s->primed_slow);
		if (frac > 2 * p->slow_base + 150) {
			busy = true;
			/* Most of a step's slow folios hot: a hot set came. */
			if (frac >= HAGENT_HOT_SET_FRAC &&
			    p->new_steps >= HAGENT_DECAY_PASSES * p->pass_steps)
				hagent_pace_restart();
			hagent_gctr_add(HAGENT_GCTR_SCAN_WAKE_SLOW, 1);
		}
		p->slow_base = (7 * p->slow_base + frac) / 8;
	}
	p->last_total = total;
	if (busy)
		p->busy_at = now;
	p->new_steps++;
	if (time_before(now, p->busy_at + HAGENT_SETTLE_TIME) ||
	    p->new_steps < HAGENT_DECAY_PASSES * p->pass_steps || div == 1) {
		p->div = 1;
	} else {
		p->div = div;
		hagent_gctr_add(HAGENT_GCTR_SCAN_IDLE_STEPS, 1);
	}
	hagent_gctr_add(HAGENT_GCTR_SCAN_STEPS, 1);
}

void hagent_pace_step_done(const struct hagent_abit_tally *tally, unsigned long total,
			   unsigned long pass_steps)
{
	hagent_pace_adapt_window(tally->primed, tally->touched);
	hagent_pace_scan(tally, total);
	hagent_pace.pass_steps = pass_steps;
	/* Steps that measured nothing make no count: no halving, no measurements. */
	if (total) {
		hagent_pace.decay_steps++;
		if (READ_ONCE(hagent_abit))
			hagent_pace.top_steps++;
	}
}

/* When something last done at @last and due every @ms (at least 10) is due. */
static unsigned long hagent_due_at(unsigned long last, unsigned int ms)
{
	return last + msecs_to_jiffies(max(ms, 10U));
}

static bool hagent_due(unsigned long *last, unsigned int ms)
{
	if (time_before(jiffies, hagent_due_at(*last, ms)))
		return false;
	*last = jiffies;
	return true;
}

/* Between two scan steps, at the pace of the moment. */
static unsigned int hagent_scan_ms(void)
{
	return READ_ONCE(hagent_scan_interval_ms) * hagent_pace.div;
}

bool hagent_pace_scan_due(void)
{
	return hagent_due(&hagent_pace.last_scan, hagent_scan_ms());
}

/*
 * Counts are halved once per decay_ms, but never before every folio has
 * been measured HAGENT_DECAY_PASSES times since the last halving.  A folio
 * touched in every window then counts 4-8, and one touched in a few of them
 * 0-2, so the hysteresis separates them whatever the process's size: a pass
 * over a large one takes longer than decay_ms (scan_pages bounds each step),
 * and halving more often than a folio is measured would keep every count at
 * 0 or 1.  Settled, scan and decay slow down alike: counts keep their scale.
 */
bool hagent_pace_decay_due(void)
{
	if (hagent_pace.decay_steps < HAGENT_DECAY_PASSES * hagent_pace.pass_steps ||
	    !hagent_due(&hagent_pace.last_decay, READ_ONCE(hagent_decay_ms) * hagent_pace.div))
		return false;
	hagent_pace.decay_steps = 0;
	hagent_pace.top_steps /= 2;
	return true;
}

unsigned long hagent_pace_top_count(void)
{
	/* Counts stop at HAGENT_HOT_MAX (a decay_ms of hours, say). */
	return min_t(unsigned long, hagent_pace.top_steps / max(hagent_pace.pass_steps, 1UL),
		     HAGENT_HOT_MAX);
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
unsigned long hagent_pace_round_sleep(unsigned int interval_ms)
{
	unsigned long j = msecs_to_jiffies(max(interval_ms, 10U)), due;

	if (hagent_pace.div == 1)
		return j;
	j = min(j * hagent_pace.div, msecs_to_jiffies(HAGENT_IDLE_ROUND_MS));
	due = hagent_due_at(hagent_pace.last_scan, hagent_scan_ms());
	if (time_before(jiffies, due))
		j = min(j, due - jiffies);
	return max(j, 1UL);
}

void hagent_pace_init(void)
{
	struct hagent_pace *p = &hagent_pace;

	memset(p, 0, sizeof(*p));
	p->wait_us = U32_MAX;
	p->touched_avg = 200;
	p->pass_steps = 1;
	p->div = 1;
	p->last_decay = p->last_scan = p->busy_at = p->moved_since = jiffies;
}
