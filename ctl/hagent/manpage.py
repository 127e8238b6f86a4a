"""hagentctl(1), generated from the CLI itself: every command, argument and
option with the help text --help shows, and the exit statuses.

    python -m hagent.manpage > docs/hagentctl.1      (make man)

docs/hagentctl.1 is committed and tests/host/test_manpage.py fails when it
differs from what this prints, so the page cannot drift from the CLI.  No
date in the header: the same CLI gives the same bytes.  Only the click API
that Typer's commands expose is used (Typer 0.2x carries its own click).
"""

from __future__ import annotations

import re
import sys
from typing import Any

import typer

from hagent import __version__
from hagent.errors import EXIT_CODES_MEANING

_SEE_ALSO = (
    r"\fBperf2hagent\fR(1), \fBmodprobe\fR(8), \fBdkms\fR(8), \fBnumactl\fR(8); "
    "README.md in the source tree for placement, the overhead counters and the architecture"
)


def _roff(text: str) -> str:
    """Plain text -> roff: escape backslashes and hyphens, write non-ASCII
    characters as groff's \\[uXXXX], keep lines from starting with a control
    character."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in text)
    return "\n".join("\\&" + ln if ln[:1] in (".", "'") else ln for ln in text.splitlines())


def _paragraphs(text: str) -> list[str]:
    """Click's help text: paragraphs separated by blank lines; \\b keeps one as is."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        out.append(block.replace("\b\n", "").strip())
    return [p for p in out if p]


def _text(text: str | None) -> str:
    lines: list[str] = []
    for i, para in enumerate(_paragraphs(text or "")):
        if i:
            lines.append(".PP")
        lines.append(_roff(para))
    return "\n".join(lines)


def _usage(ctx: typer.Context, cmd: Any) -> str:
    pieces = cmd.collect_usage_pieces(ctx)
    return " ".join([ctx.command_path, *pieces])


def _options(ctx: typer.Context, cmd: Any) -> list[str]:
    lines: list[str] = []
    for param in cmd.get_params(ctx):
        record = None if param.param_type_name == "argument" else param.get_help_record(ctx)
        if record is None:
            continue
        names, help_text = record
        lines += [".TP", f"\\fB{_roff(names)}\\fR"]
        if help_text:
            lines.append(_roff(" ".join(help_text.split())))
    return lines


def _arguments(cmd: Any) -> list[str]:
    lines: list[str] = []
    for param in cmd.params:
        if param.param_type_name == "argument":
            help_text = getattr(param, "help", None)
            metavar = param.metavar or (param.name or "").upper()
            lines += [".TP", f"\\fI{_roff(metavar)}\\fR"]
            if help_text:
                lines.append(_roff(" ".join(help_text.split())))
    return lines


def render(app: typer.Typer) -> str:
    group: Any = typer.main.get_command(app)  # a click Group (Typer's own click in 0.2x)
    root = typer.Context(group, info_name="hagentctl", **(group.context_settings or {}))
    out = [
        f'.TH HAGENTCTL 1 "" "hagent {__version__}" "User Commands"',
        ".SH NAME",
        "hagentctl \\- control the hagent memory\\-tiering kernel module",
        ".SH SYNOPSIS",
        f".B {_roff(_usage(root, group))}",
        ".SH DESCRIPTION",
        _text(group.help),
        ".SH OPTIONS",
        *_options(root, group),
        ".SH COMMANDS",
    ]
    for name in group.list_commands(root):
        cmd = group.get_command(root, name)
        if cmd is None or cmd.hidden:
            continue
        ctx = typer.Context(cmd, info_name=name, parent=root)
        out += [f'.SS "{_roff(_usage(ctx, cmd))}"', _text(cmd.help)]
        out += _arguments(cmd)
        out += _options(ctx, cmd)
        if cmd.epilog:
            out += [".PP", _text(cmd.epilog)]
    out.append(".SH EXIT STATUS")
    for code, meaning in EXIT_CODES_MEANING.items():
        out += [".TP", f"\\fB{int(code)}\\fR", _roff(meaning)]
    out += [".SH SEE ALSO", _SEE_ALSO]
    return "\n".join(line for line in out if line) + "\n"


def main() -> None:
    from hagent.cli import app

    sys.stdout.write(render(app))


if __name__ == "__main__":
    main()
