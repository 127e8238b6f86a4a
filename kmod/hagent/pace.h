/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pace of hagentd's sampling: the accessed-bit windows (how long a
 * primed range waits before it is measured, for base pages and for THPs),
 * how often a scan step and a halving of the counts come, and how long
 * hagentd sleeps between rounds.  Called only by hagentd.
 */
#ifndef _HAGENT_PACE_H
#define _HAGENT_PACE_H

#include <linux/types.h>

struct hagent_abit_tally;

extern unsigned int hagent_abit_window_ms;
extern unsigned int hagent_scan_idle_div;

void hagent_pace_init(void);

/* Waits out the base pages' window (drop hagent_targets_lock around it). */
void hagent_pace_abit_wait(void);
/*
 * The huge window for every target whose measured range held THPs; under
 * hagent_targets_lock, which it drops while the window lasts.  Adds to @tally.
 */
void hagent_pace_huge_window(struct hagent_abit_tally *tally);
/* After a scan step's windows: adapt them, and the pace, to what was found. */
void hagent_pace_step_done(const struct hagent_abit_tally *tally, unsigned long total,
			   unsigned long pass_steps);

bool hagent_pace_scan_due(void);
bool hagent_pace_decay_due(void);

/* Passes that measure every folio between two halvings, at least. */
#define HAGENT_DECAY_PASSES	4
/*
 * The count a folio found touched at every measurement would have now: its
 * measurements since the last halving plus half of what it had then.  The
 * scale of every count (with four passes a halving, 4 to 8).
 */
unsigned long hagent_pace_top_count(void);
/* Jiffies to sleep before the next round of @interval_ms. */
unsigned long hagent_pace_round_sleep(unsigned int interval_ms);

#endif /* _HAGENT_PACE_H */
