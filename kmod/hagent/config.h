/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tunables, by name: every module parameter that may change while
 * hagent runs, readable and settable over netlink (GET_CONFIG, SET_CONFIG).
 * The variables stay the module parameters' own, so /sys/module/hagent/
 * parameters and netlink show and change the same values.
 */
#ifndef _HAGENT_CONFIG_H
#define _HAGENT_CONFIG_H

#include <linux/netlink.h>
#include <linux/types.h>

unsigned int hagent_config_count(void);
/* The @i-th tunable's name and current value. */
const char *hagent_config_get(unsigned int i, u64 *value);
/* Checks @name = @value without applying it: 0 or -EINVAL with an extack. */
int hagent_config_check(const char *name, u64 value, struct netlink_ext_ack *extack);
/* Applies a checked setting. */
void hagent_config_set(const char *name, u64 value);

#endif /* _HAGENT_CONFIG_H */
