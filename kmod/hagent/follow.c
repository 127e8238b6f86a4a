// SPDX-License-Identifier: GPL-2.0
/*
 * Following a workload: what a followed process forks is managed too, and
 * so is a followed process again after its exec.
 *
 * ENABLE with HAGENT_A_FOLLOW makes a process followed (the root of a
 * workload).  Three scheduler tracepoints, attached at load:
 *   sched_process_fork  a new process (not a thread) of a followed parent
 *                       is followed at once, before it has run, so that what
 *                       it forks in turn is followed too; it is enabled from
 *                       a work item, unless it shares its parent's address
 *                       space (vfork, posix_spawn): then at its exec;
 *   sched_process_exec  a followed process has a new address space (its
 *                       old target went with the old one): enabled again;
 *   sched_process_free  its last task is freed: forgotten.
 * A followed process is keyed by its signal_struct: shared by its threads,
 * kept across exec (unlike the leader's task, which a thread's exec
 * replaces), and freed only after its last task, whose free removes the key
 * first -- a pid number, by contrast, may be reused before that.
 *
 * Probes run with preemption off (the free one from an RCU callback): they
 * take only hagent_follow_lock (irqsave) and allocate atomically; a fork
 * whose record cannot be allocated, or beyond follow_max followed processes,
 * is not followed and counted (follow.missed; follow.enabled counts the
 * enables).  Enabling happens in a work
 * item, in process context, like a netlink ENABLE.
 */
#include <linux/hashtable.h>
#include <linux/llist.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include "follow.h"
#include "target.h"
#include "tracepoint.h"

unsigned int hagent_follow_max = 4096;
module_param_named(follow_max, hagent_follow_max, uint, 0644);
MODULE_PARM_DESC(follow_max, "Most processes followed at once, all workloads together (default 4096)");

struct hagent_follow {
	struct hlist_node node;		/* in hagent_follow_hash */
	struct signal_struct *sig;	/* the key; not referenced: removed before it is freed */
	pid_t workload;			/* tgid of the workload's root */
	nodemask_t fast, slow;
	struct rcu_head rcu;
};

/* A process to enable (again): queued by the probes, run by the work item. */
struct hagent_follow_req {
	struct llist_node node;
	struct pid *pid;		/* referenced */
	pid_t workload;
	nodemask_t fast, slow;
};

static DEFINE_HASHTABLE(hagent_follow_hash, 8);
static DEFINE_SPINLOCK(hagent_follow_lock);
static unsigned int hagent_followed;	/* entries; under hagent_follow_lock */
static LLIST_HEAD(hagent_follow_queue);
static bool hagent_follow_live;		/* probes attached */
static bool hagent_follow_stopping;	/* unloading: queued enables are dropped */

static void hagent_follow_work_fn(struct work_struct *work);
static DECLARE_WORK(hagent_follow_work, hagent_follow_work_fn);

/* Under RCU or hagent_follow_lock. */
static struct hagent_follow *hagent_follow_find(struct signal_struct *sig)
{
	struct hagent_follow *f;

	hash_for_each_possible_rcu(hagent_follow_hash, f, node, (unsigned long)sig)
		if (f->sig == sig)
			return f;
	return NULL;
}

/*
 * Follows @sig's process for @workload: 1 when it was not followed yet, 0
 * when it was (the first record stays), -ENOSPC beyond follow_max or without
 * memory (counted as missed).
 */
static int hagent_follow_insert(struct signal_struct *sig, pid_t workload,
				const nodemask_t *fast, const nodemask_t *slow, gfp_t gfp)
{
	struct hagent_follow *f = kmalloc(sizeof(*f), gfp | __GFP_NOWARN);
	unsigned long flags;
	int ret = -ENOSPC;

	if (!f)
		goto missed;
	f->sig = sig;
	f->workload = workload;
	f->fast = *fast;
	f->slow = *slow;
	spin_lock_irqsave(&hagent_follow_lock, flags);
	if (hagent_follow_find(sig)) {
		ret = 0;
	} else if (hagent_followed < READ_ONCE(hagent_follow_max)) {
		hash_add_rcu(hagent_follow_hash, &f->node, (unsigned long)sig);
		hagent_followed++;
		f = NULL;
		ret = 1;
	}
	spin_unlock_irqrestore(&hagent_follow_lock, flags);
	kfree(f);
	if (ret >= 0)
		return ret;
missed:
	hagent_gctr_add(HAGENT_GCTR_FOLLOW_MISSED, 1);
	return -ENOSPC;
}

static void hagent_follow_remove(struct signal_struct *sig)
{
	struct hagent_follow *f;
	unsigned long flags;

	spin_lock_irqsave(&hagent_follow_lock, flags);
	f = hagent_follow_find(sig);
	if (f) {
		hash_del_rcu(&f->node);
		hagent_followed--;
	}
	spin_unlock_irqrestore(&hagent_follow_lock, flags);
	if (f)
		kfree_rcu(f, rcu);
}

