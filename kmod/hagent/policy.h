/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_POLICY_H
#define _HAGENT_POLICY_H

#include <linux/types.h>

int hagent_policy_init(void);
void hagent_policy_exit(void);
/* CPU time of the policy thread, in ns; 0 when it is not running. */
u64 hagent_policy_cpu_ns(void);

/* Placement tunables (module parameters, see policy.c). */
extern unsigned int hagent_interval_ms;
extern bool hagent_placement;
extern unsigned int hagent_migrate_mbps;
extern unsigned int hagent_migrate_batch;
extern unsigned int hagent_hysteresis;
extern unsigned int hagent_promote_min;
extern unsigned int hagent_fast_reserve_mb;
extern unsigned int hagent_abit_window_ms;
extern unsigned int hagent_scan_idle_div;

#endif /* _HAGENT_POLICY_H */
