/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_FOLLOW_H
#define _HAGENT_FOLLOW_H

#include <linux/nodemask.h>
#include <linux/types.h>

struct task_struct;

/* Most processes followed at once (module parameter, tunable). */
extern unsigned int hagent_follow_max;

/* Attaches the scheduler probes; without them following is refused. */
void hagent_follow_init(void);
void hagent_follow_exit(void);
/*
 * Follows @task's process, the root of @workload, with these tiers: what it
 * forks from now on is managed too.  1 when it was not followed yet, 0 when
 * it was already, -EOPNOTSUPP without the probes, -ENOSPC beyond follow_max.
 */
int hagent_follow_add(struct task_struct *task, pid_t workload,
		      const nodemask_t *fast, const nodemask_t *slow);
/* Stops following process @tgid (disable). */
void hagent_follow_forget(pid_t tgid);

#endif /* _HAGENT_FOLLOW_H */
