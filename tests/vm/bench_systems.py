# SPDX-License-Identifier: GPL-2.0
"""The systems scripts/bench-placement compares, set up in the guest.

Each system is what a user of a tiered machine could run instead of (or as)
hagent, configured from the kernel's own interfaces:

  baseline  nothing moves pages (numa_balancing=0)
  autonuma  NUMA balancing toward the CPUs' node (numa_balancing=1)
  tpp       the kernel's memory tiering: numa_balancing=2 promotes on hint
            faults, /sys/kernel/mm/numa/demotion_enabled=1 lets reclaim
            (kswapd) demote to the lower tier.  Needs node 1 in a lower
            memory tier than node 0: checked before the run counts
  damon     DAMON-based tiering as the kernel's samples/damon/mtier.c does
            it: two kdamonds on the physical address ranges of the two
            nodes, DAMOS migrate_cold from node 0 to 1 and migrate_hot from
            node 1 to 0, 200 MiB/s quotas, young-page filters (6.11+)
  hagent    hagent.ko, the workloads enabled by pid

A system goes through prepare() before the workloads are placed (checks,
module load), start(pids) once they are placed, stop() at the end; a check
that fails raises Unavailable with the reason, which the run records instead
of figures.  workers() names the kernel threads whose CPU time is the
system's cost; kswapd is counted for every system (TPP demotes there).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

FAST_NODE, SLOW_NODE = 0, 1
SYSTEMS = ("baseline", "autonuma", "tpp", "damon", "hagent")

NUMA_BALANCING = Path("/proc/sys/kernel/numa_balancing")
DEMOTION = Path("/sys/kernel/mm/numa/demotion_enabled")
TIERS = Path("/sys/devices/virtual/memory_tiering")
NODES = Path("/sys/devices/system/node")
MEMORY = Path("/sys/devices/system/memory")
KDAMONDS = Path("/sys/kernel/mm/damon/admin/kdamonds")
# DAMON_STAT (6.17+): a built-in kdamond that monitors all memory for its
# statistics, started at boot where CONFIG_DAMON_STAT_ENABLED_DEFAULT=y
# (Debian's 7.3), and exclusively: damon_start() then refuses every other
# context with EBUSY, the sysfs interface's too.
DAMON_STAT = Path("/sys/module/damon_stat/parameters/enabled")

# samples/damon/mtier.c's monitoring and scheme values (Linux 6.15), less
# its quota goals on node utilisation, which 6.12 does not have.
DAMON_SAMPLE_US, DAMON_AGGR_US, DAMON_UPDATE_US = 5_000, 100_000, 60_000_000
DAMON_REGIONS = (10, 1000)
DAMON_APPLY_US = 1_000_000
DAMON_QUOTA_BYTES, DAMON_QUOTA_RESET_MS = 200 << 20, 1000
UINT_MAX, ULONG_MAX = 2**32 - 1, 2**64 - 1


class Unavailable(Exception):
    """This system cannot run here; the message says why."""


def _write(path: Path, value: object) -> None:
    path.write_text(f"{value}\n")


def _read(path: Path) -> str:
    return path.read_text().strip()


def node_tiers() -> dict[int, int]:
    """Memory tier number of each node (a lower number is a faster tier), from
    /sys/devices/virtual/memory_tiering/memory_tier<N>/nodelist."""
    out: dict[int, int] = {}
    for d in TIERS.glob("memory_tier*"):
        tier = int(d.name.removeprefix("memory_tier"))
        for part in _read(d / "nodelist").split(","):
            if not part:
                continue
            lo, _, hi = part.partition("-")
            for nid in range(int(lo), int(hi or lo) + 1):
                out[nid] = tier
    return out


def check_tiers(tiers: dict[int, int]) -> None:
    """Raises Unavailable unless the slow node sits in a lower tier than the fast one."""
    fast, slow = tiers.get(FAST_NODE), tiers.get(SLOW_NODE)
    if fast is None or slow is None:
        raise Unavailable(f"no memory tiers for nodes {FAST_NODE} and {SLOW_NODE} ({tiers})")
    if slow <= fast:
        raise Unavailable(
            f"node {SLOW_NODE} is not in a lower memory tier than node {FAST_NODE} "
            f"(memory_tier{slow} vs memory_tier{fast}): nothing to demote to"
        )


def node_range(nid: int) -> tuple[int, int]:
    """[start, end) physical address span of @nid's memory blocks."""
    block = int(_read(MEMORY / "block_size_bytes"), 16)
    ids = [int(m.group(1)) for p in (NODES / f"node{nid}").iterdir()
           if (m := re.fullmatch(r"memory(\d+)", p.name))]  # fmt: skip
    if not ids:
        raise Unavailable(f"node {nid} has no memory blocks")
    return min(ids) * block, (max(ids) + 1) * block


