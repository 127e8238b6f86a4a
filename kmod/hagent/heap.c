// SPDX-License-Identifier: GPL-2.0
/*
 * Indexable binary heaps over table entries (see heap.h for the two orders).
 *
 * Locking: none inside.  The caller holds the target's lock; the policy
 * thread is the only writer of the heaps.
 *
 * The array holds u32 entry ids (half the size of pointers) and every entry
 * records its index in heap_pos, so update and delete find their entry in
 * O(1) and every operation is O(log n).  A parallel u8 array keeps each
 * slot's sort key, so a sift compares within two small arrays instead of
 * missing the cache on every child's entry; only the entries that move are
 * written.  Both orders share one sift: the key is hot ^ key_mask, which
 * turns the max-heap into a min-heap.  Sifts move a hole instead of
 * swapping, one write per level.  5 bytes a slot.
 */
#include "heap.h"

#define HAGENT_HEAP_MIN		16

static inline void hagent_heap_place(struct hagent_heap *h,
				     struct hagent_entry *ents, u32 pos, u32 id, u8 key)
{
	h->ids[pos] = id;
	h->keys[pos] = key;
	ents[id].heap_pos = pos;
}

static void hagent_heap_sift_up(struct hagent_heap *h, u32 pos, u32 id, u8 key)
{
	struct hagent_entry *ents = h->table->entries;
	u32 parent;

	while (pos) {
		parent = (pos - 1) / 2;
		if (h->keys[parent] <= key)
			break;
		hagent_heap_place(h, ents, pos, h->ids[parent], h->keys[parent]);
		pos = parent;
	}
	hagent_heap_place(h, ents, pos, id, key);
}

static void hagent_heap_sift_down(struct hagent_heap *h, u32 pos, u32 id, u8 key)
{
	struct hagent_entry *ents = h->table->entries;
	u32 child;

	while ((child = 2 * pos + 1) < h->nr) {
		if (child + 1 < h->nr && h->keys[child + 1] < h->keys[child])
			child++;
		if (h->keys[child] >= key)
			break;
		hagent_heap_place(h, ents, pos, h->ids[child], h->keys[child]);
		pos = child;
	}
	hagent_heap_place(h, ents, pos, id, key);
}

/* Put id at pos, moving it whichever way its key requires. */
static void hagent_heap_fix(struct hagent_heap *h, u32 pos, u32 id, u8 key)
{
	if (pos && h->keys[(pos - 1) / 2] > key)
		hagent_heap_sift_up(h, pos, id, key);
	else
		hagent_heap_sift_down(h, pos, id, key);
}

static inline u8 hagent_heap_key(const struct hagent_heap *h,
				 const struct hagent_entry *e)
{
	return e->hot ^ h->key_mask;
}

/* The histogram's share of @e: @sign pages of it at @hot. */
static inline void hagent_heap_count_pages(struct hagent_heap *h,
					   const struct hagent_entry *e, u8 hot, int sign)
{
	unsigned long pages = 1UL << e->order;

	if (sign > 0)
		h->pages_at[hot] += pages;
	else
		h->pages_at[hot] -= pages;
}

int hagent_heap_spare_alloc(struct hagent_heap_spare *s, u32 capacity)
{
	s->capacity = capacity;
	s->ids = kvmalloc_array(capacity, sizeof(*s->ids), GFP_KERNEL);
	s->keys = kvmalloc_array(capacity, sizeof(*s->keys), GFP_KERNEL);
	if (!s->ids || !s->keys) {
		hagent_heap_spare_free(s);
		return -ENOMEM;
	}
	return 0;
}

void hagent_heap_spare_free(struct hagent_heap_spare *s)
{
	kvfree(s->ids);
	kvfree(s->keys);
	memset(s, 0, sizeof(*s));
}

/* As the table's: false (and @s untouched) unless @s is bigger. */
bool hagent_heap_spare_install(struct hagent_heap *h, struct hagent_heap_spare *s)
{
	if (!s->ids || s->capacity <= h->capacity)
		return false;
	if (h->nr) {
		memcpy(s->ids, h->ids, (size_t)h->nr * sizeof(*s->ids));
		memcpy(s->keys, h->keys, (size_t)h->nr * sizeof(*s->keys));
	}
	kvfree(h->ids);
	kvfree(h->keys);
	h->ids = s->ids;
	h->keys = s->keys;
	h->capacity = s->capacity;
	memset(s, 0, sizeof(*s));
	return true;
}

static int hagent_heap_alloc(struct hagent_heap *h, u32 capacity)
{
	struct hagent_heap_spare s;
	int err = hagent_heap_spare_alloc(&s, capacity);

	if (!err && !hagent_heap_spare_install(h, &s)) {
		/* init: an empty heap has capacity 0 */
		hagent_heap_spare_free(&s);
		err = -EINVAL;
	}
	return err;
}

