// SPDX-License-Identifier: GPL-2.0
/*
 * The policy thread, hagentd: the one place where hagent does periodic work.
 * Every interval_ms, under hagent_targets_lock, it drains the sample rings
 * into the targets' sketches and heaps, halves every access count when the
 * pace says so (pace.c), and every scan step visits each target to adopt
 * folios faulted in since the last step and sample accessed bits (at most
 * scan_pages mapped entries per step -- a PTE, or a PMD mapping a THP --
 * all targets together, so the cost is bounded whatever the processes'
 * number and size): it primes, waits the window
 * (pace.c), measures, and gives THPs a window of their own.  Once per
 * complete pass it also gives back folios nobody maps any more (a walk of
 * the whole table, too dear for every step, and at most every 30 s).  Then
 * it places (place.c, with the planner of plan.c), within the interval.
 */
#include <linux/freezer.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/timekeeping.h>
#include "check.h"
#include "hotplug.h"
#include "memcg.h"
#include "overhead.h"
#include "pace.h"
#include "place.h"
#include "policy.h"
#include "sample.h"
#include "symbols.h"
#include "target.h"

unsigned int hagent_interval_ms = 100;
module_param_named(interval_ms, hagent_interval_ms, uint, 0644);
MODULE_PARM_DESC(interval_ms, "Milliseconds between two policy rounds: drain samples, place (default 100)");

static struct task_struct *hagent_policy_task;

/* Least time between two revalidations of one process's table. */
#define HAGENT_REVALIDATE_TIME	(30 * HZ)

/*
 * A process's size to the scan: the mapped entries of its last whole pass
 * (or of this one, if it grew), its anonymous pages before it has had one.
 */
static unsigned long hagent_scan_size(struct hagent_target *t)
{
	if (!t->pass_entries)
		return get_mm_counter(t->mm, MM_ANONPAGES);
	return max(t->pass_entries, t->scan_entries);
}

/*
 * scan_pages bounds one scan step for all processes together, so the
 * sampler's cost does not grow with their number: a pass over all of them
 * (@total entries) takes the steps this returns, and so does a pass over
 * each, small or large, in THPs or in base pages, whose budget is its size
 * over them.  Every folio is then measured as often, and all counts are on
 * one scale (a process given more, as a floor of 1,024 entries a step once
 * did, counted up to three times faster than a large one beside it: its
 * THPs, in the benchmark's full-shared).
 */
static unsigned long hagent_scan_pass_steps(unsigned long total)
{
	return max(DIV_ROUND_UP(total, max(READ_ONCE(hagent_scan_pages), 1UL)), 1UL);
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
	bool decay = hagent_pace_decay_due();
	bool scan = hagent_pace_scan_due();
	u64 t0 = ktime_get_ns();

	/*
	 * Fresh faults sit in per-CPU batches, off the LRU: drained once for
	 * all targets, before the lock, since it waits on every CPU's worker.
	 */
	if (scan && !list_empty(&hagent_targets))
		hagent_sym.lru_add_drain_all();
	mutex_lock(&hagent_targets_lock);
	hagent_gctr_add(HAGENT_GCTR_POLICY_ROUNDS, 1);
	hagent_memcg_update();
	hagent_memcg_enforce();
	hagent_hotplug_give_back();
	list_for_each_entry(t, &hagent_targets, node)
		hagent_target_sweep_pinned(t);
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
		unsigned long total = 0, pass;

		list_for_each_entry(t, &hagent_targets, node)
			total += hagent_scan_size(t);
		pass = hagent_scan_pass_steps(total);
		list_for_each_entry(t, &hagent_targets, node) {
			hagent_target_scan(t, max(DIV_ROUND_UP(hagent_scan_size(t), pass), 1UL), false);
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
		/* What the scan adopted is in reclaim's reach during the windows. */
		hagent_memcg_mark();
		if (READ_ONCE(hagent_abit)) {
			/* Nobody waits for hagentd while the windows last. */
			mutex_unlock(&hagent_targets_lock);
			hagent_pace_abit_wait();
			mutex_lock(&hagent_targets_lock);
			t0 = ktime_get_ns();
			list_for_each_entry(t, &hagent_targets, node)
				hagent_target_measure(t, &tally);
			hagent_pace_huge_window(&tally);
			hagent_clock(&t0, HAGENT_GCTR_POLICY_SCAN_NS);
		}
		hagent_pace_step_done(&tally, total, pass);
		/* What the scan sampled counts before this round's placement. */
		hagent_sample_drain();
		hagent_clock(&t0, HAGENT_GCTR_POLICY_DRAIN_NS);
	}
	hagent_place_step(ktime_get_ns() +
			  (u64)max(READ_ONCE(hagent_interval_ms), 10U) * NSEC_PER_MSEC);
	hagent_clock(&t0, HAGENT_GCTR_POLICY_PLACE_NS);
	hagent_memcg_mark();
	mutex_unlock(&hagent_targets_lock);
}

static bool hagent_drain_wanted;

void hagent_policy_drain_soon(void)
{
	struct task_struct *task = READ_ONCE(hagent_policy_task);

	WRITE_ONCE(hagent_drain_wanted, true);
	if (task)
		wake_up_process(task);
}

/*
 * Sleeps @timeout jiffies, the pause between two rounds, draining the rings
 * whenever a half-full one asks (hagent_policy_drain_soon()).
 */
static void hagent_policy_sleep(long timeout)
{
	u64 t0;

	while (timeout > 0 && !kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!READ_ONCE(hagent_drain_wanted) && !kthread_should_stop())
			timeout = schedule_timeout(timeout);
		__set_current_state(TASK_RUNNING);
		try_to_freeze();
		if (!xchg(&hagent_drain_wanted, false) || timeout <= 0)
			continue;
		t0 = ktime_get_ns();
		mutex_lock(&hagent_targets_lock);
		hagent_sample_drain();
		mutex_unlock(&hagent_targets_lock);
		hagent_gctr_add(HAGENT_GCTR_POLICY_DRAINS, 1);
		hagent_clock(&t0, HAGENT_GCTR_POLICY_DRAIN_NS);
	}
}

/*
 * Freezable: suspend and hibernation stop hagentd between rounds, so no
 * migration runs while the system image is made or devices are down.
 */
static int hagent_policy_fn(void *unused)
{
	set_freezable();
	while (!kthread_should_stop()) {
		hagent_policy_sleep(hagent_pace_round_sleep(READ_ONCE(hagent_interval_ms)));
		try_to_freeze();
		if (kthread_should_stop())
			break;
		WRITE_ONCE(hagent_drain_wanted, false);	/* the round drains */
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

	err = hagent_place_init();
	if (err)
		return err;
	hagent_pace_init();
	task = kthread_run(hagent_policy_fn, NULL, "hagentd");
	if (IS_ERR(task)) {
		hagent_place_exit();
		return PTR_ERR(task);
	}
	hagent_policy_task = task;
	return 0;
}

void hagent_policy_exit(void)
{
	struct task_struct *task = hagent_policy_task;

	/* No drain request still holds the task once it is stopped. */
	WRITE_ONCE(hagent_policy_task, NULL);
	hagent_sample_kick_sync();
	kthread_stop(task);
	hagent_place_exit();
}
