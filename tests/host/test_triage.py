"""hagentctl triage: real kernel logs in, findings and exit statuses out.

The fixtures are console logs of VM runs (see fixtures/triage/README.md);
every decorated variant of a log (pager gutter, syslog/journal prefix,
priority) must give the same findings as the clean log.
"""

import errno
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_kernel import FakeKernel
from rich.console import Console
from typer.testing import CliRunner, Result

from hagent import triage
from hagent.cli import app
from hagent.commands import State
from hagent.commands.triage import render as render_findings
from hagent.errors import ExitCode, HagentError
from hagent.kernel import RealKernel, kmsg

FIXTURES = Path(__file__).parent / "fixtures" / "triage"
MOD = "/root/triagemods/6.1.0-56-amd64"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def kinds_sites(findings: list[triage.Finding]) -> list[tuple[str, str, int]]:
    return [(f.kind, f.site, f.count) for f in findings]


# fixture -> (kind, site, count) in order of first occurrence
EXPECTED = {
    "sysrq-6.1.log": [("panic", "sysrq triggered crash", 1)],
    "sysrq-6.12.log": [("panic", "sysrq triggered crash", 1)],
    "warn-panic-6.1.log": [
        ("warning", f"{MOD}/warnmod.c:8", 1),
        ("panic", "kernel: panic_on_warn set ...", 1),
    ],
    "oops-null-6.1.log": [("bug", "bugmod_deref.constprop.0 [bugmod]", 1)],
    "bug-on-6.1.log": [("bug", f"{MOD}/bugmod.c:20", 1)],
    "soft-lockup-6.1.log": [("soft_lockup", "delay_tsc", 2)],
    "hung-task-6.1.log": [("hung_task", "bugmod_write [bugmod]", 1)],
    "oom-6.1.log": [("oom_kill", "python3", 1)],
    "badpage-warn-6.12.log": [
        ("bad_page", "non-NULL mapping", 1),
        ("warning", "/root/triagemods/6.12.95+deb12-amd64/warnmod.c:8", 1),
        ("panic", "kernel: panic_on_warn set ...", 1),
    ],
    "hagent-warn-6.1.log": [
        ("migrate", "migrate", 2),
        ("check", "nr_isolated >= 0 at kmod/hagent/migrate.c:212", 2),
        ("check", "folio_test_locked(folio) at kmod/hagent/table.c:88", 1),
        ("warning", f"{MOD}/hagent.c:8", 1),
        ("panic", "kernel: panic_on_warn set ...", 1),
    ],
    "cwiss-check-prototype.log": [
        ("assert", "CWISS_CHECK at mm/hagent/indexable_heap.h:149", 1),
        ("bug", "mm/hagent/indexable_heap.h:149", 1),
        ("panic", "Fatal exception", 1),
    ],
}
CLEAN = sorted(EXPECTED)


@pytest.mark.parametrize("name", CLEAN)
def test_fixture_findings(name: str) -> None:
    assert kinds_sites(triage.parse(fixture(name))) == EXPECTED[name]


def test_every_fixture_is_tested() -> None:
    logs = {p.name for p in FIXTURES.glob("*.log")}
    variants = {"hagent-warn-6.1.gutter.log", "hagent-warn-6.1.journal.log"}
    assert logs == set(EXPECTED) | variants


def test_sysrq_panic_frames_and_details() -> None:
    (f,) = triage.parse(fixture("sysrq-6.12.log"))
    assert f.severity == "panic" and f.first == f.last == "23.708702"
    assert f.frames[:2] == ["panic+0x344/0x3a0", "sysrq_handle_crash+0x1a/0x20"]
    assert len(f.frames) == triage.FIRST_FRAMES  # no module frames; "?" frames skipped
    assert f.examples["comm"] == "sh" and f.examples["tainted"] == "none"
    assert f.examples["kernel"] == "6.12.95+deb12-amd64"
    assert "rip" not in f.examples  # the trace's "RIP: 0033:" is user space


