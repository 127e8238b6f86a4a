"""Generic netlink to the hagent module: the only code that opens its socket.

The message classes are built from hagent.uapi, which test_uapi.py checks
against kmod/hagent/uapi/hagent.h; the attribute types below follow the comment
block of that header.  Replies are turned into plain dicts (TypedDicts) here,
so nothing above this layer sees pyroute2 objects.
"""

import errno
import os
import struct
from collections.abc import Iterator, Mapping, Sequence
from enum import IntEnum
from typing import Any, NotRequired, TypedDict

from pyroute2.netlink import NLM_F_ACK, NLM_F_REQUEST, genlmsg, nla
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.generic import AsyncGenericNetlinkSocket, GenericNetlinkSocket

from hagent.errors import ExitCode, HagentError
from hagent.kernel.kmodlib import sysfs_state
from hagent.uapi import (
    GENL_NAME,
    GENL_VERSION,
    INJECT_SAMPLE_FORMAT,
    INJECT_SAMPLE_SIZE,
    MCGRP_EVENTS,
    REPEAT_MAX,
    SAMPLE_COUNT_MAX,
    SAMPLE_F_STORE,
    Attr,
    Cmd,
    CounterAttr,
    NodeAttr,
    SamplerAttr,
    TargetAttr,
    event_name,
    feature_names,
    tier_name,
)


class SamplerInfo(TypedDict):
    name: str
    available: bool
    reason: str | None  # None when the module gives no reason (or an empty one)
    counters: int | None  # perf counters running now; None from a module without the count
    events: str | None  # what its counters count; None from a module that does not say


class NodeInfo(TypedDict):
    id: int
    tier: str  # "fast" / "slow"
    nr_cpus: int
    mem_total: int  # bytes
    mem_free: int  # bytes


class Status(TypedDict):
    version: str
    kernel: str
    features: list[str]
    nr_targets: int
    samplers: list[SamplerInfo]
    nodes: list[NodeInfo]


class Target(TypedDict):
    pid: int
    comm: str
    fast_nodes: str  # node list as the module prints it, e.g. "0" or "0-1,4"
    slow_nodes: str
    counters: dict[str, int]  # dotted names exactly as the module sends them
    workload: NotRequired[int]  # pid of its followed root (its own when it is the root)
    cgroup: NotRequired[int]  # id of the managed cgroup it came in through


class Stats(TypedDict):
    totals: dict[str, int]  # since load: the per-target names plus targets.*
    targets: list[Target]


class EventInfo(TypedDict):
    type: str
    pid: int
    msg: str


# pyroute2 type of every attribute, per attribute space, from the comment
# block in uapi/hagent.h.  A SAMPLER/NODE/TARGET/COUNTER nest reuses its own
# space ('recursive').  Keyed by name: members of different IntEnums compare equal.
_ATTR_TYPES: dict[type[IntEnum], dict[str, str]] = {
    Attr: {
        "UNSPEC": "none",
        "VERSION": "asciiz",
        "KERNEL": "asciiz",
        "FEATURES": "uint64",
        "NR_TARGETS": "uint32",
        "SAMPLERS": "sampler_attrs|nested",
        "NODES": "node_attrs|nested",
        "EVENT_TYPE": "uint32",
        "EVENT_PID": "uint32",
        "EVENT_MSG": "asciiz",
        "PAD": "none",
        "PID": "uint32",
        "FAST_NODES": "asciiz",
        "SLOW_NODES": "asciiz",
        "TARGETS": "target_attrs|nested",
        "COUNTERS": "counter_attrs|nested",
        "SAMPLES": "cdata",  # packed struct hagent_inject_sample array
        "REPEAT": "uint32",
        "CONFIG": "counter_attrs|nested",  # settings: COUNTER {NAME, VALUE} nests
        "FOLLOW": "flag",
        "CGROUP": "uint64",
    },
    SamplerAttr: {
        "SAMPLER_UNSPEC": "none",
        "SAMPLER": "recursive|nested",
        "SAMPLER_NAME": "asciiz",
        "SAMPLER_AVAILABLE": "uint8",
        "SAMPLER_REASON": "asciiz",
        "SAMPLER_COUNTERS": "uint32",
        "SAMPLER_EVENTS": "asciiz",
    },
    NodeAttr: {
        "NODE_UNSPEC": "none",
        "NODE": "recursive|nested",
        "NODE_ID": "uint32",
        "NODE_TIER": "uint8",
        "NODE_NR_CPUS": "uint32",
        "NODE_MEM_TOTAL": "uint64",
        "NODE_MEM_FREE": "uint64",
        "NODE_PAD": "none",
    },
    TargetAttr: {
        "TARGET_UNSPEC": "none",
        "TARGET": "recursive|nested",
        "TARGET_PID": "uint32",
        "TARGET_COMM": "asciiz",
        "TARGET_FAST_NODES": "asciiz",
        "TARGET_SLOW_NODES": "asciiz",
        "TARGET_COUNTERS": "counter_attrs|nested",
        "TARGET_WORKLOAD": "uint32",
        "TARGET_CGROUP": "uint64",
        "TARGET_PAD": "none",
    },
    CounterAttr: {
        "COUNTER_UNSPEC": "none",
        "COUNTER": "recursive|nested",
        "COUNTER_NAME": "asciiz",
        "COUNTER_VALUE": "uint64",
        "COUNTER_PAD": "none",
    },
}

