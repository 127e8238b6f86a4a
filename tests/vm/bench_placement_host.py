# SPDX-License-Identifier: GPL-2.0
"""scripts/bench-placement: hagent against the kernel's own tiering, in the
conditions a tiered machine runs in.

Boots one two-node guest per scenario and system (node 0: 512 MiB with the
CPUs, the fast tier; node 1: 1536 MiB, CPU-less, the slow tier, which ACPI
HMAT describes as 4x the latency and 1/4 the bandwidth, so that 6.10+ puts
it in a lower memory tier) and runs tests/vm/bench_placement.py there:
hotset workloads (scripts/hotset.c), the hot set first-touched on the slow
node, then random 8-byte updates, 90% of them to the hot set (or Zipf), for
--duration seconds.  THP as the kernel ships it (Debian: always) unless
--thp says otherwise; the table's header says which.

Systems (--system, repeatable; default: every one this kernel supports):

  baseline  nothing moves pages
  autonuma  NUMA balancing (numa_balancing=1)
  tpp       the kernel's tiering: numa_balancing=2 + demotion_enabled=1;
            needs node 1 in a lower memory tier (checked in the guest; 6.10+)
  damon     DAMON paddr migrate_hot / migrate_cold between the nodes (6.11+)
  hagent    hagent.ko (with --param k=v), the workloads enabled by pid

Scenarios (--scenario, repeatable; default: full-own):

  full-own    the fast node starts full of the process's own cold data
  full-other  the fast node starts full of another, idle process's data
              (which a per-process tool like hagent is not told to manage)
  full-shared as full-other, and hagent manages the filler too
  one, move   one workload on a nearly empty fast node; move: the hot set
              moves to a disjoint range at half time
  multi       four workloads (4 x 256 MiB, 32 MiB hot sets)
  oversize    a 640 MiB hot set, more than the fast node holds
  zipf        Zipf(0.99) over the pages, fast node full of own data; the
              "hot set" measured is the hottest 128 MiB
  mixed       three workloads with 16/48/96 MiB hot sets, fast node full

A system this kernel lacks (from /boot/config-<kernel> and its version) or
that fails its check in the guest gets a row that says so and why, never a
row of zeros.  Results go to results/bench-placement/<UTC time>/:
<scenario>.<system>.json (every workload's per-second lines, the workers'
CPU time, /proc/vmstat deltas, hagent's counters, the summary),
<scenario>.<system>.console.log, and <scenario>.png, the hot set's fast
share against time with a line per system.  The closing table, per scenario
and system: the hot set's fast share at 30/60/120 s, the time until it first
reaches 0.90, the steady share (mean over the last 30 s), the recovery after
a move, pages migrated (pgmigrate_success, base pages) over the run and the
last 30 s, failed migrations, CPU time in % of one CPU of the kernel threads
that do the work (hagentd, kdamond.N, kswapdN) and the workloads' own system
time (hint faults and the migrations NUMA balancing does in them), and the
system's own evidence that it acted (promotions/demotions, DAMOS bytes).

    scripts/bench-placement                                # full-own, every system
    scripts/bench-placement --scenario full-own --system tpp --system damon --system hagent
    scripts/bench-placement --scenario one --system hagent --thp never --param scan_interval_ms=500
    scripts/bench-placement --report results/bench-placement/<time>   # tables and plots again
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import re
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
from tests.vm.bench_placement import DEFAULT_SCENARIOS, PROGRESS, SCENARIOS, THP_MODES
from tests.vm.bench_systems import SYSTEMS

FAST_MEM, SLOW_MEM = "512M", "1536M"
THRESHOLD = 0.90  # "the hot set is in the fast tier"
STEADY_S = 30.0  # the steady share is the mean over this many last seconds
SHARE_AT = (30, 60, 120)  # seconds at which the table reads the share
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


def fast_hot_purity(workloads: Sequence[Mapping[str, Any]]) -> float | None:
    """Of the workloads' pages on the fast node over the last STEADY_S
    seconds, the share that are hot-set pages (all workloads together): the
    workload's own truth for "the fast tier holds the hottest pages", which
    matters where the hot set does not fit (oversize)."""
    hot = fast = 0.0
    for w in workloads:
        ready, samples = w.get("ready") or {}, w.get("samples") or []
        pages, hot_pages = ready.get("pages"), ready.get("hot_pages")
        if not pages or not hot_pages or not samples:
            continue
        end = samples[-1]["elapsed"]
        tail = [x for x in samples if x["elapsed"] > end - STEADY_S]
        h = _mean(x.get("hot_fast_share") for x in tail)
        r = _mean(x.get("region_fast_share") for x in tail)
        if h is None or r is None:
            continue
        hot += h * hot_pages
        fast += r * pages
    return min(hot / fast, 1.0) if fast else None


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


def share_at(points: Sequence[Mapping[str, Any]], t: float) -> float | None:
    """The hot share of the last point at or before @t seconds (within a
    second of it); None when the run did not get there."""
    near = [p for p in points if t - 1.0 <= p["elapsed"] <= t + 0.5]
    return near[-1].get("hot_fast_share") if near else None


def workers_cpu(
    kthreads: Sequence[Mapping[str, Any]], last: float | None = None
) -> dict[str, Any] | None:
    """CPU time in % of one CPU of the system's kernel threads (per thread and
    their total) and of the workloads' system time, from the per-second
    {"t", "cpu_ns": {comm: ns}, "workload_sys_ns"} samples; with @last over
    the last @last seconds only."""
    timed = _tail(list(kthreads), last) if last is not None else list(kthreads)
    if len(timed) < 2 or timed[-1]["t"] <= timed[0]["t"]:
        return None
    a, b = timed[0], timed[-1]
    span = (b["t"] - a["t"]) * 1e9
    per = {
        name: 100.0 * (ns - a["cpu_ns"][name]) / span
        for name, ns in b["cpu_ns"].items()
        if ns is not None and a["cpu_ns"].get(name) is not None
    }
    return {
        "threads": per,
        "total": sum(per.values()),
        "workload_sys": 100.0 * (b["workload_sys_ns"] - a["workload_sys_ns"]) / span,
    }


def vm_moved(
    vmstats: Sequence[Mapping[str, Any]], last: float | None = None
) -> dict[str, int] | None:
    """Base pages migrated and failed (pgmigrate_success / _fail) over the run,
    or over its last @last seconds, from the per-second /proc/vmstat deltas."""
    have = [v for v in vmstats if "pgmigrate_success" in v]
    if last is not None:
        have = _tail(have, last)
        if len(have) < 2:
            return None
        first = have[0]
    elif have:
        first = {"pgmigrate_success": 0, "pgmigrate_fail": 0}
    else:
        return None
    return {
        k: int(have[-1].get(f"pgmigrate_{k}", 0) - first.get(f"pgmigrate_{k}", 0))
        for k in ("success", "fail")
    }


def evidence(record: Mapping[str, Any]) -> str:
    """The system's own account that it acted, in one short cell."""
    vm = record.get("vmstat_delta") or (record.get("vmstat") or [{}])[-1]
    system = record.get("system")
    if system == "tpp":
        demoted = sum(v for k, v in vm.items() if k.startswith("pgdemote_"))
        return f"promote {vm.get('pgpromote_success', 0):,} demote {demoted:,} pages"
    if system == "autonuma":
        return f"numa_pages_migrated {vm.get('numa_pages_migrated', 0):,}"
    if system == "damon":
        c = record.get("system_counters") or {}
        parts = [
            f"{action.removeprefix('migrate_')} {c[action]['sz_applied'] / 2**20:,.0f} MiB"
            for action in ("migrate_hot", "migrate_cold")
            if action in c
        ]
        return "applied " + ", ".join(parts) if parts else "no DAMOS stats"
    if system == "hagent":
        totals: Mapping[str, int] = next(
            (st["totals"] for st in reversed(record.get("stats", [])) if st.get("totals")), {}
        )
        if "promoted" in totals:
            return f"promoted {totals['promoted']:,} demoted {totals.get('demoted', 0):,} pages"
    return "-"


