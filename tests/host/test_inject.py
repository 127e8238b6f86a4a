"""hagentctl inject and the INJECT request: argument checks, wire encoding, errors.

The wire checks read the raw bytes the fake socket received and walk the
attributes by hand, so they do not trust pyroute2's decoder to agree with its
encoder.
"""

import errno
import struct
import sys
from collections.abc import Callable

import pytest
from fake_kernel import FakeGenlSocket, FakeKernel
from pyroute2.netlink import NLM_F_ACK, NLM_F_REQUEST
from test_cli import one_error
from typer.testing import CliRunner, Result

from hagent.cli import app
from hagent.commands import State
from hagent.commands.inject import parse_sample
from hagent.errors import ExitCode, HagentError
from hagent.kernel import Kernel, RealKernel, genl
from hagent.uapi import INJECT_SAMPLE_FORMAT, SAMPLE_F_STORE, Attr, Cmd

Invoke = Callable[..., Result]


def wire(data: bytes) -> tuple[int, list[tuple[int, bytes]]]:
    """A raw generic netlink request -> (cmd, [(attribute type, payload)])."""
    (length,) = struct.unpack_from("=I", data)
    assert length == len(data)
    cmd, version = data[16], data[17]
    assert version == 1
    attrs: list[tuple[int, bytes]] = []
    pos = 20
    while pos < length:
        nla_len, kind = struct.unpack_from("=HH", data, pos)
        assert nla_len >= 4
        attrs.append((kind, data[pos + 4 : pos + nla_len]))
        pos += (nla_len + 3) & ~3
    assert pos == length
    return cmd, attrs


def unpack(payload: bytes) -> list[tuple[int, int, bool]]:
    assert len(payload) % 16 == 0
    return [
        (addr, count, bool(flags & SAMPLE_F_STORE))
        for addr, count, flags in struct.iter_unpack(INJECT_SAMPLE_FORMAT, payload)
    ]


def u32(payload: bytes) -> int:
    assert len(payload) == 4
    return int(struct.unpack("=I", payload)[0])


# --- the command, against the fake kernel layer ------------------------------------


def test_inject(invoke: Invoke) -> None:
    k = FakeKernel()
    result = invoke(k, "inject", "--pid", "1234", "0x7f0000001000:8", "4096", "0x2000:3:s")
    assert result.exit_code == 0, result.output
    assert result.stdout == "injected 3 samples (12 accesses) into pid 1234\n"
    samples = [(0x7F0000001000, 8, False), (4096, 1, False), (0x2000, 3, True)]
    assert ("inject", 1234, samples, 1) in k.calls


def test_inject_repeat(invoke: Invoke) -> None:
    k = FakeKernel()
    result = invoke(k, "inject", "--pid", "7", "0x1000:5", "0x2000:s", "--repeat", "100")
    assert result.exit_code == 0, result.output
    assert result.stdout == "injected 200 samples (600 accesses) into pid 7\n"
    assert ("inject", 7, [(0x1000, 5, False), (0x2000, 1, True)], 100) in k.calls


@pytest.mark.parametrize(
    ("text", "sample"),
    [
        ("0x1000", (0x1000, 1, False)),
        ("4096", (4096, 1, False)),
        ("0X7FFFFFFFF000:65535", (0x7FFFFFFFF000, 65535, False)),
        ("0x1000:1:s", (0x1000, 1, True)),
        ("0x1000:2:S", (0x1000, 2, True)),
        ("0x1000:s", (0x1000, 1, True)),
        ("0xffffffffffffffff", ((1 << 64) - 1, 1, False)),
        ("007", (7, 1, False)),
    ],
)
def test_parse_sample(text: str, sample: tuple[int, int, bool]) -> None:
    assert parse_sample(text) == sample


_FORMAT = "expected ADDR[:COUNT[:s]], e.g. 0x7f3a2c000000, 0x7f3a2c000000:8 or 0x7f3a2c000000:8:s"
_ADDR = "is not hex (0x...) or decimal, or is larger than 64 bits"

