# SPDX-License-Identifier: GPL-2.0
"""Run a command in a two-node NUMA guest of a stock kernel, and judge the run.

The guest boots the chosen /boot/vmlinuz-* under TCG with virtme-ng, sharing
the host's root filesystem read-only, so the repository, its venv and the
freshly built hagent.ko are visible at the same paths.  Node 0 has the CPUs
(the fast tier), node 1 has none (the slow tier).  Warnings are fatal.

A run passes only if the guest wrote its exit status (a missing status is a
failure, never a pass), the status is 0, and the console log holds none of
the lines in BAD_LINES.

    python -m tests.vm.runner [--kernel VER]... [--fast-mem 1G] [--slow-mem 1G] -- CMD...
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("HAGENT_VENV", TOP / ".venv"))
RESULTS = TOP / "results"

# A line matching any of these fails the run, whatever the exit status.
BAD_LINES = re.compile(
    r"BUG:|WARNING:|Oops|Kernel panic|bad_page|Bad page|general protection fault"
    r"|hagent: CHECK failed|RIP: |Call Trace:|kernel BUG|blocked for more than|soft lockup"
    # the debug flavour's checkers (KASAN and KFENCE reports start "BUG:",
    # lockdep's "WARNING:"; these are their other first lines)
    r"|UBSAN:|possible (circular|recursive) locking|inconsistent lock state"
    r"|suspicious RCU usage|page dumped because"
)
# The guest script's first output line.  printf joins two words, so the
# command line itself never contains the line it prints.
GUEST_STARTED = "hagent-guest-started"
# A kernel that crashes before it runs the command is booted again this many
# times: QEMU's multi-threaded TCG can corrupt kernel text being patched
# (tests/vm/run.py), and a static key flipped at boot hit it once ("Oops:
# int3" in sched_clock_cpu at "sched_clock: Marking stable", 6.12, no module
# loaded).  Such a crash says nothing about hagent, which is not loaded yet.
BOOT_RETRIES = 1
# Check failures a test induces on purpose (DEBUG_FAIL) carry this key=value.
# A page offline_pages() cannot isolate is dumped "because: unmovable page":
# the kernel's report of a refused offline, which the memory-offline tests
# provoke while they look for a block they can take (test_managed.py:
# movable_block(); a memblock-reserved page of node 1 refused it in
# session 19's CI).  A managed folio keeping a block from going offline
# fails those tests on their own (the block does not go offline in 60 s).
INDUCED = re.compile(r"CHECK failed: .* debug_fail=1|page dumped because: unmovable page$")
KERNEL_CMDLINE = "panic_on_warn=1 oops=panic panic=-1 softlockup_panic=1"
# ACPI HMAT for the two nodes: node 1 four times the latency and a quarter of
# the bandwidth of node 0, seen from the CPUs' node.  Kernels since 6.10 then
# put the CPU-less node 1 in a lower memory tier, which the kernel's own
# tiering (demotion, numa_balancing=2) needs; 6.1 ignores it for boot-time
# memory (KERNEL_NOTES.md).
HMAT_QEMU_OPTS = " ".join(
    f"-numa hmat-lb,initiator=0,target={node},hierarchy=memory,data-type={kind},{value}"
    for node, lat, bw in ((0, 10, "20G"), (1, 40, "5G"))
    for kind, value in (
        ("access-latency", f"latency={lat}"),
        ("access-bandwidth", f"bandwidth={bw}"),
    )
)


@dataclass
class VmResult:
    kernel: str
    status: int | None
    seconds: float
    outdir: Path
    bad_lines: list[str] = field(default_factory=list)
    error: str = ""

    boot_failures: int = 0  # boots that crashed before the command ran, retried

    @property
    def ok(self) -> bool:
        return self.status == 0 and not self.bad_lines and not self.error

    def verdict(self) -> str:
        if self.error:
            return self.error
        if self.status is None:
            return "VM did not return status"
        if self.bad_lines:
            return f"kernel log: {self.bad_lines[0].strip()}"
        if self.status:
            return f"guest command exited {self.status}"
        return "ok"


def installed_kernels() -> list[str]:
    out = subprocess.run(
        [str(TOP / "scripts" / "kernels")], check=True, capture_output=True, text=True
    ).stdout
    return out.split()


def kernel_image(kernel: str) -> Path:
    """The image to boot: a distribution kernel's in /boot, else the one
    beside its modules (the debug flavour, scripts/debug-kernel, which stays
    out of /boot)."""
    boot = Path(f"/boot/vmlinuz-{kernel}")
    if boot.exists():
        return boot
    beside = Path(f"/lib/modules/{kernel}/vmlinuz")
    return beside if beside.exists() else boot


def module_path(kernel: str) -> Path:
    return TOP / "build" / kernel / "kmod" / "hagent" / "hagent.ko"


# The global OOM killer's report (a test that runs memory out on purpose,
# tests/vm/test_storms.py) dumps the allocating task's stack: from its first
# line to the kill, "Call Trace:" and the user registers of the fault that
# allocated ("RIP: 0033:", the user code segment) are the report's, not a bug.
# Anything else in it (a WARNING, a BUG, a kernel RIP) still counts.
OOM_REPORT_START = re.compile(r"invoked oom-killer: ")
OOM_REPORT_END = re.compile(r"Out of memory: Killed process|oom-kill:|Killed process")
OOM_STACK = re.compile(r"Call Trace:|RIP: 0033:")


def scan_log(text: str) -> list[str]:
    bad = []
    in_oom = False
    for ln in text.splitlines():
        if OOM_REPORT_START.search(ln):
            in_oom = True
        elif in_oom and OOM_REPORT_END.search(ln):
            in_oom = False
        if BAD_LINES.search(ln) and not INDUCED.search(ln):
            if in_oom and OOM_STACK.search(ln) and not BAD_LINES.search(OOM_STACK.sub("", ln)):
                continue
            bad.append(ln)
    return bad


def _guest_script(command: str, outdir: Path, kernel: str) -> str:
    """The shell the guest runs: the command, then its status and dmesg."""
    env = {
        "PATH": f"{VENV}/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HAGENT_KO": str(module_path(kernel)),
        "HAGENT_RESULTS": str(outdir),
        "HAGENT_IN_VM": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        # this tree's hagentctl, whichever tree the venv was installed from
        "PYTHONPATH": f"{TOP}:{TOP / 'ctl'}",
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    return (
        f"printf '%s-%s\\n' hagent-guest started; "
        f"export {exports}; cd {shlex.quote(str(TOP))}; "
        "mount -t debugfs none /sys/kernel/debug 2>/dev/null; "
        f"( {command} ); s=$?; "
        f"dmesg > {shlex.quote(str(outdir / 'dmesg.log'))}; "
        f"echo $s > {shlex.quote(str(outdir / 'status'))}; sync"
    )


def run(
    kernel: str,
    command: str,
    *,
    name: str = "run",
    fast_mem: str = "1G",
    slow_mem: str = "1G",
    cpus: int = 2,
    timeout: float = 900,
    stream: bool = False,
    qemu_opts: str = "",
    hmat: bool = False,
    overlays: tuple[str, ...] = (),
    cmdline: str = "",
) -> VmResult:
    """Boot @kernel, run @command in the guest, and return the judged result.

    @qemu_opts: more QEMU arguments (e.g. "-icount shift=0,sleep=off").
    @hmat: describe the nodes' latency and bandwidth to the guest (HMAT_QEMU_OPTS).
    @overlays: host directories the guest may write, on a tmpfs overlay: the
    host's copy never changes (those that do not exist are left out).
    @cmdline: more kernel command line, after KERNEL_CMDLINE.
    """
    outdir = RESULTS / "vm" / kernel / name
    if outdir.exists():
        shutil.rmtree(outdir)
    outdir.mkdir(parents=True)
    image = kernel_image(kernel)
    if not image.exists():
        return VmResult(kernel, None, 0.0, outdir, error=f"no kernel image {image}")
    total = _mib(fast_mem) + _mib(slow_mem)
    slow_numa = f"{_mib(slow_mem)}M" + (",initiator=0" if hmat else "")
    if hmat:
        qemu_opts = f"-machine hmat=on {HMAT_QEMU_OPTS} {qemu_opts}".strip()
    argv = [
        str(VENV / "bin" / "vng"), "--run", str(image), "--disable-kvm", "--verbose",
        "--cpus", str(cpus), "--memory", f"{total}M",
        "--numa", f"{_mib(fast_mem)}M,cpus=0-{cpus - 1}", "--numa", slow_numa,
        "--numa-distance", "0,1=30",
        f"--rwdir={outdir}", *[f"--overlay-rwdir={d}" for d in overlays if Path(d).is_dir()],
        "--append", f"{KERNEL_CMDLINE} {cmdline}".strip(),
        *([f"--qemu-opts={qemu_opts}"] if qemu_opts else []),  # "=": the value starts with "-"
        "--", _guest_script(command, outdir, kernel),
    ]  # fmt: skip
    env = dict(os.environ, PATH=f"{VENV}/bin:{os.environ.get('PATH', '/usr/bin:/bin')}")
    console = outdir / "console.log"
    start = time.monotonic()
    for failures in range(BOOT_RETRIES + 1):
        error = _boot(argv, env, console, start + timeout, stream)
        text = console.read_text(errors="replace")
        if failures == BOOT_RETRIES or not crashed_before_command(text, outdir, error):
            break
        console.rename(outdir / f"console.boot-failed-{failures + 1}.log")
    seconds = time.monotonic() - start
    if error:
        error = f"VM timed out after {timeout:.0f}s"
    status_file = outdir / "status"
    status = int(status_file.read_text().strip()) if status_file.exists() else None
    return VmResult(kernel, status, seconds, outdir, scan_log(text), error, failures)


def crashed_before_command(console: str, outdir: Path, error: str) -> bool:
    """The kernel crashed (a BAD_LINES line) before the guest script printed
    its first line, and no status came back: a boot to retry."""
    return (
        not error
        and not (outdir / "status").exists()
        and GUEST_STARTED not in console
        and bool(scan_log(console))
    )


def _boot(
    argv: list[str], env: dict[str, str], console: Path, deadline: float, stream: bool
) -> str:
    """One boot, its output into @console; "timeout" if it ran past @deadline."""
    error = ""
    # Line-buffered: the file shows how far a running guest is (a block-
    # buffered one looked stalled for minutes while the guest ran on).
    with console.open("w", buffering=1) as log:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=env, text=True, errors="replace", start_new_session=True,
        )  # fmt: skip
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                log.write(line)
                if stream:
                    sys.stdout.write(line)
                    sys.stdout.flush()
                if time.monotonic() > deadline:
                    raise TimeoutError
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except (TimeoutError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, 9)
            proc.wait()
            error = "timeout"
    return error


def _mib(size: str) -> int:
    m = re.fullmatch(r"(\d+)([MG]?)", size.strip().upper())
    if not m:
        raise ValueError(f"bad memory size {size!r} (use e.g. 512M or 1G)")
    return int(m.group(1)) * (1024 if m.group(2) == "G" else 1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="scripts/vm", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--kernel", action="append", help="kernel release (default: every installed)")
    p.add_argument("--fast-mem", default="1G", help="memory of node 0, with the CPUs")
    p.add_argument("--slow-mem", default="1G", help="memory of node 1, CPU-less")
    p.add_argument("--cpus", type=int, default=2)
    p.add_argument("--timeout", type=float, default=900, help="seconds per boot")
    p.add_argument("--name", default="run", help="results subdirectory")
    p.add_argument("-q", "--quiet", action="store_true", help="do not stream the console")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- command to run in the guest")
    args = p.parse_args(argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        p.error("no command given (use: -- CMD ...)")
    worst = 0
    for kernel in args.kernel or installed_kernels():
        r = run(
            kernel,
            " ".join(cmd),
            name=args.name,
            fast_mem=args.fast_mem,
            slow_mem=args.slow_mem,
            cpus=args.cpus,
            timeout=args.timeout,
            stream=not args.quiet,
        )
        print(f"vm {kernel}: {r.verdict()} ({r.seconds:.0f}s, log {r.outdir}/console.log)")
        worst = worst or (0 if r.ok else 1)
    return worst


if __name__ == "__main__":
    sys.exit(main())
