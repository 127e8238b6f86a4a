/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Indexable binary heaps over table entries, one per tier: the fast heap is
 * min-ordered (coldest on top, the next to demote), the slow heap max-ordered
 * (hottest on top, the next to promote).
 *
 * Locking: none inside.  The caller holds the lock of the target that owns
 * the table and both heaps.
 */
#ifndef _HAGENT_HEAP_H
#define _HAGENT_HEAP_H

#include "table.h"

struct hagent_heap {
	struct hagent_table *table;	/* resolves the ids below */
	u32 *ids;			/* entry ids in heap order */
	u8 *keys;			/* keys[i] == ids[i]'s hot ^ key_mask */
	u32 nr;
	u32 capacity;
	u8 key_mask;			/* 0: min-heap; 0xff: max-heap */
	u8 tier;			/* enum hagent_tier of every member */
	/*
	 * Pages (not entries: a THP counts 512) at each hot value.  Kept
	 * exact by every operation, so the policy reads the tier's hotness
	 * distribution without a walk (policy: the promotion bar).
	 */
	unsigned long pages_at[HAGENT_HOT_MAX + 1];
};

int hagent_heap_init(struct hagent_heap *h, struct hagent_table *t,
		     enum hagent_tier tier, u32 capacity);
void hagent_heap_destroy(struct hagent_heap *h);
int hagent_heap_reserve(struct hagent_heap *h, u32 n);

/* Bigger arrays for a heap, allocated without the target's lock (table.c). */
struct hagent_heap_spare {
	u32 *ids;
	u8 *keys;
	u32 capacity;
};

int hagent_heap_want(const struct hagent_heap *h, u32 n, u32 *capacity);
int hagent_heap_spare_alloc(struct hagent_heap_spare *s, u32 capacity);
bool hagent_heap_spare_install(struct hagent_heap *h, struct hagent_heap_spare *s);
void hagent_heap_spare_free(struct hagent_heap_spare *s);
void hagent_heap_decay(struct hagent_heap *h);
int hagent_heap_insert(struct hagent_heap *h, struct hagent_entry *e);
int hagent_heap_delete(struct hagent_heap *h, struct hagent_entry *e);
int hagent_heap_update(struct hagent_heap *h, struct hagent_entry *e, u8 hot);
struct hagent_entry *hagent_heap_peek(const struct hagent_heap *h);
struct hagent_entry *hagent_heap_pop(struct hagent_heap *h);
int hagent_heap_exchange(struct hagent_heap *fast, struct hagent_heap *slow,
			 struct hagent_entry **promoted,
			 struct hagent_entry **demoted);
bool hagent_heap_contains(const struct hagent_heap *h, const struct hagent_entry *e);
size_t hagent_heap_bytes(const struct hagent_heap *h);
int hagent_heap_check(struct hagent_heap *h);

/* Start the misses of a later sample's update (see hagent_table_prefetch()). */
static inline void hagent_heap_prefetch(const struct hagent_heap *h,
					const struct hagent_entry *e)
{
	if (e->heap_pos < h->nr) {
		prefetchw(&h->ids[e->heap_pos]);
		prefetchw(&h->keys[e->heap_pos]);
	}
}

/* The entry at heap position @pos (< count); the last ones are leaves. */
static inline struct hagent_entry *hagent_heap_at(const struct hagent_heap *h, u32 pos)
{
	return hagent_table_entry(h->table, h->ids[pos]);
}

static inline u32 hagent_heap_count(const struct hagent_heap *h)
{
	return h->nr;
}

/* Pages of this heap's members whose hot is @hot. */
static inline unsigned long hagent_heap_pages_at(const struct hagent_heap *h, u8 hot)
{
	return h->pages_at[hot];
}

#endif /* _HAGENT_HEAP_H */
