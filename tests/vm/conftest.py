# SPDX-License-Identifier: GPL-2.0
"""Fixtures for the guest suite.  These tests load hagent: they run only
inside a VM booted by tests/vm/runner.py, never on the host."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

if os.environ.get("HAGENT_IN_VM") != "1":
    raise pytest.UsageError("tests/vm load a kernel module: run them with `make vm-test`")

KO = Path(os.environ["HAGENT_KO"])
# The debug flavour (scripts/debug-kernel: KASAN, lockdep, KFENCE) runs the
# same work several times slower: a test that gives the placement a fixed
# time to act gives it this many times more there.
DEBUG_KERNEL = os.uname().release.endswith("-hagent-debug")
TIME_SCALE = 3 if DEBUG_KERNEL else 1


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "tcg_single: patches kernel text while another vCPU runs it; tests/vm/run.py "
        "runs these in a guest of their own under single-threaded TCG",
    )
    config.addinivalue_line(
        "markers",
        "peers: scripts/bench-placement's peers (TPP, DAMON); tests/vm/run.py runs these in "
        "a guest of their own, booted with the benchmark's HMAT recipe",
    )
    config.addinivalue_line(
        "markers",
        "smp: needs more than two CPUs; tests/vm/run.py runs these in a guest of four",
    )


def module_loaded() -> bool:
    return Path("/sys/module/hagent").exists()


@dataclass
class CtlResult:
    returncode: int
    stdout: str
    stderr: str


def run_ctl(*args: str, check: bool = True, user: str | None = None) -> CtlResult:
    """Runs hagentctl against the real kernel.

    In-process through the CLI's own entry (the same code path as the
    installed command, minus a fresh interpreter: under TCG a Python start
    with hagentctl's imports takes 10-20 s).  With @user, as a real subprocess under that
    uid, since privileges cannot change in-process.
    """
    if user:
        argv = [
            "setpriv",
            f"--reuid={user}",
            f"--regid={user}",
            "--clear-groups",
            "--",
            "hagentctl",
            *args,
        ]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        res = CtlResult(proc.returncode, proc.stdout, proc.stderr)
    else:
        from typer.testing import CliRunner

        from hagent.cli import app

        r = CliRunner().invoke(app, list(args), prog_name="hagentctl")
        if r.exception is not None and not isinstance(r.exception, SystemExit):
            raise r.exception
        res = CtlResult(r.exit_code, r.stdout, r.stderr)
    if check and res.returncode != 0:
        raise AssertionError(
            f"hagentctl {' '.join(args)} exited {res.returncode}:\n{res.stdout}\n{res.stderr}"
        )
    return res


def ctl_json(*args: str) -> Any:
    return json.loads(run_ctl(*args, "--json").stdout)


@pytest.fixture
def loaded() -> Iterator[None]:
    """hagent loaded for the test, and unloaded after it whatever happened."""
    assert not module_loaded(), "hagent was left loaded by an earlier test"
    run_ctl("load", "--ko", str(KO))
    try:
        yield
    finally:
        if module_loaded():
            run_ctl("unload")


def meminfo() -> dict[str, int]:
    out = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, value = line.split(":", 1)
        out[key] = int(value.split()[0])
    return out


def vmstat() -> dict[str, int]:
    return {
        k: int(v) for k, v in (ln.split() for ln in Path("/proc/vmstat").read_text().splitlines())
    }


def stats(pid: int | None = None) -> Any:
    return ctl_json("stats", *(["--pid", str(pid)] if pid else []))


def wait_until(
    what: str, check: Callable[[], object], timeout: float = 60, step: float = 0.5
) -> None:
    """Poll @check until it is true; past @timeout fail, naming @what and the
    targets hagent has then (when it is loaded)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            targets = stats()["targets"] if module_loaded() else "hagent not loaded"
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}: {targets}")
        time.sleep(step)


def counters(pid: int) -> dict[str, int]:
    targets = stats(pid)["targets"]
    assert len(targets) == 1 and targets[0]["pid"] == pid
    return dict(targets[0]["counters"])


def managed_pages(c: dict[str, int]) -> int:
    return c["managed_pages.fast"] + c["managed_pages.slow"]


def released_pages(c: dict[str, int]) -> int:
    return sum(v for k, v in c.items() if k.startswith("released."))


SAMPLE_KINDS = ("fast", "slow", "unmanaged", "invalid", "dropped")


def check_balance() -> None:
    """Every page ever adopted is either still managed or was given back, and
    every sample ever pushed ended up in exactly one place."""
    t = stats()["totals"]
    assert t["adopted"] == released_pages(t) + managed_pages(t), t
    for src in ("", "pebs.", "ibs.", "abit.", "inject.", "fault."):
        total = t[f"samples.{src}total"]
        assert total == sum(t[f"samples.{src}{k}"] for k in SAMPLE_KINDS), (src, t)


@pytest.fixture
def managing() -> Iterator[None]:
    """hagent loaded with a fast rescan; afterwards every counter must
    balance, nothing may stay isolated, and the module unloads cleanly."""
    assert not module_loaded(), "hagent was left loaded by an earlier test"
    isolated = vmstat()["nr_isolated_anon"]
    run_ctl("load", "--ko", str(KO), "scan_interval_ms=200")
    try:
        yield
        if module_loaded():  # a test may unload it itself
            check_balance()
    finally:
        if module_loaded():
            run_ctl("unload")
    isolated_back(isolated)


def isolated_back(baseline: int) -> None:
    """nr_isolated_anon returns to @baseline once hagent is unloaded.  The
    kernel isolates folios for a moment of its own (a NUMA-balancing
    migration of a THP: 512; khugepaged's collapse): seen once in CI,
    512 at the teardown of a test that managed nothing.  Those last
    milliseconds; a folio hagent left isolated stays so for good."""
    wait_until(
        f"nr_isolated_anon back at {baseline}",
        lambda: vmstat()["nr_isolated_anon"] == baseline,
        timeout=10,
        step=0.1,
    )
