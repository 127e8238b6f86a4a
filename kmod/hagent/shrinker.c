// SPDX-License-Identifier: GPL-2.0
/*
 * Giving memory back under pressure.  Managed folios are off the LRU, so
 * reclaim cannot see them; this shrinker lets it ask.  For a node under
 * pressure it returns, from every target, the folios least worth keeping in
 * that node's tier -- the coldest of the fast heap (its top), or leaves of
 * the slow heap (the cold end of a max-heap) -- to the LRU, where reclaim
 * can then swap them.  Adoption then leaves that node alone for a while
 * (hagent_node_pressure), so the two do not trade the same folios.
 *
 * Reclaim inside a memory cgroup (memory.max, memory.high, memory.reclaim,
 * a parent's limit) asks a memcg-aware shrinker only in the cgroups whose
 * bit for it is set (shrink_slab_memcg()), and with that cgroup: there
 * hagent gives back only the folios of the targets charged to it.  The kernel
 * sets the bit for list_lru objects; hagent sets it itself every round
 * (hagent_shrinker_mark(), through the unexported set_shrinker_bit(), as
 * the THP deferred-split queue does) for each cgroup and node it holds
 * pages of, and the kernel clears it when a count says there are none.
 * Global reclaim asks with the root cgroup: every target.
 *
 * Reclaim can run inside hagent's own allocations, with hagent's locks held:
 * the shrinker takes no lock but a target's, and only tries that.  It walks
 * the targets under RCU (target.c), not hagent_targets_lock, which hagentd
 * holds through whole rounds: reclaim is not turned away while hagentd is
 * busy, which is when pressure is likeliest.  Nothing here sleeps.
 */
#include <linux/mm.h>
#include <linux/rculist.h>
#include <linux/shrinker.h>
#include <linux/memcontrol.h>
#include "compat.h"
#include "shrinker.h"
#include "symbols.h"
#include "target.h"

static struct shrinker *hagent_shrinker;

/*
 * Reclaim of the whole machine, or of a node: asked with the root cgroup
 * (the one without a parent; root_mem_cgroup is not exported), or none.
 */
static bool hagent_shrink_global(struct shrink_control *sc)
{
	return !sc->memcg || !parent_mem_cgroup(sc->memcg);
}

/* Whether @t's folios are among those @sc asks for. */
static bool hagent_shrink_match(struct hagent_target *t, struct shrink_control *sc)
{
	return hagent_shrink_global(sc) || READ_ONCE(t->memcg) == sc->memcg;
}

/* Pages @t holds in @nid's tier (its fast or slow heap), read without its lock. */
static unsigned long hagent_shrink_held(struct hagent_target *t, int nid)
{
	if (node_isset(nid, t->fast))
		return READ_ONCE(t->ctr[HAGENT_CTR_MANAGED_FAST]);
	if (node_isset(nid, t->slow))
		return READ_ONCE(t->ctr[HAGENT_CTR_MANAGED_SLOW]);
	return 0;
}

static unsigned long hagent_shrink_count(struct shrinker *s, struct shrink_control *sc)
{
	struct hagent_target *t;
	unsigned long n = 0;

	if (hagent_shrink_global(sc))
		return hagent_node_managed(sc->nid) ?: SHRINK_EMPTY;
	hagent_gctr_add(HAGENT_GCTR_SHRINKER_MEMCG_COUNTS, 1);
	rcu_read_lock();
	list_for_each_entry_rcu(t, &hagent_targets, node)
		if (hagent_shrink_match(t, sc))
			n += hagent_shrink_held(t, sc->nid);
	rcu_read_unlock();
	return n ?: SHRINK_EMPTY;
}

static unsigned long hagent_shrink_target(struct hagent_target *t, int nid, unsigned long want,
					  enum hagent_ctr why)
{
	unsigned long freed;
	int tier;

	if (node_isset(nid, t->fast))
		tier = HAGENT_TIER_FAST;
	else if (node_isset(nid, t->slow))
		tier = HAGENT_TIER_SLOW;
	else
		return 0;
	if (!mutex_trylock(&t->lock)) {
		hagent_gctr_add(HAGENT_GCTR_SHRINKER_BUSY, 1);
		return 0;
	}
	freed = hagent_target_give_back(t, tier, want, why);
	mutex_unlock(&t->lock);
	return freed;
}

static unsigned long hagent_shrink_scan(struct shrinker *s, struct shrink_control *sc)
{
	struct hagent_target *t;
	unsigned long freed = 0;
	enum hagent_ctr why = HAGENT_CTR_REL_MEMCG_RECLAIM;

	/* Global reclaim: adoption leaves the whole node alone for a while. */
	if (hagent_shrink_global(sc)) {
		hagent_gctr_add(HAGENT_GCTR_SHRINKER_SCANS, 1);
		hagent_node_pressure(sc->nid);
		why = HAGENT_CTR_REL_SHRINKER;
	} else {
		hagent_gctr_add(HAGENT_GCTR_SHRINKER_MEMCG_SCANS, 1);
	}
	rcu_read_lock();
	list_for_each_entry_rcu(t, &hagent_targets, node) {
		if (freed >= sc->nr_to_scan)
			break;
		if (!hagent_shrink_match(t, sc))
			continue;
		/*
		 * Inside a cgroup: its targets adopt nothing for a while, or
		 * hagentd could take back what reclaim has yet to reach.
		 */
		if (!hagent_shrink_global(sc))
			WRITE_ONCE(t->memcg_reclaim_until, jiffies + HAGENT_PRESSURE_BACKOFF);
		freed += hagent_shrink_target(t, sc->nid, sc->nr_to_scan - freed, why);
	}
	rcu_read_unlock();
	return freed ?: SHRINK_STOP;
}

void hagent_shrinker_mark(struct mem_cgroup *memcg, int nid)
{
#ifdef CONFIG_MEMCG
	if (memcg && hagent_shrinker && (hagent_shrinker->flags & SHRINKER_MEMCG_AWARE))
		hagent_sym.set_shrinker_bit(memcg, nid, hagent_shrinker->id);
#endif
}

int hagent_shrinker_init(void)
{
	hagent_shrinker = hagent_shrinker_create(hagent_shrink_count, hagent_shrink_scan, "hagent");
	return hagent_shrinker ? 0 : -ENOMEM;
}

void hagent_shrinker_exit(void)
{
	hagent_shrinker_destroy(hagent_shrinker);
	hagent_shrinker = NULL;
}
