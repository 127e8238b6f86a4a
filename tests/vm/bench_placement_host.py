# SPDX-License-Identifier: GPL-2.0
"""scripts/bench-placement: how fast and how well a hot set reaches the fast tier.

Boots one two-node guest per scenario (node 0: 512 MiB with the CPUs, the
fast tier; node 1: 1536 MiB, CPU-less, the slow tier) and runs
tests/vm/bench_placement.py there: hotset workloads (scripts/hotset.c), every
page first-touched on the slow node, then random 8-byte updates, 90% of them
to a hot set, for --duration seconds.  Scenarios:

  baseline  no management: the hot set stays on the slow node
  hagent    hagent.ko loaded (with --param k=v), the workload managed
  move      as hagent, and the hot set moves to a disjoint range at half time
  multi     four workloads at once, each managed: 4 x 256 MiB regions with
            32 MiB hot sets (the same totals as one 1 GiB / 128 MiB workload)
  oversize  as hagent, with a 640 MiB hot set: more than the 512 MiB fast node
            holds, so placement must settle without thrashing (not by default)
  autonuma  no hagent, the kernel's NUMA balancing instead (not by default)

NUMA balancing is off in every scenario but autonuma.  Results go to
results/bench-placement/<UTC time>/: <scenario>.json (every workload's
per-second lines, the per-second `hagentctl stats --json` counters and
hagentd CPU time, the summary), <scenario>.console.log, and hotset.png, the
hot set's fast share against time for every scenario run.  The closing table
gives, per scenario: updates/s, the time until the hot set's fast share first
reaches 0.90, the steady share (mean over the last 30 s), the time to get
back to 0.90 after the move, hagentd's CPU time in % of one CPU (over the
whole run, the part of it outside migrate_pages(), and over the last 30 s,
once placement has settled), the pages migrated over those last 30 s (a
steady stream there is churn, not placement), and the migration failure
rate (when the module has migration counters).  Each
summary also splits hagentd's wall time by part (hagentd_split_pct: scan,
drain, decay, place, and migrate, the time inside migrate_pages(); wall
time, so it exceeds the CPU time when hagentd waits for a CPU) and gives
policy_sampler_pct, the parts other than migrate.

    scripts/bench-placement                           # the four default scenarios, 180 s each
    scripts/bench-placement --scenario baseline --duration 30
    scripts/bench-placement --scenario hagent --param scan_interval_ms=500
    scripts/bench-placement --report results/bench-placement/<time>   # table and plot again
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.vm import runner
from tests.vm.bench_placement import DEFAULT_SCENARIOS, PROGRESS, SCENARIOS

FAST_MEM, SLOW_MEM = "512M", "1536M"
THRESHOLD = 0.90  # "the hot set is in the fast tier"
STEADY_S = 30.0  # the steady share is the mean over this many last seconds
PLOT_SIZE = (10.0, 5.6)  # inches
PLOT_DPI = 100
# Seconds a scenario may take beyond its duration: boot, Python start,
# first-touching the regions under TCG, teardown, and a loaded machine.
OVERHEAD_S = 1200.0


# --- summary: pure, record in, figures out ------------------------------------


def aggregate(workloads: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The workloads' per-second samples joined by index (each printed its k-th
    line about k seconds after the common start): elapsed and shares averaged
    (over the workloads that reported one), updates/s summed."""
    series = [w.get("samples", []) for w in workloads]
    out: list[dict[str, Any]] = []
    for row in zip(*series, strict=False):
        point: dict[str, Any] = {
            "elapsed": sum(s["elapsed"] for s in row) / len(row),
            "updates_per_s": sum(s["updates_per_s"] for s in row),
        }
        for key in ("hot_fast_share", "region_fast_share"):
            vals = [s[key] for s in row if s.get(key) is not None]
            point[key] = sum(vals) / len(vals) if vals else None
        out.append(point)
    return out


def first_reaching(
    points: Iterable[Mapping[str, Any]], since: float = 0.0, until: float | None = None
) -> float | None:
    """Seconds from @since to the first point at or after it (and before
    @until) whose hot share is >= THRESHOLD; None if there is none."""
    for p in points:
        t: float = p["elapsed"]
        share: float | None = p.get("hot_fast_share")
        if t < since or share is None:
            continue
        if until is not None and t >= until:
            break
        if share >= THRESHOLD:
            return round(t - since, 3)
    return None


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def steady(points: Sequence[Mapping[str, Any]], key: str) -> float | None:
    """Mean of @key over the last STEADY_S seconds of @points."""
    if not points:
        return None
    end = points[-1]["elapsed"]
    return _mean(p.get(key) for p in points if p["elapsed"] > end - STEADY_S)


