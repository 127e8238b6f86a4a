"""Stop managing a process: every folio it has goes back to the kernel."""

from typing import Annotated

import typer

from hagent.commands import kernel, parse_pid

EPILOG = "Example:\n\nhagentctl disable --pid 1234"


def disable(
    ctx: typer.Context,
    pid: Annotated[
        str,
        typer.Option("--pid", metavar="PID", help="The managed process.", show_default=False),
    ],
) -> None:
    n = parse_pid(pid)
    kernel(ctx).disable(n)
    typer.echo(f"stopped managing pid {n}")
