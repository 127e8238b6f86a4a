"""hagentctl stats: the samples section, the bias and the balance check."""

import json
from typing import Any

import pytest
from fake_kernel import REDIS, STATS, STRESS, FakeKernel, samples
from test_cli import rows
from typer.testing import CliRunner, Result

from hagent.cli import app
from hagent.commands import State
from hagent.commands.stats import bias, sample_rows, unbalanced
from hagent.kernel import Stats, Target

HEAD = ["source", "total", "fast", "slow", "unmanaged", "invalid", "dropped"]


def run(st: Stats, *args: str) -> Result:
    return CliRunner().invoke(
        app, ["stats", *args], obj=State(kernel_factory=lambda: FakeKernel(stats=st))
    )


def section(out: str, title: str) -> list[list[str]]:
    """The rows of the table titled ``title`` (up to the next title line)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i][:1] not in "┏┃┡│├└"), len(lines)
    )
    table = "\n".join(lines[start + 1 : end]).replace("┃", "│")  # the header row too
    return [r for r in rows(table) if r]


def test_samples_table_per_target() -> None:
    result = run(STATS)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    redis = section(result.stdout, "samples (pid 1234)")
    assert redis == [
        HEAD + ["bias"],
        # bias: (612 / 1024 fast pages) / (356 / 5120 slow pages)
        ["all", "980", "612", "356", "10", "2", "0", "8.60"],
        ["pebs", "780", "512", "256", "10", "2", "0", "10.00"],
        ["ibs", "0", "0", "0", "0", "0", "0", "-"],
        ["abit", "200", "100", "100", "0", "0", "0", "5.00"],
        ["inject", "0", "0", "0", "0", "0", "0", "-"],
    ]
    # no fast page: the bias is undefined everywhere
    stress = section(result.stdout, "samples (pid 77)")
    assert [r[-1] for r in stress] == ["bias", "-", "-", "-", "-", "-"]
    # the samples.* counters are not repeated under "other" in the counter table
    assert "other: samples" not in result.stdout


def test_samples_table_totals_has_no_bias() -> None:
    result = run(STATS)
    totals = section(result.stdout, "samples since load")
    assert totals[0] == HEAD
    assert totals[1] == ["all", "1144", "705", "425", "11", "2", "1"]
    assert totals[-1] == ["inject", "11", "5", "5", "1", "0", "0"]


def test_no_sample_counters_no_table() -> None:
    """A module without sample counters: no samples section, no warning."""
    bare: Target = {**REDIS, "counters": {"managed_pages.fast": 1}}
    result = run({"totals": {"scans": 1}, "targets": [bare]})
    assert result.exit_code == 0, result.output
    assert "samples" not in result.stdout and result.stderr == ""


def test_json_bias() -> None:
    result = run(STATS, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["schema_version", "totals", "targets"]
    assert "bias" not in data["totals"]
    redis, stress = data["targets"]
    assert redis["bias"] == pytest.approx(612 / 1024 / (356 / 5120))
    assert stress["bias"] is None  # JSON null
    # the kernel's counters pass through untouched
    assert redis["counters"] == REDIS["counters"] and stress["counters"] == STRESS["counters"]
    assert data["totals"] == STATS["totals"]
    assert '"bias": null' in result.stdout


@pytest.mark.parametrize(
    ("fast", "slow", "fast_pages", "slow_pages", "expected"),
    [
        (10, 10, 100, 100, 1.0),
        (30, 10, 100, 300, 9.0),
        (0, 10, 100, 100, 0.0),  # fast pages never sampled
        (10, 0, 100, 100, None),  # no slow sample: undefined
        (10, 10, 0, 100, None),  # no fast page
        (10, 10, 100, 0, None),  # no slow page
    ],
)
def test_bias(
    fast: int, slow: int, fast_pages: int, slow_pages: int, expected: float | None
) -> None:
    counters = {"managed_pages.fast": fast_pages, "managed_pages.slow": slow_pages}
    assert bias({"fast": fast, "slow": slow}, counters) == expected


def test_bias_missing_counters() -> None:
    assert bias({}, {}) is None


def test_sample_rows() -> None:
    counters = {"adopted": 1, **samples(ibs=(1, 2, 3, 4, 5))}
    got = sample_rows(counters)
    assert list(got) == ["all", "pebs", "ibs", "abit", "inject"]
    assert got["ibs"] == {
        "total": 15, "fast": 1, "slow": 2, "unmanaged": 3, "invalid": 4, "dropped": 5
    }  # fmt: skip
    assert got["all"] == got["ibs"]


def unbalance(counters: dict[str, int], name: str, delta: int) -> dict[str, int]:
    return {**counters, name: counters[name] + delta}


def test_unbalanced() -> None:
    assert unbalanced(REDIS["counters"]) == []
    bad = unbalance(REDIS["counters"], "samples.pebs.total", 1)
    assert unbalanced(bad) == [
        "samples.pebs.total is 781 but fast + slow + unmanaged + invalid + dropped is 780: "
        "the module's sample counters do not balance (a kernel bug)"
    ]
    # a row with a kind missing (an older or newer module) is not judged
    partial = {k: v for k, v in bad.items() if k != "samples.pebs.dropped"}
    assert unbalanced(partial) == []


def bad_stats() -> Stats:
    redis: Target = {**REDIS, "counters": unbalance(REDIS["counters"], "samples.dropped", 2)}
    totals = unbalance(STATS["totals"], "samples.inject.total", -1)
    return {"totals": totals, "targets": [redis, STRESS]}


def warnings(result: Result) -> list[str]:
    return result.stderr.splitlines()


def test_unbalanced_warns_human() -> None:
    result = run(bad_stats())
    assert result.exit_code == 0, result.output
    assert warnings(result) == [
        "hagentctl: warning: pid 1234: samples.total is 980 but fast + slow + unmanaged + "
        "invalid + dropped is 982: the module's sample counters do not balance (a kernel bug)",
        "hagentctl: warning: totals: samples.inject.total is 10 but fast + slow + unmanaged + "
        "invalid + dropped is 11: the module's sample counters do not balance (a kernel bug)",
    ]
    assert "samples (pid 1234)" in result.stdout  # the tables are still shown


def test_unbalanced_warns_json() -> None:
    result = run(bad_stats(), "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)  # stdout stays valid JSON
    assert data["targets"][0]["counters"]["samples.dropped"] == 2
    assert len(warnings(result)) == 2


def test_one_pid_skips_the_totals_check() -> None:
    result = CliRunner().invoke(
        app,
        ["stats", "--pid", "77"],
        obj=State(kernel_factory=lambda: FakeKernel(stats=bad_stats())),
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # pid 77 balances; the totals are not shown


def test_help_documents_bias() -> None:
    result = CliRunner().invoke(app, ["stats", "--help"])
    assert "bias" in result.stdout and "null" in result.stdout
