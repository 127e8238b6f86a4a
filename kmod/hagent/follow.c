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
 * A cgroup workload (cgroup.c) follows by membership instead: a new process
 * in a managed cgroup is followed and enabled whoever its parent is, one
 * moved in is enabled from the cgroup_attach_task probe (hagent_follow_moved),
 * one moved out is given back (a "leave" request) -- its parent's workload
 * does not matter.
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
#include "cgroup.h"
#include "follow.h"
#include "netlink.h"
#include "target.h"
#include "tracepoint.h"

unsigned int hagent_follow_max = 4096;
module_param_named(follow_max, hagent_follow_max, uint, 0644);
MODULE_PARM_DESC(follow_max, "Most processes followed at once, all workloads together (default 4096)");

unsigned int hagent_workload_max = 1024;
module_param_named(workload_max, hagent_workload_max, uint, 0644);
MODULE_PARM_DESC(workload_max, "Most processes one workload (a followed tree, a managed cgroup) has followed at once (default 1024)");

struct hagent_follow {
	struct hlist_node node;		/* in hagent_follow_hash */
	struct signal_struct *sig;	/* the key; not referenced: removed before it is freed */
	struct hagent_workload wl;
	struct rcu_head rcu;
};

/*
 * What the probes queue for the work item, which runs it in order: a
 * process to enable (again), one to give back because it left its cgroup
 * workload, or a workload that reached workload_max to report (the event is
 * built there, not in a probe that may run with interrupts off).
 */
enum hagent_follow_op {
	HAGENT_FOLLOW_ENABLE,
	HAGENT_FOLLOW_LEAVE,		/* give back, if managed in wl.cgroup */
	HAGENT_FOLLOW_LIMIT,
};

struct hagent_follow_req {
	struct llist_node node;
	enum hagent_follow_op op;
	struct pid *pid;		/* referenced; NULL for a limit */
	unsigned int max;		/* for a limit: workload_max then */
	struct hagent_workload wl;
};

/* How many processes a workload has followed: at most workload_max. */
struct hagent_follow_count {
	struct hlist_node node;		/* in hagent_follow_counts */
	pid_t root;			/* the workload, as in struct hagent_workload */
	u64 cgroup;
	unsigned int n;
	bool warned;			/* its limit was reported */
};

static DEFINE_HASHTABLE(hagent_follow_hash, 8);
static DEFINE_HASHTABLE(hagent_follow_counts, 6);	/* under hagent_follow_lock */
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

static unsigned long hagent_follow_count_key(const struct hagent_workload *wl)
{
	return wl->cgroup ? (unsigned long)wl->cgroup : (unsigned long)wl->root;
}

/* Under hagent_follow_lock: @wl's count, NULL when it has none. */
static struct hagent_follow_count *hagent_follow_count_find(const struct hagent_workload *wl)
{
	struct hagent_follow_count *c;

	hash_for_each_possible(hagent_follow_counts, c, node, hagent_follow_count_key(wl))
		if (c->root == wl->root && c->cgroup == wl->cgroup)
			return c;
	return NULL;
}

/* Under hagent_follow_lock: one process fewer in @wl. */
static void hagent_follow_count_put(const struct hagent_workload *wl)
{
	struct hagent_follow_count *c = hagent_follow_count_find(wl);

	if (c && !--c->n) {
		hash_del(&c->node);
		kfree(c);
	}
}

static void hagent_follow_queue_req(struct hagent_follow_req *r)
{
	llist_add(&r->node, &hagent_follow_queue);
	schedule_work(&hagent_follow_work);
}

/* Queues the report that @wl reached its limit of @max processes. */
static void hagent_follow_over_limit(const struct hagent_workload *wl, unsigned int max)
{
	struct hagent_follow_req *r = kzalloc(sizeof(*r), GFP_ATOMIC | __GFP_NOWARN);

	if (!r)
		return;		/* counted in follow.over_limit all the same */
	r->op = HAGENT_FOLLOW_LIMIT;
	r->max = max;
	r->wl = *wl;
	hagent_follow_queue_req(r);
}

static void hagent_follow_report_limit(const struct hagent_follow_req *r)
{
	if (r->wl.cgroup)
		hagent_event_send(HAGENT_EV_WORKLOAD_LIMIT, 0, GFP_KERNEL,
				  "cgroup %llu has workload_max=%u processes managed: what else enters it is not managed",
				  r->wl.cgroup, r->max);
	else
		hagent_event_send(HAGENT_EV_WORKLOAD_LIMIT, r->wl.root, GFP_KERNEL,
				  "the workload of pid %d has workload_max=%u processes managed: what else it forks is not managed",
				  r->wl.root, r->max);
}

