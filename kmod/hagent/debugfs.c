// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/hagent/: counters for people and for hagentctl.  Every
 * file is plain text, one "key value" pair per line, so that a shell, a test
 * and hagentctl read it the same way.  debugfs being absent (not mounted,
 * locked down) is not an error: hagent works on without it.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include "debugfs.h"
#include "overhead.h"
#include "place.h"
#include "sampler_pmu.h"
#include "sample.h"
#include "symbols.h"
#include "target.h"
#include "tier.h"
#include "version.h"

struct dentry *hagent_debugfs_dir;

static int hagent_symbols_seq_show(struct seq_file *m, void *v)
{
	hagent_symbols_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hagent_symbols_seq);

static int hagent_nodes_seq_show(struct seq_file *m, void *v)
{
	struct hagent_node_info info;
	int nid;

	for_each_node_state(nid, N_MEMORY) {
		hagent_tier_node_info(nid, &info);
		seq_printf(m, "node%d.tier %s\n", nid,
			   info.tier == HAGENT_TIER_FAST ? "fast" : "slow");
		seq_printf(m, "node%d.nr_cpus %u\n", nid, info.nr_cpus);
		seq_printf(m, "node%d.mem_total %llu\n", nid, info.mem_total);
		seq_printf(m, "node%d.mem_free %llu\n", nid, info.mem_free);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hagent_nodes_seq);

static int hagent_samplers_seq_show(struct seq_file *m, void *v)
{
	int i;

	for (i = 0; i < HAGENT_PMU_NR; i++) {
		seq_printf(m, "%s.available %d\n", hagent_pmu[i].name,
			   hagent_pmu[i].available);
		seq_printf(m, "%s.counters %u\n", hagent_pmu[i].name,
			   READ_ONCE(hagent_pmu[i].counters));
	}
	seq_printf(m, "pmu.counters %u\n", hagent_pmu_active());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hagent_samplers_seq);

static int hagent_version_seq_show(struct seq_file *m, void *v)
{
	seq_printf(m, "version %s\n", HAGENT_VERSION);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hagent_version_seq);

static void hagent_samples_show(struct seq_file *m, const char *prefix,
				struct hagent_sample_stats *st)
{
	int src, k;
	u64 sum;

	for (k = 0; k < HAGENT_SK_NR; k++) {
		for (sum = 0, src = 0; src < HAGENT_SRC_NR; src++)
			sum += atomic64_read(&st->n[src][k]);
		seq_printf(m, "%ssamples.%s %llu\n", prefix, hagent_sample_kind_names[k], sum);
	}
	for (src = 0; src < HAGENT_SRC_NR; src++)
		for (k = 0; k < HAGENT_SK_NR; k++)
			seq_printf(m, "%ssamples.%s.%s %lld\n", prefix, hagent_source_names[src],
				   hagent_sample_kind_names[k], atomic64_read(&st->n[src][k]));
}

/* "<pid>.<counter> <value>" for every managed process. */
static int hagent_targets_seq_show(struct seq_file *m, void *v)
{
	u64 ctr[HAGENT_CTR_NR];
	struct hagent_target *t;
	char prefix[16];
	int i;

	mutex_lock(&hagent_targets_lock);
	list_for_each_entry(t, &hagent_targets, node) {
		hagent_target_counters(t, ctr);
		seq_printf(m, "%d.comm %s\n", t->pid, t->comm);
		for (i = 0; i < HAGENT_CTR_NR; i++)
			seq_printf(m, "%d.%s %llu\n", t->pid, hagent_ctr_names[i], ctr[i]);
		snprintf(prefix, sizeof(prefix), "%d.", t->pid);
		hagent_samples_show(m, prefix, &t->samples);
	}
	mutex_unlock(&hagent_targets_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hagent_targets_seq);

static int hagent_totals_seq_show(struct seq_file *m, void *v)
{
	u64 ctr[HAGENT_CTR_NR], gctr[HAGENT_GCTR_NR], ovh[HAGENT_OVH_NR];
	int i;

	hagent_totals(ctr, gctr);
	hagent_overhead_read(ovh);
	for (i = 0; i < HAGENT_CTR_NR; i++)
		seq_printf(m, "%s %llu\n", hagent_ctr_names[i], ctr[i]);
	for (i = 0; i < HAGENT_GCTR_NR; i++)
		seq_printf(m, "%s %llu\n", hagent_gctr_names[i], gctr[i]);
	for (i = 0; i < HAGENT_OVH_NR; i++)
		seq_printf(m, "%s %llu\n", hagent_overhead_names[i], ovh[i]);
	hagent_samples_show(m, "", &hagent_sample_totals);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hagent_totals_seq);

/*
 * Every managed folio: "<pid> <vaddr> <order> <tier> <hot>", hex address.
 * For tests and for looking at the ranking by hand; not a counter file.
 */
static int hagent_entries_seq_show(struct seq_file *m, void *v)
{
	struct hagent_target *t;
	struct hagent_entry *e;
	u32 cursor;

	mutex_lock(&hagent_targets_lock);
	list_for_each_entry(t, &hagent_targets, node) {
		mutex_lock(&t->lock);
		hagent_table_for_each(&t->table, e, cursor)
			seq_printf(m, "%d %llx %u %s %u\n", t->pid, e->vpfn << PAGE_SHIFT, e->order,
				   e->tier == HAGENT_TIER_FAST ? "fast" : "slow", e->hot);
		mutex_unlock(&t->lock);
	}
	mutex_unlock(&hagent_targets_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hagent_entries_seq);

/*
 * The placement's view: "bar <count>" (plan.h; 256: nothing may be promoted),
 * the bar of one scale for all; "hysteresis <count>", as it is counted now
 * (place.c: hagent_hyst()); per process its own bar, its workload's fair
 * share's (the same without fair_share): "<pid> bar <count>"; and per
 * process and tier, the pages at each access count that has any:
 * "<pid> <tier> <count> <pages>".
 */
static int hagent_histogram_seq_show(struct seq_file *m, void *v)
{
	struct hagent_target *t;
	unsigned int tier, hot;
	unsigned long pages;

	seq_printf(m, "bar %u\n", hagent_place_bar());
	seq_printf(m, "hysteresis %u\n", hagent_hyst());
	mutex_lock(&hagent_targets_lock);
	list_for_each_entry(t, &hagent_targets, node) {
		seq_printf(m, "%d bar %u\n", t->pid, t->bar);
		mutex_lock(&t->lock);
		for (tier = 0; tier < __HAGENT_TIER_LAST; tier++) {
			for (hot = 0; hot <= HAGENT_HOT_MAX; hot++) {
				pages = hagent_heap_pages_at(&t->heap[tier], hot);
				if (pages)
					seq_printf(m, "%d %s %u %lu\n", t->pid,
						   tier == HAGENT_TIER_FAST ? "fast" : "slow", hot, pages);
			}
		}
		mutex_unlock(&t->lock);
	}
	mutex_unlock(&hagent_targets_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hagent_histogram_seq);

int hagent_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("hagent", NULL);

	if (IS_ERR_OR_NULL(dir)) {
		pr_info("debugfs unavailable; counters only over netlink\n");
		return 0;
	}
	hagent_debugfs_dir = dir;
	debugfs_create_file("version", 0444, dir, NULL, &hagent_version_seq_fops);
	debugfs_create_file("symbols", 0400, dir, NULL, &hagent_symbols_seq_fops);
	debugfs_create_file("nodes", 0444, dir, NULL, &hagent_nodes_seq_fops);
	debugfs_create_file("samplers", 0444, dir, NULL, &hagent_samplers_seq_fops);
	debugfs_create_file("targets", 0444, dir, NULL, &hagent_targets_seq_fops);
	debugfs_create_file("totals", 0444, dir, NULL, &hagent_totals_seq_fops);
	debugfs_create_file("entries", 0400, dir, NULL, &hagent_entries_seq_fops);
	debugfs_create_file("histogram", 0444, dir, NULL, &hagent_histogram_seq_fops);
	return 0;
}

void hagent_debugfs_exit(void)
{
	debugfs_remove_recursive(hagent_debugfs_dir);
	hagent_debugfs_dir = NULL;
}