def test_warning_details() -> None:
    warn, panic = triage.parse(fixture("warn-panic-6.1.log"))
    assert warn.examples["message"] == "warnmod: v=1 is not zero"
    assert warn.examples["comm"] == "insmod" and warn.examples["tainted"] == "G D OEL"
    assert warn.examples["rip"] == "warnmod_check.constprop.0+0x16/0xffb [warnmod]"
    assert warn.frames[0] == "warnmod_init+0xa/0x1000 [warnmod]"
    assert not warn.hagent
    assert panic.frames == []  # the kernel had died before: no stack dump


def test_bad_page_6_12() -> None:
    bad, warn, panic = triage.parse(fixture("badpage-warn-6.12.log"))
    assert bad.severity == "panic" and bad.examples["comm"] == "sh"
    assert bad.examples["mapping"] == "000000000d6cda39" and bad.examples["pfn"] == "0x60e0"
    assert bad.frames[-1] == "bugmod_write+0xa6/0xd0 [bugmod]"
    assert warn.examples["comm"] == "insmod"  # "CPU: 0 UID: 0 PID: ..." on 6.12
    assert "warnmod_init+0xe/0xff0 [warnmod]" in panic.frames


def test_module_frames_are_kept_beyond_the_first_few() -> None:
    (f,) = triage.parse(fixture("hung-task-6.1.log"))
    assert f.severity == "error"
    assert f.frames[-1] == "bugmod_write+0x89/0xae [bugmod]"
    assert f.examples["state"] == "D" and f.examples["seconds"] == "3"


def test_oops_joins_its_bug_line() -> None:
    (f,) = triage.parse(fixture("oops-null-6.1.log"))
    assert f.examples["title"] == "kernel NULL pointer dereference, address: 0000000000000004"
    assert f.examples["oops"] == "0000 [#1] PREEMPT SMP NOPTI"
    assert f.frames[0] == "bugmod_write.cold+0x5/0xeb5 [bugmod]"
    (bug,) = triage.parse(fixture("bug-on-6.1.log"))
    assert bug.examples["oops"] == "invalid opcode: 0000 [#2] PREEMPT SMP NOPTI"
    assert bug.examples["rip"] == "bugmod_check.constprop.0+0x5/0x10 [bugmod]"


def test_soft_lockup_counts_both_reports() -> None:
    (f,) = triage.parse(fixture("soft-lockup-6.1.log"))
    assert (f.first, f.last) == ("78.514140", "81.713600")
    assert f.frames[:2] == ["bugmod_spin+0x1c/0x40 [bugmod]", "bugmod_write+0x9d/0xae [bugmod]"]


def test_oom_report_trace_is_not_a_finding() -> None:
    (f,) = triage.parse(fixture("oom-6.1.log"))
    assert f.severity == "error" and f.frames == []
    assert f.examples["pid"] == "251" and f.examples["anon-rss"] == "1886944kB"
    assert f.examples["oom_score_adj"] == "1000"


def test_hagent_lines_and_frames() -> None:
    migrate, check, check2, warn, _ = triage.parse(fixture("hagent-warn-6.1.log"))
    assert migrate.severity == "warning" and migrate.hagent
    assert migrate.examples == {
        "failures": 15,
        "seconds": 20.5,
        "busy": 8,
        "nomem": 5,
        "isolate": 2,
    }
    assert check.severity == "panic" and check.hagent
    assert check.examples == {"pid": "1234", "nr_isolated": "-1"}  # the first one's
    assert (check.first, check.last) == ("83.150000", "83.160000")
    assert check2.examples == {"pfn": "0x10a2e"}
    assert warn.hagent and warn.frames[0] == "hagent_init+0xa/0x1000 [hagent]"


# --- decorations do not change the findings ---------------------------------------


def _json(findings: list[triage.Finding], stamps: bool = True) -> list[dict[str, Any]]:
    out = [f.to_json() for f in findings]
    if not stamps:
        for f in out:
            f["first"] = f["last"] = None
    return out


def _stamp(line: str) -> tuple[str, str]:
    m = re.match(r"\[\s*(\d+\.\d+)\] ?(.*)", line)
    return (m[1], m[2]) if m else ("", line)


