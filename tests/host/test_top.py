"""hagentctl top: the dashboard's figures and frames, and the command with a FakeKernel."""

import copy
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from fake_kernel import REDIS, STATS, FakeKernel, counters, placement, samples
from rich.console import Console
from typer.testing import CliRunner, Result

from hagent.cli import app
from hagent.commands import State
from hagent.commands import top as top_cmd
from hagent.dashboard import BLOCKS, FOOTNOTE, Dashboard, sparkline
from hagent.errors import HagentError
from hagent.kernel import Kernel, Stats, Target

# REDIS and STRESS one second later: samples, adoptions, releases moved on
LATER: Stats = copy.deepcopy(STATS)
_r = LATER["targets"][0]["counters"]
_r.update(adopted=8192 + 300, **{"released.unmap": 2000 + 40, "released.exit": 10})
_r.update(samples(pebs=(512 + 90, 256 + 10, 10, 2, 4), abit=(100 + 30, 100 + 20, 0, 0, 0)))
LATER["targets"][1]["counters"].update(samples(abit=(0, 20 + 8, 0, 0, 0)))


class FlushLog(io.StringIO):
    """A stdout that keeps what was written between two flushes."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[str] = []

    def flush(self) -> None:
        self.flushed.append(self.getvalue())
        self.seek(0)
        self.truncate()


def render(dash: Dashboard, width: int = 80, height: int = 24) -> str:
    console = Console(width=width, height=height, record=True, color_system=None)
    console.print(dash.frame(width, height))
    return console.export_text()


def check_fits(text: str, width: int = 80, height: int = 24) -> None:
    lines = text.splitlines()
    assert len(lines) < height, text
    assert all(Console(width=200).measure(line).maximum <= width for line in lines), text
    assert max(len(line) for line in lines) <= width


def target(pid: int, fast: int, slow: int, comm: str = "worker", **extra: int) -> Target:
    c = counters(managed_pages__fast=fast, managed_pages__slow=slow) | samples()
    return {
        "pid": pid,
        "comm": comm,
        "fast_nodes": "0",
        "slow_nodes": "1",
        "counters": c | extra,
    }


# --- the dashboard -----------------------------------------------------------------


def test_rates_from_deltas() -> None:
    dash = Dashboard()
    dash.update(10.0, STATS)
    assert [t.rates for t in dash.figures().targets] == [{}, {}]  # one snapshot: no rates
    dash.update(12.0, LATER)  # two seconds later
    fig = dash.figures()
    assert fig.interval == 2.0
    redis, stress = fig.targets  # by managed pages
    assert (redis.pid, stress.pid) == (1234, 77)
    assert redis.rates == {
        "adopted": 150.0,
        "released": 25.0,
        "samples": 77.0,
        "samples.pebs": 52.0,
        "samples.ibs": 0.0,
        "samples.abit": 25.0,
        "samples.inject": 0.0,
        "dropped": 2.0,
    }
    assert redis.sampled_fast_share == pytest.approx(120 / 150)
    assert redis.fast_share == pytest.approx(1024 / 6144)
    assert (redis.managed_fast, redis.managed_slow, redis.dropped) == (1024, 5120, 4)
    # the bias as `stats` computes it, since enabled: (732/1024) / (386/5120)
    assert redis.bias == pytest.approx((732 / 1024) / (386 / 5120))
    assert stress.sampled_fast_share == 0.0 and stress.rates["samples.abit"] == 4.0
    assert stress.bias is None  # no fast pages

    text = render(dash)
    check_fits(text)
    assert "hagent top" in text and "interval 2.00 s" in text
    assert "1234 redis-server" in text and "77 stress-ng-vm" in text
    assert "fast 1024 pg (4.0 MiB)" in text and "slow 5120 pg (20.0 MiB)" in text
    assert "fast share  16.7%" in text
    assert "sampled accesses in fast tier* 80.0%" in text
    assert "samples/s    77.0" in text and "pebs 52.0" in text and "abit 25.0" in text
    assert "adopted 150/s  released 25.0/s  bias 9.48  dropped 2.0/s (4)" in text
    assert "since load: enabled 3, disabled 0, exited 1" in text
    assert FOOTNOTE in text and "estimate" in FOOTNOTE


def test_a_workloads_processes_are_shown_together() -> None:
    # Largest workload first (a process on its own is one), its processes by
    # pages; each names the workload that brought it in.
    alone = target(10, 3000, 0)
    cg = [target(20, 1000, 0), target(21, 1500, 0)]  # 2500 in all
    run = [target(30, 100, 0), target(31, 2000, 0)]  # 2100 in all
    for t in cg:
        t["cgroup"] = 7
    for t in run:
        t["workload"] = 30
    dash = Dashboard()
    dash.update(1.0, {"totals": {}, "targets": [run[0], cg[0], alone, run[1], cg[1]]})
    fig = dash.figures()
    assert [t.pid for t in fig.targets] == [10, 21, 20, 31, 30]
    assert [t.workload for t in fig.targets] == [
        "",
        "cgroup id 7",
        "cgroup id 7",
        "workload of pid 30",
        "workload root",
    ]
    assert fig.as_json()["targets"][1]["workload"] == "cgroup id 7"
    assert fig.as_json()["targets"][0]["workload"] is None
    text = render(dash, height=60)
    check_fits(text, height=60)
    assert "21 worker   fast 1500 pg (5.9 MiB)   slow 0 pg (0.0 MiB)   cgroup id 7" in text


def test_a_cgroup_workload_is_named_by_its_path_asked_once() -> None:
    asked: list[int] = []

    def path_of(ident: int) -> Path | None:
        asked.append(ident)
        return Path("/sys/fs/cgroup/app") if ident == 7 else None

    members = [target(20, 1000, 0), target(21, 1500, 0), target(40, 10, 0)]
    members[0]["cgroup"] = members[1]["cgroup"] = 7
    members[2]["cgroup"] = 8  # removed since
    dash = Dashboard(cgroup_path=path_of)
    for now in (1.0, 2.0):
        dash.update(now, {"totals": {}, "targets": members})
        fig = dash.figures()
    assert sorted(asked) == [7, 8]  # once each, not every frame
    assert [t.workload for t in fig.targets] == [
        "cgroup /sys/fs/cgroup/app",
        "cgroup /sys/fs/cgroup/app",
        "cgroup id 8 (removed)",
    ]


def test_migrations_failures_overhead_and_totals_when_present() -> None:
    before, after = copy.deepcopy(STATS), copy.deepcopy(STATS)
    new = placement(promoted=10, demoted=4, exchanges=2, attempted=20, enomem=1)
    before["targets"][0]["counters"].update(new)
    after["targets"][0]["counters"].update({k: v * 3 for k, v in new.items()})
    after["targets"][0]["counters"]["migrate_failed.ebusy"] = 5
    before["totals"].update({"abit.tlb_flushes": 100, "checks.failed": 0})
    after["totals"].update({"abit.tlb_flushes": 150, "checks.failed": 2})
    after["totals"]["targets.failsafe"] = 1
    dash = Dashboard()
    dash.update(0.0, before)
    dash.update(0.5, after)
    fig = dash.figures()
    rates = fig.targets[0].rates
    assert (rates["promoted"], rates["demoted"], rates["exchanges"]) == (40.0, 16.0, 8.0)
    assert (rates["migrate_failed.enomem"], rates["migrate_failed.ebusy"]) == (4.0, 10.0)
    assert fig.overhead == {"abit.tlb_flushes": 100.0}
    assert fig.totals["checks.failed"] == 2 and fig.totals["targets.failsafe"] == 1
    text = render(dash)
    check_fits(text)
    assert "promoted/s   40.0" in text and "demoted 16.0/s  exchanges 8.0/s" in text
    # failures by reason since enabled, in the module's order; 8 of 60 attempted
    assert "failed migrations 14.0/s, 8 since enabled (13.3%): ebusy 5  enomem 3" in text
    assert "overhead/s: abit.tlb_flushes 100" in text
    assert "checks failed 2  failsafe 1" in text


def test_missing_and_unknown_counters() -> None:
    bare: Target = {"pid": 5, "comm": "[bold]x", "fast_nodes": "", "slow_nodes": "", "counters": {}}
    odd: Target = dict(REDIS, counters={"zswap.pages": 3, "samples.fpga.total": 7})  # type: ignore[assignment]
    dash = Dashboard()
    for t in (0.0, 1.0):
        dash.update(t, {"totals": {"frobbed": 1}, "targets": [bare, odd]})
    fig = dash.figures()
    assert fig.totals == {"targets": 2}
    by_pid = {f.pid: f for f in fig.targets}
    assert by_pid[5].rates == {} and by_pid[5].fast_share is None and by_pid[5].bias is None
    assert by_pid[1234].rates == {"samples.fpga": 0.0}  # an unknown source still counts
    text = render(dash)
    check_fits(text)
    assert "5 [bold]x" in text and "fast - pg (-)" in text
    assert "since load: -" in text and "overhead" not in text


def with_placement(stats: Stats, pid: int, **values: int) -> Stats:
    """``stats`` with the placement counters on every target (``values`` for ``pid``)."""
    out = copy.deepcopy(stats)
    for t in out["targets"]:
        t["counters"].update(placement(**values) if t["pid"] == pid else placement())
    return out


def test_placement_rates_from_two_frames() -> None:
    before = with_placement(STATS, 1234, promoted=1000, demoted=400, exchanges=10, attempted=1500)
    after = with_placement(
        LATER, 1234, promoted=1600, demoted=500, exchanges=14, attempted=2300, alloc=30, eagain=2
    )
    dash = Dashboard()
    dash.update(0.0, before)
    first = dash.figures().targets[0]
    assert first.placement is not None and first.placement.failed_total == 0
    assert "failed migrations" not in render(dash)  # none yet: no line
    dash.update(2.0, after)
    fig = dash.figures()
    redis, stress = fig.targets
    placement_rates = {k: v for k, v in redis.rates.items() if k not in REDIS_RATES}
    assert placement_rates == {
        "promoted": 300.0,
        "demoted": 50.0,
        "exchanges": 2.0,
        "migrate.attempted": 400.0,
        "migrate_failed.isolation": 0.0,
        "migrate_failed.alloc": 15.0,
        "migrate_failed.eagain": 1.0,
        "migrate_failed.ebusy": 0.0,
        "migrate_failed.enomem": 0.0,
        "migrate_failed.other": 0.0,
    }
    assert redis.placement is not None
    assert redis.placement.attempted == 2300 and redis.placement.failed_total == 32
    assert redis.placement.failure_rate == pytest.approx(32 / 2300)
    assert stress.rates["promoted"] == 0.0 and stress.placement is not None

    text = render(dash)
    check_fits(text)
    assert "promoted/s    300" in text and "demoted 50.0/s  exchanges 2.0/s" in text
    # only the reasons that happened, since enabled; the rate is over the interval
    assert "failed migrations 16.0/s, 32 since enabled (1.4%): alloc 30  eagain 2\n" in text
    assert "isolation" not in text and "ebusy" not in text
    assert "promoted/s      0 " in text and "demoted 0/s  exchanges 0/s" in text  # stress-ng-vm
    assert text.count("failed migrations") == 1  # stress-ng-vm never failed one

    doc = fig.as_json()["targets"][0]
    assert doc["rates"]["promoted"] == 300.0 and doc["rates"]["migrate_failed.alloc"] == 15.0
    assert doc["placement"] == {
        "attempted": 2300,
        "failed": {"isolation": 0, "alloc": 30, "eagain": 2, "ebusy": 0, "enomem": 0, "other": 0},
        "failure_rate": pytest.approx(32 / 2300),
    }


# redis-server's rates between STATS and LATER two seconds apart (test_rates_from_deltas)
REDIS_RATES = ("adopted", "released", "samples", "dropped") + tuple(
    f"samples.{s}" for s in ("pebs", "ibs", "abit", "inject")
)


def test_no_placement_counters_no_placement_lines() -> None:
    """An older module: no placement counters, no placement line, null in JSON."""
    dash = Dashboard()
    dash.update(0.0, STATS)
    dash.update(1.0, LATER)
    fig = dash.figures()
    assert all(t.placement is None for t in fig.targets)
    assert fig.as_json()["targets"][0]["placement"] is None
    text = render(dash)
    assert "promoted" not in text and "failed migrations" not in text


def test_promotions_sparkline() -> None:
    dash = Dashboard()
    for second in range(61):
        # promotions/s rise for 40 s, then stop
        total = sum(range(min(second, 40) + 1)) * 10
        dash.update(float(second), with_placement(STATS, 1234, promoted=total))
    p = dash.figures().targets[0].placement
    assert p is not None and len(p.promoted_spark) == 20
    assert max(p.promoted_spark) == "█" and p.promoted_spark[-1] == "▁"  # stopped: the floor
    rising = p.promoted_spark[: p.promoted_spark.index("█") + 1].strip()
    assert rising == "".join(sorted(rising))
    assert "promoted/s      0 " + p.promoted_spark in render(dash)
    assert len(dash._history[1234].promoted) == 60  # the last minute only


def test_placement_frames_fit_with_failures_everywhere() -> None:
    """Every target with placement and failure lines: 80x24 still holds, +K more counts."""
    fails = {r: 10**12 for r in ("isolation", "alloc", "eagain", "ebusy", "enomem", "other")}
    before: Stats = {"totals": {}, "targets": [target(i, 1000 - i, 10) for i in range(1, 9)]}
    after = copy.deepcopy(before)
    for t in before["targets"]:
        t["counters"].update(placement(promoted=1, attempted=10**13, **fails))
    for t in after["targets"]:
        t["counters"].update(placement(promoted=10**9, attempted=2 * 10**13, **fails))
    for width, height in ((80, 24), (60, 12), (120, 40)):
        dash = Dashboard()
        dash.update(0.0, before)
        dash.update(1.0, after)
        text = render(dash, width, height)
        check_fits(text, width, height)
        assert "more (" in text
    text = render(dash, 80, 24)
    assert text.count("failed migrations") == text.count("promoted/s") >= 2


def test_counter_going_down_has_no_rate() -> None:
    dash = Dashboard()
    dash.update(0.0, STATS)
    reset = copy.deepcopy(STATS)
    reset["targets"][0]["counters"]["adopted"] = 5  # re-enabled under the same pid
    dash.update(1.0, reset)
    assert "adopted" not in dash.figures().targets[0].rates


def test_sparkline_grows_over_the_minute_and_forgets_older() -> None:
    dash = Dashboard()
    stats = copy.deepcopy(STATS)
    lengths = []
    for second in range(0, 90):
        c = stats["targets"][0]["counters"]
        c["samples.total"] += second  # samples/s rises
        c["samples.fast"] += second
        c["managed_pages.fast"] += 50  # the fast share rises
        dash.update(float(second), copy.deepcopy(stats))
        f = dash.figures().targets[0]
        assert len(f.fast_share_spark) == len(f.samples_spark) == 20
        lengths.append(len(f.samples_spark.strip()))
    assert lengths[1] <= lengths[10] < lengths[30] < lengths[59] == 20 == lengths[89]
    assert all(ch in BLOCKS for ch in f.samples_spark)
    assert f.samples_spark[-1] == "█" and f.samples_spark[0] != "█"  # scaled to the max
    assert f.fast_share_spark == "".join(sorted(f.fast_share_spark))  # rising
    assert len(dash._history[1234].points) == 60  # the last minute only


def test_sparkline_scale_and_gaps() -> None:
    assert sparkline([(59.0, 1.0)], now=60.0, top=1.0) == " " * 19 + "█"
    assert sparkline([(1.0, 0.0), (59.0, 0.5)], now=60.0, top=1.0) == "▁" + " " * 18 + "▅"
    assert sparkline([(30.0, None), (59.0, 0.0)], now=60.0) == " " * 19 + "▁"
    assert sparkline([], now=60.0) == " " * 20


def test_many_targets_are_truncated_with_more() -> None:
    targets = [target(100 + i, fast=i * 10, slow=1000 - i) for i in range(30)]
    dash = Dashboard()
    dash.update(0.0, {"totals": {}, "targets": targets})
    dash.update(1.0, {"totals": {}, "targets": targets})
    text = render(dash)
    check_fits(text)
    shown = sorted(
        (t for t in targets if f"{t['pid']} worker" in text),
        key=lambda t: text.index(f"{t['pid']} worker"),
    )
    # the ones with the most managed pages, in that order
    assert [t["pid"] for t in shown] == list(range(129, 129 - len(shown), -1))
    assert 3 <= len(shown) < 30
    assert f"+{30 - len(shown)} more" in text
    assert "hagent top  30 managed" in text and FOOTNOTE in text


@pytest.mark.parametrize(("width", "height"), [(80, 24), (60, 12), (120, 40)])
def test_frame_fits_the_terminal(width: int, height: int) -> None:
    fails = {"migrate_failed." + "x" * 50: 1, "migrate_failed.y" * 3: 2, **placement(other=1)}
    long = target(1, 10**9, 10**9, comm="a-very-long-command-name", **fails)
    dash = Dashboard()
    dash.update(0.0, {"totals": {}, "targets": [long, *[target(i, 1, 1) for i in range(2, 9)]]})
    dash.update(1.0, {"totals": {}, "targets": [long, *[target(i, 1, 1) for i in range(2, 9)]]})
    check_fits(render(dash, width, height), width, height)


def test_nothing_managed() -> None:
    dash = Dashboard()
    dash.update(0.0, {"totals": {}, "targets": []})
    text = render(dash)
    assert "no processes managed" in text and "interval -" in text


# --- the command -------------------------------------------------------------------


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """top's clock and sleep on a fake clock: sleep() moves it, nothing waits."""
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(top_cmd, "clock", lambda: now[0])
    monkeypatch.setattr(top_cmd, "sleep", sleep)
    return slept