def summarize(record: Mapping[str, Any]) -> dict[str, Any]:
    """The figures of one run's record (as tests/vm/bench_placement.py writes it)."""
    if record.get("unavailable"):
        return {"unavailable": record["unavailable"], "samples": 0}
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
        **{f"hot_share_at_{t}": share_at(points, t) for t in SHARE_AT},
        **share_summary(points, move_at),
        "workers_cpu": workers_cpu(record.get("kthreads", [])),
        "workers_cpu_steady": workers_cpu(record.get("kthreads", []), last=STEADY_S),
        "pages_migrated": vm_moved(record.get("vmstat", [])),
        "pages_migrated_steady": vm_moved(record.get("vmstat", []), last=STEADY_S),
        "evidence": evidence(record),
        "hagentd_cpu_pct": cpu,
        "hagentd_cpu_pct_steady": hagentd_cpu_pct(record.get("hagentd", []), last=STEADY_S),
        "hagentd_split_pct": split,
        "migrate_cpu_pct": mig_cpu,
        "policy_sampler_pct": policy_sampler_pct(cpu, mig_cpu),
        "migration": migration(stats),
        "fast_above_bar": fast_above_bar(record.get("histograms", [])),
        "fast_hot_purity": fast_hot_purity(workloads),
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


COLUMNS = (
    "system", "@30s", "@60s", "@120s", "t(0.90)", "steady", "recovery",
    "migrated", "last 30s", "failed", "workers CPU", "workload sys", "updates/s", "evidence",
)  # fmt: skip


