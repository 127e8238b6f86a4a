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
 *                                                             ("" when available) }
 *        HAGENT_A_NODES          nest    of HAGENT_A_NODE (nest) {
 *                                  HAGENT_A_NODE_ID        u32
 *                                  HAGENT_A_NODE_TIER      u8, HAGENT_TIER_*
 *                                  HAGENT_A_NODE_NR_CPUS   u32
 *                                  HAGENT_A_NODE_MEM_TOTAL u64 bytes
 *                                  HAGENT_A_NODE_MEM_FREE  u64 bytes }
 *
 * HAGENT_CMD_EVENT    (multicast only, never a request)
 *     -> HAGENT_A_EVENT_TYPE     u32     HAGENT_EV_*
 *        HAGENT_A_EVENT_PID      u32     the target concerned, 0 for none
 *        HAGENT_A_EVENT_MSG      string  one human-readable line
 *
 * u64 attributes may be preceded by a HAGENT_A_PAD / HAGENT_A_NODE_PAD
 * attribute (alignment only); readers skip it.
 *
 * The family lives in the initial network namespace only: from inside a
 * container with its own network namespace the family is not visible.
 *
 * Errors come back as a negative errno in the netlink ack, with an extack
 * message where the module can say more than the errno.
 */
#ifndef _UAPI_HAGENT_H
#define _UAPI_HAGENT_H

#define HAGENT_GENL_NAME	"hagent"
#define HAGENT_GENL_VERSION	1
#define HAGENT_MCGRP_EVENTS	"events"

enum hagent_cmd {
	HAGENT_CMD_UNSPEC,
	HAGENT_CMD_STATUS,
	HAGENT_CMD_EVENT,
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
	__HAGENT_EV_LAST
};

#endif /* _UAPI_HAGENT_H */