def invoke(k: Kernel, *args: str) -> Result:
    return CliRunner().invoke(app, ["top", *args], obj=State(kernel_factory=lambda: k))


def test_once(fake_time: list[float]) -> None:
    k = FakeKernel(stats_seq=[STATS, LATER])
    result = invoke(k, "--once", "--interval", "2")
    assert result.exit_code == 0, result.output
    assert fake_time == [2.0]
    assert [c for c in k.calls if c[0] == "stats"] == [("stats", None), ("stats", None)]
    out = result.stdout
    assert "hagent top  2 managed" in out and "interval 2.00 s" in out
    assert "1234 redis-server" in out and "sampled accesses in fast tier* 80.0%" in out
    assert "adopted 150/s" in out and "\x1b[" not in out


def test_once_json(fake_time: list[float]) -> None:
    k = FakeKernel(stats_seq=[STATS, LATER])
    result = invoke(k, "--once", "--json", "--pid", "1234")
    assert result.exit_code == 0, result.output
    assert fake_time == [1.0]
    assert ("stats", 1234) in k.calls
    doc: dict[str, Any] = json.loads(result.stdout)
    assert doc["interval"] == 1.0
    assert doc["totals"]["targets"] == 1 and doc["totals"]["targets.exited"] == 1
    (t,) = doc["targets"]
    assert t["pid"] == 1234 and t["comm"] == "redis-server"
    assert (t["managed_fast"], t["managed_slow"]) == (1024, 5120)
    assert t["fast_share"] == pytest.approx(1 / 6)
    assert t["sampled_fast_share"] == pytest.approx(0.8)
    assert t["rates"]["adopted"] == 300.0 and t["rates"]["samples.pebs"] == 104.0
    assert t["bias"] == pytest.approx((732 / 1024) / (386 / 5120))


