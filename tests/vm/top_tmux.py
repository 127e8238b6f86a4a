# SPDX-License-Identifier: GPL-2.0
"""Run `hagentctl top --once` in an 80x24 tmux pane and check the screen (in the guest).

Needs the module loaded and, for a pid line, a managed process.  Prints the
captured screen; exits non-zero unless it shows the header and a pid line
and no line is wider than 80 columns.  Standard library only.
"""

import re
import subprocess
import sys
import time

WIDTH, HEIGHT = 80, 24
SESSION = "hagent-top"
COMMAND = "hagentctl top --once --interval 0.5; sleep 5"
HEADER = "hagent top"
PID_LINE = re.compile(r"^\s*\d+ \S")  # "   1234 redis-server   fast ..."


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def main() -> int:
    tmux("new-session", "-d", "-s", SESSION, "-x", str(WIDTH), "-y", str(HEIGHT), COMMAND)
    try:
        screen = ""
        # A fresh hagentctl takes 10-20 s to start under TCG, several times
        # that when the host is busy with other guests.
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            time.sleep(1)
            screen = tmux("capture-pane", "-p", "-t", SESSION)
            if "sampled accesses" in screen or "no processes managed" in screen:
                break
            if "error:" in screen or "Traceback" in screen:
                break
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    print(screen, end="" if screen.endswith("\n") else "\n")
    lines = screen.splitlines()
    problems = []
    if not any(HEADER in line for line in lines):
        problems.append(f"no header line ({HEADER!r})")
    if not any(PID_LINE.match(line) for line in lines):
        problems.append("no pid line")
    wide = [n for n, line in enumerate(lines, 1) if len(line) > WIDTH]
    if wide:
        problems.append(f"lines wider than {WIDTH}: {wide}")
    for p in problems:
        print(f"top_tmux: FAIL: {p}", file=sys.stderr)
    if not problems:
        print("top_tmux: pass")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
