# SPDX-License-Identifier: GPL-2.0
"""scripts/bench-placement's pure parts: the summary of a run, the table, the
plot, the guest command; and scripts/hotset.c's output, run on the host."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
from tests.vm import bench_placement as guest
from tests.vm import bench_placement_host as bp

TOP = Path(__file__).resolve().parents[2]


def samples(shares: list[float | None], rate: float = 1e6, move_at: float | None = None) -> Any:
    """One workload's per-second lines with the given hot shares, from t=1."""
    return [
        {
            "event": "sample",
            "elapsed": float(i + 1),
            "updates_per_s": rate,
            "hot_fast_share": s,
            "region_fast_share": None if s is None else s / 8,
            "hot_offset": 0 if move_at is None or i + 1 < move_at else 1 << 29,
            "query_ms": 5.0,
        }
        for i, s in enumerate(shares)
    ]


def record(
    workloads: list[list[dict[str, Any]]],
    move_at: float | None = None,
    stats: list[dict[str, Any]] | None = None,
    hagentd: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "scenario": "synthetic",
        "config": {"move_at": move_at},
        "workloads": [{"pid": 100 + i, "samples": s} for i, s in enumerate(workloads)],
        "stats": stats or [],
        "hagentd": hagentd or [],
    }


def hagent_line(s: dict[str, Any]) -> str:
    """The table's line of hagent's own figures for summary @s."""
    line = next(
        ln for ln in bp.table("one", {"hagent": s}).splitlines() if ln.startswith("hagent:")
    )
    assert line == bp.hagent_line("hagent", s)
    return line


def ramp(n: int, reach: int) -> list[float | None]:
    """Share i / reach for i < reach, then 1.0: first >= 0.9 at i = 0.9 * reach."""
    return [min(1.0, i / reach) for i in range(n)]


def test_ramp_reaches_threshold_and_holds() -> None:
    s = bp.summarize(record([samples(ramp(120, 50))]))
    # share at elapsed t is (t - 1) / 50: first >= 0.9 at t = 46
    assert s["time_to_hot_090"] == 46.0
    assert s["steady_hot_share"] == 1.0
    assert s["steady_region_share"] == 1.0 / 8
    assert s["recovery_s"] is None and s["move_at"] is None
    assert s["updates_per_s"] == 1e6
    assert s["samples"] == 120 and s["elapsed"] == 120.0
    assert s["hagentd_cpu_pct"] is None and s["migration"] is None


def test_never_reaching_is_none_and_steady_uses_last_30s() -> None:
    shares: list[float | None] = [0.0] * 90 + [0.5] * 30
    s = bp.summarize(record([samples(shares)]))
    assert s["time_to_hot_090"] is None
    assert s["steady_hot_share"] == 0.5  # the last 30 s only
    assert "never" in bp.table("one", {"baseline": s})


def test_move_recovery_counts_from_the_move() -> None:
    # reaches 1.0 by t=51, the move at t=90 drops it to 0, then it ramps again
    shares = ramp(89, 50) + ramp(91, 20)
    s = bp.summarize(record([samples(shares, move_at=90)], move_at=90.0))
    assert s["time_to_hot_090"] == 46.0  # before the move
    # after it: share (t - 90) / 20 at elapsed t >= 90: 0.9 at t = 108
    assert s["recovery_s"] == 18.0
    assert s["steady_hot_share"] == 1.0


def test_time_to_threshold_ignores_what_happens_after_the_move() -> None:
    shares: list[float | None] = [0.0] * 89 + [1.0] * 91  # only after the move
    s = bp.summarize(record([samples(shares)], move_at=90.0))
    assert s["time_to_hot_090"] is None
    assert s["recovery_s"] == 0.0


def test_null_shares_are_skipped() -> None:
    shares: list[float | None] = [None, None, 0.95] + [1.0] * 10
    s = bp.summarize(record([samples(shares)]))
    assert s["time_to_hot_090"] == 3.0


