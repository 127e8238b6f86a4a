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

#endif /* _HAGENT_SAMPLER_PMU_H */
