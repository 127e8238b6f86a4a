"""hagentctl config: show and set the module's tunables, against both fakes.

Also keeps the fakes honest: kmod/hagent/config.c is the source of truth for
the tunables, and FakeKernel's table (fake_kernel.TUNABLES) and the CLI's
switches are checked against it here.
"""

import errno
import json
import re
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_kernel import (
    CONFIG,
    FAMILY_ID,
    TUNABLES,
    FakeGenlSocket,
    FakeKernel,
    config_reply,
    event_message,
)
from pyroute2.netlink import NLM_F_REQUEST
from test_cli import Invoke, one_error, rows, sent_attrs
from test_uapi import _eval
from typer.testing import CliRunner

from hagent.cli import app
from hagent.commands import State
from hagent.commands.config import SWITCHES, parse_settings
from hagent.errors import ExitCode, HagentError
from hagent.kernel import Kernel, RealKernel, genl
from hagent.uapi import Attr, Cmd, CounterAttr, Event

KMOD = Path(__file__).resolve().parents[2] / "kmod" / "hagent"
NLA_F_NESTED = 1 << 15
ROOT_HINT = "run it with sudo"
NOT_LOADED = "hagent module is not loaded (netlink family 'hagent' not found)"


# --- the source of truth: kmod/hagent/config.c ----------------------------------------

# HAGENT_TUNABLE(name, var, min, max) or HAGENT_TUNABLE_HOOK(..., max, changed)
_TUNABLE = re.compile(
    r'^\s*HAGENT_TUNABLE(?:_HOOK)?\("(\w+)",\s*(\w+),\s*([^,]+?),\s*([^,]+?)(?:,\s*\w+)?\),\s*$',
    re.M,
)
_DEFAULT = r"^(?:bool|unsigned int|unsigned long|u32|u64)\s+{var}\s*(?:=\s*([^;]+))?;"


def c_tunables() -> dict[str, tuple[int, int, int]]:
    """config.c's table, in its order: name -> (default, min, max).

    The default is the initial value of the module parameter behind it
    (0 without an initializer: kernel style leaves zeroed globals bare).
    """
    sources = "\n".join(p.read_text() for p in sorted(KMOD.glob("*.c")))
    table: dict[str, tuple[int, int, int]] = {}
    for name, var, lo, hi in _TUNABLE.findall((KMOD / "config.c").read_text()):
        m = re.search(_DEFAULT.format(var=re.escape(var)), sources, re.M)
        assert m, f"no definition with an initial value of {var} in kmod/hagent/*.c"
        init = (m.group(1) or "0").strip()
        text = {"true": "1", "false": "0"}.get(init, init)
        values = (_eval(text, {}), _eval(lo, {}), _eval(hi, {}))
        assert all(isinstance(v, int) for v in values), (name, values)
        table[name] = values  # type: ignore[assignment]
    return table


def test_fake_tunables_match_config_c() -> None:
    table = c_tunables()
    text = (KMOD / "config.c").read_text()
    assert len(table) == len(re.findall(r"^\s*HAGENT_TUNABLE(?:_HOOK)?\(\"", text, re.M)), (
        "a HAGENT_TUNABLE line the parser does not read"
    )
    assert len(table) >= 10, "the parser found too few HAGENT_TUNABLE lines"
    assert table == TUNABLES and list(table) == list(TUNABLES)


def test_switches_are_the_0_1_tunables() -> None:
    assert {n for n, (_, lo, hi) in c_tunables().items() if (lo, hi) == (0, 1)} == SWITCHES


# --- show -------------------------------------------------------------------------------


def test_show(invoke: Invoke) -> None:
    k = FakeKernel()
    result = invoke(k, "config")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.startswith("hagent settings")
    table = [r for r in rows(result.stdout) if r]
    assert table == [[name, str(value)] for name, value in CONFIG.items()]  # module order
    assert k.calls == [("get_config",)]