def test_live_until_ctrl_c(monkeypatch: pytest.MonkeyPatch, fake_time: list[float]) -> None:
    k = FakeKernel(stats_seq=[STATS, LATER])

    def sleep(seconds: float) -> None:
        fake_time.append(seconds)
        if len(fake_time) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(top_cmd, "sleep", sleep)
    result = invoke(k, "--interval", "0.5")
    assert result.exit_code == 0, result.output
    assert fake_time == [0.5, 0.5, 0.5]
    assert len([c for c in k.calls if c[0] == "stats"]) == 3
    assert "hagent top" in result.stdout and "redis-server" in result.stdout


def test_json_stream_has_the_figures_of_once(fake_time: list[float]) -> None:
    """Without --once, --json prints one line per interval: --once --json's object each."""
    once = invoke(FakeKernel(stats_seq=[STATS, LATER]), "--once", "--json", "--interval", "0.5")
    k = FakeKernel(stats_seq=[STATS, LATER, LATER])
    result = invoke(k, "--json", "--count", "2", "--interval", "0.5")
    assert result.exit_code == 0, result.output
    assert fake_time == [0.5, 0.5, 0.5]  # --once's, then one per streamed frame
    assert len([c for c in k.calls if c[0] == "stats"]) == 3
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first == json.loads(once.stdout) and first["schema_version"] == 1
    assert second["schema_version"] == 1 and second["interval"] == 0.5
    assert second["targets"][0]["rates"]["adopted"] == 0.0  # LATER, then LATER again


