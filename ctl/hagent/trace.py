"""The hagent trace format: recorded memory accesses for ``hagentctl replay``.

A trace is UTF-8 text, one sample per line (docs/trace-format.md says the same
with examples)::

    # hagent-trace v1
    # recorded on host-a, pid 4242 (comments start with '#')
    1000000 0x7f3a2c001040
    1250000 0x7f3a2c001080 4
    1250000 0x7f3a2c7ff000 1 S
    2000000 7f3a2c001040 S      # the 0x is optional; a trailing comment

- The first line is ``# hagent-trace v1``; another version is refused
  rather than misread.
- A sample line is ``<time_ns> <vaddr_hex> [count] [L|S]``, fields separated
  by blanks: ``time_ns`` a decimal timestamp in nanoseconds on any clock (only
  differences matter: the first sample is time zero); ``vaddr_hex`` the
  virtual address in hex, with or without ``0x``, below 2**64; ``count`` the
  accesses the sample stands for, decimal 1..65535, default 1; ``L`` (load,
  the default) or ``S`` (store).
- Times never go backwards; equal times are fine.
- ``#`` starts a comment, on its own line or after a sample; blank lines
  are ignored.

The whole trace is parsed (and rebased) before anything is injected, so a
bad line stops the replay before it starts, naming the line.
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from hagent.errors import HagentError
from hagent.uapi import SAMPLE_COUNT_MAX

HEADER = "# hagent-trace v1"
ADDRESS_LIMIT = 1 << 64

_HEADER = re.compile(r"#\s*hagent-trace\s+(\S+)")
_HEX = re.compile(r"(?:0[xX])?([0-9a-fA-F]+)")


@dataclass
class Trace:
    """Parsed samples, column by column (19 bytes a sample)."""

    times: array[int] = field(default_factory=lambda: array("Q"))  # ns
    addrs: array[int] = field(default_factory=lambda: array("Q"))
    counts: array[int] = field(default_factory=lambda: array("H"))
    stores: bytearray = field(default_factory=bytearray)  # 1: store

    def __len__(self) -> int:
        return len(self.times)

    @property
    def accesses(self) -> int:
        return sum(self.counts)

    def samples(self, lo: int, hi: int) -> list[tuple[int, int, bool]]:
        """Samples lo..hi-1 as the kernel layer takes them: (addr, count, is_store)."""
        return list(
            zip(self.addrs[lo:hi], self.counts[lo:hi], map(bool, self.stores[lo:hi]), strict=True)
        )


def _error(name: str, lineno: int, why: str) -> HagentError:
    return HagentError(f"{name}:{lineno}: {why}")


def parse(lines: Iterable[str], name: str = "<trace>", shift: int = 0) -> Trace:
    """Read a trace; ``shift`` is added to every address (``--rebase``).

    A bad line raises HagentError("<name>:<line>: <what is wrong>").
    """
    trace = Trace()
    last = 0
    lineno = 0
    for lineno, line in enumerate(lines, 1):
        if lineno == 1:
            m = _HEADER.fullmatch(line.strip())
            if not m:
                raise _error(name, 1, f"not a hagent trace: the first line must be '{HEADER}'")
            if m.group(1) != "v1":
                raise _error(name, 1, f"trace format {m.group(1)} is not supported (only v1)")
            continue
        fields = line.partition("#")[0].split()
        if not fields:
            continue
        if len(fields) > 4:
            raise _error(
                name, lineno, "too many fields: expected <time_ns> <vaddr_hex> [count] [L|S]"
            )
        if len(fields) < 2:
            raise _error(name, lineno, "expected <time_ns> <vaddr_hex> [count] [L|S]")
        time_text, addr_text, *rest = fields
        if not time_text.isdecimal():
            raise _error(name, lineno, f"bad time '{time_text}': expected decimal nanoseconds")
        time = int(time_text)
        if time >= ADDRESS_LIMIT:
            raise _error(name, lineno, f"bad time '{time_text}': larger than 64 bits")
        if time < last:
            raise _error(name, lineno, f"time {time} goes backwards (previous sample: {last})")
        m = _HEX.fullmatch(addr_text)
        if not m:
            raise _error(
                name, lineno, f"bad address '{addr_text}': expected hex, e.g. 0x7f3a2c001040"
            )
        addr = int(m.group(1), 16)
        if addr >= ADDRESS_LIMIT:
            raise _error(name, lineno, f"bad address '{addr_text}': larger than 64 bits")
        count, store = 1, False
        if rest and rest[-1] in ("L", "S"):
            store = rest.pop() == "S"
        if rest:
            text = rest.pop(0)
            if not text.isdecimal() or not 1 <= int(text) <= SAMPLE_COUNT_MAX:
                raise _error(
                    name, lineno, f"bad count '{text}': expected 1..{SAMPLE_COUNT_MAX} (or L|S)"
                )
            count = int(text)
        if rest:
            raise _error(name, lineno, f"bad field '{rest[0]}': expected L or S last")
        if not 0 <= addr + shift < ADDRESS_LIMIT:
            raise _error(name, lineno, f"address {addr:#x} rebased by {shift:+#x} leaves 64 bits")
        trace.times.append(time)
        trace.addrs.append(addr + shift)
        trace.counts.append(count)
        trace.stores.append(store)
        last = time
    if lineno == 0:
        raise _error(name, 1, f"empty file, not a hagent trace (expected '{HEADER}')")
    return trace


def batches(
    times: Sequence[int], window_ns: int | None, max_samples: int
) -> Iterator[tuple[int, int, int]]:
    """Split a trace into batches: (offset_ns, lo, hi) for samples lo..hi-1.

    With ``window_ns`` a batch starts at its first sample and takes the samples
    within ``window_ns`` of it; ``offset_ns`` is that sample's time from the
    first one (when the batch is due).  Without, batches are ``max_samples``
    long and all due at once.  No batch is longer than ``max_samples``.
    """
    n = len(times)
    lo = 0
    while lo < n:
        end = min(lo + max_samples, n)
        if window_ns is None:
            yield 0, lo, end
        else:
            hi = bisect.bisect_left(times, times[lo] + window_ns, lo + 1, end)
            yield times[lo] - times[0], lo, hi
            end = hi
        lo = end
