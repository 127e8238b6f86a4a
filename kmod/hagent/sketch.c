// SPDX-License-Identifier: GPL-2.0
/*
 * A count-min sketch with conservative update, saturating u8 counters and
 * decay by halving: the estimated recent access count of every page.
 *
 * Locking: none inside.  The caller serialises (one lock per target).
 *
 * Why this shape:
 *  - Conservative update raises only the counters below the new minimum.
 *    Each counter then stays >= the (decayed, saturated) count of every key
 *    mapped to it, so an estimate never undercounts, but it overcounts far
 *    less than plain count-min: on a skewed stream most of the cold tail's
 *    counters are left alone by the hot keys.
 *  - Blocked: a key's four counters share one 64-byte line (one row of 16
 *    counters each, picked by independent hash bits), so an update costs
 *    one cache miss instead of four; the per-sample path is bound by
 *    misses.  Rows of one line see the same ~16 neighbour keys, but each
 *    neighbour lands on a key's counter in every row only with odds 16^-4,
 *    and on a Zipf(1.0) stream over 1M pages the top-10% recall stays >=
 *    0.99 (tests/host/test_sketch.py).
 *  - One line per 16 managed pages: 4 bytes a page.  Lines are sized
 *    exactly (hagent_reduce(), no power-of-two rounding).
 *  - u8 counters: decay halves them every period, so a page that stays
 *    hot converges to ~2x its per-period rate; 255 leaves room for rates up
 *    to ~127 samples a period, far above what separates hot from cold.
 *    Saturated keys tie at the top, which is harmless: they are all hot.
 *  - Decay halves every counter (8 at a time) when the policy asks.  The
 *    no-undercount invariant survives it: floor(c / 2) >= floor(m / 2).
 *  - Resize maps each new line to the old lines covering the same hash
 *    interval and takes their max counter by counter, so the invariant
 *    survives resizing too, and estimates carry over instead of restarting.
 */
#include "sketch.h"

#define HAGENT_SKETCH_PAGES_PER_LINE	16
#define HAGENT_SKETCH_MIN_LINES		4
#define HAGENT_SKETCH_MAX_LINES		(1U << 26)

u32 hagent_sketch_lines_for(u32 capacity)
{
	u32 lines = capacity / HAGENT_SKETCH_PAGES_PER_LINE +
		    !!(capacity % HAGENT_SKETCH_PAGES_PER_LINE);

	return clamp_t(u32, lines, HAGENT_SKETCH_MIN_LINES, HAGENT_SKETCH_MAX_LINES);
}

/* seed lets callers make collisions unpredictable (e.g. get_random_u64()). */
int hagent_sketch_init(struct hagent_sketch *sk, u32 capacity, u64 seed)
{
	memset(sk, 0, sizeof(*sk));
	sk->lines = hagent_sketch_lines_for(capacity);
	sk->counters = kvcalloc(sk->lines, HAGENT_SKETCH_LINE, GFP_KERNEL);
	if (!sk->counters)
		return -ENOMEM;
	sk->seed = seed;
	return 0;
}

void hagent_sketch_destroy(struct hagent_sketch *sk)
{
	kvfree(sk->counters);
	memset(sk, 0, sizeof(*sk));
}

/*
 * Re-size for a new number of managed pages.  New line j covers the 32-bit
 * hashes [ceil(j*2^32/N), ceil((j+1)*2^32/N) - 1], which the old lines
 * spread over a contiguous run; a key's column in a line does not depend
 * on the line, so each new counter takes the max of its column in that run.
 */
int hagent_sketch_resize(struct hagent_sketch *sk, u32 capacity)
{
	u32 nl = hagent_sketch_lines_for(capacity);
	u32 ol = sk->lines;
	u32 j, i, c, ilo, ihi;
	u64 hlo, hhi;
	u8 *nc, *line;

	if (nl == ol)
		return 0;
	nc = kvcalloc(nl, HAGENT_SKETCH_LINE, GFP_KERNEL);
	if (!nc)
		return -ENOMEM;
	for (j = 0; j < nl; j++) {
		hlo = div64_u64(((u64)j << 32) + nl - 1, nl);
		hhi = div64_u64(((u64)(j + 1) << 32) + nl - 1, nl) - 1;
		ilo = (u32)((hlo * ol) >> 32);
		ihi = (u32)((hhi * ol) >> 32);
		line = nc + (size_t)j * HAGENT_SKETCH_LINE;
		for (i = ilo; i <= ihi; i++) {
			for (c = 0; c < HAGENT_SKETCH_LINE; c++)
				line[c] = max(line[c], sk->counters[(size_t)i * HAGENT_SKETCH_LINE + c]);
		}
	}
	kvfree(sk->counters);
	sk->counters = nc;
	sk->lines = nl;
	return 0;
}

/* Count n more accesses to key; returns the new estimate. */
u32 hagent_sketch_add(struct hagent_sketch *sk, u64 key, u32 n)
{
	u64 hash = hagent_sketch_hash(sk, key);
	u8 *line = hagent_sketch_line(sk, hash);
	u32 est = HAGENT_SKETCH_MAX;
	unsigned int row, col;

	for (row = 0; row < HAGENT_SKETCH_DEPTH; row++)
		est = min_t(u32, est, line[hagent_sketch_col(hash, row)]);
	est = min_t(u32, est + min_t(u32, n, HAGENT_SKETCH_MAX), HAGENT_SKETCH_MAX);
	for (row = 0; row < HAGENT_SKETCH_DEPTH; row++) {
		col = hagent_sketch_col(hash, row);
		if (line[col] < est)
			line[col] = est;
	}
	return est;
}

u32 hagent_sketch_estimate(const struct hagent_sketch *sk, u64 key)
{
	u64 hash = hagent_sketch_hash(sk, key);
	const u8 *line = hagent_sketch_line(sk, hash);
	u32 est = HAGENT_SKETCH_MAX;
	unsigned int row;

	for (row = 0; row < HAGENT_SKETCH_DEPTH; row++)
		est = min_t(u32, est, line[hagent_sketch_col(hash, row)]);
	return est;
}

/* Halve every counter: the period's accesses count half in the next one. */
void hagent_sketch_decay(struct hagent_sketch *sk)
{
	u64 *w = (u64 *)sk->counters;
	size_t i, n = hagent_sketch_bytes(sk) / sizeof(u64);

	for (i = 0; i < n; i++)
		w[i] = (w[i] >> 1) & 0x7f7f7f7f7f7f7f7fULL;
}

void hagent_sketch_clear(struct hagent_sketch *sk)
{
	memset(sk->counters, 0, hagent_sketch_bytes(sk));
}

size_t hagent_sketch_bytes(const struct hagent_sketch *sk)
{
	return (size_t)sk->lines * HAGENT_SKETCH_LINE;
}
