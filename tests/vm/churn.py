# SPDX-License-Identifier: GPL-2.0
"""Drives tests/vm/progs/churn.c: page faults, munmaps and mmap_lock traffic on demand."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
CHURN = TOP / "build" / "progs" / "churn"


class Churn:
    """A process that faults, maps and unmaps when told to, line by line."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [str(CHURN)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        assert self._readline() == "ready"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _readline(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line:
            raise AssertionError(f"churn {self.pid} died (exit {self.proc.poll()})")
        return line

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def reply(self, command: str) -> list[str]:
        line = self._readline()
        assert line.startswith("ok"), f"{command}: {line}"
        return line.split()[1:]

    def do(self, command: str) -> list[str]:
        """Run one command and return the words after "ok"."""
        self.send(command)
        return self.reply(command)

    def prep(self, pages: int) -> None:
        """Map ``pages`` fresh pages for touch()."""
        self.do(f"prep {pages}")

    def touch(self) -> int:
        """Fault in every prepared page once; the time it took in ns."""
        return int(self.do("touch")[0])

    def munmap(self, iterations: int, pages: int) -> int:
        """``iterations`` rounds of map, write ``pages`` pages, unmap; ns taken."""
        return int(self.do(f"munmap {iterations} {pages}")[0])

    def threads(self, threads: int, seconds: int, pages: int) -> int:
        """``threads`` threads in munmap loops for ``seconds``; loops done."""
        return int(self.do(f"threads {threads} {seconds} {pages}")[0])

    def exit(self) -> None:
        if self.proc.poll() is None:
            self.send("exit")
        self.proc.wait(timeout=120)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=60)
