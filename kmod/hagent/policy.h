/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_POLICY_H
#define _HAGENT_POLICY_H

#include <linux/types.h>

int hagent_policy_init(void);
void hagent_policy_exit(void);
/* CPU time of the policy thread, in ns; 0 when it is not running. */
u64 hagent_policy_cpu_ns(void);
/* A ring is half full: drain it before the next round (hardirq context). */
void hagent_policy_drain_soon(void);

extern unsigned int hagent_interval_ms;

#endif /* _HAGENT_POLICY_H */
