// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "hagent": commands and the events group.  The
 * contract is uapi/hagent.h.  Handlers run under genl_mutex (the family is
 * not parallel_ops) and only read other parts' state through their accessors.
 */
#include <linux/utsname.h>
#include <net/genetlink.h>
#include "cgroup.h"
#include "check.h"
#include "compat.h"
#include "config.h"
#include "main.h"
#include "netlink.h"
#include "overhead.h"
#include "sample.h"
#include "sampler_pmu.h"
#include "target.h"
#include "tier.h"
#include "version.h"

static struct genl_family hagent_genl_family;
/* Events before registration or after unregistration are dropped. */
static bool hagent_genl_registered;

enum hagent_mcgrp { HAGENT_MCGRP_EVENTS_ID };

static const struct genl_multicast_group hagent_mcgrps[] = {
	[HAGENT_MCGRP_EVENTS_ID] = { .name = HAGENT_MCGRP_EVENTS },
};

/*
 * Request attributes.  Validation is strict for every command (resv_start_op
 * below), so an attribute left NLA_UNSPEC here is refused with an extack.
 */
/* One setting: HAGENT_A_COUNTER { NAME, VALUE }. */
static const struct nla_policy hagent_setting_policy[HAGENT_A_COUNTER_MAX + 1] = {
	[HAGENT_A_COUNTER_NAME]	= { .type = NLA_NUL_STRING, .len = 63 },
	[HAGENT_A_COUNTER_VALUE] = { .type = NLA_U64 },
	[HAGENT_A_COUNTER_PAD]	= { .type = NLA_BINARY },
};

static const struct nla_policy hagent_config_policy[HAGENT_A_COUNTER_MAX + 1] = {
	[HAGENT_A_COUNTER]	= NLA_POLICY_NESTED(hagent_setting_policy),
};

