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
 * Reclaim can run inside hagent's own allocations, with hagent's locks held:
 * the shrinker takes no lock but a target's, and only tries that.  It walks
 * the targets under RCU (target.c), not hagent_targets_lock, which hagentd
 * holds through whole rounds: reclaim is not turned away while hagentd is
 * busy, which is when pressure is likeliest.  Nothing here sleeps.
 */
#include <linux/mm.h>
#include <linux/rculist.h>
#include <linux/shrinker.h>
#include "compat.h"
#include "shrinker.h"
#include "target.h"

static struct shrinker *hagent_shrinker;

static unsigned long hagent_shrink_count(struct shrinker *s, struct shrink_control *sc)
{
	return hagent_node_managed(sc->nid) ?: SHRINK_EMPTY;
}

static unsigned long hagent_shrink_target(struct hagent_target *t, int nid, unsigned long want)
{
	unsigned long freed;
	int tier;

	if (node_isset(nid, t->fast))
		tier = HAGENT_TIER_FAST;
	else if (node_isset(nid, t->slow))
		tier = HAGENT_TIER_SLOW;
	else
		return 0;
	if (!mutex_trylock(&t->lock))
		return 0;
	freed = hagent_target_give_back(t, tier, want, HAGENT_CTR_REL_SHRINKER);
	mutex_unlock(&t->lock);
	return freed;
}

static unsigned long hagent_shrink_scan(struct shrinker *s, struct shrink_control *sc)
{
	struct hagent_target *t;
	unsigned long freed = 0;

	hagent_node_pressure(sc->nid);
	rcu_read_lock();
	list_for_each_entry_rcu(t, &hagent_targets, node) {
		if (freed >= sc->nr_to_scan)
			break;
		freed += hagent_shrink_target(t, sc->nid, sc->nr_to_scan - freed);
	}
	rcu_read_unlock();
	return freed ?: SHRINK_STOP;
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
