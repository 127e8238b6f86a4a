// SPDX-License-Identifier: GPL-2.0
/*
 * Reporting a broken invariant (check.h) and shutting its target down.
 * Callable in any context, with any hagent lock held: the report uses
 * GFP_ATOMIC and the shutdown is deferred to the target's failsafe work.
 */
#include <linux/atomic.h>
#include <linux/kernel.h>
#include <linux/ratelimit.h>
#include <linux/string.h>
#include "check.h"
#include "netlink.h"
#include "target.h"

static atomic64_t hagent_checks;

u64 hagent_checks_failed(void)
{
	return atomic64_read(&hagent_checks);
}

void hagent_check_failed(void *target, const char *expr, const char *file, int line,
			 const char *fmt, ...)
{
	static DEFINE_RATELIMIT_STATE(rs, 5 * HZ, 10);
	struct hagent_target *t = target;
	char kv[128];
	va_list args;

	va_start(args, fmt);
	vsnprintf(kv, sizeof(kv), fmt, args);
	va_end(args);
	atomic64_inc(&hagent_checks);
	if (__ratelimit(&rs))
		pr_err("CHECK failed: %s at %s:%d pid=%d %s\n", expr, kbasename(file), line,
		       t ? t->pid : 0, strim(kv));
	hagent_event_send(HAGENT_EV_CHECK_FAILED, t ? t->pid : 0, GFP_ATOMIC,
			  "CHECK failed: %s at %s:%d pid=%d %s", expr, kbasename(file), line,
			  t ? t->pid : 0, strim(kv));
	if (t)
		hagent_target_failsafe(t);
}
