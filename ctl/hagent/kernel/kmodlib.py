"""libkmod through ctypes: insert, remove and query the hagent module.

libkmod (``libkmod.so.2``, Debian ``libkmod2``) is what modprobe uses; the PyPI
``kmod`` binding does not build on Python 3.11.  Every libkmod call returns a
negative errno on failure; ``_insert_error``/``_remove_error`` turn those into
one clear HagentError each.
"""

import ctypes
import errno
import os
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hagent.errors import ExitCode, HagentError, usage_error

MODULE_NAME = "hagent"
SYS_MODULE = Path("/sys/module") / MODULE_NAME  # exists while the module is loaded

# enum kmod_module_initstate
_INITSTATES = {0: "builtin", 1: "live", 2: "coming", 3: "going"}

_lib: ctypes.CDLL | None = None


def _libkmod() -> ctypes.CDLL:
    global _lib
    if _lib is not None:
        return _lib
    try:
        lib = ctypes.CDLL("libkmod.so.2", use_errno=True)
    except OSError as err:
        raise HagentError("cannot load libkmod.so.2", hint="apt-get install libkmod2") from err
    vp, cp, ci = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    pvp = ctypes.POINTER(ctypes.c_void_p)
    signatures: dict[str, tuple[list[type], type | None]] = {
        "kmod_new": ([cp, ctypes.POINTER(cp)], vp),
        "kmod_unref": ([vp], vp),
        "kmod_module_new_from_path": ([vp, cp, pvp], ci),
        "kmod_module_new_from_name": ([vp, cp, pvp], ci),
        "kmod_module_unref": ([vp], vp),
        "kmod_module_insert_module": ([vp, ctypes.c_uint, cp], ci),
        "kmod_module_remove_module": ([vp, ctypes.c_uint], ci),
        "kmod_module_get_initstate": ([vp], ci),
        "kmod_module_get_refcnt": ([vp], ci),
        "kmod_module_get_path": ([vp], cp),
        "kmod_module_get_info": ([vp, pvp], ci),
        "kmod_module_info_get_key": ([vp], cp),
        "kmod_module_info_get_value": ([vp], cp),
        "kmod_module_info_free_list": ([vp], None),
        "kmod_list_next": ([vp, vp], vp),
    }
    for name, (argtypes, restype) in signatures.items():
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = restype
    _lib = lib
    return lib


def sysfs_state() -> str | None:
    """The module's init state as /sys/module/hagent shows it, without libkmod.

    None when the directory is missing (not loaded); "" when it has no
    initstate file.  For messages that tell "not loaded" from "loaded but
    not visible" (a network namespace).
    """
    if not SYS_MODULE.is_dir():
        return None
    try:
        return (SYS_MODULE / "initstate").read_text().strip()
    except OSError:
        return ""


def not_loaded(name: str = MODULE_NAME) -> HagentError:
    return HagentError(f"{name} is not loaded", exit_code=ExitCode.NOT_LOADED)


def _must_be_root(what: str) -> HagentError | None:
    if os.geteuid() != 0:
        return HagentError(f"must be root to {what}", hint="run it with sudo")
    return None


@contextmanager
def _context() -> Iterator[int]:
    lib = _libkmod()
    ctx = lib.kmod_new(None, None)
    if not ctx:
        raise HagentError("libkmod: kmod_new failed")
    try:
        yield ctx
    finally:
        lib.kmod_unref(ctx)


@contextmanager
def _module(ctx: int, name: str, path: Path | None = None) -> Iterator[int]:
    """The module from ``path`` if given, else ``name`` (looked up in modules.dep)."""
    lib = _libkmod()
    mod = ctypes.c_void_p()
    if path is not None:
        rc = lib.kmod_module_new_from_path(ctx, os.fsencode(path), ctypes.byref(mod))
        if rc == -errno.ENOENT:
            raise usage_error(f"module file not found: {path}")
    else:
        rc = lib.kmod_module_new_from_name(ctx, name.encode(), ctypes.byref(mod))
    if rc < 0 or not mod.value:
        why = os.strerror(-rc) if rc < 0 else "no module object"
        raise HagentError(f"libkmod: cannot open module {path or name}: {why}")
    try:
        yield mod.value
    finally:
        lib.kmod_module_unref(mod.value)


def _insert_error(rc: int, path: str, params: str) -> HagentError:
    code = -rc
    if code == errno.EEXIST:
        return HagentError("hagent is already loaded", hint="run: hagentctl unload")
    if code in (errno.EPERM, errno.EACCES):
        return _must_be_root("load a kernel module") or HagentError(
            "the kernel refused to load the module (operation not permitted: "
            "lockdown or module signing?); see dmesg"
        )
    if code == errno.EINVAL:
        return HagentError(f"bad module parameter in '{params}'; see dmesg")
    if code == errno.ENOENT:
        # The file exists (libkmod opened it): the kernel's ENOENT means an
        # unknown parameter name or an unresolved symbol.
        return HagentError(
            f"the kernel rejected {path}: unknown module parameter or unresolved symbol; see dmesg"
        )
    if code == errno.ENOEXEC:
        return HagentError(f"invalid module format: {path} (built for another kernel?); see dmesg")
    if code == errno.ENOSYS:
        return HagentError(
            f"cannot load {path}: this kernel cannot load modules (init_module: function not "
            "implemented; built without CONFIG_MODULES)"
        )
    return HagentError(f"cannot load {path}: {os.strerror(code)}; see dmesg")


