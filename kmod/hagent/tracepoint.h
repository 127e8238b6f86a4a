/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_TRACEPOINT_H
#define _HAGENT_TRACEPOINT_H

/*
 * Kernel tracepoints hagent probes, found by name: most are not exported
 * (sched_*, tlb_flush), so for_each_kernel_tracepoint() finds them.
 */
struct tracepoint;

struct hagent_tp {
	const char *name;
	void *probe;
	struct tracepoint *tp;		/* found by hagent_tp_find(); NULL: the kernel lacks it */
};

/* Looks up each of the @n tracepoints by name. */
void hagent_tp_find(struct hagent_tp *tps, unsigned int n);
/*
 * Attaches every probe, or none: a missing tracepoint or a failed
 * registration is logged with @who and returned.
 */
int hagent_tp_attach(struct hagent_tp *tps, unsigned int n, const char *who);
/* Detaches every probe; no probe runs once this returns. */
void hagent_tp_detach(struct hagent_tp *tps, unsigned int n);

#endif /* _HAGENT_TRACEPOINT_H */