def test_show_json(invoke: Invoke) -> None:
    result = invoke(FakeKernel(), "config", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc.pop("schema_version") == 1
    assert doc == CONFIG and list(doc) == list(CONFIG)
    assert all(isinstance(v, int) for v in doc.values())


# --- set --------------------------------------------------------------------------------


def test_set(invoke: Invoke) -> None:
    k = FakeKernel()
    result = invoke(k, "config", "migrate_mbps=128", "hysteresis=2")
    assert result.exit_code == 0, result.output
    assert ("set_config", {"migrate_mbps": 128, "hysteresis": 2}) in k.calls
    assert ("get_config",) not in k.calls  # the reply is the new config
    lines = result.stdout.splitlines()
    assert lines[0] == "set migrate_mbps=128 hysteresis=2"
    table = [r for r in rows(result.stdout) if r]
    assert ["migrate_mbps", "128"] in table and ["hysteresis", "2"] in table
    assert ["interval_ms", str(CONFIG["interval_ms"])] in table  # the whole config
    assert k.config == CONFIG | {"migrate_mbps": 128, "hysteresis": 2}


def test_set_json(invoke: Invoke) -> None:
    k = FakeKernel()
    result = invoke(k, "config", "--json", "max_pages=0", "scan_pages=0x100")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"schema_version": 1} | CONFIG | {
        "max_pages": 0,
        "scan_pages": 256,
    }


@pytest.mark.parametrize(
    ("arg", "value"),
    [("placement=off", 0), ("placement=ON", 1), ("abit=false", 0), ("abit=yes", 1),
     ("abit=no", 0), ("placement=1", 1), ("abit=0", 0), ("abit=True", 1)],
)  # fmt: skip
def test_switch_words(invoke: Invoke, arg: str, value: int) -> None:
    k = FakeKernel()
    result = invoke(k, "config", arg)
    assert result.exit_code == 0, result.output
    name = arg.partition("=")[0]
    assert ("set_config", {name: value}) in k.calls
    assert result.stdout.startswith(f"set {name}={value}\n")


BAD_SYNTAX = [
    (["placement"], "bad setting 'placement': expected NAME=VALUE"),
    (["migrate_mbps", "128"], "bad setting 'migrate_mbps': expected NAME=VALUE"),
    (["=1"], "bad setting name '' in '=1'"),
    (["a b=1"], "bad setting name 'a b' in 'a b=1'"),
    ([f"{'x' * 64}=1"], f"bad setting name '{'x' * 64}' in '{'x' * 64}=1'"),
    (["migrate_mbps="], "bad value '' for migrate_mbps: expected a non-negative integer"),
    (["migrate_mbps=-1"], "bad value '-1' for migrate_mbps: expected a non-negative integer"),
    (["migrate_mbps=1.5"], "bad value '1.5' for migrate_mbps: expected a non-negative integer"),
    (["migrate_mbps= 1"], "bad value ' 1' for migrate_mbps: expected a non-negative integer"),
    (["migrate_mbps=1k"], "bad value '1k' for migrate_mbps: expected a non-negative integer"),
    (["migrate_mbps=off"], "bad value 'off' for migrate_mbps: expected a non-negative integer"),
    (["placement=maybe"], "bad value 'maybe' for placement: expected 0 or 1, on or off"),
    (["abit=-1"], "bad value '-1' for abit: expected 0 or 1, on or off"),
    (["max_pages=18446744073709551616"],
     "bad value '18446744073709551616' for max_pages: larger than 2^64 - 1"),
    (["hysteresis=1", "hysteresis=2"], "setting hysteresis given twice"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), BAD_SYNTAX)
@pytest.mark.parametrize("json_out", [False, True], ids=["human", "json"])
def test_bad_syntax_never_reaches_the_kernel(args: list[str], message: str, json_out: bool) -> None:
    def factory() -> Kernel:
        raise AssertionError("a bad setting must not reach the kernel")

    argv = ["config", *args] + (["--json"] if json_out else [])
    result = CliRunner().invoke(app, argv, obj=State(kernel_factory=factory))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == f"hagentctl: error: {message}"
    assert "Traceback" not in result.output


def test_largest_u64_is_sent(invoke: Invoke) -> None:
    """The module checks the range; a u64 is all the CLI needs to send it."""
    assert parse_settings(["max_pages=18446744073709551615"]) == {"max_pages": (1 << 64) - 1}
    k = FakeKernel()
    one_error(
        invoke(k, "config", "max_pages=18446744073709551615"),
        f"max_pages must be in 0..{1 << 32}",
        hint="nothing changed",
    )