def test_json_stream_until_ctrl_c(monkeypatch: pytest.MonkeyPatch, fake_time: list[float]) -> None:
    def sleep(seconds: float) -> None:
        fake_time.append(seconds)
        if len(fake_time) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(top_cmd, "sleep", sleep)
    result = invoke(FakeKernel(stats_seq=[STATS, LATER]), "--json", "--interval", "0.05")
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and "Traceback" not in result.output
    assert [json.loads(line)["schema_version"] for line in result.stdout.splitlines()] == [1, 1]


def test_json_stream_flushes_every_line(
    monkeypatch: pytest.MonkeyPatch, fake_time: list[float]
) -> None:
    """A reader at the other end of a pipe sees each frame when it is taken."""
    out = FlushLog()
    monkeypatch.setattr(sys, "stdout", out)
    dash = Dashboard()
    k = FakeKernel(stats_seq=[STATS, LATER])
    top_cmd.snapshot(k, dash, None)
    top_cmd.stream_json(k, dash, None, 1.0, 3)
    assert len(out.flushed) == 3
    assert all(text.endswith("\n") and json.loads(text) for text in out.flushed)


def test_live_count(fake_time: list[float]) -> None:
    k = FakeKernel(stats_seq=[STATS, LATER])
    result = invoke(k, "--count", "2", "--interval", "0.5")
    assert result.exit_code == 0, result.output
    assert fake_time == [0.5]  # the first frame at once, the second one interval later
    assert len([c for c in k.calls if c[0] == "stats"]) == 2
    assert "interval 0.50 s" in result.stdout and "adopted 600/s" in result.stdout


