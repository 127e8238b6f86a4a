"""Every JSON object hagentctl prints carries "schema_version" (hagent.jsonout)."""

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_kernel import STATS, FakeKernel
from typer.testing import Result

from hagent import jsonout
from hagent.commands import replay, top
from hagent.errors import ExitCode, HagentError

Invoke = Callable[..., Result]
COMMANDS = Path(__file__).resolve().parents[2] / "ctl" / "hagent" / "commands"
TRIAGE_LOG = Path(__file__).parent / "fixtures" / "triage" / "hagent-warn-6.1.log"
NOT_LOADED = HagentError("hagent module is not loaded", None, ExitCode.NOT_LOADED)


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """top's and replay's clocks move only when they sleep."""
    now = [100.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    for module in (top, replay):
        monkeypatch.setattr(module, "clock", lambda: now[0])
        monkeypatch.setattr(module, "sleep", sleep)


def objects(stdout: str) -> list[dict[str, Any]]:
    """The JSON objects printed: one indented document, or one per line (JSON lines)."""
    text = stdout.strip()
    if "\n" not in text or text.startswith("{\n"):
        return [json.loads(text)]
    return [json.loads(line) for line in text.splitlines()]


def test_the_version_is_one_integer() -> None:
    assert jsonout.SCHEMA_VERSION == 1 and type(jsonout.SCHEMA_VERSION) is int
    assert list(jsonout.document({"a": 1, "schema_version": 0})) == ["schema_version", "a"]
    assert jsonout.document({"a": 1})["schema_version"] == 1


def case(args: str, exit_code: int = 0, why: str = "", **kernel: Any) -> Any:
    return pytest.param(args.split(), exit_code, kernel, id=args + why)


@pytest.mark.parametrize(
    ("args", "exit_code", "kernel"),
    [
        case("status --json"),
        case("status --json", ExitCode.NOT_LOADED, " (not loaded)", fail={"status": NOT_LOADED}),
        case("stats --json"),
        case("stats --json --pid 1234"),
        case("enable --pid 1234 --json"),
        case("config --json"),
        case("config --json max_pages=0"),
        case("triage --json LOG", ExitCode.FINDINGS),
        case("top --once --json", stats_seq=[STATS, STATS]),
        case("top --json --count 2", stats_seq=[STATS, STATS]),
        case("events --json --count 1"),
        case("replay TRACE --pid 1 --json"),
    ],
)
def test_every_json_output_has_the_schema_version(
    invoke: Invoke,
    tmp_path: Path,
    args: list[str],
    exit_code: int,
    kernel: dict[str, Any],
) -> None:
    trace = tmp_path / "trace.txt"
    trace.write_text("# hagent-trace v1\n1000 0x7f0000001000\n2000 0x7f0000002000 S\n")
    files = {"TRACE": str(trace), "LOG": str(TRIAGE_LOG)}
    result = invoke(FakeKernel(**kernel), *(files.get(a, a) for a in args))
    assert result.exit_code == exit_code, result.output
    docs = objects(result.stdout)
    assert docs
    for doc in docs:
        assert list(doc)[0] == "schema_version" and doc["schema_version"] == 1, doc


def test_commands_print_json_only_through_jsonout() -> None:
    """A new --json printer that bypasses jsonout.echo would lose the schema version."""
    for path in sorted(COMMANDS.glob("*.py")):
        assert not re.search(r"\bjson\.dumps?\b|print_json", path.read_text()), path.name
