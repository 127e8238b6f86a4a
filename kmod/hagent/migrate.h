/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One batch of migrations for one target, and its accounting.  The policy
 * (policy.c) chooses the folios; this file moves them with migrate_pages()
 * and makes the target's table and heaps true again afterwards.
 */
#ifndef _HAGENT_MIGRATE_H
#define _HAGENT_MIGRATE_H

#include "target.h"

/* One folio on its way to another tier. */
struct hagent_move {
	struct folio *src;	/* managed, isolated by hagent */
	u32 id;			/* its entry's id in the target's table */
	u8 to;			/* enum hagent_tier */
	u8 failed;		/* migrate_pages() gave it back */
};

struct hagent_batch {
	struct hagent_move *moves;
	u32 nr, cap;
	unsigned long pages[__HAGENT_TIER_LAST];	/* pages bound for each tier */
	struct folio **sorted;	/* scratch: the folios given back, sorted */
};

int hagent_batch_init(struct hagent_batch *b, u32 cap);
void hagent_batch_destroy(struct hagent_batch *b);

/*
 * Under t->lock: take @e out of its heap into the batch, bound for tier @to.
 * From here until the batch is settled the entry is HAGENT_EF_MIGRATING:
 * every give-back path leaves it to the batch (target.c).
 */
void hagent_batch_add(struct hagent_target *t, struct hagent_batch *b,
		      struct hagent_entry *e, enum hagent_tier to);

/*
 * Moves the batch (demotions first, so that promotions find the room they
 * make), then settles every move: the folio now mapped at the entry's
 * address is managed again in its new tier, or the entry is given up.
 * Called with hagent_targets_lock held and t->lock not held (migration
 * fires the target's own notifier).  Empties the batch.  Returns the pages
 * migrate_pages() moved (a folio unmapped meanwhile still counts).
 */
unsigned long hagent_batch_run(struct hagent_target *t, struct hagent_batch *b);

/* Entry flags (struct hagent_entry.flags) owned by the migrator. */
#define HAGENT_EF_MIGRATING	0x1

#endif /* _HAGENT_MIGRATE_H */