/*
 * Follows @sig's process in @wl: 1 when it was not followed yet, 0 when it
 * was (the first record stays), -ENOSPC beyond follow_max or without memory
 * (counted as missed), -EDQUOT beyond workload_max (follow.over_limit; the
 * first time an event says so).
 */
static int hagent_follow_insert(struct signal_struct *sig, const struct hagent_workload *wl,
				gfp_t gfp)
{
	struct hagent_follow *f = kmalloc(sizeof(*f), gfp | __GFP_NOWARN);
	unsigned int max = READ_ONCE(hagent_workload_max);
	struct hagent_follow_count *spare = NULL;
	struct hagent_follow_count *c;
	bool warn = false;
	unsigned long flags;
	int ret;

	if (!f)
		goto missed;
	f->sig = sig;
	f->wl = *wl;
again:
	ret = -ENOSPC;
	spin_lock_irqsave(&hagent_follow_lock, flags);
	c = hagent_follow_count_find(wl);
	if (hagent_follow_find(sig)) {
		ret = 0;
	} else if (c && c->n >= max) {
		ret = -EDQUOT;
		warn = !c->warned;
		c->warned = true;
	} else if (hagent_followed < READ_ONCE(hagent_follow_max)) {
		if (!c && !spare) {
			/* The workload's first process: its count, allocated unlocked. */
			spin_unlock_irqrestore(&hagent_follow_lock, flags);
			spare = kzalloc(sizeof(*spare), gfp | __GFP_NOWARN);
			if (!spare)
				goto missed;
			goto again;
		}
		if (!c) {
			c = spare;
			spare = NULL;
			c->root = wl->root;
			c->cgroup = wl->cgroup;
			hash_add(hagent_follow_counts, &c->node, hagent_follow_count_key(wl));
		}
		c->n++;
		hash_add_rcu(hagent_follow_hash, &f->node, (unsigned long)sig);
		hagent_followed++;
		f = NULL;
		ret = 1;
	}
	spin_unlock_irqrestore(&hagent_follow_lock, flags);
	kfree(f);
	kfree(spare);
	if (ret == -EDQUOT) {
		hagent_gctr_add(HAGENT_GCTR_FOLLOW_OVER_LIMIT, 1);
		if (warn)
			hagent_follow_over_limit(wl, max);
	}
	if (ret != -ENOSPC)
		return ret;
	goto count;
missed:
	kfree(f);
count:
	hagent_gctr_add(HAGENT_GCTR_FOLLOW_MISSED, 1);
	return -ENOSPC;
}

/* Stops following @sig's process; only if it is in cgroup workload @cgroup unless 0. */
static bool hagent_follow_remove(struct signal_struct *sig, u64 cgroup)
{
	struct hagent_follow *f;
	unsigned long flags;

	spin_lock_irqsave(&hagent_follow_lock, flags);
	f = hagent_follow_find(sig);
	if (f && cgroup && f->wl.cgroup != cgroup)
		f = NULL;
	if (f) {
		hash_del_rcu(&f->node);
		hagent_followed--;
		hagent_follow_count_put(&f->wl);
	}
	spin_unlock_irqrestore(&hagent_follow_lock, flags);
	if (f)
		kfree_rcu(f, rcu);
	return f;
}

/* Queues @task's process to be enabled in @wl, or given back (@leave). */
static void hagent_follow_request(struct task_struct *task, const struct hagent_workload *wl,
				bool leave)
{
	struct hagent_follow_req *r = kmalloc(sizeof(*r), GFP_ATOMIC | __GFP_NOWARN);

	if (!r) {
		hagent_gctr_add(HAGENT_GCTR_FOLLOW_MISSED, 1);
		return;
	}
	r->op = leave ? HAGENT_FOLLOW_LEAVE : HAGENT_FOLLOW_ENABLE;
	r->pid = get_task_pid(task, PIDTYPE_TGID);
	r->wl = *wl;
	hagent_follow_queue_req(r);
}

static void hagent_follow_fork_probe(void *data, struct task_struct *parent,
				     struct task_struct *child)
{
	const struct hagent_workload *wl = NULL;
	const struct hagent_follow *f;

