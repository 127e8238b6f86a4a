/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Self-test of the core structures (table, sketch, heaps), run from module
 * init when selftest=1 and from the host tests.
 */
#ifndef _HAGENT_SELFTEST_H
#define _HAGENT_SELFTEST_H

int hagent_core_selftest(void);

#endif /* _HAGENT_SELFTEST_H */