def table(scenario: str, summaries: Mapping[str, Mapping[str, Any]], header: str = "") -> str:
    """One scenario's table, a row per system; a system that could not run
    gets a line with the reason instead of figures."""
    rows = [COLUMNS]
    notes, per = [], []
    for system, s in summaries.items():
        if s.get("unavailable"):
            notes.append(f"{system}: unavailable: {s['unavailable']}")
            continue
        if not s.get("samples"):
            notes.append(f"{system}: failed: {s.get('error', 'no samples')}")
            continue
        moved, moved_last = s.get("pages_migrated") or {}, s.get("pages_migrated_steady") or {}
        cpu = s.get("workers_cpu") or {}
        rows.append(
            (
                system,
                *(_cell(s.get(f"hot_share_at_{t}"), ".2f") for t in SHARE_AT),
                _cell(s.get("time_to_hot_090"), ".0f", "never"),
                _cell(s.get("steady_hot_share"), ".3f"),
                "-" if s.get("move_at") is None else _cell(s.get("recovery_s"), ".0f", "never"),
                _cell(moved.get("success"), ","),
                _cell(moved_last.get("success"), ","),
                _cell(moved.get("fail"), ","),
                _pct(cpu.get("total")),
                _pct(cpu.get("workload_sys")),
                _cell(s.get("updates_per_s"), ",.0f"),
                s.get("evidence", "-"),
            )
        )
        if s.get("error"):
            notes.append(f"{system}: run failed after {s['samples']} samples: {s['error']}")
        if s.get("hagentd_cpu_pct") is not None or s.get("migration") is not None:
            notes.append(hagent_line(system, s))
        if s.get("per_workload"):
            ws = s["per_workload"]
            per.append(
                f"{system} per workload: t(0.90) "
                + "/".join(_cell(w["time_to_hot_090"], ".0f", "never") for w in ws)
                + ", steady "
                + "/".join(_cell(w["steady_hot_share"], ".3f") for w in ws)
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join([r[0].ljust(widths[0]), *(c.rjust(widths[i]) for i, c in enumerate(r) if i)])
        for r in rows
    ]
    title = f"{scenario}: {SCENARIOS[scenario].about}" if scenario in SCENARIOS else scenario
    return "\n".join([title + (f" [{header}]" if header else ""), *lines, *per, *notes])


