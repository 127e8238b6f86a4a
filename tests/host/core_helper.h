/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host-only glue for the core structures (see core_helper.c).  Kept free of
 * kernel-style types and macros so tests/host/core_build.py can hand it to
 * cffi's cdef as is: everything between the CDEF markers is parsed by cffi.
 */
#ifndef _HAGENT_CORE_HELPER_H
#define _HAGENT_CORE_HELPER_H

#include <stddef.h>
#include <stdint.h>

/* CDEF BEGIN */
struct hagent_table;
struct hagent_heap;
struct hagent_sketch;
struct hagent_entry;

struct hagent_test_entry {
	uint64_t vpfn;
	uint64_t folio;
	uint32_t heap_pos;
	uint32_t hot;
	uint32_t order;
	uint32_t tier;
	uint32_t flags;
	uint32_t id;
};

struct hagent_test_accuracy {
	double recall;
	double recall_ties;
	double mean_rel_err;
	double mean_rel_err_top;
	uint32_t k;
	uint32_t kth_count;
	uint64_t undercounts;
	uint64_t sketch_bytes;
};

struct hagent_test_bench_result {
	double ns_per_sample;
	double bytes_per_page;
	double exchange_ns;
	double decay_ms;
	uint64_t pages;
	uint64_t samples;
	uint64_t table_bytes;
	uint64_t heap_bytes;
	uint64_t sketch_bytes;
	uint64_t checksum;
	struct hagent_test_accuracy accuracy;
};

/* the module's own API (table.h, heap.h, sketch.h, selftest.h) */
int hagent_table_insert(struct hagent_table *t, uint64_t vpfn, void *folio,
			unsigned int order, struct hagent_entry **entry);
int hagent_table_update(struct hagent_table *t, uint64_t vpfn, void *folio,
			unsigned int order);
struct hagent_entry *hagent_table_lookup(const struct hagent_table *t, uint64_t vpfn);
int hagent_table_delete(struct hagent_table *t, uint64_t vpfn);
struct hagent_entry *hagent_table_next(const struct hagent_table *t, uint32_t *cursor);
size_t hagent_table_bytes(const struct hagent_table *t);
int hagent_table_check(const struct hagent_table *t);
int hagent_table_reserve(struct hagent_table *t, uint32_t n);
int hagent_heap_reserve(struct hagent_heap *h, uint32_t n);
int hagent_heap_insert(struct hagent_heap *h, struct hagent_entry *e);
int hagent_heap_delete(struct hagent_heap *h, struct hagent_entry *e);
int hagent_heap_update(struct hagent_heap *h, struct hagent_entry *e, uint8_t hot);
struct hagent_entry *hagent_heap_peek(const struct hagent_heap *h);
struct hagent_entry *hagent_heap_pop(struct hagent_heap *h);
int hagent_heap_exchange(struct hagent_heap *fast, struct hagent_heap *slow,
			 struct hagent_entry **promoted, struct hagent_entry **demoted);
_Bool hagent_heap_contains(const struct hagent_heap *h, const struct hagent_entry *e);
size_t hagent_heap_bytes(const struct hagent_heap *h);
int hagent_heap_check(struct hagent_heap *h);
int hagent_sketch_resize(struct hagent_sketch *sk, uint32_t capacity);
uint32_t hagent_sketch_add(struct hagent_sketch *sk, uint64_t key, uint32_t n);
uint32_t hagent_sketch_estimate(const struct hagent_sketch *sk, uint64_t key);
void hagent_sketch_decay(struct hagent_sketch *sk);
void hagent_sketch_clear(struct hagent_sketch *sk);
uint32_t hagent_sketch_lines_for(uint32_t capacity);
size_t hagent_sketch_bytes(const struct hagent_sketch *sk);
int hagent_core_selftest(void);

