"""kmod/hagent/counters.h and overhead.h against ctl/hagent/counters.py.

The X-macro lists are parsed here and compared with the Python model, name by
name, kind by kind and in order; the parser is tested on purpose-made drifts
so that a silent parser cannot make the main check pass.  Then every counter
name that stats, top and the fake kernel use must be one the module sends.
"""

import re
from pathlib import Path

import pytest
from fake_kernel import BASE_COUNTERS, PLACEMENT_COUNTERS, TOTALS, counters, placement
from test_overhead import BOUNDS
from test_overhead import counters as overhead_counters

from hagent import counters as model
from hagent import dashboard, overhead
from hagent.commands import stats

KMOD = Path(__file__).resolve().parents[2] / "kmod" / "hagent"
COUNTERS_H = KMOD / "counters.h"
OVERHEAD_H = KMOD / "overhead.h"

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_MACRO = r"^#define[ \t]+{name}\(X\)[ \t]*\\\n((?:.*\\\n)*.*\n)"
_ENTRY = re.compile(r'X\(\s*(\w+)\s*,\s*(?:(\w)\s*,\s*)?"([^"]*)"\s*\)')
_DEFINE = re.compile(r"^#define[ \t]+(\w+)[ \t]+(\d+)[ \t]*$", re.M)


def x_macro(text: str, name: str) -> list[tuple[str, str, str]]:
    """The X(ID, [KIND,] "name") entries of ``#define <name>(X)``: (id, kind or "", name).

    Every continued line of the macro must hold exactly one entry, so an entry
    the pattern cannot read is an error, not a silent omission.
    """
    text = _COMMENT.sub(" ", text)
    m = re.search(_MACRO.format(name=name), text, re.M)
    assert m, f"#define {name}(X) not found"
    entries = []
    for line in m.group(1).splitlines():
        line = line.rstrip("\\").strip()
        if not line:
            continue
        found = _ENTRY.findall(line)
        assert len(found) == 1, f"{name}: cannot read {line!r}"
        entries.append(found[0])
    return entries


def defines(text: str) -> dict[str, int]:
    return {k: int(v) for k, v in _DEFINE.findall(_COMMENT.sub(" ", text))}


def problems(counters_h: str, overhead_h: str) -> list[str]:
    """Where the headers and the Python model differ (empty: they agree)."""
    out: list[str] = []

    def compare(what: str, header: list[str], python: list[str]) -> None:
        if header != python:
            missing = [n for n in header if n not in python]
            extra = [n for n in python if n not in header]
            out.append(f"{what}: missing {missing}, not in the header {extra}, or the order")

    target = x_macro(counters_h, "HAGENT_COUNTERS")
    compare(
        "HAGENT_COUNTERS",
        [f"{n} {k}" for _, k, n in target],
        [f"{n} {k}" for n, k in model.TARGET.items()],
    )
    compare(
        "HAGENT_GLOBAL_COUNTERS",
        [n for _, _, n in x_macro(counters_h, "HAGENT_GLOBAL_COUNTERS")],
        list(model.GLOBAL),
    )
    compare(
        "HAGENT_OVERHEAD_COUNTERS",
        [n for _, _, n in x_macro(overhead_h, "HAGENT_OVERHEAD_COUNTERS")],
        list(model.OVERHEAD),
    )
    d = defines(overhead_h)
    for name, value in (
        ("HAGENT_FAULT_HIST_NR", model.FAULT_HIST_NR),
        ("HAGENT_FAULT_HIST_SHIFT", model.FAULT_HIST_SHIFT),
    ):
        if d.get(name) != value:
            out.append(f"{name} is {d.get(name)} in overhead.h, {value} in counters.py")
    return out


def test_headers_and_model_agree() -> None:
    assert problems(COUNTERS_H.read_text(), OVERHEAD_H.read_text()) == []


def test_parser_sees_every_entry() -> None:
    text = COUNTERS_H.read_text()
    assert len(x_macro(text, "HAGENT_COUNTERS")) == text.count("\tX(") - len(
        x_macro(text, "HAGENT_GLOBAL_COUNTERS")
    )
    ovh = OVERHEAD_H.read_text()
    assert len(x_macro(ovh, "HAGENT_OVERHEAD_COUNTERS")) == ovh.count("\tX(")
    assert len(model.OVERHEAD) == 20 + model.FAULT_HIST_NR