def _modinfo(mod: int, where: str) -> list[tuple[str, str]]:
    """The module file's modinfo, (key, value) in file order (libkmod reads .ko.xz too)."""
    lib = _libkmod()
    head = ctypes.c_void_p()
    rc = lib.kmod_module_get_info(mod, ctypes.byref(head))
    if rc in (-errno.EACCES, -errno.EPERM):
        raise _must_be_root("load a kernel module") or HagentError(
            f"cannot read {where}: {os.strerror(-rc)}"
        )
    if rc < 0:
        raise usage_error(
            f"{where} is not a kernel module: cannot read its modinfo ({os.strerror(-rc)})"
        )
    out: list[tuple[str, str]] = []
    try:
        node = head.value
        while node:
            key = os.fsdecode(lib.kmod_module_info_get_key(node) or b"")
            out.append((key, os.fsdecode(lib.kmod_module_info_get_value(node) or b"")))
            node = lib.kmod_list_next(head.value, node)
    finally:
        lib.kmod_module_info_free_list(head.value)
    return out


def read_modinfo(path: Path) -> list[tuple[str, str]]:
    """The modinfo of the module file ``path`` (reads it; never loads anything)."""
    with _context() as ctx, _module(ctx, MODULE_NAME, path) as mod:
        return _modinfo(mod, str(path))


def check_name(info: list[tuple[str, str]], where: str, name: str = MODULE_NAME) -> None:
    """Refuse a module file whose modinfo names another module (or none)."""
    names = [v for k, v in info if k == "name"]
    if not names:
        raise usage_error(
            f"{where} is not the {name} module: its modinfo has no name",
            hint="pass the hagent.ko built from kmod/hagent",
        )
    if names[0] != name:
        raise usage_error(
            f"{where} is not the {name} module: its modinfo name is '{names[0]}'",
            hint="pass the hagent.ko built from kmod/hagent",
        )


def declared_params(info: list[tuple[str, str]]) -> dict[str, str]:
    """The parameters the module file declares (modinfo "parmtype"): name -> type."""
    out: dict[str, str] = {}
    for key, value in info:
        if key == "parmtype":
            pname, _, kind = value.partition(":")
            out[pname] = kind
    return out


def check_params(declared: dict[str, str], params: str) -> None:
    """The kernel ignores unknown parameter names with only a log line; refuse them here."""
    for word in shlex.split(params):
        name = word.partition("=")[0]
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise usage_error(f"unknown module parameter '{name}' (hagent takes: {known})")


def insert(path: Path | None, params: str) -> str:
    """Insert hagent from ``path``, or by name from /lib/modules when None.

    ``params`` is the kernel's parameter string (``a=1 b="x y"``).  Returns
    the path of the file that was inserted.
    """
    lib = _libkmod()
    release = os.uname().release
    with _context() as ctx, _module(ctx, MODULE_NAME, path) as mod:
        raw = lib.kmod_module_get_path(mod)
        if not raw:
            raise HagentError(
                f"no hagent.ko for kernel {release}: not built in this repository "
                f"and not installed under /lib/modules/{release}",
                hint="build it, or pass --ko PATH",
            )
        where = os.fsdecode(raw)
        info = _modinfo(mod, where)
        check_name(info, where)
        check_params(declared_params(info), params)
        rc = lib.kmod_module_insert_module(mod, 0, params.encode())
        if rc < 0:
            raise _insert_error(rc, where, params)
        return where


def remove(name: str = MODULE_NAME) -> None:
    """Remove the module ``name``."""
    lib = _libkmod()
    with _context() as ctx, _module(ctx, name) as mod:
        if lib.kmod_module_get_initstate(mod) < 0:
            raise not_loaded(name)
        rc = lib.kmod_module_remove_module(mod, 0)
        if rc >= 0:
            return
        code = -rc
        if code == errno.ENOENT:
            raise not_loaded(name)
        if code in (errno.EPERM, errno.EACCES):
            raise _must_be_root("unload a kernel module") or HagentError(
                f"the kernel refused to unload {name}: operation not permitted"
            )
        if code in (errno.EBUSY, errno.EAGAIN):
            refs = lib.kmod_module_get_refcnt(mod)
            raise HagentError(
                f"{name} is in use (refcount {refs})",
                hint="stop the processes that hold it, then retry",
            )
        raise HagentError(f"cannot unload {name}: {os.strerror(code)}")


def initstate(name: str = MODULE_NAME) -> str | None:
    """The init state ("live", "coming", "going" or "builtin"); None when not loaded."""
    lib = _libkmod()
    with _context() as ctx, _module(ctx, name) as mod:
        state = lib.kmod_module_get_initstate(mod)
        return None if state < 0 else _INITSTATES.get(state, f"state{state}")


def refcount(name: str = MODULE_NAME) -> int | None:
    """The module's reference count; None when not loaded."""
    lib = _libkmod()
    with _context() as ctx, _module(ctx, name) as mod:
        if lib.kmod_module_get_initstate(mod) < 0:
            return None
        refs = lib.kmod_module_get_refcnt(mod)
        return None if refs < 0 else int(refs)
