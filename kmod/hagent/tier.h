/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_TIER_H
#define _HAGENT_TIER_H

#include <linux/nodemask.h>
#include "uapi/hagent.h"

struct hagent_node_info {
	int nid;
	enum hagent_tier tier;
	unsigned int nr_cpus;
	u64 mem_total;	/* bytes present */
	u64 mem_free;	/* bytes free now */
};

/* The default tier of a memory node: fast when it has CPUs, slow otherwise. */
enum hagent_tier hagent_tier_of_node(int nid);
void hagent_tier_node_info(int nid, struct hagent_node_info *info);
/*
 * Pages a user allocation could take on @nid before any of its zones falls
 * to its high watermark (negative: it is below already).  ZONE_DMA is left
 * out: movable user memory does not go there.
 */
long hagent_node_avail_pages(int nid);
/* Default layout over N_MEMORY nodes; false when one of the two is empty. */
bool hagent_tier_default(nodemask_t *fast, nodemask_t *slow);

#endif /* _HAGENT_TIER_H */
