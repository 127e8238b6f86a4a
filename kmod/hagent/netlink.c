// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "hagent": commands and the events group.  The
 * contract is uapi/hagent.h.  Handlers run under genl_mutex (the family is
 * not parallel_ops) and only read other parts' state through their accessors.
 */
#include <linux/utsname.h>
#include <net/genetlink.h>
#include "main.h"
#include "netlink.h"
#include "sampler_pmu.h"
#include "tier.h"
#include "version.h"

static struct genl_family hagent_genl_family;

enum hagent_mcgrp { HAGENT_MCGRP_EVENTS_ID };

static const struct genl_multicast_group hagent_mcgrps[] = {
	[HAGENT_MCGRP_EVENTS_ID] = { .name = HAGENT_MCGRP_EVENTS },
};

/*
 * Request attributes.  Validation is strict for every command (resv_start_op
 * below), so an attribute left NLA_UNSPEC here is refused with an extack.
 */
static const struct nla_policy hagent_genl_policy[HAGENT_A_MAX + 1] = {
};

static int hagent_put_samplers(struct sk_buff *skb)
{
	struct nlattr *list, *one;
	int i;

	list = nla_nest_start(skb, HAGENT_A_SAMPLERS);
	if (!list)
		return -EMSGSIZE;
	for (i = 0; i < HAGENT_PMU_NR; i++) {
		const struct hagent_pmu_state *s = &hagent_pmu[i];

		one = nla_nest_start(skb, HAGENT_A_SAMPLER);
		if (!one ||
		    nla_put_string(skb, HAGENT_A_SAMPLER_NAME, s->name) ||
		    nla_put_u8(skb, HAGENT_A_SAMPLER_AVAILABLE, s->available) ||
		    nla_put_string(skb, HAGENT_A_SAMPLER_REASON, s->reason))
			return -EMSGSIZE;
		nla_nest_end(skb, one);
	}
	nla_nest_end(skb, list);
	return 0;
}

static int hagent_put_nodes(struct sk_buff *skb)
{
	struct hagent_node_info info;
	struct nlattr *list, *one;
	int nid;

	list = nla_nest_start(skb, HAGENT_A_NODES);
	if (!list)
		return -EMSGSIZE;
	for_each_node_state(nid, N_MEMORY) {
		hagent_tier_node_info(nid, &info);
		one = nla_nest_start(skb, HAGENT_A_NODE);
		if (!one ||
		    nla_put_u32(skb, HAGENT_A_NODE_ID, info.nid) ||
		    nla_put_u8(skb, HAGENT_A_NODE_TIER, info.tier) ||
		    nla_put_u32(skb, HAGENT_A_NODE_NR_CPUS, info.nr_cpus) ||
		    nla_put_u64_64bit(skb, HAGENT_A_NODE_MEM_TOTAL, info.mem_total,
				      HAGENT_A_NODE_PAD) ||
		    nla_put_u64_64bit(skb, HAGENT_A_NODE_MEM_FREE, info.mem_free,
				      HAGENT_A_NODE_PAD))
			return -EMSGSIZE;
		nla_nest_end(skb, one);
	}
	nla_nest_end(skb, list);
	return 0;
}

static int hagent_cmd_status(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;
	int err = -EMSGSIZE;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &hagent_genl_family, 0, HAGENT_CMD_STATUS);
	if (!hdr)
		goto fail;
	if (nla_put_string(msg, HAGENT_A_VERSION, HAGENT_VERSION) ||
	    nla_put_string(msg, HAGENT_A_KERNEL, init_utsname()->release) ||
	    nla_put_u64_64bit(msg, HAGENT_A_FEATURES, hagent_features(), HAGENT_A_PAD) ||
	    nla_put_u32(msg, HAGENT_A_NR_TARGETS, hagent_nr_targets()))
		goto fail;
	err = hagent_put_samplers(msg);
	if (err)
		goto fail;
	err = hagent_put_nodes(msg);
	if (err)
		goto fail;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
fail:
	nlmsg_free(msg);
	return err;
}

static const struct genl_small_ops hagent_genl_ops[] = {
	{
		.cmd = HAGENT_CMD_STATUS,
		.doit = hagent_cmd_status,
	},
};

static struct genl_family hagent_genl_family __ro_after_init = {
	.name = HAGENT_GENL_NAME,
	.version = HAGENT_GENL_VERSION,
	.maxattr = HAGENT_A_MAX,
	.policy = hagent_genl_policy,
	.module = THIS_MODULE,
	.small_ops = hagent_genl_ops,
	.n_small_ops = ARRAY_SIZE(hagent_genl_ops),
	.resv_start_op = HAGENT_CMD_MAX + 1,
	.mcgrps = hagent_mcgrps,
	.n_mcgrps = ARRAY_SIZE(hagent_mcgrps),
	.netnsok = false,
};

int hagent_event_send(enum hagent_event type, pid_t pid, gfp_t gfp,
		      const char *fmt, ...)
{
	struct sk_buff *msg;
	char line[160];
	va_list args;
	void *hdr;
	int err;

	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);

	msg = genlmsg_new(NLMSG_GOODSIZE, gfp);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put(msg, 0, 0, &hagent_genl_family, 0, HAGENT_CMD_EVENT);
	if (!hdr ||
	    nla_put_u32(msg, HAGENT_A_EVENT_TYPE, type) ||
	    nla_put_u32(msg, HAGENT_A_EVENT_PID, pid) ||
	    nla_put_string(msg, HAGENT_A_EVENT_MSG, line)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	err = genlmsg_multicast_allns(&hagent_genl_family, msg, 0,
				      HAGENT_MCGRP_EVENTS_ID);
	return err == -ESRCH ? 0 : err;	/* -ESRCH: no listener */
}

int hagent_netlink_init(void)
{
	return genl_register_family(&hagent_genl_family);
}

void hagent_netlink_exit(void)
{
	genl_unregister_family(&hagent_genl_family);
}