def test_workloads_are_joined_by_index_shares_averaged_rates_summed() -> None:
    a = samples([0.0, 0.5, 1.0], rate=1e6)
    b = samples([0.0, 1.0, 1.0], rate=3e6)
    points = bp.aggregate([{"samples": a}, {"samples": b}])
    assert [p["hot_fast_share"] for p in points] == [0.0, 0.75, 1.0]
    assert [p["updates_per_s"] for p in points] == [4e6] * 3
    s = bp.summarize(record([a, b]))
    assert s["time_to_hot_090"] == 3.0
    assert [w["time_to_hot_090"] for w in s["per_workload"]] == [3.0, 2.0]
    assert "synthetic per workload: t(0.90) 3/2, steady 0.500/0.667" in bp.table(
        "multi", {"synthetic": s}
    )
    # a workload that stopped early shortens the joined series
    assert len(bp.aggregate([{"samples": a}, {"samples": b[:2]}])) == 2


def test_hagentd_cpu_stats_latency_and_migration_failure_rate() -> None:
    cpu = [
        {"t": 1.0, "cpu_ns": 1_000_000_000},
        {"t": 2.0, "cpu_ns": None},  # hagentd not found that second
        {"t": 11.0, "cpu_ns": 1_500_000_000},
    ]
    stats = [
        {"t": 1.0, "stats_ms": 100.0, "totals": {"promoted": 0}},
        {
            "t": 3.0,
            "stats_ms": 2900.0,
            "totals": {
                "promoted": 600,
                "demoted": 200,
                "exchanges": 100,
                "migrate_failed.ebusy": 60,
                "migrate_failed.enomem": 40,
            },
        },
        {"t": 12.0, "error": "HagentError: hagent is not loaded"},
    ]
    s = bp.summarize(record([samples([1.0] * 12)], stats=stats, hagentd=cpu))
    assert s["hagentd_cpu_pct"] == pytest.approx(5.0)  # 0.5 s over 10 s
    assert s["stats_latency"] == {"mean_ms": 1500.0, "max_ms": 2900.0}
    mig = s["migration"]
    assert mig["failed"] == 100 and mig["attempted"] == 1000
    assert mig["failure_rate"] == pytest.approx(100 / 1000)
    line = hagent_line(s)
    assert "hagentd 5.00% of a CPU" in line and "failure rate 10.00%" in line


