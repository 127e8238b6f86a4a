"""The overhead counters (overhead.*): figures, `hagentctl stats` and the `top` panel."""

import json
import math

import pytest
from fake_kernel import REDIS, TOTALS, FakeKernel, stats_reply
from rich.console import Console
from typer.testing import CliRunner, Result

from hagent import overhead
from hagent.cli import app
from hagent.commands import State
from hagent.kernel import Stats, genl

# the module's bucket lower bounds: 0, then 2^9 .. 2^27 ns
BOUNDS = [0] + [2**k for k in range(9, 28)]


def counters(
    probes: int = 1,
    tlb: tuple[int, int, int, int, int] = (2054, 86, 0, 1360, 291),
    faults: dict[int, int] | None = None,
    **named: int,
) -> dict[str, int]:
    """A full set of overhead.* counters as the module sends them."""
    faults = faults if faults is not None else {3: 600, 4: 390, 10: 10}  # bucket -> faults
    c = {"overhead.probes": probes}
    for (reason, _, _), n in zip(overhead.TLB_REASONS, tlb, strict=True):
        c[f"overhead.tlb_flush.{reason}"] = n
    c |= {
        "overhead.tlb_flush.pages": 16081,
        "overhead.tlb_flush.full": 2128,
        "overhead.mmap_lock.read": 300,
        "overhead.mmap_lock.read_fail": 3,
        "overhead.mmap_lock.write": 50,
        "overhead.mmap_lock.write_fail": 0,
        "overhead.fault.count": sum(faults.values()),
        "overhead.fault.ns": 5_000_000,
        "overhead.fault.retry": 0,
        "overhead.fault.missed": 2,
        "overhead.policy_cpu_ns": 313_640_908,
        "overhead.trylock_fail": 0,
        "overhead.migrate_ns": 0,
        "overhead.migrate_pages": 0,
    }
    for i, lo in enumerate(BOUNDS):
        c[f"overhead.fault.hist.{lo}"] = faults.get(i, 0)
    c |= {f"overhead.{k.replace('__', '.')}": v for k, v in named.items()}
    return c


def scaled(c: dict[str, int], factor: int) -> dict[str, int]:
    return {k: v if k == "overhead.probes" else v * factor for k, v in c.items()}


def invoke(st: Stats, *args: str) -> Result:
    k = FakeKernel(stats=st)
    # wide enough that no detail wraps
    return CliRunner().invoke(
        app, ["stats", *args], obj=State(kernel_factory=lambda: k), env={"COLUMNS": "200"}
    )


def rows(out: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in out.splitlines()]


def overhead_rows(out: str) -> dict[str, list[str]]:
    """label -> [value, detail] of the overhead table."""
    return {r[0]: r[1:] for r in rows(out[out.index("overhead since load") :]) if r}


# --- figures ----------------------------------------------------------------------


def test_since_load_splits_off_the_prefix_and_the_probes_gauge() -> None:
    ov = overhead.since_load({"adopted": 3, **counters(probes=0)})
    assert ov is not None
    assert ov.probes is False and ov.seconds is None
    assert "probes" not in ov.counts and "adopted" not in ov.counts
    assert ov.counts["tlb_flush.remote_send_ipi"] == 291
    assert ov.tlb_flushes == 2054 + 86 + 1360 + 291
    assert ov.fault_mean_ns == 5_000_000 / 1000
    assert ov.migrate_ns_per_page is None  # nothing migrated
    assert ov.policy_cpu_share is None  # no wall time since load
    assert overhead.since_load({"adopted": 3}) is None
    assert overhead.without({"adopted": 3, **counters()}) == {"adopted": 3}


def test_interval_rates_and_derived_figures() -> None:
    prev = counters(migrate_ns=1000, migrate_pages=1)
    cur = scaled(prev, 3)
    ov = overhead.interval(prev, cur, 2.0)
    assert ov is not None and ov.probes is True and ov.seconds == 2.0
    assert ov.counts["fault.count"] == 2000 and ov.rate("fault.count") == 1000.0
    assert ov.policy_cpu_share == pytest.approx(2 * 313_640_908 / 2e9)
    assert ov.migrate_ns_per_page == 1000.0
    assert ov.fault_mean_ns == 5000.0


