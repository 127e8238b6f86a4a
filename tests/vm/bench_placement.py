# SPDX-License-Identifier: GPL-2.0
"""The guest half of scripts/bench-placement: one scenario under one system, recorded.

Runs inside a VM booted by tests/vm/runner.py (node 0: CPUs, 512 MiB, the
fast tier; node 1: CPU-less, 1536 MiB, the slow tier, described by ACPI HMAT
as slower so that the kernel's tiering sees two tiers on 6.10+).  Each
workload is build/progs/hotset (scripts/hotset.c), placed by its --layout
(the hot set always starts on the slow node) and started once the system
under test is on, so every run begins with the whole hot set slow.  The
systems are tests/vm/bench_systems.py's.

It records, once a second: every workload's own JSON line (updates/s, the
shares of its hot set and of its region on node 0); the CPU time of the
kernel threads that do the system's work ("kthreads": hagentd, kdamond.N,
kswapdN) and the workloads' system time ("workload_sys_ns": hint faults,
and the promotions NUMA balancing does in them); /proc/vmstat's migration
counters; and with hagent, from a thread of its own since a request can wait
seconds for the module's lock, what `hagentctl stats --json` prints ("stats":
t, stats_ms, totals, targets by pid).  The record goes to
<out>/<scenario>.<system>.json; the host adds the summary.  A system that
cannot run here (tier check failed, no DAMON) records "unavailable" and the
reason instead of figures.

hagentctl runs in this interpreter (see tests/vm/demo.py): a new Python with
hagentctl's imports costs 10-20 s under TCG.  The recorder runs at nice -10
so that its samples stay on time when the workloads keep both vCPUs busy.  Automatic
NUMA balancing is off while the workloads are placed and stays off unless
the system turns it on, so a share is the system's doing.

    python -m tests.vm.bench_placement --scenario full-own --system tpp --duration 180
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.vm import bench_systems
from tests.vm.bench_systems import FAST_NODE, SLOW_NODE, SYSTEMS, Unavailable, set_numa_balancing

TOP = Path(__file__).resolve().parents[2]
HOTSET = TOP / "build" / "progs" / "hotset"
PROGRESS = "bench-placement:"  # the host echoes the console lines that start with this
PROGRESS_EVERY = 10  # seconds
RECORDER_NICE = -10
# /proc/vmstat counters worth a delta: migrations, NUMA balancing, tiering.
VMSTAT_PREFIXES = ("pgmigrate_", "numa_", "pgpromote_", "pgdemote_", "thp_migration_")
THP_MODES = ("system", "madvise", "never")  # hotset's --thp-system, --thp, --no-thp


@dataclass(frozen=True)
class Shape:
    """One hotset process: region and hot set in MiB."""

    region_mib: int = 1024
    hot_mib: int = 128


@dataclass(frozen=True)
class Scenario:
    name: str
    about: str
    workloads: tuple[Shape, ...] = (Shape(),)
    # hotset --layout: "slow" puts every page on the slow node; "fill-fast"
    # writes the cold part preferring the fast node (it fills and spills over)
    # and the hot set on the slow node: a fast node full of the process's own data
    layout: str = "slow"
    pattern: str = "uniform"  # hotset --pattern
    move: bool = False  # the hot set moves at half the duration
    # MiB of another, idle process's data placed on the fast node first
    filler_mib: int = 0
    # hagent manages the filler too (TPP and DAMON see every process anyway)
    manage_filler: bool = False
    default: bool = False  # run when no --scenario is given


# multi: four workloads whose regions and hot sets add up to the single
# workload's (4 x 256 MiB on the 1536 MiB slow node, 4 x 32 MiB = 128 MiB of
# hot set against the 512 MiB fast node), so the fast tier is asked for the
# same amount and only the number of targets competing for it changes.
SCENARIOS = {
    s.name: s
    for s in (
        Scenario(
            "full-own",
            "the fast node starts full of the process's own cold data",
            layout="fill-fast",
            default=True,
        ),
        Scenario(
            "full-other",
            "the fast node starts full of another (idle, unmanaged) process's data",
            filler_mib=512,
        ),
        Scenario(
            "full-shared",
            "as full-other, but hagent is told to manage the filler too, as an operator "
            "who tiers a machine would (TPP and DAMON see every process anyway)",
            filler_mib=512,
            manage_filler=True,
        ),
        Scenario("one", "one workload, the fast node nearly empty"),
        Scenario("move", "as one; the hot set moves to a disjoint range at half time", move=True),
        Scenario(
            "multi", "four workloads, the fast node nearly empty", workloads=(Shape(256, 32),) * 4
        ),
        Scenario(
            "oversize",
            "a 640 MiB hot set, more than the fast node holds",
            workloads=(Shape(1024, 640),),
        ),
        Scenario(
            "zipf",
            "Zipf(0.99) over the pages, no sharp hot set (the hottest 128 MiB measured); "
            "fast node full of the process's own data",
            layout="fill-fast",
            pattern="zipf",
        ),
        Scenario(
            "mixed",
            "three workloads with 16, 48 and 96 MiB hot sets; fast node full of their own data",
            workloads=(Shape(256, 16), Shape(256, 48), Shape(512, 96)),
            layout="fill-fast",
        ),
    )
}
DEFAULT_SCENARIOS = tuple(s.name for s in SCENARIOS.values() if s.default)


HISTOGRAM = Path("/sys/kernel/debug/hagent/histogram")
HISTOGRAM_EVERY = 10  # seconds


def read_histogram() -> dict[str, Any] | None:
    """hagent's bar and its pages per tier and access count, all processes
    together: {"bar": n, "hysteresis": n, "fast": {count: pages}, "slow":
    {...}}, and the same per process under "pids" ({pid: {"bar": n, "fast":
    ..., "slow": ...}}: which workload's pages wait where, in a run with
    several); None where the module (or debugfs) does not show it."""
    try:
        text = HISTOGRAM.read_text()
    except OSError:
        return None
    out: dict[str, Any] = {"bar": None, "hysteresis": None, "fast": {}, "slow": {}, "pids": {}}
    for line in text.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] in ("bar", "hysteresis"):
            out[f[0]] = int(f[1])
        elif len(f) == 3 and f[1] == "bar":
            out["pids"].setdefault(f[0], {"bar": None, "fast": {}, "slow": {}})["bar"] = int(f[2])
        elif len(f) == 4 and f[1] in ("fast", "slow"):
            tier = out[f[1]]
            tier[f[2]] = tier.get(f[2], 0) + int(f[3])
            own = out["pids"].setdefault(f[0], {"bar": None, "fast": {}, "slow": {}})
            own[f[1]][f[2]] = int(f[3])
    return out


def progress(text: str) -> None:
    print(f"{PROGRESS} {text}", flush=True)


class Workload:
    """One hotset process: placed, waiting for "go", then one JSON line a second."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        self.ready: dict[str, Any] = {}
        self.samples: list[dict[str, Any]] = []
        self.done: dict[str, Any] | None = None
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"hotset {self.pid} exited before ready ({self.proc.wait()})")
        self.ready = json.loads(line)
        assert self.ready.get("event") == "ready", line

    def go(self) -> None:
        assert self.proc.stdin is not None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            rec = json.loads(line)
            if rec.get("event") == "done":
                self.done = rec
            else:
                self.samples.append(rec)

    def running(self) -> bool:
        return self.proc.poll() is None

    def finish(self, timeout: float) -> int:
        rc = self.proc.wait(timeout=timeout)
        if self._reader is not None:
            self._reader.join(timeout=10)
        return rc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def record(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "argv": self.argv,
            "ready": self.ready,
            "samples": self.samples,
            "done": self.done,
            "exit": self.proc.poll(),
        }


