// SPDX-License-Identifier: GPL-2.0
/*
 * The per-target table: vpfn -> entry.  One table per managed process, keyed
 * by the virtual page number within it.
 *
 * Locking: none inside.  The caller holds the target's lock around every call
 * and every use of an entry pointer; nothing here sleeps except allocation
 * (GFP_KERNEL) in init, reserve, spare_alloc and an insert into a full table.
 *
 * Shape, and why:
 *  - Entries live in one arena indexed by a u32 id.  The heaps store ids, not
 *    pointers (4 bytes a slot instead of 8), and a deleted id goes on a free
 *    list so the arena never fragments.  The arena grows by half when full:
 *    a new allocation, a copy and a free, since kvrealloc's signature differs
 *    between 6.1 and 6.12.  So an insert may move every entry: pointers are
 *    good until the next insert, ids for the entry's lifetime.
 *  - The index is open addressing over u32 slots, linear probing, deletion
 *    by backward shift so no tombstones accumulate.  Slots are 1.5x the
 *    arena (load factor <= 2/3, about two probes per hit) and sized exactly,
 *    not to a power of two, thanks to hagent_reduce().  A slot holds id + 1
 *    in its low id_bits and a tag (more hash bits) above: 11 bits at 1M
 *    entries, so a probe past a foreign slot almost never touches that
 *    slot's entry.  Without tags each such probe is a cache miss with a
 *    branch waiting on it, which measurably slowed the per-sample path.
 *    Chaining would need a next link in every entry (24 -> 32 bytes with
 *    alignment) plus a bucket array: more memory than 6 bytes of slots.
 *    The kernel's xarray and rhashtable do not build in userspace, and the
 *    caller's lock makes their own locking dead weight.
 *  Per managed page at capacity: 24 (entry) + 6 (slots) = 30 bytes.
 */
#include "table.h"

#define HAGENT_TABLE_MIN	16

#ifndef __KERNEL__
unsigned long hagent_host_warnings;
#endif

static inline u32 hagent_table_step(const struct hagent_table *t, u32 i)
{
	return ++i == t->nr_slots ? 0 : i;
}

static inline u32 hagent_table_slot_id(const struct hagent_table *t, u32 s)
{
	return (s & ((u32)(((u64)1 << t->id_bits) - 1))) - 1;
}

/* The slot value for id: the tag bits that fit above the id, then id + 1. */
static inline u32 hagent_table_slot(const struct hagent_table *t, u64 hash, u32 id)
{
	return (u32)(((u64)(u32)hash << t->id_bits) | (id + 1));
}

static inline u32 hagent_table_tag_mask(const struct hagent_table *t)
{
	return (u32)~(((u64)1 << t->id_bits) - 1);
}

/* Slot index holding vpfn, or the empty slot where it would go. */
static u32 hagent_table_probe(const struct hagent_table *t, u64 vpfn)
{
	u64 hash = hagent_hash64(vpfn, 0);
	u32 tag = hagent_table_slot(t, hash, 0) & hagent_table_tag_mask(t);
	u32 i = hagent_table_home(t, hash);
	u32 s;

	while ((s = t->slots[i])) {
		if ((s & hagent_table_tag_mask(t)) == tag &&
		    t->entries[hagent_table_slot_id(t, s)].vpfn == vpfn)
			break;
		i = hagent_table_step(t, i);
	}
	return i;
}

/* Bits for ids 1..capacity: the rest of a slot is tag. */
static u32 hagent_table_id_bits(u32 capacity)
{
	u32 bits = 1;

	while (bits < 32 && ((u64)1 << bits) <= capacity)
		bits++;
	return bits;
}

static u32 hagent_table_slots_for(u32 capacity)
{
	return capacity + capacity / 2;
}

/*
 * Growing is split in three so that the caller can allocate without its lock
 * (kmod/hagent/adopt.c: reclaim may re-enter the target's notifier, which
 * takes that lock): _want() says how big, under the lock; _spare_alloc()
 * allocates, without it; _spare_install() copies and swaps, under it again,
 * and never allocates.
 *
 * _want(): 0 in *capacity when @n more inserts fit, else the capacity that
 * fits them (growing by half, as a full insert does).
 */
int hagent_table_want(const struct hagent_table *t, u32 n, u32 *capacity)
{
	u32 cap = t->capacity;

	*capacity = 0;
	if (cap - t->count >= n)
		return 0;
	while (cap - t->count < n) {
		if (cap > U32_MAX / 2)
			return -ENOMEM;
		cap += max_t(u32, cap / 2, 1);
	}
	*capacity = cap;
	return 0;
}

int hagent_table_spare_alloc(struct hagent_table_spare *s, u32 capacity)
{
	s->capacity = capacity;
	s->entries = kvmalloc_array(capacity, sizeof(*s->entries), GFP_KERNEL);
	s->slots = kvcalloc(hagent_table_slots_for(capacity), sizeof(*s->slots), GFP_KERNEL);
	if (!s->entries || !s->slots) {
		hagent_table_spare_free(s);
		return -ENOMEM;
	}
	return 0;
}

