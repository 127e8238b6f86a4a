/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hagent netlink contract: the only interface between the module and its
 * control plane.  The Python mirror (ctl/hagent/uapi.py) is checked against
 * this file by tests/host/test_uapi.py, so the two cannot drift.
 *
 * Generic netlink family HAGENT_GENL_NAME, version HAGENT_GENL_VERSION.
 * Multicast group HAGENT_MCGRP_EVENTS carries HAGENT_CMD_EVENT messages.
 *
 * Commands (request attributes -> reply attributes):
 *
 * HAGENT_CMD_STATUS   (no attributes; any user)
 *     -> HAGENT_A_VERSION        string  module version
 *        HAGENT_A_KERNEL         string  kernel release the module runs on
 *        HAGENT_A_FEATURES       u64     HAGENT_F_* bitmask
 *        HAGENT_A_NR_TARGETS     u32     processes currently managed
 *        HAGENT_A_SAMPLERS       nest    of HAGENT_A_SAMPLER (nest) {
 *                                  HAGENT_A_SAMPLER_NAME      string
 *                                  HAGENT_A_SAMPLER_AVAILABLE u8 (0/1)
 *                                  HAGENT_A_SAMPLER_REASON    string, why not
 *                                                             ("" when available)
 *                                  HAGENT_A_SAMPLER_COUNTERS  u32, perf counters
 *                                                             running now (0 while
 *                                                             nothing is managed)
 *                                  HAGENT_A_SAMPLER_EVENTS    string, the events its
 *                                                             counters count (where
 *                                                             available or not) }
 *     Samplers: pebs, ibs (hardware, module parameter pmu), fault (page
 *     faults, a software counter: setting fault_samples).
 *        HAGENT_A_NODES          nest    of HAGENT_A_NODE (nest) {
 *                                  HAGENT_A_NODE_ID        u32
 *                                  HAGENT_A_NODE_TIER      u8, HAGENT_TIER_*
 *                                  HAGENT_A_NODE_NR_CPUS   u32
 *                                  HAGENT_A_NODE_MEM_TOTAL u64 bytes
 *                                  HAGENT_A_NODE_MEM_FREE  u64 bytes }
 *
 * HAGENT_CMD_ENABLE   (CAP_NET_ADMIN) manage a process's private anonymous memory
 *     <- HAGENT_A_PID            u32     the process (any of its thread ids), or
 *        HAGENT_A_CGROUP         u64     a cgroup v2 (its directory's inode
 *                                        number): every process in it or below
 *                                        it, now and whenever one starts there or
 *                                        moves in; one that moves out is given
 *                                        back.  Exactly one of the two.
 *        HAGENT_A_FAST_NODES     string  optional node list, e.g. "0" or "0-1,4"
 *        HAGENT_A_SLOW_NODES     string  optional node list
 *        HAGENT_A_FOLLOW         flag    optional, with a pid: also manage every
 *                                        process it forks from now on (and
 *                                        theirs), in the same tiers, and itself
 *                                        again after exec
 *     Default tiers: memory nodes with CPUs are fast, CPU-less ones slow.
 *     Errors: ESRCH no such process or exiting, EINVAL kernel thread, bad
 *     node lists, neither or both of pid and cgroup, EEXIST already managed
 *     (a cgroup: it, or one above or below it), ENOENT no such cgroup v2,
 *     EOPNOTSUPP follow or cgroup without the tracepoints, ENOSPC follow
 *     beyond the follow_max parameter or a 65th cgroup, EDQUOT follow of a
 *     pid whose workload has workload_max processes; each with an extack
 *     message.  A cgroup's processes beyond workload_max are left
 *     unmanaged (follow.over_limit, a HAGENT_EV_WORKLOAD_LIMIT event).
 *     -> HAGENT_A_TARGETS with the new target (see STATS), with a cgroup
 *        every target that came in through it; no reply (only the ack) when
 *        the process exited before the reply was built.
 *
 * HAGENT_CMD_DISABLE  (CAP_NET_ADMIN) give every folio back, stop managing
 *     <- HAGENT_A_PID            u32     the process id (thread group id) that
 *                                        ENABLE reported, or
 *        HAGENT_A_CGROUP         u64     a managed cgroup: every process that
 *                                        came in through it is given back
 *     Errors: ENOENT not managed, EINVAL neither or both.
 *
 * HAGENT_CMD_STATS    (any user) counters, per target and in total
 *     <- HAGENT_A_PID            u32     optional: only this target (ENOENT if
 *                                        not managed)
 *     -> HAGENT_A_COUNTERS       nest    totals since load, of HAGENT_A_COUNTER
 *        HAGENT_A_TARGETS        nest    of HAGENT_A_TARGET (nest) {
 *                                  HAGENT_A_TARGET_PID        u32
 *                                  HAGENT_A_TARGET_COMM       string
 *                                  HAGENT_A_TARGET_FAST_NODES string
 *                                  HAGENT_A_TARGET_SLOW_NODES string
 *                                  HAGENT_A_TARGET_WORKLOAD   u32, optional
 *                                  HAGENT_A_TARGET_CGROUP     u64, optional
 *                                  HAGENT_A_TARGET_COUNTERS   nest of
 *                                                             HAGENT_A_COUNTER }
 *     Sample counters: samples.<kind> and samples.<source>.<kind>, kinds
 *     total fast slow unmanaged invalid dropped, sources pebs ibs abit
 *     inject fault; total == fast + slow + unmanaged + invalid + dropped, since
 *     STATS drains the rings before it answers.
 *     A HAGENT_A_COUNTER (nest) is { HAGENT_A_COUNTER_NAME string,
 *     HAGENT_A_COUNTER_VALUE u64 }.  Counter names are dotted
 *     ("managed_pages.fast", "released.unmap") and documented in
 *     kmod/hagent/counters.h; new counters appear without a contract change.
 *
 * HAGENT_CMD_INJECT   (CAP_NET_ADMIN) feed access samples to a target, as a
 *                     sampler would (source "inject"): for tests and replay
 *     <- HAGENT_A_PID            u32     a managed process
 *        HAGENT_A_SAMPLES        binary  array of struct hagent_inject_sample;
 *                                        may repeat
 *        HAGENT_A_REPEAT         u32     optional: push the whole list this
 *                                        many times (default 1, at most 1000)
 *     Samples go through the same per-CPU rings as hardware samples; a full
 *     ring drops and counts them (samples.inject.dropped).
 *     Errors: ENOENT not managed, EINVAL no or malformed samples.
 *
 * HAGENT_CMD_DEBUG_FAIL (CAP_NET_ADMIN; only with module parameter
 *                     debug_commands=1) make a fail-safe check fail for a
 *                     target, to test the fail-safe path end to end
 *     <- HAGENT_A_PID            u32
 *     Errors: EPERM without debug_commands=1, ENOENT not managed.
 *
 * HAGENT_CMD_GET_CONFIG (any user) the tunables and their values
 *     -> HAGENT_A_CONFIG         nest    of HAGENT_A_COUNTER {NAME, VALUE}, one
 *                                        per tunable (interval_ms, migrate_mbps,
 *                                        ...: see kmod/hagent/config.c)
 *
 * HAGENT_CMD_SET_CONFIG (CAP_NET_ADMIN) change tunables, all or none
 *     <- HAGENT_A_CONFIG         nest    of HAGENT_A_COUNTER {NAME, VALUE}
 *     -> as GET_CONFIG, the values now in force
 *     Errors: EINVAL unknown name or no settings, ERANGE value out of range
 *     (the extack names the setting and its range); nothing is changed.
 *
 * HAGENT_CMD_EVENT    (multicast only, never a request)
 *     -> HAGENT_A_EVENT_TYPE     u32     HAGENT_EV_*
 *        HAGENT_A_EVENT_PID      u32     the target concerned, 0 for none
 *        HAGENT_A_EVENT_MSG      string  one human-readable line
 *
 * u64 attributes may be preceded by a HAGENT_A_PAD, HAGENT_A_NODE_PAD or
 * HAGENT_A_COUNTER_PAD attribute (alignment only); readers skip it.
 *
 * The family lives in the initial network namespace only: from inside a
 * container with its own network namespace the family is not visible.
 *
 * Errors come back as a negative errno in the netlink ack, with an extack
 * message where the module can say more than the errno.
 */
