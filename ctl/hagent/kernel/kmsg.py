"""The kernel log, read from /dev/kmsg as ``dmesg`` would print it.

Each read(2) of /dev/kmsg returns one record, ``prio,seq,usec,flags;text``
followed by optional `` KEY=value`` lines; opened non-blocking, the read
that would wait fails with EAGAIN, which is the end of the log.  EPIPE
means records were overwritten while reading: the next read goes on with
the oldest one still there.
"""

import errno
import os
import re

from hagent.errors import HagentError

KMSG = "/dev/kmsg"
_RECORD_MAX = 8192  # larger than any record (PRINTKRB_RECORD_MAX is 1024)
_ESCAPE = re.compile(rb"\\x([0-9a-f]{2})")


def format_record(record: bytes) -> str:
    """One /dev/kmsg record -> ``<level>[  seconds.micros] text`` lines."""
    head, sep, body = record.partition(b";")
    if not sep:
        return ""
    fields = head.split(b",")
    try:
        level = int(fields[0]) & 7
        usec = int(fields[2])
    except (IndexError, ValueError):
        return ""
    text = body.split(b"\n", 1)[0]  # the rest are " KEY=value" lines
    text = _ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), text)
    stamp = f"<{level}>[{usec // 1_000_000:5d}.{usec % 1_000_000:06d}] "
    # Bytes that are not UTF-8 (a comm can hold any) read \xNN again, as in the record.
    lines = text.decode(errors="backslashreplace").splitlines()
    return "".join(f"{stamp}{line}\n" for line in lines)


def read(path: str = KMSG) -> str:
    """Every record still in the kernel's log buffer, oldest first."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as err:
        raise _error(path, err) from err
    out: list[str] = []
    try:
        while True:
            try:
                record = os.read(fd, _RECORD_MAX)
            except BlockingIOError:
                break
            except OSError as err:
                if err.errno == errno.EPIPE:
                    continue
                if err.errno == errno.EINVAL:  # only a record larger than the buffer
                    break
                raise _error(path, err) from err
            if not record:
                break
            out.append(format_record(record))
    finally:
        os.close(fd)
    return "".join(out)


def _error(path: str, err: OSError) -> HagentError:
    hint = None
    if err.errno in (errno.EPERM, errno.EACCES):
        hint = "reading the kernel log needs root (kernel.dmesg_restrict); or pass a saved log"
    return HagentError(f"cannot read the kernel log {path}: {err.strerror or err}", hint=hint)