class Ctl:
    """hagentctl in this interpreter, its output captured."""

    def __init__(self) -> None:
        from typer.testing import CliRunner  # typer, rich, pyroute2: only when managed

        from hagent.cli import app
        from hagent.commands.stats import as_json
        from hagent.kernel import RealKernel

        self._runner = CliRunner()
        self._app = app
        self._kernel = RealKernel()
        self._stats_json = as_json

    def __call__(self, *args: str) -> str:
        r = self._runner.invoke(self._app, list(args), prog_name="hagentctl")
        if r.exception is not None and not isinstance(r.exception, SystemExit):
            raise r.exception
        if r.exit_code:
            raise RuntimeError(f"hagentctl {' '.join(args)} exited {r.exit_code}: {r.output}")
        return r.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json"))

    def stats(self) -> dict[str, Any]:
        """What `hagentctl stats --json` prints, without the CLI around it: under
        TCG building the Typer command tree alone takes a good part of a second."""
        return self._stats_json(self._kernel.stats())


def cpu_ns(pid: int) -> int | None:
    """Time @pid has run, in ns: schedstat's first field, else utime + stime."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    except (OSError, ValueError, IndexError):
        return None
    return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def vmstat() -> dict[str, int]:
    out = {}
    for line in Path("/proc/vmstat").read_text().splitlines():
        name, value = line.split()
        if name.startswith(VMSTAT_PREFIXES):
            out[name] = int(value)
    return out


def node_meminfo() -> dict[str, dict[str, int]]:
    """MemTotal and MemFree per node, in KiB."""
    out: dict[str, dict[str, int]] = {}
    for d in sorted(Path("/sys/devices/system/node").glob("node[0-9]*")):
        info = {}
        for line in (d / "meminfo").read_text().splitlines():
            words = line.split()  # Node 0 MemFree:  123 kB
            if words[2] in ("MemTotal:", "MemFree:"):
                info[words[2].rstrip(":")] = int(words[3])
        out[d.name] = info
    return out


def hotset_argv(sc: Scenario, shape: Shape, duration: float, threads: int, thp: str) -> list[str]:
    argv = [
        str(HOTSET),
        f"--region-mib={shape.region_mib}",
        f"--hot-mib={shape.hot_mib}",
        f"--threads={threads}",
        f"--duration={duration:g}",
        f"--slow-node={SLOW_NODE}",
        f"--fast-node={FAST_NODE}",
        f"--layout={sc.layout}",
        f"--pattern={sc.pattern}",
        {"system": "--thp-system", "madvise": "--thp", "never": "--no-thp"}[thp],
        "--ready-wait",
    ]
    if sc.move:
        argv.append(f"--move-at={duration / 2:g}")
    return argv


def filler_argv(sc: Scenario, duration: float) -> list[str]:
    """An idle process holding @sc.filler_mib MiB preferably on the fast node."""
    return [
        str(HOTSET),
        f"--region-mib={sc.filler_mib}",
        f"--hot-mib={sc.filler_mib}",
        f"--duration={duration:g}",
        f"--fast-node={FAST_NODE}",
        "--layout=fast",
        "--idle",
        "--ready-wait",
    ]


def stime_ns(pid: int) -> int | None:
    """System CPU time of @pid (all its threads), in ns."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return int(fields[12]) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")  # stime, field 15
    except (OSError, ValueError, IndexError):
        return None


