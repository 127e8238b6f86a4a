/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_SAMPLER_PMU_H
#define _HAGENT_SAMPLER_PMU_H

#include <linux/types.h>

enum hagent_pmu_kind { HAGENT_PMU_PEBS, HAGENT_PMU_IBS, HAGENT_PMU_NR };

struct hagent_pmu_state {
	const char *name;
	bool available;
	char reason[96];	/* why not, for status; empty when available */
};

/* Detected once at load; read-only afterwards. */
extern struct hagent_pmu_state hagent_pmu[HAGENT_PMU_NR];

void hagent_pmu_detect(void);

/*
 * Per-CPU counters of the available hardware sampler, created at load
 * (module parameter pmu=1) and released at unload.  Their overflow handlers
 * push samples of managed processes into the NMI rings.
 */
int hagent_pmu_init(void);
void hagent_pmu_exit(void);
/* Counters running, 0 when no hardware sampler is available or enabled. */
unsigned int hagent_pmu_active(void);

#endif /* _HAGENT_SAMPLER_PMU_H */