def share_summary(points: Sequence[Mapping[str, Any]], move_at: float | None) -> dict[str, Any]:
    return {
        "time_to_hot_090": first_reaching(points, until=move_at),
        "steady_hot_share": steady(points, "hot_fast_share"),
        "steady_region_share": steady(points, "region_fast_share"),
        "recovery_s": first_reaching(points, since=move_at) if move_at is not None else None,
    }


def _tail(samples: Sequence[Mapping[str, Any]], last: float) -> list[Mapping[str, Any]]:
    """The samples (each with "t") of the last @last seconds before the newest."""
    return [x for x in samples if x["t"] >= samples[-1]["t"] - last] if samples else []


def hagentd_cpu_pct(cpu: Sequence[Mapping[str, Any]], last: float | None = None) -> float | None:
    """hagentd's CPU time in % of one CPU, from the per-second {"t", "cpu_ns"}
    samples: over the whole run, or with @last over its last @last seconds
    (the steady cost, once placement has settled: the same window as the
    steady share)."""
    timed = [c for c in cpu if c.get("cpu_ns") is not None]
    if last is not None:
        timed = _tail(timed, last)
    if len(timed) < 2 or timed[-1]["t"] <= timed[0]["t"]:
        return None
    ns: int = timed[-1]["cpu_ns"] - timed[0]["cpu_ns"]
    seconds: float = timed[-1]["t"] - timed[0]["t"]
    return 100.0 * ns / (seconds * 1e9)


# Where hagentd's time went: the module's policy.*_ns counters, wall time in
# each part of its rounds (waits for a CPU included).  "migrate" is the time
# inside migrate_pages(), the moves' copying and remapping; "place" is the
# rest of placement (planning, settling); "scan" is the sampler.
PARTS = ("scan", "drain", "decay", "place", "migrate")


def cpu_split(stats: Sequence[Mapping[str, Any]]) -> dict[str, float] | None:
    """hagentd's wall time by part, in % of the span between the first and the
    last stats sample that have the module's policy.*_ns counters."""
    have = [s for s in stats if "policy.scan_ns" in s.get("totals", {})]
    if len(have) < 2 or have[-1]["t"] <= have[0]["t"]:
        return None
    a, b = have[0]["totals"], have[-1]["totals"]
    span_ns = (have[-1]["t"] - have[0]["t"]) * 1e9
    pct = {
        p: 100.0 * (b.get(f"policy.{p}_ns", 0) - a.get(f"policy.{p}_ns", 0)) / span_ns
        for p in PARTS
    }
    pct["place"] -= pct["migrate"]  # place_ns includes the time inside migrate_pages()
    return pct


def migrate_cpu_pct(stats: Sequence[Mapping[str, Any]]) -> float | None:
    """CPU time hagentd spent inside migrate_pages(), in % of one CPU over the
    span of the stats samples that have it: policy.migrate_cpu_ns, from the
    scheduler's accounting of the thread (what its schedstat reports), not
    wall time, which counts the waits for a CPU too."""
    have = [s for s in stats if "policy.migrate_cpu_ns" in s.get("totals", {})]
    if len(have) < 2 or have[-1]["t"] <= have[0]["t"]:
        return None
    ns: int = (
        have[-1]["totals"]["policy.migrate_cpu_ns"] - have[0]["totals"]["policy.migrate_cpu_ns"]
    )
    seconds: float = have[-1]["t"] - have[0]["t"]
    return 100.0 * ns / (seconds * 1e9)


def policy_sampler_pct(cpu_pct: float | None, migrate_pct: float | None) -> float | None:
    """hagentd's CPU time outside migrate_pages(), in % of one CPU: the policy
    and the sampler without the moves themselves (the kernel's copying and
    remapping of the pages)."""
    return None if cpu_pct is None or migrate_pct is None else cpu_pct - migrate_pct


def moved_last(stats: Sequence[Mapping[str, Any]], last: float = STEADY_S) -> int | None:
    """Pages migrated (promoted + demoted) over the last @last seconds of the
    stats samples: after placement has settled this should be a trickle; a
    steady stream is churn (pages exchanged for others as hot)."""
    have = _tail([s for s in stats if "promoted" in s.get("totals", {})], last)
    if len(have) < 2:
        return None
    a, b = have[0]["totals"], have[-1]["totals"]
    return int(b["promoted"] - a["promoted"] + b.get("demoted", 0) - a.get("demoted", 0))