def test_unknown_name(invoke: Invoke) -> None:
    k = FakeKernel()
    one_error(
        invoke(k, "config", "migrate_mbps=1", "no_such=1"),
        'no setting named "no_such"',
        hint="nothing changed; see the settings: hagentctl config",
    )
    assert k.config == CONFIG  # all or none: migrate_mbps did not change either


def test_out_of_range_changes_nothing(invoke: Invoke) -> None:
    k = FakeKernel()
    result = invoke(k, "config", "migrate_mbps=1", "migrate_batch=3")
    one_error(result, "migrate_batch must be in 16..65536", hint="nothing changed")
    assert result.stdout == ""
    assert k.config == CONFIG


@pytest.mark.parametrize("args", [[], ["--json"], ["hysteresis=2"], ["hysteresis=2", "--json"]])
def test_module_not_loaded(invoke: Invoke, args: list[str]) -> None:
    err = HagentError(NOT_LOADED, "run: hagentctl load", ExitCode.NOT_LOADED)
    k = FakeKernel(loaded=False, fail={"get_config": err, "set_config": err})
    result = invoke(k, "config", *args)
    one_error(result, NOT_LOADED, hint="run: hagentctl load", code=ExitCode.NOT_LOADED)
    assert result.stdout == ""


def test_not_root(invoke: Invoke) -> None:
    err = HagentError("must be root (CAP_NET_ADMIN) to change settings", ROOT_HINT)
    k = FakeKernel(fail={"set_config": err})
    one_error(invoke(k, "config", "hysteresis=2"), err.message, hint=ROOT_HINT)
    assert invoke(k, "config").exit_code == 0  # reading needs no privilege