/*
 * The fast tier gets the min-heap and the slow tier the max-heap: the order
 * follows from the tier so the two can never be configured apart.
 * capacity is a hint; the arrays grow by half when full.
 */
int hagent_heap_init(struct hagent_heap *h, struct hagent_table *t,
		     enum hagent_tier tier, u32 capacity)
{
	int err;

	memset(h, 0, sizeof(*h));
	err = hagent_heap_alloc(h, max_t(u32, capacity, HAGENT_HEAP_MIN));
	if (err)
		return err;
	h->table = t;
	h->tier = tier;
	h->key_mask = tier == HAGENT_TIER_FAST ? 0 : U8_MAX;
	return 0;
}

void hagent_heap_destroy(struct hagent_heap *h)
{
	kvfree(h->ids);
	kvfree(h->keys);
	memset(h, 0, sizeof(*h));
}

bool hagent_heap_contains(const struct hagent_heap *h, const struct hagent_entry *e)
{
	return e->heap_pos < h->nr &&
	       h->ids[e->heap_pos] == hagent_table_id(h->table, e);
}

/*
 * Halve every member's hot.  Halving is monotonic, so the heap order holds
 * without a single sift: O(n) for the sketch's periodic decay.
 */
void hagent_heap_decay(struct hagent_heap *h)
{
	u32 i;

	memset(h->pages_at, 0, sizeof(h->pages_at));
	for (i = 0; i < h->nr; i++) {
		struct hagent_entry *e = hagent_table_entry(h->table, h->ids[i]);

		e->hot >>= 1;
		h->keys[i] = hagent_heap_key(h, e);
		hagent_heap_count_pages(h, e, e->hot, 1);
	}
}

/* 0 in *capacity when @n more inserts fit, else the capacity that fits them. */
int hagent_heap_want(const struct hagent_heap *h, u32 n, u32 *capacity)
{
	u32 cap = h->capacity;

	*capacity = 0;
	if (cap - h->nr >= n)
		return 0;
	while (cap - h->nr < n) {
		if (cap > U32_MAX / 2)
			return -ENOMEM;
		cap += max_t(u32, cap / 2, 1);
	}
	*capacity = cap;
	return 0;
}

/* Make room for @n more inserts that will not allocate (see the table's). */
int hagent_heap_reserve(struct hagent_heap *h, u32 n)
{
	u32 cap;
	int err = hagent_heap_want(h, n, &cap);

	if (err || !cap)
		return err;
	return hagent_heap_alloc(h, cap);
}

/*
 * Add an entry that is in no heap (-EBUSY if it is in one).  Its tier
 * becomes this heap's tier and its current hot is its priority.
 */
int hagent_heap_insert(struct hagent_heap *h, struct hagent_entry *e)
{
	u32 id = hagent_table_id(h->table, e);
	u32 cap = h->capacity + h->capacity / 2;
	int err;

	if (HAGENT_BROKEN(id >= h->table->top || !e->live))
		return -EINVAL;
	if (e->heap_pos != HAGENT_HEAP_NONE)
		return -EBUSY;
	if (h->nr == h->capacity) {
		err = cap > h->capacity ? hagent_heap_alloc(h, cap) : -ENOMEM;
		if (err)
			return err;
	}
	e->tier = h->tier;
	hagent_heap_count_pages(h, e, e->hot, 1);
	h->nr++;
	hagent_heap_sift_up(h, h->nr - 1, id, hagent_heap_key(h, e));
	return 0;
}

/* Remove an entry from this heap (-ENOENT if it is not in it). */
int hagent_heap_delete(struct hagent_heap *h, struct hagent_entry *e)
{
	u32 pos = e->heap_pos;

	if (!hagent_heap_contains(h, e))
		return -ENOENT;
	e->heap_pos = HAGENT_HEAP_NONE;
	hagent_heap_count_pages(h, e, e->hot, -1);
	if (pos != --h->nr)
		hagent_heap_fix(h, pos, h->ids[h->nr], h->keys[h->nr]);
	return 0;
}

/*
 * Set an entry's hotness and restore the order.  -ENOENT, with nothing
 * changed, if the entry is not in this heap: writing hot behind the back of
 * the heap it is really in would break that heap's order.  An entry in no
 * heap has its hot written directly by the caller.
 */
