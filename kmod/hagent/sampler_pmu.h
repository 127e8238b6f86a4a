/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_SAMPLER_PMU_H
#define _HAGENT_SAMPLER_PMU_H

#include <linux/types.h>

enum hagent_pmu_kind { HAGENT_PMU_PEBS, HAGENT_PMU_IBS, HAGENT_PMU_FAULT, HAGENT_PMU_NR };

struct hagent_pmu_state {
	const char *name;
	const char *events;	/* what its counters count, for status */
	bool available;
	char reason[96];	/* why not, for status; empty when available */
	unsigned int counters;	/* running now (READ_ONCE) */
};

/* Detected once at load; .counters changes as samplers start and stop. */
extern struct hagent_pmu_state hagent_pmu[HAGENT_PMU_NR];
/* The tunable fault_samples: sample managed processes' page faults. */
extern bool hagent_fault_samples;

void hagent_pmu_detect(void);

/*
 * Per-CPU counters of the available hardware sampler (module parameter
 * pmu=1) and of page faults (fault_samples=1), running only while some
 * process is managed.  Their overflow handlers push samples of managed
 * processes into the rings.  hagent_pmu_exit() runs after every target is
 * gone.
 */
int hagent_pmu_init(void);
void hagent_pmu_exit(void);
/* The number of managed address spaces changed: start or stop counters. */
void hagent_pmu_update(unsigned int targets);
/* fault_samples changed, or a CPU came or went: bring the counters in line. */
void hagent_pmu_config_changed(void);
/* Counters running, of every sampler. */
unsigned int hagent_pmu_active(void);

#endif /* _HAGENT_SAMPLER_PMU_H */
