// SPDX-License-Identifier: GPL-2.0
/*
 * Managing a cgroup v2: every process in it (or in a cgroup below it),
 * every process that starts there and every process moved there, until it
 * moves out -- then it is given back.
 *
 * ENABLE with HAGENT_A_CGROUP (the cgroup's id: its directory's inode
 * number) adds a watch, then enables the processes already inside.  From
 * the moment the watch is listed, nothing that enters is missed:
 *   fork         follow.c's sched_process_fork probe asks
 *                hagent_cgroup_workload() for the child (after
 *                cgroup_post_fork: its cgroup is set, CLONE_INTO_CGROUP too);
 *   migration    the cgroup_attach_task tracepoint, after a task or thread
 *                group moved (cgroup.procs), tells follow.c, which enables
 *                the process or gives it back from its work item;
 *   exec         follow.c enables the new address space, as for --follow.
 * A process found both by the walk and a probe is enabled once (EEXIST).
 * Watches never nest (refused), so a process is in at most one.
 *
 * The watch holds a reference on its cgroup; the probes read the list under
 * RCU, the netlink commands change it under hagent_cgroup_mutex, held
 * across a whole enable or disable so that the two never interleave.
 */
#include <linux/cgroup.h>
#include <linux/mm.h>
#include <linux/rculist.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include "cgroup.h"
#include "compat.h"
#include "follow.h"
#include "netlink.h"
#include "target.h"
#include "tracepoint.h"

struct hagent_cgroup_watch {
	struct list_head node;		/* in hagent_cgroup_watches (RCU) */
	struct cgroup *cgrp;		/* referenced */
	struct hagent_workload wl;	/* .cgroup: its id */
};

static LIST_HEAD(hagent_cgroup_watches);
static DEFINE_MUTEX(hagent_cgroup_mutex);
static unsigned int hagent_cgroups_watched;	/* written under the mutex */
static bool hagent_cgroup_live;			/* the probe is attached */

/* Under RCU: the watch whose cgroup is @cgrp or holds it. */
static struct hagent_cgroup_watch *hagent_cgroup_find(struct cgroup *cgrp)
{
	struct hagent_cgroup_watch *w;

	list_for_each_entry_rcu(w, &hagent_cgroup_watches, node)
		if (cgroup_is_descendant(cgrp, w->cgrp))
			return w;
	return NULL;
}

const struct hagent_workload *hagent_cgroup_workload(struct task_struct *task)
{
	struct hagent_cgroup_watch *w;

	if (!READ_ONCE(hagent_cgroups_watched))
		return NULL;
	w = hagent_cgroup_find(task_dfl_cgroup(task));
	return w ? &w->wl : NULL;
}

/*
 * After a task (@threadgroup: with its whole process) moved to @dst, with
 * trace_cgroup_path_lock held (irqs off).  A thread moved alone (threaded
 * cgroups) does not move its process, nor does a move in a cgroup v1
 * hierarchy (hybrid systems): only the unified one counts.
 */
static void hagent_cgroup_attach_probe(void *data, struct cgroup *dst, const char *path,
				       struct task_struct *task, bool threadgroup)
{
	struct hagent_cgroup_watch *w;

	if (!READ_ONCE(hagent_cgroups_watched) || !thread_group_leader(task))
		return;
	rcu_read_lock();
	if (dst->root == task_dfl_cgroup(task)->root) {
		w = hagent_cgroup_find(dst);
		hagent_follow_moved(task, w ? &w->wl : NULL);
	}
	rcu_read_unlock();
}

static struct hagent_tp hagent_cgroup_tps[] = {
	{ .name = "cgroup_attach_task", .probe = hagent_cgroup_attach_probe },
};

/*
 * Enables every process in @w's cgroup now; how many were enabled.  Each is
 * followed first, so that what it forks meanwhile is not missed.
 */
static unsigned int hagent_cgroup_enable_members(struct hagent_cgroup_watch *w)
{
	unsigned int n = 0, found = 0, i, enabled = 0;
	struct task_struct *p;
	struct pid **pids;

	rcu_read_lock();
	for_each_process(p)
		n++;
	rcu_read_unlock();
	/* Those alive now were alive at the count; later ones the probes take. */
	pids = kvmalloc_array(n, sizeof(*pids), GFP_KERNEL);
	if (!pids)
		return 0;
	rcu_read_lock();
	for_each_process(p) {
		if (found == n)
			break;
		if (!(p->flags & PF_KTHREAD) && cgroup_is_descendant(task_dfl_cgroup(p), w->cgrp))
			pids[found++] = get_task_pid(p, PIDTYPE_TGID);
	}
	rcu_read_unlock();
	for (i = 0; i < found; i++) {
		struct task_struct *task = get_pid_task(pids[i], PIDTYPE_TGID);
		pid_t tgid;

		if (task) {
			if (hagent_follow_add(task, &w->wl) >= 0 &&
			    !hagent_target_start(task, &w->wl, NULL, &tgid))
				enabled++;
			put_task_struct(task);
		}
		put_pid(pids[i]);
		cond_resched();
	}
	kvfree(pids);
	return enabled;
}

