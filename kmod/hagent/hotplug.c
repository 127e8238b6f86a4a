// SPDX-License-Identifier: GPL-2.0
/*
 * Memory going offline: how a DIMM, or CXL memory, is removed.
 *
 * offline_pages() isolates the range's pageblocks, tells the memory
 * notifier chain MEM_GOING_OFFLINE, then migrates every page it finds on
 * the LRU (or movable) and repeats until the range is free, stopping only
 * for a fatal signal.  A managed folio is on no LRU: offline_pages() would
 * pass it over and spin forever.  (In ZONE_NORMAL the isolation step itself
 * refuses, with -EBUSY, a range holding a folio that is neither on the LRU
 * nor movable, before anyone is told: that offline fails while hagent holds
 * folios there.  Memory meant to be removed is onlined movable, where the
 * isolation step assumes every page can move.)
 *
 * So on MEM_GOING_OFFLINE hagent records the range and gives back every
 * managed folio in it (released.offline): at once from every target whose
 * lock it gets without waiting (the notifier runs under mem_hotplug_lock held
 * for writing, so it walks the targets under RCU, as the shrinker does, and
 * only tries their locks), and hagentd the rest at its next round.  Nothing
 * is adopted there (skipped.offline) until MEM_OFFLINE or
 * MEM_CANCEL_OFFLINE; offline_pages()'s next pass migrates what was given
 * back.  Offlining is serialised by the kernel (mem_hotplug_lock), so one
 * range is enough.
 */
#include <linux/memory.h>
#include <linux/mm.h>
#include <linux/notifier.h>
#include <linux/rculist.h>
#include "hotplug.h"
#include "target.h"

/* The range going offline, [start, end) in pfns; end 0: none. */
static unsigned long hagent_offline_start, hagent_offline_end;

bool hagent_pfn_offlining(unsigned long pfn, unsigned long nr)
{
	unsigned long end = READ_ONCE(hagent_offline_end);

	if (!end)
		return false;
	smp_rmb();	/* pairs with the notifier's smp_wmb(): start is end's */
	return pfn < end && READ_ONCE(hagent_offline_start) < pfn + nr;
}

static void hagent_offline_give_back_now(unsigned long start, unsigned long end)
{
	struct hagent_target *t;

	rcu_read_lock();
	list_for_each_entry_rcu(t, &hagent_targets, node) {
		if (!mutex_trylock(&t->lock))
			continue;	/* hagentd gives back its folios next round */
		hagent_target_release_pfns_locked(t, start, end, HAGENT_CTR_REL_OFFLINE);
		mutex_unlock(&t->lock);
	}
	rcu_read_unlock();
}

static int hagent_memory_callback(struct notifier_block *nb, unsigned long action, void *arg)
{
	struct memory_notify *mn = arg;

	switch (action) {
	case MEM_GOING_OFFLINE:
		WRITE_ONCE(hagent_offline_start, mn->start_pfn);
		smp_wmb();
		WRITE_ONCE(hagent_offline_end, mn->start_pfn + mn->nr_pages);
		hagent_offline_give_back_now(mn->start_pfn, mn->start_pfn + mn->nr_pages);
		break;
	case MEM_OFFLINE:
	case MEM_CANCEL_OFFLINE:
		WRITE_ONCE(hagent_offline_end, 0);
		break;
	}
	return NOTIFY_OK;
}

static struct notifier_block hagent_memory_nb = {
	.notifier_call = hagent_memory_callback,
};

void hagent_hotplug_give_back(void)
{
	unsigned long start, end = READ_ONCE(hagent_offline_end);
	struct hagent_target *t;

	lockdep_assert_held(&hagent_targets_lock);
	if (!end)
		return;
	smp_rmb();
	start = READ_ONCE(hagent_offline_start);
	list_for_each_entry(t, &hagent_targets, node)
		hagent_target_release_pfns(t, start, end, HAGENT_CTR_REL_OFFLINE);
}

int hagent_hotplug_init(void)
{
	return register_memory_notifier(&hagent_memory_nb);
}

void hagent_hotplug_exit(void)
{
	unregister_memory_notifier(&hagent_memory_nb);
}
