"""Python mirror of kmod/hagent/uapi/hagent.h (the netlink contract).

tests/host/test_uapi.py parses the header and checks this file against it in
both directions, so edit the header first and this file to match.

Naming convention:
- every C enum is an IntEnum here; ``C_ENUMS`` names the C enum each class
  mirrors and the prefix stripped from its members' C names
  (``HAGENT_CMD_STATUS`` -> ``Cmd.STATUS``, ``HAGENT_A_SAMPLER_NAME`` ->
  ``SamplerAttr.SAMPLER_NAME``).  The ``__*_LAST`` sentinels are not members:
  the test checks that each one equals the highest member plus one.
- ``HAGENT_F_*`` bits are the IntFlag ``Feature`` (``HAGENT_F_MIGRATE`` ->
  ``Feature.MIGRATE``).
- every other ``#define HAGENT_X`` is the module constant ``X``
  (``HAGENT_GENL_NAME`` -> ``GENL_NAME``, ``HAGENT_A_MAX`` -> ``A_MAX``).
- every ``struct hagent_x`` is listed in ``C_STRUCTS`` with its fields (name,
  C type) in order and the ``struct`` module format that packs it; the test
  parses the struct body and checks both.  Constants derived from a struct
  (``INJECT_SAMPLE_SIZE``) and limits the header states in comments rather
  than as #defines are listed in ``NOT_DEFINES``.
"""

import struct
from enum import IntEnum, IntFlag

GENL_NAME = "hagent"
GENL_VERSION = 1
NODELIST_MAX = 128  # bytes of a node list string, with the NUL
MCGRP_EVENTS = "events"


class Cmd(IntEnum):
    UNSPEC = 0
    STATUS = 1
    EVENT = 2
    ENABLE = 3
    DISABLE = 4
    STATS = 5
    INJECT = 6
    DEBUG_FAIL = 7
    GET_CONFIG = 8
    SET_CONFIG = 9


CMD_MAX = Cmd.SET_CONFIG


class Attr(IntEnum):
    UNSPEC = 0
    VERSION = 1
    KERNEL = 2
    FEATURES = 3
    NR_TARGETS = 4
    SAMPLERS = 5
    NODES = 6
    EVENT_TYPE = 7
    EVENT_PID = 8
    EVENT_MSG = 9
    PAD = 10
    PID = 11
    FAST_NODES = 12
    SLOW_NODES = 13
    TARGETS = 14
    COUNTERS = 15
    SAMPLES = 16
    REPEAT = 17
    CONFIG = 18
    FOLLOW = 19
    CGROUP = 20


A_MAX = Attr.CGROUP


class SamplerAttr(IntEnum):
    """Attributes inside HAGENT_A_SAMPLERS (SAMPLER) and each SAMPLER nest."""

    SAMPLER_UNSPEC = 0
    SAMPLER = 1
    SAMPLER_NAME = 2
    SAMPLER_AVAILABLE = 3
    SAMPLER_REASON = 4
    SAMPLER_COUNTERS = 5
    SAMPLER_EVENTS = 6


A_SAMPLER_MAX = SamplerAttr.SAMPLER_EVENTS


class NodeAttr(IntEnum):
    """Attributes inside HAGENT_A_NODES (NODE) and each NODE nest."""

    NODE_UNSPEC = 0
    NODE = 1
    NODE_ID = 2
    NODE_TIER = 3
    NODE_NR_CPUS = 4
    NODE_MEM_TOTAL = 5
    NODE_MEM_FREE = 6
    NODE_PAD = 7


A_NODE_MAX = NodeAttr.NODE_PAD


class TargetAttr(IntEnum):
    """Attributes inside HAGENT_A_TARGETS (TARGET) and each TARGET nest."""

    TARGET_UNSPEC = 0
    TARGET = 1
    TARGET_PID = 2
    TARGET_COMM = 3
    TARGET_FAST_NODES = 4
    TARGET_SLOW_NODES = 5
    TARGET_COUNTERS = 6
    TARGET_WORKLOAD = 7
    TARGET_CGROUP = 8
    TARGET_PAD = 9


A_TARGET_MAX = TargetAttr.TARGET_PAD