def each_second(t0: float, more: Callable[[], bool], step: Callable[[int], None]) -> None:
    """Calls step(tick) at t0 + tick seconds while more(); ticks that an
    overlong step made us miss are skipped, not caught up."""
    tick = 0
    while more():
        tick += 1
        time.sleep(max(0.0, t0 + tick - time.monotonic()))
        step(tick)
        tick = max(tick, int(time.monotonic() - t0))


def record_stats(ctl: Ctl, t0: float, stats: list[dict[str, Any]]) -> Callable[[int], None]:
    """A step for each_second: `hagentctl stats --json`'s counters, per target
    and in total, when the request was sent (t) and how long it took."""

    def step(tick: int) -> None:
        s0 = time.monotonic()
        sample: dict[str, Any] = {"t": round(s0 - t0, 3)}
        try:
            st = ctl.stats()
        except Exception as e:  # the module may be failing: keep recording
            sample["error"] = f"{type(e).__name__}: {e}"
        else:
            sample["totals"] = st["totals"]
            sample["targets"] = {str(t["pid"]): t["counters"] for t in st["targets"]}
        sample["stats_ms"] = round((time.monotonic() - s0) * 1e3, 1)
        stats.append(sample)

    return step


def run(
    sc: Scenario,
    system_name: str,
    duration: float,
    params: list[str],
    threads: int,
    thp: str,
    record: dict[str, Any],
) -> None:
    """Runs @sc under @system_name, filling @record as it goes (a failed run
    keeps what it saw; a system that cannot run here records why)."""
    record.update(
        scenario=sc.name,
        system=system_name,
        config={
            **asdict(sc),
            "duration": duration,
            "move_at": duration / 2 if sc.move else None,
            "threads": threads,
            "thp": thp,
            "params": params if system_name == "hagent" else [],
            "fast_node": FAST_NODE,
            "slow_node": SLOW_NODE,
        },
        kernel=os.uname().release,
        thp_enabled=_read_or_none("/sys/kernel/mm/transparent_hugepage/enabled"),
        nodes_before=node_meminfo(),
    )
    old_nb = set_numa_balancing(0)
    ctl: Ctl | None = Ctl() if system_name == "hagent" else None
    system = bench_systems.make(system_name, ctl, params)
    workloads: list[Workload] = []
    filler: Workload | None = None
    stats: list[dict[str, Any]] = []
    kthreads: list[dict[str, Any]] = []
    vmstats: list[dict[str, Any]] = []
    histograms: list[dict[str, Any]] = []
    record.update(
        workloads=[], stats=stats, kthreads=kthreads, vmstat=vmstats, hagentd=[],
        histograms=histograms,
    )  # fmt: skip
    done = threading.Event()
    try:
        progress(f"{sc.name}/{system_name}: preparing: {system.about}")
        try:
            system.prepare()
        except Unavailable as e:
            record["unavailable"] = str(e)
            progress(f"{sc.name}/{system_name}: unavailable: {e}")
            return
        if sc.filler_mib:
            filler = Workload(filler_argv(sc, duration + 60))
            filler.wait_ready()
            progress(
                f"{sc.name}: filler {filler.pid}: {sc.filler_mib} MiB, "
                f"{filler.ready.get('region_fast_share')} of it on the fast node"
            )
        for shape in sc.workloads:
            # one at a time: with fill-fast, the first fills the fast node
            argv = hotset_argv(sc, shape, duration, threads, thp)
            w = Workload(argv)
            workloads.append(w)
            w.wait_ready()
            progress(
                f"{sc.name}: placed {' '.join(argv[1:])}: region {w.ready.get('region_fast_share')}"
                f", hot set {w.ready.get('hot_fast_share')} on the fast node"
            )
        record["nodes_placed"] = node_meminfo()
        managed = [w.pid for w in workloads]
        if filler is not None and sc.manage_filler:
            managed.append(filler.pid)
        system.start(managed)
        if system.numa_balancing:
            set_numa_balancing(system.numa_balancing)
        record["system_status"] = system.status()
        if ctl:
            record["hagent_status"] = ctl.json("status")
        workers = bench_systems.thread_pids(system.workers)
        record["workers"] = workers
        # Ahead of the workloads (and of the threads started below, which
        # inherit it), so that the samples stay once a second when four
        # workloads keep both vCPUs busy.  Linux: PRIO_PROCESS 0 is this thread.
        os.setpriority(os.PRIO_PROCESS, 0, RECORDER_NICE)
        vm_before = vmstat()
        for w in workloads:
            w.go()
        t0 = time.monotonic()
        if ctl:
            # Its own thread: a STATS request can wait seconds for the module's
            # lock, which must not hold up the CPU-time samples.
            threading.Thread(
                target=each_second,
                args=(t0, lambda: not done.is_set(), record_stats(ctl, t0, stats)),
                daemon=True,
            ).start()
        next_progress = PROGRESS_EVERY

        def second(tick: int) -> None:
            nonlocal next_progress
            t = round(time.monotonic() - t0, 3)
            sys_ns = [stime_ns(w.pid) for w in workloads]
            kthreads.append(
                {
                    "t": t,
                    "cpu_ns": {name: cpu_ns(pid) for name, pid in workers.items()},
                    "workload_sys_ns": sum(n for n in sys_ns if n is not None),
                }
            )
            now = vmstat()
            vmstats.append({"t": t, **{k: v - vm_before.get(k, 0) for k, v in now.items()}})
            if ctl and tick % HISTOGRAM_EVERY == 0:
                hist = read_histogram()
                if hist is not None:
                    histograms.append({"t": t, **hist})
            if tick >= next_progress:
                progress(f"{sc.name}/{system_name}: {line_of(tick, workloads, vmstats, kthreads)}")
                next_progress += PROGRESS_EVERY

        each_second(t0, lambda: any(w.running() for w in workloads), second)
        rcs = [w.finish(timeout=60) for w in workloads]
        record["vmstat_delta"] = {k: v - vm_before.get(k, 0) for k, v in vmstat().items()}
        record["system_counters"] = system.counters()
        if any(rcs):
            raise RuntimeError(f"hotset exit statuses {rcs}")
    finally:
        done.set()
        for w in [*workloads, *([filler] if filler else [])]:
            w.kill()
        record["workloads"] = [w.record() for w in workloads]
        if filler is not None:
            record["filler"] = filler.record()
        record["nodes_after"] = node_meminfo()
        record["hagentd"] = [
            {"t": k["t"], "cpu_ns": k["cpu_ns"]["hagentd"]}
            for k in kthreads
            if "hagentd" in k["cpu_ns"]
        ]
        try:
            system.stop()
        finally:
            if old_nb is not None:
                set_numa_balancing(old_nb)


