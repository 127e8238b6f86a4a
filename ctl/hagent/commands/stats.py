"""Show hagent's counters: per managed process and in total since load."""

import mmap
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hagent import jsonout, overhead
from hagent.commands import kernel, parse_pid
from hagent.kernel import Stats, Target

EPILOG = (
    "Each target also gets a samples table: per source (pebs, ibs, abit, inject) the "
    "samples, weighted by their count, that hit a fast or a slow managed folio, something "
    "mapped but unmanaged, nothing mapped (invalid), or a full ring (dropped); and the "
    "bias = (fast samples / fast pages) / (slow samples / slow pages), how much more often "
    "a fast page is hit than a slow one ('-' when a tier has no pages or no slow sample). "
    "--json adds that bias per target (all sources; null when undefined). The placement "
    "section counts pages promoted and demoted, exchange rounds, pages handed to "
    "migrate_pages() and, by reason, those that failed; failure rate = failed / attempted. "
    "'abit windows' gives the accessed-bit windows measured, their mean length and the share "
    "of primed folios found touched in them.\n\n"
    "Examples:\n\n"
    "hagentctl stats\n\n"
    "hagentctl stats --pid 1234\n\n"
    "hagentctl stats --json | jq '.totals[\"released.unmap\"]'"
)

MiB = 1 << 20
PAGE_SIZE = mmap.PAGESIZE  # the module counts base pages

# The people's view, row by row.  Counter names are the module's (see
# kmod/hagent/counters.h); a name missing from a reply drops its row, a name
# not listed here is shown under "other".
_PAGES = (("managed fast", "managed_pages.fast"), ("managed slow", "managed_pages.slow"))
_HEAD = (("managed folios", "managed_folios"), ("adopted", "adopted"))
# label, prefix: one row with the sum and the non-zero parts
_GROUPS = (
    ("released", "released."),
    ("skipped (last scan)", "skipped."),
    ("scan full pace, woken by", "scan.wake."),
)
_TAIL = (
    ("orphans", "orphans"),
    ("scans", "scans"),
    ("scan steps", "scan.steps"),
    ("scan steps, idle pace", "scan.idle_steps"),
    ("targets enabled", "targets.enabled"),
    ("targets disabled", "targets.disabled"),
    ("targets exited", "targets.exited"),
)
# Placement, a section of its own: pages moved (with their size), exchange
# rounds, pages handed to migrate_pages(), then the failed ones by reason.
_PLACEMENT = (
    ("promoted", "promoted"),
    ("demoted", "demoted"),
    ("exchanges", "exchanges"),
    ("migrations attempted", "migrate.attempted"),
)
_PLACEMENT_PAGES = frozenset({"promoted", "demoted"})
MIGRATE_FAILED = "migrate_failed."
MIGRATE_ATTEMPTED = "migrate.attempted"

SAMPLE_KINDS = ("total", "fast", "slow", "unmanaged", "invalid", "dropped")
_SAMPLES = "samples."


def mib(pages: int) -> str:
    return f"{pages * PAGE_SIZE / MiB:.1f} MiB"


def counter_table(title: Text, counters: Mapping[str, int]) -> Table:
    """One counter set (a target's or the totals) as a three-column table."""
    table = Table(title=title, title_justify="left")
    table.add_column("counter")
    table.add_column("value", justify="right")
    table.add_column("detail")
    shown: set[str] = {k for k in counters if k.startswith(_SAMPLES)}  # their own table

    def single(label: str, name: str, detail: str = "") -> None:
        if name in counters:
            table.add_row(label, str(counters[name]), detail)
            shown.add(name)

    for label, name in _PAGES:
        single(label, name, mib(counters[name]) if name in counters else "")
    for label, name in _HEAD:
        single(label, name)
    for label, prefix in _GROUPS:
        parts = {k: v for k, v in counters.items() if k.startswith(prefix)}
        if parts:
            nonzero = [f"{k.removeprefix(prefix)} {v}" for k, v in parts.items() if v]
            table.add_row(label, str(sum(parts.values())), Text(", ".join(nonzero) or "-"))
            shown.update(parts)
    for label, name in _TAIL:
        single(label, name)
    window = abit_window_row(counters)
    if window:
        table.add_row(*window)
        shown.update(_ABIT_WINDOW)
    huge = abit_huge_window_row(counters)
    if huge:
        table.add_row(*huge)
        shown.update(_ABIT_HUGE_WINDOW)
    placement = placement_rows(counters)
    if placement:
        table.add_section()
        for row in placement:
            table.add_row(*row)
        shown.update(name for _, name in _PLACEMENT)
        shown.update(k for k in counters if k.startswith(MIGRATE_FAILED))
    other = [k for k in counters if k not in shown]
    for i, name in enumerate(other):
        if i == 0:
            table.add_section()
        table.add_row(Text(f"other: {name}"), str(counters[name]), "")
    return table


