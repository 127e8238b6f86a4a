# SPDX-License-Identifier: GPL-2.0
"""Drives tests/vm/progs/memhog.c, and measures what the kernel says a process has."""

from __future__ import annotations

import ctypes
import os
import re
import select
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
MEMHOG = TOP / "build" / "progs" / "memhog"


class Memhog:
    """A process with MIB MiB of private anonymous memory, steered line by line."""

    def __init__(
        self, mib: int, thp: bool = False, node: int | None = None, cgroup: Path | None = None
    ) -> None:
        self.mib = mib
        argv = [str(MEMHOG), str(mib), "thp" if thp else "nothp"]
        if node is not None:
            argv = ["numactl", f"--membind={node}", *argv]
        if cgroup is not None:
            # Joins the cgroup before exec, so every page it maps is charged there.
            argv = ["sh", "-c", f'echo $$ > {cgroup}/cgroup.procs && exec "$@"', "sh", *argv]
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        line = self._readline()
        assert line.startswith("ready"), line
        self.addr = int(line.split()[1], 16)  # start of the region

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _readline(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line:
            raise AssertionError(f"memhog {self.pid} died (exit {self.proc.poll()})")
        return line

    def do(self, command: str, timeout: float | None = None) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        if timeout is not None and not select.select([self.proc.stdout], [], [], timeout)[0]:
            raise AssertionError(f"memhog {self.pid}: {command} took more than {timeout} s")
        reply = self._readline()
        assert reply.startswith("ok"), f"{command}: {reply}"
        return reply

    def hot(
        self,
        off_mib: int,
        mib: int,
        sec: float,
        until: Callable[[], bool] | None = None,
        every: float = 1.0,
    ) -> bool:
        """Keeps writing [off_mib, off_mib + mib) MiB for @sec s -- or, with
        @until, only until until() holds, asked every @every s while the
        writes go on.  Returns whether until() held (True without @until):
        a test waits for placement as long as it takes, never longer."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if until is None:
            self.do(f"hot {off_mib} {mib} {int(sec)}", timeout=sec + 60)
            return True
        self.proc.stdin.write(f"hot {off_mib} {mib} {int(sec)}\n")
        self.proc.stdin.flush()
        while not select.select([self.proc.stdout], [], [], every)[0]:
            if until():
                self.proc.stdin.write("stop\n")
                self.proc.stdin.flush()
                break
        reply = self._readline()
        assert reply.startswith("ok"), f"hot: {reply}"
        return until()

    def exit(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("exit\n")
            self.proc.stdin.flush()
        self.proc.wait(timeout=60)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=60)


def private_anon_pages(pid: int) -> int:
    """Resident pages of the process's own in its anonymous, private VMAs.

    What hagent manages: file-backed VMAs (their COW pages included),
    shared, locked and special mappings are not counted, and neither are
    pages still shared with a forked child (Shared_*).
    """
    total_kb = 0
    for vma in _smaps(pid):
        path = vma["path"]
        if vma["perms"][3] == "p" and path in ("", "[heap]", "[stack]") and not vma["Locked"]:
            total_kb += min(vma["Anonymous"], vma["Private_Clean"] + vma["Private_Dirty"])
    return total_kb // 4


def anon_pages(pid: int) -> int:
    """Resident anonymous pages in anonymous private VMAs, shared or not:
    what hagent's scan looks at (each is managed or skipped for a reason)."""
    total_kb = 0
    for vma in _smaps(pid):
        if vma["perms"][3] == "p" and vma["path"] in ("", "[heap]", "[stack]"):
            total_kb += vma["Anonymous"]
    return total_kb // 4


def _smaps(pid: int) -> list[dict[str, str | int]]:
    vmas: list[dict[str, str | int]] = []
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            vmas.append({"perms": head[1], "path": head[5] if len(head) > 5 else ""})
        elif head[0].endswith(":") and len(head) >= 2 and head[1].isdigit():
            vmas[-1][head[0][:-1]] = int(head[1])
    return vmas


_KPF = {
    5: "lru",
    12: "anon",
    13: "swapcache",
    15: "head",
    16: "tail",
    18: "unevictable",
    21: "ksm",
    22: "thp",
}


def unaccounted(pid: int, limit: int = 4) -> str:
    """Which present pages of @pid's anonymous private VMAs hagent does not
    manage: a count per (page flags, mapcount, exclusive) and a few
    addresses of each, for a test's failure message."""
    managed: set[int] = set()
    for line in Path("/sys/kernel/debug/hagent/entries").read_text().splitlines():
        p, addr, order, _tier, _hot = line.split()
        if int(p) == pid:
            base = int(addr, 16) >> 12
            managed.update(range(base, base + (1 << int(order))))
    kinds: dict[str, list[int]] = {}
    with (
        open(f"/proc/{pid}/pagemap", "rb") as pm,
        open("/proc/kpageflags", "rb") as kf,
        open("/proc/kpagecount", "rb") as kc,
    ):
        for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
            head = line.split()
            if head[1][3] != "p" or (len(head) > 5 and head[5] not in ("[heap]", "[stack]")):
                continue
            lo, hi = (int(x, 16) >> 12 for x in head[0].split("-"))
            pm.seek(lo * 8)
            raw = pm.read((hi - lo) * 8)
            for i in range(hi - lo):
                ent = int.from_bytes(raw[i * 8 : i * 8 + 8], "little")
                if not ent >> 63 & 1 or lo + i in managed:
                    continue
                pfn = ent & ((1 << 55) - 1)
                kf.seek(pfn * 8)
                flags = int.from_bytes(kf.read(8), "little")
                kc.seek(pfn * 8)
                count = int.from_bytes(kc.read(8), "little")
                names = [n for bit, n in _KPF.items() if flags >> bit & 1]
                key = f"{'|'.join(names) or '-'} mapcount={count} excl={ent >> 56 & 1}"
                kinds.setdefault(key, []).append((lo + i) << 12)
    if not kinds:
        return "every present page is managed"
    return "; ".join(
        f"{len(a)} x {k} at {', '.join(hex(x) for x in a[:limit])}" for k, a in kinds.items()
    )


def node_free_kb() -> dict[int, int]:
    """Free memory per node, the per-CPU free lists included (MemFree is not)."""
    Path("/proc/sys/vm/drop_caches").write_text("3\n")
    out: dict[int, int] = {}
    node = -1
    for line in Path("/proc/zoneinfo").read_text().splitlines():
        words = line.split()
        if line.startswith("Node "):
            node = int(words[1].rstrip(","))
            out.setdefault(node, 0)
        elif words[:2] == ["pages", "free"] or words[:1] == ["count:"]:
            out[node] += int(words[-1]) * 4
    return out


def entries(pid: int) -> dict[int, tuple[str, int]]:
    """vaddr -> (tier, hot) of every managed folio of @pid."""
    out = {}
    for line in Path("/sys/kernel/debug/hagent/entries").read_text().splitlines():
        p, addr, _order, tier, hot = line.split()
        if int(p) == pid:
            out[int(addr, 16)] = (tier, int(hot))
    return out


_SYS_MOVE_PAGES = 279  # x86-64
_libc = ctypes.CDLL(None, use_errno=True)


def move_pages(pid: int, addrs: list[int], node: int | None) -> list[int]:
    """move_pages(2) on @pid's @addrs: to @node, or (None) only ask where they
    are.  Returns each page's node, or a negative errno for that page."""
    n = len(addrs)
    pages = (ctypes.c_void_p * n)(*addrs)
    status = (ctypes.c_int * n)()
    nodes = (ctypes.c_int * n)(*([node] * n)) if node is not None else None
    rc = _libc.syscall(_SYS_MOVE_PAGES, pid, n, pages, nodes, status, 0)
    if rc < 0:
        raise OSError(ctypes.get_errno(), f"move_pages({pid})")
    return list(status)


def pages_on_node(pid: int, addr: int, mib: int, node: int) -> float:
    """Share of the pages of [addr, addr + mib MiB) that are on @node."""
    addrs = [addr + i * 4096 for i in range((mib << 20) // 4096)]
    where = move_pages(pid, addrs, None)
    return sum(w == node for w in where) / len(where)
