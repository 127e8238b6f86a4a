// SPDX-License-Identifier: GPL-2.0
/*
 * Figures for the core structures at full size (see scripts/bench-structures):
 * ns per sample for the policy's per-sample path (table lookup, sketch add,
 * heap update), metadata bytes per managed page from the allocation sizes,
 * and the sketch's top-10% recall on the same Zipf stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_helper.h"

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--pages N] [--samples N] [--fast-pct P] [--seed S] [--json]\n",
		argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long long pages = 1 << 20, samples = 8000000, seed = 7, fast_pct = 20;
	struct hagent_test_bench_result r;
	int json = 0, i, err;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (i + 1 < argc && !strcmp(argv[i], "--pages"))
			pages = strtoull(argv[++i], NULL, 0);
		else if (i + 1 < argc && !strcmp(argv[i], "--samples"))
			samples = strtoull(argv[++i], NULL, 0);
		else if (i + 1 < argc && !strcmp(argv[i], "--fast-pct"))
			fast_pct = strtoull(argv[++i], NULL, 0);
		else if (i + 1 < argc && !strcmp(argv[i], "--seed"))
			seed = strtoull(argv[++i], NULL, 0);
		else
			usage(argv[0]);
	}
	if (!pages || pages > 1ULL << 30 || !samples || fast_pct > 100)
		usage(argv[0]);
	err = hagent_test_bench((uint32_t)pages, samples, (uint32_t)fast_pct, seed, &r);
	if (err) {
		fprintf(stderr, "bench-structures: failed: %s\n", strerror(-err));
		return 1;
	}
	if (json) {
		printf("{\"pages\": %llu, \"samples\": %llu, \"fast_pct\": %llu, "
		       "\"ns_per_sample\": %.1f, \"bytes_per_page\": %.2f, "
		       "\"table_bytes\": %llu, \"heap_bytes\": %llu, \"sketch_bytes\": %llu, "
		       "\"recall_top10\": %.4f, \"recall_top10_ties\": %.4f, "
		       "\"mean_rel_err\": %.4f, \"mean_rel_err_top10\": %.5f, "
		       "\"exchange_ns\": %.1f, \"decay_ms\": %.2f}\n",
		       pages, samples, fast_pct, r.ns_per_sample, r.bytes_per_page,
		       (unsigned long long)r.table_bytes, (unsigned long long)r.heap_bytes,
		       (unsigned long long)r.sketch_bytes, r.accuracy.recall,
		       r.accuracy.recall_ties, r.accuracy.mean_rel_err,
		       r.accuracy.mean_rel_err_top, r.exchange_ns, r.decay_ms);
		return 0;
	}
	printf("pages %llu, samples %llu (Zipf 1.0), fast tier %llu%%\n", pages, samples, fast_pct);
	printf("per sample (lookup + sketch add + heap update): %8.1f ns   (target <= 150)\n",
	       r.ns_per_sample);
	printf("metadata per managed page:                       %8.2f B    (target <= 40)\n",
	       r.bytes_per_page);
	printf("  table %llu B, heaps %llu B, sketch %llu B\n",
	       (unsigned long long)r.table_bytes, (unsigned long long)r.heap_bytes,
	       (unsigned long long)r.sketch_bytes);
	printf("sketch top-10%% recall:                          %8.4f     (target >= 0.95; %.4f with ties)\n",
	       r.accuracy.recall, r.accuracy.recall_ties);
	printf("sketch mean relative error:                      %8.4f     (%.5f over the top 10%%)\n",
	       r.accuracy.mean_rel_err, r.accuracy.mean_rel_err_top);
	printf("heap exchange: %.1f ns; sketch decay: %.2f ms\n", r.exchange_ns, r.decay_ms);
	return 0;
}
