/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_MEMCG_H
#define _HAGENT_MEMCG_H

struct hagent_target;

/*
 * Under hagent_targets_lock: find each target's memory cgroup again and set
 * its cap (hagent_target.memcg_cap), the pages it may hold off the LRU so
 * that reclaim inside its cgroup and their ancestors keeps room.
 */
void hagent_memcg_update(void);
/* Under hagent_targets_lock: give back what each target holds above its cap. */
void hagent_memcg_enforce(void);
/*
 * Under hagent_targets_lock: tells reclaim inside each target's cgroup, on
 * each of its nodes, to ask the shrinker (once a round, after adoption).
 */
void hagent_memcg_mark(void);
/* Drops the target's reference on its cgroup (target teardown). */
void hagent_memcg_put(struct hagent_target *t);

#endif /* _HAGENT_MEMCG_H */
