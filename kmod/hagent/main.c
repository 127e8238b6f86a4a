// SPDX-License-Identifier: GPL-2.0
/*
 * hagent: keeps a process's hot pages in the fast memory tier, from a module
 * loaded into a stock kernel.  This file is only the init/exit ladder; each
 * part owns its state behind hagent_<part>_init()/_exit().
 */
#include <linux/module.h>
#include "debugfs.h"
#include "main.h"
#include "netlink.h"
#include "sampler_pmu.h"
#include "selftest.h"
#include "symbols.h"
#include "version.h"

static bool selftest;
module_param(selftest, bool, 0444);
MODULE_PARM_DESC(selftest, "Run the structures' self-test at load and refuse to load if it fails");

static bool hagent_selftest_passed;

u64 hagent_features(void)
{
	u64 f = HAGENT_F_MIGRATE;

	if (hagent_debugfs_dir)
		f |= HAGENT_F_DEBUGFS;
	if (hagent_selftest_passed)
		f |= HAGENT_F_SELFTEST;
	return f;
}

u32 hagent_nr_targets(void)
{
	return 0;	/* no process can be managed yet */
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
	err = hagent_debugfs_init();
	if (err)
		goto err_symbols;
	err = hagent_netlink_init();
	if (err)
		goto err_debugfs;

	hagent_event_send(HAGENT_EV_LOADED, 0, GFP_KERNEL, "hagent %s loaded", HAGENT_VERSION);
	pr_info("version %s loaded\n", HAGENT_VERSION);
	return 0;

err_debugfs:
	hagent_debugfs_exit();
err_symbols:
	hagent_symbols_exit();
	return err;
}

static void __exit hagent_exit(void)
{
	hagent_event_send(HAGENT_EV_UNLOADING, 0, GFP_KERNEL, "hagent %s unloading", HAGENT_VERSION);
	hagent_netlink_exit();
	hagent_debugfs_exit();
	hagent_symbols_exit();
	pr_info("unloaded\n");
}

module_init(hagent_init);
module_exit(hagent_exit);
MODULE_LICENSE("GPL");
MODULE_VERSION(HAGENT_VERSION);
MODULE_DESCRIPTION("Hot pages in the fast memory tier, on a stock kernel");
MODULE_AUTHOR("hagent developers");
