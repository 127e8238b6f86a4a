// SPDX-License-Identifier: GPL-2.0
/*
 * Host-only glue for the core structures: allocation of the opaque structs
 * for cffi, flat accessors (cffi cannot see bitfields), a Zipf stream, and
 * the accuracy and throughput loops shared by the tests and
 * scripts/bench-structures.  Never part of the module.
 */
#define _GNU_SOURCE
#include <math.h>
#include <time.h>

#include "table.h"
#include "heap.h"
#include "plan.h"
#include "sketch.h"
#include "selftest.h"
#include "core_helper.h"

struct hagent_table *hagent_test_table_new(u32 capacity)
{
	struct hagent_table *t = calloc(1, sizeof(*t));

	if (t && hagent_table_init(t, capacity)) {
		free(t);
		t = NULL;
	}
	return t;
}

void hagent_test_table_free(struct hagent_table *t)
{
	hagent_table_destroy(t);
	free(t);
}

struct hagent_heap *hagent_test_heap_new(struct hagent_table *t, int tier, u32 capacity)
{
	struct hagent_heap *h = calloc(1, sizeof(*h));

	if (h && hagent_heap_init(h, t, tier, capacity)) {
		free(h);
		h = NULL;
	}
	return h;
}

void hagent_test_heap_free(struct hagent_heap *h)
{
	hagent_heap_destroy(h);
	free(h);
}

struct hagent_sketch *hagent_test_sketch_new(u32 capacity, u64 seed)
{
	struct hagent_sketch *sk = calloc(1, sizeof(*sk));

	if (sk && hagent_sketch_init(sk, capacity, seed)) {
		free(sk);
		sk = NULL;
	}
	return sk;
}

void hagent_test_sketch_free(struct hagent_sketch *sk)
{
	hagent_sketch_destroy(sk);
	free(sk);
}

void hagent_test_entry_get(const struct hagent_table *t, const struct hagent_entry *e,
			   struct hagent_test_entry *out)
{
	out->vpfn = e->vpfn;
	out->folio = (uintptr_t)e->folio;
	out->heap_pos = e->heap_pos;
	out->hot = e->hot;
	out->order = e->order;
	out->tier = e->tier;
	out->flags = e->flags;
	out->id = hagent_table_id(t, e);
}

void hagent_test_entry_set_hot(struct hagent_entry *e, u32 hot)
{
	e->hot = (u8)hot;
}

u32 hagent_test_table_count(const struct hagent_table *t)
{
	return hagent_table_count(t);
}

struct hagent_entry *hagent_test_table_entry(const struct hagent_table *t, u32 id)
{
	return hagent_table_entry(t, id);
}

u32 hagent_test_heap_count(const struct hagent_heap *h)
{
	return hagent_heap_count(h);
}

u32 hagent_test_heap_id(const struct hagent_heap *h, u32 i)
{
	return h->ids[i];
}

unsigned long hagent_test_heap_pages_at(const struct hagent_heap *h, u8 hot)
{
	return hagent_heap_pages_at(h, hot);
}

unsigned int hagent_test_plan_bar(struct hagent_heap **heaps, unsigned int n,
				  unsigned long capacity)
{
	struct hagent_hist all;
	unsigned int i;

	memset(&all, 0, sizeof(all));
	for (i = 0; i < n; i++)
		hagent_hist_add(&all, heaps[i]);
	return hagent_plan_bar(&all, capacity);
}

unsigned long hagent_test_plan_pairs(const struct hagent_test_hist *up,
				     const struct hagent_test_hist *down, unsigned int min_hot,
				     unsigned int below, unsigned int hyst, unsigned long cap,
				     unsigned int *vmax)
{
	struct hagent_hist u, d;

	_Static_assert(sizeof(u.pages) == sizeof(up->pages), "struct hagent_hist changed");
	memcpy(u.pages, up->pages, sizeof(u.pages));
	memcpy(d.pages, down->pages, sizeof(d.pages));
	return hagent_plan_pairs(&u, &d, min_hot, below, hyst, cap, vmax);
}

/* The planner's add(): record the move and take the entry out of its heap. */
static void hagent_test_plan_add(struct hagent_plan *p, struct hagent_heap *h,
				 struct hagent_entry *e, enum hagent_tier to)
{
	struct hagent_test_plan *tp = p->ctx;