def stats_latency(stats: Sequence[Mapping[str, Any]]) -> dict[str, float] | None:
    """How long `hagentctl stats` took (it waits for the module's lock)."""
    ms = [s["stats_ms"] for s in stats if s.get("stats_ms") is not None]
    return {"mean_ms": sum(ms) / len(ms), "max_ms": max(ms)} if ms else None


def migration(stats: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Migration counters since load (the last totals), None before the module
    has them.  failure_rate = failed / migrate.attempted, or where the module
    does not count attempts, failed / (failed + promoted + demoted + exchanges);
    None when nothing was attempted."""
    totals = next((s["totals"] for s in reversed(stats) if s.get("totals")), None)
    if totals is None or "promoted" not in totals:
        return None
    failed = sum(v for k, v in totals.items() if k.startswith("migrate_failed."))
    moved = {k: totals.get(k, 0) for k in ("promoted", "demoted")}
    moved["exchanges"] = totals.get("exchanges", totals.get("exchanged", 0))
    attempted = totals.get("migrate.attempted", failed + sum(moved.values()))
    rate = failed / attempted if attempted else None
    return {**moved, "attempted": attempted, "failed": failed, "failure_rate": rate}


def summarize(record: Mapping[str, Any]) -> dict[str, Any]:
    """The figures of one scenario's record (as tests/vm/bench_placement.py writes it)."""
    workloads = record.get("workloads", [])
    move_at = record.get("config", {}).get("move_at")
    points = aggregate(workloads)
    stats = record.get("stats", [])
    split = cpu_split(stats)
    cpu = hagentd_cpu_pct(record.get("hagentd", []))
    mig_cpu = migrate_cpu_pct(stats)
    out: dict[str, Any] = {
        "samples": len(points),
        "elapsed": points[-1]["elapsed"] if points else None,
        "updates_per_s": _mean(p["updates_per_s"] for p in points),
        "updates_per_s_steady": steady(points, "updates_per_s"),
        "move_at": move_at,
        **share_summary(points, move_at),
        "hagentd_cpu_pct": cpu,
        "hagentd_cpu_pct_steady": hagentd_cpu_pct(record.get("hagentd", []), last=STEADY_S),
        "hagentd_split_pct": split,
        "migrate_cpu_pct": mig_cpu,
        "policy_sampler_pct": policy_sampler_pct(cpu, mig_cpu),
        "migration": migration(stats),
        "moved_steady": moved_last(stats),
        "stats_latency": stats_latency(stats),
    }
    if len(workloads) > 1:
        out["per_workload"] = [
            {"pid": w.get("pid"), **share_summary(w.get("samples", []), move_at)} for w in workloads
        ]
    if record.get("error"):
        out["error"] = record["error"]
    return out


def _cell(value: float | None, fmt: str, missing: str = "-") -> str:
    return missing if value is None else format(value, fmt)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}%"


def table(summaries: Mapping[str, Mapping[str, Any]]) -> str:
    """The closing table, one row per scenario (a run without samples: one line)."""
    rows = [
        (
            "scenario",
            "updates/s",
            "t(hot>=0.90)",
            "steady hot",
            "steady region",
            "recovery",
            "hagentd CPU",
            "less migrate",
            "steady CPU",
            "steady moved",
            "migr. fail",
        )
    ]
    failed, per = [], []
    for name, s in summaries.items():
        if not s.get("samples"):
            failed.append(f"{name}: failed: {s.get('error', 'no samples')}")
            continue
        mig = s.get("migration")
        rows.append(
            (
                name,
                _cell(s.get("updates_per_s"), ",.0f"),
                _cell(s.get("time_to_hot_090"), ".0f", "never"),
                _cell(s.get("steady_hot_share"), ".3f"),
                _cell(s.get("steady_region_share"), ".3f"),
                "-" if s.get("move_at") is None else _cell(s.get("recovery_s"), ".0f", "never"),
                _pct(s.get("hagentd_cpu_pct")),
                _pct(s.get("policy_sampler_pct")),
                _pct(s.get("hagentd_cpu_pct_steady")),
                _cell(s.get("moved_steady"), ","),
                "-" if mig is None else _cell(mig["failure_rate"], ".2%"),
            )
        )
        if s.get("per_workload"):
            ws = s["per_workload"]
            per.append(
                f"{name} per workload: t(hot>=0.90) "
                + "/".join(_cell(w["time_to_hot_090"], ".0f", "never") for w in ws)
                + ", steady hot "
                + "/".join(_cell(w["steady_hot_share"], ".3f") for w in ws)
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join([r[0].ljust(widths[0]), *(c.rjust(widths[i]) for i, c in enumerate(r) if i)])
        for r in rows
    ]
    notes = (
        "times in s from the start of the updates; steady: mean of the last "
        f"{STEADY_S:.0f} s; recovery: from the move back to {THRESHOLD:.2f}; "
        "hagentd CPU: % of one CPU over the run, less migrate: outside migrate_pages(), "
        f"steady CPU, steady moved: hagentd's CPU and the pages migrated over the last "
        f"{STEADY_S:.0f} s (the summary's hagentd_split_pct splits hagentd's wall time by part)"
    )
    return "\n".join([*lines, *per, *failed, notes])