/* glue */
struct hagent_table *hagent_test_table_new(uint32_t capacity);
void hagent_test_table_free(struct hagent_table *t);
struct hagent_heap *hagent_test_heap_new(struct hagent_table *t, int tier, uint32_t capacity);
void hagent_test_heap_free(struct hagent_heap *h);
struct hagent_sketch *hagent_test_sketch_new(uint32_t capacity, uint64_t seed);
void hagent_test_sketch_free(struct hagent_sketch *sk);
void hagent_test_entry_get(const struct hagent_table *t, const struct hagent_entry *e,
			   struct hagent_test_entry *out);
void hagent_test_entry_set_hot(struct hagent_entry *e, uint32_t hot);
uint32_t hagent_test_table_count(const struct hagent_table *t);
struct hagent_entry *hagent_test_table_entry(const struct hagent_table *t, uint32_t id);
uint32_t hagent_test_heap_count(const struct hagent_heap *h);
uint32_t hagent_test_heap_id(const struct hagent_heap *h, uint32_t i);
unsigned long hagent_test_heap_pages_at(const struct hagent_heap *h, uint8_t hot);
int hagent_test_reserve_in_steps(struct hagent_table *t, struct hagent_heap *h, uint32_t n,
				 uint32_t remove);
int hagent_test_install_refuses_smaller(struct hagent_table *t, struct hagent_heap *h);

/* the planner (plan.h), flattened */
#define HAGENT_TEST_BAR_NONE 256
unsigned int hagent_test_plan_bar(struct hagent_heap **heaps, unsigned int n,
				  unsigned long capacity);
struct hagent_test_plan {
	unsigned int bar, min_hot, hyst;
	unsigned long limit;
	long room;
	unsigned long planned;
	uint32_t slots;
	/* the moves, in the order the planner chose them */
	uint32_t nr;
	uint64_t vpfn[8192];
	uint32_t hot[8192];
	uint32_t order[8192];
	uint32_t to[8192];
};
unsigned long hagent_test_plan_exchange(struct hagent_test_plan *tp, struct hagent_heap *fast,
					struct hagent_heap *slow);
unsigned long hagent_test_plan_demote(struct hagent_test_plan *tp, struct hagent_heap *fast,
				      unsigned int hot, unsigned long want);
unsigned long hagent_plan_pages_above(const struct hagent_heap *slow, unsigned int bar,
				      unsigned long cap);
unsigned long hagent_plan_pages_from(const struct hagent_heap *h, unsigned int hot);
void hagent_plan_share(const unsigned long *demand, unsigned long *share, unsigned int n,
		       unsigned long capacity);
unsigned int hagent_plan_hyst(unsigned int hyst, unsigned long top);
struct hagent_test_hist {
	unsigned long pages[256];
};
unsigned long hagent_test_plan_pairs(const struct hagent_test_hist *up,
				     const struct hagent_test_hist *down, unsigned int min_hot,
				     unsigned int below, unsigned int hyst, unsigned long cap,
				     unsigned int *vmax);
size_t hagent_test_sizeof_entry(void);
unsigned long hagent_test_warnings(void);
int hagent_test_zipf_stream(uint32_t pages, double s, uint64_t seed, uint64_t base,
			    uint64_t *out, uint64_t nr_samples);
int hagent_test_sketch_accuracy(uint32_t pages, uint32_t width_pages, uint64_t samples,
				double s, uint64_t seed, struct hagent_test_accuracy *out);
void hagent_test_update_batch(struct hagent_table *t, struct hagent_sketch *sk,
			      struct hagent_heap *fast, struct hagent_heap *slow,
			      const uint64_t *vpfns, uint64_t n);
int hagent_test_bench(uint32_t pages, uint64_t samples, uint32_t fast_pct, uint64_t seed,
		      struct hagent_test_bench_result *out);
/* CDEF END */

int hagent_test_measure(const struct hagent_sketch *sk, uint64_t base, uint32_t pages,
			const uint32_t *exact, struct hagent_test_accuracy *out);

#endif /* _HAGENT_CORE_HELPER_H */
