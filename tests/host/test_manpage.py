"""docs/hagentctl.1 is what hagent.manpage prints for this CLI (make man), and
it names every command and option --help shows."""

import shutil
import subprocess
from pathlib import Path

import typer

from hagent import manpage
from hagent.cli import app

TOP = Path(__file__).resolve().parents[2]
PAGE = TOP / "docs" / "hagentctl.1"


def test_the_committed_page_is_the_generated_one() -> None:
    assert PAGE.read_text() == manpage.render(app), "docs/hagentctl.1 is stale: run make man"


def test_every_command_and_option_is_on_the_page() -> None:
    text = manpage.render(app)
    group = typer.main.get_command(app)
    root = typer.Context(group, info_name="hagentctl")
    names = group.list_commands(root)
    assert {"load", "enable", "stats", "top", "triage"} <= set(names)
    for name in names:
        cmd = group.get_command(root, name)
        assert f'.SS "hagentctl {name} ' in text, name
        section = text.split(f'.SS "hagentctl {name} ', 1)[1].split(".SS ", 1)[0]
        for param in cmd.params:
            for opt in param.opts:
                if opt.startswith("-"):
                    assert manpage._roff(opt) in section, f"{name} {opt}"
    for code in range(5):
        assert f".TP\n\\fB{code}\\fR\n" in text


def test_roff_escapes() -> None:
    assert manpage._roff("a-b") == "a\\-b"
    assert manpage._roff(".start\n'quote") == "\\&.start\n\\&'quote"
    assert manpage._roff("x\\y") == "x\\ey"
    assert manpage._roff("1732 \u2502 x") == "1732 \\[u2502] x"


def test_groff_reads_it_without_warnings() -> None:
    groff = shutil.which("groff")
    assert groff, "groff is missing: scripts/setup installs groff-base"
    proc = subprocess.run(
        [groff, "-man", "-ww", "-z", str(PAGE)], capture_output=True, text=True, check=True
    )
    assert proc.stderr == ""
