/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_NETLINK_H
#define _HAGENT_NETLINK_H

#include <linux/gfp.h>
#include <linux/types.h>
#include "uapi/hagent.h"

int hagent_netlink_init(void);
void hagent_netlink_exit(void);

/*
 * Multicasts one HAGENT_CMD_EVENT to the events group.  Safe in atomic
 * context with GFP_ATOMIC.  Returns 0 also when nobody listens.
 */
__printf(4, 5)
int hagent_event_send(enum hagent_event type, pid_t pid, gfp_t gfp,
		      const char *fmt, ...);

#endif /* _HAGENT_NETLINK_H */
