# SPDX-License-Identifier: GPL-2.0
"""The VM half of `make test` (and `make demo`): three or four guests per kernel.

Each installed kernel boots three times (6.12 kernels four) and runs the guest suite (pytest over
tests/vm/) inside; the host then reads the guest's junit report, exit status
and console log.  The closing line counts tests over all kernels:
"vm: N passed, N failed" -- a guest that returned no status counts as a
failure even when no test reported one.

The first guest runs every test but those marked tcg_single or peers, under QEMU's
multi-threaded TCG (one host thread per vCPU: real parallelism, so races in
hagent show up).  The second runs only the tcg_single ones, under
single-threaded TCG.  Those patch kernel text while another vCPU executes
it (unloading with the probes on while two threads fault), and this QEMU
(7.2) does not keep that safe across its vCPU threads: the guest kernel
jumped to address 0 out of the kretprobe trampoline within one or two
unloads on both 6.1 and 6.12, and with the kretprobe left out a CPU hung on
a jump label being patched -- while 40 unloads in a row passed with the
same module under single-threaded TCG (KERNEL_NOTES.md).  The third runs
the peers tests (tests/vm/test_peers.py) in the placement benchmark's
guest: 512 MiB fast, 1536 MiB slow, with ACPI HMAT, so that the kernel's
own tiering has a lower tier to demote to where the kernel supports it.
It boots with NUMA balancing off, so that only the peer that needs it
(tpp) flips its static key, patched into running text: the 6.12 guest
once took an int3 Oops in task_numa_fault() 70 ms after the sysctl was
set back to 1 after a hagent run (session 18's CI).  Single-threaded TCG
is no way out here: hagent's full-fast-tier THP test then reached 0.34 in
its 90 s (1.2 scan steps a second).  The fourth, on 6.12 kernels only, runs
the smp tests with four vCPUs: the kernel's migration selftest, which needs
three CPUs or more.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from tests.vm import runner

GUEST_PYTEST = (
    "python -m pytest tests/vm -q -p no:cacheprovider -o addopts= "
    # what each test printed (its figures) kept in the report, passed or not
    "-o junit_logging=system-out "
    "--junitxml=$HAGENT_RESULTS/junit.xml -m {marks} {extra}; "
    # 5: -k left nothing for this guest, which is no failure
    "s=$?; [ $s = 5 ] && exit 0; exit $s"
)


@dataclass(frozen=True)
class Guest:
    name: str  # results/vm/<kernel>/<name>
    marks: str  # pytest -m expression
    qemu_opts: str
    hmat: bool = False
    fast_mem: str = "1G"
    slow_mem: str = "1G"
    overlays: tuple[str, ...] = ()
    cmdline: str = ""  # more kernel command line
    cpus: int = 2
    series: str = ""  # boot only kernels whose release starts with this


# tests/vm/test_install.py installs the module (make install, DKMS) into these;
# the guest writes to overlays, never to the host's copies.
INSTALL_OVERLAYS = ("/usr/lib/modules", str(runner.TOP / "build"))


GUESTS = (
    Guest("tests", "'not tcg_single and not peers and not smp'", "", overlays=INSTALL_OVERLAYS),
    Guest("tests-tcg-single", "tcg_single", "-accel tcg,thread=single"),
    Guest(
        "tests-peers",
        "peers",
        "",
        hmat=True,
        fast_mem="512M",
        slow_mem="1536M",
        cmdline="numa_balancing=disable",
    ),
    # The kernel's migration selftest reads with one thread per CPU but the
    # one that migrates, and skips every case below three CPUs.  Its programs
    # are built from 6.12's sources, so 6.1 is not booted for it.
    Guest("tests-smp", "smp", "", cpus=4, series="6.12."),
)


def guests_for(kernel: str, names: list[str]) -> list[Guest]:
    """The guests of @names that boot @kernel, in GUESTS' order."""
    return [g for g in GUESTS if g.name in names and kernel.startswith(g.series)]


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