ATTR_PREFIX = "HAGENT_A_"


def build_nla_map(space: type[IntEnum]) -> tuple[tuple[int, str, str], ...]:
    """The pyroute2 nla_map of one attribute space, with the header's C names.

    Raises KeyError at import time when uapi.py grows an attribute that has no
    type here, so a new attribute cannot be silently ignored.
    """
    types = _ATTR_TYPES[space]
    return tuple((int(a), ATTR_PREFIX + a.name, types[a.name]) for a in space)


class counter_attrs(nla):  # type: ignore[misc]  # noqa: N801 (pyroute2 naming)
    """HAGENT_A_COUNTERS / HAGENT_A_TARGET_COUNTERS: two parents, one class."""

    prefix = ATTR_PREFIX
    nla_map = build_nla_map(CounterAttr)


class target_attrs(nla):  # type: ignore[misc]  # noqa: N801
    prefix = ATTR_PREFIX
    nla_map = build_nla_map(TargetAttr)
    counter_attrs = counter_attrs  # pyroute2 looks nested classes up by name


class hagentmsg(genlmsg):  # type: ignore[misc]  # noqa: N801
    """A message of the hagent family (every command shares one attr space)."""

    prefix = ATTR_PREFIX
    nla_map = build_nla_map(Attr)
    target_attrs = target_attrs
    counter_attrs = counter_attrs

    class sampler_attrs(nla):  # type: ignore[misc]  # noqa: N801
        prefix = ATTR_PREFIX
        nla_map = build_nla_map(SamplerAttr)

    class node_attrs(nla):  # type: ignore[misc]  # noqa: N801
        prefix = ATTR_PREFIX
        nla_map = build_nla_map(NodeAttr)


# --- decoding: pyroute2 message -> plain dicts -------------------------------

_CONTRACT_HINT = "hagentctl and the module disagree on uapi/hagent.h: rebuild the module"


def _required(nest: Any, name: str, what: str) -> Any:
    value = nest.get_attr(ATTR_PREFIX + name)
    if value is None:
        raise HagentError(f"malformed {what} from the module: no HAGENT_A_{name}", _CONTRACT_HINT)
    return value


def _check_version(msg: Any) -> None:
    version = msg["version"]  # the genlmsghdr field, not HAGENT_A_VERSION
    if version != GENL_VERSION:
        raise HagentError(
            f"the module speaks netlink version {version}, hagentctl speaks {GENL_VERSION}",
            _CONTRACT_HINT,
        )


def _nested_list(msg: Any, outer: Attr, inner: str) -> list[Any]:
    nest = msg.get_attr(ATTR_PREFIX + outer.name)
    if nest is None:
        return []
    return list(nest.get_attrs(ATTR_PREFIX + inner))