int hagent_cgroup_enable(u64 id, const char *fast, const char *slow,
			 struct netlink_ext_ack *extack)
{
	struct hagent_cgroup_watch *w, *other;
	struct cgroup *cgrp;
	unsigned int n;
	int err;

	if (!hagent_cgroup_live) {
		NL_SET_ERR_MSG(extack, "cannot manage a cgroup: the cgroup_attach_task or scheduler tracepoints are missing");
		return -EOPNOTSUPP;
	}
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	err = hagent_target_tiers(fast, slow, &w->wl.fast, &w->wl.slow, extack);
	if (err)
		goto free;
	cgrp = cgroup_get_from_id(id);	/* cgroup v2 only */
	if (IS_ERR(cgrp)) {
		HAGENT_SET_ERR_MSG_FMT(extack, "no cgroup v2 with id %llu", id);
		err = -ENOENT;
		goto free;
	}
	w->cgrp = cgrp;
	w->wl.cgroup = id;

	mutex_lock(&hagent_cgroup_mutex);
	list_for_each_entry(other, &hagent_cgroup_watches, node) {
		if (cgroup_is_descendant(cgrp, other->cgrp) ||
		    cgroup_is_descendant(other->cgrp, cgrp)) {
			if (other->cgrp == cgrp)
				HAGENT_SET_ERR_MSG_FMT(extack, "cgroup %llu is managed already", id);
			else
				HAGENT_SET_ERR_MSG_FMT(extack,
						       "cgroup %llu is inside or above cgroup %llu, managed already",
						       id, other->wl.cgroup);
			err = -EEXIST;
			goto unlock;
		}
	}
	if (hagent_cgroups_watched >= HAGENT_CGROUPS_MAX) {
		HAGENT_SET_ERR_MSG_FMT(extack, "%d cgroups are managed already, the most there can be",
				       HAGENT_CGROUPS_MAX);
		err = -ENOSPC;
		goto unlock;
	}
	list_add_tail_rcu(&w->node, &hagent_cgroup_watches);
	WRITE_ONCE(hagent_cgroups_watched, hagent_cgroups_watched + 1);
	n = hagent_cgroup_enable_members(w);
	hagent_event_send(HAGENT_EV_TARGET_ENABLED, 0, GFP_KERNEL,
			  "managing cgroup %llu: %u processes in it enabled", id, n);
	mutex_unlock(&hagent_cgroup_mutex);
	return 0;

unlock:
	mutex_unlock(&hagent_cgroup_mutex);
	cgroup_put(cgrp);
free:
	kfree(w);
	return err;
}

/* Under hagent_cgroup_mutex: unlists @w, gives its processes back, frees it. */
static unsigned int hagent_cgroup_stop(struct hagent_cgroup_watch *w)
{
	unsigned int n;

	list_del_rcu(&w->node);
	WRITE_ONCE(hagent_cgroups_watched, hagent_cgroups_watched - 1);
	synchronize_rcu();		/* no probe finds @w now, */
	hagent_follow_forget_cgroup(w->wl.cgroup);
	synchronize_rcu();		/* nor one of its processes' records, */
	hagent_follow_flush();		/* and what they queued has run */
	n = hagent_target_disable_cgroup(w->wl.cgroup);
	cgroup_put(w->cgrp);
	kfree(w);
	return n;
}

int hagent_cgroup_disable(u64 id, struct netlink_ext_ack *extack)
{
	struct hagent_cgroup_watch *w;
	unsigned int n;

	mutex_lock(&hagent_cgroup_mutex);
	list_for_each_entry(w, &hagent_cgroup_watches, node)
		if (w->wl.cgroup == id)
			break;
	if (list_entry_is_head(w, &hagent_cgroup_watches, node)) {
		mutex_unlock(&hagent_cgroup_mutex);
		HAGENT_SET_ERR_MSG_FMT(extack, "cgroup %llu is not managed", id);
		return -ENOENT;
	}
	n = hagent_cgroup_stop(w);
	hagent_event_send(HAGENT_EV_TARGET_DISABLED, 0, GFP_KERNEL,
			  "stopped managing cgroup %llu: %u processes given back", id, n);
	mutex_unlock(&hagent_cgroup_mutex);
	return 0;
}

/* After follow_init: without its probes a watch would miss forks. */
void hagent_cgroup_init(void)
{
	hagent_tp_find(hagent_cgroup_tps, ARRAY_SIZE(hagent_cgroup_tps));
	hagent_cgroup_live = hagent_follow_available() &&
			     !hagent_tp_attach(hagent_cgroup_tps, ARRAY_SIZE(hagent_cgroup_tps),
					       "cgroup");
}

void hagent_cgroup_exit(void)
{
	struct hagent_cgroup_watch *w, *tmp;

	if (hagent_cgroup_live) {
		hagent_tp_detach(hagent_cgroup_tps, ARRAY_SIZE(hagent_cgroup_tps));
		hagent_cgroup_live = false;
	}
	mutex_lock(&hagent_cgroup_mutex);
	list_for_each_entry_safe(w, tmp, &hagent_cgroup_watches, node)
		hagent_cgroup_stop(w);
	mutex_unlock(&hagent_cgroup_mutex);
}
