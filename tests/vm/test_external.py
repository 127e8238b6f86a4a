# SPDX-License-Identifier: GPL-2.0
"""Suites hagent's authors did not write, run with their processes managed.

stress-ng's memory stressors check their own data (--verify) while hagent
takes their pages off the LRU, moves them between the tiers and gives them
back on every munmap, mremap and fork.  The kernel log is scanned for
warnings by tests/vm/run.py; the `managing` fixture checks that the counters
balance and that nothing stays isolated once the module is unloaded.

The kernel's own mm selftests (COW, mremap, populate, mlock, KSM, migration,
long-term pins) run managed from their first instruction, their children too,
and must pass as they pass unmanaged.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.vm.conftest import run_ctl, stats, wait_until
from tests.vm.memhog import TOP

# Started on the slow node, so that placement has something to move: the vm
# workers keep (--vm-keep) and rewrite their buffers with every method and
# check every byte; mmap and mremap map, check and unmap in a loop; fork
# shares and unshares its pages.
STRESS = [
    "--vm", "2", "--vm-bytes", "32M", "--vm-keep", "--vm-method", "all",
    "--mmap", "1", "--mmap-bytes", "16M",
    "--mremap", "1", "--mremap-bytes", "16M",
    "--fork", "1",
    "--verify", "--timeout", "60s", "--metrics-brief",
]  # fmt: skip


def test_stress_ng_memory_stressors_verify_their_data_while_managed(
    managing: None, tmp_path: Path
) -> None:
    """Under `hagentctl run`: stress-ng managed from its exec, and every worker
    (and the child a worker runs its stressor in, and fork's children) from
    the moment it is forked, by the module's fork probe."""
    before = stats()["totals"]
    proc = subprocess.Popen(
        ["hagentctl", "run", "--", "numactl", "--membind=1", "stress-ng", *STRESS,
         "--temp-path", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    managed: dict[int, str] = {}
    roots: set[int] = set()
    try:
        # What is managed while it runs (each look takes seconds under TCG;
        # the stressors' workers live the whole minute).
        while proc.poll() is None:
            for t in stats()["targets"]:
                if "workload" in t:
                    managed.setdefault(t["pid"], t["comm"])
                    roots.add(t["workload"])
            time.sleep(1)
        out, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out  # hagentctl run exits with stress-ng's status
    assert "successful run completed" in out, out
    names = sorted(managed.values())
    assert len(roots) == 1, (roots, names)  # one workload: stress-ng's tree
    for stressor in ("vm", "mmap", "mremap", "fork"):
        assert any(n.startswith(f"stress-ng-{stressor}"[:15]) for n in names), names
    after = stats()["totals"]
    assert after["follow.missed"] == before["follow.missed"], after
    wait_until("every target gone", lambda: not stats()["targets"])  # and every folio back
    moved = after["promoted"] - before["promoted"]
    assert moved > 0, f"nothing was moved while the stressors ran: {after}"
    gave_back = after["released.unmap"] - before["released.unmap"]
    assert gave_back > 0, after
    print(
        f"stress-ng: {len(managed)} processes seen managed {names}; "
        f"{after['follow.enabled'] - before['follow.enabled']} followed, {moved} pages promoted, "
        f"{gave_back} given back on a mapping change"
    )


# The kernel's own mm selftests (scripts/mm-selftests builds them from
# Debian's 6.12 sources), each run managed from its exec on: see start_bound.
MM_SELFTESTS = TOP / "build" / "mm-selftests"
MM_SELFTEST_NAMES = (
    "cow",  # with io_uring's fixed buffers (liburing): long-term pins of managed folios
    "mremap_test",
    "madv_populate",
    "mlock2-tests",
    "ksm_functional_tests",
    # long-term pins (io_uring) of file mappings: hagent manages private
    # anonymous memory only, so it adopts a few pages here (3 in one run)
    "gup_longterm",
    # move_pages() of a range between the nodes for 20 s while threads (or
    # forked children, followed) read it; needs three CPUs: tests/vm/run.py
    # runs it in the four-CPU guest
    pytest.param("migration", marks=pytest.mark.smp),
)
KSFT_TOTALS = re.compile(
    r"Totals: pass:(\d+) fail:(\d+) xfail:\d+ xpass:\d+ skip:(\d+) error:(\d+)"
)

_libc = ctypes.CDLL(None, use_errno=True)
PTRACE_TRACEME, PTRACE_DETACH = 0, 17
SYS_SET_MEMPOLICY, MPOL_BIND = 238, 2  # x86_64
ADDR_NO_RANDOMIZE, PERSONALITY_QUERY = 0x0040000, 0xFFFFFFFF


def _bind_to_node_1() -> None:
    """In the child, before exec: memory on the slow node and the same address
    space layout every run (both inherited across exec).  The layout matters:
    mremap_test's "40MB Preamble" case checks only that its destination is
    free, not the 40 MB below it, and 6.12 puts a non-PIE program's heap
    anywhere in its first GiB (arch_randomize_brk, x86-64): 15 of 200
    randomized runs on the 6.18 host failed that case with no hagent
    anywhere, 0 of 200 under `setarch -R`."""
    mask = ctypes.c_ulong(1 << 1)
    if _libc.syscall(SYS_SET_MEMPOLICY, MPOL_BIND, ctypes.byref(mask), 64) != 0:
        os._exit(120)
    current = _libc.personality(PERSONALITY_QUERY)
    if current == -1 or _libc.personality(current | ADDR_NO_RANDOMIZE) == -1:
        os._exit(122)


def _bind_to_node_1_and_stop_at_exec() -> None:
    """As _bind_to_node_1, and a stop at exec for the parent to enable it."""
    _bind_to_node_1()
    if _libc.ptrace(PTRACE_TRACEME, 0, None, None) != 0:
        os._exit(121)


def start_bound(argv: list[str], cwd: Path, managed: bool) -> subprocess.Popen[str]:
    """Starts @argv with its memory on the slow node, its output piped; when
    @managed, managed from its first instruction: traced, it stops at exec
    (SIGTRAP) with its new address space, is enabled with --follow (so are
    the children it forks: cow's, migration's), and detached."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_bind_to_node_1_and_stop_at_exec if managed else _bind_to_node_1,
    )
    if not managed:
        return proc
    _, status = os.waitpid(proc.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status) and os.WSTOPSIG(status) == signal.SIGTRAP, status
    try:
        run_ctl("enable", "--pid", str(proc.pid), "--follow")
    finally:
        if _libc.ptrace(PTRACE_DETACH, proc.pid, None, None) != 0:
            proc.kill()
    return proc


NOT_OK = re.compile(r"^not ok \d+ (.*)$", re.M)


def run_selftest(binary: Path, managed: bool) -> tuple[str, list[str]]:
    """Runs one selftest program; its output and the subtests that failed.
    Totals with no failures and exit 0 give an empty list."""
    proc = start_bound([str(binary)], cwd=binary.parent, managed=managed)
    try:
        out, _ = proc.communicate(timeout=1200)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    totals = KSFT_TOTALS.search(out)
    assert totals, out[-3000:]
    assert int(totals.group(1)) > 0, out[-3000:]  # something passed
    failed = NOT_OK.findall(out)
    if proc.returncode != 0 and not failed:
        failed = [f"exit status {proc.returncode}"]
    return out, failed


@pytest.mark.parametrize("name", MM_SELFTEST_NAMES)
def test_the_kernels_mm_selftests_pass_while_managed(managing: None, name: str) -> None:
    # Each runs unmanaged first, then managed: managed, it may fail nothing
    # that passed unmanaged (this guest fails some on its own: mremap_test's
    # 2 GiB mappings do not fit in it).
    if not os.uname().release.startswith("6.12."):
        pytest.skip("the selftests are built from 6.12's sources, for 6.12 kernels")
    binary = MM_SELFTESTS / name
    assert binary.exists(), f"{binary} is missing: scripts/mm-selftests (make mm-selftests)"
    _, failed_alone = run_selftest(binary, managed=False)
    before = stats()["totals"]
    out, failed = run_selftest(binary, managed=True)
    after = stats()["totals"]
    followed = after["follow.enabled"] - before["follow.enabled"]
    assert after["follow.missed"] == before["follow.missed"], "a fork was not followed"
    new_failures = sorted(set(failed) - set(failed_alone))
    assert not new_failures, f"failed only while managed: {new_failures}\n{out[-3000:]}"
    adopted = after["adopted"] - before["adopted"]
    totals = KSFT_TOTALS.search(out)
    assert totals is not None
    print(
        f"{name}: {totals.group(1)} passed, {totals.group(3)} skipped, "
        f"{len(failed)} failed as they fail unmanaged; hagent adopted {adopted} pages "
        f"and followed {followed} children"
    )
    assert adopted > 0, "hagent took none of the selftest's pages"