	if (tp->nr < sizeof(tp->vpfn) / sizeof(tp->vpfn[0])) {
		tp->vpfn[tp->nr] = e->vpfn;
		tp->hot[tp->nr] = e->hot;
		tp->order[tp->nr] = e->order;
		tp->to[tp->nr] = to;
		tp->nr++;
	}
	hagent_heap_delete(h, e);
}

static void hagent_test_plan_in(struct hagent_plan *p, struct hagent_test_plan *tp)
{
	*p = (struct hagent_plan){
		.bar = tp->bar, .min_hot = tp->min_hot, .hyst = tp->hyst, .limit = tp->limit,
		.room = tp->room, .planned = tp->planned, .slots = tp->slots,
		.add = hagent_test_plan_add, .ctx = tp,
	};
}

static void hagent_test_plan_out(const struct hagent_plan *p, struct hagent_test_plan *tp)
{
	tp->room = p->room;
	tp->planned = p->planned;
	tp->slots = p->slots;
}

unsigned long hagent_test_plan_exchange(struct hagent_test_plan *tp, struct hagent_heap *fast,
					struct hagent_heap *slow)
{
	struct hagent_plan p;
	unsigned long ret;

	hagent_test_plan_in(&p, tp);
	ret = hagent_plan_exchange(&p, fast, slow);
	hagent_test_plan_out(&p, tp);
	return ret;
}

unsigned long hagent_test_plan_demote(struct hagent_test_plan *tp, struct hagent_heap *fast,
				      unsigned int hot, unsigned long want)
{
	struct hagent_plan p;
	unsigned long ret;

	hagent_test_plan_in(&p, tp);
	ret = hagent_plan_demote(&p, fast, hot, want);
	hagent_test_plan_out(&p, tp);
	return ret;
}

size_t hagent_test_sizeof_entry(void)
{
	return sizeof(struct hagent_entry);
}

unsigned long hagent_test_warnings(void)
{
	return hagent_host_warnings;
}

/* ---- Zipf stream: Vose's alias method, O(1) a sample ---- */