def status_from_msg(msg: Any) -> Status:
    """Decode a HAGENT_CMD_STATUS reply (a decoded ``hagentmsg``)."""
    _check_version(msg)
    what = "STATUS reply"
    samplers: list[SamplerInfo] = []
    for s in _nested_list(msg, Attr.SAMPLERS, SamplerAttr.SAMPLER.name):
        reason = s.get_attr(ATTR_PREFIX + SamplerAttr.SAMPLER_REASON.name)
        counters = s.get_attr(ATTR_PREFIX + SamplerAttr.SAMPLER_COUNTERS.name)
        events = s.get_attr(ATTR_PREFIX + SamplerAttr.SAMPLER_EVENTS.name)
        samplers.append(
            {
                "name": _text(_required(s, SamplerAttr.SAMPLER_NAME.name, what)),
                "available": bool(_required(s, SamplerAttr.SAMPLER_AVAILABLE.name, what)),
                "reason": _text(reason) if reason else None,
                "counters": int(counters) if counters is not None else None,
                "events": _text(events) if events else None,
            }
        )
    nodes: list[NodeInfo] = []
    for n in _nested_list(msg, Attr.NODES, NodeAttr.NODE.name):
        nodes.append(
            {
                "id": int(_required(n, NodeAttr.NODE_ID.name, what)),
                "tier": tier_name(int(_required(n, NodeAttr.NODE_TIER.name, what))),
                "nr_cpus": int(_required(n, NodeAttr.NODE_NR_CPUS.name, what)),
                "mem_total": int(_required(n, NodeAttr.NODE_MEM_TOTAL.name, what)),
                "mem_free": int(_required(n, NodeAttr.NODE_MEM_FREE.name, what)),
            }
        )
    return {
        "version": _text(_required(msg, Attr.VERSION.name, what)),
        "kernel": _text(_required(msg, Attr.KERNEL.name, what)),
        "features": feature_names(int(_required(msg, Attr.FEATURES.name, what))),
        "nr_targets": int(_required(msg, Attr.NR_TARGETS.name, what)),
        "samplers": samplers,
        "nodes": nodes,
    }


def _text(value: Any) -> str:
    """An asciiz value as str.

    pyroute2 leaves bytes that are not UTF-8 (a comm can be, and the event
    messages that name one): those bytes read ``\\xNN``, as the kernel's log
    escapes them, so no byte is lost and nothing prints as ``b'...'``.
    """
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return str(value)


def _counters(nest: Any, what: str) -> dict[str, int]:
    """A HAGENT_A_COUNTERS-like nest -> {name: value}, in the module's order."""
    out: dict[str, int] = {}
    if nest is None:
        return out
    for c in nest.get_attrs(ATTR_PREFIX + CounterAttr.COUNTER.name):
        name = _text(_required(c, CounterAttr.COUNTER_NAME.name, what))
        out[name] = int(_required(c, CounterAttr.COUNTER_VALUE.name, what))
    return out


def targets_from_msg(msg: Any, what: str) -> list[Target]:
    """The HAGENT_A_TARGETS list of an ENABLE or STATS reply."""
    targets: list[Target] = []
    for t in _nested_list(msg, Attr.TARGETS, TargetAttr.TARGET.name):
        target: Target = {
            "pid": int(_required(t, TargetAttr.TARGET_PID.name, what)),
            "comm": _text(_required(t, TargetAttr.TARGET_COMM.name, what)),
            "fast_nodes": _text(_required(t, TargetAttr.TARGET_FAST_NODES.name, what)),
            "slow_nodes": _text(_required(t, TargetAttr.TARGET_SLOW_NODES.name, what)),
            "counters": _counters(t.get_attr(ATTR_PREFIX + TargetAttr.TARGET_COUNTERS.name), what),
        }
        workload = t.get_attr(ATTR_PREFIX + TargetAttr.TARGET_WORKLOAD.name)
        if workload is not None:
            target["workload"] = int(workload)
        cgroup = t.get_attr(ATTR_PREFIX + TargetAttr.TARGET_CGROUP.name)
        if cgroup is not None:
            target["cgroup"] = int(cgroup)
        targets.append(target)
    return targets