def test_interval_leaves_out_what_it_cannot_tell() -> None:
    prev = counters()
    cur = counters(fault__count=10)  # went down: the module was reloaded
    del prev["overhead.trylock_fail"]  # a counter new in this snapshot
    ov = overhead.interval(prev, cur, 1.0)
    assert ov is not None
    assert "fault.count" not in ov.counts and "trylock_fail" not in ov.counts
    assert ov.counts["tlb_flush.full"] == 0
    first = overhead.interval(None, cur, None)  # one snapshot: no rates yet
    assert first is not None and first.counts == {} and first.rate("fault.count") is None
    assert overhead.interval(None, {"adopted": 1}, 1.0) is None


@pytest.mark.parametrize(
    ("faults", "q", "expected"),
    [
        ({3: 600, 4: 390, 10: 10}, 0.5, 4096.0),  # the upper edge of [2048, 4096)
        ({3: 600, 4: 390, 10: 10}, 0.99, 8192.0),  # 990 of 1000 in the first two
        ({3: 600, 4: 390, 10: 10}, 1.0, 2.0**19),
        ({0: 5}, 0.5, 512.0),  # the first bucket holds everything below 512 ns
        ({19: 1}, 0.5, math.inf),  # the last bucket is open
        ({}, 0.5, None),
    ],
)
def test_quantile_is_the_upper_edge_of_its_bucket(
    faults: dict[int, int], q: float, expected: float | None
) -> None:
    ov = overhead.since_load(counters(faults=faults))
    assert ov is not None
    buckets = overhead.histogram(ov.counts)
    assert [lo for lo, _ in buckets] == BOUNDS
    assert overhead.quantile(buckets, q) == expected


def test_histogram_ignores_names_it_cannot_read() -> None:
    counts = {"fault.hist.512": 2, "fault.hist.0": 1, "fault.hist.later": 9, "fault.count": 3}
    assert overhead.histogram(counts) == [(0, 1), (512, 2)]


@pytest.mark.parametrize(
    ("x", "text"),
    [(None, "-"), (812, "812 ns"), (3400, "3.4 µs"), (340_000, "340 µs"), (2.3e9, "2.3 s")],
)
def test_ns(x: float | None, text: str) -> None:
    assert overhead.ns(x) == text


def test_as_json() -> None:
    ov = overhead.interval(counters(), scaled(counters(), 2), 2.0)
    assert ov is not None
    data = json.loads(json.dumps(ov.as_json()))
    assert data["probes"] is True and data["rates"]["fault.count"] == 500.0
    assert data["fault_p50_ns_at_most"] == 4096.0 and data["fault_mean_ns"] == 5000.0
    since = overhead.since_load(counters(faults={19: 1}))
    assert since is not None
    data = since.as_json()
    assert data["counts"]["fault.count"] == 1 and data["fault_p99_ns_at_most"] is None


# --- hagentctl stats ----------------------------------------------------------------


def test_stats_human_shows_the_overhead_table_after_the_totals() -> None:
    st: Stats = {"totals": {**TOTALS, **counters()}, "targets": [REDIS]}
    result = invoke(st)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.index("totals since load") < out.index("overhead since load")
    totals = rows(out[out.index("totals since load") : out.index("overhead since load")])
    assert not any(r and "overhead" in r[0] for r in totals)  # not under "other"
    table = overhead_rows(out)
    assert list(table) == [
        "probes",
        "TLB flushes",
        "mmap_lock (managed)",
        "page faults (managed)",
        "hagentd CPU",
        "mmap_lock tries failed (hagent)",
        "migrated pages",
    ]
    assert table["probes"] == [
        "on",
        "TLB, mmap_lock and fault counters move only while on "
        "(/sys/module/hagent/parameters/probes)",
    ]
    assert table["TLB flushes"] == [
        "3791",
        "task switch 2054, remote shootdown 86, local shootdown 0, local mm shootdown 1360, "
        "IPI sent 291; pages 16081, full 2128",
    ]
    assert table["mmap_lock (managed)"] == ["353", "read 300 (failed 3), write 50 (failed 0)"]
    assert table["page faults (managed)"] == [
        "1000",
        "mean 5.0 µs, p50 ≤ 4.1 µs, p99 ≤ 8.2 µs, total 5.0 ms, not timed 2",
    ]
    assert table["hagentd CPU"] == ["314 ms", ""]
    assert table["mmap_lock tries failed (hagent)"] == ["0", ""]
    assert table["migrated pages"] == ["0", "-"]