_ABIT_WINDOW = ("abit.windows", "abit.window_us", "abit.primed")


def abit_window_row(counters: Mapping[str, int]) -> tuple[str, str, Text] | None:
    """The accessed-bit windows measured, their mean length and the share of
    primed folios found touched (the module adapts the window to keep that
    share near 10-30%); None without the counters."""
    if any(name not in counters for name in _ABIT_WINDOW):
        return None
    n = counters["abit.windows"]
    # THPs are primed and found touched in their own windows (the huge ones);
    # the touched share is over every folio primed, in either window.
    primed = counters["abit.primed"] + counters.get("abit.huge_primed", 0)
    if not n:
        return ("abit windows", "0", Text("-"))
    mean_ms = counters["abit.window_us"] / n / 1000
    detail = f"mean {mean_ms:.1f} ms"
    if primed:
        touched = counters.get("samples.abit.total", 0)
        detail += f", {100 * touched / primed:.0f}% touched"
    return ("abit windows", str(n), Text(detail))


_ABIT_HUGE_WINDOW = ("abit.huge_windows", "abit.huge_window_us", "abit.huge_primed")


def abit_huge_window_row(counters: Mapping[str, int]) -> tuple[str, str, Text] | None:
    """The THPs' own windows (512 times shorter than the base pages'): how
    many, their mean length and the THPs measured; None without the counters
    or before any."""
    if any(name not in counters for name in _ABIT_HUGE_WINDOW):
        return None
    n = counters["abit.huge_windows"]
    if not n:
        return None
    mean_us = counters["abit.huge_window_us"] / n
    return (
        "abit THP windows",
        str(n),
        Text(f"mean {mean_us:.0f} us, {counters['abit.huge_primed']} THPs measured"),
    )


def migrate_failures(counters: Mapping[str, int]) -> dict[str, int]:
    """migrate_failed.<reason> -> {reason: pages}, in the module's order."""
    return {
        k.removeprefix(MIGRATE_FAILED): v
        for k, v in counters.items()
        if k.startswith(MIGRATE_FAILED)
    }


def failure_rate(counters: Mapping[str, int]) -> float | None:
    """Failed migrations / attempted ones (pages); None before any attempt."""
    attempted = counters.get(MIGRATE_ATTEMPTED, 0)
    if not attempted:
        return None
    return sum(migrate_failures(counters).values()) / attempted


def placement_rows(counters: Mapping[str, int]) -> list[tuple[str, str, Text]]:
    """The placement section's (label, value, detail) rows; none without its counters.

    Then the failed migrations: their sum with the non-zero reasons, and the
    failure rate (failed / attempted; '-' before any attempt).
    """
    rows = [
        (label, str(counters[name]), Text(mib(counters[name]) if name in _PLACEMENT_PAGES else ""))
        for label, name in _PLACEMENT
        if name in counters
    ]
    failed = migrate_failures(counters)
    if failed:
        parts = ", ".join(f"{reason} {n}" for reason, n in failed.items() if n)
        rows.append(("migrations failed", str(sum(failed.values())), Text(parts or "-")))
        rate = failure_rate(counters)
        shown = "-" if rate is None else f"{100 * rate:.1f}%"
        rows.append(("failure rate", shown, Text("failed / attempted")))
    return rows