BAD_SAMPLES = [
    ("zz", f"bad sample 'zz': address 'zz' {_ADDR}"),
    ("7f001000", f"bad sample '7f001000': address '7f001000' {_ADDR}"),
    ("0x", f"bad sample '0x': address '0x' {_ADDR}"),
    ("0x1" + "0" * 16, f"bad sample '0x1{'0' * 16}': address '0x1{'0' * 16}' {_ADDR}"),
    ("0x1000:0", "bad sample '0x1000:0': count '0' must be 1..65535"),
    ("0x1000:65536", "bad sample '0x1000:65536': count '65536' must be 1..65535"),
    ("0x1000:", "bad sample '0x1000:': count '' must be 1..65535"),
    ("0x1000:-1", "bad sample '0x1000:-1': count '-1' must be 1..65535"),
    ("0x1000:2:x", f"bad sample '0x1000:2:x': {_FORMAT}"),
    ("0x1000:2:s:1", f"bad sample '0x1000:2:s:1': {_FORMAT}"),
    (":1", f"bad sample ':1': address '' {_ADDR}"),
]


@pytest.mark.parametrize(("text", "message"), BAD_SAMPLES)
def test_bad_sample(text: str, message: str) -> None:
    def factory() -> Kernel:
        raise AssertionError("a bad sample must not reach the kernel")

    result = CliRunner().invoke(
        app, ["inject", "--pid", "1", "0x1000", text], obj=State(kernel_factory=factory)
    )
    one_error(result, message, code=ExitCode.USAGE)


@pytest.mark.parametrize("repeat", ["0", "1001", "-1"])
def test_bad_repeat(invoke: Invoke, repeat: str) -> None:
    k = FakeKernel()
    result = invoke(k, "inject", "--pid", "1", "0x1000", "--repeat", repeat)
    one_error(result, f"bad --repeat {repeat}: must be 1..1000", code=ExitCode.USAGE)
    assert not [c for c in k.calls if c[0] == "inject"]


def test_usage_errors(invoke: Invoke) -> None:
    k = FakeKernel()
    assert invoke(k, "inject", "--pid", "1").exit_code == 2  # no sample
    assert invoke(k, "inject", "0x1000").exit_code == 2  # no --pid
    assert invoke(k, "inject", "--pid", "1", "0x1000", "--repeat", "x").exit_code == 2
    one_error(
        invoke(k, "inject", "--pid", "0", "0x1000"),
        "bad pid '0': expected a process id (a positive integer)",
        code=ExitCode.USAGE,
    )
    assert k.calls == []


def test_inject_error_is_one_line(invoke: Invoke) -> None:
    k = FakeKernel(fail={"inject": HagentError("pid 5 is not managed", hint="see")})
    result = invoke(k, "inject", "--pid", "5", "0x1000")
    one_error(result, "pid 5 is not managed", hint="see")
    assert result.stdout == ""