def test_stats_human_migration_and_unknown_overhead_counters() -> None:
    c = counters(probes=0, migrate_ns=3_000_000, migrate_pages=1000, fault__retry=4)
    c["overhead.pebs_cpu_ns"] = 7
    result = invoke({"totals": c, "targets": []})
    assert result.exit_code == 0, result.output
    table = overhead_rows(result.stdout)
    assert table["probes"][0] == "off"
    assert table["migrated pages"] == ["1000", "3.0 µs per page, total 3.0 ms"]
    assert "total 5.0 ms, retried 4, not timed 2" in table["page faults (managed)"][1]
    assert list(table)[-1] == "other: overhead.pebs_cpu_ns"
    assert table["other: overhead.pebs_cpu_ns"] == ["7", ""]


def test_stats_human_without_overhead_counters() -> None:
    result = invoke({"totals": dict(TOTALS), "targets": [REDIS]})
    assert result.exit_code == 0, result.output
    assert "overhead" not in result.stdout


def test_stats_with_pid_leaves_the_module_wide_overhead_out() -> None:
    result = invoke({"totals": {**TOTALS, **counters()}, "targets": [REDIS]}, "--pid", "1234")
    assert result.exit_code == 0, result.output
    assert "overhead" not in result.stdout


def test_stats_json_passes_overhead_counters_as_sent() -> None:
    c = counters()
    # through the wire encoding the module uses, then the CLI
    st = genl.stats_from_msg(genl.decode(stats_reply({"totals": c, "targets": []})))
    assert st["totals"] == c
    result = invoke(st, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"] == c


# --- the hagentctl top panel ------------------------------------------------------


def panel_text(ov: overhead.Overhead | None, width: int = 80) -> list[str]:
    console = Console(width=width, record=True, force_terminal=False)
    for line in overhead.panel(ov):
        console.print(line)
    return console.export_text().splitlines()


def test_panel_with_probes_on() -> None:
    ov = overhead.interval(counters(), scaled(counters(), 3), 2.0)
    lines = panel_text(ov)
    assert lines == [
        "overhead  probes on  hagentd CPU 31%  trylock fail/s 0",
        "  TLB flushes/s 3.8k (pages/s 16k): switch 2.1k remote 86 mm 1.4k ipi 291",
        "  managed: mmap_lock/s read 300 (3 failed)  write 50 (0 failed)",
        "  managed: faults/s 1.0k  mean 5.0 µs  p99 ≤ 8.2 µs  untimed/s 2",
    ]


def test_panel_with_probes_off_is_one_line() -> None:
    ov = overhead.interval(counters(probes=0), counters(probes=0, policy_cpu_ns=10**9), 1.0)
    assert ov is not None
    assert panel_text(ov) == ["overhead  probes off  hagentd CPU 69%  trylock fail/s 0"]
    assert overhead.panel(None) == []


def test_panel_shows_migration_time_per_page() -> None:
    prev = counters(probes=0)
    cur = counters(probes=0, migrate_ns=2_100_000, migrate_pages=1000)
    (head,) = panel_text(overhead.interval(prev, cur, 1.0))
    assert head.endswith("migrate 2.1 µs/page")


def test_panel_fits_80_columns_at_its_widest() -> None:
    """Four-character numbers everywhere; all five TLB reasons at once is the
    one case that overflows, and rich cuts it with an ellipsis."""
    big = counters(
        tlb=(9999, 9999, 0, 9999, 9999),
        faults={19: 9999},
        trylock_fail=9999,
        migrate_ns=999_000 * 9999,
        migrate_pages=9999,
        fault__missed=9999,
        policy_cpu_ns=10**9,
        mmap_lock__read_fail=9999,
        mmap_lock__write_fail=9999,
        mmap_lock__read=9999,
        mmap_lock__write=9999,
    )
    ov = overhead.interval(counters(tlb=(0, 0, 0, 0, 0)), big, 1.0)
    lines = [line.plain for line in overhead.panel(ov)]
    assert len(lines) == 4
    assert all(len(line) <= 80 for line in lines), [len(x) for x in lines]
    assert "≥ 134 ms" in lines[3]
    big["overhead.tlb_flush.local_shootdown"] = 9999
    ov = overhead.interval(counters(tlb=(0, 0, 0, 0, 0)), big, 1.0)
    assert all(len(line) <= 80 for line in panel_text(ov))
