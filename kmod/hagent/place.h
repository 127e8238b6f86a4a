/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Placement: each policy round, the planner's choices (plan.h) for all
 * targets at once, within the rate limit, run as migration batches
 * (migrate.h).  Called only by hagentd, under hagent_targets_lock.
 */
#ifndef _HAGENT_PLACE_H
#define _HAGENT_PLACE_H

#include <linux/types.h>

extern bool hagent_placement;
extern unsigned int hagent_migrate_mbps;
extern unsigned int hagent_migrate_batch;
extern unsigned int hagent_hysteresis;
/* hysteresis scaled to how many measurements a count sums (place.c) */
unsigned int hagent_hyst(void);
extern unsigned int hagent_promote_min;
extern unsigned int hagent_fast_reserve_mb;
extern bool hagent_fair_share;

int hagent_place_init(void);
void hagent_place_exit(void);

/* Rounds of placement until nothing is worth moving or @deadline (ktime ns). */
void hagent_place_step(u64 deadline);

/* Pages placement has moved since load: the pace watches it. */
unsigned long hagent_place_moved(void);

/*
 * The bar of the last placement step (plan.h), or HAGENT_BAR_NONE; and
 * whether a slow folio at or above it waited for the rate limit or the time.
 */
unsigned int hagent_place_bar(void);
bool hagent_place_pending(void);
/* Whether a hot set waits in the slow tier for its counts to part from the fast tier's. */
bool hagent_place_above_bar(void);

#endif /* _HAGENT_PLACE_H */