def test_help_has_an_example(invoke: Invoke) -> None:
    result = invoke(FakeKernel(), "inject", "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout and "hagentctl inject --pid" in result.stdout


# --- on the wire ------------------------------------------------------------------


def test_inject_wire_format(invoke: Invoke, sock: Callable[..., FakeGenlSocket]) -> None:
    s = sock()  # the answer is the kernel's ack alone
    result = invoke(
        RealKernel(), "inject", "--pid", "42", "0x7f0000001000:3:s", "8192", "--repeat", "5"
    )
    assert result.exit_code == 0, result.output
    ((request, _, flags),) = s.requests
    assert flags == NLM_F_REQUEST | NLM_F_ACK
    assert request["cmd"] == Cmd.INJECT
    cmd, attrs = wire(s.raw[0])
    assert cmd == Cmd.INJECT
    assert [kind for kind, _ in attrs] == [Attr.PID, Attr.SAMPLES, Attr.REPEAT]
    assert u32(attrs[0][1]) == 42
    assert u32(attrs[2][1]) == 5
    assert unpack(attrs[1][1]) == [(0x7F0000001000, 3, True), (8192, 1, False)]
    order = sys.byteorder  # the kernel reads the struct natively
    assert attrs[1][1][:16] == (
        (0x7F0000001000).to_bytes(8, order) + (3).to_bytes(4, order) + (1).to_bytes(4, order)
    )
    assert s.closed


def test_no_repeat_attribute_for_one(sock: Callable[..., FakeGenlSocket]) -> None:
    s = sock()
    genl.inject(42, [(0x1000, 1, False)])
    _, attrs = wire(s.raw[0])
    assert [kind for kind, _ in attrs] == [Attr.PID, Attr.SAMPLES]


def test_chunking_per_attribute(sock: Callable[..., FakeGenlSocket]) -> None:
    """4095 samples fill an attribute (nla_len is a u16); one message holds 4 of them."""
    assert genl.SAMPLES_PER_ATTR == 4095
    assert 4 + 4095 * 16 <= 0xFFFF < 4 + 4096 * 16
    s = sock()
    samples = [(0x10000 + i * 64, 1 + i % 7, i % 3 == 0) for i in range(4095 * 2 + 10)]
    genl.inject(9, samples, repeat=2)
    assert len(s.raw) == 1
    _, attrs = wire(s.raw[0])
    assert [kind for kind, _ in attrs] == [Attr.PID] + [Attr.SAMPLES] * 3 + [Attr.REPEAT]
    assert [len(p) // 16 for kind, p in attrs if kind == Attr.SAMPLES] == [4095, 4095, 10]
    assert [x for kind, p in attrs if kind == Attr.SAMPLES for x in unpack(p)] == samples


def test_chunking_per_message(sock: Callable[..., FakeGenlSocket]) -> None:
    """A long list goes in several messages on one socket, each with the pid and repeat."""
    per_msg = genl.SAMPLES_PER_MSG
    assert per_msg == 4 * 4095
    samples = [(i * 4096, 1, False) for i in range(2 * per_msg + 1)]
    s = sock()
    genl.inject(9, samples, repeat=3)
    assert len(s.raw) == 3 and all(f == NLM_F_REQUEST | NLM_F_ACK for _, _, f in s.requests)
    got: list[tuple[int, int, bool]] = []
    for data in s.raw:
        assert len(data) < 300_000  # fits a default socket send buffer (2 x 212992)
        _, attrs = wire(data)
        assert attrs[0] == (Attr.PID, struct.pack("=I", 9))
        assert attrs[-1] == (Attr.REPEAT, struct.pack("=I", 3))
        assert all(len(p) <= 4095 * 16 for kind, p in attrs if kind == Attr.SAMPLES)
        got += [x for kind, p in attrs if kind == Attr.SAMPLES for x in unpack(p)]
    assert got == samples
    assert [len(wire(d)[1]) - 2 for d in s.raw] == [4, 4, 1]  # SAMPLES attributes


def test_nothing_to_inject_opens_no_socket(sock: Callable[..., FakeGenlSocket]) -> None:
    s = sock(family=False)  # would fail if a socket were bound
    genl.inject(9, [])
    assert s.raw == []


def test_inject_messages_checks_its_input() -> None:
    with pytest.raises(ValueError, match="count 0"):
        genl.inject_messages([(0x1000, 0, False)])
    with pytest.raises(ValueError, match="count 65536"):
        genl.inject_messages([(0x1000, 65536, False)])
    with pytest.raises(ValueError, match="address"):
        genl.inject_messages([(1 << 64, 1, False)])
    with pytest.raises(ValueError, match="repeat 1001"):
        genl.inject_messages([(0x1000, 1, False)], repeat=1001)


INJECT_ERRORS = [
    pytest.param(
        errno.ENOENT, None, "pid 4242 is not managed", "see the managed processes: hagentctl stats",
        id="ENOENT",
    ),
    pytest.param(
        errno.EPERM, None, "must be root (CAP_NET_ADMIN) to inject", "run it with sudo",
        id="EPERM",
    ),
    pytest.param(
        errno.EINVAL, "sample count must be 1..65535, flags only HAGENT_SAMPLE_F_STORE",
        "sample count must be 1..65535, flags only HAGENT_SAMPLE_F_STORE", None,
        id="EINVAL-extack",
    ),
    pytest.param(errno.EINVAL, None, "inject failed: Invalid argument", None, id="EINVAL"),
    pytest.param(
        errno.EOPNOTSUPP, None, "the loaded hagent module has no INJECT command",
        "hagentctl and the module disagree on uapi/hagent.h: rebuild the module",
        id="old-module",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("code", "extack", "message", "hint"), INJECT_ERRORS)
def test_inject_netlink_errors(
    invoke: Invoke,
    sock: Callable[..., FakeGenlSocket],
    code: int,
    extack: str | None,
    message: str,
    hint: str | None,
) -> None:
    s = sock(error=code, extack=extack)
    one_error(invoke(RealKernel(), "inject", "--pid", "4242", "0x1000"), message, hint)
    assert s.closed


def test_inject_module_not_loaded(invoke: Invoke, sock: Callable[..., FakeGenlSocket]) -> None:
    sock(family=False)
    one_error(
        invoke(RealKernel(), "inject", "--pid", "1", "0x1000"),
        "hagent module is not loaded (netlink family 'hagent' not found)",
        hint="run: hagentctl load",
        code=ExitCode.NOT_LOADED,
    )