def sample_rows(counters: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """samples.<kind> and samples.<source>.<kind> -> {"all" or source: {kind: n}}.

    Sources in the module's order; a kind the module does not send is absent.
    """
    rows: dict[str, dict[str, int]] = {}
    for name, value in counters.items():
        if not name.startswith(_SAMPLES):
            continue
        source, _, kind = name.removeprefix(_SAMPLES).rpartition(".")
        rows.setdefault(source or "all", {})[kind] = value
    return rows


def bias(samples: Mapping[str, int], counters: Mapping[str, int]) -> float | None:
    """(fast samples / fast pages) / (slow samples / slow pages); None if undefined."""
    fast_pages = counters.get("managed_pages.fast", 0)
    slow_pages = counters.get("managed_pages.slow", 0)
    fast, slow = samples.get("fast", 0), samples.get("slow", 0)
    if not (fast_pages and slow_pages and slow):
        return None
    return (fast / fast_pages) / (slow / slow_pages)


def target_bias(t: Target) -> float | None:
    """The bias of a target over all sources (the --json "bias")."""
    return bias(sample_rows(t["counters"]).get("all", {}), t["counters"])


def unbalanced(counters: Mapping[str, int]) -> list[str]:
    """Rows where total != fast + slow + unmanaged + invalid + dropped (a kernel bug)."""
    problems: list[str] = []
    for source, row in sample_rows(counters).items():
        if not all(kind in row for kind in SAMPLE_KINDS):
            continue
        parts = sum(row[kind] for kind in SAMPLE_KINDS[1:])
        if row["total"] != parts:
            name = _SAMPLES + (f"{source}." if source != "all" else "") + "total"
            problems.append(
                f"{name} is {row['total']} but fast + slow + unmanaged + invalid + dropped "
                f"is {parts}: the module's sample counters do not balance (a kernel bug)"
            )
    return problems


def samples_table(title: str, counters: Mapping[str, int], with_bias: bool = True) -> Table | None:
    """One row per sample source (and "all"), one column per kind, then the bias."""
    rows = sample_rows(counters)
    if not rows:
        return None
    table = Table(title=Text(title), title_justify="left")
    table.add_column("source")
    kinds = [k for k in SAMPLE_KINDS if any(k in row for row in rows.values())]
    for kind in kinds:
        table.add_column(kind, justify="right")
    if with_bias:
        table.add_column("bias", justify="right")
    for source, row in rows.items():
        cells = [Text(source)] + [str(row.get(k, "-")) for k in kinds]
        if with_bias:
            b = bias(row, counters)
            cells.append("-" if b is None else f"{b:.2f}")
        table.add_row(*cells)
        if source == "all" and len(rows) > 1:
            table.add_section()
    return table


def cgroup_names(
    path_of: Callable[[int], Path | None],
    targets: Iterable[Target],
    known: dict[int, str] | None = None,
) -> dict[int, str]:
    """The cgroups ``targets`` came in through, id -> path (or "id N (removed)"),
    asking ``path_of`` only for ids not ``known`` yet (which it fills)."""
    names = known if known is not None else {}
    for ident in {t["cgroup"] for t in targets if "cgroup" in t} - names.keys():
        path = path_of(ident)
        names[ident] = str(path) if path is not None else f"id {ident} (removed)"
    return names


def workload_of(t: Target, cgroups: Mapping[int, str] | None = None) -> str:
    """Which workload brought ``t`` in: "" for none."""
    if "cgroup" in t:
        ident = t["cgroup"]
        return f"cgroup {(cgroups or {}).get(ident, f'id {ident}')}"
    if "workload" in t:
        root = t["workload"]
        return "workload root" if root == t["pid"] else f"workload of pid {root}"
    return ""


def target_title(t: Target, cgroups: Mapping[int, str] | None = None) -> Text:
    workload = workload_of(t, cgroups)
    return Text(
        f"pid {t['pid']} ({t['comm']})  "
        f"fast {t['fast_nodes'] or 'none'}  slow {t['slow_nodes'] or 'none'}"
        + (f"  {workload}" if workload else "")
    )


def render(
    st: Stats, console: Console, totals: bool = True, cgroups: Mapping[int, str] | None = None
) -> None:
    """The people's view of a Stats: one table per target, then the totals;
    ``cgroups`` names the cgroups targets came in through (id -> path)."""
    if not st["targets"]:
        console.print(Text("no processes managed"))
    for t in st["targets"]:
        console.print(counter_table(target_title(t, cgroups), t["counters"]))
        _print_samples(console, f"samples (pid {t['pid']})", t["counters"], with_bias=True)
    if totals and st["totals"]:
        console.print(counter_table(Text("totals since load"), overhead.without(st["totals"])))
        # no bias: the sample totals include exited targets, the page totals do not
        _print_samples(console, "samples since load", st["totals"], with_bias=False)
        costs = overhead.since_load(st["totals"])
        if costs is not None:
            console.print(overhead.table(costs))


def _print_samples(
    console: Console, title: str, counters: Mapping[str, int], with_bias: bool
) -> None:
    table = samples_table(title, counters, with_bias)
    if table is not None:
        console.print(table)


def balance_warnings(st: Stats, totals: bool = True) -> list[str]:
    """Every unbalanced sample row of the targets (and the totals), named."""
    found = [f"pid {t['pid']}: {p}" for t in st["targets"] for p in unbalanced(t["counters"])]
    if totals:
        found += [f"totals: {p}" for p in unbalanced(st["totals"])]
    return found


def as_json(st: Stats) -> dict[str, Any]:
    """The --json document: the module's counters as sent, plus "bias" per target."""
    return {
        "totals": st["totals"],
        "targets": [{**t, "bias": target_bias(t)} for t in st["targets"]],
    }


def stats(
    ctx: typer.Context,
    pid: Annotated[
        str | None,
        typer.Option("--pid", metavar="PID", help="Only this managed process.", show_default=False),
    ] = None,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print JSON for scripts: flat dotted counter names as the module sends them, "
            'plus a computed "bias" per target (a float, or null when undefined).',
        ),
    ] = False,
) -> None:
    n = parse_pid(pid) if pid is not None else None
    st = kernel(ctx).stats(n)
    if json_out:
        jsonout.echo(as_json(st))
    else:
        cgroups = cgroup_names(kernel(ctx).cgroup_path, st["targets"])
        render(st, Console(highlight=False), totals=n is None, cgroups=cgroups)
    for warning in balance_warnings(st, totals=n is None):
        typer.echo(f"hagentctl: warning: {warning}", err=True)