#ifndef _UAPI_HAGENT_H
#define _UAPI_HAGENT_H

#include <linux/types.h>

#define HAGENT_GENL_NAME	"hagent"
#define HAGENT_GENL_VERSION	1
#define HAGENT_NODELIST_MAX	128	/* bytes of a node list string, with NUL */
#define HAGENT_MCGRP_EVENTS	"events"

enum hagent_cmd {
	HAGENT_CMD_UNSPEC,
	HAGENT_CMD_STATUS,
	HAGENT_CMD_EVENT,
	HAGENT_CMD_ENABLE,
	HAGENT_CMD_DISABLE,
	HAGENT_CMD_STATS,
	HAGENT_CMD_INJECT,
	HAGENT_CMD_DEBUG_FAIL,
	HAGENT_CMD_GET_CONFIG,
	HAGENT_CMD_SET_CONFIG,
	__HAGENT_CMD_LAST
};
#define HAGENT_CMD_MAX (__HAGENT_CMD_LAST - 1)

enum hagent_attr {
	HAGENT_A_UNSPEC,
	HAGENT_A_VERSION,
	HAGENT_A_KERNEL,
	HAGENT_A_FEATURES,
	HAGENT_A_NR_TARGETS,
	HAGENT_A_SAMPLERS,
	HAGENT_A_NODES,
	HAGENT_A_EVENT_TYPE,
	HAGENT_A_EVENT_PID,
	HAGENT_A_EVENT_MSG,
	HAGENT_A_PAD,			/* alignment padding for u64s, no data */
	HAGENT_A_PID,
	HAGENT_A_FAST_NODES,
	HAGENT_A_SLOW_NODES,
	HAGENT_A_TARGETS,
	HAGENT_A_COUNTERS,
	HAGENT_A_SAMPLES,
	HAGENT_A_REPEAT,
	HAGENT_A_CONFIG,
	HAGENT_A_FOLLOW,
	HAGENT_A_CGROUP,
	__HAGENT_A_LAST
};
#define HAGENT_A_MAX (__HAGENT_A_LAST - 1)

