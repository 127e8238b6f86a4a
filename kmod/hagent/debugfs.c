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
#include "sampler_pmu.h"
#include "symbols.h"
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

	for (i = 0; i < HAGENT_PMU_NR; i++)
		seq_printf(m, "%s.available %d\n", hagent_pmu[i].name,
			   hagent_pmu[i].available);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hagent_samplers_seq);

static int hagent_version_seq_show(struct seq_file *m, void *v)
{
	seq_printf(m, "version %s\n", HAGENT_VERSION);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hagent_version_seq);

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
	return 0;
}

void hagent_debugfs_exit(void)
{
	debugfs_remove_recursive(hagent_debugfs_dir);
	hagent_debugfs_dir = NULL;
}
