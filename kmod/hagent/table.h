/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The per-target page table: virtual page number -> entry.
 *
 * Locking: none inside.  The caller holds its target's lock around every
 * call, and around every use of an entry pointer.
 */
#ifndef _HAGENT_TABLE_H
#define _HAGENT_TABLE_H

#include "core.h"
#include "uapi/hagent.h"	/* enum hagent_tier: one definition for C and netlink */


/* heap_pos of an entry that is in neither heap */
#define HAGENT_HEAP_NONE	U32_MAX
/* largest folio order an entry can record (4 bits) */
#define HAGENT_ORDER_MAX	15
/* hot is a u8: the sketch's estimates saturate at 255 */
#define HAGENT_HOT_MAX		U8_MAX

/*
 * 24 bytes.  Every field that is not the key or the cookie is packed into
 * the last 8 bytes, because the whole per-page budget (entry, index slot,
 * heap slot, sketch share) is 40 bytes.
 */
struct hagent_entry {
	u64 vpfn;
	void *folio;		/* caller's cookie, never dereferenced here */
	/* index in the heap of this entry's tier; doubles as free-list link */
	u32 heap_pos;
	u8 hot;			/* the priority the heaps order by */
	u8 order:4;		/* the entry covers 1 << order pages */
	u8 tier:1;		/* enum hagent_tier; set by the heap on insert */
	u8 live:1;		/* arena slot in use (else on the free list) */
	u8 flags;		/* caller-owned bits, zero on insert */
	u8 spare;
};

struct hagent_table {
	struct hagent_entry *entries;	/* arena, indexed by entry id */
	/* 0 when empty, else (tag << id_bits) | (entry id + 1) */
	u32 *slots;
	u32 nr_slots;
	u32 id_bits;			/* low bits of a slot: enough for capacity */
	u32 capacity;			/* entries in the arena */
	u32 top;			/* ids >= top were never handed out */
	u32 free;			/* free-list head, HAGENT_HEAP_NONE if empty */
	u32 count;
};

int hagent_table_init(struct hagent_table *t, u32 capacity);
void hagent_table_destroy(struct hagent_table *t);
int hagent_table_reserve(struct hagent_table *t, u32 n);

/* Bigger arrays for a table, allocated without its lock (see table.c). */
struct hagent_table_spare {
	struct hagent_entry *entries;
	u32 *slots;
	u32 capacity;
};

int hagent_table_want(const struct hagent_table *t, u32 n, u32 *capacity);
int hagent_table_spare_alloc(struct hagent_table_spare *s, u32 capacity);
bool hagent_table_spare_install(struct hagent_table *t, struct hagent_table_spare *s);
void hagent_table_spare_free(struct hagent_table_spare *s);
int hagent_table_insert(struct hagent_table *t, u64 vpfn, void *folio,
			unsigned int order, struct hagent_entry **entry);
int hagent_table_update(struct hagent_table *t, u64 vpfn, void *folio,
			unsigned int order);
struct hagent_entry *hagent_table_lookup(const struct hagent_table *t, u64 vpfn);
int hagent_table_delete(struct hagent_table *t, u64 vpfn);
struct hagent_entry *hagent_table_next(const struct hagent_table *t, u32 *cursor);
size_t hagent_table_bytes(const struct hagent_table *t);
int hagent_table_check(const struct hagent_table *t);
void hagent_table_prefetch_entry(const struct hagent_table *t, u64 vpfn);

/* The hash's high half picks the home slot, its low half the tag. */
static inline u32 hagent_table_home(const struct hagent_table *t, u64 hash)
{
	return hagent_reduce((u32)(hash >> 32), t->nr_slots);
}

/*
 * A batch of samples is known ahead (the policy drains a ring), so the
 * caller can start the cache misses of a later sample before it needs them:
 * hagent_table_prefetch() a few samples ahead, then _prefetch_entry()
 * (which reads the now-cached slot) a few samples closer.
 */
static inline void hagent_table_prefetch(const struct hagent_table *t, u64 vpfn)
{
	prefetch(&t->slots[hagent_table_home(t, hagent_hash64(vpfn, 0))]);
}

static inline u32 hagent_table_count(const struct hagent_table *t)
{
	return t->count;
}

/* Ids are stable for an entry's lifetime; pointers only until an insert. */
static inline u32 hagent_table_id(const struct hagent_table *t,
				  const struct hagent_entry *e)
{
	return (u32)(e - t->entries);
}

static inline struct hagent_entry *hagent_table_entry(const struct hagent_table *t,
						      u32 id)
{
	return &t->entries[id];
}

/*
 * Deleting the current entry inside the loop is fine; inserting is not (an
 * insert may move the arena).
 */
#define hagent_table_for_each(t, e, cursor)				\
	for ((cursor) = 0; ((e) = hagent_table_next((t), &(cursor))); )

#endif /* _HAGENT_TABLE_H */
