# SPDX-License-Identifier: GPL-2.0
"""`make demo`, run inside the guest: load hagent, hand it a process, watch.

A process with 256 MiB on the slow node is managed; it then keeps writing a
32 MiB hot set while hagentd samples accessed bits, and `stats` shows the
managed pages per tier, the samples per source and the ranking's view.
Placement (moving the hot set into the fast tier, the live dashboard) is
not built yet; this script grows with it.  Stops at the first failure.
"""

from __future__ import annotations

import os
import subprocess
import sys

from hagent.cli import app
from tests.vm.memhog import Memhog, entries


def hot_set_rank(hog: Memhog) -> float:
    """Share of the hottest 32 MiB worth of pages that are in the hot set."""
    heat = entries(hog.pid)
    top = sorted(heat, key=lambda a: heat[a][1], reverse=True)[: (32 << 20) // 4096]
    return sum(hog.addr <= a < hog.addr + (32 << 20) for a in top) / max(len(top), 1)


def step(title: str, *argv: str) -> None:
    print(f"\n$ {' '.join(argv)}    # {title}", flush=True)
    if argv[0] != "hagentctl":
        subprocess.run(argv, check=True)
        return
    # hagentctl in this interpreter: the same entry point as the installed
    # command, without a new Python start (about 30 s each under TCG).
    try:
        app(list(argv[1:]), prog_name="hagentctl")
    except SystemExit as e:
        if e.code:
            raise subprocess.CalledProcessError(int(e.code), argv) from None


def main() -> int:
    ko = os.environ["HAGENT_KO"]
    try:
        step("two NUMA nodes: node 1 has no CPUs, the slow tier", "numactl", "-H")
        step("load the module built for this kernel", "hagentctl", "load", "--ko", ko)
        step("what hagent sees", "hagentctl", "status")
        hog = Memhog(256, node=1)
        print(f"\n# memhog {hog.pid}: 256 MiB of private anonymous memory on node 1 (slow)")
        step("manage it", "hagentctl", "enable", "--pid", str(hog.pid))
        print("\n# it writes a 32 MiB hot set for 10 s while hagentd samples accessed bits")
        hog.do("hot 0 32 10")
        step("managed pages, samples per source, bias", "hagentctl", "stats", "--pid", str(hog.pid))
        hottest = hot_set_rank(hog)
        print(f"\n# of the 8192 hottest managed pages, {hottest:.0%} lie in the hot set")
        step("stop managing: every page goes back", "hagentctl", "disable", "--pid", str(hog.pid))
        hog.exit()
        step("unload", "hagentctl", "unload")
    except subprocess.CalledProcessError as e:
        print(
            f"demo: step failed: {' '.join(map(str, e.cmd))} (exit {e.returncode})", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