def thread_pids(prefixes: tuple[str, ...]) -> dict[str, int]:
    """comm -> pid of the threads whose comm starts with one of @prefixes."""
    out: dict[str, int] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            comm = (d / "comm").read_text().strip()
        except OSError:
            continue
        if comm.startswith(prefixes):
            out[comm] = int(d.name)
    return out


class System:
    name = ""
    about = ""
    numa_balancing = 0
    workers: tuple[str, ...] = ("kswapd",)

    def prepare(self) -> None:
        """Checks and set-up before the workloads are placed."""

    def start(self, pids: list[int]) -> None:
        """Turns the system on for the placed workloads."""

    def stop(self) -> None:
        """Turns it off again; safe to call after a failed start."""

    def counters(self) -> dict[str, Any]:
        """The system's own account of what it did (at the end of the run)."""
        return {}

    def status(self) -> dict[str, Any]:
        """What the run should record about the set-up."""
        return {}


class Baseline(System):
    name, about = "baseline", "nothing moves pages"


class AutoNuma(System):
    name, about = "autonuma", "NUMA balancing (numa_balancing=1)"
    numa_balancing = 1


class Tpp(System):
    name = "tpp"
    about = "kernel tiering: numa_balancing=2, demotion_enabled=1"
    numa_balancing = 2

    def __init__(self) -> None:
        self._demotion: str | None = None
        self.tiers: dict[int, int] = {}

    def prepare(self) -> None:
        if not DEMOTION.exists():
            raise Unavailable(f"{DEMOTION} is missing: this kernel cannot demote")
        self.tiers = node_tiers()
        check_tiers(self.tiers)

    def start(self, pids: list[int]) -> None:
        self._demotion = _read(DEMOTION)
        _write(DEMOTION, "true")

    def stop(self) -> None:
        if self._demotion is not None:
            _write(DEMOTION, self._demotion)

    def status(self) -> dict[str, Any]:
        return {"tiers": self.tiers, "demotion_enabled": _read(DEMOTION)}


