"""Generic netlink to the hagent module: the only code that opens its socket.

The message classes are built from hagent.uapi, which test_uapi.py checks
against kmod/hagent/uapi/hagent.h; the attribute types below follow the comment
block of that header.  Replies are turned into plain dicts (TypedDicts) here,
so nothing above this layer sees pyroute2 objects.
"""

import errno
import os
from collections.abc import Iterator, Mapping
from enum import IntEnum
from typing import Any, TypedDict

from pyroute2.netlink import NLM_F_REQUEST, genlmsg, nla
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.generic import AsyncGenericNetlinkSocket, GenericNetlinkSocket

from hagent.errors import HagentError
from hagent.uapi import (
    GENL_NAME,
    GENL_VERSION,
    MCGRP_EVENTS,
    Attr,
    Cmd,
    NodeAttr,
    SamplerAttr,
    event_name,
    feature_names,
    tier_name,
)


class SamplerInfo(TypedDict):
    name: str
    available: bool
    reason: str | None  # None when the module gives no reason (or an empty one)


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


class EventInfo(TypedDict):
    type: str
    pid: int
    msg: str


# pyroute2 type of every attribute, per attribute space, from the comment
# block in uapi/hagent.h.  A SAMPLER/NODE nest reuses its own space
# ('recursive').  Keyed by name: members of different IntEnums compare equal.
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
    },
    SamplerAttr: {
        "SAMPLER_UNSPEC": "none",
        "SAMPLER": "recursive|nested",
        "SAMPLER_NAME": "asciiz",
        "SAMPLER_AVAILABLE": "uint8",
        "SAMPLER_REASON": "asciiz",
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
}

ATTR_PREFIX = "HAGENT_A_"


def build_nla_map(space: type[IntEnum]) -> tuple[tuple[int, str, str], ...]:
    """The pyroute2 nla_map of one attribute space, with the header's C names.

    Raises KeyError at import time when uapi.py grows an attribute that has no
    type here, so a new attribute cannot be silently ignored.
    """
    types = _ATTR_TYPES[space]
    return tuple((int(a), ATTR_PREFIX + a.name, types[a.name]) for a in space)


class hagentmsg(genlmsg):  # type: ignore[misc]  # noqa: N801 (pyroute2 naming)
    """A message of the hagent family (every command shares one attr space)."""

    prefix = ATTR_PREFIX
    nla_map = build_nla_map(Attr)

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
        samplers.append(
            {
                "name": str(_required(s, SamplerAttr.SAMPLER_NAME.name, what)),
                "available": bool(_required(s, SamplerAttr.SAMPLER_AVAILABLE.name, what)),
                "reason": str(reason) if reason else None,
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
        "version": str(_required(msg, Attr.VERSION.name, what)),
        "kernel": str(_required(msg, Attr.KERNEL.name, what)),
        "features": feature_names(int(_required(msg, Attr.FEATURES.name, what))),
        "nr_targets": int(_required(msg, Attr.NR_TARGETS.name, what)),
        "samplers": samplers,
        "nodes": nodes,
    }


def event_from_msg(msg: Any) -> EventInfo:
    """Decode a HAGENT_CMD_EVENT multicast message."""
    _check_version(msg)
    what = "event"
    return {
        "type": event_name(int(_required(msg, Attr.EVENT_TYPE.name, what))),
        "pid": int(msg.get_attr(ATTR_PREFIX + Attr.EVENT_PID.name) or 0),
        "msg": str(msg.get_attr(ATTR_PREFIX + Attr.EVENT_MSG.name) or ""),
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


def _request_error(cmd: Cmd, err: NetlinkError) -> HagentError:
    code = abs(int(err.code))
    if code in (errno.EPERM, errno.EACCES):
        return HagentError(f"must be root to run {cmd.name} (the module said: permission denied)")
    # args[1] is the extack message when the module gave one, else strerror.
    detail = err.args[1] if len(err.args) > 1 and err.args[1] else os.strerror(code)
    return HagentError(f"{cmd.name} failed: {detail}")


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
            raise HagentError(
                f"hagent module is not loaded (netlink family '{GENL_NAME}' not found)",
                hint="run: hagentctl load",
            ) from err
        raise HagentError(f"cannot resolve netlink family '{GENL_NAME}': {err}") from err
    except BaseException:
        sock.close()
        raise
    return sock


def request(cmd: Cmd, attrs: Mapping[str, Any] | None = None) -> list[Any]:
    """Send one request (NLM_F_REQUEST, no dump) and return the decoded replies."""
    msg = hagentmsg()
    msg["cmd"] = int(cmd)
    msg["version"] = GENL_VERSION
    msg["attrs"] = [[ATTR_PREFIX + k, v] for k, v in (attrs or {}).items()]
    sock = open_socket()
    try:
        return list(sock.nlm_request(msg, msg_type=sock.prid, msg_flags=NLM_F_REQUEST))
    except NetlinkError as err:
        raise _request_error(cmd, err) from err
    finally:
        sock.close()


def status() -> Status:
    """HAGENT_CMD_STATUS: what the module reports about itself and the machine."""
    replies = request(Cmd.STATUS)
    if len(replies) != 1:
        raise HagentError(f"STATUS: expected one reply, got {len(replies)}", _CONTRACT_HINT)
    return status_from_msg(replies[0])


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
