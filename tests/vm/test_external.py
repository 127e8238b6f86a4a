# SPDX-License-Identifier: GPL-2.0
"""Suites hagent's authors did not write, run with their processes managed.

stress-ng's memory stressors check their own data (--verify) while hagent
takes their pages off the LRU, moves them between the tiers and gives them
back on every munmap, mremap and fork.  The kernel log is scanned for
warnings by tests/vm/run.py; the `managing` fixture checks that the counters
balance and that nothing stays isolated once the module is unloaded.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.vm.conftest import run_ctl, stats

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


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for c in map(int, children):
        out += [c, *descendants(c)]
    return out


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def test_stress_ng_memory_stressors_verify_their_data_while_managed(
    managing: None, tmp_path: Path
) -> None:
    before = stats()["totals"]
    proc = subprocess.Popen(
        ["numactl", "--membind=1", "stress-ng", *STRESS, "--temp-path", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    managed: dict[int, str] = {}
    try:
        # Every worker (and the child a worker runs its stressor in) that
        # exists during the first 20 s is managed; fork's short-lived
        # children may be gone before they are enabled.
        end = time.monotonic() + 20
        while time.monotonic() < end and proc.poll() is None:
            for pid in descendants(proc.pid):
                if pid in managed:
                    continue
                r = run_ctl("enable", "--pid", str(pid), check=False)
                if r.returncode == 0:
                    managed[pid] = comm(pid)
            time.sleep(1)
        out, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "successful run completed" in out, out
    names = sorted(managed.values())
    for stressor in ("vm", "mmap", "mremap"):
        assert any(n.startswith(f"stress-ng-{stressor}"[:15]) for n in names), names
    after = stats()["totals"]
    moved = after["promoted"] - before["promoted"]
    assert moved > 0, f"nothing was moved while the stressors ran: {after}"
    gave_back = after["released.unmap"] - before["released.unmap"]
    assert gave_back > 0, after
    print(
        f"stress-ng: {len(managed)} processes managed {names}; {moved} pages promoted, "
        f"{gave_back} given back on a mapping change"
    )
