// SPDX-License-Identifier: GPL-2.0
/* Finding, attaching and detaching tracepoint probes (tracepoint.h). */
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include "tracepoint.h"

struct hagent_tp_set {
	struct hagent_tp *tps;
	unsigned int n;
};

static void hagent_tp_match(struct tracepoint *tp, void *priv)
{
	struct hagent_tp_set *set = priv;
	unsigned int i;

	for (i = 0; i < set->n; i++)
		if (!strcmp(tp->name, set->tps[i].name))
			set->tps[i].tp = tp;
}

void hagent_tp_find(struct hagent_tp *tps, unsigned int n)
{
	struct hagent_tp_set set = { .tps = tps, .n = n };

	for_each_kernel_tracepoint(hagent_tp_match, &set);
}

int hagent_tp_attach(struct hagent_tp *tps, unsigned int n, const char *who)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < n; i++) {
		if (!tps[i].tp) {
			pr_warn("%s: no tracepoint %s in this kernel\n", who, tps[i].name);
			err = -ENOENT;
			break;
		}
		err = tracepoint_probe_register(tps[i].tp, tps[i].probe, NULL);
		if (err) {
			pr_warn("%s: cannot attach to tracepoint %s: %d\n", who, tps[i].name, err);
			break;
		}
	}
	if (err)
		hagent_tp_detach(tps, i);
	return err;
}

void hagent_tp_detach(struct hagent_tp *tps, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		tracepoint_probe_unregister(tps[i].tp, tps[i].probe, NULL);
	tracepoint_synchronize_unregister();
}
