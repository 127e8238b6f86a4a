/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_DEBUGFS_H
#define _HAGENT_DEBUGFS_H

#include <linux/dcache.h>

/* /sys/kernel/debug/hagent, or NULL when debugfs is unavailable. */
extern struct dentry *hagent_debugfs_dir;

int hagent_debugfs_init(void);
void hagent_debugfs_exit(void);

#endif /* _HAGENT_DEBUGFS_H */