def plot(records: Mapping[str, Mapping[str, Any]], path: Path, title: str) -> None:
    """hotset.png: the hot set's fast share against time, one line per scenario
    (the mean over its workloads, and each workload's thin), the move as a
    dashed line of the same colour."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=PLOT_SIZE, dpi=PLOT_DPI)
    for i, (name, rec) in enumerate(records.items()):
        points = aggregate(rec.get("workloads", []))
        if not points:
            continue
        # one colour per scenario name, the same in every plot
        colour = f"C{list(SCENARIOS).index(name) if name in SCENARIOS else len(SCENARIOS) + i}"
        n = len(rec.get("workloads", []))
        xs = [p["elapsed"] for p in points]
        ys = [p["hot_fast_share"] for p in points]
        label = name if n == 1 else f"{name} (mean of {n})"
        ax.plot(xs, [float("nan") if y is None else y for y in ys], color=colour, label=label)
        if n > 1:  # each workload's own line, thin: the mean can hide an unfair split
            for w in rec["workloads"]:
                ws = w.get("samples", [])
                ax.plot(
                    [s["elapsed"] for s in ws],
                    [
                        float("nan") if s.get("hot_fast_share") is None else s["hot_fast_share"]
                        for s in ws
                    ],
                    color=colour,
                    linewidth=0.6,
                    alpha=0.4,
                )
        move_at = rec.get("config", {}).get("move_at")
        if move_at is not None:
            ax.axvline(move_at, color=colour, linestyle="--", linewidth=0.8)
    ax.axhline(THRESHOLD, color="grey", linestyle=":", linewidth=0.8)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(left=0)
    ax.set_xlabel("seconds since the updates started")
    ax.set_ylabel("share of the hot set on the fast node")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=PLOT_DPI)
    plt.close(fig)


# --- the driver: one VM per scenario -----------------------------------------


def say(text: str) -> None:
    print(f"bench-placement: {text}", flush=True)


def guest_command(
    scenario: str, duration: float, params: list[str], threads: int, thp: bool
) -> str:
    argv = ["python", "-m", "tests.vm.bench_placement", f"--scenario={scenario}"]
    argv += [f"--duration={duration:g}", f"--threads={threads}"]
    argv += [f"--param={p}" for p in params] + (["--thp"] if thp else [])
    return " ".join(shlex.quote(a) for a in argv)


def follow(console: Path, until: concurrent.futures.Future[runner.VmResult]) -> None:
    """Echoes the guest's progress lines from the console log until @until is done."""
    pos = 0
    while True:
        finished = until.done()
        try:
            with console.open("rb") as f:
                f.seek(pos)
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        end = chunk.rfind(b"\n") + 1
        pos += end
        for raw in chunk[:end].decode(errors="replace").splitlines():
            at = raw.find(PROGRESS)
            if at >= 0:
                print(f"  {raw[at + len(PROGRESS) :].strip()}", flush=True)
        if finished:
            return
        concurrent.futures.wait([until], timeout=1.0)


def _kill_own_vms() -> None:
    """The VMs this process started (runner.run gives each its own session)."""
    me = str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = stat.read_text().rpartition(")")[2].split()[1]
        except (OSError, IndexError):
            continue
        if ppid == me:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(int(stat.parent.name), signal.SIGKILL)