static const struct nla_policy hagent_genl_policy[HAGENT_A_MAX + 1] = {
	[HAGENT_A_PID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[HAGENT_A_FAST_NODES]	= { .type = NLA_NUL_STRING, .len = HAGENT_NODELIST_MAX - 1 },
	[HAGENT_A_SLOW_NODES]	= { .type = NLA_NUL_STRING, .len = HAGENT_NODELIST_MAX - 1 },
	[HAGENT_A_SAMPLES]	= { .type = NLA_BINARY },
	[HAGENT_A_REPEAT]	= NLA_POLICY_RANGE(NLA_U32, 1, 1000),
	[HAGENT_A_FOLLOW]	= { .type = NLA_FLAG },
	[HAGENT_A_CGROUP]	= NLA_POLICY_MIN(NLA_U64, 1),
	[HAGENT_A_CONFIG]	= NLA_POLICY_NESTED(hagent_config_policy),
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
		    nla_put_string(skb, HAGENT_A_SAMPLER_REASON, s->reason) ||
		    nla_put_u32(skb, HAGENT_A_SAMPLER_COUNTERS, READ_ONCE(s->counters)) ||
		    nla_put_string(skb, HAGENT_A_SAMPLER_EVENTS, s->events))
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

static int hagent_put_counter(struct sk_buff *skb, const char *name, u64 value)
{
	struct nlattr *one = nla_nest_start(skb, HAGENT_A_COUNTER);

	if (!one ||
	    nla_put_string(skb, HAGENT_A_COUNTER_NAME, name) ||
	    nla_put_u64_64bit(skb, HAGENT_A_COUNTER_VALUE, value, HAGENT_A_COUNTER_PAD))
		return -EMSGSIZE;
	nla_nest_end(skb, one);
	return 0;
}

/* samples.<kind> over all sources, then samples.<source>.<kind>. */
static int hagent_put_samples(struct sk_buff *skb, struct hagent_sample_stats *st)
{
	char name[48];
	int src, k;
	u64 sum;

	for (k = 0; k < HAGENT_SK_NR; k++) {
		for (sum = 0, src = 0; src < HAGENT_SRC_NR; src++)
			sum += atomic64_read(&st->n[src][k]);
		snprintf(name, sizeof(name), "samples.%s", hagent_sample_kind_names[k]);
		if (hagent_put_counter(skb, name, sum))
			return -EMSGSIZE;
	}
	for (src = 0; src < HAGENT_SRC_NR; src++) {
		for (k = 0; k < HAGENT_SK_NR; k++) {
			snprintf(name, sizeof(name), "samples.%s.%s", hagent_source_names[src],
				 hagent_sample_kind_names[k]);
			if (hagent_put_counter(skb, name, atomic64_read(&st->n[src][k])))
				return -EMSGSIZE;
		}
	}
	return 0;
}

static int hagent_put_nodelist(struct sk_buff *skb, int attr, const nodemask_t *mask)
{
	char buf[HAGENT_NODELIST_MAX];

	snprintf(buf, sizeof(buf), "%*pbl", nodemask_pr_args(mask));
	return nla_put_string(skb, attr, buf);
}

/* Under hagent_targets_lock. */
static int hagent_put_target(struct sk_buff *skb, struct hagent_target *t)
{
	u64 ctr[HAGENT_CTR_NR];
	struct nlattr *one, *list;
	int i;

	hagent_target_counters(t, ctr);
	one = nla_nest_start(skb, HAGENT_A_TARGET);
	if (!one ||
	    nla_put_u32(skb, HAGENT_A_TARGET_PID, t->pid) ||
	    nla_put_string(skb, HAGENT_A_TARGET_COMM, t->comm) ||
	    hagent_put_nodelist(skb, HAGENT_A_TARGET_FAST_NODES, &t->fast) ||
	    hagent_put_nodelist(skb, HAGENT_A_TARGET_SLOW_NODES, &t->slow) ||
	    (t->workload && nla_put_u32(skb, HAGENT_A_TARGET_WORKLOAD, t->workload)) ||
	    (t->cgroup && nla_put_u64_64bit(skb, HAGENT_A_TARGET_CGROUP, t->cgroup,
					    HAGENT_A_TARGET_PAD)))
		return -EMSGSIZE;
	list = nla_nest_start(skb, HAGENT_A_TARGET_COUNTERS);
	if (!list)
		return -EMSGSIZE;
	for (i = 0; i < HAGENT_CTR_NR; i++)
		if (hagent_put_counter(skb, hagent_ctr_names[i], ctr[i]))
			return -EMSGSIZE;
	if (hagent_put_samples(skb, &t->samples))
		return -EMSGSIZE;
	nla_nest_end(skb, list);
	nla_nest_end(skb, one);
	return 0;
}

static int hagent_put_totals(struct sk_buff *skb)
{
	u64 ctr[HAGENT_CTR_NR], gctr[HAGENT_GCTR_NR], ovh[HAGENT_OVH_NR];
	struct nlattr *list;
	int i;

	hagent_totals(ctr, gctr);
	hagent_overhead_read(ovh);
	list = nla_nest_start(skb, HAGENT_A_COUNTERS);
	if (!list)
		return -EMSGSIZE;
	for (i = 0; i < HAGENT_CTR_NR; i++)
		if (hagent_put_counter(skb, hagent_ctr_names[i], ctr[i]))
			return -EMSGSIZE;
	for (i = 0; i < HAGENT_GCTR_NR; i++)
		if (hagent_put_counter(skb, hagent_gctr_names[i], gctr[i]))
			return -EMSGSIZE;
	for (i = 0; i < HAGENT_OVH_NR; i++)
		if (hagent_put_counter(skb, hagent_overhead_names[i], ovh[i]))
			return -EMSGSIZE;
	if (hagent_put_samples(skb, &hagent_sample_totals))
		return -EMSGSIZE;
	nla_nest_end(skb, list);
	return 0;
}

/*
 * Replies with the totals (when @totals) and the targets: every one, only
 * @pid, or only those that came in through @cgroup.  -ENOENT when @pid is
 * not managed.
 */
static int hagent_reply_stats(struct genl_info *info, u8 cmd, pid_t pid, u64 cgroup,
			      bool totals)
{
	/* Each target takes about 3 KiB of counters; overhead.* under 64 bytes each. */
	size_t size = 2 * NLMSG_DEFAULT_SIZE + HAGENT_OVH_NR * 64 +
		      (size_t)hagent_nr_targets() * 4096;
	struct hagent_target *t;
	struct sk_buff *msg;
	struct nlattr *list;
	int err = -EMSGSIZE;
	void *hdr;

	msg = genlmsg_new(size, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &hagent_genl_family, 0, cmd);
	if (!hdr || (totals && hagent_put_totals(msg))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	mutex_lock(&hagent_targets_lock);
	list = nla_nest_start(msg, HAGENT_A_TARGETS);
	if (!list)
		goto fail;
	err = pid ? -ENOENT : 0;
	list_for_each_entry(t, &hagent_targets, node) {
		if ((pid && t->pid != pid) || (cgroup && t->cgroup != cgroup))
			continue;
		if (hagent_put_target(msg, t)) {
			/* more targets than when the message was sized: retry */
			err = -EAGAIN;
			goto fail;
		}
		err = 0;
	}
	if (err) {
		HAGENT_SET_ERR_MSG_FMT(info->extack, "pid %d is not managed", pid);
		goto fail;
	}
	mutex_unlock(&hagent_targets_lock);
	nla_nest_end(msg, list);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
fail:
	mutex_unlock(&hagent_targets_lock);
	nlmsg_free(msg);
	return err;
}

/* A pid or a cgroup, exactly one: the cgroup's id, 0 for a pid. */
static int hagent_pid_or_cgroup(struct genl_info *info, u64 *cgroup)
{
	bool pid = info->attrs[HAGENT_A_PID], cg = info->attrs[HAGENT_A_CGROUP];

	if (pid == cg) {
		if (pid)
			NL_SET_ERR_MSG(info->extack, "give a pid or a cgroup, not both");
		else
			NL_SET_ERR_MSG(info->extack, "a pid or a cgroup is required");
		return -EINVAL;
	}
	*cgroup = cg ? nla_get_u64(info->attrs[HAGENT_A_CGROUP]) : 0;
	return 0;
}

static int hagent_cmd_enable(struct sk_buff *skb, struct genl_info *info)
{
	const char *fast = NULL, *slow = NULL;
	pid_t tgid = 0;
	u64 cgroup;
	int err;

	err = hagent_pid_or_cgroup(info, &cgroup);
	if (err)
		return err;
	if (info->attrs[HAGENT_A_FAST_NODES])
		fast = nla_data(info->attrs[HAGENT_A_FAST_NODES]);
	if (info->attrs[HAGENT_A_SLOW_NODES])
		slow = nla_data(info->attrs[HAGENT_A_SLOW_NODES]);
	if (cgroup) {
		if (nla_get_flag(info->attrs[HAGENT_A_FOLLOW])) {
			NL_SET_ERR_MSG(info->extack, "a cgroup is followed by itself: no follow flag");
			return -EINVAL;
		}
		err = hagent_cgroup_enable(cgroup, fast, slow, info->extack);
		return err ?: hagent_reply_stats(info, HAGENT_CMD_ENABLE, 0, cgroup, false);
	}
	err = hagent_target_enable(nla_get_u32(info->attrs[HAGENT_A_PID]), fast, slow,
				   nla_get_flag(info->attrs[HAGENT_A_FOLLOW]), info->extack, &tgid);
	if (err)
		return err;
	err = hagent_reply_stats(info, HAGENT_CMD_ENABLE, tgid, 0, false);
	/* Exited already: it was enabled, and ->release gave everything back. */
	return err == -ENOENT ? 0 : err;
}

static int hagent_cmd_disable(struct sk_buff *skb, struct genl_info *info)
{
	u64 cgroup;
	int err = hagent_pid_or_cgroup(info, &cgroup);

	if (err)
		return err;
	if (cgroup)
		return hagent_cgroup_disable(cgroup, info->extack);
	return hagent_target_disable(nla_get_u32(info->attrs[HAGENT_A_PID]), 0, info->extack);
}

static int hagent_cmd_stats(struct sk_buff *skb, struct genl_info *info)
{
	pid_t pid = 0;

	if (info->attrs[HAGENT_A_PID])
		pid = nla_get_u32(info->attrs[HAGENT_A_PID]);
	/* Drained rings make the sample counts add up exactly. */
	mutex_lock(&hagent_targets_lock);
	hagent_sample_drain();
	mutex_unlock(&hagent_targets_lock);
	return hagent_reply_stats(info, HAGENT_CMD_STATS, pid, 0, true);
}

static int hagent_cmd_inject(struct sk_buff *skb, struct genl_info *info)
{
	const struct hagent_inject_sample *s;
	struct hagent_target *t;
	u32 repeat = 1, i, n;
	struct nlattr *a;
	int rem;
	pid_t pid;

	if (GENL_REQ_ATTR_CHECK(info, HAGENT_A_PID) ||
	    GENL_REQ_ATTR_CHECK(info, HAGENT_A_SAMPLES))
		return -EINVAL;
	pid = nla_get_u32(info->attrs[HAGENT_A_PID]);
	if (info->attrs[HAGENT_A_REPEAT])
		repeat = nla_get_u32(info->attrs[HAGENT_A_REPEAT]);
	/* Validate every HAGENT_A_SAMPLES before pushing any. */
	nlmsg_for_each_attr(a, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(a) != HAGENT_A_SAMPLES)
			continue;
		if (!nla_len(a) || nla_len(a) % sizeof(*s)) {
			NL_SET_ERR_MSG_ATTR(info->extack, a,
					    "samples must be a non-empty array of struct hagent_inject_sample");
			return -EINVAL;
		}
		for (s = nla_data(a), i = 0; i < nla_len(a) / sizeof(*s); i++)
			if (!s[i].count || s[i].count > U16_MAX || s[i].flags & ~HAGENT_SAMPLE_F_STORE) {
				NL_SET_ERR_MSG_ATTR(info->extack, a,
						    "sample count must be 1..65535, flags only HAGENT_SAMPLE_F_STORE");
				return -EINVAL;
			}
	}
	mutex_lock(&hagent_targets_lock);
	t = hagent_target_find(pid);
	if (!t) {
		mutex_unlock(&hagent_targets_lock);
		HAGENT_SET_ERR_MSG_FMT(info->extack, "pid %d is not managed", pid);
		return -ENOENT;
	}
	while (repeat--) {
		nlmsg_for_each_attr(a, info->nlhdr, GENL_HDRLEN, rem) {
			if (nla_type(a) != HAGENT_A_SAMPLES)
				continue;
			s = nla_data(a);
			n = nla_len(a) / sizeof(*s);
			for (i = 0; i < n; i++)
				hagent_sample_push(t, s[i].addr, s[i].count, HAGENT_SRC_INJECT,
						   s[i].flags & HAGENT_SAMPLE_F_STORE ?
						   HAGENT_SAMPLE_STORE : 0, false);
		}
		cond_resched();
	}
	mutex_unlock(&hagent_targets_lock);
	return 0;
}

static int hagent_reply_config(struct genl_info *info, u8 cmd)
{
	struct sk_buff *msg;
	struct nlattr *list;
	unsigned int i;
	const char *name;
	void *hdr;
	u64 v;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &hagent_genl_family, 0, cmd);
	list = hdr ? nla_nest_start(msg, HAGENT_A_CONFIG) : NULL;
	if (!list)
		goto fail;
	for (i = 0; i < hagent_config_count(); i++) {
		name = hagent_config_get(i, &v);
		if (hagent_put_counter(msg, name, v))
			goto fail;
	}
	nla_nest_end(msg, list);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
fail:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int hagent_cmd_get_config(struct sk_buff *skb, struct genl_info *info)
{
	return hagent_reply_config(info, HAGENT_CMD_GET_CONFIG);
}

/* Every setting of the request, parsed; -EINVAL with an extack if malformed. */
static int hagent_setting(const struct nlattr *a, const char **name, u64 *value,
			  struct netlink_ext_ack *extack)
{
	struct nlattr *tb[HAGENT_A_COUNTER_MAX + 1];
	int err;

	err = nla_parse_nested(tb, HAGENT_A_COUNTER_MAX, a, hagent_setting_policy, extack);
	if (err)
		return err;
	if (!tb[HAGENT_A_COUNTER_NAME] || !tb[HAGENT_A_COUNTER_VALUE]) {
		NL_SET_ERR_MSG_ATTR(extack, a, "a setting needs a name and a value");
		return -EINVAL;
	}
	*name = nla_data(tb[HAGENT_A_COUNTER_NAME]);
	*value = nla_get_u64(tb[HAGENT_A_COUNTER_VALUE]);
	return 0;
}

static int hagent_cmd_set_config(struct sk_buff *skb, struct genl_info *info)
{
	const struct nlattr *a;
	const char *name;
	int rem, err, n = 0;
	u64 v;

	if (GENL_REQ_ATTR_CHECK(info, HAGENT_A_CONFIG))
		return -EINVAL;
	/* Check all, then apply all: a request is taken whole or not at all. */
	nla_for_each_nested(a, info->attrs[HAGENT_A_CONFIG], rem) {
		err = hagent_setting(a, &name, &v, info->extack);
		if (!err)
			err = hagent_config_check(name, v, info->extack);
		if (err)
			return err;
		n++;
	}
	if (!n) {
		NL_SET_ERR_MSG(info->extack, "no settings given");
		return -EINVAL;
	}
	nla_for_each_nested(a, info->attrs[HAGENT_A_CONFIG], rem) {
		if (!hagent_setting(a, &name, &v, NULL))
			hagent_config_set(name, v);
	}
	pr_info("settings changed by pid %d\n", task_tgid_nr(current));
	return hagent_reply_config(info, HAGENT_CMD_SET_CONFIG);
}

static bool hagent_debug_commands;
module_param_named(debug_commands, hagent_debug_commands, bool, 0444);
MODULE_PARM_DESC(debug_commands, "Accept the debugging commands (DEBUG_FAIL); for tests only");

/* Breaks nothing: reports a failed check for the target, as a real one would. */
static int hagent_cmd_debug_fail(struct sk_buff *skb, struct genl_info *info)
{
	struct hagent_target *t;
	pid_t pid;

	if (!hagent_debug_commands) {
		NL_SET_ERR_MSG(info->extack, "debugging commands need module parameter debug_commands=1");
		return -EPERM;
	}
	if (GENL_REQ_ATTR_CHECK(info, HAGENT_A_PID))
		return -EINVAL;
	pid = nla_get_u32(info->attrs[HAGENT_A_PID]);
	mutex_lock(&hagent_targets_lock);
	t = hagent_target_find(pid);
	if (t)
		HAGENT_CHECK(t, !hagent_debug_commands, "debug_fail=1");
	mutex_unlock(&hagent_targets_lock);
	if (!t) {
		HAGENT_SET_ERR_MSG_FMT(info->extack, "pid %d is not managed", pid);
		return -ENOENT;
	}
	return 0;
}

static const struct genl_small_ops hagent_genl_ops[] = {
	{
		.cmd = HAGENT_CMD_STATUS,
		.doit = hagent_cmd_status,
	},
	{
		.cmd = HAGENT_CMD_ENABLE,
		.doit = hagent_cmd_enable,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HAGENT_CMD_DISABLE,
		.doit = hagent_cmd_disable,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HAGENT_CMD_STATS,
		.doit = hagent_cmd_stats,
	},
	{
		.cmd = HAGENT_CMD_INJECT,
		.doit = hagent_cmd_inject,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HAGENT_CMD_DEBUG_FAIL,
		.doit = hagent_cmd_debug_fail,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HAGENT_CMD_GET_CONFIG,
		.doit = hagent_cmd_get_config,
	},
	{
		.cmd = HAGENT_CMD_SET_CONFIG,
		.doit = hagent_cmd_set_config,
		.flags = GENL_ADMIN_PERM,
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

	if (!READ_ONCE(hagent_genl_registered))
		return 0;
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
	int err = genl_register_family(&hagent_genl_family);

	WRITE_ONCE(hagent_genl_registered, !err);
	return err;
}

void hagent_netlink_exit(void)
{
	WRITE_ONCE(hagent_genl_registered, false);
	genl_unregister_family(&hagent_genl_family);
}
