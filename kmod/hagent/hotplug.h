/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_HOTPLUG_H
#define _HAGENT_HOTPLUG_H

#include <linux/types.h>

int hagent_hotplug_init(void);
void hagent_hotplug_exit(void);

/* Whether [@pfn, @pfn + @nr) overlaps memory going offline now. */
bool hagent_pfn_offlining(unsigned long pfn, unsigned long nr);
/* Under hagent_targets_lock (hagentd): give back what lies in memory going offline. */
void hagent_hotplug_give_back(void);

#endif /* _HAGENT_HOTPLUG_H */