	if (!thread_group_leader(child))
		return;		/* a new thread of the same process */
	rcu_read_lock();
	if (READ_ONCE(hagent_followed)) {
		f = hagent_follow_find(parent->signal);
		if (f && !f->wl.cgroup)
			wl = &f->wl;
	}
	/* A cgroup workload takes whatever starts in its cgroup. */
	if (!wl)
		wl = hagent_cgroup_workload(child);
	if (wl && hagent_follow_insert(child->signal, wl, GFP_ATOMIC) >= 0 &&
	    child->mm && child->mm != parent->mm)
		hagent_follow_request(child, wl, false);
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
		hagent_follow_request(p, &f->wl, false);
	rcu_read_unlock();
}

static void hagent_follow_free_probe(void *data, struct task_struct *p)
{
	/* The leader goes last (a zombie leader waits for its threads). */
	if (READ_ONCE(hagent_followed) && thread_group_leader(p))
		hagent_follow_remove(p->signal, 0);
}

void hagent_follow_moved(struct task_struct *task, const struct hagent_workload *wl)
{
	const struct hagent_follow *f = NULL;

	if (task->flags & PF_KTHREAD)
		return;
	if (READ_ONCE(hagent_followed))
		f = hagent_follow_find(task->signal);
	if (f && f->wl.cgroup && (!wl || wl->cgroup != f->wl.cgroup)) {
		u64 left = f->wl.cgroup;

		if (hagent_follow_remove(task->signal, left))
			hagent_follow_request(task, &f->wl, true);
		f = NULL;
	}
	if (!f && wl && hagent_follow_insert(task->signal, wl, GFP_ATOMIC) > 0 && task->mm)
		hagent_follow_request(task, wl, false);
}

static void hagent_follow_work_fn(struct work_struct *work)
{
	struct llist_node *list = llist_reverse_order(llist_del_all(&hagent_follow_queue));
	struct hagent_follow_req *r, *next;

	llist_for_each_entry_safe(r, next, list, node) {
		struct task_struct *task = r->pid ? get_pid_task(r->pid, PIDTYPE_TGID) : NULL;
		pid_t tgid;

		if (r->op == HAGENT_FOLLOW_LIMIT)
			hagent_follow_report_limit(r);
		/* Gone already, or managed already (a second exec raced the first). */
		else if (task && !READ_ONCE(hagent_follow_stopping)) {
			if (r->op == HAGENT_FOLLOW_LEAVE)
				hagent_target_disable(task_tgid_nr(task), r->wl.cgroup, NULL);
			else if (!hagent_target_start(task, &r->wl, NULL, &tgid))
				hagent_gctr_add(HAGENT_GCTR_FOLLOW_ENABLED, 1);
		}
		if (task)
			put_task_struct(task);
		put_pid(r->pid);
		kfree(r);
		cond_resched();
	}
}

bool hagent_follow_available(void)
{
	return hagent_follow_live;
}

int hagent_follow_add(struct task_struct *task, const struct hagent_workload *wl)
{
	if (!hagent_follow_live)
		return -EOPNOTSUPP;
	return hagent_follow_insert(task->signal, wl, GFP_KERNEL);
}

void hagent_follow_forget(pid_t tgid)
{
	struct task_struct *task;
	struct pid *p = find_get_pid(tgid);

	task = p ? get_pid_task(p, PIDTYPE_TGID) : NULL;
	put_pid(p);
	if (!task)
		return;
	hagent_follow_remove(task->signal, 0);
	put_task_struct(task);
}

void hagent_follow_forget_cgroup(u64 cgroup)
{
	struct hagent_follow *f;
	struct hlist_node *tmp;
	unsigned long flags;
	int bkt;

	spin_lock_irqsave(&hagent_follow_lock, flags);
	hash_for_each_safe(hagent_follow_hash, bkt, tmp, f, node) {
		if (f->wl.cgroup != cgroup)
			continue;
		hash_del_rcu(&f->node);
		hagent_followed--;
		hagent_follow_count_put(&f->wl);
		kfree_rcu(f, rcu);
	}
	spin_unlock_irqrestore(&hagent_follow_lock, flags);
}

void hagent_follow_flush(void)
{
	flush_work(&hagent_follow_work);
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
	struct hagent_follow_count *c;
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
	hash_for_each_safe(hagent_follow_counts, bkt, tmp, c, node) {
		hash_del(&c->node);
		kfree(c);
	}
	hagent_followed = 0;
}