def _read_or_none(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def line_of(
    tick: int,
    workloads: list[Workload],
    vmstats: list[dict[str, Any]],
    kthreads: list[dict[str, Any]],
) -> str:
    """One progress line: the latest sample of each workload (shares averaged,
    updates/s summed), the workers' CPU over the last seconds, pages migrated."""
    last = [w.samples[-1] for w in workloads if w.samples]
    if not last:
        return f"t={tick}s (no sample yet)"
    hot = [s["hot_fast_share"] for s in last if s.get("hot_fast_share") is not None]
    text = (
        f"t={tick:>4}s  updates/s {sum(s['updates_per_s'] for s in last) / 1e6:6.2f}M  "
        f"hot fast {sum(hot) / max(len(hot), 1):.3f}"
    )
    span = kthreads[-PROGRESS_EVERY - 1 :]
    if len(span) > 1 and span[-1]["t"] > span[0]["t"]:
        a, b = span[0], span[-1]
        ns = sum((b["cpu_ns"][n] or 0) - (a["cpu_ns"].get(n) or 0) for n in b["cpu_ns"])
        text += f"  workers {ns / (b['t'] - a['t']) / 1e7:.1f}%"
    if vmstats:
        text += f"  migrated {vmstats[-1].get('pgmigrate_success', 0)}"
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tests.vm.bench_placement", description=__doc__)
    p.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    p.add_argument("--system", required=True, choices=SYSTEMS)
    p.add_argument("--duration", type=float, default=180, help="seconds of updates")
    p.add_argument("--param", action="append", default=[], help="hagent module parameter k=v")
    p.add_argument("--threads", type=int, default=1, help="update threads per workload")
    p.add_argument("--thp", choices=THP_MODES, default="system", help="hotset's THP mode")
    p.add_argument("--out", type=Path, default=Path(os.environ.get("HAGENT_RESULTS", ".")))
    args = p.parse_args(argv)
    if os.environ.get("HAGENT_IN_VM") != "1":
        p.error("this runs inside the VM; on the host use scripts/bench-placement")
    sc = SCENARIOS[args.scenario]
    record: dict[str, Any] = {}
    status = 0
    try:
        run(sc, args.system, args.duration, args.param, args.threads, args.thp, record)
    except Exception as e:  # recorded, and the guest's exit status says it
        traceback.print_exc()
        record["error"] = f"{type(e).__name__}: {e}"
        status = 1
    out = args.out / f"{sc.name}.{args.system}.json"
    out.write_text(json.dumps(record) + "\n")
    verdict = "failed" if status else "unavailable" if record.get("unavailable") else "done"
    progress(f"{sc.name}/{args.system}: {verdict}, wrote {out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
