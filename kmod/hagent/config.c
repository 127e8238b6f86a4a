// SPDX-License-Identifier: GPL-2.0
/*
 * The tunables table (see config.h).  Values are written with WRITE_ONCE and
 * read by their users with READ_ONCE, once per use, so a change takes effect
 * at the next policy round without any lock.  SET_CONFIG checks every
 * setting of a request before applying any (netlink.c), and runs under
 * genl_mutex, so two requests never interleave.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include "compat.h"
#include "config.h"
#include "follow.h"
#include "pace.h"
#include "place.h"
#include "policy.h"
#include "sampler_pmu.h"
#include "target.h"

struct hagent_tunable {
	const char *name;
	void *ptr;
	u8 size;		/* of the variable: 1 (bool), 4 or 8 */
	u64 min, max;
	void (*changed)(void);	/* optional: told after a change */
};

#define HAGENT_TUNABLE(n, var, lo, hi) \
	{ .name = n, .ptr = &(var), .size = sizeof(var), .min = (lo), .max = (hi) }
#define HAGENT_TUNABLE_HOOK(n, var, lo, hi, fn) \
	{ .name = n, .ptr = &(var), .size = sizeof(var), .min = (lo), .max = (hi), .changed = (fn) }

static const struct hagent_tunable hagent_tunables[] = {
	HAGENT_TUNABLE("interval_ms",		hagent_interval_ms, 10, 60000),
	HAGENT_TUNABLE("scan_interval_ms",	hagent_scan_interval_ms, 10, 3600000),
	HAGENT_TUNABLE("scan_pages",		hagent_scan_pages, 1, 1ULL << 32),
	HAGENT_TUNABLE("scan_idle_div",		hagent_scan_idle_div, 1, 64),
	HAGENT_TUNABLE("decay_ms",		hagent_decay_ms, 10, 3600000),
	HAGENT_TUNABLE("abit",			hagent_abit, 0, 1),
	HAGENT_TUNABLE("abit_window_ms",	hagent_abit_window_ms, 0, 60000),
	HAGENT_TUNABLE_HOOK("fault_samples",	hagent_fault_samples, 0, 1, hagent_pmu_config_changed),
	HAGENT_TUNABLE("max_pages",		hagent_max_pages, 0, 1ULL << 32),
	HAGENT_TUNABLE("placement",		hagent_placement, 0, 1),
	HAGENT_TUNABLE("migrate_mbps",		hagent_migrate_mbps, 0, 1 << 20),
	HAGENT_TUNABLE("migrate_batch",		hagent_migrate_batch, 16, 65536),
	HAGENT_TUNABLE("hysteresis",		hagent_hysteresis, 0, 255),
	HAGENT_TUNABLE("promote_min",		hagent_promote_min, 1, 255),
	HAGENT_TUNABLE("fast_reserve_mb",	hagent_fast_reserve_mb, 0, 1 << 20),
	HAGENT_TUNABLE("fair_share",		hagent_fair_share, 0, 1),
	HAGENT_TUNABLE("follow_max",		hagent_follow_max, 0, 1 << 20),
	HAGENT_TUNABLE("workload_max",		hagent_workload_max, 1, 1 << 20),
};

unsigned int hagent_config_count(void)
{
	return ARRAY_SIZE(hagent_tunables);
}

const char *hagent_config_get(unsigned int i, u64 *value)
{
	const struct hagent_tunable *p = &hagent_tunables[i];

	switch (p->size) {
	case 1:
		*value = READ_ONCE(*(bool *)p->ptr);
		break;
	case 4:
		*value = READ_ONCE(*(u32 *)p->ptr);
		break;
	default:
		*value = READ_ONCE(*(u64 *)p->ptr);
		break;
	}
	return p->name;
}

static const struct hagent_tunable *hagent_config_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hagent_tunables); i++)
		if (!strcmp(hagent_tunables[i].name, name))
			return &hagent_tunables[i];
	return NULL;
}

int hagent_config_check(const char *name, u64 value, struct netlink_ext_ack *extack)
{
	const struct hagent_tunable *p = hagent_config_find(name);

	if (!p) {
		HAGENT_SET_ERR_MSG_FMT(extack, "no setting named \"%s\"", name);
		return -EINVAL;
	}
	if (value < p->min || value > p->max) {
		HAGENT_SET_ERR_MSG_FMT(extack, "%s must be in %llu..%llu", name, p->min, p->max);
		return -ERANGE;
	}
	return 0;
}

void hagent_config_set(const char *name, u64 value)
{
	const struct hagent_tunable *p = hagent_config_find(name);

	if (!p)
		return;
	switch (p->size) {
	case 1:
		WRITE_ONCE(*(bool *)p->ptr, !!value);
		break;
	case 4:
		WRITE_ONCE(*(u32 *)p->ptr, (u32)value);
		break;
	default:
		WRITE_ONCE(*(u64 *)p->ptr, value);
		break;
	}
	if (p->changed)
		p->changed();
}
