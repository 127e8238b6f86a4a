# SPDX-License-Identifier: GPL-2.0
"""What hagent's overhead probes cost: workloads timed with the probes off and on.

    scripts/bench-probes [--kernels "VER ..."] [--rounds N] [--wall]

On the host this boots a guest per kernel (tests/vm/runner.py) and runs itself
there with --guest; the guest loads hagent and times each workload with the
module parameter probes=0 and probes=1, alternating the order round by round,
and writes bench-probes.json into its results directory.  The host prints one
table per kernel and writes them to results/bench-probes.txt.

Workloads (page faults and munmaps are what the probes sit on):
  fault+munmap, managed      churn: 100 rounds of map 64 pages, write, unmap,
                             in a managed process (every probe fires and counts)
  fault+munmap, unmanaged    the same in a process hagent does not manage (the
                             probes fire and filter it out)
  memhog refault, managed    memhog (64 MiB, managed) drops its first 16 MiB
                             (MADV_DONTNEED) and writes all 64 MiB again

The guest runs with QEMU's -icount shift=0,sleep=off: its clock advances one
nanosecond per instruction executed, so a "ms" below is a million guest
instructions, the same from run to run whatever else loads the host.  That
measures the instructions the probes add (tracepoint calls, the kretprobe's
ftrace entry and return trampoline, the counters), not cache or pipeline
effects.  The guest has one CPU then (6.1 hangs at boot with two under
icount with Debian 12's QEMU 7.2).  --wall times real TCG execution on two
CPUs instead, which swings by 100% and more on a shared host.  hagentd
scans every 10 s (scan_interval_ms) so that its passes do not compete with
the workloads.

The cost is median(on) / median(off) - 1, and min(on) / min(off) - 1; a cost
within the spread of the off runs ((max - min) / median) is noise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
PARAM = Path("/sys/module/hagent/parameters/probes")
NUMA_BALANCING = Path("/proc/sys/kernel/numa_balancing")
RESULT = "bench-probes.json"


def _guest(rounds: int, clock: str, out: Path) -> int:
    from tests.vm.churn import Churn
    from tests.vm.conftest import KO, ctl_json, run_ctl
    from tests.vm.memhog import Memhog

    NUMA_BALANCING.write_text("0\n")  # its hinting faults would be noise
    # hagentd's passes compete for the guest's two CPUs: keep them rare
    run_ctl("load", "--ko", str(KO), "scan_interval_ms=10000")
    managed, unmanaged, hog = Churn(), Churn(), Memhog(64)
    try:
        for pid in (managed.pid, hog.pid):
            ctl_json("enable", "--pid", str(pid))

        def refault() -> int:
            t0 = time.monotonic_ns()
            hog.do("dontneed")
            hog.do("touch")
            return time.monotonic_ns() - t0

        workloads: dict[str, Callable[[], int]] = {
            "fault+munmap, managed": lambda: managed.munmap(100, 64),
            "fault+munmap, unmanaged": lambda: unmanaged.munmap(100, 64),
            "memhog refault, managed": refault,
        }
        for run in workloads.values():  # warm up: code, page tables, allocator
            run()
        ns: dict[str, dict[str, list[int]]] = {w: {"off": [], "on": []} for w in workloads}
        for r in range(rounds):
            for probes in ("off", "on") if r % 2 == 0 else ("on", "off"):
                PARAM.write_text("1\n" if probes == "on" else "0\n")
                for name, run in workloads.items():
                    ns[name][probes].append(run())
        PARAM.write_text("0\n")
        totals = ctl_json("stats")["totals"]
    finally:
        for p in (managed, unmanaged, hog):
            p.exit()
        run_ctl("unload")
    result = {
        "kernel": os.uname().release,
        "clock": clock,
        "rounds": rounds,
        "ns": ns,
        "overhead": {k: v for k, v in totals.items() if k.startswith("overhead.")},
    }
    (out / RESULT).write_text(json.dumps(result, indent=2) + "\n")
    print(report(result))
    return 0


def report(result: dict[str, object]) -> str:
    """The table for one kernel's result."""
    ns = result["ns"]
    assert isinstance(ns, dict)
    lines = [
        f"{result['kernel']}: probes off vs on, {result['rounds']} runs each, "
        + (
            "ms of guest time (icount: 1 ms = 10^6 guest instructions)"
            if result.get("clock") == "icount"
            else "ms of wall time under TCG"
        ),
        f"  {'workload':<25} {'med off':>7} {'med on':>7} {'cost':>7} {'min off':>7}"
        f" {'min on':>7} {'cost':>7} {'spread':>7}",
    ]
    for name, runs in ns.items():
        off, on = statistics.median(runs["off"]), statistics.median(runs["on"])
        off_min, on_min = min(runs["off"]), min(runs["on"])
        spread = (max(runs["off"]) - off_min) / off
        lines.append(
            f"  {name:<25} {off / 1e6:7.1f} {on / 1e6:7.1f} {100 * (on / off - 1):+6.1f}%"
            f" {off_min / 1e6:7.1f} {on_min / 1e6:7.1f} {100 * (on_min / off_min - 1):+6.1f}%"
            f" {100 * spread:6.0f}%"
        )
    ov = result.get("overhead")
    if isinstance(ov, dict) and ov.get("overhead.fault.count"):
        mean = ov["overhead.fault.ns"] / ov["overhead.fault.count"]
        lines.append(
            f"  managed faults timed by the probe: {ov['overhead.fault.count']}, "
            f"mean {mean / 1e3:.1f} µs of guest time"
        )
    return "\n".join(lines)


