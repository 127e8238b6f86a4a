/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_MAIN_H
#define _HAGENT_MAIN_H

#include <linux/types.h>

/* HAGENT_F_* bits describing this load of the module. */
u64 hagent_features(void);

#endif /* _HAGENT_MAIN_H */