DECORATIONS: dict[str, Callable[[int, str], str]] = {
    "gutter-box": lambda i, s: f"{i + 1700:5d} │ {s}",
    "gutter-bar": lambda i, s: f"{i:4d}| {s}",
    "gutter-colon": lambda i, s: f"{i}: {s}",
    "cat-n": lambda i, s: f"{i:6d}\t{s}",
    "priority": lambda i, s: f"<4>{s}",
    "kern.log": lambda i, s: f"Nov 25 12:00:01 vm kernel: {s}",
    "journal-monotonic": lambda i, s: (
        f"[{_stamp(s)[0]:>12}] vm kernel: {_stamp(s)[1]}" if _stamp(s)[0] else s
    ),
    "journal-iso": lambda i, s: f"2025-11-25T12:00:01+0100 vm kernel: {s}",
}


@pytest.mark.parametrize("how", sorted(DECORATIONS))
@pytest.mark.parametrize("name", CLEAN)
def test_decorations_give_the_same_findings(name: str, how: str) -> None:
    text = fixture(name)
    decorated = "\n".join(DECORATIONS[how](i, s) for i, s in enumerate(text.splitlines(), 1))
    assert _json(triage.parse(decorated)) == _json(triage.parse(text))


@pytest.mark.parametrize("name", CLEAN)
def test_journal_without_kernel_stamps(name: str) -> None:
    """journalctl's default output has the date only."""
    text = fixture(name)
    journal = "\n".join(
        f"Nov 25 12:00:01 vm kernel: {_stamp(s)[1]}" for s in text.splitlines() if s.startswith("[")
    )
    found = triage.parse(journal)
    assert (
        _json(found, stamps=False) == _json(triage.parse(text), stamps=False)
        or [(f.kind, f.site, f.count) for f in found] == EXPECTED[name]
    )
    assert all(f.first == "Nov 25 12:00:01" for f in found)


def test_checked_in_gutter_and_journal_variants() -> None:
    clean = triage.parse(fixture("hagent-warn-6.1.log"))
    gutter = triage.parse(fixture("hagent-warn-6.1.gutter.log"))
    assert _json(gutter) == _json(clean)
    journal = triage.parse(fixture("hagent-warn-6.1.journal.log"))
    assert kinds_sites(journal) == kinds_sites(clean)
    assert [f.frames for f in journal] == [f.frames for f in clean]
    assert journal[0].first == "Nov 25 12:01:23"


def test_nothing_relevant() -> None:
    text = "[    0.000000] Linux version 6.1.0\n[    1.0] hagent: loaded\nCall Trace:\n"
    assert triage.parse(text) == []
    assert triage.exit_status([]) == triage.EXIT_CLEAN


# --- the command ---------------------------------------------------------------------

Invoke = Callable[..., Result]


@pytest.fixture
def invoke() -> Invoke:
    runner = CliRunner()

    def run(*args: str, kernel: FakeKernel | None = None, input: str | None = None) -> Result:
        fake = kernel or FakeKernel()
        return runner.invoke(
            app, ["triage", *args], obj=State(kernel_factory=lambda: fake), input=input
        )

    return run


@pytest.mark.parametrize(
    "name, status",
    [
        ("sysrq-6.1.log", ExitCode.FINDINGS),
        ("oops-null-6.1.log", ExitCode.FINDINGS),
        ("soft-lockup-6.1.log", ExitCode.FINDINGS),
        ("hagent-warn-6.1.log", ExitCode.FINDINGS),
        ("oom-6.1.log", ExitCode.OK),  # reported, not panic-relevant
        ("hung-task-6.1.log", ExitCode.OK),
    ],
)
def test_exit_status(invoke: Invoke, name: str, status: int) -> None:
    result = invoke(str(FIXTURES / name))
    assert result.exit_code == status, result.output
    assert "kernel problems in" in result.output


def test_exit_status_only_migration_failures(invoke: Invoke) -> None:
    text = "[ 5.000000] hagent: migrate: 4 failures in 10s: busy=4\n"
    result = invoke("-", input=text)
    assert result.exit_code == ExitCode.OK, result.output
    assert "kernel problems in stdin" in result.output


