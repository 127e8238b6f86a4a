"""Load the hagent kernel module."""

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from hagent.commands import kernel
from hagent.errors import usage_error

EPILOG = (
    "Examples:\n\n"
    "hagentctl load\n\n"
    "hagentctl load --ko build/6.1.0-28-amd64/kmod/hagent/hagent.ko selftest=1"
)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def param_string(params: Sequence[str]) -> str:
    """PARAM=VALUE arguments -> the kernel's parameter string, checked locally."""
    out: list[str] = []
    for arg in params:
        name, eq, value = arg.partition("=")
        if not eq:
            raise usage_error(
                f"bad module parameter '{arg}': expected PARAM=VALUE",
                hint="example: hagentctl load selftest=1",
            )
        if not _NAME.fullmatch(name):
            raise usage_error(f"bad module parameter name '{name}' in '{arg}'")
        if '"' in value:
            raise usage_error(f"bad module parameter '{arg}': the kernel cannot take '\"'")
        out.append(f'{name}="{value}"' if any(c.isspace() for c in value) else arg)
    return " ".join(out)


def load(
    ctx: typer.Context,
    params: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="PARAM=VALUE",
            help="Module parameters, passed to the kernel (see modinfo hagent.ko).",
            show_default=False,
        ),
    ] = None,
    ko: Annotated[
        Path | None,
        typer.Option(
            "--ko",
            help="The hagent.ko to load (refused unless its modinfo name is hagent). Default: "
            "build/<uname -r>/kmod/hagent/hagent.ko in this repository if built, else hagent "
            "as modprobe finds it in /lib/modules (make install, make dkms-install).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
) -> None:
    options = param_string(params or [])
    k = kernel(ctx)
    path = ko.absolute() if ko is not None else k.built_module()
    where = k.load(path, options)
    typer.echo(f"loaded hagent from {where}" + (f" ({options})" if options else ""))
