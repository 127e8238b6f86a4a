"""Stop managing a process or a cgroup: every folio goes back to the kernel."""

from typing import Annotated

import typer

from hagent import jsonout
from hagent.commands import cgroup_option, kernel, pid_option, pid_or_cgroup

EPILOG = (
    "Examples:\n\nhagentctl disable --pid 1234\n\n"
    "hagentctl disable --cgroup /sys/fs/cgroup/machine.slice\n\n"
    "hagentctl disable --pid 1234 --json"
)


def disable(
    ctx: typer.Context,
    pid: Annotated[str | None, pid_option("The managed process.")] = None,
    cgroup: Annotated[
        str | None,
        cgroup_option("A managed cgroup: every process that came in through it is given back."),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print what stopped being managed as JSON: {"pid": N} '
            'or {"cgroup": PATH, "id": N}.',
        ),
    ] = False,
) -> None:
    n = pid_or_cgroup(pid, cgroup)
    if n is None:
        assert cgroup is not None
        path, cgroup_id = kernel(ctx).cgroup_id(cgroup)
        kernel(ctx).disable_cgroup(cgroup_id)
        if as_json:
            jsonout.echo({"cgroup": str(path), "id": cgroup_id})
        else:
            typer.echo(f"stopped managing cgroup {path}")
        return
    kernel(ctx).disable(n)
    if as_json:
        jsonout.echo({"pid": n})
    else:
        typer.echo(f"stopped managing pid {n}")