def run_scenario(
    scenario: str, args: argparse.Namespace, kernel: str, outdir: Path
) -> dict[str, Any]:
    name = f"bench-placement-{scenario}"
    vmdir = runner.RESULTS / "vm" / kernel / name
    shutil.rmtree(vmdir, ignore_errors=True)  # so that follow() never reads an old log
    command = guest_command(scenario, args.duration, args.param, args.threads, args.thp)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        fut = pool.submit(
            runner.run,
            kernel,
            command,
            name=name,
            fast_mem=FAST_MEM,
            slow_mem=SLOW_MEM,
            timeout=args.timeout or args.duration + OVERHEAD_S,
        )
        try:
            follow(vmdir / "console.log", fut)
        except KeyboardInterrupt:
            _kill_own_vms()
            raise
        result = fut.result()
    raw = vmdir / f"{scenario}.json"
    record: dict[str, Any] = json.loads(raw.read_text()) if raw.exists() else {}
    if not result.ok:
        record.setdefault("error", f"VM: {result.verdict()}")
    record["vm"] = {
        "kernel": kernel,
        "verdict": result.verdict(),
        "seconds": round(result.seconds, 1),
        "fast_mem": FAST_MEM,
        "slow_mem": SLOW_MEM,
    }
    record["summary"] = summarize(record)
    (outdir / f"{scenario}.json").write_text(json.dumps(record, indent=1) + "\n")
    if (vmdir / "console.log").exists():
        shutil.copyfile(vmdir / "console.log", outdir / f"{scenario}.console.log")
    say(f"{scenario}: {result.verdict()} in {result.seconds:.0f}s")
    return record


def report(records: Mapping[str, Mapping[str, Any]], outdir: Path) -> None:
    kernels = sorted(
        {r.get("kernel") or r.get("vm", {}).get("kernel", "?") for r in records.values()}
    )
    png = outdir / "hotset.png"
    plot(records, png, f"hot set on the fast node ({', '.join(kernels)}, {outdir.name})")
    print(table({name: summarize(r) for name, r in records.items()}))
    say(f"results in {outdir} (plot {png.name})")


def load_records(outdir: Path) -> dict[str, dict[str, Any]]:
    order = {name: i for i, name in enumerate(SCENARIOS)}
    found = [p for p in outdir.glob("*.json") if p.stem in SCENARIOS]
    return {p.stem: json.loads(p.read_text()) for p in sorted(found, key=lambda p: order[p.stem])}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="scripts/bench-placement",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--scenario",
        action="append",
        choices=[*SCENARIOS, "all"],
        help=f"repeatable (default: {' '.join(DEFAULT_SCENARIOS)}; all: every one)",
    )
    p.add_argument("--duration", type=float, default=180, help="seconds of updates (default 180)")
    p.add_argument(
        "--param", action="append", default=[], metavar="K=V", help="hagent module parameter"
    )
    p.add_argument("--kernel", help="kernel release (default: the first installed)")
    p.add_argument("--threads", type=int, default=1, help="update threads per workload")
    p.add_argument("--thp", action="store_true", help="THP-backed regions (default: 4K pages)")
    p.add_argument("--out", type=Path, help="results directory (default: a new timestamped one)")
    p.add_argument("--timeout", type=float, help="seconds per VM (default: duration + 1200)")
    p.add_argument("--report", type=Path, metavar="DIR", help="only redo DIR's table and plot")
    args = p.parse_args(argv)

    if args.report:
        done = load_records(args.report)
        if not done:
            p.error(f"no scenario results in {args.report}")
        report(done, args.report)
        return 0

    chosen = args.scenario or list(DEFAULT_SCENARIOS)
    scenarios = list(SCENARIOS) if "all" in chosen else list(dict.fromkeys(chosen))
    kernels = [args.kernel] if args.kernel else runner.installed_kernels()[:1]
    if not kernels:
        p.error("no kernel with headers installed; run scripts/setup")
    kernel = kernels[0]
    if any(SCENARIOS[s].managed for s in scenarios) and not runner.module_path(kernel).exists():
        p.error(f"{runner.module_path(kernel)} is not built (make module)")
    subprocess.run(["make", "-s", "-C", str(runner.TOP), "progs"], check=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    outdir = args.out or runner.RESULTS / "bench-placement" / stamp
    outdir.mkdir(parents=True, exist_ok=True)

    records: dict[str, dict[str, Any]] = {}
    for i, scenario in enumerate(scenarios, 1):
        sc = SCENARIOS[scenario]
        say(
            f"[{i}/{len(scenarios)}] {scenario}: {sc.about}; {sc.workloads} x "
            f"{sc.region_mib} MiB, hot {sc.hot_mib} MiB, {args.duration:g} s on {kernel} "
            f"(booting; a few minutes beyond the duration under TCG)"
        )
        records[scenario] = run_scenario(scenario, args, kernel, outdir)
    report(records, outdir)
    return 0 if all(not r.get("error") for r in records.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
