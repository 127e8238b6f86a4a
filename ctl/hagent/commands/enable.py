"""Start managing a process's private anonymous memory across the memory tiers."""

from typing import Annotated

import typer

from hagent import jsonout
from hagent.commands import FastNodes, SlowNodes, check_nodelist, kernel, parse_pid
from hagent.kernel import Target

EPILOG = (
    "Examples:\n\n"
    "hagentctl enable --pid 1234\n\n"
    "hagentctl enable --pid 1234 --fast 0 --slow 1-2\n\n"
    "hagentctl enable --pid $(pgrep -o postgres) --follow\n\n"
    "hagentctl enable --pid $(pidof redis-server) --json"
)


def summary(t: Target) -> str:
    """The one line that reports a newly managed target."""
    c = t["counters"]
    followed = " following its forks" if t.get("workload") == t["pid"] else ""
    return (
        f"managing pid {t['pid']} ({t['comm']}){followed} "
        f"fast={t['fast_nodes'] or 'none'} slow={t['slow_nodes'] or 'none'}: "
        f"{c.get('adopted', 0)} pages adopted "
        f"(fast {c.get('managed_pages.fast', 0)}, slow {c.get('managed_pages.slow', 0)})"
    )


def enable(
    ctx: typer.Context,
    pid: Annotated[
        str,
        typer.Option(
            "--pid",
            metavar="PID",
            help="The process to manage (any of its thread ids).",
            show_default=False,
        ),
    ],
    fast: FastNodes = None,
    slow: SlowNodes = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            help="Manage every process it forks from now on too (and theirs), "
            "and itself again after an exec.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the new target as JSON for scripts.")
    ] = False,
) -> None:
    n = parse_pid(pid)
    fast, slow = check_nodelist("--fast", fast), check_nodelist("--slow", slow)
    target = kernel(ctx).enable(n, fast, slow, follow)
    if as_json:
        jsonout.echo(target)
    else:
        typer.echo(summary(target))