void hagent_table_spare_free(struct hagent_table_spare *s)
{
	kvfree(s->entries);
	kvfree(s->slots);
	memset(s, 0, sizeof(*s));
}

/*
 * Move the table into @s's arrays when they are bigger than its own; the old
 * ones are freed and @s is left empty.  False (and @s untouched) when they
 * are not bigger: the table did not need them after all.
 */
bool hagent_table_spare_install(struct hagent_table *t, struct hagent_table_spare *s)
{
	u32 id;

	if (!s->entries || s->capacity <= t->capacity)
		return false;
	memcpy(s->entries, t->entries, (size_t)t->top * sizeof(*t->entries));
	kvfree(t->entries);
	kvfree(t->slots);
	t->entries = s->entries;
	t->slots = s->slots;
	t->capacity = s->capacity;
	t->nr_slots = hagent_table_slots_for(s->capacity);
	t->id_bits = hagent_table_id_bits(s->capacity);
	for (id = 0; id < t->top; id++) {
		if (t->entries[id].live)
			t->slots[hagent_table_probe(t, t->entries[id].vpfn)] =
				hagent_table_slot(t, hagent_hash64(t->entries[id].vpfn, 0), id);
	}
	memset(s, 0, sizeof(*s));
	return true;
}

static int hagent_table_grow(struct hagent_table *t)
{
	struct hagent_table_spare s;
	u32 cap = t->capacity + t->capacity / 2;

	if (cap <= t->capacity || cap > U32_MAX / 2)
		return -ENOMEM;
	if (hagent_table_spare_alloc(&s, cap))
		return -ENOMEM;
	hagent_table_spare_install(t, &s);	/* bigger: cannot refuse */
	return 0;
}

/*
 * Make room for @n more inserts that will not allocate, so that a caller can
 * insert under a spinlock (a page table lock) after reserving outside it.
 * Allocates with the caller's lock held: adopt.c reserves in three steps.
 */
int hagent_table_reserve(struct hagent_table *t, u32 n)
{
	struct hagent_table_spare s;
	u32 cap;
	int err;

	err = hagent_table_want(t, n, &cap);
	if (err || !cap)
		return err;
	err = hagent_table_spare_alloc(&s, cap);
	if (!err)
		hagent_table_spare_install(t, &s);
	return err;
}

int hagent_table_init(struct hagent_table *t, u32 capacity)
{
	memset(t, 0, sizeof(*t));
	capacity = max_t(u32, capacity, HAGENT_TABLE_MIN);
	if (capacity > U32_MAX / 2)
		return -EINVAL;
	t->entries = kvmalloc_array(capacity, sizeof(*t->entries), GFP_KERNEL);
	t->nr_slots = hagent_table_slots_for(capacity);
	t->slots = kvcalloc(t->nr_slots, sizeof(*t->slots), GFP_KERNEL);
	if (!t->entries || !t->slots) {
		kvfree(t->entries);
		kvfree(t->slots);
		memset(t, 0, sizeof(*t));
		return -ENOMEM;
	}
	t->capacity = capacity;
	t->id_bits = hagent_table_id_bits(capacity);
	t->free = HAGENT_HEAP_NONE;
	return 0;
}

void hagent_table_destroy(struct hagent_table *t)
{
	kvfree(t->entries);
	kvfree(t->slots);
	memset(t, 0, sizeof(*t));
}

/*
 * Insert a new key.  An existing key is an error (-EEXIST) and its entry is
 * left exactly as it was: a caller that meant "replace" says so with
 * hagent_table_update(), so a lost update can never pass silently.
 * On success *entry (if not NULL) points at the new entry: not in a heap,
 * hot 0, flags 0.
 */
int hagent_table_insert(struct hagent_table *t, u64 vpfn, void *folio,
			unsigned int order, struct hagent_entry **entry)
{
	struct hagent_entry *e;
	u32 i, id;
	int err;

	if (order > HAGENT_ORDER_MAX)
		return -EINVAL;
	i = hagent_table_probe(t, vpfn);
	if (t->slots[i]) {
#ifdef HAGENT_TEST_BROKEN_INSERT
		/* Only for the host test that proves its checker catches this. */
		if (entry)
			*entry = &t->entries[hagent_table_slot_id(t, t->slots[i])];
		return 0;
#endif
		return -EEXIST;
	}
	if (t->free == HAGENT_HEAP_NONE && t->top == t->capacity) {
		err = hagent_table_grow(t);
		if (err)
			return err;
		i = hagent_table_probe(t, vpfn);
	}
	if (t->free != HAGENT_HEAP_NONE) {
		id = t->free;
		t->free = t->entries[id].heap_pos;
	} else {
		id = t->top++;
	}
	e = &t->entries[id];
	e->vpfn = vpfn;
	e->folio = folio;
	e->heap_pos = HAGENT_HEAP_NONE;
	e->hot = 0;
	e->order = order;
	e->tier = HAGENT_TIER_SLOW;
	e->live = 1;
	e->flags = 0;
	e->spare = 0;
	t->slots[i] = hagent_table_slot(t, hagent_hash64(vpfn, 0), id);
	t->count++;
	if (entry)
		*entry = e;
	return 0;
}