/* Nested inside HAGENT_A_SAMPLERS, one HAGENT_A_SAMPLER per source. */
enum hagent_sampler_attr {
	HAGENT_A_SAMPLER_UNSPEC,
	HAGENT_A_SAMPLER,
	HAGENT_A_SAMPLER_NAME,
	HAGENT_A_SAMPLER_AVAILABLE,
	HAGENT_A_SAMPLER_REASON,
	HAGENT_A_SAMPLER_COUNTERS,	/* u32: perf counters running now */
	HAGENT_A_SAMPLER_EVENTS,	/* string: the events it counts */
	__HAGENT_A_SAMPLER_LAST
};
#define HAGENT_A_SAMPLER_MAX (__HAGENT_A_SAMPLER_LAST - 1)

/* Nested inside HAGENT_A_NODES, one HAGENT_A_NODE per online memory node. */
enum hagent_node_attr {
	HAGENT_A_NODE_UNSPEC,
	HAGENT_A_NODE,
	HAGENT_A_NODE_ID,
	HAGENT_A_NODE_TIER,
	HAGENT_A_NODE_NR_CPUS,
	HAGENT_A_NODE_MEM_TOTAL,
	HAGENT_A_NODE_MEM_FREE,
	HAGENT_A_NODE_PAD,		/* alignment padding for u64s, no data */
	__HAGENT_A_NODE_LAST
};
#define HAGENT_A_NODE_MAX (__HAGENT_A_NODE_LAST - 1)

