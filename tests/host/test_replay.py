"""The hagent trace format and hagentctl replay, with a fake clock (no real sleeping)."""

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_kernel import FakeKernel
from rich.console import Console
from test_cli import one_error
from typer.testing import CliRunner, Result

from hagent import trace
from hagent.cli import app
from hagent.commands import State, replay
from hagent.errors import ExitCode, HagentError
from hagent.kernel import Kernel

Invoke = Callable[..., Result]

TRACE = """\
# hagent-trace v1
# hand-written: every form the format allows
1000000000 0x7f0000001000
1001000000 0x7f0000001040 4

1002000000 7f0000002000 S
1002000000 0x7f0000003000 2 S    # a trailing comment
   1050000000   0x7f0000001000   L
2000000000 0x7f0000004000 1 L
"""
SAMPLES = [
    (0x7F0000001000, 1, False),
    (0x7F0000001040, 4, False),
    (0x7F0000002000, 1, True),
    (0x7F0000003000, 2, True),
    (0x7F0000001000, 1, False),
    (0x7F0000004000, 1, False),
]


class FakeClock:
    """time.monotonic and time.sleep: sleeping moves the clock, instantly."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(round(seconds, 9))
        self.now += seconds


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    c = FakeClock()
    monkeypatch.setattr(replay, "clock", c.clock)
    monkeypatch.setattr(replay, "sleep", c.sleep)
    return c


@pytest.fixture
def invoke(fake_clock: FakeClock) -> Invoke:
    def run(kernel: Kernel, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(
            app, list(args), obj=State(kernel_factory=lambda: kernel), input=input
        )

    return run


@pytest.fixture
def trace_file(tmp_path: Path) -> Path:
    path = tmp_path / "trace.txt"
    path.write_text(TRACE)
    return path


def injected(k: FakeKernel) -> list[list[tuple[int, int, bool]]]:
    """The sample list of every inject call, in order (each a batch)."""
    batches = []
    for call in k.calls:
        if call[0] == "inject":
            assert call[3] == 1  # replay never asks the module to repeat
            batches.append(call[2])
    return batches


# --- the format -------------------------------------------------------------------


def test_parse() -> None:
    tr = trace.parse(TRACE.splitlines(keepends=True))
    assert len(tr) == 6 and tr.accesses == 10
    assert tr.samples(0, len(tr)) == SAMPLES
    assert list(tr.times) == [1000000000, 1001000000, 1002000000, 1002000000, 1050000000, 2e9]


def test_parse_header_variants() -> None:
    assert len(trace.parse(["# hagent-trace v1  \n"])) == 0
    assert len(trace.parse(["#hagent-trace   v1\n", "5 0x10\n"])) == 1


def test_parse_shift() -> None:
    tr = trace.parse(["# hagent-trace v1\n", "0 0x1000\n", "1 0x2000\n"], shift=-0x800)
    assert list(tr.addrs) == [0x800, 0x1800]


BAD_LINES = [
    ("1 0x1000 5 S extra", 3, "too many fields: expected <time_ns> <vaddr_hex> [count] [L|S]"),
    ("1", 3, "expected <time_ns> <vaddr_hex> [count] [L|S]"),
    ("x 0x1000", 3, "bad time 'x': expected decimal nanoseconds"),
    ("-1 0x1000", 3, "bad time '-1': expected decimal nanoseconds"),
    ("1.5 0x1000", 3, "bad time '1.5': expected decimal nanoseconds"),
    ("1 zz", 3, "bad address 'zz': expected hex, e.g. 0x7f3a2c001040"),
    ("1 0x", 3, "bad address '0x': expected hex, e.g. 0x7f3a2c001040"),
    ("1 0x1" + "0" * 16, 3, f"bad address '0x1{'0' * 16}': larger than 64 bits"),
    ("1 0x1000 0", 3, "bad count '0': expected 1..65535 (or L|S)"),
    ("1 0x1000 65536", 3, "bad count '65536': expected 1..65535 (or L|S)"),
    ("1 0x1000 s", 3, "bad count 's': expected 1..65535 (or L|S)"),
    ("1 0x1000 S 2", 3, "bad count 'S': expected 1..65535 (or L|S)"),
    ("1 0x1000 2 X", 3, "bad field 'X': expected L or S last"),
    ("0 0x1000", 3, "time 0 goes backwards (previous sample: 1)"),
]


@pytest.mark.parametrize(("line", "lineno", "why"), BAD_LINES)
def test_bad_lines(line: str, lineno: int, why: str) -> None:
    lines = ["# hagent-trace v1\n", "1 0x1000\n", line + "\n", "9 0x2000\n"]
    with pytest.raises(HagentError) as exc:
        trace.parse(lines, "t.txt")
    assert exc.value.message == f"t.txt:{lineno}: {why}"


@pytest.mark.parametrize(
    ("first", "why"),
    [
        ("0 0x1000\n", "not a hagent trace: the first line must be '# hagent-trace v1'"),
        ("# some other file\n", "not a hagent trace: the first line must be '# hagent-trace v1'"),
        ("# hagent-trace v2\n", "trace format v2 is not supported (only v1)"),
    ],
)
def test_bad_header(first: str, why: str) -> None:
    with pytest.raises(HagentError) as exc:
        trace.parse([first, "1 0x1000\n"], "t.txt")
    assert exc.value.message == f"t.txt:1: {why}"


def test_empty_file() -> None:
    with pytest.raises(HagentError, match=r"^t.txt:1: empty file, not a hagent trace"):
        trace.parse([], "t.txt")


def test_rebase_out_of_range() -> None:
    with pytest.raises(HagentError) as exc:
        trace.parse(["# hagent-trace v1\n", "0 0x5000\n", "1 0x1000\n"], "t", shift=-0x2000)
    assert exc.value.message == "t:3: address 0x1000 rebased by -0x2000 leaves 64 bits"


def test_batches_without_timing() -> None:
    times = [0] * 10
    assert list(trace.batches(times, None, 4)) == [(0, 0, 4), (0, 4, 8), (0, 8, 10)]
    assert list(trace.batches([], None, 4)) == []


def test_batches_with_timing() -> None:
    times = [100, 105, 109, 110, 111, 200, 200, 200, 200, 500]
    # a batch takes what lies within 10 ns of its first sample, at most 3
    assert list(trace.batches(times, 10, 3)) == [
        (0, 0, 3),  # 100 105 109
        (10, 3, 5),  # 110 111
        (100, 5, 8),  # 200 x3, capped
        (100, 8, 9),  # 200
        (400, 9, 10),  # 500
    ]


# --- the command ------------------------------------------------------------------


def test_replay_with_timing(invoke: Invoke, trace_file: Path, fake_clock: FakeClock) -> None:
    k = FakeKernel()
    result = invoke(k, "replay", str(trace_file), "--pid", "1234")
    assert result.exit_code == 0, result.output
    # 10 ms windows: 1.000 1.001 1.002 1.002 | 1.050 | 2.000 s
    assert injected(k) == [SAMPLES[:4], SAMPLES[4:5], SAMPLES[5:]]
    assert fake_clock.sleeps == [0.05, 0.95]
    assert result.stdout == "replayed 6 samples (10 accesses) into pid 1234: 3 batches in 1.00 s\n"
    assert result.stderr == ""  # no progress bar off a terminal


def test_replay_speed(invoke: Invoke, trace_file: Path, fake_clock: FakeClock) -> None:
    k = FakeKernel()
    result = invoke(k, "replay", str(trace_file), "--pid", "1234", "--speed", "10")
    assert result.exit_code == 0, result.output
    # 10 ms of wall clock is 100 ms of trace: the first five samples go together
    assert injected(k) == [SAMPLES[:5], SAMPLES[5:]]
    assert fake_clock.sleeps == [0.1]
    assert result.stdout.endswith("2 batches in 0.10 s\n")


def test_replay_slower(invoke: Invoke, trace_file: Path, fake_clock: FakeClock) -> None:
    k = FakeKernel()
    result = invoke(k, "replay", str(trace_file), "--pid", "1234", "--speed", "0.5")
    assert result.exit_code == 0, result.output
    # 10 ms of wall clock is 5 ms of trace
    assert injected(k) == [SAMPLES[:4], SAMPLES[4:5], SAMPLES[5:]]
    assert fake_clock.sleeps == [0.1, 1.9]


def test_replay_waits_only_the_rest(
    invoke: Invoke, trace_file: Path, fake_clock: FakeClock
) -> None:
    """Time spent injecting counts: a slow batch leaves less to sleep."""

    class Slow(FakeKernel):
        def inject(self, pid: int, samples: object, repeat: int = 1) -> None:
            super().inject(pid, samples, repeat)  # type: ignore[arg-type]
            fake_clock.now += 0.03

    result = invoke(Slow(), "replay", str(trace_file), "--pid", "1")
    assert result.exit_code == 0, result.output
    assert fake_clock.sleeps == [0.02, 0.92]


def test_replay_no_timing(invoke: Invoke, tmp_path: Path, fake_clock: FakeClock) -> None:
    path = tmp_path / "big.txt"
    path.write_text(
        "# hagent-trace v1\n" + "".join(f"{i * 10**9} {0x1000 + i:#x}\n" for i in range(5000))
    )
    k = FakeKernel()
    result = invoke(k, "replay", str(path), "--pid", "1", "--no-timing", "--json")
    assert result.exit_code == 0, result.output
    assert [len(b) for b in injected(k)] == [4095, 905]
    assert fake_clock.sleeps == []
    assert json.loads(result.stdout) == {
        "schema_version": 1,
        "pid": 1,
        "samples": 5000,
        "accesses": 5000,
        "batches": 2,
        "seconds": 0.0,
    }


def test_replay_json(invoke: Invoke, trace_file: Path) -> None:
    result = invoke(FakeKernel(), "replay", str(trace_file), "--pid", "9", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == {
        "schema_version": 1, "pid": 9, "samples": 6, "accesses": 10, "batches": 3, "seconds": 1.0
    }  # fmt: skip


def test_replay_stdin(invoke: Invoke) -> None:
    k = FakeKernel()
    result = invoke(k, "replay", "-", "--pid", "1", "--no-timing", input=TRACE)
    assert result.exit_code == 0, result.output
    assert injected(k) == [SAMPLES]


def test_replay_rebase(invoke: Invoke, trace_file: Path) -> None:
    k = FakeKernel()
    result = invoke(
        k, "replay", str(trace_file), "--pid", "1", "--no-timing",
        "--rebase", "0x7f0000000000:0x5500000000",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shift = 0x5500000000 - 0x7F0000000000
    assert injected(k) == [[(a + shift, c, s) for a, c, s in SAMPLES]]
    # decimal works too, and upwards
    k = FakeKernel()
    assert invoke(k, "replay", str(trace_file), "--pid", "1", "--rebase", "0:16").exit_code == 0
    assert injected(k)[0][0] == (0x7F0000001010, 1, False)


def test_replay_empty_trace(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("# hagent-trace v1\n# nothing recorded\n")
    k = FakeKernel()
    result = invoke(k, "replay", str(path), "--pid", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout == "replayed 0 samples (0 accesses) into pid 1: 0 batches in 0.00 s\n"
    assert injected(k) == []


def test_replay_bad_line(invoke: Invoke, trace_file: Path) -> None:
    trace_file.write_text(TRACE + "2000000001 0x7f00000zz000\n")
    k = FakeKernel()
    one_error(
        invoke(k, "replay", str(trace_file), "--pid", "1"),
        f"{trace_file}:10: bad address '0x7f00000zz000': expected hex, e.g. 0x7f3a2c001040",
    )
    assert injected(k) == []  # nothing is sent before the whole trace is read


def test_replay_bad_line_stdin(invoke: Invoke) -> None:
    one_error(
        invoke(FakeKernel(), "replay", "-", "--pid", "1", input="# hagent-trace v1\n1\n"),
        "<stdin>:2: expected <time_ns> <vaddr_hex> [count] [L|S]",
    )


def test_replay_rebase_out_of_range(invoke: Invoke, trace_file: Path) -> None:
    k = FakeKernel()
    result = invoke(k, "replay", str(trace_file), "--pid", "1", "--rebase", "0x7f0000002000:0")
    one_error(
        result, f"{trace_file}:3: address 0x7f0000001000 rebased by -0x7f0000002000 leaves 64 bits"
    )
    assert injected(k) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--speed", "2", "--no-timing"], "--speed and --no-timing exclude each other"),
        (["--speed", "0"], "bad --speed 0.0: must be a positive number"),
        (["--speed", "-1"], "bad --speed -1.0: must be a positive number"),
        (["--speed", "inf"], "bad --speed inf: must be a positive number"),
        (["--speed", "nan"], "bad --speed nan: must be a positive number"),
        (
            ["--rebase", "0x1000"],
            "bad --rebase '0x1000': expected OLD:NEW, two addresses in hex (0x...) or decimal",
        ),
        (
            ["--rebase", "0x1000:zz"],
            "bad --rebase '0x1000:zz': expected OLD:NEW, two addresses in hex (0x...) or decimal",
        ),
        (["--pid", "x"], "bad pid 'x': expected a process id (a positive integer)"),
    ],
)
def test_replay_bad_options(
    invoke: Invoke, trace_file: Path, args: list[str], message: str
) -> None:
    k = FakeKernel()
    result = invoke(k, "replay", str(trace_file), "--pid", "1", *args)
    one_error(result, message, code=ExitCode.USAGE)
    assert k.calls == []


def test_replay_missing_file(invoke: Invoke, tmp_path: Path) -> None:
    one_error(
        invoke(FakeKernel(), "replay", str(tmp_path / "nope"), "--pid", "1"),
        f"cannot read trace {tmp_path / 'nope'}: No such file or directory",
    )


def test_replay_binary_file(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "perf.data"
    path.write_bytes(b"\xff\xfePERFILE2")
    one_error(
        invoke(FakeKernel(), "replay", str(path), "--pid", "1"),
        f"{path} is not a hagent trace: not UTF-8 text",
    )


def test_replay_kernel_error_first_batch(invoke: Invoke, trace_file: Path) -> None:
    k = FakeKernel(fail={"inject": HagentError("pid 1 is not managed", hint="h")})
    one_error(invoke(k, "replay", str(trace_file), "--pid", "1"), "pid 1 is not managed", "h")


def test_replay_kernel_error_later(invoke: Invoke, trace_file: Path) -> None:
    class ExitsMidway(FakeKernel):
        def inject(self, pid: int, samples: object, repeat: int = 1) -> None:
            super().inject(pid, samples, repeat)  # type: ignore[arg-type]
            if len(injected(self)) == 2:
                raise HagentError("pid 1 is not managed")

    one_error(
        invoke(ExitsMidway(), "replay", str(trace_file), "--pid", "1"),
        "pid 1 is not managed (replay stopped after 4 of 6 samples)",
    )


def test_replay_progress_on_a_terminal(
    invoke: Invoke, trace_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(
        replay, "progress_console", lambda: Console(file=out, force_terminal=True, width=80)
    )
    result = invoke(FakeKernel(), "replay", str(trace_file), "--pid", "1")
    assert result.exit_code == 0, result.output
    assert "replaying" in out.getvalue() and "6/6" in out.getvalue()
    assert result.stdout.startswith("replayed 6 samples")  # the summary stays clean


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(app, ["replay", "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout and "hagentctl replay trace.txt" in result.stdout
    assert "[count] [L|S]" in result.stdout  # not eaten as rich markup