def test_help_has_examples(invoke: Invoke) -> None:
    result = invoke(FakeKernel(), "config", "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout
    assert "hagentctl config migrate_mbps=128 hysteresis=2" in result.stdout
    assert "all of them or none" in result.stdout


# --- through netlink ---------------------------------------------------------------------


def test_get_through_netlink(invoke: Invoke, sock: Callable[..., FakeGenlSocket]) -> None:
    s = sock(replies=(config_reply(),))
    result = invoke(RealKernel(), "config", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc.pop("schema_version") == 1
    assert doc == CONFIG and list(doc) == list(CONFIG)
    ((request, msg_type, flags),) = s.requests
    assert (request["cmd"], request["version"], request["attrs"]) == (Cmd.GET_CONFIG, 1, [])
    assert (msg_type, flags) == (FAMILY_ID, NLM_F_REQUEST)
    assert s.closed


def test_set_through_netlink(invoke: Invoke, sock: Callable[..., FakeGenlSocket]) -> None:
    new = CONFIG | {"migrate_mbps": 128, "placement": 0}
    s = sock(replies=(config_reply(new, cmd=Cmd.SET_CONFIG, pad=False),))
    result = invoke(RealKernel(), "config", "migrate_mbps=128", "placement=off")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("set migrate_mbps=128 placement=0\n")
    ((request, _, flags),) = s.requests
    assert (request["cmd"], flags) == (Cmd.SET_CONFIG, NLM_F_REQUEST)
    ((name, nest),) = sent_attrs(request)
    assert name == "HAGENT_A_CONFIG"
    sent = {
        c.get_attr("HAGENT_A_COUNTER_NAME"): c.get_attr("HAGENT_A_COUNTER_VALUE")
        for c in nest.get_attrs("HAGENT_A_COUNTER")
    }
    assert sent == {"migrate_mbps": 128, "placement": 0}
    # strict validation in the module refuses nests without NLA_F_NESTED
    (raw,) = s.raw
    for kind in (Attr.CONFIG, CounterAttr.COUNTER):
        assert struct.pack("=H", kind | NLA_F_NESTED) in raw
    value = struct.pack("=HHQ", 12, CounterAttr.COUNTER_VALUE, 128)
    assert value in raw  # a u64, as NLA_U64 wants


def test_set_config_reply_decodes_both_layouts() -> None:
    for pad in (True, False):
        msg = genl.decode(config_reply(CONFIG, cmd=Cmd.SET_CONFIG, pad=pad))
        assert genl.config_from_msg(msg, "SET_CONFIG reply") == CONFIG


def test_malformed_reply(sock: Callable[..., FakeGenlSocket]) -> None:
    sock(replies=(event_message(Event.LOADED, 0, "not a config"),))
    with pytest.raises(HagentError, match="malformed GET_CONFIG reply .*no HAGENT_A_CONFIG"):
        genl.get_config()


def test_values_that_cannot_be_sent() -> None:
    with pytest.raises(ValueError, match="not a u64"):
        genl.config_attr({"x": -1})
    with pytest.raises(ValueError, match="not a u64"):
        genl.config_attr({"x": 1 << 64})
    with pytest.raises(ValueError, match="bad setting name"):
        genl.config_attr({"x" * 64: 1})
    with pytest.raises(ValueError, match="no settings"):
        genl.set_config({})


SET = ["config", "hysteresis=2"]
NETLINK_ERRORS = [
    pytest.param(SET, errno.EPERM, None, "must be root (CAP_NET_ADMIN) to change settings",
                 ROOT_HINT, id="EPERM"),
    pytest.param(SET, errno.EINVAL, 'no setting named "hysteresis"',
                 'no setting named "hysteresis"',
                 "nothing changed; see the settings: hagentctl config", id="EINVAL-extack"),
    pytest.param(SET, errno.EINVAL, None, "the module refused the settings",
                 "nothing changed; see the settings: hagentctl config", id="EINVAL-bare"),
    pytest.param(SET, errno.ERANGE, "hysteresis must be in 0..255",
                 "hysteresis must be in 0..255", "nothing changed", id="ERANGE-extack"),
    pytest.param(SET, errno.ERANGE, None, "a setting is out of its range", "nothing changed",
                 id="ERANGE-bare"),
    pytest.param(["config"], errno.EOPNOTSUPP, None,
                 "the loaded hagent module has no GET_CONFIG command",
                 "hagentctl and the module disagree on uapi/hagent.h: rebuild the module",
                 id="old-module-get"),
    pytest.param(SET, errno.EOPNOTSUPP, None,
                 "the loaded hagent module has no SET_CONFIG command",
                 "hagentctl and the module disagree on uapi/hagent.h: rebuild the module",
                 id="old-module-set"),
    pytest.param(["config"], errno.ENOMEM, None, "get_config failed: Cannot allocate memory",
                 None, id="get-ENOMEM"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "code", "extack", "message", "hint"), NETLINK_ERRORS)
def test_netlink_errors(
    invoke: Invoke,
    sock: Callable[..., FakeGenlSocket],
    args: list[str],
    code: int,
    extack: str | None,
    message: str,
    hint: str | None,
) -> None:
    s = sock(error=code, extack=extack)
    one_error(invoke(RealKernel(), *args), message, hint)
    assert s.closed


@pytest.mark.parametrize("args", [["config"], ["config", "--json"], SET])
def test_netlink_module_not_loaded(
    invoke: Invoke, sock: Callable[..., FakeGenlSocket], args: list[str]
) -> None:
    sock(family=False)
    one_error(
        invoke(RealKernel(), *args),
        NOT_LOADED,
        hint="run: hagentctl load",
        code=ExitCode.NOT_LOADED,
    )


def test_fake_and_real_kernel_agree_on_errors(
    invoke: Invoke, sock: Callable[..., FakeGenlSocket]
) -> None:
    """FakeKernel's refusals read exactly as RealKernel's for the same errno and extack."""
    fake = invoke(FakeKernel(), "config", "hysteresis=256")
    sock(error=errno.ERANGE, extack="hysteresis must be in 0..255")
    real = invoke(RealKernel(), "config", "hysteresis=256")
    assert fake.exit_code == real.exit_code == 1
    assert fake.stderr == real.stderr


# --- the migration failures event ---------------------------------------------------------


def test_migrate_failures_event(invoke: Invoke) -> None:
    text = (
        "pid 1234 (redis-server): 12 of 800 pages failed to migrate in 10s: migrate_failed.alloc=12"
    )
    ev = genl.event_from_msg(genl.decode(event_message(Event.MIGRATE_FAILURES, 1234, text)))
    assert ev == {"type": "migrate_failures", "pid": 1234, "msg": text}
    k = FakeKernel()
    k.event_list = [ev]
    result = invoke(k, "events", "--count", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip("\n").endswith(f" migrate_failures pid 1234: {text}")
    result = invoke(k, "events", "--json")
    assert json.loads(result.stdout)["type"] == "migrate_failures"