def test_clean_log(invoke: Invoke, tmp_path: Path) -> None:
    log = tmp_path / "boot.log"
    log.write_text("[    0.000000] Linux version 6.1.0-56-amd64\n")
    result = invoke(str(log))
    assert result.exit_code == 0
    assert " ".join(result.output.split()) == f"no kernel problems found in {log}"


def test_json_shape(invoke: Invoke) -> None:
    result = invoke("--json", str(FIXTURES / "hagent-warn-6.1.log"))
    assert result.exit_code == ExitCode.FINDINGS
    doc = json.loads(result.output)
    assert set(doc) == {"schema_version", "source", "findings", "summary"}
    keys = {"kind", "site", "count", "first", "last", "severity", "examples", "frames"}
    for f in doc["findings"]:
        assert keys <= set(f)
        assert isinstance(f["examples"], dict) and isinstance(f["frames"], list)
    assert [f["kind"] for f in doc["findings"]] == ["migrate", "check", "check", "warning", "panic"]
    assert doc["summary"] == {
        "findings": 5,
        "events": 7,
        "by_kind": {"migrate": 2, "check": 3, "warning": 1, "panic": 1},
        "by_severity": {"panic": 5, "error": 0, "warning": 2},
        "hagent": 4,
        "panic": True,
        "exit_status": 4,
    }


def test_table_shows_hagent_frames_verbatim(invoke: Invoke) -> None:
    result = invoke(str(FIXTURES / "hagent-warn-6.1.log"), input=None)
    assert "hagent_init+0xa/0x1000 [hagent]" in result.output  # not markup, not cut
    assert "4 involve hagent" in result.output


def render_80(name: str) -> tuple[list[triage.Finding], str]:
    findings = triage.parse(fixture(name))
    console = Console(width=80, file=io.StringIO(), highlight=False, color_system=None)
    render_findings(name, findings, console)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    return findings, out


def cells(out: str) -> list[list[str]]:
    """The table's rows at 80 columns: each column's lines joined by spaces."""
    rows: list[list[str]] = []
    current: list[list[str]] | None = None
    for line in out.splitlines():
        if line.startswith(("├", "└")) and current is not None:
            rows.append([" ".join(" ".join(c).split()) for c in current])
            current = None
        elif line.startswith("│"):
            parts = [p.strip() for p in line.split("│")[1:-1]]
            if current is None:
                current = [[] for _ in parts]
            for column, part in zip(current, parts, strict=True):
                column.append(part)
    return rows


@pytest.mark.parametrize("name", CLEAN)
def test_table_reads_at_80_columns(name: str) -> None:
    findings, out = render_80(name)
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "…" not in out  # folded, never cut
    rows = cells(out)
    assert len(rows) == len(findings)
    for f, (kind, when, details) in zip(findings, rows, strict=True):
        assert kind == f"{f.kind} ×{f.count}"
        assert when.startswith(f.first or "-")
        assert details.startswith(" ".join(f.site.split()))
        for frame in f.frames:
            assert frame in details


def test_cwiss_check_of_the_prototype() -> None:
    check, bug, panic = triage.parse(fixture("cwiss-check-prototype.log"))
    assert check.severity == "panic" and check.hagent and check.first == "97.318296"
    assert check.examples == {
        "assertion": "CWISS_CHECK",
        "detail": "getting a non-existant entry via keyy from the map "
        "keyx=0x7f18273cb valx=8505 keyy=0x7f184d737",
    }
    assert bug.hagent  # mm/hagent/: the in-kernel prototype has no [hagent] frames
    assert bug.examples["assertion"] == check.site
    assert bug.examples["rip"] == "iheap_swap+0x1d6/0x1e0"
    assert bug.frames[0] == "hagent_exchange+0x2b1/0x430"
    assert not panic.hagent
    _, out = render_80("cwiss-check-prototype.log")
    (_, _, details), _, _ = cells(out)
    assert details == (
        "CWISS_CHECK at mm/hagent/indexable_heap.h:149 assertion=CWISS_CHECK getting a "
        "non-existant entry via keyy from the map keyx=0x7f18273cb valx=8505 keyy=0x7f184d737"
    )


