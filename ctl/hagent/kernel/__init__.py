"""The kernel layer: every socket, libkmod call and file under /sys or /proc.

Commands talk to a ``Kernel``; ``RealKernel`` composes genl.py (netlink),
kmodlib.py (libkmod), debugfs.py and kmsg.py (the log).  Host tests
substitute a fake through the CLI's state object (see hagent.commands.State).
"""

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import hagent.kernel.bare_pyroute2  # noqa: F401  (first: before genl.py imports pyroute2)
from hagent.kernel import cgroupfs, debugfs, genl, kmodlib, kmsg
from hagent.kernel.debugfs import Counters
from hagent.kernel.genl import EventInfo, NodeInfo, SamplerInfo, Stats, Status, Target

__all__ = [
    "Counters",
    "EventInfo",
    "Kernel",
    "NodeInfo",
    "RealKernel",
    "SamplerInfo",
    "Stats",
    "Status",
    "Target",
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

    def dmesg(self) -> str:
        """The kernel log buffer as ``dmesg -r`` prints it (``<level>[ seconds] text``)."""
        ...

    def enable(
        self, pid: int, fast: str | None = None, slow: str | None = None, follow: bool = False
    ) -> Target:
        """Manage ``pid``; ``fast``/``slow`` are node lists (None: the module's default);
        ``follow``: every process it forks from now on too, and itself after exec."""
        ...

    def disable(self, pid: int) -> None:
        """Stop managing ``pid``, giving every folio back."""
        ...

    def cgroup_id(self, path: str) -> tuple[Path, int]:
        """A cgroup v2 directory named by ``path``, and its id."""
        ...

    def cgroup_path(self, cgroup: int) -> Path | None:
        """The directory of the cgroup v2 with id ``cgroup``, if it still exists."""
        ...

    def enable_cgroup(
        self, cgroup: int, fast: str | None = None, slow: str | None = None
    ) -> list[Target]:
        """Manage every process in cgroup ``cgroup`` (an id), and every one that
        starts there or moves in; the targets it has now."""
        ...

    def disable_cgroup(self, cgroup: int) -> None:
        """Stop managing cgroup ``cgroup``: its processes' folios go back."""
        ...

    def stats(self, pid: int | None = None) -> Stats:
        """Counters in total and per target (only ``pid``'s when given)."""
        ...

    def inject(self, pid: int, samples: Sequence[tuple[int, int, bool]], repeat: int = 1) -> None:
        """Feed (addr, count, is_store) access samples to managed ``pid``, ``repeat`` times."""
        ...

    def debug_fail(self, pid: int) -> None:
        """Make a fail-safe check fail for ``pid`` (module loaded with debug_commands=1)."""
        ...

    def get_config(self) -> dict[str, int]:
        """Every tunable and its value, in the module's order (kmod/hagent/config.c)."""
        ...

    def set_config(self, settings: Mapping[str, int]) -> dict[str, int]:
        """Apply every setting or none (a bad name or value changes nothing).

        Returns the whole config now in force, as get_config().
        """
        ...


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

    def dmesg(self) -> str:
        return kmsg.read()

    def enable(
        self, pid: int, fast: str | None = None, slow: str | None = None, follow: bool = False
    ) -> Target:
        return genl.enable(pid, fast, slow, follow)

    def disable(self, pid: int) -> None:
        genl.disable(pid)

    def cgroup_id(self, path: str) -> tuple[Path, int]:
        return cgroupfs.resolve(path)

    def cgroup_path(self, cgroup: int) -> Path | None:
        return cgroupfs.path_of(cgroup)

    def enable_cgroup(
        self, cgroup: int, fast: str | None = None, slow: str | None = None
    ) -> list[Target]:
        return genl.enable_cgroup(cgroup, fast, slow)

    def disable_cgroup(self, cgroup: int) -> None:
        genl.disable_cgroup(cgroup)

    def stats(self, pid: int | None = None) -> Stats:
        return genl.stats(pid)

    def inject(self, pid: int, samples: Sequence[tuple[int, int, bool]], repeat: int = 1) -> None:
        genl.inject(pid, samples, repeat)

    def debug_fail(self, pid: int) -> None:
        genl.debug_fail(pid)

    def get_config(self) -> dict[str, int]:
        return genl.get_config()

    def set_config(self, settings: Mapping[str, int]) -> dict[str, int]:
        return genl.set_config(settings)