def fast_above_bar(histograms: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """From hagent's last histogram: the bar, and the share of its fast-tier
    pages whose count is at or above it (the oversize criterion: the fast
    tier holds the hottest pages)."""
    for h in reversed(histograms):
        fast = {int(k): v for k, v in h.get("fast", {}).items()}
        total = sum(fast.values())
        if h.get("bar") is None or not total:
            continue
        above = sum(v for k, v in fast.items() if k >= h["bar"])
        return {"t": h.get("t"), "bar": h["bar"], "share": above / total}
    return None


def hagent_line(system: str, s: Mapping[str, Any]) -> str:
    """hagent's own cost and churn, from its counters: hagentd's CPU over the
    run, outside migrate_pages() and over the last 30 s; the pages its
    counters say moved over the last 30 s; its migration failure rate."""
    mig = s.get("migration")
    return (
        f"{system}: hagentd {_pct(s.get('hagentd_cpu_pct'))} of a CPU "
        f"(outside migrate_pages() {_pct(s.get('policy_sampler_pct'))}, "
        f"last {STEADY_S:.0f} s {_pct(s.get('hagentd_cpu_pct_steady'))}); "
        f"moved over the last {STEADY_S:.0f} s {_cell(s.get('moved_steady'), ',')}; "
        f"migration failure rate {'-' if mig is None else _cell(mig['failure_rate'], '.2%')}"
        + (
            f"; bar {above['bar']}, fast tier at or above it {above['share']:.3f}"
            if (above := s.get("fast_above_bar"))
            else ""
        )
    )


NOTES = (
    "@Ns: the hot set's share on the fast node N s after the updates started; t(0.90): "
    f"seconds until it first reached {THRESHOLD:.2f}; steady: mean over the last {STEADY_S:.0f} s; "
    "migrated: base pages (pgmigrate_success) over the run and its last 30 s; "
    "workers CPU: hagentd, kdamond.N and kswapdN in % of one CPU; workload sys: the "
    "workloads' system time (hint faults, migrations on fault)"
)


def plot(scenario: str, records: Mapping[str, Mapping[str, Any]], path: Path, title: str) -> None:
    """The hot set's fast share against time, one line per system (the mean
    over its workloads, and each workload's thin), the move as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=PLOT_SIZE, dpi=PLOT_DPI)
    for name, rec in records.items():
        points = aggregate(rec.get("workloads", []))
        if not points:
            continue
        # one colour per system, the same in every plot
        colour = f"C{SYSTEMS.index(name) if name in SYSTEMS else len(SYSTEMS)}"
        n = len(rec.get("workloads", []))
        xs = [p["elapsed"] for p in points]
        ys = [p["hot_fast_share"] for p in points]
        label = name if n == 1 else f"{name} (mean of {n})"
        ax.plot(xs, [float("nan") if y is None else y for y in ys], color=colour, label=label)
        if n > 1:  # each workload's own line, thin: the mean can hide an unfair split
            for w in rec["workloads"]:
                ws = w.get("samples", [])
                ax.plot(
                    [x["elapsed"] for x in ws],
                    [
                        float("nan") if x.get("hot_fast_share") is None else x["hot_fast_share"]
                        for x in ws
                    ],
                    color=colour,
                    linewidth=0.6,
                    alpha=0.4,
                )
        move_at = rec.get("config", {}).get("move_at")
        if move_at is not None:
            ax.axvline(move_at, color="grey", linestyle="--", linewidth=0.8)
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


# --- which systems a kernel can run, from its config ---------------------------


def kernel_config(kernel: str) -> dict[str, str]:
    """/boot/config-<kernel>, else the .config of its build tree (a kernel
    kept out of /boot: scripts/debug-kernel), as {CONFIG_X: value} (empty
    when neither exists)."""
    path = Path(f"/boot/config-{kernel}")
    if not path.exists():
        path = Path(f"/lib/modules/{kernel}/build/.config")
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            k, _, v = line.partition("=")
            out[k] = v
    return out


def kernel_version(kernel: str) -> tuple[int, int]:
    m = re.match(r"(\d+)\.(\d+)", kernel)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def unsupported(system: str, kernel: str, config: Mapping[str, str], module: bool) -> str | None:
    """Why @system cannot run on @kernel (None when it can, as far as the
    host can tell; the guest checks the rest)."""
    version = kernel_version(kernel)
    if system in ("autonuma", "tpp") and config.get("CONFIG_NUMA_BALANCING") != "y":
        return "kernel built without CONFIG_NUMA_BALANCING"
    if system == "tpp" and version < (6, 10):
        return (
            f"{version[0]}.{version[1]} gives a CPU-less node present at boot no lower memory "
            "tier (HMAT places boot-time nodes since 6.10; before, only dax/kmem hot-added "
            "memory gets one), so there is nothing to demote to"
        )
    if system == "damon":
        if config.get("CONFIG_DAMON_PADDR") != "y" or config.get("CONFIG_DAMON_SYSFS") != "y":
            return "kernel built without DAMON (CONFIG_DAMON_PADDR, CONFIG_DAMON_SYSFS)"
        if version < (6, 11):
            return "DAMOS migrate_hot/migrate_cold arrived in 6.11"
    if system == "hagent" and not module:
        return f"{runner.module_path(kernel)} is not built (make module)"
    return None


# --- the driver: one VM per scenario and system --------------------------------


def say(text: str) -> None:
    print(f"bench-placement: {text}", flush=True)


def guest_command(
    scenario: str, system: str, duration: float, params: list[str], threads: int, thp: str
) -> str:
    argv = ["python", "-m", "tests.vm.bench_placement", f"--scenario={scenario}"]
    argv += [f"--system={system}", f"--duration={duration:g}", f"--threads={threads}"]
    argv += [f"--param={p}" for p in params] + [f"--thp={thp}"]
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


def run_one(
    scenario: str, system: str, args: argparse.Namespace, kernel: str, outdir: Path
) -> dict[str, Any]:
    name = f"bench-placement-{scenario}-{system}"
    vmdir = runner.RESULTS / "vm" / kernel / name
    shutil.rmtree(vmdir, ignore_errors=True)  # so that follow() never reads an old log
    command = guest_command(scenario, system, args.duration, args.param, args.threads, args.thp)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        fut = pool.submit(
            runner.run,
            kernel,
            command,
            name=name,
            fast_mem=FAST_MEM,
            slow_mem=SLOW_MEM,
            timeout=args.timeout or args.duration + OVERHEAD_S,
            hmat=True,
        )
        try:
            follow(vmdir / "console.log", fut)
        except KeyboardInterrupt:
            _kill_own_vms()
            raise
        result = fut.result()
    raw = vmdir / f"{scenario}.{system}.json"
    record: dict[str, Any] = json.loads(raw.read_text()) if raw.exists() else {}
    record.setdefault("scenario", scenario)
    record.setdefault("system", system)
    if not result.ok:
        record.setdefault("error", f"VM: {result.verdict()}")
    record["vm"] = {
        "kernel": kernel,
        "verdict": result.verdict(),
        "seconds": round(result.seconds, 1),
        "fast_mem": FAST_MEM,
        "slow_mem": SLOW_MEM,
        "hmat": True,
    }
    record["summary"] = summarize(record)
    (outdir / f"{scenario}.{system}.json").write_text(json.dumps(record, indent=1) + "\n")
    if (vmdir / "console.log").exists():
        shutil.copyfile(vmdir / "console.log", outdir / f"{scenario}.{system}.console.log")
    say(
        f"{scenario}/{system}: {record.get('unavailable') and 'unavailable' or result.verdict()} "
        f"in {result.seconds:.0f}s"
    )
    return record


def unavailable_record(scenario: str, system: str, kernel: str, reason: str) -> dict[str, Any]:
    return {"scenario": scenario, "system": system, "kernel": kernel, "unavailable": reason}


def header_of(records: Mapping[str, Mapping[str, Any]]) -> str:
    """Kernel, THP and duration of a scenario's runs, for its table's title."""
    ran = [r for r in records.values() if r.get("config")]
    kernels = sorted(
        {r.get("kernel") or r.get("vm", {}).get("kernel", "?") for r in records.values()}
    )
    parts = [", ".join(kernels)]
    if ran:
        cfg = ran[0]["config"]
        thp = cfg.get("thp", "?")
        enabled = ran[0].get("thp_enabled") or ""
        m = re.search(r"\[(\w+)\]", enabled)
        parts.append(f"THP {thp}" + (f" (kernel: {m.group(1)})" if thp == "system" and m else ""))
        parts.append(f"{cfg.get('duration', 0):g} s")
    return "; ".join(parts)


def report(by_scenario: Mapping[str, Mapping[str, Mapping[str, Any]]], outdir: Path) -> None:
    """Prints a table per scenario, draws <scenario>.png and writes
    summary.json ({scenario: {"header", "systems": {system: summary}}})."""
    out: dict[str, Any] = {}
    for scenario, records in by_scenario.items():
        header = header_of(records)
        png = outdir / f"{scenario}.png"
        plot(scenario, records, png, f"{scenario}: hot set on the fast node ({header})")
        summaries = {sys_: summarize(r) for sys_, r in records.items()}
        out[scenario] = {"header": header, "systems": summaries}
        print(table(scenario, summaries, header))
        print()
    (outdir / "summary.json").write_text(json.dumps(out, indent=1) + "\n")
    print(NOTES)
    say(f"results in {outdir} (plots: {', '.join(f'{s}.png' for s in by_scenario)})")


def load_records(outdir: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """{scenario: {system: record}} from @outdir's <scenario>.<system>.json."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for scenario in SCENARIOS:
        for system in SYSTEMS:
            p = outdir / f"{scenario}.{system}.json"
            if p.exists():
                out.setdefault(scenario, {})[system] = json.loads(p.read_text())
    return out


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
    p.add_argument(
        "--system",
        action="append",
        choices=[*SYSTEMS, "all"],
        help="repeatable (default: every one the kernel supports; all: every one, "
        "the unsupported reported as such)",
    )
    p.add_argument("--duration", type=float, default=180, help="seconds of updates (default 180)")
    p.add_argument(
        "--param", action="append", default=[], metavar="K=V", help="hagent module parameter"
    )
    p.add_argument("--kernel", help="kernel release (default: the newest installed)")
    p.add_argument("--threads", type=int, default=1, help="update threads per workload")
    p.add_argument(
        "--thp",
        choices=THP_MODES,
        default="system",
        help="THP for the workloads: system = as the kernel is configured (default), "
        "madvise = MADV_HUGEPAGE, never = MADV_NOHUGEPAGE",
    )
    p.add_argument(
        "--no-thp", dest="thp", action="store_const", const="never", help="= --thp never"
    )
    p.add_argument("--out", type=Path, help="results directory (default: a new timestamped one)")
    p.add_argument("--timeout", type=float, help="seconds per VM (default: duration + 1200)")
    p.add_argument("--report", type=Path, metavar="DIR", help="only redo DIR's tables and plots")
    args = p.parse_args(argv)

    if args.report:
        done = load_records(args.report)
        if not done:
            p.error(f"no results in {args.report}")
        report(done, args.report)
        return 0

    chosen = args.scenario or list(DEFAULT_SCENARIOS)
    scenarios = list(SCENARIOS) if "all" in chosen else list(dict.fromkeys(chosen))
    kernels = [args.kernel] if args.kernel else runner.installed_kernels()[-1:]
    if not kernels:
        p.error("no kernel with headers installed; run scripts/setup")
    kernel = kernels[0]
    if not Path(f"/boot/vmlinuz-{kernel}").exists():
        p.error(f"no kernel image /boot/vmlinuz-{kernel}")
    config = kernel_config(kernel)
    module = runner.module_path(kernel).exists()
    why = {s: unsupported(s, kernel, config, module) for s in SYSTEMS}
    if args.system and "all" not in args.system:
        systems = list(dict.fromkeys(args.system))
    else:
        systems = [s for s in SYSTEMS if args.system or why[s] is None]
    subprocess.run(["make", "-s", "-C", str(runner.TOP), "progs"], check=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    outdir = args.out or runner.RESULTS / "bench-placement" / stamp
    outdir.mkdir(parents=True, exist_ok=True)

    runs = [(sc, sy) for sc in scenarios for sy in systems]
    by_scenario: dict[str, dict[str, dict[str, Any]]] = {}
    for i, (scenario, system) in enumerate(runs, 1):
        sc = SCENARIOS[scenario]
        shapes = ", ".join(f"{w.region_mib}/{w.hot_mib}" for w in sc.workloads)
        reason = why[system]
        if reason:
            say(f"[{i}/{len(runs)}] {scenario}/{system}: unavailable on {kernel}: {reason}")
            rec = unavailable_record(scenario, system, kernel, reason)
            (outdir / f"{scenario}.{system}.json").write_text(json.dumps(rec, indent=1) + "\n")
        else:
            say(
                f"[{i}/{len(runs)}] {scenario}/{system}: {sc.about}; region/hot MiB {shapes}, "
                f"THP {args.thp}, {args.duration:g} s on {kernel} "
                f"(booting; a few minutes beyond the duration under TCG)"
            )
            rec = run_one(scenario, system, args, kernel, outdir)
        by_scenario.setdefault(scenario, {})[system] = rec
    report(by_scenario, outdir)
    return 0 if all(not r.get("error") for rs in by_scenario.values() for r in rs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
