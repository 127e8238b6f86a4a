// SPDX-License-Identifier: GPL-2.0
/*
 * The policy thread, hagentd: the one place where hagent does periodic work.
 * Every scan_interval_ms, under hagent_targets_lock, it drains the sample
 * rings into the targets' sketches and heaps, halves every access count once
 * per decay_ms, and visits each target: adopts folios faulted in since the
 * last pass and samples accessed bits (at most scan_pages pages looked at
 * per target and interval, so the cost is bounded whatever the process's
 * size), then gives back folios nobody maps any more.
 */
#include <linux/freezer.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include "policy.h"
#include "sample.h"
#include "target.h"

static struct task_struct *hagent_policy_task;
static unsigned long hagent_last_decay;

static void hagent_policy_step(void)
{
	struct hagent_target *t;
	bool decay = time_after(jiffies, hagent_last_decay +
				msecs_to_jiffies(max(hagent_decay_ms, 10U)));

	mutex_lock(&hagent_targets_lock);
	hagent_sample_drain();
	if (decay) {
		hagent_last_decay = jiffies;
		list_for_each_entry(t, &hagent_targets, node) {
			mutex_lock(&t->lock);
			hagent_target_decay(t);
			mutex_unlock(&t->lock);
		}
	}
	list_for_each_entry(t, &hagent_targets, node) {
		hagent_target_scan(t, max(hagent_scan_pages, 1UL), false);
		hagent_target_revalidate(t);
		cond_resched();
	}
	mutex_unlock(&hagent_targets_lock);
}

static int hagent_policy_fn(void *unused)
{
	while (!kthread_should_stop()) {
		schedule_timeout_interruptible(msecs_to_jiffies(max(hagent_scan_interval_ms, 10U)));
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

	hagent_last_decay = jiffies;
	task = kthread_run(hagent_policy_fn, NULL, "hagentd");

	if (IS_ERR(task))
		return PTR_ERR(task);
	hagent_policy_task = task;
	return 0;
}

void hagent_policy_exit(void)
{
	kthread_stop(hagent_policy_task);
	hagent_policy_task = NULL;
}