/* Nested inside HAGENT_A_TARGETS, one HAGENT_A_TARGET per managed process. */
enum hagent_target_attr {
	HAGENT_A_TARGET_UNSPEC,
	HAGENT_A_TARGET,
	HAGENT_A_TARGET_PID,
	HAGENT_A_TARGET_COMM,
	HAGENT_A_TARGET_FAST_NODES,
	HAGENT_A_TARGET_SLOW_NODES,
	HAGENT_A_TARGET_COUNTERS,
	HAGENT_A_TARGET_WORKLOAD,	/* u32: its followed root's pid; absent: not followed */
	HAGENT_A_TARGET_CGROUP,		/* u64: the managed cgroup it came in through */
	HAGENT_A_TARGET_PAD,		/* alignment padding for u64s, no data */
	__HAGENT_A_TARGET_LAST
};
#define HAGENT_A_TARGET_MAX (__HAGENT_A_TARGET_LAST - 1)

/* Nested inside HAGENT_A_COUNTERS and HAGENT_A_TARGET_COUNTERS. */
enum hagent_counter_attr {
	HAGENT_A_COUNTER_UNSPEC,
	HAGENT_A_COUNTER,
	HAGENT_A_COUNTER_NAME,
	HAGENT_A_COUNTER_VALUE,
	HAGENT_A_COUNTER_PAD,		/* alignment padding for u64s, no data */
	__HAGENT_A_COUNTER_LAST
};
#define HAGENT_A_COUNTER_MAX (__HAGENT_A_COUNTER_LAST - 1)

/* One element of HAGENT_A_SAMPLES: @count accesses to virtual address @addr. */
struct hagent_inject_sample {
	__u64 addr;
	__u32 count;			/* 1..65535 */
	__u32 flags;			/* HAGENT_SAMPLE_F_* */
};
#define HAGENT_SAMPLE_F_STORE	0x1	/* a store, else a load */

/* Tiers.  Default layout: nodes with CPUs are fast, CPU-less nodes slow. */
enum hagent_tier {
	HAGENT_TIER_FAST,
	HAGENT_TIER_SLOW,
	__HAGENT_TIER_LAST
};

/* HAGENT_A_FEATURES bits: what this build and this kernel support. */
#define HAGENT_F_MIGRATE	(1ULL << 0)	/* migrate_pages resolved */
#define HAGENT_F_DEBUGFS	(1ULL << 1)	/* counters under debugfs */
#define HAGENT_F_SELFTEST	(1ULL << 2)	/* load-time self-test passed */

/* HAGENT_A_EVENT_TYPE values. */
enum hagent_event {
	HAGENT_EV_UNSPEC,
	HAGENT_EV_LOADED,		/* module finished loading */
	HAGENT_EV_UNLOADING,		/* module is about to unload */
	HAGENT_EV_TARGET_ENABLED,	/* a process is now managed */
	HAGENT_EV_TARGET_DISABLED,	/* management stopped on request or unload */
	HAGENT_EV_TARGET_EXITED,	/* a managed process exited */
	HAGENT_EV_CHECK_FAILED,		/* an invariant broke; its target is shut down */
	HAGENT_EV_TARGET_FAILSAFE,	/* a target was shut down after a failed check */
	HAGENT_EV_MIGRATE_FAILURES,	/* a target's migrations failed (periodic summary) */
	HAGENT_EV_WORKLOAD_LIMIT,	/* a workload has workload_max processes: no more */
	__HAGENT_EV_LAST
};

#endif /* _UAPI_HAGENT_H */
