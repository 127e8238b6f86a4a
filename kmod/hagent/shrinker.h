/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_SHRINKER_H
#define _HAGENT_SHRINKER_H

int hagent_shrinker_init(void);
void hagent_shrinker_exit(void);

#endif /* _HAGENT_SHRINKER_H */
