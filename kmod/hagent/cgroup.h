/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_CGROUP_H
#define _HAGENT_CGROUP_H

#include <linux/types.h>

struct netlink_ext_ack;
struct task_struct;
struct hagent_workload;

/* Most cgroups managed at once. */
#define HAGENT_CGROUPS_MAX	64

/* Attaches the cgroup_attach_task probe; without it cgroups are refused. */
void hagent_cgroup_init(void);
/* First at unload: no cgroup workload is left, nor the probe. */
void hagent_cgroup_exit(void);
/*
 * Manages every process in cgroup v2 @id (and its descendants), and every
 * process that starts in it or moves into it from now on, in tiers given
 * as node lists (NULL: the default); a process moved out is given back.
 */
int hagent_cgroup_enable(u64 id, const char *fast, const char *slow,
			 struct netlink_ext_ack *extack);
/* Stops: every process managed through cgroup @id is given back. */
int hagent_cgroup_disable(u64 id, struct netlink_ext_ack *extack);
/* Under RCU: the workload of the managed cgroup that holds @task, or NULL. */
const struct hagent_workload *hagent_cgroup_workload(struct task_struct *task);

#endif /* _HAGENT_CGROUP_H */
