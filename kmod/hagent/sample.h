/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_SAMPLE_H
#define _HAGENT_SAMPLE_H

#include <linux/atomic.h>
#include <linux/types.h>

struct hagent_target;
struct mm_struct;

/* Where a sample came from.  Names: hagent_source_names[]. */
enum hagent_source {
	HAGENT_SRC_PEBS,
	HAGENT_SRC_IBS,
	HAGENT_SRC_ABIT,
	HAGENT_SRC_INJECT,
	HAGENT_SRC_FAULT,	/* page faults (software perf event) */
	HAGENT_SRC_NR
};

/*
 * What became of a sample.  total counts every sample pushed; each one then
 * ends up in exactly one of the others, so once the rings are drained
 * total == fast + slow + unmanaged + invalid + dropped, per target and
 * source and in total.
 */
enum hagent_sample_kind {
	HAGENT_SK_TOTAL,
	HAGENT_SK_FAST,		/* hit a managed folio in the fast tier */
	HAGENT_SK_SLOW,		/* hit a managed folio in the slow tier */
	HAGENT_SK_UNMANAGED,	/* mapped, but not a managed folio */
	HAGENT_SK_INVALID,	/* no mapping at that address */
	HAGENT_SK_DROPPED,	/* the ring was full */
	HAGENT_SK_NR
};

#define HAGENT_SAMPLE_STORE	0x1	/* a store, else a load */

struct hagent_sample_stats {
	atomic64_t n[HAGENT_SRC_NR][HAGENT_SK_NR];
};

extern const char *const hagent_source_names[HAGENT_SRC_NR];
extern const char *const hagent_sample_kind_names[HAGENT_SK_NR];
/* Samples of targets that are gone are only in these. */
extern struct hagent_sample_stats hagent_sample_totals;

int hagent_sample_init(void);
void hagent_sample_exit(void);

/*
 * Queue a sample of @t's address @addr on this CPU's ring.  Any context:
 * @nmi selects the ring reserved for NMI producers (PMU overflow handlers);
 * others must not be preemptible or pass nmi=false, which disables
 * interrupts around the push.
 */
void hagent_sample_push(struct hagent_target *t, u64 addr, u16 count,
			enum hagent_source src, u8 flags, bool nmi);

/*
 * A sample of managed entry @e, applied at once (the accessed-bit scanner):
 * added to the sketch, @e repositioned in its heap.  Under target->lock.
 * Not counted: the caller counts its samples in bulk with
 * hagent_sample_account() (@fast and @slow: samples of each tier's folios).
 */
struct hagent_entry;
void hagent_sample_update(struct hagent_target *t, struct hagent_entry *e, u16 count);
void hagent_sample_account(struct hagent_target *t, enum hagent_source src, u64 fast, u64 slow);

/* The managed target whose address space is @mm, for NMI producers (RCU). */
struct hagent_target *hagent_sample_target_of(struct mm_struct *mm);
/* Rebuild the RCU table of managed address spaces; hagent_targets_lock held. */
void hagent_sample_targets_changed(void);

/* Drain every ring into the targets.  hagent_targets_lock held. */
void hagent_sample_drain(void);
/* Waits for a queued request to drain (a ring half full) to be handed over. */
void hagent_sample_kick_sync(void);

#endif /* _HAGENT_SAMPLE_H */