def test_once_and_count_exclude_each_other(fake_time: list[float]) -> None:
    result = invoke(FakeKernel(), "--once", "--count", "2")
    assert result.exit_code == 2
    assert result.stderr == (
        "hagentctl: error: --once and --count exclude each other (--once is one frame)\n"
    )


@pytest.mark.parametrize("args", [["--once"], ["--once", "--json"], []])
def test_not_loaded_is_one_line(fake_time: list[float], args: list[str]) -> None:
    err = HagentError("hagent module is not loaded (netlink family 'hagent' not found)", None, 3)
    result = invoke(FakeKernel(loaded=False, fail={"stats": err}), *args)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == f"hagentctl: error: {err.message}\n"


def test_help_has_an_example() -> None:
    result = invoke(FakeKernel(), "--help")
    assert result.exit_code == 0
    assert "hagentctl top --once --json" in result.stdout


def test_bad_arguments(fake_time: list[float]) -> None:
    assert invoke(FakeKernel(), "--once", "--interval", "0").exit_code == 2
    assert invoke(FakeKernel(), "--once", "--pid", "x").exit_code == 2


def test_overhead_panel_when_the_module_reports_overhead() -> None:
    from test_overhead import counters as overhead_counters

    before = copy.deepcopy(STATS)
    before["totals"] |= overhead_counters()
    after = copy.deepcopy(LATER)
    after["totals"] |= {
        k: v * (1 if k == "overhead.probes" else 2) for k, v in overhead_counters().items()
    }
    dash = Dashboard()
    dash.update(10.0, before)
    dash.update(12.0, after)
    text = render(dash)
    check_fits(text)
    assert "overhead  probes on  hagentd CPU 16%  trylock fail/s 0" in text
    assert "  managed: faults/s 500  mean 5.0 µs  p99 ≤ 8.2 µs  untimed/s 1" in text
    fig = dash.figures().as_json()
    assert fig["costs"]["probes"] is True and fig["costs"]["rates"]["fault.count"] == 500.0
    dash = Dashboard()
    dash.update(10.0, STATS)
    dash.update(11.0, LATER)
    assert "probes" not in render(dash) and dash.figures().as_json()["costs"] is None


