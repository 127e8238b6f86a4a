"""perf2hagent (hagent/perf2hagent.py, and scripts/perf2hagent that runs it from a
checkout): perf script output -> hagent trace.

The inputs below are hand-written, modeled on what `perf script` prints after
`perf mem record` (default fields, and -F with a chosen field list); they are
not captured from a real machine.
"""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hagent import perf2hagent as p2h
from hagent import trace
from hagent.commands import replay

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "perf2hagent"
MODULE = Path(p2h.__file__)

# `perf script` after `perf mem record` (default fields: comm tid [cpu] time:
# period event: addr data-source ... ip sym (dso)).  Hand-written.
DEFAULT = """\
# ========
# captured on    : Mon Jun  3 10:00:00 2024
# ========
#
          memhog  4242 [002] 4186.123456:         30 cpu/mem-loads,ldlat=30/P:     7f3a2c001040         1a8100142 |OP LOAD|LVL L3 miss|SNP None|TLB L1 or L2 hit|LCK No|BLK  N/A       0     55d0a1b2c3d4 main+0x54 (/usr/bin/memhog)
          memhog  4242 [002] 4186.123470:     100003         cpu/mem-stores/P:     7f3a2c7ff000            8 |OP STORE|LVL L1 hit|SNP N/A|TLB N/A|LCK N/A|BLK  N/A        0     55d0a1b2c3e0 main+0x60 (/usr/bin/memhog)
     Web Content  5000 [000] 4186.123500:         41 cpu/mem-loads,ldlat=30/P:     7f0011223344         1a8100142 |OP LOAD|LVL L1 hit|SNP None|TLB L1 or L2 hit|LCK No|BLK  N/A       0     7f00aabbccdd memcpy+0x1d (/usr/lib/libc.so.6)
          memhog  4242 [003] 4186.124000:         55 cpu/mem-loads,ldlat=30/P:                0         1a8100142 |OP LOAD|LVL N/A|SNP None|TLB N/A|LCK No|BLK  N/A       0 ffffffff9e8c3cd1 clear_page_erms+0x11 ([kernel.kallsyms])
"""  # noqa: E501

# perf script -F comm,pid,tid,time,event,addr (hybrid CPU event names).  Hand-written.
FIELDS = """\
          memhog  4242/4242  4186.123456: cpu_core/mem-loads,ldlat=30/P:      7f3a2c001040
          memhog  4242/4250  4186.123457: cpu_core/mem-stores/P:      7f3a2c002000
          stress  4300/4300  4186.123458: cpu_atom/mem-loads,ldlat=30/P:      7f3a2c003000
"""

# perf script -F time,addr (and --ns).  Hand-written.
TIME_ADDR = """\
 4186.123456:     7f3a2c001040
 4186.123456789:     7f3a2c001080
"""


def convert(text: str, **kwargs: object) -> tuple[list[str], object]:
    out = io.StringIO()
    res = p2h.convert(io.StringIO(text), out, **kwargs)
    return out.getvalue().splitlines(), res


def test_default_perf_script_output() -> None:
    lines, res = convert(DEFAULT)
    assert lines == [
        "# hagent-trace v1",
        "# converted from perf script output by perf2hagent",
        "4186123456000 0x7f3a2c001040",
        "4186123470000 0x7f3a2c7ff000 S",
        "4186123500000 0x7f0011223344",
    ]
    assert (res.written, res.stores, res.skipped) == (3, 1, 5)  # 4 header lines + zero addr


def test_pid_filter() -> None:
    lines, res = convert(DEFAULT, pid=4242)
    assert lines[2:] == ["4186123456000 0x7f3a2c001040", "4186123470000 0x7f3a2c7ff000 S"]
    assert res.filtered == 1  # "Web Content 5000": a comm with a blank
    lines, _ = convert(FIELDS, pid=4242)
    assert [line.split()[1] for line in lines[2:]] == ["0x7f3a2c001040", "0x7f3a2c002000"]


def test_event_filter() -> None:
    lines, res = convert(FIELDS, event="mem-stores")
    assert lines[2:] == ["4186123457000 0x7f3a2c002000 S"]
    lines, _ = convert(FIELDS, event="cpu_atom")
    assert lines[2:] == ["4186123458000 0x7f3a2c003000"]


def test_time_and_addr_only() -> None:
    lines, _ = convert(TIME_ADDR)
    assert lines[2:] == ["4186123456000 0x7f3a2c001040", "4186123456789 0x7f3a2c001080"]


def test_pid_filter_without_pids_keeps_and_counts() -> None:
    lines, res = convert(TIME_ADDR, pid=1)
    assert len(lines) == 4 and res.no_pid == 2


def test_out_of_order_keeps_previous_time() -> None:
    text = " 10.000002:  1000\n 10.000001:  2000\n"
    lines, res = convert(text)
    assert lines[2:] == ["10000002000 0x1000", "10000002000 0x2000"]
    assert res.reordered == 1


def test_output_is_a_valid_trace() -> None:
    lines, _ = convert(DEFAULT + FIELDS)
    tr = trace.parse([line + "\n" for line in lines], "converted")
    assert len(tr) == 6 and sum(tr.stores) == 2


@pytest.mark.parametrize(
    "line",
    ["", "# comment", "perf: warning: something", "   memhog 4242 [002] no time here 7f00"],
)
def test_lines_without_a_sample(line: str) -> None:
    assert p2h.parse_line(line) is None


def test_script_runs_standalone(tmp_path: Path) -> None:
    """Executable, standard library only: runs without hagent or any site-packages."""
    assert os.access(SCRIPT, os.X_OK)
    src = tmp_path / "perf.txt"
    src.write_text(DEFAULT)
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": ""}
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(SCRIPT), "--pid", "4242", str(src)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "# hagent-trace v1"
    assert len(done.stdout.splitlines()) == 4
    assert "perf2hagent: 2 samples (1 stores), 1 filtered out" in done.stderr
    # stdin, and nothing found: exit 1 with a reason
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(SCRIPT)],
        input="no samples here\n",
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 1
    assert "perf2hagent: error: no samples with a data address" in done.stderr


def test_main_is_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """main() is what the installed `perf2hagent` command runs: its return is the exit."""
    src = tmp_path / "perf.txt"
    src.write_text(DEFAULT)
    assert p2h.main(["--pid", "4242", str(src)]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines()[2:] == [
        "4186123456000 0x7f3a2c001040",
        "4186123470000 0x7f3a2c7ff000 S",
    ]
    assert p2h.main([str(tmp_path / "missing.txt")]) == 1
    assert "perf2hagent: error: cannot read" in capsys.readouterr().err


def test_converter_imports_nothing_from_hagent() -> None:
    imports = re.compile(r"^\s*(?:from|import)\s+(?:hagent|typer|rich|pyroute2)\b", re.M)
    for path in (MODULE, SCRIPT):
        assert not imports.search(path.read_text()), path


def test_replay_help_names_the_installed_command() -> None:
    """A wheel ships the perf2hagent command, not scripts/."""
    assert "scripts/perf2hagent" not in replay.EPILOG
    assert "perf2hagent | hagentctl replay" in replay.EPILOG
