/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A decaying frequency sketch: page -> estimated recent access count.
 *
 * Locking: none inside.  The caller (the policy thread, under its target's
 * lock) is the only user.
 */
#ifndef _HAGENT_SKETCH_H
#define _HAGENT_SKETCH_H

#include "core.h"

#define HAGENT_SKETCH_DEPTH	4
/* counters saturate here; an estimate never exceeds it */
#define HAGENT_SKETCH_MAX	U8_MAX
/* one cache line per key: DEPTH rows of ROW counters each */
#define HAGENT_SKETCH_LINE	64
#define HAGENT_SKETCH_ROW	(HAGENT_SKETCH_LINE / HAGENT_SKETCH_DEPTH)

struct hagent_sketch {
	u8 *counters;		/* lines of HAGENT_SKETCH_LINE counters */
	u32 lines;
	u64 seed;
};

static inline u64 hagent_sketch_hash(const struct hagent_sketch *sk, u64 key)
{
	return hagent_hash64(key, sk->seed ^ 0x9e3779b97f4a7c15ULL);
}

/* The high half of the hash picks the line, 4 bits of the low half a row's counter. */
static inline u8 *hagent_sketch_line(const struct hagent_sketch *sk, u64 hash)
{
	return sk->counters + (size_t)hagent_reduce((u32)(hash >> 32), sk->lines) *
			      HAGENT_SKETCH_LINE;
}

static inline unsigned int hagent_sketch_col(u64 hash, unsigned int row)
{
	return row * HAGENT_SKETCH_ROW + ((hash >> (4 * row)) & (HAGENT_SKETCH_ROW - 1));
}

/* Start a later sample's miss (see hagent_table_prefetch()). */
static inline void hagent_sketch_prefetch(const struct hagent_sketch *sk, u64 key)
{
	prefetchw(hagent_sketch_line(sk, hagent_sketch_hash(sk, key)));
}

int hagent_sketch_init(struct hagent_sketch *sk, u32 capacity, u64 seed);
void hagent_sketch_destroy(struct hagent_sketch *sk);
int hagent_sketch_resize(struct hagent_sketch *sk, u32 capacity);
u32 hagent_sketch_add(struct hagent_sketch *sk, u64 key, u32 n);
u32 hagent_sketch_estimate(const struct hagent_sketch *sk, u64 key);
void hagent_sketch_decay(struct hagent_sketch *sk);
void hagent_sketch_clear(struct hagent_sketch *sk);
u32 hagent_sketch_lines_for(u32 capacity);
size_t hagent_sketch_bytes(const struct hagent_sketch *sk);

#endif /* _HAGENT_SKETCH_H */
