// SPDX-License-Identifier: GPL-2.0
/*
 * Self-test of the core structures: random operation sequences against a
 * shadow model, with every invariant checked after every operation, plus the
 * edge cases named in their contracts (insert of an existing key, exchange on
 * empty and one-element heaps, a sketch that never undercounts).
 *
 * Locking: the structures here are private to the test; no lock is needed.
 * It prints "selftest core: pass" or one line per failure and returns 0 or
 * -EINVAL.  It builds in userspace too, so the host tests run the very same
 * checks.
 */
#include "table.h"
#include "heap.h"
#include "sketch.h"
#include "selftest.h"

#define HAGENT_ST_KEYS		384	/* key space: small, so collisions recur */
#define HAGENT_ST_OPS		20000
#define HAGENT_ST_VPFN_BASE	0x7f0000000ULL

struct hagent_st_key {
	void *folio;
	u8 present;
};

struct hagent_st {
	struct hagent_table table;
	struct hagent_heap fast, slow;
	struct hagent_st_key *model;
	u64 rng;
	u32 count;
	int failures;
};

/* splitmix64: any fixed seed gives the same sequence in kernel and host */
static u64 hagent_st_rand(struct hagent_st *st)
{
	u64 z = (st->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static u32 hagent_st_below(struct hagent_st *st, u32 n)
{
	return hagent_reduce((u32)(hagent_st_rand(st) >> 32), n);
}

#define hagent_st_expect(st, cond, fmt, ...) ({				\
	bool __ok = (cond);						\
	if (unlikely(!__ok) && (st)->failures++ < 8)			\
		pr_err("selftest core: %s:%d: " fmt "\n", __func__,	\
		       __LINE__, ##__VA_ARGS__);			\
	__ok;								\
})

static void *hagent_st_cookie(u32 k, u32 gen)
{
	return (void *)(unsigned long)(((unsigned long)k << 16) | (gen & 0xffff) | 0x8);
}

static struct hagent_heap *hagent_st_heap_of(struct hagent_st *st,
					     const struct hagent_entry *e)
{
	return e->tier == HAGENT_TIER_FAST ? &st->fast : &st->slow;
}

/* Every invariant, in O(n): run after each operation. */
static void hagent_st_check(struct hagent_st *st, u32 op)
{
	struct hagent_entry *e;
	u32 k, cursor, seen = 0, in_heaps = 0;

	hagent_st_expect(st, !hagent_table_check(&st->table), "op %u: table check", op);
	hagent_st_expect(st, !hagent_heap_check(&st->fast), "op %u: fast heap check", op);
	hagent_st_expect(st, !hagent_heap_check(&st->slow), "op %u: slow heap check", op);
	hagent_st_expect(st, hagent_table_count(&st->table) == st->count,
			 "op %u: count %u, model %u", op,
			 hagent_table_count(&st->table), st->count);
	for (k = 0; k < HAGENT_ST_KEYS; k++) {
		e = hagent_table_lookup(&st->table, HAGENT_ST_VPFN_BASE + k);
		if (!hagent_st_expect(st, !e == !st->model[k].present,
				      "op %u: key %u presence", op, k) || !e)
			continue;
		hagent_st_expect(st, e->folio == st->model[k].folio,
				 "op %u: key %u folio", op, k);
	}
	hagent_table_for_each(&st->table, e, cursor) {
		seen++;
		if (e->heap_pos == HAGENT_HEAP_NONE)
			continue;
		in_heaps++;
		hagent_st_expect(st, hagent_heap_contains(hagent_st_heap_of(st, e), e),
				 "op %u: entry %llu not where its tier says", op,
				 (unsigned long long)e->vpfn);
	}
	hagent_st_expect(st, seen == st->count, "op %u: iterated %u", op, seen);
	hagent_st_expect(st, in_heaps == hagent_heap_count(&st->fast) +
				       hagent_heap_count(&st->slow),
			 "op %u: heap membership", op);
}

static void hagent_st_random_op(struct hagent_st *st, u32 op)
{
	u32 k = hagent_st_below(st, HAGENT_ST_KEYS);
	u64 vpfn = HAGENT_ST_VPFN_BASE + k;
	struct hagent_entry *e = hagent_table_lookup(&st->table, vpfn);
	struct hagent_entry *top, *other, *pro, *dem;
	struct hagent_heap *h;
	void *folio = hagent_st_cookie(k, op);
	u32 nf, ns;
	int ret;

	switch (hagent_st_below(st, 8)) {
	case 0:	/* insert, present or not */
		ret = hagent_table_insert(&st->table, vpfn, folio, op % 10, &e);
		if (st->model[k].present) {
			hagent_st_expect(st, ret == -EEXIST,
					 "op %u: insert of existing key gave %d", op, ret);
		} else if (hagent_st_expect(st, !ret, "op %u: insert gave %d", op, ret)) {
			st->model[k].present = 1;
			st->model[k].folio = folio;
			st->count++;
			if (hagent_st_below(st, 4))
				hagent_heap_insert(hagent_st_below(st, 2) ? &st->fast : &st->slow, e);
		}
		break;
	case 1:	/* update */
		ret = hagent_table_update(&st->table, vpfn, folio, e ? e->order : 0);
		hagent_st_expect(st, ret == (st->model[k].present ? 0 : -ENOENT),
				 "op %u: update gave %d", op, ret);
		if (!ret)
			st->model[k].folio = folio;
		break;
	case 2:	/* delete, present or not */
		if (e && e->heap_pos != HAGENT_HEAP_NONE)
			hagent_heap_delete(hagent_st_heap_of(st, e), e);
		ret = hagent_table_delete(&st->table, vpfn);
		hagent_st_expect(st, ret == (st->model[k].present ? 0 : -ENOENT),
				 "op %u: delete gave %d", op, ret);
		if (!ret) {
			st->model[k].present = 0;
			st->count--;
		}
		break;
	case 3:	/* change priority */
	case 4:
		if (!e)
			break;
		if (e->heap_pos == HAGENT_HEAP_NONE) {
			ret = hagent_heap_insert(hagent_st_below(st, 2) ? &st->fast : &st->slow, e);
			hagent_st_expect(st, !ret, "op %u: heap insert gave %d", op, ret);
			break;
		}
		h = hagent_st_heap_of(st, e);
		ret = hagent_heap_update(h == &st->fast ? &st->slow : &st->fast, e, 1);
		hagent_st_expect(st, ret == -ENOENT, "op %u: update via wrong heap gave %d", op, ret);
		ret = hagent_heap_update(h, e, (u8)hagent_st_below(st, 64));
		hagent_st_expect(st, !ret, "op %u: heap update gave %d", op, ret);
		break;
	case 5:	/* pop */
		h = hagent_st_below(st, 2) ? &st->fast : &st->slow;
		nf = hagent_heap_count(h);
		top = hagent_heap_peek(h);
		other = hagent_heap_pop(h);
		hagent_st_expect(st, top == other && (!top || (top->heap_pos == HAGENT_HEAP_NONE &&
			hagent_heap_count(h) == nf - 1)), "op %u: pop", op);
		break;
	default: /* exchange */
		nf = hagent_heap_count(&st->fast);
		ns = hagent_heap_count(&st->slow);
		top = hagent_heap_peek(&st->fast);
		other = hagent_heap_peek(&st->slow);
		pro = dem = NULL;
		ret = hagent_heap_exchange(&st->fast, &st->slow, &pro, &dem);
		if (!nf || !ns) {
			hagent_st_expect(st, ret == -ENOENT && !pro && !dem,
					 "op %u: exchange on empty heap gave %d", op, ret);
			break;
		}
		hagent_st_expect(st, !ret && pro == other && dem == top &&
				 pro->tier == HAGENT_TIER_FAST && dem->tier == HAGENT_TIER_SLOW &&
				 hagent_heap_count(&st->fast) == nf &&
				 hagent_heap_count(&st->slow) == ns,
				 "op %u: exchange gave %d", op, ret);
		break;
	}
	hagent_st_check(st, op);
}

/* Heaps of sizes 0 and 1 are where a pop-then-push exchange goes wrong. */
static void hagent_st_exchange_edges(struct hagent_st *st)
{
	struct hagent_entry *a, *b, *pro, *dem;
	int ret;

	ret = hagent_heap_exchange(&st->fast, &st->slow, &pro, &dem);
	hagent_st_expect(st, ret == -ENOENT, "exchange of two empty heaps gave %d", ret);
	if (hagent_table_insert(&st->table, HAGENT_ST_VPFN_BASE, NULL, 0, &a) ||
	    hagent_heap_insert(&st->slow, a)) {
		hagent_st_expect(st, false, "exchange edges: setup");
		return;
	}
	a->hot = 0;
	ret = hagent_heap_exchange(&st->fast, &st->slow, &pro, &dem);
	hagent_st_expect(st, ret == -ENOENT && hagent_heap_count(&st->slow) == 1 &&
			 a->tier == HAGENT_TIER_SLOW,
			 "exchange with empty fast heap gave %d", ret);
	if (hagent_table_insert(&st->table, HAGENT_ST_VPFN_BASE + 1, NULL, 0, &b)) {
		hagent_st_expect(st, false, "exchange edges: setup");
		return;
	}
	a = hagent_table_lookup(&st->table, HAGENT_ST_VPFN_BASE);
	b->hot = 9;	/* the fast entry is the hotter: exchange is still unconditional */
	hagent_heap_insert(&st->fast, b);
	ret = hagent_heap_exchange(&st->fast, &st->slow, &pro, &dem);
	hagent_st_expect(st, !ret && pro == a && dem == b &&
			 a->tier == HAGENT_TIER_FAST && b->tier == HAGENT_TIER_SLOW &&
			 hagent_heap_peek(&st->fast) == a && hagent_heap_peek(&st->slow) == b &&
			 a->heap_pos == 0 && b->heap_pos == 0,
			 "exchange of two one-element heaps gave %d", ret);
	ret = hagent_table_insert(&st->table, HAGENT_ST_VPFN_BASE, (void *)8, 0, NULL);
	hagent_st_expect(st, ret == -EEXIST && a->folio == NULL,
			 "insert of existing key gave %d or changed its value", ret);
	hagent_heap_delete(&st->fast, a);
	hagent_heap_delete(&st->slow, b);
	hagent_table_delete(&st->table, HAGENT_ST_VPFN_BASE);
	hagent_table_delete(&st->table, HAGENT_ST_VPFN_BASE + 1);
	hagent_st_check(st, 0);
}

/* The sketch must never undercount a saturating, halving model. */
static void hagent_st_sketch(struct hagent_st *st)
{
	struct hagent_sketch sk;
	u16 *model;
	u32 i, k, est, n;

	model = kvcalloc(HAGENT_ST_KEYS, sizeof(*model), GFP_KERNEL);
	if (!hagent_st_expect(st, model && !hagent_sketch_init(&sk, 64, 1), "sketch: setup")) {
		kvfree(model);
		return;
	}
	for (i = 0; i < HAGENT_ST_OPS; i++) {
		k = min(hagent_st_below(st, HAGENT_ST_KEYS), hagent_st_below(st, HAGENT_ST_KEYS));
		switch (hagent_st_below(st, 200)) {
		case 0:
			hagent_sketch_decay(&sk);
			for (n = 0; n < HAGENT_ST_KEYS; n++)
				model[n] >>= 1;
			break;
		case 1:
			hagent_st_expect(st, !hagent_sketch_resize(&sk, 32 + hagent_st_below(st, 512)),
					 "sketch: resize");
			break;
		default:
			n = 1 + hagent_st_below(st, 3);
			model[k] = min_t(u32, model[k] + n, HAGENT_SKETCH_MAX);
			est = hagent_sketch_add(&sk, k, n);
			hagent_st_expect(st, est >= model[k] && est <= HAGENT_SKETCH_MAX &&
					 est == hagent_sketch_estimate(&sk, k),
					 "sketch: add gave %u, model %u", est, model[k]);
		}
	}
	for (k = 0; k < HAGENT_ST_KEYS; k++)
		hagent_st_expect(st, hagent_sketch_estimate(&sk, k) >= model[k],
				 "sketch: key %u undercounted", k);
	hagent_sketch_destroy(&sk);
	kvfree(model);
}

int hagent_core_selftest(void)
{
	struct hagent_st *st;
	struct hagent_entry *e;
	u32 op, cursor;
	int failures;

	/* the sketch's estimate must fit an entry's hot unclipped */
	BUILD_BUG_ON(HAGENT_SKETCH_MAX > HAGENT_HOT_MAX);
	st = kvcalloc(1, sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	st->model = kvcalloc(HAGENT_ST_KEYS, sizeof(*st->model), GFP_KERNEL);
	/* tiny capacities, so growth of the arena and heaps is exercised */
	if (!st->model || hagent_table_init(&st->table, 4) ||
	    hagent_heap_init(&st->fast, &st->table, HAGENT_TIER_FAST, 4) ||
	    hagent_heap_init(&st->slow, &st->table, HAGENT_TIER_SLOW, 4)) {
		pr_err("selftest core: out of memory\n");
		failures = 1;
		goto out;
	}
	st->rng = 42;
	hagent_st_exchange_edges(st);
	for (op = 1; op <= HAGENT_ST_OPS && st->failures < 8; op++)
		hagent_st_random_op(st, op);
	hagent_st_sketch(st);
	failures = st->failures;
	hagent_table_for_each(&st->table, e, cursor) {
		if (e->heap_pos != HAGENT_HEAP_NONE)
			hagent_heap_delete(hagent_st_heap_of(st, e), e);
		hagent_table_delete(&st->table, e->vpfn);
	}
	if (hagent_table_count(&st->table) || hagent_heap_count(&st->fast) ||
	    hagent_heap_count(&st->slow)) {
		pr_err("selftest core: teardown left entries behind\n");
		failures++;
	}
out:
	hagent_heap_destroy(&st->slow);
	hagent_heap_destroy(&st->fast);
	hagent_table_destroy(&st->table);
	kvfree(st->model);
	kvfree(st);
	if (failures)
		return -EINVAL;
	pr_info("selftest core: pass\n");
	return 0;
}
