# SPDX-License-Identifier: GPL-2.0
"""The module loads, reports status, and unloads cleanly on a stock kernel."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import subprocess
import tomllib
from pathlib import Path

from hagent.errors import ExitCode
from tests.vm.conftest import KO, ctl_json, meminfo, module_loaded, run_ctl

TOP = Path(__file__).resolve().parents[2]
NOBODY = "65534"  # nobody/nogroup by number: group names differ between distributions


def test_guest_is_the_intended_machine() -> None:
    # Warnings must be fatal, and the two tiers must be there, or nothing
    # else in this suite means what it says.
    assert Path("/proc/sys/kernel/panic_on_warn").read_text().strip() == "1"
    assert "oops=panic" in Path("/proc/cmdline").read_text()
    nodes = sorted(p.name for p in Path("/sys/devices/system/node").glob("node[0-9]*"))
    assert nodes == ["node0", "node1"]
    assert Path("/sys/devices/system/node/node1/cpulist").read_text().strip() == ""
    assert Path("/sys/devices/system/node/node0/cpulist").read_text().strip() != ""


def test_status_reports_module_and_machine(loaded: None) -> None:
    st = ctl_json("status")
    version = tomllib.loads((TOP / "pyproject.toml").read_text())["project"]["version"]
    assert st["version"] == version
    assert st["kernel"] == platform.release()
    assert "migrate" in st["features"]
    assert "debugfs" in st["features"]
    assert st["nr_targets"] == 0
    nodes = {n["id"]: n for n in st["nodes"]}
    assert nodes[0]["tier"] == "fast" and nodes[0]["nr_cpus"] == os.cpu_count()
    assert nodes[1]["tier"] == "slow" and nodes[1]["nr_cpus"] == 0
    for n in nodes.values():
        assert 0 < n["mem_free"] <= n["mem_total"]
    # No PMU under TCG: both hardware samplers are reported unavailable, with a reason.
    samplers = {s["name"]: s for s in st["samplers"]}
    assert set(samplers) >= {"pebs", "ibs"}
    for name in ("pebs", "ibs"):
        assert samplers[name]["available"] is False
        assert samplers[name]["reason"]
    assert Path("/sys/kernel/debug/hagent/symbols").read_text().count("resolved") >= 7


def test_status_human_output(loaded: None) -> None:
    out = run_ctl("status").stdout
    assert "fast" in out and "slow" in out and "pebs" in out


def test_status_as_unprivileged_user(loaded: None) -> None:
    # Reading status needs no privilege; loading does.
    st = run_ctl("status", "--json", user=NOBODY)
    assert st.returncode == 0, st.stderr
    load = run_ctl("load", "--ko", str(KO), check=False, user=NOBODY)
    assert load.returncode == ExitCode.FAILED
    assert "root" in load.stderr
    assert load.stderr.count("\n") <= 2, load.stderr


def test_not_loaded_gives_one_clear_line() -> None:
    assert not module_loaded()
    st = run_ctl("status", check=False)
    assert st.returncode == ExitCode.NOT_LOADED
    assert "not loaded" in st.stderr
    assert "Traceback" not in st.stderr
    js = run_ctl("status", "--json", check=False)
    assert js.returncode == ExitCode.NOT_LOADED, js
    assert js.stdout == '{"schema_version": 1, "loaded": false}\n', js
    un = run_ctl("unload", check=False)
    assert un.returncode == ExitCode.NOT_LOADED and "not loaded" in un.stderr


def test_load_twice_is_refused(loaded: None) -> None:
    again = run_ctl("load", "--ko", str(KO), check=False)
    assert again.returncode == ExitCode.FAILED
    assert "already loaded" in again.stderr


def test_bad_module_parameters_are_refused_cleanly() -> None:
    # The kernel refuses a bad value (FAILED); hagentctl refuses the rest itself (USAGE).
    for bad, code in (
        ("selftest=maybe", ExitCode.FAILED),
        ("no_such_param=1", ExitCode.USAGE),
        ("selftest", ExitCode.USAGE),
    ):
        r = run_ctl("load", "--ko", str(KO), bad, check=False)
        assert r.returncode == code, f"{bad}: exit {r.returncode}, {r.stderr}"
        assert "Traceback" not in r.stderr
        assert r.stderr.strip(), f"{bad}: no message"
        assert not module_loaded(), f"{bad} left the module loaded"


def test_netlink_rejects_unknown_attributes(loaded: None) -> None:
    # A request carrying an attribute the command does not take is refused
    # by strict validation, not ignored.
    from pyroute2.netlink import NLM_F_REQUEST
    from pyroute2.netlink.exceptions import NetlinkError
    from pyroute2.netlink.generic import GenericNetlinkSocket

    from hagent import uapi
    from hagent.kernel.genl import hagentmsg

    sock = GenericNetlinkSocket()
    try:
        sock.bind(uapi.GENL_NAME, hagentmsg)
        msg = hagentmsg()
        msg["cmd"] = uapi.Cmd.STATUS
        msg["version"] = uapi.GENL_VERSION
        msg["attrs"] = [("HAGENT_A_VERSION", "x")]
        try:
            sock.nlm_request(msg, msg_type=sock.prid, msg_flags=NLM_F_REQUEST)
        except NetlinkError as e:
            assert e.code == 22  # EINVAL
        else:
            raise AssertionError("an unexpected attribute was accepted")
    finally:
        sock.close()


def _module_vmalloc_bytes() -> int:
    # Module text and data live in the vmalloc area, tagged by their allocator.
    total = 0
    for line in Path("/proc/vmallocinfo").read_text().splitlines():
        if re.search(r"module_alloc|execmem|load_module|move_module", line):
            total += int(line.split()[1])
    return total


def _settle_slab() -> int:
    """Unreclaimable slab (KiB) once caches are dropped and every slab cache
    is shrunk: on a KASAN kernel shrinking also empties the cache's share of
    the quarantine, where freed objects otherwise wait, still counted."""
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("2\n")
    for shrink in Path("/sys/kernel/slab").glob("*/shrink"):
        with contextlib.suppress(OSError):
            shrink.write_text("1\n")
    return meminfo()["SUnreclaim"]


def test_load_unload_50_times_leaks_nothing() -> None:
    from hagent.kernel import RealKernel

    k = RealKernel()
    # One cycle first, so that one-time allocations (caches, sysfs) are out of the way.
    k.load(KO, "")
    k.status()
    k.unload()
    slab0, mod0 = _settle_slab(), _module_vmalloc_bytes()
    for _ in range(50):
        k.load(KO, "")
        st = k.status()
        assert st["version"]
        k.unload()
    slab1, mod1 = _settle_slab(), _module_vmalloc_bytes()
    assert not module_loaded()
    assert mod1 <= mod0, f"module memory grew {mod0} -> {mod1} bytes"
    # A leak of even one small object per cycle would show as >= 50 objects;
    # allow 256 KiB of unrelated kernel activity.
    assert slab1 - slab0 < 256, f"unreclaimable slab grew {slab0} -> {slab1} KiB"


def test_selftest_at_load_passes_in_this_kernel() -> None:
    # The same structure code the host tests prove, checked again as built for
    # this kernel (compiler, config, allocator), before it is trusted.
    assert not module_loaded()
    run_ctl("load", "--ko", str(KO), "selftest=1")
    try:
        st = ctl_json("status")
        assert "selftest" in st["features"]
        log = subprocess.run(["dmesg"], capture_output=True, text=True, check=True).stdout
        assert "hagent: selftest core: pass" in log
    finally:
        run_ctl("unload")
