"""Fakes for host tests: no module, no root, no kernel needed.

- FakeKernel replaces the whole kernel layer (hagent.kernel.Kernel) for
  command tests: it records calls and raises the HagentError it is told to.
- FakeLibkmod and FakeGenlSocket replace what is *under* RealKernel (the
  ctypes library and the pyroute2 socket), so the real errno/netlink error
  mapping runs.
- status_reply() and stats_reply() encode replies byte by byte the way the
  module's nla_put_*() calls would, independent of pyroute2's encoder.
"""

import errno
import struct
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pyroute2.netlink import NLM_F_ACK, NLMSG_ERROR, nlmsgerr
from pyroute2.netlink.exceptions import NetlinkError

from hagent import counters as model
from hagent.errors import HagentError
from hagent.kernel import Counters, EventInfo, Stats, Status, Target, genl
from hagent.uapi import (
    GENL_VERSION,
    Attr,
    Cmd,
    CounterAttr,
    Feature,
    NodeAttr,
    SamplerAttr,
    TargetAttr,
    Tier,
)

GiB = 1 << 30

STATUS: Status = {
    "version": "0.1.0",
    "kernel": "6.1.0-28-amd64",
    "features": ["migrate", "debugfs"],
    "nr_targets": 2,
    "samplers": [
        {"name": "abit", "available": True, "reason": None, "counters": None, "events": None},
        {
            "name": "pebs",
            "available": False,
            "reason": "no PMU (virtualized)",
            "counters": 0,
            "events": "MEM_LOAD_L3_MISS_RETIRED.LOCAL_DRAM (fast)",
        },
        {
            "name": "fault",
            "available": True,
            "reason": None,
            "counters": 2,
            "events": "page-faults",
        },
    ],
    "nodes": [
        {"id": 0, "tier": "fast", "nr_cpus": 2, "mem_total": 1 * GiB, "mem_free": GiB // 2},
        {"id": 1, "tier": "slow", "nr_cpus": 0, "mem_total": 2 * GiB, "mem_free": 3 * GiB // 2},
    ],
}


# The placement counters (placement() below), in the module's order.
PLACEMENT_COUNTERS = ("promoted", "demoted", "exchanges", "migrate.attempted") + tuple(
    f"migrate_failed.{r}" for r in model.MIGRATE_FAIL_REASONS
)
# The per-target counters counters() gives: all the module's (hagent.counters)
# but the accessed-bit sampler's and the placement ones.
BASE_COUNTERS = tuple(
    n for n in model.TARGET if not n.startswith("abit.") and n not in PLACEMENT_COUNTERS
)


def counters(**values: int) -> dict[str, int]:
    """The BASE_COUNTERS of a target (0 unless given; ``__`` is ``.``)."""
    names = BASE_COUNTERS
    given = {k.replace("__", "."): v for k, v in values.items()}
    unknown = set(given) - set(names)
    assert not unknown, unknown
    return {name: given.get(name, 0) for name in names}


MIGRATE_FAIL_REASONS = model.MIGRATE_FAIL_REASONS


def placement(
    promoted: int = 0, demoted: int = 0, exchanges: int = 0, attempted: int = 0, **failed: int
) -> dict[str, int]:
    """The placement counters in the module's order (kmod/hagent/counters.h);
    ``failed`` gives migrate_failed.<reason> (0 for a reason not given)."""
    unknown = set(failed) - set(MIGRATE_FAIL_REASONS)
    assert not unknown, unknown
    out = {
        "promoted": promoted,
        "demoted": demoted,
        "exchanges": exchanges,
        "migrate.attempted": attempted,
    }
    out.update({f"migrate_failed.{r}": failed.get(r, 0) for r in MIGRATE_FAIL_REASONS})
    assert tuple(out) == PLACEMENT_COUNTERS
    return out


SAMPLE_SOURCES = ("pebs", "ibs", "abit", "inject")
SAMPLE_KINDS = ("total", "fast", "slow", "unmanaged", "invalid", "dropped")


def samples(**sources: tuple[int, int, int, int, int]) -> dict[str, int]:
    """The samples.* counters in the module's order, from (fast, slow, unmanaged,
    invalid, dropped) per source (0 for a source not given); totals add up."""
    unknown = set(sources) - set(SAMPLE_SOURCES)
    assert not unknown, unknown
    rows = {src: (sum(v := sources.get(src, (0,) * 5)), *v) for src in SAMPLE_SOURCES}
    out = {
        f"samples.{kind}": sum(row[i] for row in rows.values())
        for i, kind in enumerate(SAMPLE_KINDS)
    }
    for src, row in rows.items():
        out.update({f"samples.{src}.{kind}": row[i] for i, kind in enumerate(SAMPLE_KINDS)})
    return out


REDIS_SAMPLES = samples(pebs=(512, 256, 10, 2, 0), abit=(100, 100, 0, 0, 0))
STRESS_SAMPLES = samples(abit=(0, 20, 0, 0, 0))

REDIS: Target = {
    "pid": 1234,
    "comm": "redis-server",
    "fast_nodes": "0",
    "slow_nodes": "1",
    "counters": counters(
        managed_pages__fast=1024,
        managed_pages__slow=5120,
        managed_folios=100,
        adopted=8192,
        released__unmap=2000,
        released__fork=48,
        skipped__shared=7,
        scans=3,
    )
    | REDIS_SAMPLES,
}
STRESS: Target = {
    "pid": 77,
    "comm": "stress-ng-vm",
    "fast_nodes": "0-1",
    "slow_nodes": "2,4",
    "counters": counters(managed_pages__slow=256, adopted=256, orphans=1) | STRESS_SAMPLES,
}
TOTALS = {
    **counters(
        managed_pages__fast=1024,
        managed_pages__slow=5376,
        managed_folios=101,
        adopted=9000,
        released__unmap=2000,
        released__fork=48,
        released__exit=552,
        skipped__shared=7,
        orphans=1,
        scans=3,
    ),
    **samples(pebs=(600, 300, 10, 2, 1), abit=(100, 120, 0, 0, 0), inject=(5, 5, 1, 0, 0)),
    "targets.enabled": 3,
    "targets.disabled": 0,
    "targets.exited": 1,
}
STATS: Stats = {"totals": TOTALS, "targets": [REDIS, STRESS]}

# The tunables as kmod/hagent/config.c defines them, in its order: name ->
# (default, min, max).  config.c (and the module parameters' initial values)
# is the source of truth: test_config.py parses the C and fails when a name,
# the order, a range or a default here differs.
TUNABLES: dict[str, tuple[int, int, int]] = {
    "interval_ms": (100, 10, 60000),
    "scan_interval_ms": (200, 10, 3600000),
    "scan_pages": (16384, 1, 1 << 32),
    "scan_idle_div": (8, 1, 64),
    "decay_ms": (8000, 10, 3600000),
    "abit": (1, 0, 1),
    "abit_window_ms": (0, 0, 60000),
    "fault_samples": (0, 0, 1),
    "max_pages": (1 << 22, 0, 1 << 32),
    "placement": (1, 0, 1),
    "migrate_mbps": (256, 0, 1 << 20),
    "migrate_batch": (1024, 16, 65536),
    "hysteresis": (3, 0, 255),
    "promote_min": (1, 1, 255),
    "fast_reserve_mb": (64, 0, 1 << 20),
    "fair_share": (1, 0, 1),
    "follow_max": (4096, 0, 1 << 20),
    "workload_max": (1024, 1, 1 << 20),
}
CONFIG = {name: default for name, (default, _, _) in TUNABLES.items()}


class FakeKernel:
    """An in-memory hagent.kernel.Kernel."""

    def __init__(
        self,
        status: Status | None = None,
        loaded: bool = True,
        built: Path | None = None,
        fail: dict[str, HagentError] | None = None,
        stats: Stats | None = None,
        stats_seq: Sequence[Stats] = (),
    ) -> None:
        self._status = status if status is not None else STATUS
        self._stats = stats if stats is not None else STATS
        # successive stats() replies (the last one repeats); empty: always ``stats``
        self._stats_seq = list(stats_seq)
        self.loaded = loaded
        self.built = built
        self.fail = fail or {}
        self.calls: list[tuple[Any, ...]] = []
        self.config = dict(CONFIG)

    def _call(self, name: str, *args: Any) -> None:
        self.calls.append((name, *args))
        if name in self.fail:
            raise self.fail[name]

    def built_module(self) -> Path | None:
        self._call("built_module")
        return self.built

    def load(self, ko: Path | None, params: str) -> str:
        self._call("load", ko, params)
        self.loaded = True
        return str(ko) if ko is not None else "/lib/modules/6.1.0-28-amd64/extra/hagent.ko"

    def unload(self) -> None:
        self._call("unload")
        self.loaded = False

    def is_loaded(self) -> bool:
        self._call("is_loaded")
        return self.loaded

    def refcount(self) -> int | None:
        self._call("refcount")
        return 0 if self.loaded else None

    def status(self) -> Status:
        self._call("status")
        return self._status

    def debugfs_counters(self) -> Counters:
        self._call("debugfs_counters")
        return {"stats": {"samples": 10}}

    # what events() yields; tests assign it
    event_list: list[EventInfo] = [{"type": "loaded", "pid": 0, "msg": "hello"}]  # noqa: RUF012

    def events(self) -> Iterator[EventInfo]:
        self._call("events")
        yield from self.event_list

    log = ""  # what dmesg() returns; tests assign it

    def dmesg(self) -> str:
        self._call("dmesg")
        return self.log

    def enable(
        self, pid: int, fast: str | None = None, slow: str | None = None, follow: bool = False
    ) -> Target:
        self._call("enable", pid, fast, slow, *(("follow",) if follow else ()))
        target: Target = {
            "pid": pid,
            "comm": "redis-server",
            "fast_nodes": fast if fast is not None else "0",
            "slow_nodes": slow if slow is not None else "1",
            "counters": counters(managed_pages__slow=5120, managed_folios=10, adopted=5120),
        }
        if follow:
            target["workload"] = pid
        return target

    def disable(self, pid: int) -> None:
        self._call("disable", pid)

    def cgroup_id(self, path: str) -> tuple[Path, int]:
        self._call("cgroup_id", path)
        return Path("/sys/fs/cgroup") / path.lstrip("/"), 4242

    def cgroup_path(self, cgroup: int) -> Path | None:
        return Path("/sys/fs/cgroup/app") if cgroup == 4242 else None

    def enable_cgroup(
        self, cgroup: int, fast: str | None = None, slow: str | None = None
    ) -> list[Target]:
        self._call("enable_cgroup", cgroup, fast, slow)
        return [
            {
                "pid": pid,
                "comm": "qemu-system-x86",
                "fast_nodes": fast if fast is not None else "0",
                "slow_nodes": slow if slow is not None else "1",
                "counters": counters(adopted=100),
                "cgroup": cgroup,
            }
            for pid in (301, 302)
        ]

    def disable_cgroup(self, cgroup: int) -> None:
        self._call("disable_cgroup", cgroup)

    def debug_fail(self, pid: int) -> None:
        self._call("debug_fail", pid)

    def stats(self, pid: int | None = None) -> Stats:
        self._call("stats", pid)
        if self._stats_seq:
            self._stats = self._stats_seq.pop(0) if len(self._stats_seq) > 1 else self._stats_seq[0]
        if pid is None:
            return self._stats
        return {
            "totals": self._stats["totals"],
            "targets": [t for t in self._stats["targets"] if t["pid"] == pid],
        }

    def inject(self, pid: int, samples: Sequence[tuple[int, int, bool]], repeat: int = 1) -> None:
        self._call("inject", pid, list(samples), repeat)

    def get_config(self) -> dict[str, int]:
        self._call("get_config")
        return dict(self.config)

    def set_config(self, settings: Mapping[str, int]) -> dict[str, int]:
        """As the module's SET_CONFIG: check all, then apply all; errors as genl maps them."""
        self._call("set_config", dict(settings))
        if not settings:
            raise ValueError("no settings to apply")  # as genl.set_config, before any request
        for name, value in settings.items():
            if name not in TUNABLES:
                raise set_config_error(errno.EINVAL, f'no setting named "{name}"')
            _, lo, hi = TUNABLES[name]
            if not lo <= value <= hi:
                raise set_config_error(errno.ERANGE, f"{name} must be in {lo}..{hi}")
        self.config.update(settings)
        return dict(self.config)


def set_config_error(code: int, extack: str) -> HagentError:
    """The HagentError RealKernel raises for a SET_CONFIG the module refused (errno, extack)."""
    return genl._request_error(Cmd.SET_CONFIG, NetlinkError(code, extack))


# --- under RealKernel: libkmod ---------------------------------------------------


class FakeLibkmod:
    """Stands in for the ctypes CDLL of libkmod.so.2 (kmodlib._lib).

    ``files`` are the .ko paths that exist; ``installed`` is what a lookup by
    name finds in /lib/modules (None: nothing); ``insert_rc``/``remove_rc``
    force the kernel's answer (a negative errno).  ``name`` is the modinfo
    name of every file (None: it has none); ``info_rc`` makes reading the
    modinfo fail (a negative errno: not a module file).
    """

    def __init__(
        self,
        loaded: bool = False,
        files: tuple[str, ...] = (),
        installed: str | None = None,
        insert_rc: int = 0,
        remove_rc: int = 0,
        refcnt: int = 0,
        params: dict[str, str] | None = None,
        name: str | None = "hagent",
        info_rc: int = 0,
    ) -> None:
        self.loaded = loaded
        self.name = name
        self.info_rc = info_rc
        # modinfo "parmtype" of the module file: name -> type
        self.params = {"selftest": "bool"} if params is None else params
        self.files = set(files)
        self.installed = installed
        self.insert_rc = insert_rc
        self.remove_rc = remove_rc
        self.refcnt = refcnt
        self.inserted: list[tuple[str, str]] = []
        self.live_refs = 0  # kmod_new/new_from_* minus the unrefs
        self._paths: dict[int, str | None] = {}

    def kmod_new(self, dirname: Any, config: Any) -> int:
        self.live_refs += 1
        return 1

    def kmod_unref(self, ctx: int) -> None:
        self.live_refs -= 1

    def _new(self, ref: Any, path: str | None) -> int:
        handle = 100 + len(self._paths)
        self._paths[handle] = path
        ref._obj.value = handle
        self.live_refs += 1
        return 0

    def kmod_module_new_from_path(self, ctx: int, path: bytes, ref: Any) -> int:
        if path.decode() not in self.files:
            return -errno.ENOENT
        return self._new(ref, path.decode())

    def kmod_module_new_from_name(self, ctx: int, name: bytes, ref: Any) -> int:
        assert name == b"hagent"
        return self._new(ref, self.installed)

    def kmod_module_unref(self, mod: int) -> None:
        self.live_refs -= 1

    # modinfo as libkmod's list: node handles 1000.. hold (key, value)
    def kmod_module_get_info(self, mod: int, ref: Any) -> int:
        if self.info_rc:
            return self.info_rc
        self._info = [(b"parmtype", f"{n}:{t}".encode()) for n, t in self.params.items()]
        self._info.insert(0, (b"license", b"GPL"))
        if self.name is not None:
            self._info.append((b"name", self.name.encode()))
        ref._obj.value = 1000 if self._info else None
        return len(self._info)

    def kmod_list_next(self, head: int, node: int) -> int | None:
        nxt = node + 1
        return nxt if nxt - 1000 < len(self._info) else None

    def kmod_module_info_get_key(self, node: int) -> bytes:
        return self._info[node - 1000][0]

    def kmod_module_info_get_value(self, node: int) -> bytes:
        return self._info[node - 1000][1]

    def kmod_module_info_free_list(self, head: int | None) -> None:
        pass

    def kmod_module_get_path(self, mod: int) -> bytes | None:
        path = self._paths[mod]
        return path.encode() if path else None

    def kmod_module_insert_module(self, mod: int, flags: int, options: bytes) -> int:
        path = self._paths[mod]
        assert path is not None
        self.inserted.append((path, options.decode()))
        if self.insert_rc:
            return self.insert_rc
        if self.loaded:
            return -errno.EEXIST
        self.loaded = True
        return 0

    def kmod_module_remove_module(self, mod: int, flags: int) -> int:
        if self.remove_rc:
            return self.remove_rc
        if not self.loaded:
            return -errno.ENOENT
        self.loaded = False
        return 0

    def kmod_module_get_initstate(self, mod: int) -> int:
        return 1 if self.loaded else -errno.ENOENT

    def kmod_module_get_refcnt(self, mod: int) -> int:
        return self.refcnt if self.loaded else -errno.ENOENT


# --- under RealKernel: the netlink socket -----------------------------------------

NLA_F_NESTED = 1 << 15
FAMILY_ID = 0x1F


def _nla(kind: int, payload: bytes, nested: bool = False) -> bytes:
    header = struct.pack("=HH", 4 + len(payload), kind | (NLA_F_NESTED if nested else 0))
    return header + payload + b"\0" * (-len(payload) % 4)


def _str(kind: int, s: str | bytes) -> bytes:  # nla_put_string: with the NUL
    return _nla(kind, (s if isinstance(s, bytes) else s.encode()) + b"\0")


def _msg(cmd: int, attrs: bytes, version: int = GENL_VERSION) -> bytes:
    body = struct.pack("=BBH", cmd, version, 0) + attrs
    return struct.pack("=IHHII", 16 + len(body), FAMILY_ID, 0, 1, 0) + body


def status_reply(
    st: Status = STATUS, version: int = GENL_VERSION, skip: tuple[int, ...] = ()
) -> bytes:
    """A STATUS reply as the module would put it on the wire.

    ``skip`` leaves out top-level attributes (to test malformed replies).
    """
    samplers = b"".join(
        _nla(
            SamplerAttr.SAMPLER,
            _str(SamplerAttr.SAMPLER_NAME, s["name"])
            + _nla(SamplerAttr.SAMPLER_AVAILABLE, struct.pack("=B", s["available"]))
            + (_str(SamplerAttr.SAMPLER_REASON, s["reason"]) if s["reason"] else b"")
            + (
                _nla(SamplerAttr.SAMPLER_COUNTERS, struct.pack("=I", s["counters"]))
                if s["counters"] is not None
                else b""
            )
            + (_str(SamplerAttr.SAMPLER_EVENTS, s["events"]) if s["events"] else b""),
            nested=True,
        )
        for s in st["samplers"]
    )
    nodes = b"".join(
        _nla(
            NodeAttr.NODE,
            _nla(NodeAttr.NODE_ID, struct.pack("=I", n["id"]))
            + _nla(NodeAttr.NODE_TIER, struct.pack("=B", Tier[n["tier"].upper()]))
            + _nla(NodeAttr.NODE_NR_CPUS, struct.pack("=I", n["nr_cpus"]))
            + _nla(NodeAttr.NODE_MEM_TOTAL, struct.pack("=Q", n["mem_total"]))
            + _nla(NodeAttr.NODE_MEM_FREE, struct.pack("=Q", n["mem_free"])),
            nested=True,
        )
        for n in st["nodes"]
    )
    mask = 0
    for name in st["features"]:
        mask |= Feature[name.upper()]
    parts = {
        Attr.VERSION: _str(Attr.VERSION, st["version"]),
        Attr.KERNEL: _str(Attr.KERNEL, st["kernel"]),
        Attr.FEATURES: _nla(Attr.FEATURES, struct.pack("=Q", mask)),
        Attr.NR_TARGETS: _nla(Attr.NR_TARGETS, struct.pack("=I", st["nr_targets"])),
        Attr.SAMPLERS: _nla(Attr.SAMPLERS, samplers, nested=True),
        Attr.NODES: _nla(Attr.NODES, nodes, nested=True),
    }
    attrs = b"".join(v for k, v in parts.items() if k not in skip)
    return _msg(Cmd.STATUS, attrs, version)


def _u64(kind: int, value: int, pad: int | None) -> bytes:
    """nla_put_u64_64bit: a zero-length PAD attribute first when ``pad`` is given."""
    return (_nla(pad, b"") if pad is not None else b"") + _nla(kind, struct.pack("=Q", value))


def _counter_nest(kind: int, values: dict[str, int], pad: bool) -> bytes:
    # Pad every other value, so that both layouts are decoded.
    return _nla(
        kind,
        b"".join(
            _nla(
                CounterAttr.COUNTER,
                _str(CounterAttr.COUNTER_NAME, name)
                + _u64(
                    CounterAttr.COUNTER_VALUE,
                    value,
                    CounterAttr.COUNTER_PAD if pad and i % 2 == 0 else None,
                ),
                nested=True,
            )
            for i, (name, value) in enumerate(values.items())
        ),
        nested=True,
    )


def _targets_nest(targets: list[Target], pad: bool) -> bytes:
    return _nla(
        Attr.TARGETS,
        b"".join(
            _nla(
                TargetAttr.TARGET,
                _nla(TargetAttr.TARGET_PID, struct.pack("=I", t["pid"]))
                + _str(TargetAttr.TARGET_COMM, t["comm"])
                + _str(TargetAttr.TARGET_FAST_NODES, t["fast_nodes"])
                + _str(TargetAttr.TARGET_SLOW_NODES, t["slow_nodes"])
                + _counter_nest(TargetAttr.TARGET_COUNTERS, t["counters"], pad)
                + (
                    _nla(TargetAttr.TARGET_WORKLOAD, struct.pack("=I", t["workload"]))
                    if "workload" in t
                    else b""
                )
                + (
                    _u64(
                        TargetAttr.TARGET_CGROUP,
                        t["cgroup"],
                        TargetAttr.TARGET_PAD if pad else None,
                    )
                    if "cgroup" in t
                    else b""
                ),
                nested=True,
            )
            for t in targets
        ),
        nested=True,
    )


def stats_reply(st: Stats = STATS, pad: bool = True, version: int = GENL_VERSION) -> bytes:
    """A STATS reply as the module would put it on the wire (PADs included)."""
    attrs = _counter_nest(Attr.COUNTERS, st["totals"], pad) + _targets_nest(st["targets"], pad)
    return _msg(Cmd.STATS, attrs, version)


def enable_reply(*targets: Target) -> bytes:
    """An ENABLE reply: HAGENT_A_TARGETS with the new target (more: malformed)."""
    return _msg(Cmd.ENABLE, _targets_nest(list(targets), pad=True))


def config_reply(
    config: Mapping[str, int] = CONFIG, cmd: int = Cmd.GET_CONFIG, pad: bool = True
) -> bytes:
    """A GET_CONFIG or SET_CONFIG reply: HAGENT_A_CONFIG of COUNTER {NAME, VALUE} nests."""
    return _msg(cmd, _counter_nest(Attr.CONFIG, dict(config), pad))


def ack(seq: int = 1) -> Any:
    """The kernel's NLMSG_ERROR with error 0 for an NLM_F_ACK request, decoded."""
    request_header = struct.pack("=IHHII", 20, FAMILY_ID, 0, seq, 0)
    data = struct.pack("=IHHII", 36, NLMSG_ERROR, 0, seq, 0) + struct.pack("=i", 0)
    msg = nlmsgerr(data + request_header)
    msg.decode()
    return msg


def event_message(kind: int, pid: int, text: str | bytes) -> bytes:
    attrs = (
        _nla(Attr.EVENT_TYPE, struct.pack("=I", kind))
        + _nla(Attr.EVENT_PID, struct.pack("=I", pid))
        + _str(Attr.EVENT_MSG, text)
    )
    return _msg(Cmd.EVENT, attrs)


class FakeGenlSocket:
    """Stands in for genl._Socket (pyroute2's GenericNetlinkSocket).

    ``family``: whether the hagent family exists; ``replies``: raw messages
    answered to any request; ``error``: errno the request fails with.
    """

    instances: list["FakeGenlSocket"] = []

    def __init__(
        self,
        family: bool = True,
        replies: tuple[bytes, ...] = (),
        error: int = 0,
        extack: str | None = None,
        events: tuple[bytes, ...] = (),
    ) -> None:
        self.family = family
        self.replies = replies
        self.error = error
        self.extack = extack
        self.events = list(events)
        self.requests: list[tuple[Any, int, int]] = []
        self.raw: list[bytes] = []  # each request as it went on the wire
        self.groups: list[str] = []
        self.closed = False
        self.prid = FAMILY_ID
        self.mcast_groups = {"events": 3}

    def __call__(self, **kwargs: Any) -> "FakeGenlSocket":
        """Used as the socket class: genl._Socket(ext_ack=True) -> self."""
        assert kwargs == {"ext_ack": True}
        return self

    def bind(self, name: str, msg_class: type) -> None:
        assert name == "hagent" and msg_class is genl.hagentmsg
        if not self.family:
            raise NetlinkError(errno.ENOENT)

    def nlm_request(self, msg: Any, msg_type: int, msg_flags: int) -> list[Any]:
        msg.encode()
        self.raw.append(bytes(msg.data))
        self.requests.append((genl.decode(msg.data), msg_type, msg_flags))
        if self.error:
            raise NetlinkError(self.error, self.extack)
        replies = [genl.decode(r) for r in self.replies]
        return replies + [ack()] if msg_flags & NLM_F_ACK else replies

    def add_membership(self, group: str) -> None:
        self.groups.append(group)

    def get(self) -> list[Any]:
        if not self.events:
            raise KeyboardInterrupt  # ends the test's endless subscription
        return [genl.decode(self.events.pop(0))]

    def close(self) -> None:
        self.closed = True