ICOUNT = "-icount shift=0,sleep=off"


def _host(kernels: list[str], rounds: int, wall: bool) -> int:
    from tests.vm import runner
    from tests.vm.churn import CHURN
    from tests.vm.memhog import MEMHOG

    tables: list[str] = []
    worst = 0
    for kernel in kernels:
        missing = [p for p in (runner.module_path(kernel), CHURN, MEMHOG) if not p.exists()]
        if missing:
            print(f"bench-probes {kernel}: {missing[0]} not built (make module progs)")
            worst = 1
            continue
        print(f"bench-probes {kernel}: booting ...", flush=True)
        r = runner.run(
            kernel,
            f"python -m tests.vm.bench_probes --guest --rounds {rounds}"
            f" --clock {'wall' if wall else 'icount'}",
            name="bench-probes",
            timeout=3600,
            qemu_opts="" if wall else ICOUNT,
            cpus=1 if not wall else 2,
        )
        path = r.outdir / RESULT
        if not r.ok or not path.exists():
            print(f"bench-probes {kernel}: {r.verdict()} (log {r.outdir}/console.log)")
            worst = 1
            continue
        tables.append(report(json.loads(path.read_text())))
        print(tables[-1], flush=True)
    if tables:
        out = runner.RESULTS / "bench-probes.txt"
        out.write_text("\n\n".join(tables) + "\n")
        print(f"written to {out}")
    return worst


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="scripts/bench-probes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--kernels", default="", help="space-separated releases (default: all)")
    p.add_argument("--rounds", type=int, default=9, help="runs of each workload per setting")
    p.add_argument(
        "--wall", action="store_true", help="time real TCG execution, not guest instructions"
    )
    p.add_argument("--guest", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--clock", default="wall", help=argparse.SUPPRESS)  # what the guest runs on
    args = p.parse_args(argv)
    if args.guest:
        return _guest(args.rounds, args.clock, Path(os.environ["HAGENT_RESULTS"]))
    from tests.vm import runner

    return _host(args.kernels.split() or runner.installed_kernels(), args.rounds, args.wall)


if __name__ == "__main__":
    sys.exit(main())
