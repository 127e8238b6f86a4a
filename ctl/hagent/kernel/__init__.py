"""The kernel layer: every socket, libkmod call and file under /sys or /proc.

Commands talk to a ``Kernel``; ``RealKernel`` composes genl.py (netlink),
kmodlib.py (libkmod) and debugfs.py.  Host tests substitute a fake through the
CLI's state object (see hagent.commands.State).
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from hagent.kernel import debugfs, genl, kmodlib
from hagent.kernel.debugfs import Counters
from hagent.kernel.genl import EventInfo, NodeInfo, SamplerInfo, Status

__all__ = [
    "Counters",
    "EventInfo",
    "Kernel",
    "NodeInfo",
    "RealKernel",
    "SamplerInfo",
    "Status",
    "repo_root",
]


class Kernel(Protocol):
    """What the commands may ask of the kernel."""

    def built_module(self) -> Path | None:
        """The hagent.ko this repository built for the running kernel, if any."""
        ...

    def load(self, ko: Path | None, params: str) -> str:
        """Insert hagent from ``ko`` (None: by name from /lib/modules).

        ``params`` is the kernel's parameter string; returns the file loaded.
        """
        ...

    def unload(self) -> None: ...

    def is_loaded(self) -> bool: ...

    def refcount(self) -> int | None: ...

    def status(self) -> Status: ...

    def debugfs_counters(self) -> Counters: ...

    def events(self) -> Iterator[EventInfo]: ...


def repo_root() -> Path | None:
    """The source tree this package runs from (editable install), if any."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "kmod" / "hagent").is_dir() else None


class RealKernel:
    """The running kernel, through netlink, libkmod and debugfs."""

    def built_module(self) -> Path | None:
        root = repo_root()
        if root is None:
            return None
        ko = root / "build" / os.uname().release / "kmod" / "hagent" / "hagent.ko"
        return ko if ko.is_file() else None

    def load(self, ko: Path | None, params: str) -> str:
        return kmodlib.insert(ko, params)

    def unload(self) -> None:
        kmodlib.remove()

    def is_loaded(self) -> bool:
        return kmodlib.initstate() is not None

    def refcount(self) -> int | None:
        return kmodlib.refcount()

    def status(self) -> Status:
        return genl.status()

    def debugfs_counters(self) -> Counters:
        return debugfs.read_counters()

    def events(self) -> Iterator[EventInfo]:
        return genl.subscribe_events()