def stats_from_msg(msg: Any) -> Stats:
    """Decode a HAGENT_CMD_STATS reply."""
    _check_version(msg)
    what = "STATS reply"
    return {
        "totals": _counters(msg.get_attr(ATTR_PREFIX + Attr.COUNTERS.name), what),
        "targets": targets_from_msg(msg, what),
    }


def enabled_from_msg(msg: Any) -> Target:
    """Decode a HAGENT_CMD_ENABLE reply: HAGENT_A_TARGETS with the one new target."""
    _check_version(msg)
    targets = targets_from_msg(msg, "ENABLE reply")
    if len(targets) != 1:
        raise HagentError(
            f"malformed ENABLE reply from the module: {len(targets)} targets, expected 1",
            _CONTRACT_HINT,
        )
    return targets[0]


def config_from_msg(msg: Any, what: str) -> dict[str, int]:
    """Decode a GET_CONFIG or SET_CONFIG reply: {tunable: value}, in the module's order."""
    _check_version(msg)
    return _counters(_required(msg, Attr.CONFIG.name, what), what)


def event_from_msg(msg: Any) -> EventInfo:
    """Decode a HAGENT_CMD_EVENT multicast message."""
    _check_version(msg)
    what = "event"
    return {
        "type": event_name(int(_required(msg, Attr.EVENT_TYPE.name, what))),
        "pid": int(msg.get_attr(ATTR_PREFIX + Attr.EVENT_PID.name) or 0),
        "msg": _text(msg.get_attr(ATTR_PREFIX + Attr.EVENT_MSG.name) or ""),
    }


def decode(data: bytes) -> Any:
    """Parse one raw hagent netlink message (tests, captured traffic)."""
    msg = hagentmsg(data)
    msg.decode()
    return msg


# --- the socket ---------------------------------------------------------------


class _AsyncSocket(AsyncGenericNetlinkSocket):  # type: ignore[misc]
    # pyroute2 logs "protocol not found" at error level through the root
    # logger; the CLI reports that itself, in one line.
    module_err_level = "debug"


class _Socket(GenericNetlinkSocket):  # type: ignore[misc]
    async_class = _AsyncSocket


def extack(err: NetlinkError) -> str | None:
    """The extack message the module sent with an error, if any.

    pyroute2 0.9.7 has no ``.extack``: it builds NetlinkError(code,
    NLMSGERR_ATTR_MSG) and fills a missing message with strerror(code), so
    args[1] is the module's text unless it equals strerror.
    """
    code = abs(int(err.code))
    text = getattr(err, "extack", None) or (err.args[1] if len(err.args) > 1 else None)
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not text or text in (os.strerror(code), os.strerror(int(err.code))):
        return None
    return str(text)


_ROOT_HINT = "run it with sudo"
_NOT_MANAGED_HINT = "see the managed processes: hagentctl stats"
_SETTINGS_HINT = "see the settings: hagentctl config"
# What "must be root (CAP_NET_ADMIN) to ..." says for the CAP_NET_ADMIN commands.
_ADMIN_VERBS = {
    Cmd.ENABLE: "enable",
    Cmd.DISABLE: "disable",
    Cmd.INJECT: "inject",
    Cmd.SET_CONFIG: "change settings",
}


def _request_error(cmd: Cmd, err: NetlinkError, pid: int | None = None) -> HagentError:
    """One HagentError for a failed request; the module's extack text wins.

    ``pid`` is the HAGENT_A_PID of the request, for the messages that name it.
    """
    code = abs(int(err.code))
    text = extack(err)
    if code == errno.EOPNOTSUPP and text is None:
        return HagentError(f"the loaded hagent module has no {cmd.name} command", _CONTRACT_HINT)
    if code in (errno.EPERM, errno.EACCES):
        if text:
            return HagentError(text, _ROOT_HINT if os.geteuid() else None)
        if cmd in _ADMIN_VERBS:
            return HagentError(f"must be root (CAP_NET_ADMIN) to {_ADMIN_VERBS[cmd]}", _ROOT_HINT)
        return HagentError(f"must be root to run {cmd.name} (the module said: permission denied)")
    if cmd is Cmd.STATUS:
        return HagentError(f"{cmd.name} failed: {text or os.strerror(code)}")
    known: dict[int, tuple[str, str | None]] = {}
    if pid is not None:
        known = {
            errno.ESRCH: (f"no such process: {pid}", None),
            errno.EEXIST: (f"pid {pid} is already managed", None),
            errno.ENOENT: (f"pid {pid} is not managed", _NOT_MANAGED_HINT),
        }
    if cmd is Cmd.SET_CONFIG:
        # The extack names the setting (and its range).  All or none: none.
        known = {
            errno.EINVAL: ("the module refused the settings", f"nothing changed; {_SETTINGS_HINT}"),
            errno.ERANGE: ("a setting is out of its range", "nothing changed"),
        }
    message, hint = known.get(code, (f"{cmd.name.lower()} failed: {os.strerror(code)}", None))
    return HagentError(text or message, hint)


