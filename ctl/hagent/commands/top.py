"""Watch managed processes live: pages per tier, access samples and rates."""

import time
from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live

from hagent import jsonout
from hagent.commands import kernel, parse_pid
from hagent.dashboard import Dashboard
from hagent.errors import usage_error
from hagent.kernel import Kernel

EPILOG = (
    "Per managed process: pages in the fast and slow tier, the fast share of them, the "
    "share of sampled accesses that hit the fast tier in the last interval (an estimate "
    "from samples), samples per second per source, adoption and release rates, the bias "
    "(see stats --help), promotions (with a sparkline), demotions and exchanges per second "
    "and, once a migration failed, failed migrations per second, since enabled and by "
    "reason. Under the header, 'scan:' says whether hagentd scans at the full pace, is "
    "settling or has settled (idle pace), from the scan steps of the last 10 s, and what "
    "woke the full pace. Sparklines show the last minute. Processes with the "
    "most managed pages come first; those that do not fit are counted as '+K more'.\n\n"
    "Examples:\n\n"
    "hagentctl top\n\n"
    "hagentctl top --pid 1234 --interval 2\n\n"
    "hagentctl top --once --json | jq '.targets[].rates'\n\n"
    "hagentctl top --json --interval 10 --count 6 >> figures.jsonl"
)

# The time source and the wait between snapshots; tests replace both.
clock: Callable[[], float] = time.monotonic
sleep: Callable[[float], None] = time.sleep


def snapshot(k: Kernel, dash: Dashboard, pid: int | None) -> None:
    st = k.stats(pid)
    dash.update(clock(), st)


def top(
    ctx: typer.Context,
    pid: Annotated[
        str | None,
        typer.Option("--pid", metavar="PID", help="Only this managed process.", show_default=False),
    ] = None,
    interval: Annotated[
        float,
        typer.Option("--interval", min=0.05, metavar="SECONDS", help="Time between snapshots."),
    ] = 1.0,
    once: Annotated[
        bool,
        typer.Option(
            "--once", help="Take two snapshots --interval apart, print one frame and exit."
        ),
    ] = False,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the computed figures as JSON (per target: pid, comm, managed_fast, "
            "managed_slow, fast_share, sampled_fast_share, rates, bias, placement; and the "
            "scan pace): with --once one object, else one object per line (JSON lines) "
            "every --interval, each over the last interval.",
        ),
    ] = False,
    count: Annotated[
        int,
        typer.Option(
            "--count",
            min=0,
            metavar="N",
            help="Stop after N frames (0: run until interrupted).",
            show_default=False,
        ),
    ] = 0,
) -> None:
    n = parse_pid(pid) if pid is not None else None
    if once and count:
        raise usage_error("--once and --count exclude each other (--once is one frame)")
    k = kernel(ctx)
    dash = Dashboard(cgroup_path=k.cgroup_path)
    snapshot(k, dash, n)
    if once:
        sleep(interval)
        snapshot(k, dash, n)
        if json_out:
            jsonout.echo(dash.figures().as_json())
        else:
            console = Console(highlight=False)
            console.print(dash.frame(console.width, console.height))
        return
    try:
        if json_out:
            stream_json(k, dash, n, interval, count)
        else:
            live(k, dash, n, interval, count)
    except KeyboardInterrupt:
        return


def stream_json(k: Kernel, dash: Dashboard, pid: int | None, interval: float, count: int) -> None:
    """One line of --once --json's figures per interval (the first after one interval)."""
    frames = 0
    while not count or frames < count:
        sleep(interval)
        snapshot(k, dash, pid)
        jsonout.echo(dash.figures().as_json(), line=True)
        frames += 1


def live(k: Kernel, dash: Dashboard, pid: int | None, interval: float, count: int) -> None:
    """The dashboard redrawn in place, the first frame at once (without rates)."""
    console = Console(highlight=False)
    frames = 0
    with Live(console=console, auto_refresh=False, screen=False) as screen:
        while True:
            screen.update(dash.frame(console.width, console.height), refresh=True)
            frames += 1
            if count and frames >= count:
                return
            sleep(interval)
            snapshot(k, dash, pid)