class Damon(System):
    name = "damon"
    about = "DAMON: migrate_cold node 0 -> 1, migrate_hot node 1 -> 0"
    workers = ("kswapd", "kdamond")

    def __init__(self) -> None:
        self.ranges: dict[int, tuple[int, int]] = {}
        self.started = False
        self.stat_was_on = False

    def prepare(self) -> None:
        if not KDAMONDS.exists():
            raise Unavailable(f"{KDAMONDS} is missing: no DAMON sysfs interface in this kernel")
        if _read(KDAMONDS / "nr_kdamonds") != "0":
            raise Unavailable("DAMON is already in use (nr_kdamonds is not 0)")
        self.ranges = {nid: node_range(nid) for nid in (FAST_NODE, SLOW_NODE)}
        # DAMON_STAT holds DAMON exclusively: off while the peer runs, back on after.
        if DAMON_STAT.exists() and _read(DAMON_STAT) == "Y":
            _write(DAMON_STAT, "N")
            self.stat_was_on = True

    def _scheme(self, d: Path, promote: bool) -> None:
        _write(d / "action", "migrate_hot" if promote else "migrate_cold")
        _write(d / "target_nid", FAST_NODE if promote else SLOW_NODE)
        _write(d / "apply_interval_us", DAMON_APPLY_US)
        ap = d / "access_pattern"
        for key, lo, hi in (
            ("sz", 4096, ULONG_MAX),
            ("nr_accesses", 1 if promote else 0, UINT_MAX if promote else 0),
            ("age", 0, UINT_MAX),
        ):
            _write(ap / key / "max", hi)
            _write(ap / key / "min", lo)
        q = d / "quotas"
        _write(q / "bytes", DAMON_QUOTA_BYTES)
        _write(q / "reset_interval_ms", DAMON_QUOTA_RESET_MS)
        for key, permil in (("sz_permil", 0), ("nr_accesses_permil", 100), ("age_permil", 100)):
            _write(q / "weights" / key, permil)
        _write(d / "watermarks" / "metric", "none")
        # 6.12 filters exclude what matches: promote only young pages, demote
        # only pages that are not young.
        _write(d / "filters" / "nr_filters", 1)
        _write(d / "filters" / "0" / "type", "young")
        _write(d / "filters" / "0" / "matching", "N" if promote else "Y")

    def _context(self, k: Path, promote: bool) -> None:
        _write(k / "contexts" / "nr_contexts", 1)
        c = k / "contexts" / "0"
        try:
            _write(c / "operations", "paddr")
        except OSError as e:
            raise Unavailable(f"DAMON has no paddr operations: {e}") from e
        iv = c / "monitoring_attrs" / "intervals"
        _write(iv / "sample_us", DAMON_SAMPLE_US)
        _write(iv / "aggr_us", DAMON_AGGR_US)
        _write(iv / "update_us", DAMON_UPDATE_US)
        nr = c / "monitoring_attrs" / "nr_regions"
        _write(nr / "max", DAMON_REGIONS[1])
        _write(nr / "min", DAMON_REGIONS[0])
        _write(c / "targets" / "nr_targets", 1)
        _write(c / "targets" / "0" / "regions" / "nr_regions", 1)
        start, end = self.ranges[SLOW_NODE if promote else FAST_NODE]
        region = c / "targets" / "0" / "regions" / "0"
        _write(region / "start", start)
        _write(region / "end", end)
        _write(c / "schemes" / "nr_schemes", 1)
        try:
            self._scheme(c / "schemes" / "0", promote)
        except OSError as e:
            raise Unavailable(
                f"DAMOS migrate_hot/migrate_cold or young filters missing: {e}"
            ) from e

    def start(self, pids: list[int]) -> None:
        _write(KDAMONDS / "nr_kdamonds", 2)
        self._context(KDAMONDS / "0", promote=True)
        self._context(KDAMONDS / "1", promote=False)
        for k in ("0", "1"):
            _write(KDAMONDS / k / "state", "on")
        self.started = True
        for k in ("0", "1"):
            if _read(KDAMONDS / k / "state") != "on" or _read(KDAMONDS / k / "pid") == "-1":
                raise RuntimeError(f"kdamond {k} did not start")

    def stop(self) -> None:
        if not KDAMONDS.exists():
            return
        for k in sorted(p.name for p in KDAMONDS.iterdir() if p.name.isdigit()):
            if _read(KDAMONDS / k / "state") != "off":
                _write(KDAMONDS / k / "state", "off")
        _write(KDAMONDS / "nr_kdamonds", 0)
        if self.stat_was_on:
            _write(DAMON_STAT, "Y")
            self.stat_was_on = False

    def counters(self) -> dict[str, Any]:
        """Each scheme's DAMOS statistics, by action."""
        if not self.started:
            return {}
        out: dict[str, Any] = {}
        for k in ("0", "1"):
            kd = KDAMONDS / k
            if _read(kd / "state") == "on":
                _write(kd / "state", "update_schemes_stats")
            s = kd / "contexts" / "0" / "schemes" / "0"
            out[_read(s / "action")] = {
                f: int(_read(s / "stats" / f))
                for f in ("nr_tried", "sz_tried", "nr_applied", "sz_applied", "qt_exceeds")
            }
        return out

    def status(self) -> dict[str, Any]:
        return {"ranges": {str(n): [hex(a), hex(b)] for n, (a, b) in self.ranges.items()}}


class Hagent(System):
    name, about = "hagent", "hagent.ko manages the workloads"
    workers = ("kswapd", "hagentd")

    def __init__(self, ctl: Callable[..., str], params: list[str]) -> None:
        self.ctl = ctl
        self.params = params
        self.loaded = False

    def prepare(self) -> None:
        self.ctl("load", "--ko", os.environ["HAGENT_KO"], *self.params)
        self.loaded = True

    def start(self, pids: list[int]) -> None:
        for pid in pids:
            self.ctl("enable", "--pid", str(pid))

    def stop(self) -> None:
        if self.loaded and Path("/sys/module/hagent").exists():
            self.ctl("unload")
        self.loaded = False


def make(
    name: str, ctl: Callable[..., str] | None = None, params: list[str] | None = None
) -> System:
    if name == "hagent":
        if ctl is None:
            raise ValueError("hagent needs hagentctl")
        return Hagent(ctl, params or [])
    table: dict[str, type[System]] = {
        "baseline": Baseline, "autonuma": AutoNuma, "tpp": Tpp, "damon": Damon,
    }  # fmt: skip
    return table[name]()


def set_numa_balancing(value: int) -> int | None:
    """Sets the sysctl, returns the old value (None where the kernel has none).
    Leaves it alone when it already has @value: a write that turns NUMA
    balancing on or off patches a static key into running text, which QEMU's
    multi-threaded TCG does not keep safe (tests/vm/run.py)."""
    if not NUMA_BALANCING.exists():
        return None
    old = int(_read(NUMA_BALANCING))
    if old != value:
        _write(NUMA_BALANCING, value)
    return old