int hagent_heap_update(struct hagent_heap *h, struct hagent_entry *e, u8 hot)
{
	u32 pos = e->heap_pos;
	u8 key = hot ^ h->key_mask;

	if (!hagent_heap_contains(h, e))
		return -ENOENT;
	hagent_heap_count_pages(h, e, e->hot, -1);
	e->hot = hot;
	hagent_heap_count_pages(h, e, hot, 1);
	if (key < h->keys[pos])
		hagent_heap_sift_up(h, pos, h->ids[pos], key);
	else if (key > h->keys[pos])
		hagent_heap_sift_down(h, pos, h->ids[pos], key);
	return 0;
}

struct hagent_entry *hagent_heap_peek(const struct hagent_heap *h)
{
	return h->nr ? &h->table->entries[h->ids[0]] : NULL;
}

/* Remove and return the top, or NULL when empty.  Its tier is kept. */
struct hagent_entry *hagent_heap_pop(struct hagent_heap *h)
{
	struct hagent_entry *e = hagent_heap_peek(h);

	if (e)
		hagent_heap_delete(h, e);
	return e;
}

/*
 * Swap the tops: the coldest fast entry goes to the slow heap and the
 * hottest slow entry to the fast heap, tiers swapped, in one step that
 * allocates nothing and so cannot fail halfway.  Pop-then-push would hand a
 * one-element slow heap its own new arrival back.  Unconditional: whether
 * the swap pays (slow top hotter than fast top) is the policy's call.
 * Returns 0, or -ENOENT with nothing changed if either heap is empty.
 * *promoted / *demoted (either may be NULL) get the moved entries.
 */
int hagent_heap_exchange(struct hagent_heap *fast, struct hagent_heap *slow,
			 struct hagent_entry **promoted,
			 struct hagent_entry **demoted)
{
	struct hagent_entry *ents;
	u32 fid, sid;

	if (HAGENT_BROKEN(fast->tier != HAGENT_TIER_FAST ||
			 slow->tier != HAGENT_TIER_SLOW ||
			 fast->table != slow->table))
		return -EINVAL;
	if (!fast->nr || !slow->nr)
		return -ENOENT;
	ents = fast->table->entries;
	fid = fast->ids[0];
	sid = slow->ids[0];
	ents[fid].tier = HAGENT_TIER_SLOW;
	ents[sid].tier = HAGENT_TIER_FAST;
	hagent_heap_count_pages(fast, &ents[fid], ents[fid].hot, -1);
	hagent_heap_count_pages(fast, &ents[sid], ents[sid].hot, 1);
	hagent_heap_count_pages(slow, &ents[sid], ents[sid].hot, -1);
	hagent_heap_count_pages(slow, &ents[fid], ents[fid].hot, 1);
	hagent_heap_sift_down(fast, 0, sid, hagent_heap_key(fast, &ents[sid]));
	hagent_heap_sift_down(slow, 0, fid, hagent_heap_key(slow, &ents[fid]));
	if (promoted)
		*promoted = &ents[sid];
	if (demoted)
		*demoted = &ents[fid];
	return 0;
}

size_t hagent_heap_bytes(const struct hagent_heap *h)
{
	return (size_t)h->capacity * (sizeof(*h->ids) + sizeof(*h->keys)) + sizeof(h->pages_at);
}

/*
 * O(n) check of every invariant, for self-tests and fail-safe paths: heap
 * order, heap_pos == index, the key copy, tier, and membership of a live
 * table entry.
 */
int hagent_heap_check(struct hagent_heap *h)
{
	const struct hagent_entry *ents = h->table->entries;
	unsigned long pages = 0;
	const struct hagent_entry *e;
	u32 i, id;

	if (h->nr > h->capacity)
		return -EINVAL;
	for (i = 0; i < h->nr; i++) {
		id = h->ids[i];
		if (id >= h->table->top)
			return -EINVAL;
		e = &ents[id];
		if (!e->live || e->heap_pos != i || e->tier != h->tier ||
		    h->keys[i] != hagent_heap_key(h, e))
			return -EINVAL;
		if (i && h->keys[(i - 1) / 2] > h->keys[i])
			return -EINVAL;
	}
	/*
	 * The histogram holds exactly the members' pages, each at its hot:
	 * taken out member by member (never below zero), it must be empty;
	 * then put back.  No copy: this runs in the kernel, on a small stack.
	 */
	for (i = 0; i < h->nr; i++) {
		e = &ents[h->ids[i]];
		if (h->pages_at[e->hot] < (1UL << e->order)) {
			pages = 1;	/* more members at this hot than counted */
			break;
		}
		h->pages_at[e->hot] -= 1UL << e->order;
	}
	for (id = 0; id <= HAGENT_HOT_MAX; id++)
		pages |= h->pages_at[id];
	while (i--) {
		e = &ents[h->ids[i]];
		h->pages_at[e->hot] += 1UL << e->order;
	}
	return pages ? -EINVAL : 0;
}
