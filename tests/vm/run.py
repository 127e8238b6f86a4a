# SPDX-License-Identifier: GPL-2.0
"""The VM half of `make test` (and `make demo`): one guest per kernel.

Each installed kernel boots once and runs the whole guest suite (pytest over
tests/vm/) inside; the host then reads the guest's junit report, exit status
and console log.  The closing line counts tests over all kernels:
"vm: N passed, N failed" -- a kernel whose guest returned no status counts
as a failure even when no test reported one.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.vm import runner

GUEST_PYTEST = (
    "python -m pytest tests/vm -q -p no:cacheprovider -o addopts= "
    "--junitxml=$HAGENT_RESULTS/junit.xml {extra}"
)


def junit_counts(path: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) from a pytest junit report."""
    if not path.exists():
        return 0, 0, 0
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = failed = skipped = 0
    for s in suites:
        tests += int(s.get("tests", 0))
        failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
        skipped += int(s.get("skipped", 0))
    return tests - failed - skipped, failed, skipped


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tests.vm.run")
    p.add_argument("--kernels", default="", help="space-separated releases (default: all)")
    p.add_argument("--demo", action="store_true", help="run the demonstration instead")
    p.add_argument("-k", dest="select", default="", help="pytest -k expression")
    p.add_argument("--timeout", type=float, default=1500, help="seconds per kernel")
    args = p.parse_args(argv)
    kernels = args.kernels.split() or runner.installed_kernels()
    if not kernels:
        print("vm: no kernel with headers installed; run scripts/setup", file=sys.stderr)
        return 1

    if args.demo:
        r = runner.run(
            kernels[0],
            "python -m tests.vm.demo",
            name="demo",
            fast_mem="512M",
            slow_mem="1536M",
            timeout=args.timeout,
            stream=True,
        )
        print(f"demo {r.kernel}: {r.verdict()} ({r.seconds:.0f}s, log {r.outdir}/console.log)")
        return 0 if r.ok else 1

    extra = f"-k '{args.select}'" if args.select else ""
    total_pass = total_fail = total_skip = 0
    for kernel in kernels:
        if not runner.module_path(kernel).exists():
            print(f"vm {kernel}: hagent.ko not built (make module)", file=sys.stderr)
            total_fail += 1
            continue
        print(f"vm {kernel}: booting, running tests/vm ...", flush=True)
        r = runner.run(
            kernel,
            GUEST_PYTEST.format(extra=extra),
            name="tests",
            timeout=args.timeout,
            stream=False,
        )
        passed, failed, skipped = junit_counts(r.outdir / "junit.xml")
        if not r.ok and failed == 0:
            failed = 1  # the run failed outside any test: a missing status, a warning
        total_pass += passed
        total_fail += failed
        total_skip += skipped
        _print_guest_output(r.outdir / "console.log")
        print(
            f"vm {kernel}: {r.verdict()}: {passed} passed, {failed} failed, "
            f"{skipped} skipped in {r.seconds:.0f}s (results in {r.outdir})",
            flush=True,
        )
    print(f"vm: {total_pass} passed, {total_fail} failed, {total_skip} skipped")
    return 0 if total_fail == 0 else 1


def _print_guest_output(console: Path) -> None:
    """Shows the guest pytest's own report, without the boot noise."""
    lines = console.read_text(errors="replace").splitlines()
    keep = [ln for ln in lines if not ln.startswith("[") and "virtme" not in ln]
    for ln in keep[-60:]:
        print(f"  | {ln}")


if __name__ == "__main__":
    sys.exit(main())