def paced(steps: int, idle: int, **wake: int) -> Stats:
    st = copy.deepcopy(STATS)
    st["totals"] |= {"scan.steps": steps, "scan.idle_steps": idle}
    st["totals"] |= {f"scan.wake.{k}": v for k, v in wake.items()}
    return st


def test_pace_over_the_last_ten_seconds() -> None:
    dash = Dashboard()
    dash.update(0.0, paced(0, 0, moved=0, slow_touched=0, hot_set=0))
    assert dash.figures().pace is None  # one snapshot: nothing to tell yet
    # Converging: every step at the full pace, woken by a hot set.
    dash.update(4.0, paced(16, 0, moved=0, slow_touched=2, hot_set=1))
    p = dash.figures().pace
    assert p is not None and (p.seconds, p.steps, p.idle) == (4.0, 16, 0)
    assert p.state == "full pace" and p.woken == {"slow_touched": 2, "hot_set": 1}
    text = render(dash)
    assert "scan: full pace, 16 steps (0 idle) in 4 s; woken by slow_touched 2  hot_set 1" in text
    check_fits(text)
    # Settling, then settled: what is older than 10 s no longer counts.
    dash.update(9.0, paced(20, 2, moved=0, slow_touched=2, hot_set=1))
    assert dash.figures().pace.state == "settling"  # type: ignore[union-attr]
    dash.update(20.0, paced(24, 6, moved=0, slow_touched=2, hot_set=1))
    p = dash.figures().pace
    assert p is not None and (p.seconds, p.steps, p.idle, p.woken) == (11.0, 4, 4, {})
    assert p.state == "settled (idle pace)"
    assert p.as_json() == {
        "seconds": 11.0,
        "steps": 4,
        "idle_steps": 4,
        "state": "settled (idle pace)",
        "woken": {},
    }
    assert dash.figures().as_json()["pace"]["state"] == "settled (idle pace)"
    dash.update(31.0, paced(24, 6))
    assert dash.figures().pace.state == "no scan step"  # type: ignore[union-attr]


def test_no_pace_line_without_scan_counters() -> None:
    dash = Dashboard()
    dash.update(0.0, STATS)
    dash.update(1.0, LATER)
    assert dash.figures().pace is None and "scan:" not in render(dash)
