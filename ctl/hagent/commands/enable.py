"""Start managing a process's (or a cgroup's) private anonymous memory across the memory tiers."""

from typing import Annotated

import typer

from hagent import jsonout
from hagent.commands import (
    FastNodes,
    SlowNodes,
    cgroup_option,
    check_nodelist,
    kernel,
    pid_option,
    pid_or_cgroup,
)
from hagent.errors import usage_error
from hagent.kernel import Target

EPILOG = (
    "Examples:\n\n"
    "hagentctl enable --pid 1234\n\n"
    "hagentctl enable --pid 1234 --fast 0 --slow 1-2\n\n"
    "hagentctl enable --pid $(pgrep -o postgres) --follow\n\n"
    "hagentctl enable --cgroup /sys/fs/cgroup/machine.slice\n\n"
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


def cgroup_summary(path: str, targets: list[Target]) -> str:
    """The line that reports a newly managed cgroup."""
    adopted = sum(t["counters"].get("adopted", 0) for t in targets)
    return (
        f"managing cgroup {path}: {len(targets)} processes in it now, "
        f"{adopted} pages adopted; processes that start in it or move in are managed, "
        "those that move out given back"
    )


PidOption = Annotated[str | None, pid_option("The process to manage (any of its thread ids).")]
CgroupOption = Annotated[
    str | None,
    cgroup_option(
        "A cgroup v2 (/sys/fs/cgroup/app, or app): every process in it and below it, "
        "now and whenever one starts there or moves in."
    ),
]


def enable(
    ctx: typer.Context,
    pid: PidOption = None,
    cgroup: CgroupOption = None,
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
    n = pid_or_cgroup(pid, cgroup)
    fast, slow = check_nodelist("--fast", fast), check_nodelist("--slow", slow)
    if n is None:
        assert cgroup is not None
        if follow:
            raise usage_error("--follow is for --pid: a cgroup follows what enters it by itself")
        path, cgroup_id = kernel(ctx).cgroup_id(cgroup)
        targets = kernel(ctx).enable_cgroup(cgroup_id, fast, slow)
        if as_json:
            jsonout.echo({"cgroup": str(path), "id": cgroup_id, "targets": targets})
        else:
            typer.echo(cgroup_summary(str(path), targets))
        return
    target = kernel(ctx).enable(n, fast, slow, follow)
    if as_json:
        jsonout.echo(target)
    else:
        typer.echo(summary(target))
