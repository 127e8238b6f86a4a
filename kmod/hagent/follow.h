/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_FOLLOW_H
#define _HAGENT_FOLLOW_H

#include <linux/nodemask.h>
#include <linux/types.h>

struct task_struct;

/*
 * What a managed process belongs to: its tiers, and the workload that
 * brought it in -- a followed root (enable --follow, hagentctl run), a
 * cgroup (enable --cgroup, cgroup.c), or neither (both 0).
 */
struct hagent_workload {
	nodemask_t fast, slow;
	pid_t root;		/* tgid of the followed root; 0: none */
	u64 cgroup;		/* id of the managed cgroup v2; 0: none */
};

/* Most processes followed at once (module parameter, tunable). */
extern unsigned int hagent_follow_max;
/* Most processes one workload has followed at once (likewise). */
extern unsigned int hagent_workload_max;

/* Attaches the scheduler probes; without them following is refused. */
void hagent_follow_init(void);
void hagent_follow_exit(void);
/* The probes are attached. */
bool hagent_follow_available(void);
/*
 * Follows @task's process in @wl: what it forks from now on is managed
 * too (for a cgroup workload, while the child is in the cgroup).  1 when it
 * was not followed yet, 0 when it was (the first workload stays),
 * -EOPNOTSUPP without the probes, -ENOSPC beyond follow_max, -EDQUOT beyond
 * workload_max.
 */
int hagent_follow_add(struct task_struct *task, const struct hagent_workload *wl);
/* Stops following process @tgid (disable). */
void hagent_follow_forget(pid_t tgid);
/* Stops following every process of cgroup workload @cgroup. */
void hagent_follow_forget_cgroup(u64 cgroup);
/*
 * @task's process moved to a cgroup, which @wl manages (NULL: none does):
 * it leaves the cgroup workload it was in, if any (given back), and joins
 * @wl's (managed).  Under RCU; any context.
 */
void hagent_follow_moved(struct task_struct *task, const struct hagent_workload *wl);
/* Waits until every enable or give-back queued so far has run. */
void hagent_follow_flush(void);

#endif /* _HAGENT_FOLLOW_H */