def open_socket() -> Any:
    """A generic netlink socket bound to the hagent family."""
    try:
        sock = _Socket(ext_ack=True)
    except OSError as err:
        raise HagentError(f"cannot open a generic netlink socket: {err.strerror}") from err
    try:
        sock.bind(GENL_NAME, hagentmsg)
    except NetlinkError as err:
        sock.close()
        if abs(int(err.code)) == errno.ENOENT:
            raise family_missing() from err
        raise HagentError(f"cannot resolve netlink family '{GENL_NAME}': {err}") from err
    except BaseException:
        sock.close()
        raise
    return sock


def family_missing() -> HagentError:
    """No hagent family: the module is not loaded, still loading, or in another netns."""
    state = sysfs_state()
    if state is None:
        return HagentError(
            f"hagent module is not loaded (netlink family '{GENL_NAME}' not found)",
            hint="run: hagentctl load",
            exit_code=ExitCode.NOT_LOADED,
        )
    if state in ("coming", "going"):
        doing = "still loading" if state == "coming" else "being unloaded"
        return HagentError(
            f"hagent module is {doing}: netlink family '{GENL_NAME}' not found",
            hint="retry in a moment",
            exit_code=ExitCode.NOT_LOADED,
        )
    # The family is registered with netnsok = false (kmod/hagent/netlink.c).
    return HagentError(
        f"hagent module is loaded (/sys/module/hagent exists) but netlink family "
        f"'{GENL_NAME}' is not visible from this network namespace: the module "
        "answers only in the initial one",
        hint="run hagentctl in the initial network namespace (e.g. nsenter -t 1 -n hagentctl ...)",
        exit_code=ExitCode.NOT_LOADED,
    )


def request(
    cmd: Cmd, attrs: Mapping[str, Any] | None = None, flags: int = NLM_F_REQUEST
) -> list[Any]:
    """Send one request (no dump) and return the decoded hagent replies.

    With NLM_F_ACK in ``flags`` the kernel's ack ends the answer of a command
    that has no reply (DISABLE); acks are not returned.
    """
    attrs = attrs or {}
    sock = open_socket()
    try:
        return _exchange(sock, cmd, list(attrs.items()), flags)
    finally:
        sock.close()


def _exchange(sock: Any, cmd: Cmd, attrs: list[tuple[str, Any]], flags: int) -> list[Any]:
    """One request on an open socket; ``attrs`` may name an attribute twice."""
    msg = hagentmsg()
    msg["cmd"] = int(cmd)
    msg["version"] = GENL_VERSION
    msg["attrs"] = [[ATTR_PREFIX + k, v] for k, v in attrs]
    try:
        replies = list(sock.nlm_request(msg, msg_type=sock.prid, msg_flags=flags))
    except NetlinkError as err:
        raise _request_error(cmd, err, dict(attrs).get(Attr.PID.name)) from err
    return [r for r in replies if isinstance(r, hagentmsg)]


def _one_reply(cmd: Cmd, replies: list[Any]) -> Any:
    if len(replies) != 1:
        raise HagentError(f"{cmd.name}: expected one reply, got {len(replies)}", _CONTRACT_HINT)
    return replies[0]


def status() -> Status:
    """HAGENT_CMD_STATUS: what the module reports about itself and the machine."""
    return status_from_msg(_one_reply(Cmd.STATUS, request(Cmd.STATUS)))


