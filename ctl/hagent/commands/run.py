"""Run a command with its memory managed from its first instruction."""

import subprocess
from typing import Annotated

import typer

from hagent.commands import FastNodes, SlowNodes, check_nodelist, kernel
from hagent.commands.enable import summary
from hagent.errors import HagentError
from hagent.kernel import process

EPILOG = (
    "hagentctl starts CMD stopped at its exec, manages it there, lets it run, "
    "and exits with its status (128+N when signal N ended it; 127: CMD not found, "
    "126: not executable). SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM and SIGWINCH "
    "sent to hagentctl are passed on; SIGINT and SIGQUIT from the terminal reach CMD "
    "directly. Every process CMD forks is managed too (and theirs), and so is "
    "each again after an exec.\n\n"
    "Examples:\n\n"
    "hagentctl run -- redis-server --port 7000\n\n"
    "hagentctl run --fast 0 --slow 2 -- ./bench --threads 8"
)

# Options end at CMD: its own options are its own.
CONTEXT_SETTINGS = {"allow_interspersed_args": False}


def run(
    ctx: typer.Context,
    command: Annotated[
        list[str],
        typer.Argument(metavar="CMD", help="The command and its arguments.", show_default=False),
    ],
    fast: FastNodes = None,
    slow: SlowNodes = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Do not report the new target on stderr.")
    ] = False,
) -> None:
    fast, slow = check_nodelist("--fast", fast), check_nodelist("--slow", slow)
    k = kernel(ctx)
    k.status()  # the module is there and answers, before anything runs unmanaged
    try:
        proc = process.start_stopped(command)
    except FileNotFoundError:
        typer.echo(f"hagentctl: error: {command[0]}: command not found", err=True)
        raise typer.Exit(127) from None
    except PermissionError as err:
        typer.echo(f"hagentctl: error: {command[0]}: {err.strerror}", err=True)
        raise typer.Exit(126) from None
    except (OSError, subprocess.SubprocessError, ChildProcessError) as err:
        raise HagentError(
            f"cannot start {command[0]} stopped at its exec: {err}",
            hint="hagentctl run traces CMD until its exec (ptrace); "
            "kernel.yama.ptrace_scope=3 or a seccomp filter forbids that",
        ) from None
    try:
        target = k.enable(proc.pid, fast, slow, follow=True)
        process.let_go(proc)
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        raise
    if not quiet:
        typer.echo(f"hagentctl: {summary(target)}", err=True)
    raise typer.Exit(process.wait_forwarding(proc))
