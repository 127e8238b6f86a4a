"""hagentctl: the Typer app, global options and the mapping of HagentError."""

import sys
import traceback
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from hagent import __version__
from hagent.commands import (
    State,
    config,
    disable,
    enable,
    events,
    inject,
    load,
    replay,
    run,
    state,
    stats,
    status,
    top,
    triage,
    unload,
)
from hagent.errors import EXIT_CODES_HELP, ExitCode, HagentError


class _Group(TyperGroup):
    """Turns a HagentError from any command into one line on stderr."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except HagentError as err:
            if ctx.params.get("debug"):
                traceback.print_exc(file=sys.stderr)
            typer.echo(f"hagentctl: error: {err.message}", err=True)
            if err.hint:
                typer.echo(f"hagentctl: hint: {err.hint}", err=True)
            raise typer.Exit(err.exit_code) from None


app = typer.Typer(
    cls=_Group,
    name="hagentctl",
    help=f"Control plane for the hagent memory-tiering kernel module ({__version__}).",
    epilog=EXIT_CODES_HELP + ".",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def version_lines(ctx: typer.Context) -> list[str]:
    """hagentctl's version, then the loaded module's (or why there is none)."""
    lines = [f"hagentctl {__version__}"]
    try:
        lines.append(f"hagent module {state(ctx).kernel.status()['version']}")
    except HagentError as err:
        if err.exit_code == ExitCode.NOT_LOADED:
            lines.append("hagent module: not loaded")
        else:
            lines.append(f"hagent module: unknown ({err.message})")
    return lines


def _print_version(ctx: typer.Context, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    for line in version_lines(ctx):
        typer.echo(line)
    raise typer.Exit()


@app.callback()
def _global_options(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show Python tracebacks for errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print hagentctl's version and the loaded module's, then exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    if not isinstance(ctx.obj, State):
        ctx.obj = State()
    ctx.obj.debug = debug


for _module, _command in (
    (load, load.load),
    (unload, unload.unload),
    (status, status.status),
    (config, config.config),
    (enable, enable.enable),
    (disable, disable.disable),
    (run, run.run),
    (stats, stats.stats),
    (inject, inject.inject),
    (replay, replay.replay),
    (events, events.events),
    (triage, triage.triage),
    (top, top.top),
):
    app.command(
        help=_module.__doc__,
        epilog=_module.EPILOG,
        context_settings=getattr(_module, "CONTEXT_SETTINGS", None),
    )(_command)


def main() -> None:
    app(prog_name="hagentctl")