def enable(
    pid: int, fast: str | None = None, slow: str | None = None, follow: bool = False
) -> Target:
    """HAGENT_CMD_ENABLE: manage ``pid``; node lists default to the module's tiers;
    ``follow``: what it forks is managed too."""
    attrs: dict[str, Any] = {Attr.PID.name: pid}
    if fast is not None:
        attrs[Attr.FAST_NODES.name] = fast
    if slow is not None:
        attrs[Attr.SLOW_NODES.name] = slow
    if follow:
        attrs[Attr.FOLLOW.name] = True
    replies = request(Cmd.ENABLE, attrs, NLM_F_REQUEST | NLM_F_ACK)
    if not replies:
        # A bare ack: the module enabled the process, which then exited before
        # the reply was built (its exit already gave every folio back).
        raise HagentError(f"pid {pid} exited right after it was enabled: nothing is managed")
    return enabled_from_msg(_one_reply(Cmd.ENABLE, replies))


def enable_cgroup(cgroup: int, fast: str | None = None, slow: str | None = None) -> list[Target]:
    """HAGENT_CMD_ENABLE with a cgroup id: manage every process in it, now and
    later; returns the targets that came in through it (none: it is empty)."""
    attrs: dict[str, Any] = {Attr.CGROUP.name: cgroup}
    if fast is not None:
        attrs[Attr.FAST_NODES.name] = fast
    if slow is not None:
        attrs[Attr.SLOW_NODES.name] = slow
    replies = request(Cmd.ENABLE, attrs, NLM_F_REQUEST | NLM_F_ACK)
    reply = _one_reply(Cmd.ENABLE, replies)
    _check_version(reply)
    return targets_from_msg(reply, "ENABLE reply")


def disable(pid: int) -> None:
    """HAGENT_CMD_DISABLE: give every folio of ``pid`` back; the ack is the answer."""
    request(Cmd.DISABLE, {Attr.PID.name: pid}, NLM_F_REQUEST | NLM_F_ACK)


def disable_cgroup(cgroup: int) -> None:
    """HAGENT_CMD_DISABLE with a cgroup id: every process that came in through it goes back."""
    request(Cmd.DISABLE, {Attr.CGROUP.name: cgroup}, NLM_F_REQUEST | NLM_F_ACK)


def debug_fail(pid: int) -> None:
    """HAGENT_CMD_DEBUG_FAIL: make a fail-safe check fail for ``pid`` (tests only)."""
    request(Cmd.DEBUG_FAIL, {Attr.PID.name: pid}, NLM_F_REQUEST | NLM_F_ACK)


# An attribute's length is a u16 that counts its 4-byte header: 4095 samples.
SAMPLES_PER_ATTR = (0xFFFF - 4) // INJECT_SAMPLE_SIZE
# Samples per INJECT message: 4 full attributes, ~256 KiB.  A socket's send
# buffer is at most twice net.core.wmem_max (212992 by default), and a larger
# message fails with EMSGSIZE, so 32 full attributes (2 MiB) would not do.
SAMPLES_PER_MSG = 4 * SAMPLES_PER_ATTR


def pack_samples(samples: Sequence[tuple[int, int, bool]]) -> bytes:
    """(addr, count, is_store) tuples -> a HAGENT_A_SAMPLES payload."""
    return b"".join(
        struct.pack(INJECT_SAMPLE_FORMAT, addr, count, SAMPLE_F_STORE if store else 0)
        for addr, count, store in samples
    )