ASSERTIONS = [
    (
        "[ 5.000000] CWISS_CHECK failed at mm/hagent/indexable_heap.h:149",
        "CWISS_CHECK at mm/hagent/indexable_heap.h:149",
        {"assertion": "CWISS_CHECK"},
    ),
    (
        "[ 5.000000] hagent: HEAP_CHECK failed: i < n at kmod/hagent/heap.c:40 i=9 n=8",
        "HEAP_CHECK: i < n at kmod/hagent/heap.c:40",
        {"assertion": "HEAP_CHECK", "expr": "i < n", "i": "9", "n": "8"},
    ),
    (
        "[ 5.000000] FOO_DEBUG_ASSERT failed at drivers/foo/bar.c:7",
        "FOO_DEBUG_ASSERT at drivers/foo/bar.c:7",
        {"assertion": "FOO_DEBUG_ASSERT"},
    ),
    (
        "[ 5.000000] BTRFS: assertion failed: refcount_read(&eb->refs) == 1, "
        "in fs/btrfs/extent_io.c:5234",
        "refcount_read(&eb->refs) == 1 at fs/btrfs/extent_io.c:5234",
        {"expr": "refcount_read(&eb->refs) == 1"},
    ),
    (
        "[ 5.000000] XFS: Assertion failed: ip->i_nblocks == 0, file: fs/xfs/xfs_inode.c, "
        "line: 2611",
        "ip->i_nblocks == 0 at fs/xfs/xfs_inode.c:2611",
        {"expr": "ip->i_nblocks == 0"},
    ),
]


@pytest.mark.parametrize(("line", "site", "examples"), ASSERTIONS)
def test_assertion_lines(line: str, site: str, examples: dict[str, str]) -> None:
    (f,) = triage.parse(line + "\n")
    assert (f.kind, f.site, f.severity, f.examples) == ("assert", site, "panic", examples)
    assert f.hagent == ("hagent/" in site)
    assert triage.exit_status([f]) == ExitCode.FINDINGS


def test_not_assertions() -> None:
    text = (
        "[ 1.0] CHECK failed at a.c:1\n"  # no NAME_ prefix: not hagent's format either
        "[ 1.0] Foo_check failed at a.c:1\n"  # not upper case
        "[ 1.0] FOO_CHECK failed somewhere\n"  # no file:line
    )
    assert triage.parse(text) == []


def test_assertion_detail_lines() -> None:
    head = "[ 5.000000] CWISS_CHECK failed at a.h:1\n"
    # at most two lines, printed within a second, that start nothing else
    (f,) = triage.parse(head + "[ 5.1] one\n[ 5.2] two\n[ 5.3] three\n")
    assert f.examples["detail"] == "one\ntwo"
    (f,) = triage.parse(head + "[ 7.0] much later\n")
    assert "detail" not in f.examples
    f, bug = triage.parse(
        head + "[ 5.1] ------------[ cut here ]------------\n[ 5.1] kernel BUG at a.h:1!\n"
    )
    assert "detail" not in f.examples and bug.examples["assertion"] == f.site
    # the second occurrence's detail does not replace the first's
    (f,) = triage.parse(head + "[ 5.1] first\n" + head + "[ 5.2] second\n")
    assert f.count == 2 and f.examples["detail"] == "first"


def test_stdin(invoke: Invoke) -> None:
    result = invoke("--json", "-", input=fixture("warn-panic-6.1.log"))
    assert result.exit_code == ExitCode.FINDINGS
    doc = json.loads(result.output)
    assert doc["source"] == "stdin"
    assert [f["kind"] for f in doc["findings"]] == ["warning", "panic"]


def test_dmesg_through_the_kernel_layer(invoke: Invoke) -> None:
    fake = FakeKernel()
    fake.log = fixture("sysrq-6.1.log")
    result = invoke("--dmesg", "--json", kernel=fake)
    assert result.exit_code == ExitCode.FINDINGS
    assert json.loads(result.output)["source"] == "dmesg"
    assert ("dmesg",) in fake.calls


