# SPDX-License-Identifier: GPL-2.0
"""`make demo`, run inside the guest: load hagent, hand it a hot-set workload,
watch the hot set move into the fast tier.

The workload (scripts/hotset.c) maps 512 MiB on the slow node (node 1, no
CPUs) and spends 90% of its updates in a 64 MiB hot set.  Once it is
managed, hagentd samples accessed bits, promotes the hottest folios into
free memory on node 0 and exchanges them with its coldest; every few seconds
the demo prints the hot set's share on node 0 as the workload measures it
(move_pages), and a few frames of `hagentctl top`.  Automatic NUMA balancing
is switched off so that every page moved is hagent's doing.  Stops at the
first failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from hagent.cli import app
from tests.vm.bench_placement import HOTSET, Workload
from tests.vm.bench_systems import set_numa_balancing

REGION_MIB, HOT_MIB, SECONDS = 512, 64, 60


def step(title: str, *argv: str) -> None:
    print(f"\n$ {' '.join(argv)}    # {title}", flush=True)
    if argv[0] != "hagentctl":
        subprocess.run(argv, check=True)
        return
    # hagentctl in this interpreter: the same entry point as the installed
    # command, without a new Python start (10-20 s each under TCG).
    try:
        app(list(argv[1:]), prog_name="hagentctl")
    except SystemExit as e:
        if e.code:
            raise subprocess.CalledProcessError(int(e.code), argv) from None


def bar(share: float, width: int = 40) -> str:
    n = round(share * width)
    return "#" * n + "." * (width - n)


def main() -> int:
    ko = os.environ["HAGENT_KO"]
    set_numa_balancing(0)
    try:
        step("two NUMA nodes: node 1 has no CPUs, the slow tier", "numactl", "-H")
        step("load the module built for this kernel", "hagentctl", "load", "--ko", ko)
        step("what hagent sees", "hagentctl", "status")
        w = Workload(
            [
                str(HOTSET),
                f"--region-mib={REGION_MIB}",
                f"--hot-mib={HOT_MIB}",
                f"--duration={SECONDS}",
                "--slow-node=1",
                "--fast-node=0",
                # 4 KiB pages: with THPs (hotset's default, as the kernel is
                # configured) hagent does not yet rank huge pages (README)
                "--no-thp",
                "--ready-wait",
            ]
        )
        w.wait_ready()
        print(
            f"\n# hotset {w.pid}: {REGION_MIB} MiB on node 1 (slow), 90% of updates "
            f"in a {HOT_MIB} MiB hot set, for {SECONDS} s"
        )
        step("manage it", "hagentctl", "enable", "--pid", str(w.pid))
        w.go()
        frames = [40, 15]  # seconds into the run, popped from the end
        start = time.monotonic()
        shown = 0
        while w.running():
            time.sleep(1)
            # Every second's line for the first ten (the climb), then every
            # fifth; none skipped when several arrive at once.
            while len(w.samples) >= shown + (1 if shown < 10 else 5):
                shown += 1 if shown < 10 else 5
                s = w.samples[shown - 1]
                print(
                    f"t={s['elapsed']:5.1f}s  hot set on the fast node "
                    f"{bar(s['hot_fast_share'])} {s['hot_fast_share']:6.1%}   "
                    f"(whole region {s['region_fast_share']:5.1%})",
                    flush=True,
                )
            if frames and time.monotonic() - start >= frames[-1]:
                frames.pop()
                step("the dashboard, one frame", "hagentctl", "top", "--once", "--interval", "1")
        w.finish(timeout=60)
        best = max((s["hot_fast_share"] for s in w.samples), default=0.0)
        print(f"\n# the hot set's share on the fast node reached {best:.1%}")
        step("what it cost and what moved", "hagentctl", "stats")
        step("unload: every folio goes back to the kernel", "hagentctl", "unload")
    except subprocess.CalledProcessError as e:
        print(f"demo: `{' '.join(e.cmd)}` failed ({e.returncode})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