def test_steady_cpu_is_the_last_30s_of_the_run() -> None:
    # 2 s of CPU in the first 60 s (converging), 0.3 s in the last 30 s (settled)
    cpu = [{"t": float(t), "cpu_ns": t * 2_000_000_000 // 60} for t in range(61)]
    cpu += [{"t": 60.0 + t, "cpu_ns": 2_000_000_000 + t * 10_000_000} for t in range(1, 31)]
    s = bp.summarize(record([samples([1.0] * 90)], hagentd=cpu))
    assert s["hagentd_cpu_pct"] == pytest.approx(100 * 2.3 / 90)
    # from t = 60 (30 s before the last sample): 0.3 s over 30 s
    assert s["hagentd_cpu_pct_steady"] == pytest.approx(1.0)
    assert "last 30 s 1.00%" in hagent_line(s)
    assert bp.hagentd_cpu_pct(cpu[:1], last=30.0) is None  # one sample: no span


def test_moved_over_the_last_30s_shows_churn_after_settling() -> None:
    # 30,000 pages in by t = 40, then 10 exchanges (10 up, 10 down) a second
    stats = [{"t": 0.0, "totals": {"promoted": 0, "demoted": 0}}]
    stats += [
        {"t": float(t), "totals": {"promoted": 30_000 + 10 * (t - 40), "demoted": 10 * (t - 40)}}
        for t in range(40, 101)
    ]
    s = bp.summarize(record([samples([1.0] * 100)], stats=stats))
    assert s["moved_steady"] == 600  # from t = 70 to 100: 300 up, 300 down
    assert "moved over the last 30 s 600;" in hagent_line(s)
    assert bp.moved_last(stats[:1]) is None
    assert bp.moved_last([{"t": 0.0, "totals": {}}, {"t": 1.0, "totals": {}}]) is None


def test_cpu_split_by_part_and_policy_plus_sampler() -> None:
    cpu = [{"t": 1.0, "cpu_ns": 0}, {"t": 11.0, "cpu_ns": 1_000_000_000}]  # 10%
    parts = ("scan", "drain", "decay", "place", "migrate")
    zero = {f"policy.{p}_ns": 0 for p in parts} | {"policy.migrate_cpu_ns": 0}
    last = {
        "policy.scan_ns": 300_000_000,
        "policy.drain_ns": 10_000_000,
        "policy.decay_ns": 20_000_000,
        "policy.place_ns": 650_000_000,
        "policy.migrate_ns": 600_000_000,
        "policy.migrate_cpu_ns": 450_000_000,  # its wall time less the waits for a CPU
    }
    stats = [
        {"t": 0.5, "totals": {"promoted": 0}},  # an older module: no policy.* yet
        {"t": 1.0, "totals": {**zero, "promoted": 0}},
        {"t": 11.0, "totals": {**last, "promoted": 10}},
    ]
    s = bp.summarize(record([samples([1.0] * 12)], stats=stats, hagentd=cpu))
    split = s["hagentd_split_pct"]
    assert split == pytest.approx(dict(zip(parts, (3.0, 0.1, 0.2, 0.5, 6.0), strict=True)))
    # CPU time, not wall time: hagentd's 10% less the 4.5% inside migrate_pages()
    assert s["migrate_cpu_pct"] == pytest.approx(4.5)
    assert s["policy_sampler_pct"] == pytest.approx(5.5)
    line = hagent_line(s)
    assert "hagentd 10.00% of a CPU (outside migrate_pages() 5.50%" in line
    assert bp.cpu_split(stats[:2]) is None  # one sample with the counters: no span
    assert bp.migrate_cpu_pct(stats[:2]) is None
    older = [{"t": t, "totals": {"promoted": 0}} for t in (1.0, 11.0)]
    assert (
        bp.summarize(record([samples([1.0] * 12)], stats=older, hagentd=cpu))["policy_sampler_pct"]
        is None
    )  # a module without policy.migrate_cpu_ns: no figure rather than a wrong one


def test_migration_failure_rate_over_the_attempts_the_module_counts() -> None:
    totals = {"promoted": 90, "demoted": 0, "migrate.attempted": 200, "migrate_failed.alloc": 50}
    mig = bp.migration([{"t": 1.0, "totals": totals}])
    assert mig is not None and mig["failure_rate"] == 0.25 and mig["exchanges"] == 0


def test_migration_none_without_counters_or_attempts() -> None:
    assert bp.migration([{"t": 1.0, "totals": {"adopted": 5}}]) is None
    nothing = bp.migration([{"t": 1.0, "totals": {"promoted": 0}}])
    assert nothing is not None and nothing["failure_rate"] is None


def test_table_lists_failed_runs() -> None:
    text = bp.table(
        "one",
        {
            "baseline": bp.summarize(record([samples([0.0] * 40)])),
            "hagent": {"samples": 0, "error": "VM: VM did not return status"},
        },
    )
    assert text.splitlines()[0].startswith("one: ")
    assert text.splitlines()[1].startswith("system")
    assert "hagent: failed: VM: VM did not return status" in text


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, after checking its signature and chunk CRCs."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append(kind)
        pos += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND" and b"IDAT" in chunks
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_plot_writes_a_png_of_the_set_size(tmp_path: Path) -> None:
    recs = {
        "baseline": record([samples([0.0] * 60)]),
        "hagent": record([samples(ramp(30, 10) + ramp(30, 10), move_at=30)], move_at=30.0),
        "tpp": record([samples(ramp(60, 20)), samples(ramp(60, 30))]),
        "damon": {"workloads": []},
    }
    png = tmp_path / "move.png"
    bp.plot("move", recs, png, "synthetic")
    w, h = png_size(png.read_bytes())
    assert (w, h) == (int(bp.PLOT_SIZE[0] * bp.PLOT_DPI), int(bp.PLOT_SIZE[1] * bp.PLOT_DPI))


def test_report_redoes_table_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, shares in (("hagent", ramp(40, 10)), ("baseline", [0.0] * 40)):
        rec = {**record([samples(shares)]), "scenario": "one", "system": name}
        (tmp_path / f"one.{name}.json").write_text(json.dumps({**rec, "kernel": "6.12.0-test"}))
    (tmp_path / "unrelated.json").write_text("{}")
    assert bp.main(["--report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    rows = [ln.split()[0] for ln in out.splitlines()[2:4]]
    assert rows == ["baseline", "hagent"]  # in the systems' order
    assert png_size((tmp_path / "one.png").read_bytes())[0] > 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert list(summary["one"]["systems"]) == ["baseline", "hagent"]
    assert summary["one"]["systems"]["hagent"]["time_to_hot_090"] == 10.0


def test_guest_command_and_workload_argv() -> None:
    cmd = bp.guest_command("one", "hagent", 180, ["scan_interval_ms=500", "x=a b"], 2, "never")
    assert cmd == (
        "python -m tests.vm.bench_placement --scenario=one --system=hagent --duration=180 "
        "--threads=2 --param=scan_interval_ms=500 '--param=x=a b' --thp=never"
    )
    move = guest.SCENARIOS["move"]
    argv = guest.hotset_argv(move, move.workloads[0], 180, 1, "system")
    assert "--move-at=90" in argv and "--slow-node=1" in argv and "--ready-wait" in argv
    assert "--thp-system" in argv and "--layout=slow" in argv
    one = guest.SCENARIOS["one"]
    argv = guest.hotset_argv(one, one.workloads[0], 180, 1, "never")
    assert not any(a.startswith("--move-at") for a in argv) and "--no-thp" in argv
    full = guest.SCENARIOS["full-own"]
    assert "--layout=fill-fast" in guest.hotset_argv(full, full.workloads[0], 180, 1, "system")
    other = guest.SCENARIOS["full-other"]
    filler = guest.filler_argv(other, 240)
    assert "--idle" in filler and "--layout=fast" in filler and "--region-mib=512" in filler


def test_multi_asks_the_fast_tier_for_as_much_as_one_workload() -> None:
    one, multi = guest.SCENARIOS["one"].workloads, guest.SCENARIOS["multi"].workloads
    assert sum(w.hot_mib for w in multi) == sum(w.hot_mib for w in one)
    assert sum(w.region_mib for w in multi) == sum(w.region_mib for w in one)
    assert guest.DEFAULT_SCENARIOS == ("full-own",)


@pytest.fixture(scope="module")
def hotset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    exe = tmp_path_factory.mktemp("hotset") / "hotset"
    flags = ["-O2", "-Wall", "-Wextra", "-Werror", "-pthread"]
    src = str(TOP / "scripts" / "hotset.c")
    subprocess.run([cc, *flags, "-o", str(exe), src, "-lm"], check=True)
    return exe


def test_hotset_prints_ready_samples_and_done(hotset: Path) -> None:
    argv = [str(hotset), "--region-mib=8", "--hot-mib=2", "--duration=2", "--move-at=1"]
    argv += ["--threads=2", "--ready-wait"]
    out = subprocess.run(argv, input="go\n", capture_output=True, text=True, timeout=60, check=True)
    lines = [json.loads(ln) for ln in out.stdout.splitlines()]
    ready, *ticks, done = lines
    assert ready["event"] == "ready" and ready["pages"] == 2048 and ready["hot_pages"] == 512
    assert int(ready["addr"], 16) % (2 << 20) == 0
    assert [t["event"] for t in ticks] == ["sample", "sample"]
    assert [t["hot_offset"] for t in ticks] == [4 << 20, 4 << 20]  # moved at 1 s
    for t in ticks:
        assert t["updates_per_s"] > 0
        # the host's nodes are whatever they are: a share, or null without NUMA
        assert t["hot_fast_share"] is None or 0.0 <= t["hot_fast_share"] <= 1.0
    assert done["event"] == "done" and done["updates"] > 0
    # the defaults: the system's THP setting, first touch, uniform updates
    assert ready["thp"] == "system" and ready["layout"] == "first-touch"
    assert ready["pattern"] == "uniform" and ready["hot_update_share"] == 0.9


def run_hotset(hotset: Path, *args: str) -> list[dict[str, Any]]:
    """A short run's lines: 8 MiB, a 2 MiB hot set, one second."""
    argv = [str(hotset), "--region-mib=8", "--hot-mib=2", "--duration=1", *args]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
    return [json.loads(ln) for ln in out.stdout.splitlines()]


@pytest.mark.parametrize(
    ("args", "thp", "layout"),
    [
        ([], "system", "first-touch"),
        (["--slow-node=0"], "system", "slow"),  # --slow-node alone: slow
        (["--thp", "--layout=fill-fast", "--slow-node=0"], "madvise", "fill-fast"),
        (["--thp", "--no-thp", "--layout=fast"], "never", "fast"),  # the last wins
        (["--no-thp", "--thp-system", "--layout=slow", "--slow-node=0"], "system", "slow"),
        (["--layout=first-touch", "--slow-node=0"], "system", "first-touch"),
    ],
)
def test_hotset_ready_line_names_thp_and_layout(
    hotset: Path, args: list[str], thp: str, layout: str
) -> None:
    # one NUMA node on the host: node 0 is both the fast and the slow node
    ready, *_ = run_hotset(hotset, "--fast-node=0", *args)
    assert ready["event"] == "ready" and ready["thp"] == thp and ready["layout"] == layout
    assert ready["pattern"] == "uniform"
    for key in ("hot_fast_share", "region_fast_share"):
        assert ready[key] is None or 0.0 <= ready[key] <= 1.0


def test_hotset_hot_update_share_is_one_when_all_is_hot(hotset: Path) -> None:
    ready, *_ = run_hotset(hotset, "--hot-mib=8", "--hot-frac=0.5")
    assert ready["hot_update_share"] == 1.0


@pytest.mark.parametrize("zipf_s", ["0.99", "0.5", "1", "1.5"])
def test_hotset_zipf_runs_and_its_hot_set_takes_more_than_its_size(
    hotset: Path, zipf_s: str
) -> None:
    ready, *ticks, done = run_hotset(hotset, "--pattern=zipf", f"--zipf-s={zipf_s}")
    assert ready["pattern"] == "zipf"
    # the hottest quarter of the pages takes more than a quarter of the updates
    assert 0.25 < ready["hot_update_share"] < 1.0
    assert [t["event"] for t in ticks] == ["sample"] and ticks[0]["updates_per_s"] > 0
    assert done["event"] == "done" and done["updates"] > 0


def test_hotset_zipf_hot_update_share_grows_with_s(hotset: Path) -> None:
    shares = [
        run_hotset(hotset, "--pattern=zipf", f"--zipf-s={s}", "--idle")[0]["hot_update_share"]
        for s in ("0.5", "0.99", "2")
    ]
    assert shares == sorted(shares) and len(set(shares)) == 3


def test_hotset_idle_updates_nothing_but_samples(hotset: Path) -> None:
    argv = [str(hotset), "--region-mib=8", "--hot-mib=2", "--duration=2", "--idle"]
    argv += ["--layout=fast", "--fast-node=0"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    ready, *ticks, done = [json.loads(ln) for ln in out.stdout.splitlines()]
    assert ready["layout"] == "fast"
    assert [t["event"] for t in ticks] == ["sample", "sample"]
    assert all(t["updates_per_s"] == 0 for t in ticks)
    assert all(t["hot_fast_share"] is None or 0.0 <= t["hot_fast_share"] <= 1.0 for t in ticks)
    assert done["event"] == "done" and done["updates"] == 0


@pytest.mark.parametrize(
    "args",
    [
        ["--hot-mib=16", "--region-mib=8"],
        ["--hot-mib=6", "--region-mib=8", "--move-at=1"],  # no disjoint place to move to
        ["--hot-frac=1.5"],
        ["--threads=0"],
        ["--duration=x"],
        ["stray"],
        ["--layout=diagonal"],
        ["--layout=slow"],  # slow and fill-fast need --slow-node
        ["--layout=fill-fast", "--fast-node=0"],
        ["--pattern=gauss"],
        ["--pattern=zipf", "--zipf-s=0"],
        ["--pattern=zipf", "--zipf-s=-1"],
        ["--zipf-s=x"],
        ["--zipf-s=nan"],
    ],
)
def test_hotset_refuses_bad_options(hotset: Path, args: list[str]) -> None:
    r = subprocess.run([str(hotset), *args], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and r.stderr.startswith("hotset: ") and r.stderr.count("\n") == 1


def test_fast_above_bar_from_the_last_histogram() -> None:
    hists = [
        {"t": 10.0, "bar": 3, "fast": {"0": 100}, "slow": {}},
        {"t": 20.0, "bar": 5, "fast": {"4": 50, "5": 30, "9": 20}, "slow": {"8": 7}},
        {"t": 30.0, "bar": None, "fast": {}, "slow": {}},  # module gone: skipped
    ]
    assert bp.fast_above_bar(hists) == {"t": 20.0, "bar": 5, "share": 0.5}
    assert bp.fast_above_bar([]) is None
    s = {"fast_above_bar": {"t": 20.0, "bar": 5, "share": 0.5}}
    assert bp.hagent_line("hagent", s).endswith("; bar 5, fast tier at or above it 0.500")
    assert "bar" not in bp.hagent_line("hagent", {})


def test_read_histogram_sums_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "histogram"
    f.write_text(
        "bar 4\nhysteresis 3\n10 bar 4\n10 fast 0 100\n10 slow 6 512\n"
        "11 bar 5\n11 fast 0 50\n11 fast 7 3\n"
    )
    monkeypatch.setattr(guest, "HISTOGRAM", f)
    assert guest.read_histogram() == {
        "bar": 4,
        "hysteresis": 3,
        "fast": {"0": 150, "7": 3},
        "slow": {"6": 512},
        "pids": {
            "10": {"bar": 4, "fast": {"0": 100}, "slow": {"6": 512}},
            "11": {"bar": 5, "fast": {"0": 50, "7": 3}, "slow": {}},
        },
    }
    monkeypatch.setattr(guest, "HISTOGRAM", tmp_path / "missing")
    assert guest.read_histogram() is None


def test_fast_hot_purity_is_the_fast_pages_that_are_hot() -> None:
    ready = {"pages": 1000, "hot_pages": 400}
    samples = [
        {"elapsed": float(t), "hot_fast_share": 0.25, "region_fast_share": 0.1} for t in range(60)
    ]
    # 100 hot pages of the 100 fast ones
    assert bp.fast_hot_purity([{"ready": ready, "samples": samples}]) == pytest.approx(1.0)
    half = [{**x, "region_fast_share": 0.2} for x in samples]
    assert bp.fast_hot_purity([{"ready": ready, "samples": half}]) == pytest.approx(0.5)
    assert bp.fast_hot_purity([{"ready": {}, "samples": samples}]) is None
