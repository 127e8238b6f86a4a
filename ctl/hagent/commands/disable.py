"""Stop managing a process or a cgroup: every folio goes back to the kernel."""

from typing import Annotated

import typer

from hagent.commands import kernel
from hagent.commands.enable import pid_or_cgroup

EPILOG = (
    "Examples:\n\nhagentctl disable --pid 1234\n\n"
    "hagentctl disable --cgroup /sys/fs/cgroup/machine.slice"
)


def disable(
    ctx: typer.Context,
    pid: Annotated[
        str | None,
        typer.Option("--pid", metavar="PID", help="The managed process.", show_default=False),
    ] = None,
    cgroup: Annotated[
        str | None,
        typer.Option(
            "--cgroup",
            metavar="PATH",
            help="A managed cgroup: every process that came in through it is given back.",
            show_default=False,
        ),
    ] = None,
) -> None:
    n = pid_or_cgroup(pid, cgroup)
    if n is None:
        assert cgroup is not None
        path, cgroup_id = kernel(ctx).cgroup_id(cgroup)
        kernel(ctx).disable_cgroup(cgroup_id)
        typer.echo(f"stopped managing cgroup {path}")
        return
    kernel(ctx).disable(n)
    typer.echo(f"stopped managing pid {n}")
