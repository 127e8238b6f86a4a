// SPDX-License-Identifier: GPL-2.0
/*
 * hagent: keeps a process's hot pages in the fast memory tier, from a module
 * loaded into a stock kernel.  This file is only the init/exit ladder; each
 * part owns its state behind hagent_<part>_init()/_exit().
 */
#include <linux/module.h>
#include "cgroup.h"
#include "debugfs.h"
#include "hotplug.h"
#include "main.h"
#include "netlink.h"
#include "overhead.h"
#include "policy.h"
#include "sample.h"
#include "sampler_pmu.h"
#include "selftest.h"
#include "follow.h"
#include "shrinker.h"
#include "symbols.h"
#include "target.h"
#include "version.h"

static bool selftest;
module_param(selftest, bool, 0444);
MODULE_PARM_DESC(selftest, "Run the structures' self-test at load and refuse to load if it fails");

static bool hagent_selftest_passed;

unsigned int hagent_decay_ms = 8000;
module_param_named(decay_ms, hagent_decay_ms, uint, 0644);
MODULE_PARM_DESC(decay_ms, "Milliseconds between two halvings of every access count, at least four scan passes (default 8000)");

bool hagent_abit = true;
module_param_named(abit, hagent_abit, bool, 0644);
MODULE_PARM_DESC(abit, "Sample accesses from page-table accessed bits during each pass (default on)");

unsigned long hagent_max_pages = 1UL << 22;
module_param_named(max_pages, hagent_max_pages, ulong, 0644);
MODULE_PARM_DESC(max_pages, "Most pages managed per process, 0 for no limit (default 4194304, 16 GiB)");

unsigned int hagent_scan_interval_ms = 200;
module_param_named(scan_interval_ms, hagent_scan_interval_ms, uint, 0644);
MODULE_PARM_DESC(scan_interval_ms, "Milliseconds between two scan steps, and the accessed-bit measuring window (default 200)");

unsigned long hagent_scan_pages = 16384;
module_param_named(scan_pages, hagent_scan_pages, ulong, 0644);
MODULE_PARM_DESC(scan_pages, "Mapped entries (PTEs, PMDs of THPs) primed per scan step, all processes together, bounding a step's cost (default 16384)");

u64 hagent_features(void)
{
	u64 f = HAGENT_F_MIGRATE;

	if (hagent_debugfs_dir)
		f |= HAGENT_F_DEBUGFS;
	if (hagent_selftest_passed)
		f |= HAGENT_F_SELFTEST;
	return f;
}

static int __init hagent_init(void)
{
	int err;

	if (selftest) {
		err = hagent_core_selftest();
		if (err)
			return err;
		hagent_selftest_passed = true;
	}
	err = hagent_symbols_init();
	if (err)
		return err;
	hagent_pmu_detect();
	err = hagent_sample_init();
	if (err)
		goto err_symbols;
	err = hagent_pmu_init();
	if (err)
		goto err_sample;
	err = hagent_targets_init();
	if (err)
		goto err_pmu;
	err = hagent_shrinker_init();
	if (err)
		goto err_targets;
	err = hagent_hotplug_init();
	if (err)
		goto err_shrinker;
	err = hagent_policy_init();
	if (err)
		goto err_hotplug;
	err = hagent_overhead_init();
	if (err)
		goto err_policy;
	err = hagent_debugfs_init();
	if (err)
		goto err_overhead;
	err = hagent_netlink_init();
	if (err)
		goto err_debugfs;
	/* Last: its work item enables targets and sends their events. */
	hagent_follow_init();
	hagent_cgroup_init();

	hagent_event_send(HAGENT_EV_LOADED, 0, GFP_KERNEL, "hagent %s loaded", HAGENT_VERSION);
	pr_info("version %s loaded\n", HAGENT_VERSION);
	return 0;

err_debugfs:
	hagent_debugfs_exit();
err_overhead:
	hagent_overhead_exit();
err_policy:
	hagent_policy_exit();
err_hotplug:
	hagent_hotplug_exit();
err_shrinker:
	hagent_shrinker_exit();
err_targets:
	hagent_targets_exit();
err_pmu:
	hagent_pmu_exit();
err_sample:
	hagent_sample_exit();
err_symbols:
	hagent_symbols_exit();
	return err;
}

static void __exit hagent_exit(void)
{
	hagent_event_send(HAGENT_EV_UNLOADING, 0, GFP_KERNEL, "hagent %s unloading", HAGENT_VERSION);
	hagent_cgroup_exit();
	hagent_follow_exit();
	hagent_netlink_exit();
	hagent_debugfs_exit();
	hagent_overhead_exit();
	hagent_policy_exit();
	hagent_hotplug_exit();
	hagent_shrinker_exit();
	hagent_targets_exit();
	hagent_pmu_exit();
	hagent_sample_exit();
	hagent_symbols_exit();
	pr_info("unloaded\n");
}

module_init(hagent_init);
module_exit(hagent_exit);
MODULE_LICENSE("GPL");
MODULE_VERSION(HAGENT_VERSION);
MODULE_DESCRIPTION("Hot pages in the fast memory tier, on a stock kernel");
MODULE_AUTHOR("hagent developers");
