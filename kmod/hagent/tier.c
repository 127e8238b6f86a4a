// SPDX-License-Identifier: GPL-2.0
/*
 * The NUMA tier layout hagent sees.  Stateless: node states are read each
 * time, so memory hotplug between calls is reflected without any lock here.
 */
#include <linux/cpumask.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/topology.h>
#include <linux/vmstat.h>
#include "tier.h"

enum hagent_tier hagent_tier_of_node(int nid)
{
	return node_state(nid, N_CPU) ? HAGENT_TIER_FAST : HAGENT_TIER_SLOW;
}

void hagent_tier_node_info(int nid, struct hagent_node_info *info)
{
	pg_data_t *pgdat = NODE_DATA(nid);
	unsigned long free = 0;
	int z;

	for (z = 0; z < MAX_NR_ZONES; z++)
		free += zone_page_state(&pgdat->node_zones[z], NR_FREE_PAGES);
	info->nid = nid;
	info->tier = hagent_tier_of_node(nid);
	info->nr_cpus = cpumask_weight(cpumask_of_node(nid));
	info->mem_total = (u64)pgdat->node_present_pages << PAGE_SHIFT;
	info->mem_free = (u64)free << PAGE_SHIFT;
}

long hagent_node_avail_pages(int nid)
{
	pg_data_t *pgdat = NODE_DATA(nid);
	long avail = 0;
	int z;

	for (z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zone = &pgdat->node_zones[z];

#ifdef CONFIG_ZONE_DMA
		if (z == ZONE_DMA)
			continue;
#endif
		if (!populated_zone(zone))
			continue;
		avail += (long)zone_page_state(zone, NR_FREE_PAGES) - (long)high_wmark_pages(zone);
	}
	return avail;
}

bool hagent_tier_default(nodemask_t *fast, nodemask_t *slow)
{
	int nid;

	nodes_clear(*fast);
	nodes_clear(*slow);
	for_each_node_state(nid, N_MEMORY) {
		if (hagent_tier_of_node(nid) == HAGENT_TIER_FAST)
			node_set(nid, *fast);
		else
			node_set(nid, *slow);
	}
	return !nodes_empty(*fast) && !nodes_empty(*slow);
}
