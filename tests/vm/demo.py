# SPDX-License-Identifier: GPL-2.0
"""`make demo`, run inside the guest: load hagent and show what it sees.

Later capabilities (management, placement, the live dashboard) grow this
script; today it loads the module, prints the operator's status view and
unloads, stopping at the first thing that fails.
"""

from __future__ import annotations

import os
import subprocess
import sys

from hagent.cli import app


def step(title: str, *argv: str) -> None:
    print(f"\n$ {' '.join(argv)}    # {title}", flush=True)
    if argv[0] != "hagentctl":
        subprocess.run(argv, check=True)
        return
    # hagentctl in this interpreter: the same entry point as the installed
    # command, without a new Python start (about 30 s each under TCG).
    try:
        app(list(argv[1:]), prog_name="hagentctl")
    except SystemExit as e:
        if e.code:
            raise subprocess.CalledProcessError(int(e.code), argv) from None


def main() -> int:
    ko = os.environ["HAGENT_KO"]
    try:
        step("two NUMA nodes: node 1 has no CPUs, the slow tier", "numactl", "-H")
        step("load the module built for this kernel", "hagentctl", "load", "--ko", ko)
        step("what hagent sees", "hagentctl", "status")
        step("the same for scripts", "hagentctl", "status", "--json")
        step("unload", "hagentctl", "unload")
    except subprocess.CalledProcessError as e:
        print(
            f"demo: step failed: {' '.join(map(str, e.cmd))} (exit {e.returncode})", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