def test_names_are_unique() -> None:
    assert len(set(model.TOTALS)) == len(model.TOTALS)


# --- the parser catches drift ---------------------------------------------------


def _drift(old: str, new: str, header: Path = COUNTERS_H) -> list[str]:
    text = header.read_text()
    assert old in text, old
    changed = text.replace(old, new, 1)
    if header == COUNTERS_H:
        return problems(changed, OVERHEAD_H.read_text())
    return problems(COUNTERS_H.read_text(), changed)


def test_drift_renamed() -> None:
    assert _drift('"released.migrate"', '"released.migration"')


def test_drift_kind() -> None:
    assert _drift('X(SCANS,\t\tC, "scans")', 'X(SCANS,\t\tP, "scans")')


def test_drift_new_counter() -> None:
    # The last entry of HAGENT_COUNTERS, the one without a continuation.
    text = COUNTERS_H.read_text()
    block = text[text.index("#define HAGENT_COUNTERS(X)") :]
    last = next(ln for ln in block.splitlines() if ln.startswith("\tX(") and not ln.endswith("\\"))
    assert _drift(last + "\n", last + '\t\t\\\n\tX(NEW,\tC, "new")\n')


def test_drift_removed_global() -> None:
    assert _drift('\tX(CHECKS_FAILED,\t"checks.failed")\t\t\t\t\\\n', "")


def test_drift_order() -> None:
    text = COUNTERS_H.read_text()
    a, b = '"skipped.node"', '"skipped.cap"'
    swapped = text.replace(a, "@").replace(b, a).replace("@", b)
    assert problems(swapped, OVERHEAD_H.read_text())


def test_drift_overhead() -> None:
    assert _drift('"overhead.fault.hist.512"', '"overhead.fault.hist.500"', OVERHEAD_H)
    assert _drift("HAGENT_FAULT_HIST_NR\t\t20", "HAGENT_FAULT_HIST_NR\t\t21", OVERHEAD_H)


def test_unreadable_entry_is_an_error() -> None:
    text = COUNTERS_H.read_text().replace('X(SCANS,\t\tC, "scans")', "X(SCANS, C, scans)")
    with pytest.raises(AssertionError, match="cannot read"):
        x_macro(text, "HAGENT_COUNTERS")


def test_drift_in_a_comment_is_ignored() -> None:
    assert _drift(" *   isolation  moved", " *   isolating  moved") == []


# --- what the CLI and the fakes use is what the module sends --------------------


def _used_by_stats() -> set[str]:
    names = {n for _, n in stats._PAGES + stats._HEAD + stats._TAIL + stats._PLACEMENT}
    return names | set(stats._ABIT_WINDOW) | {stats.MIGRATE_ATTEMPTED}


def test_stats_names_are_the_modules() -> None:
    assert _used_by_stats() - set(model.TOTALS) == set()
    for _, prefix in stats._GROUPS:
        assert model.group(prefix), prefix
    assert model.group(stats.MIGRATE_FAILED)


def test_top_names_are_the_modules() -> None:
    used = {n for _, n in dashboard.MIGRATE + dashboard.TOTALS} | set(dashboard.OVERHEAD)
    assert used - set(model.TOTALS) == set()
    assert model.group(dashboard.FAIL) and model.group(dashboard.WAKE)


def test_overhead_names_are_the_modules() -> None:
    assert {overhead.PREFIX + n for n in overhead.KNOWN} <= set(model.OVERHEAD)
    assert {overhead.PREFIX + n for n in overhead.PROBED} <= set(model.OVERHEAD)
    assert [lo for lo in model.FAULT_HIST_BOUNDS] == BOUNDS
    assert [r for r, _, _ in overhead.TLB_REASONS] == list(model.TLB_FLUSH_REASONS)


def test_fake_kernel_sends_the_modules_names() -> None:
    assert set(overhead_counters()) == set(model.OVERHEAD)
    per_target = counters() | placement()
    assert set(per_target) <= set(model.TARGET)
    for part in (counters(), placement()):
        assert tuple(part) == tuple(n for n in model.TARGET if n in part)
    assert {"released.failsafe", "released.migrate", "skipped.pressure"} <= set(BASE_COUNTERS)
    assert set(PLACEMENT_COUNTERS) <= set(model.TARGET)
    assert {n for n in TOTALS if not n.startswith("samples.")} <= set(model.TOTALS)
