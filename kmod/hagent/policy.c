// SPDX-License-Identifier: GPL-2.0
/*
 * The policy thread, hagentd: the one place where hagent does periodic work.
 * Every interval_ms, under hagent_targets_lock, it drains the sample rings
 * into the targets' sketches and heaps, halves every access count once per
 * decay_ms, and every scan_interval_ms visits each target to adopt folios
 * faulted in since the last pass and sample accessed bits (at most
 * scan_pages pages per target and pass, so the cost is bounded whatever the
 * process's size); once per complete pass it also gives back folios nobody
 * maps any more (a walk of the whole table, too dear for every step).
 *
 * Then it places.  For each target, from the heaps' tops:
 *   - while the slow tier's hottest folio has at least promote_min accesses
 *     and the fast nodes have free memory above their high watermarks plus
 *     fast_reserve_mb, it is promoted into that free memory;
 *   - when they have none, it is exchanged: the fast tier's coldest folios
 *     are demoted to make room, as long as the slow top is hotter than the
 *     fast top by more than hysteresis (so two lukewarm pages never trade
 *     places back and forth).
 * The moves of one round form a batch of at most migrate_batch pages, run by
 * migrate.c (demotions first).  A token bucket limits all targets together
 * to migrate_mbps MB/s; targets take turns being served first.
 */
#include <linux/freezer.h>
#include <linux/kthread.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/timekeeping.h>
#include "check.h"
#include "migrate.h"
#include "netlink.h"
#include "policy.h"
#include "sample.h"
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

unsigned int hagent_hysteresis = 1;
module_param_named(hysteresis, hagent_hysteresis, uint, 0644);
MODULE_PARM_DESC(hysteresis, "Exchange only when the slow top is hotter than the fast top by more than this (default 1)");

unsigned int hagent_promote_min = 1;
module_param_named(promote_min, hagent_promote_min, uint, 0644);
MODULE_PARM_DESC(promote_min, "Least access count a folio needs to be promoted (default 1)");

unsigned int hagent_fast_reserve_mb = 64;
module_param_named(fast_reserve_mb, hagent_fast_reserve_mb, uint, 0644);
MODULE_PARM_DESC(fast_reserve_mb, "MiB kept free above the fast nodes' high watermarks (default 64)");

static struct task_struct *hagent_policy_task;
static unsigned long hagent_last_decay, hagent_last_scan, hagent_last_refill;
static unsigned long hagent_tokens;	/* pages the rate limit lets move now */
static struct hagent_batch hagent_batch;
static unsigned int hagent_rotor;	/* which target is served first */

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
 * Under t->lock: fills the batch with at most @limit pages of moves.  Returns
 * the pages planned.
 */
static unsigned long hagent_plan(struct hagent_target *t, struct hagent_batch *b,
				 unsigned long limit)
{
	struct hagent_heap *fast = &t->heap[HAGENT_TIER_FAST], *slow = &t->heap[HAGENT_TIER_SLOW];
	unsigned int hyst = READ_ONCE(hagent_hysteresis);
	unsigned int min_hot = max(READ_ONCE(hagent_promote_min), 1U);
	/* Below the reserve already: exchange one for one, never demote to refill it. */
	long room = max(hagent_fast_room(t), 0L);
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

/* Rounds of planning and moving for @t until it has nothing worth moving. */
static void hagent_place(struct hagent_target *t)
{
	unsigned long limit, planned;
	int rounds;

	for (rounds = 0; rounds < 64 && hagent_tokens; rounds++) {
		limit = min_t(unsigned long, hagent_tokens, hagent_batch.cap);
		mutex_lock(&t->lock);
		planned = t->dead ? 0 : hagent_plan(t, &hagent_batch, limit);
		mutex_unlock(&t->lock);
		if (!hagent_batch.nr)
			return;
		hagent_tokens -= min(hagent_tokens, planned);
		hagent_batch_run(t, &hagent_batch);
		cond_resched();
	}
}

static void hagent_place_all(void)
{
	struct hagent_target *t;
	unsigned int n = 0, first;

	list_for_each_entry(t, &hagent_targets, node)
		n++;
	if (!n)
		return;
	first = hagent_rotor++ % n;
	/* Serve from the rotor's target to the end, then the rest. */
	n = 0;
	list_for_each_entry(t, &hagent_targets, node)
		if (n++ >= first)
			hagent_place(t);
	n = 0;
	list_for_each_entry(t, &hagent_targets, node)
		if (n++ < first)
			hagent_place(t);
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

static bool hagent_due(unsigned long *last, unsigned int ms)
{
	if (time_before(jiffies, *last + msecs_to_jiffies(max(ms, 10U))))
		return false;
	*last = jiffies;
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
	bool decay = hagent_due(&hagent_last_decay, READ_ONCE(hagent_decay_ms));
	bool scan = hagent_due(&hagent_last_scan, READ_ONCE(hagent_scan_interval_ms));
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
		list_for_each_entry(t, &hagent_targets, node) {
			hagent_target_scan(t, max(READ_ONCE(hagent_scan_pages), 1UL), false);
			/* Once per pass over the process: a walk of the whole table. */
			if (t->revalidated != t->ctr[HAGENT_CTR_SCANS]) {
				t->revalidated = t->ctr[HAGENT_CTR_SCANS];
				hagent_target_revalidate(t);
			}
			cond_resched();
		}
		hagent_clock(&t0, HAGENT_GCTR_POLICY_SCAN_NS);
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

static int hagent_policy_fn(void *unused)
{
	while (!kthread_should_stop()) {
		schedule_timeout_interruptible(msecs_to_jiffies(max(READ_ONCE(hagent_interval_ms), 10U)));
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

	return task ? READ_ONCE(task->se.sum_exec_runtime) : 0;
}

int hagent_policy_init(void)
{
	struct task_struct *task;
	int err;

	err = hagent_batch_init(&hagent_batch, clamp(hagent_migrate_batch, 16U, 65536U));
	if (err)
		return err;
	hagent_last_decay = hagent_last_scan = hagent_last_refill = jiffies;
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