/*
 * Replace the folio and order of an existing key (after a migration the
 * cookie changes); its hotness, tier and heap position are kept.  The order
 * of an entry in a heap stays (-EBUSY): the heap counts its pages.
 */
int hagent_table_update(struct hagent_table *t, u64 vpfn, void *folio,
			unsigned int order)
{
	struct hagent_entry *e;

	if (order > HAGENT_ORDER_MAX)
		return -EINVAL;
	e = hagent_table_lookup(t, vpfn);
	if (!e)
		return -ENOENT;
	if (e->heap_pos != HAGENT_HEAP_NONE && e->order != order)
		return -EBUSY;
	e->folio = folio;
	e->order = order;
	return 0;
}

struct hagent_entry *hagent_table_lookup(const struct hagent_table *t, u64 vpfn)
{
	u32 s = t->slots[hagent_table_probe(t, vpfn)];

	return s ? &t->entries[hagent_table_slot_id(t, s)] : NULL;
}

/*
 * Remove a key.  The entry must already be out of both heaps (-EBUSY and a
 * warning otherwise): a heap slot pointing at a freed id would be a
 * use-after-free the table cannot see.
 */
int hagent_table_delete(struct hagent_table *t, u64 vpfn)
{
	struct hagent_entry *e;
	u32 i, j, h, s, id;

	i = hagent_table_probe(t, vpfn);
	s = t->slots[i];
	if (!s)
		return -ENOENT;
	id = hagent_table_slot_id(t, s);
	e = &t->entries[id];
	if (HAGENT_BROKEN(e->heap_pos != HAGENT_HEAP_NONE))
		return -EBUSY;

	/* Backward shift: pull later members of the run into the hole. */
	for (j = hagent_table_step(t, i); (s = t->slots[j]); j = hagent_table_step(t, j)) {
		h = hagent_table_home(t, hagent_hash64(t->entries[hagent_table_slot_id(t, s)].vpfn, 0));
		/* stay if home lies cyclically in (i, j] */
		if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		t->slots[i] = s;
		i = j;
	}
	t->slots[i] = 0;

	e->live = 0;
	e->folio = NULL;
	e->heap_pos = t->free;
	t->free = id;
	t->count--;
	return 0;
}

/* The next live entry at or after id *cursor, advancing the cursor past it. */
struct hagent_entry *hagent_table_next(const struct hagent_table *t, u32 *cursor)
{
	u32 id;

	for (id = *cursor; id < t->top; id++) {
		if (t->entries[id].live) {
			*cursor = id + 1;
			return &t->entries[id];
		}
	}
	*cursor = t->top;
	return NULL;
}

/*
 * Prefetch by tag alone: comparing keys would wait for the very entry being
 * prefetched.  A few slots cover nearly every run at a load factor of 2/3.
 */
void hagent_table_prefetch_entry(const struct hagent_table *t, u64 vpfn)
{
	u64 hash = hagent_hash64(vpfn, 0);
	u32 tag = hagent_table_slot(t, hash, 0) & hagent_table_tag_mask(t);
	u32 i = hagent_table_home(t, hash);
	u32 s, n;

	for (n = 0; n < 4 && (s = t->slots[i]); n++, i = hagent_table_step(t, i)) {
		if ((s & hagent_table_tag_mask(t)) == tag) {
			prefetchw(&t->entries[hagent_table_slot_id(t, s)]);
			return;
		}
	}
}

/* Bytes this table has allocated, as passed to the allocator. */
size_t hagent_table_bytes(const struct hagent_table *t)
{
	return (size_t)t->capacity * sizeof(*t->entries) +
	       (size_t)t->nr_slots * sizeof(*t->slots);
}

/* O(n) consistency check for self-tests and fail-safe paths: 0 or -EINVAL. */
int hagent_table_check(const struct hagent_table *t)
{
	u32 i, s, live = 0, used = 0, nfree = 0, id;

	for (i = 0; i < t->nr_slots; i++) {
		s = t->slots[i];
		if (!s)
			continue;
		used++;
		id = hagent_table_slot_id(t, s);
		if (id >= t->top || !t->entries[id].live)
			return -EINVAL;
		if (hagent_table_probe(t, t->entries[id].vpfn) != i ||
		    hagent_table_slot(t, hagent_hash64(t->entries[id].vpfn, 0), id) != s)
			return -EINVAL;
	}
	for (id = 0; id < t->top; id++)
		live += t->entries[id].live;
	for (id = t->free; id != HAGENT_HEAP_NONE; id = t->entries[id].heap_pos) {
		if (id >= t->top || t->entries[id].live || ++nfree > t->top)
			return -EINVAL;
	}
	if (used != t->count || live != t->count || live + nfree != t->top)
		return -EINVAL;
	return 0;
}
