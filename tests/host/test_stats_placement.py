"""hagentctl stats: the placement section (promotions, demotions, exchanges, failures)."""

import copy
import json

from fake_kernel import STATS, FakeKernel, placement
from rich.text import Text
from test_cli import mib
from test_stats_samples import section
from typer.testing import CliRunner, Result

from hagent.cli import app
from hagent.commands import State
from hagent.commands.stats import (
    abit_huge_window_row,
    abit_window_row,
    failure_rate,
    migrate_failures,
    placement_rows,
)
from hagent.kernel import Stats


def run(st: Stats, *args: str) -> Result:
    return CliRunner().invoke(
        app, ["stats", *args], obj=State(kernel_factory=lambda: FakeKernel(stats=st))
    )


def with_placement() -> Stats:
    st = copy.deepcopy(STATS)
    redis, stress = st["targets"]
    redis["counters"].update(
        placement(promoted=512, demoted=256, exchanges=3, attempted=800, alloc=30, eagain=10)
    )
    stress["counters"].update(placement())  # managed, nothing moved yet
    st["totals"].update(
        placement(promoted=1024, demoted=256, exchanges=5, attempted=1600, alloc=30, eagain=10)
        | {"migrate_failed.other": 2}
    )
    return st


def test_placement_section_per_target() -> None:
    result = run(with_placement())
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    redis = section(result.stdout, "pid 1234 (redis-server)")
    # its own section, after the counters that were there before
    at = redis.index(["promoted", "512", mib(512)])
    assert redis[at - 1][0] == "scans" and redis[at - 1] != []
    assert redis[at:] == [
        ["promoted", "512", mib(512)],
        ["demoted", "256", mib(256)],
        ["exchanges", "3", ""],
        ["migrations attempted", "800", ""],
        # the reasons that happened only, then failed / attempted = 40 / 800
        ["migrations failed", "40", "alloc 30, eagain 10"],
        ["failure rate", "5.0%", "failed / attempted"],
    ]
    # nothing attempted yet: no rate
    stress = section(result.stdout, "pid 77 (stress-ng-vm)")
    assert stress[-2:] == [
        ["migrations failed", "0", "-"],
        ["failure rate", "-", "failed / attempted"],
    ]
    assert ["promoted", "0", mib(0)] in stress
    # none of them is repeated under "other"
    assert "other: promoted" not in result.stdout and "other: migrate" not in result.stdout


def test_placement_section_totals() -> None:
    result = run(with_placement())
    totals = section(result.stdout, "totals since load")
    assert totals[-2:] == [
        ["migrations failed", "42", "alloc 30, eagain 10, other 2"],
        ["failure rate", "2.6%", "failed / attempted"],
    ]
    assert ["exchanges", "5", ""] in totals


def test_released_migrate_is_a_release_reason() -> None:
    st = with_placement()
    st["targets"][0]["counters"]["released.migrate"] = 7
    result = run(st, "--pid", "1234")
    redis = section(result.stdout, "pid 1234 (redis-server)")
    assert ["released", str(2048 + 7), "unmap 2000, fork 48, migrate 7"] in redis


def test_no_placement_counters_no_section() -> None:
    """An older module: the section is simply absent."""
    result = run(STATS)
    assert result.exit_code == 0, result.output
    assert "promoted" not in result.stdout and "migrations" not in result.stdout


def test_placement_json_has_every_counter() -> None:
    st = with_placement()
    result = run(st, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["targets"][0]["counters"] == st["targets"][0]["counters"]
    assert doc["totals"]["migrate_failed.other"] == 2


def test_failure_rate_and_rows() -> None:
    assert failure_rate({}) is None
    assert failure_rate(placement()) is None  # nothing attempted
    assert failure_rate(placement(attempted=4, alloc=1)) == 0.25
    assert migrate_failures(placement(ebusy=2)) == {
        "isolation": 0, "alloc": 0, "eagain": 0, "ebusy": 2, "enomem": 0, "other": 0,
    }  # fmt: skip
    assert placement_rows({"managed_folios": 1}) == []
    # only the counters the module sends
    (row,) = placement_rows({"exchanges": 1})
    assert row[:2] == ("exchanges", "1")
    failed, rate = placement_rows({"migrate_failed.alloc": 3})  # no migrate.attempted
    assert (failed[0], failed[1], str(failed[2])) == ("migrations failed", "3", "alloc 3")
    assert rate[:2] == ("failure rate", "-")


def test_abit_window_row() -> None:
    c = {"abit.windows": 4, "abit.window_us": 100_000, "abit.primed": 2000}
    assert abit_window_row({**c, "samples.abit.total": 500}) == (
        "abit windows",
        "4",
        Text("mean 25.0 ms, 25% touched"),
    )
    assert abit_window_row({**c, "abit.windows": 0}) == ("abit windows", "0", Text("-"))
    assert abit_window_row({"abit.windows": 4}) is None  # an older module: no row


def test_abit_huge_window_row() -> None:
    c = {"abit.huge_windows": 4, "abit.huge_window_us": 1_000, "abit.huge_primed": 100}
    assert abit_huge_window_row(c) == (
        "abit THP windows",
        "4",
        Text("mean 250 us, 100 THPs measured"),
    )
    assert abit_huge_window_row({**c, "abit.huge_windows": 0}) is None  # no THPs
    assert abit_huge_window_row({"abit.windows": 4}) is None  # an older module
    # the touched share counts the THPs primed in their own windows
    base = {"abit.windows": 4, "abit.window_us": 100_000, "abit.primed": 1900}
    row = abit_window_row({**base, "abit.huge_primed": 100, "samples.abit.total": 500})
    assert row is not None and str(row[2]) == "mean 25.0 ms, 25% touched"


def test_abit_window_row_is_shown_after_scans() -> None:
    st = copy.deepcopy(STATS)
    st["targets"][0]["counters"].update(
        {"abit.windows": 10, "abit.window_us": 500_000, "abit.primed": 1000}
    )
    result = run(st, "--pid", "1234")
    assert result.exit_code == 0, result.output
    rows = section(result.stdout, "pid 1234 (redis-server)")
    at = rows.index(["abit windows", "10", "mean 50.0 ms, 20% touched"])
    assert rows[at - 1][0] == "scans"
    assert not any(r and r[0].startswith("other: abit.window") for r in rows)
