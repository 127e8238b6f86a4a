"""Naming a cgroup v2: a path on the unified hierarchy -> the directory and its id.

The module takes a cgroup by its id, which on 64-bit kernels is the inode
number of its directory (kernfs node id; ``cgroup_get_from_id()``).
"""

import os
from pathlib import Path

from hagent.errors import ExitCode, HagentError

MOUNTINFO = Path("/proc/self/mountinfo")


def cgroup2_mounts(mountinfo: Path | None = None) -> list[Path]:
    """Where cgroup v2 is mounted, in mount order."""
    mounts = []
    try:
        lines = (mountinfo or MOUNTINFO).read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        before, sep, after = line.partition(" - ")
        fields = before.split()
        if sep and len(fields) >= 5 and after.split()[:1] == ["cgroup2"]:
            # Octal escapes (\040 for a space) as the kernel writes them.
            mounts.append(Path(fields[4].encode().decode("unicode_escape")))
    return mounts


def resolve(path: str, mountinfo: Path | None = None) -> tuple[Path, int]:
    """``path`` as a directory (``/sys/fs/cgroup/app``) or relative to the
    cgroup v2 mount (``app``, ``/app`` as /proc/PID/cgroup prints it) -> the
    directory and the cgroup's id.  A usage error when it is neither."""
    mounts = cgroup2_mounts(mountinfo)
    if not path:
        raise HagentError("bad cgroup '': expected a path", exit_code=ExitCode.USAGE)
    candidates = [Path(path)] if Path(path).is_absolute() else []
    candidates += [m / path.lstrip("/") for m in mounts]
    for d in candidates:
        if (d / "cgroup.controllers").is_file():
            return d, os.stat(d).st_ino
    for d in candidates:
        if (d / "cgroup.procs").is_file() or (d / "tasks").is_file():
            raise HagentError(
                f"{d} is a cgroup v1 directory: hagent manages cgroup v2 cgroups only",
                "mount the unified hierarchy (cgroup2) and name a cgroup in it",
                exit_code=ExitCode.USAGE,
            )
    where = ", ".join(str(m) for m in mounts) or "nowhere: cgroup2 is not mounted"
    raise HagentError(
        f"no cgroup '{path}' (cgroup v2 is mounted at {where})",
        "name a directory of the cgroup v2 hierarchy, e.g. /sys/fs/cgroup/app or app",
        exit_code=ExitCode.USAGE,
    )


def path_of(ident: int, mountinfo: Path | None = None) -> Path | None:
    """The directory of the cgroup v2 with id ``ident``, if it is still there."""
    for mount in cgroup2_mounts(mountinfo):
        for top, dirs, _ in os.walk(mount):
            here = Path(top)
            try:
                if os.stat(here).st_ino == ident:
                    return here
            except OSError:
                dirs.clear()
    return None