def test_dmesg_error_is_one_line(invoke: Invoke) -> None:
    fake = FakeKernel(fail={"dmesg": HagentError("cannot read the kernel log /dev/kmsg")})
    result = invoke("--dmesg", kernel=fake)
    assert result.exit_code == 1
    assert result.output == "hagentctl: error: cannot read the kernel log /dev/kmsg\n"


def test_missing_file(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke(str(tmp_path / "nope.log"))
    assert result.exit_code == ExitCode.FAILED  # not the findings code
    assert result.output == (
        f"hagentctl: error: cannot read {tmp_path / 'nope.log'}: No such file or directory\n"
    )


@pytest.mark.parametrize("args", [(), ("--dmesg", "x.log")])
def test_source_usage(invoke: Invoke, args: tuple[str, ...]) -> None:
    result = invoke(*args)
    assert result.exit_code == ExitCode.USAGE
    assert result.output.startswith("hagentctl: error: ")
    assert result.output.count("\n") == 1


def test_help_documents_exit_statuses(invoke: Invoke) -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "4 when a finding is panic-relevant" in text
    assert "0 when none is, even with other findings" in text
    assert "1 the log cannot be read" in text


# --- /dev/kmsg ----------------------------------------------------------------------


def test_kmsg_record_format() -> None:
    rec = b"4,1023,97318296,-;hagent: CHECK failed: x at a.c:1 k=v\n SUBSYSTEM=foo\n"
    assert kmsg.format_record(rec) == ("<4>[   97.318296] hagent: CHECK failed: x at a.c:1 k=v\n")
    assert kmsg.format_record(b"6,1,5,-;a\\x0ab\n") == "<6>[    0.000005] a\n<6>[    0.000005] b\n"
    assert kmsg.format_record(b"garbage") == ""
    # a comm that is not UTF-8 reads as the kernel escaped it, not as U+FFFD
    oom = b"3,9,7,-;Out of memory: Killed process 42 (caf\\xe9\\xff) total-vm:1kB\n"
    assert kmsg.format_record(oom) == (
        "<3>[    0.000007] Out of memory: Killed process 42 (caf\\xe9\\xff) total-vm:1kB\n"
    )


def test_kmsg_read_until_eagain(monkeypatch: pytest.MonkeyPatch) -> None:
    records: list[bytes | OSError] = [
        b"4,1,1000000,-;first\n",
        OSError(errno.EPIPE, "overwritten"),
        b"12,2,2000000,-;BUG: Bad page state in process sh  pfn:1\n",
        BlockingIOError(errno.EAGAIN, "again"),
    ]
    closed: list[int] = []

    def fake_read(fd: int, size: int) -> bytes:
        item = records.pop(0)
        if isinstance(item, OSError):
            raise item
        return item

    monkeypatch.setattr(kmsg.os, "open", lambda path, flags: 7)
    monkeypatch.setattr(kmsg.os, "read", fake_read)
    monkeypatch.setattr(kmsg.os, "close", closed.append)
    text = RealKernel().dmesg()
    assert (
        text
        == "<4>[    1.000000] first\n<4>[    2.000000] BUG: Bad page state in process sh  pfn:1\n"
    )
    assert closed == [7]


def test_kmsg_permission(monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(path: str, flags: int) -> int:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(kmsg.os, "open", denied)
    with pytest.raises(HagentError) as err:
        kmsg.read()
    assert err.value.message == "cannot read the kernel log /dev/kmsg: Operation not permitted"
    assert err.value.hint is not None and "root" in err.value.hint


def test_comm_that_is_not_utf8(invoke: Invoke, tmp_path: Path) -> None:
    log = tmp_path / "oom.log"
    log.write_bytes(
        b"[   12.000000] Out of memory: Killed process 42 (caf\xe9\xff) total-vm:1024kB, "
        b"anon-rss:512kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0\n"
    )
    result = invoke("--json", str(log))
    assert result.exit_code == ExitCode.OK, result.output
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["kind"] == "oom_kill" and finding["site"] == "caf\\xe9\\xff"
