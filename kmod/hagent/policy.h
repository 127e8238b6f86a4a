/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_POLICY_H
#define _HAGENT_POLICY_H

int hagent_policy_init(void);
void hagent_policy_exit(void);

#endif /* _HAGENT_POLICY_H */
