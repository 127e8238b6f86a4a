/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_SHRINKER_H
#define _HAGENT_SHRINKER_H

struct mem_cgroup;

int hagent_shrinker_init(void);
/*
 * Tells reclaim inside @memcg that hagent holds pages charged to it on node
 * @nid, so that it asks the shrinker (hagentd, every round).
 */
void hagent_shrinker_mark(struct mem_cgroup *memcg, int nid);
void hagent_shrinker_exit(void);

#endif /* _HAGENT_SHRINKER_H */
