/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fail-safe invariant checks.  A broken invariant never panics the machine:
 *
 *   hagent: CHECK failed: <expr> at <file>:<line> pid=<pid> key=value ...
 *
 * is logged (rate-limited), the same line goes to the events group, the
 * failure is counted (checks.failed), and the target concerned is shut down
 * from a work item: its folios go back to the LRU (released.failsafe) and
 * it is no longer managed.  hagentctl triage finds these lines.
 */
#ifndef _HAGENT_CHECK_H
#define _HAGENT_CHECK_H

#include <linux/compiler.h>
#include "core.h"

struct hagent_target;

/*
 * True when @cond holds; otherwise reports the failure for target @t (may
 * be NULL) with "key=value ..." from @fmt, and is false.  Any context.
 */
#define HAGENT_CHECK(t, cond, fmt, ...) ({					\
	bool __ok = !!(cond);							\
	if (unlikely(!__ok))							\
		hagent_check_failed((t), #cond, __FILE__, __LINE__, fmt, ##__VA_ARGS__);	\
	__ok;									\
})

/* Checks failed since load. */
u64 hagent_checks_failed(void);

#endif /* _HAGENT_CHECK_H */
