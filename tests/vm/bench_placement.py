# SPDX-License-Identifier: GPL-2.0
"""The guest half of scripts/bench-placement: one scenario, recorded.

Runs inside a VM booted by tests/vm/runner.py (node 0: CPUs, 512 MiB, the
fast tier; node 1: CPU-less, 1536 MiB, the slow tier).  Each workload is
build/progs/hotset (scripts/hotset.c), first-touched on node 1 and started
only once it is managed, so the run begins with the whole hot set slow.

It records, once a second: every workload's own JSON line (updates/s, the
shares of its hot set and of its region on node 0); with hagent loaded, the
CPU time of the kernel thread hagentd ("hagentd": t, cpu_ns) and, from a
thread of its own since a request can wait seconds for the module's lock,
what `hagentctl stats --json` prints ("stats": t, stats_ms, totals, targets
by pid).  The record goes to <out>/<scenario>.json; the host adds the summary.

hagentctl runs in this interpreter (see tests/vm/demo.py): a new Python with
pyroute2 costs about 30 s under TCG.  The recorder runs at nice -10 so that
its samples stay on time when the workloads keep both vCPUs busy.  Automatic
NUMA balancing is off in every scenario but `autonuma` (it would move the hot
set by itself: in the guest it does within seconds), so a share is the
placement policy's doing.

    python -m tests.vm.bench_placement --scenario hagent --duration 180 [--param k=v]...
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

TOP = Path(__file__).resolve().parents[2]
HOTSET = TOP / "build" / "progs" / "hotset"
FAST_NODE, SLOW_NODE = 0, 1
PROGRESS = "bench-placement:"  # the host echoes the console lines that start with this
PROGRESS_EVERY = 10  # seconds
RECORDER_NICE = -10
# /proc/vmstat counters worth a delta: migrations and NUMA balancing.
VMSTAT_PREFIXES = ("pgmigrate_", "numa_", "pgpromote_", "pgdemote_", "thp_migration_")


@dataclass(frozen=True)
class Scenario:
    name: str
    about: str
    workloads: int = 1
    region_mib: int = 1024
    hot_mib: int = 128
    managed: bool = True
    move: bool = False  # the hot set moves at half the duration
    numa_balancing: int = 0  # /proc/sys/kernel/numa_balancing during the run


# multi: four workloads whose regions and hot sets add up to the single
# workload's (4 x 256 MiB on the 1536 MiB slow node, 4 x 32 MiB = 128 MiB of
# hot set against the 512 MiB fast node), so the fast tier is asked for the
# same amount and only the number of targets competing for it changes.
SCENARIOS = {
    s.name: s
    for s in (
        Scenario("baseline", "no management: the hot set stays on the slow node", managed=False),
        Scenario("hagent", "hagent manages the workload"),
        Scenario("move", "hagent; the hot set moves to a disjoint range at half time", move=True),
        Scenario("multi", "hagent manages four workloads", workloads=4, region_mib=256, hot_mib=32),
        Scenario(
            "oversize",
            "hagent; a 640 MiB hot set, more than the fast node holds",
            hot_mib=640,
        ),
        Scenario(
            "autonuma",
            "no hagent; the kernel's NUMA balancing (numa_balancing=1) instead",
            managed=False,
            numa_balancing=1,
        ),
    )
}
DEFAULT_SCENARIOS = ("baseline", "hagent", "move", "multi")


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


def kthread_pid(comm: str) -> int | None:
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() == comm:
                    return int(d.name)
            except OSError:
                continue
    return None


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


def hotset_argv(sc: Scenario, duration: float, threads: int, thp: bool) -> list[str]:
    argv = [
        str(HOTSET),
        f"--region-mib={sc.region_mib}",
        f"--hot-mib={sc.hot_mib}",
        f"--threads={threads}",
        f"--duration={duration:g}",
        f"--slow-node={SLOW_NODE}",
        f"--fast-node={FAST_NODE}",
        "--thp" if thp else "--no-thp",
        "--ready-wait",
    ]
    if sc.move:
        argv.append(f"--move-at={duration / 2:g}")
    return argv


def set_numa_balancing(value: int) -> int | None:
    """Sets the sysctl, returns the old value (None where the kernel has none)."""
    path = Path("/proc/sys/kernel/numa_balancing")
    if not path.exists():
        return None
    old = int(path.read_text())
    path.write_text(f"{value}\n")
    return old


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
    duration: float,
    params: list[str],
    threads: int,
    thp: bool,
    record: dict[str, Any],
) -> None:
    """Runs @sc, filling @record as it goes (a failed run keeps what it saw)."""
    record.update(
        scenario=sc.name,
        config={
            **asdict(sc),
            "duration": duration,
            "move_at": duration / 2 if sc.move else None,
            "threads": threads,
            "thp": thp,
            "params": params if sc.managed else [],
            "fast_node": FAST_NODE,
            "slow_node": SLOW_NODE,
        },
        kernel=os.uname().release,
        nodes_before=node_meminfo(),
    )
    old_nb = set_numa_balancing(sc.numa_balancing)
    ctl: Ctl | None = None
    workloads: list[Workload] = []
    stats: list[dict[str, Any]] = []
    cpu: list[dict[str, Any]] = []
    record.update(workloads=[], stats=stats, hagentd=cpu)
    done = threading.Event()
    try:
        if sc.managed:
            progress(f"{sc.name}: loading hagent {' '.join(params)}")
            ctl = Ctl()
            ctl("load", "--ko", os.environ["HAGENT_KO"], *params)
            record["hagent_status"] = ctl.json("status")
            record["hagentd_pid"] = kthread_pid("hagentd")
        hagentd = record.get("hagentd_pid")
        argv = hotset_argv(sc, duration, threads, thp)
        progress(f"{sc.name}: {sc.workloads} x {' '.join(argv[1:])}")
        workloads += [Workload(argv) for _ in range(sc.workloads)]
        for w in workloads:
            w.wait_ready()
        shares = ", ".join(str(w.ready.get("region_fast_share")) for w in workloads)
        progress(f"{sc.name}: placed; share of each region on the fast node: {shares}")
        if ctl:
            for w in workloads:
                ctl("enable", "--pid", str(w.pid))
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
            if hagentd is not None:
                cpu.append({"t": round(time.monotonic() - t0, 3), "cpu_ns": cpu_ns(hagentd)})
            if tick >= next_progress:
                progress(f"{sc.name}: {line_of(tick, workloads, stats, cpu)}")
                next_progress += PROGRESS_EVERY

        each_second(t0, lambda: any(w.running() for w in workloads), second)
        rcs = [w.finish(timeout=60) for w in workloads]
        record["vmstat_delta"] = {k: v - vm_before.get(k, 0) for k, v in vmstat().items()}
        if any(rcs):
            raise RuntimeError(f"hotset exit statuses {rcs}")
    finally:
        done.set()
        for w in workloads:
            w.kill()
        record["workloads"] = [w.record() for w in workloads]
        record["nodes_after"] = node_meminfo()
        try:
            if ctl is not None and Path("/sys/module/hagent").exists():
                ctl("unload")
        finally:
            if old_nb is not None:
                set_numa_balancing(old_nb)


def line_of(
    tick: int,
    workloads: list[Workload],
    stats: list[dict[str, Any]],
    cpu: list[dict[str, Any]],
) -> str:
    """One progress line: the latest sample of each workload (shares averaged,
    updates/s summed), hagentd's CPU over the last seconds, the migrations."""
    last = [w.samples[-1] for w in workloads if w.samples]
    if not last:
        return f"t={tick}s (no sample yet)"
    hot = [s["hot_fast_share"] for s in last if s.get("hot_fast_share") is not None]
    text = (
        f"t={tick:>4}s  updates/s {sum(s['updates_per_s'] for s in last) / 1e6:6.2f}M  "
        f"hot fast {sum(hot) / max(len(hot), 1):.3f}"
    )
    timed = [c for c in cpu[-PROGRESS_EVERY - 1 :] if c["cpu_ns"] is not None]
    if len(timed) > 1 and timed[-1]["t"] > timed[0]["t"]:
        a, b = timed[0], timed[-1]
        text += f"  hagentd {(b['cpu_ns'] - a['cpu_ns']) / (b['t'] - a['t']) / 1e7:.1f}%"
    totals = stats[-1].get("totals", {}) if stats else {}
    for name in ("promoted", "demoted", "exchanges"):
        if name in totals:
            text += f"  {name} {totals[name]}"
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tests.vm.bench_placement", description=__doc__)
    p.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    p.add_argument("--duration", type=float, default=180, help="seconds of updates")
    p.add_argument("--param", action="append", default=[], help="module parameter k=v")
    p.add_argument("--threads", type=int, default=1, help="update threads per workload")
    p.add_argument("--thp", action="store_true", help="THP-backed regions")
    p.add_argument("--out", type=Path, default=Path(os.environ.get("HAGENT_RESULTS", ".")))
    args = p.parse_args(argv)
    if os.environ.get("HAGENT_IN_VM") != "1":
        p.error("this runs inside the VM; on the host use scripts/bench-placement")
    sc = SCENARIOS[args.scenario]
    record: dict[str, Any] = {}
    status = 0
    try:
        run(sc, args.duration, args.param, args.threads, args.thp, record)
    except Exception as e:  # recorded, and the guest's exit status says it
        traceback.print_exc()
        record["error"] = f"{type(e).__name__}: {e}"
        status = 1
    out = args.out / f"{sc.name}.json"
    out.write_text(json.dumps(record) + "\n")
    progress(f"{sc.name}: {'failed' if status else 'done'}, wrote {out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
