// SPDX-License-Identifier: GPL-2.0
/*
 * Room for reclaim inside memory cgroups.
 *
 * Reclaim inside a cgroup (memory.max, memory.high, a parent's limit) asks
 * only memcg-aware shrinkers, and of those only the ones whose bit the cgroup
 * has set (shrink_slab_memcg()).  The bit is set by list_lru for slab objects
 * charged to the cgroup; a module holding pages has no way to set it
 * (set_shrinker_bit() is not exported on 6.1 or 6.12).  So reclaim in a
 * cgroup never reaches hagent's shrinker (shrinker.c serves global reclaim):
 * the folios hagent holds off the LRU are out of its reach, and a managed
 * process whose resident memory is all managed is OOM-killed at memory.max
 * where unmanaged it would have swapped, and above memory.high reclaim finds
 * nothing to take on its way back to user space.
 *
 * So hagent keeps room instead of waiting to be asked.  For every cgroup
 * with a limit that a managed process is charged to, itself or as an
 * ancestor, the pages hagent holds of the managed processes under it stay
 * at most
 *	limit - reserve,	reserve = limit / 8, at least 16 MiB, at most limit / 2
 * where limit is the lesser of memory.max and memory.high: at least reserve
 * pages charged there stay on the LRU for reclaim to take.  Every policy
 * round hagentd reads the limits again (hagent_memcg_update()), adoption
 * stops at a target's cap (skipped.memcg), and what a target holds above it,
 * when a limit was lowered or a sibling grew, goes back coldest first
 * (released.memcg).
 *
 * Reclaim that cannot wait for a round -- a write to memory.max below what
 * is held, memory.reclaim, a charge that finds the reserve used up -- asks
 * the shrinker in the cgroup itself: hagentd marks each round the cgroup
 * and nodes every target holds pages of (hagent_memcg_mark()), and the
 * shrinker gives back that cgroup's folios (shrinker.c,
 * released.memcg_reclaim).  A process that moved keeps its old pages
 * charged to its old cgroup; hagent marks only the new one, so reclaim
 * in the old one reaches them through global reclaim and the cap only.
 */
#include <linux/memcontrol.h>
#include <linux/page_counter.h>
#include <linux/sched.h>
#include "memcg.h"
#include "shrinker.h"
#include "target.h"

#ifdef CONFIG_MEMCG

#define HAGENT_MEMCG_RESERVE_MIN	(16UL << (20 - PAGE_SHIFT))

/* Give-backs go in batches, letting the notifier in between. */
#define HAGENT_MEMCG_BATCH		1024UL

/* What hagent may hold under a cgroup of @limit pages. */
static unsigned long hagent_memcg_room(unsigned long limit)
{
	unsigned long reserve = clamp(limit / 8, min(HAGENT_MEMCG_RESERVE_MIN, limit / 2),
				      limit / 2);

	return limit - reserve;
}

/* Pages hagent holds for the targets under @memcg, but for @skip. */
static unsigned long hagent_memcg_held(struct mem_cgroup *memcg, struct hagent_target *skip)
{
	struct hagent_target *u;
	unsigned long held = 0;

	list_for_each_entry(u, &hagent_targets, node)
		if (u != skip && u->memcg && mem_cgroup_is_descendant(u->memcg, memcg))
			held += hagent_target_held(u);
	return held;
}

void hagent_memcg_update(void)
{
	struct hagent_target *t;
	struct mem_cgroup *a;

	lockdep_assert_held(&hagent_targets_lock);
	/* The process may have moved: its new pages are charged to the new one. */
	list_for_each_entry(t, &hagent_targets, node) {
		struct mem_cgroup *old = t->memcg;

		/* The shrinker compares the pointer without a reference. */
		WRITE_ONCE(t->memcg, get_mem_cgroup_from_mm(t->mm));	/* NULL: memcg disabled */
		if (old)
			mem_cgroup_put(old);
	}
	list_for_each_entry(t, &hagent_targets, node) {
		unsigned long cap = ULONG_MAX;

		for (a = t->memcg; a; a = parent_mem_cgroup(a)) {
			unsigned long limit = min(READ_ONCE(a->memory.max),
						  READ_ONCE(a->memory.high));
			unsigned long room, others;

			if (limit >= PAGE_COUNTER_MAX)
				continue;
			room = hagent_memcg_room(limit);
			others = hagent_memcg_held(a, t);
			cap = min(cap, room > others ? room - others : 0);
		}
		WRITE_ONCE(t->memcg_cap, cap);
	}
}

void hagent_memcg_enforce(void)
{
	struct hagent_target *t;
	unsigned long over, done;

	lockdep_assert_held(&hagent_targets_lock);
	list_for_each_entry(t, &hagent_targets, node) {
		do {
			over = hagent_target_held(t) - min(hagent_target_held(t), READ_ONCE(t->memcg_cap));
			if (!over)
				break;
			mutex_lock(&t->lock);
			done = hagent_target_give_back(t, __HAGENT_TIER_LAST,
						       min(over, HAGENT_MEMCG_BATCH),
						       HAGENT_CTR_REL_MEMCG);
			mutex_unlock(&t->lock);
			cond_resched();
		} while (done && done < over);
	}
}

void hagent_memcg_mark(void)
{
	struct hagent_target *t;
	nodemask_t nodes;
	int nid;

	lockdep_assert_held(&hagent_targets_lock);
	list_for_each_entry(t, &hagent_targets, node) {
		if (!t->memcg || !hagent_target_held(t))
			continue;
		nodes_or(nodes, t->fast, t->slow);
		for_each_node_mask(nid, nodes)
			hagent_shrinker_mark(t->memcg, nid);
	}
}

void hagent_memcg_put(struct hagent_target *t)
{
	if (t->memcg)
		mem_cgroup_put(t->memcg);
	t->memcg = NULL;
}

#else /* !CONFIG_MEMCG */

void hagent_memcg_update(void) { }
void hagent_memcg_enforce(void) { }
void hagent_memcg_mark(void) { }
void hagent_memcg_put(struct hagent_target *t) { }

#endif