def inject_messages(
    samples: Sequence[tuple[int, int, bool]], repeat: int = 1
) -> list[list[tuple[str, Any]]]:
    """The attributes (after HAGENT_A_PID) of each INJECT message for ``samples``.

    Every message carries ``repeat``: when the list needs several messages,
    the module repeats each message's part in turn rather than the whole list.
    """
    for addr, count, _ in samples:
        if not 0 <= addr < 1 << 64:
            raise ValueError(f"bad sample address {addr:#x}: not a 64-bit address")
        if not 1 <= count <= SAMPLE_COUNT_MAX:
            raise ValueError(f"bad sample count {count}: must be 1..{SAMPLE_COUNT_MAX}")
    if not 1 <= repeat <= REPEAT_MAX:
        raise ValueError(f"bad repeat {repeat}: must be 1..{REPEAT_MAX}")
    messages: list[list[tuple[str, Any]]] = []
    for first in range(0, len(samples), SAMPLES_PER_MSG):
        part = samples[first : first + SAMPLES_PER_MSG]
        attrs: list[tuple[str, Any]] = [
            (Attr.SAMPLES.name, pack_samples(part[i : i + SAMPLES_PER_ATTR]))
            for i in range(0, len(part), SAMPLES_PER_ATTR)
        ]
        if repeat != 1:
            attrs.append((Attr.REPEAT.name, repeat))
        messages.append(attrs)
    return messages


def inject(pid: int, samples: Sequence[tuple[int, int, bool]], repeat: int = 1) -> None:
    """HAGENT_CMD_INJECT: feed (addr, count, is_store) samples to ``pid``, ``repeat`` times.

    Long lists go in several messages on one socket; the ack of each is the
    answer.  An error stops at the failing message (earlier ones are in).
    """
    messages = inject_messages(samples, repeat)
    if not messages:
        return
    sock = open_socket()
    try:
        for attrs in messages:
            _exchange(sock, Cmd.INJECT, [(Attr.PID.name, pid), *attrs], NLM_F_REQUEST | NLM_F_ACK)
    finally:
        sock.close()


def get_config() -> dict[str, int]:
    """HAGENT_CMD_GET_CONFIG: every tunable and its value, in the module's order."""
    reply = _one_reply(Cmd.GET_CONFIG, request(Cmd.GET_CONFIG))
    return config_from_msg(reply, "GET_CONFIG reply")


# HAGENT_A_COUNTER_NAME's policy in netlink.c: NLA_NUL_STRING of at most 63 bytes.
SETTING_NAME_MAX = 63


def config_attr(settings: Mapping[str, int]) -> dict[str, Any]:
    """{name: value} -> the HAGENT_A_CONFIG nest of a SET_CONFIG request."""
    for name, value in settings.items():
        if not name or len(name.encode()) > SETTING_NAME_MAX or "\0" in name:
            raise ValueError(f"bad setting name {name!r}")
        if not 0 <= value < 1 << 64:
            raise ValueError(f"bad value {value} for {name}: not a u64")
    counter = ATTR_PREFIX + CounterAttr.COUNTER.name
    name_attr = ATTR_PREFIX + CounterAttr.COUNTER_NAME.name
    value_attr = ATTR_PREFIX + CounterAttr.COUNTER_VALUE.name
    return {
        "attrs": [
            [counter, {"attrs": [[name_attr, name], [value_attr, value]]}]
            for name, value in settings.items()
        ]
    }


def set_config(settings: Mapping[str, int]) -> dict[str, int]:
    """HAGENT_CMD_SET_CONFIG: apply every setting or none; the config now in force."""
    if not settings:
        raise ValueError("no settings to apply")
    attrs = {Attr.CONFIG.name: config_attr(settings)}
    reply = _one_reply(Cmd.SET_CONFIG, request(Cmd.SET_CONFIG, attrs))
    return config_from_msg(reply, "SET_CONFIG reply")


def stats(pid: int | None = None) -> Stats:
    """HAGENT_CMD_STATS: totals and every target, or only ``pid``."""
    attrs = {Attr.PID.name: pid} if pid is not None else {}
    return stats_from_msg(_one_reply(Cmd.STATS, request(Cmd.STATS, attrs)))


def subscribe_events() -> Iterator[EventInfo]:
    """Yield HAGENT_CMD_EVENT messages from the "events" group until closed."""
    sock = open_socket()
    try:
        if MCGRP_EVENTS not in sock.mcast_groups:
            raise HagentError(f"the module has no '{MCGRP_EVENTS}' multicast group", _CONTRACT_HINT)
        sock.add_membership(MCGRP_EVENTS)
        while True:
            for msg in sock.get():
                if msg["cmd"] == Cmd.EVENT:
                    yield event_from_msg(msg)
    finally:
        sock.close()
