"""Counters from /sys/kernel/debug/hagent/: the only reader of debugfs.

Each file the module creates holds ``key value`` lines.  All files under the
directory (recursively) are read into {relative path: {key: value}}; values
are ints when they parse as one (decimal or 0x hex), else the raw string.
"""

import os
from pathlib import Path

from hagent.errors import ExitCode, HagentError
from hagent.kernel.kmodlib import sysfs_state

DEBUGFS_MOUNT = Path("/sys/kernel/debug")
DEBUGFS_DIR = DEBUGFS_MOUNT / "hagent"

Counters = dict[str, dict[str, int | str]]


def parse_counters(text: str) -> dict[str, int | str]:
    """Parse one file's ``key value`` lines; blank lines are skipped."""
    out: dict[str, int | str] = {}
    for line in text.splitlines():
        parts = line.split(None, 1)
        if not parts:
            continue
        key = parts[0]
        raw = parts[1].strip() if len(parts) > 1 else ""
        try:
            out[key] = int(raw, 0)
        except ValueError:
            out[key] = raw
    return out


def read_counters(root: Path = DEBUGFS_DIR) -> Counters:
    """Read every file under ``root`` (default /sys/kernel/debug/hagent)."""
    try:
        if not root.is_dir():
            if root == DEBUGFS_DIR and not os.path.ismount(DEBUGFS_MOUNT):
                raise HagentError(
                    f"debugfs is not mounted at {DEBUGFS_MOUNT}",
                    hint=f"run: mount -t debugfs none {DEBUGFS_MOUNT}",
                )
            if root == DEBUGFS_DIR and sysfs_state() is not None:
                raise HagentError(f"{root} not found: hagent is loaded but built without debugfs")
            raise HagentError(
                f"{root} not found: hagent is not loaded, or built without debugfs",
                hint="run: hagentctl load",
                exit_code=ExitCode.NOT_LOADED,
            )
        counters: Counters = {}
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            counters[path.relative_to(root).as_posix()] = parse_counters(path.read_text())
        return counters
    except PermissionError as err:
        raise HagentError(f"must be root to read {err.filename or root}") from err
    except OSError as err:
        raise HagentError(f"cannot read {err.filename or root}: {err.strerror}") from err
