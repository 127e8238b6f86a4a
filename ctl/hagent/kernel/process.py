"""Commands hagentctl starts (``hagentctl run``): stopped at their exec, then let go.

The child asks to be traced (PTRACE_TRACEME) before it execs, so the
successful exec stops it with SIGTRAP: its new address space exists and no
instruction of the new program has run.  hagentctl enables it there and
detaches, so hagent manages the program from its first allocation.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
from collections.abc import Sequence

PTRACE_TRACEME = 0
PTRACE_DETACH = 17

_libc = ctypes.CDLL(None, use_errno=True)


def _trace_me() -> None:
    """In the child, between fork and exec."""
    if _libc.ptrace(PTRACE_TRACEME, 0, None, None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"ptrace(PTRACE_TRACEME): {os.strerror(err)}")


def start_stopped(argv: Sequence[str]) -> subprocess.Popen[bytes]:
    """Starts ``argv`` (stdin, stdout and stderr inherited) stopped right after its exec.

    Raises FileNotFoundError or PermissionError when the program cannot be
    executed, subprocess.SubprocessError when tracing is refused (Yama's
    ptrace_scope 3, a seccomp filter), ChildProcessError when it did not stop.
    """
    proc = subprocess.Popen(list(argv), preexec_fn=_trace_me)
    _, status = os.waitpid(proc.pid, os.WUNTRACED)
    if os.WIFSTOPPED(status) and os.WSTOPSIG(status) == signal.SIGTRAP:
        return proc
    if os.WIFSTOPPED(status):
        proc.kill()
        proc.wait()
        raise ChildProcessError(f"stopped by signal {os.WSTOPSIG(status)} before its exec ended")
    # Ended already (reaped here, so Popen cannot): record how.
    proc.returncode = os.waitstatus_to_exitcode(status)
    raise ChildProcessError(f"ended before its exec stopped it (status {proc.returncode})")


def let_go(proc: subprocess.Popen[bytes]) -> None:
    """Detaches from a child start_stopped() returned; it runs on."""
    if _libc.ptrace(PTRACE_DETACH, proc.pid, None, None) != 0:
        err = ctypes.get_errno()
        proc.kill()
        proc.wait()
        raise OSError(err, f"ptrace(PTRACE_DETACH, {proc.pid}): {os.strerror(err)}")


# Sent to hagentctl on purpose (kill, a service manager, a resize): passed on.
FORWARDED = (
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGALRM,
    signal.SIGWINCH,
)
# From the terminal, which sends them to the whole foreground process group,
# the command included: hagentctl ignores them while it waits, as system(3) does.
IGNORED = (signal.SIGINT, signal.SIGQUIT)


def wait_forwarding(proc: subprocess.Popen[bytes]) -> int:
    """Waits for ``proc``, passing FORWARDED signals on; its exit status as a
    shell reports it (128 + N when signal N ended it)."""

    def forward(sig: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
            os.kill(proc.pid, sig)

    old = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    old.update({sig: signal.signal(sig, signal.SIG_IGN) for sig in IGNORED})
    try:
        code = proc.wait()
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    return code if code >= 0 else 128 - code