/* Queues @task's process to be enabled as @f's workload. */
static void hagent_follow_queue_enable(struct task_struct *task, const struct hagent_follow *f)
{
	struct hagent_follow_req *r = kmalloc(sizeof(*r), GFP_ATOMIC | __GFP_NOWARN);

	if (!r) {
		hagent_gctr_add(HAGENT_GCTR_FOLLOW_MISSED, 1);
		return;
	}
	r->pid = get_task_pid(task, PIDTYPE_TGID);
	r->workload = f->workload;
	r->fast = f->fast;
	r->slow = f->slow;
	llist_add(&r->node, &hagent_follow_queue);
	schedule_work(&hagent_follow_work);
}

static void hagent_follow_fork_probe(void *data, struct task_struct *parent,
				     struct task_struct *child)
{
	const struct hagent_follow *f;

	if (!READ_ONCE(hagent_followed) || !thread_group_leader(child))
		return;		/* nothing followed, or a new thread of the same process */
	rcu_read_lock();
	f = hagent_follow_find(parent->signal);
	if (f && hagent_follow_insert(child->signal, f->workload, &f->fast, &f->slow, GFP_ATOMIC) >= 0 &&
	    child->mm && child->mm != parent->mm)
		hagent_follow_queue_enable(child, f);
	rcu_read_unlock();
}

static void hagent_follow_exec_probe(void *data, struct task_struct *p, pid_t old_pid,
				     struct linux_binprm *bprm)
{
	const struct hagent_follow *f;

	if (!READ_ONCE(hagent_followed))
		return;
	rcu_read_lock();
	f = hagent_follow_find(p->signal);
	if (f)
		hagent_follow_queue_enable(p, f);
	rcu_read_unlock();
}

static void hagent_follow_free_probe(void *data, struct task_struct *p)
{
	/* The leader goes last (a zombie leader waits for its threads). */
	if (READ_ONCE(hagent_followed) && thread_group_leader(p))
		hagent_follow_remove(p->signal);
}

static void hagent_follow_work_fn(struct work_struct *work)
{
	struct llist_node *list = llist_reverse_order(llist_del_all(&hagent_follow_queue));
	struct hagent_follow_req *r, *next;

	llist_for_each_entry_safe(r, next, list, node) {
		struct task_struct *task = get_pid_task(r->pid, PIDTYPE_TGID);
		pid_t tgid;

		/* Gone already, or managed already (a second exec raced the first). */
		if (task && !READ_ONCE(hagent_follow_stopping)) {
			if (!hagent_target_start(task, &r->fast, &r->slow, r->workload, NULL, &tgid))
				hagent_gctr_add(HAGENT_GCTR_FOLLOW_ENABLED, 1);
		}
		if (task)
			put_task_struct(task);
		put_pid(r->pid);
		kfree(r);
		cond_resched();
	}
}

int hagent_follow_add(struct task_struct *task, pid_t workload,
		      const nodemask_t *fast, const nodemask_t *slow)
{
	if (!hagent_follow_live)
		return -EOPNOTSUPP;
	return hagent_follow_insert(task->signal, workload, fast, slow, GFP_KERNEL);
}

void hagent_follow_forget(pid_t tgid)
{
	struct task_struct *task;
	struct pid *p = find_get_pid(tgid);

	task = p ? get_pid_task(p, PIDTYPE_TGID) : NULL;
	put_pid(p);
	if (!task)
		return;
	hagent_follow_remove(task->signal);
	put_task_struct(task);
}

static struct hagent_tp hagent_follow_tps[] = {
	{ .name = "sched_process_fork", .probe = hagent_follow_fork_probe },
	{ .name = "sched_process_exec", .probe = hagent_follow_exec_probe },
	{ .name = "sched_process_free", .probe = hagent_follow_free_probe },
};

/* Without the tracepoints hagent loads, and refuses to follow. */
void hagent_follow_init(void)
{
	hagent_tp_find(hagent_follow_tps, ARRAY_SIZE(hagent_follow_tps));
	hagent_follow_stopping = false;
	hagent_follow_live = !hagent_tp_attach(hagent_follow_tps, ARRAY_SIZE(hagent_follow_tps),
					       "follow");
}

/* First at unload, before netlink: nothing is enabled once this returns. */
void hagent_follow_exit(void)
{
	struct hagent_follow *f;
	struct hlist_node *tmp;
	int bkt;

	if (hagent_follow_live) {
		hagent_tp_detach(hagent_follow_tps, ARRAY_SIZE(hagent_follow_tps));
		hagent_follow_live = false;
	}
	WRITE_ONCE(hagent_follow_stopping, true);
	flush_work(&hagent_follow_work);
	hash_for_each_safe(hagent_follow_hash, bkt, tmp, f, node) {
		hash_del(&f->node);
		kfree(f);
	}
	hagent_followed = 0;
}