def junit_failures(path: Path) -> list[str]:
    """One line per failed or erroring test of a junit report: its id and the
    first line of its message."""
    if not path.exists():
        return []
    out = []
    for case in ET.parse(path).getroot().iter("testcase"):
        for bad in (*case.findall("failure"), *case.findall("error")):
            msg = (bad.get("message") or bad.text or "").strip().splitlines()
            cls = (case.get("classname") or "").replace(".", "/")
            out.append(f"{cls}.py::{case.get('name')}: {msg[0][:200] if msg else '?'}")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tests.vm.run")
    p.add_argument("--kernels", default="", help="space-separated releases (default: all)")
    p.add_argument("--demo", action="store_true", help="run the demonstration instead")
    p.add_argument("-k", dest="select", default="", help="pytest -k expression")
    # 1800: the 6.12 main guest took 1200-1400 s, and in session 22's CI it
    # reached 1500 s with 17 tests left (the zram pressure test alone 193 s
    # there, 22 s on 6.1).  A guest that hangs still ends at this bound.
    p.add_argument("--timeout", type=float, default=1800, help="seconds per guest")
    p.add_argument(
        "--guests",
        default=",".join(g.name for g in GUESTS),
        help="comma-separated guests to boot (default: all)",
    )
    args = p.parse_args(argv)
    unknown = set(args.guests.split(",")) - {g.name for g in GUESTS}
    if unknown:
        p.error(f"unknown guests {sorted(unknown)}: {[g.name for g in GUESTS]}")
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
    failures: list[str] = []
    for kernel in kernels:
        if not runner.module_path(kernel).exists():
            print(f"vm {kernel}: hagent.ko not built (make module)", file=sys.stderr)
            total_fail += 1
            continue
        for g in guests_for(kernel, args.guests.split(",")):
            print(f"vm {kernel}: booting, running tests/vm ({g.name}) ...", flush=True)
            r = runner.run(
                kernel,
                GUEST_PYTEST.format(marks=g.marks, extra=extra),
                name=g.name,
                timeout=args.timeout,
                stream=False,
                qemu_opts=g.qemu_opts,
                hmat=g.hmat,
                fast_mem=g.fast_mem,
                slow_mem=g.slow_mem,
                overlays=g.overlays,
                cmdline=g.cmdline,
                cpus=g.cpus,
            )
            passed, failed, skipped = junit_counts(r.outdir / "junit.xml")
            failures += [
                f"{kernel} ({g.name}): {f}" for f in junit_failures(r.outdir / "junit.xml")
            ]
            if not r.ok and failed == 0:
                failed = 1  # the run failed outside any test: a missing status, a warning
            total_pass += passed
            total_fail += failed
            total_skip += skipped
            _print_guest_output(r.outdir / "console.log")
            if r.boot_failures:
                print(
                    f"vm {kernel} ({g.name}): the kernel crashed before the tests started "
                    f"{r.boot_failures}x and was booted again (console.boot-failed-*.log)",
                    flush=True,
                )
            print(
                f"vm {kernel} ({g.name}): {r.verdict()}: {passed} passed, {failed} failed, "
                f"{skipped} skipped in {r.seconds:.0f}s (results in {r.outdir})",
                flush=True,
            )
    print(f"vm: {total_pass} passed, {total_fail} failed, {total_skip} skipped")
    # Last, so that a log cut to its tail (CI's) still names them.
    for f in failures:
        print(f"vm: FAILED {f}")
    return 0 if total_fail == 0 else 1


def _print_guest_output(console: Path) -> None:
    """Shows the guest pytest's own report, without the boot noise."""
    lines = console.read_text(errors="replace").splitlines()
    keep = [ln for ln in lines if not ln.startswith("[") and "virtme" not in ln]
    for ln in keep[-60:]:
        print(f"  | {ln}")


if __name__ == "__main__":
    sys.exit(main())