static u64 hagent_test_rand(u64 *state)
{
	u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * out[i] = base + page, where pages are ranked by a seeded random
 * permutation and rank r (1-based) is drawn with probability ~ r^-s.
 * The permutation keeps hot pages from being neighbours in vpfn order.
 */
int hagent_test_zipf_stream(u32 pages, double s, u64 seed, u64 base,
			    u64 *out, u64 nr_samples)
{
	double *p = malloc(sizeof(*p) * pages), sum = 0;
	u32 *thresh = malloc(sizeof(*thresh) * pages);
	u32 *alias = malloc(sizeof(*alias) * pages);
	u32 *perm = malloc(sizeof(*perm) * pages);
	u32 *small = malloc(sizeof(*small) * pages);
	u32 *large = malloc(sizeof(*large) * pages);
	u32 i, j, ns = 0, nl = 0, a, b;
	u64 x, st = seed;
	int err = -ENOMEM;

	if (!p || !thresh || !alias || !perm || !small || !large || !pages)
		goto out;
	for (i = 0; i < pages; i++) {
		p[i] = pow((double)i + 1, -s);
		sum += p[i];
		perm[i] = i;
	}
	for (i = pages - 1; i > 0; i--) {
		j = (u32)(hagent_test_rand(&st) % ((u64)i + 1));
		swap(perm[i], perm[j]);
	}
	for (i = 0; i < pages; i++) {
		p[i] = p[i] * pages / sum;
		alias[i] = i;
		if (p[i] < 1.0)
			small[ns++] = i;
		else
			large[nl++] = i;
	}
	while (ns && nl) {
		a = small[--ns];
		b = large[--nl];
		alias[a] = b;
		thresh[a] = (u32)(p[a] * 4294967296.0 > 4294967295.0 ? 4294967295.0 : p[a] * 4294967296.0);
		p[b] -= 1.0 - p[a];
		if (p[b] < 1.0)
			small[ns++] = b;
		else
			large[nl++] = b;
	}
	while (nl)
		thresh[large[--nl]] = U32_MAX;
	while (ns)
		thresh[small[--ns]] = U32_MAX;
	for (x = 0; x < nr_samples; x++) {
		u64 r = hagent_test_rand(&st);
		u32 k = hagent_reduce((u32)(r >> 32), pages);

		if ((u32)r >= thresh[k])
			k = alias[k];
		out[x] = base + perm[k];
	}
	err = 0;
out:
	free(p);
	free(thresh);
	free(alias);
	free(perm);
	free(small);
	free(large);
	return err;
}

/* ---- accuracy ---- */

static int hagent_test_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * mask[i] = 1 for the k largest val[i], ties broken by lower i: the same
 * rule on both sides, so a perfect estimate scores a recall of exactly 1.
 * Returns the k-th largest value.
 */
static u32 hagent_test_top_k(const u32 *val, u32 n, u32 k, u8 *mask)
{
	u64 *keys = malloc(sizeof(*keys) * n);
	u32 i, kth = 0;

	if (!keys)
		return 0;
	for (i = 0; i < n; i++)
		keys[i] = ((u64)(U32_MAX - val[i]) << 32) | i;
	qsort(keys, n, sizeof(*keys), hagent_test_cmp_u64);
	memset(mask, 0, n);
	for (i = 0; i < k; i++)
		mask[(u32)keys[i]] = 1;
	if (k)
		kth = U32_MAX - (u32)(keys[k - 1] >> 32);
	free(keys);
	return kth;
}

/*
 * Compare sketch estimates of pages [base, base + pages) with exact counts.
 * recall: overlap of the exact and estimated top-k sets (k = pages / 10),
 * ties broken identically.  recall_ties: share of the exact top-k whose
 * estimate reaches the k-th largest estimate (what a threshold policy
 * would promote).  Relative error is against the count saturated at
 * HAGENT_SKETCH_MAX, the most a u8 counter can say, over pages seen at
 * least once.
 */
int hagent_test_measure(const struct hagent_sketch *sk, u64 base, u32 pages,
			const u32 *exact, struct hagent_test_accuracy *out)
{
	u32 *est = calloc(pages, sizeof(*est));
	u8 *mx = malloc(pages), *me = malloc(pages);
	u32 i, k = pages / 10, ek, both = 0, ties = 0, seen = 0, topn = 0;
	double err = 0, errtop = 0, t;
	int ret = -ENOMEM;

	if (!est || !mx || !me)
		goto out;
	for (i = 0; i < pages; i++)
		est[i] = hagent_sketch_estimate(sk, base + i);
	out->kth_count = hagent_test_top_k(exact, pages, k, mx);
	ek = hagent_test_top_k(est, pages, k, me);
	for (i = 0; i < pages; i++) {
		t = min(exact[i], (u32)HAGENT_SKETCH_MAX);
		if (exact[i]) {
			seen++;
			err += (est[i] - t) / t;
		}
		if (!mx[i])
			continue;
		both += me[i];
		ties += est[i] >= ek;
		if (exact[i]) {
			topn++;
			errtop += (est[i] - t) / t;
		}
	}
	out->k = k;
	out->recall = k ? (double)both / k : 1;
	out->recall_ties = k ? (double)ties / k : 1;
	out->mean_rel_err = seen ? err / seen : 0;
	out->mean_rel_err_top = topn ? errtop / topn : 0;
	out->undercounts = 0;
	for (i = 0; i < pages; i++)
		out->undercounts += est[i] < min(exact[i], (u32)HAGENT_SKETCH_MAX);
	ret = 0;
out:
	free(est);
	free(mx);
	free(me);
	return ret;
}

#define HAGENT_TEST_BASE	0x55d000000ULL

int hagent_test_sketch_accuracy(u32 pages, u32 width_pages, u64 samples, double s,
				u64 seed, struct hagent_test_accuracy *out)
{
	u64 *stream = malloc(sizeof(*stream) * samples);
	u32 *exact = calloc(pages, sizeof(*exact));
	struct hagent_sketch sk;
	u64 i;
	int ret = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (!stream || !exact || hagent_sketch_init(&sk, width_pages, seed))
		goto out;
	ret = hagent_test_zipf_stream(pages, s, seed, HAGENT_TEST_BASE, stream, samples);
	if (!ret) {
		for (i = 0; i < samples; i++) {
			exact[stream[i] - HAGENT_TEST_BASE]++;
			hagent_sketch_add(&sk, stream[i], 1);
		}
		ret = hagent_test_measure(&sk, HAGENT_TEST_BASE, pages, exact, out);
		out->sketch_bytes = hagent_sketch_bytes(&sk);
	}
	hagent_sketch_destroy(&sk);
out:
	free(stream);
	free(exact);
	return ret;
}

/* ---- throughput ---- */

static double hagent_test_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* How far ahead the sample loop starts each stage's cache misses. */
#define HAGENT_TEST_AHEAD	16

static inline struct hagent_heap *hagent_test_heap_of(struct hagent_entry *e,
						      struct hagent_heap *fast,
						      struct hagent_heap *slow)
{
	return e->tier == HAGENT_TIER_FAST ? fast : slow;
}

/*
 * The policy thread's per-sample work on a drained batch: table lookup,
 * sketch add, heap update of the entry's tier heap.  Misses are started
 * ahead in three stages (slot and counters, then entry, then heap slot),
 * each stage needing what the previous one brought in.
 */
void hagent_test_update_batch(struct hagent_table *t, struct hagent_sketch *sk,
			      struct hagent_heap *fast, struct hagent_heap *slow,
			      const u64 *vpfns, u64 n)
{
	struct hagent_entry *e;
	u64 x;
	u32 est;

	for (x = 0; x < n; x++) {
		if (x + HAGENT_TEST_AHEAD < n) {
			hagent_table_prefetch(t, vpfns[x + HAGENT_TEST_AHEAD]);
			hagent_sketch_prefetch(sk, vpfns[x + HAGENT_TEST_AHEAD]);
		}
		if (x + HAGENT_TEST_AHEAD / 2 < n)
			hagent_table_prefetch_entry(t, vpfns[x + HAGENT_TEST_AHEAD / 2]);
		if (x + HAGENT_TEST_AHEAD / 4 < n) {
			e = hagent_table_lookup(t, vpfns[x + HAGENT_TEST_AHEAD / 4]);
			if (e)
				hagent_heap_prefetch(hagent_test_heap_of(e, fast, slow), e);
		}
		e = hagent_table_lookup(t, vpfns[x]);
		if (unlikely(!e))
			continue;
		est = hagent_sketch_add(sk, vpfns[x], 1);
		hagent_heap_update(hagent_test_heap_of(e, fast, slow), e, (u8)est);
	}
}

/*
 * The per-sample path at full size, through hagent_test_update_batch().
 * Every fifth page (in vpfn order, uncorrelated with heat) starts in the
 * fast tier.
 */
int hagent_test_bench(u32 pages, u64 samples, u32 fast_pct, u64 seed,
		      struct hagent_test_bench_result *out)
{
	u64 *stream = malloc(sizeof(*stream) * samples);
	u32 *exact = calloc(pages, sizeof(*exact));
	u32 nfast = (u32)((u64)pages * fast_pct / 100), i;
	struct hagent_table t = { 0 };
	struct hagent_heap fast = { 0 }, slow = { 0 };
	struct hagent_sketch sk = { 0 };
	struct hagent_entry *e, *pro, *dem;
	double t0;
	u64 x, sum = 0;
	int ret = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (!stream || !exact || hagent_table_init(&t, pages) ||
	    hagent_heap_init(&fast, &t, HAGENT_TIER_FAST, nfast) ||
	    hagent_heap_init(&slow, &t, HAGENT_TIER_SLOW, pages - nfast) ||
	    hagent_sketch_init(&sk, pages, seed))
		goto out;
	for (i = 0; i < pages; i++) {
		ret = hagent_table_insert(&t, HAGENT_TEST_BASE + i, (void *)(uintptr_t)(i + 1), 0, &e);
		if (!ret)
			ret = hagent_heap_insert((u64)i * nfast / pages != (u64)(i + 1) * nfast / pages ?
						 &fast : &slow, e);
		if (ret)
			goto out;
	}
	ret = hagent_test_zipf_stream(pages, 1.0, seed, HAGENT_TEST_BASE, stream, samples);
	if (ret)
		goto out;
	for (x = 0; x < samples; x++)
		exact[stream[x] - HAGENT_TEST_BASE]++;

	t0 = hagent_test_now_ns();
	hagent_test_update_batch(&t, &sk, &fast, &slow, stream, samples);
	out->ns_per_sample = (hagent_test_now_ns() - t0) / samples;

	ret = hagent_test_measure(&sk, HAGENT_TEST_BASE, pages, exact, &out->accuracy);
	if (ret)
		goto out;

	t0 = hagent_test_now_ns();
	for (i = 0; i < 100000; i++) {
		if (hagent_heap_exchange(&fast, &slow, &pro, &dem))
			break;
		sum += pro->hot;
	}
	out->exchange_ns = i ? (hagent_test_now_ns() - t0) / i : 0;
	t0 = hagent_test_now_ns();
	hagent_sketch_decay(&sk);
	out->decay_ms = (hagent_test_now_ns() - t0) / 1e6;

	out->pages = pages;
	out->samples = samples;
	out->table_bytes = hagent_table_bytes(&t);
	out->heap_bytes = hagent_heap_bytes(&fast) + hagent_heap_bytes(&slow);
	out->sketch_bytes = hagent_sketch_bytes(&sk);
	out->bytes_per_page = (double)(out->table_bytes + out->heap_bytes + out->sketch_bytes) / pages;
	out->checksum = sum;
	if (hagent_heap_check(&fast) || hagent_heap_check(&slow) || hagent_table_check(&t))
		ret = -EINVAL;
out:
	hagent_sketch_destroy(&sk);
	hagent_heap_destroy(&slow);
	hagent_heap_destroy(&fast);
	hagent_table_destroy(&t);
	free(stream);
	free(exact);
	return ret;
}

/*
 * kmod/hagent/adopt.c's hagent_adopt_reserve() without its lock: want,
 * allocate, then -- as the notifier may while the lock is dropped -- remove
 * @remove live entries (from the heap first), then install.  0, or the
 * first error.
 */
int hagent_test_reserve_in_steps(struct hagent_table *t, struct hagent_heap *h, u32 n,
				 u32 remove)
{
	struct hagent_table_spare ts = {0};
	struct hagent_heap_spare hs = {0};
	struct hagent_entry *e;
	u32 tcap, hcap, cursor = 0;
	int err;

	err = hagent_table_want(t, n, &tcap);
	if (!err)
		err = hagent_heap_want(h, n, &hcap);
	if (err)
		return err;
	if (tcap && (err = hagent_table_spare_alloc(&ts, tcap)))
		return err;
	if (hcap && (err = hagent_heap_spare_alloc(&hs, hcap))) {
		hagent_table_spare_free(&ts);
		return err;
	}
	while (remove && (e = hagent_table_next(t, &cursor))) {
		if (hagent_heap_contains(h, e) && (err = hagent_heap_delete(h, e)))
			break;
		if ((err = hagent_table_delete(t, e->vpfn)))
			break;
		remove--;
	}
	if (!err) {
		if (tcap && !hagent_table_spare_install(t, &ts))
			err = -EINVAL;	/* it was bigger: must be taken */
		if (hcap && !hagent_heap_spare_install(h, &hs))
			err = -EINVAL;
	}
	hagent_table_spare_free(&ts);
	hagent_heap_spare_free(&hs);
	return err;
}

/* A spare no bigger than what it would replace is refused and left whole. */
int hagent_test_install_refuses_smaller(struct hagent_table *t, struct hagent_heap *h)
{
	struct hagent_table_spare ts = {0};
	struct hagent_heap_spare hs = {0};
	int bad = 0;

	if (hagent_table_spare_alloc(&ts, t->capacity) || hagent_heap_spare_alloc(&hs, h->capacity))
		bad = -ENOMEM;
	else if (hagent_table_spare_install(t, &ts) || hagent_heap_spare_install(h, &hs))
		bad = -EINVAL;
	else if (!ts.entries || !ts.slots || !hs.ids || !hs.keys)
		bad = -EFAULT;
	hagent_table_spare_free(&ts);
	hagent_heap_spare_free(&hs);
	return bad;
}