class CounterAttr(IntEnum):
    """Attributes inside HAGENT_A_COUNTERS, HAGENT_A_TARGET_COUNTERS, HAGENT_A_CONFIG
    and each COUNTER nest (a counter, or a tunable: NAME, VALUE)."""

    COUNTER_UNSPEC = 0
    COUNTER = 1
    COUNTER_NAME = 2
    COUNTER_VALUE = 3
    COUNTER_PAD = 4


A_COUNTER_MAX = CounterAttr.COUNTER_PAD


# struct hagent_inject_sample: one element of HAGENT_A_SAMPLES.
INJECT_SAMPLE_FIELDS = (("addr", "__u64"), ("count", "__u32"), ("flags", "__u32"))
INJECT_SAMPLE_FORMAT = "=QII"  # native byte order, no padding: the C layout
INJECT_SAMPLE_SIZE = struct.calcsize(INJECT_SAMPLE_FORMAT)  # 16
SAMPLE_F_STORE = 0x1  # a store, else a load

# Limits the header gives in its INJECT comments, not as #defines.
SAMPLE_COUNT_MAX = 65535  # struct hagent_inject_sample.count: 1..65535
REPEAT_MAX = 1000  # HAGENT_A_REPEAT: at most 1000

# C struct name -> (fields in order as (name, C type), struct module format).
C_STRUCTS: dict[str, tuple[tuple[tuple[str, str], ...], str]] = {
    "hagent_inject_sample": (INJECT_SAMPLE_FIELDS, INJECT_SAMPLE_FORMAT),
}
NOT_DEFINES = frozenset(
    {"INJECT_SAMPLE_FORMAT", "INJECT_SAMPLE_SIZE", "SAMPLE_COUNT_MAX", "REPEAT_MAX"}
)


class Tier(IntEnum):
    FAST = 0
    SLOW = 1


class Event(IntEnum):
    UNSPEC = 0
    LOADED = 1
    UNLOADING = 2
    TARGET_ENABLED = 3
    TARGET_DISABLED = 4
    TARGET_EXITED = 5
    CHECK_FAILED = 6
    TARGET_FAILSAFE = 7
    MIGRATE_FAILURES = 8
    WORKLOAD_LIMIT = 9


class Feature(IntFlag):
    MIGRATE = 1 << 0
    DEBUGFS = 1 << 1
    SELFTEST = 1 << 2


# C enum name -> (mirror class, prefix stripped from the C member names).
C_ENUMS: dict[str, tuple[type[IntEnum], str]] = {
    "hagent_cmd": (Cmd, "HAGENT_CMD_"),
    "hagent_attr": (Attr, "HAGENT_A_"),
    "hagent_sampler_attr": (SamplerAttr, "HAGENT_A_"),
    "hagent_node_attr": (NodeAttr, "HAGENT_A_"),
    "hagent_target_attr": (TargetAttr, "HAGENT_A_"),
    "hagent_counter_attr": (CounterAttr, "HAGENT_A_"),
    "hagent_tier": (Tier, "HAGENT_TIER_"),
    "hagent_event": (Event, "HAGENT_EV_"),
}

FEATURE_PREFIX = "HAGENT_F_"
DEFINE_PREFIX = "HAGENT_"


def feature_names(mask: int) -> list[str]:
    """Decode a HAGENT_A_FEATURES mask into lower-case names, lowest bit first.

    Bits this mirror does not know (a newer module) come out as ``bit<n>``
    rather than being dropped.
    """
    known = {int(flag): (flag.name or "").lower() for flag in Feature}
    return [known.get(1 << bit, f"bit{bit}") for bit in range(64) if mask & (1 << bit)]


def tier_name(tier: int) -> str:
    """HAGENT_TIER_* value -> "fast"/"slow" (``tier<n>`` for an unknown one)."""
    try:
        return Tier(tier).name.lower()
    except ValueError:
        return f"tier{tier}"


def event_name(event: int) -> str:
    """HAGENT_EV_* value -> "loaded", "target_exited", ... (``event<n>`` if unknown)."""
    try:
        return Event(event).name.lower()
    except ValueError:
        return f"event{event}"
