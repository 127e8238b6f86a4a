"""kmod/hagent/uapi/hagent.h and ctl/hagent/uapi.py must say the same thing.

The header is parsed here (enum bodies with implicit numbering, #defines with
strings, integers, shifts and references to enum members) and compared with
the Python mirror in both directions.  The parser is tested on purpose-made
drifts so that a silent parser cannot make the main check pass.
"""

import ast
import re
import struct
import sys
from enum import IntEnum
from pathlib import Path

import pytest

from hagent import uapi
from hagent.kernel import genl

HEADER = Path(__file__).resolve().parents[2] / "kmod" / "hagent" / "uapi" / "hagent.h"

# --- a small parser for the subset of C the header uses -----------------------

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_ENUM = re.compile(r"\benum\s+(\w+)\s*\{(.*?)\}\s*;", re.S)
_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+(.+?)[ \t]*$", re.M)
_INT_SUFFIX = re.compile(r"\b(0[xX][0-9a-fA-F]+|\d+)(?:[uU]?[lL]{0,2}|[lL]{1,2}[uU])\b")

Value = int | str


def _eval(expr: str, names: dict[str, Value]) -> Value:
    """Evaluate a constant C expression: literals, names, + - << | ( )."""
    expr = expr.strip()
    if expr.startswith('"'):
        return str(ast.literal_eval(expr))
    tree = ast.parse(_INT_SUFFIX.sub(r"\1", expr), mode="eval")

    def walk(node: ast.expr) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            value = names[node.id]  # KeyError: an unknown name is a parse failure
            assert isinstance(value, int), node.id
            return value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            ops = {ast.Add: left + right, ast.Sub: left - right, ast.BitOr: left | right}
            if isinstance(node.op, ast.LShift):
                return left << right
            if type(node.op) in ops:
                return ops[type(node.op)]
        raise ValueError(f"unsupported C expression: {expr!r}")

    return walk(tree.body)


def parse_header(text: str) -> tuple[dict[str, dict[str, int]], dict[str, Value]]:
    """-> ({enum name: {member: value}}, {define name: value}).

    Enum members include the __*_LAST sentinels.  Defines may refer to enum
    members and earlier defines.
    """
    text = _COMMENT.sub(" ", text)
    names: dict[str, Value] = {}
    enums: dict[str, dict[str, int]] = {}
    for m in _ENUM.finditer(text):
        members: dict[str, int] = {}
        nxt = 0
        for item in (i.strip() for i in m.group(2).split(",")):
            if not item:
                continue
            name, eq, expr = (p.strip() for p in item.partition("="))
            assert re.fullmatch(r"\w+", name), f"bad enum member {item!r}"
            value = _eval(expr, names) if eq else nxt
            assert isinstance(value, int)
            members[name] = names[name] = value
            nxt = value + 1
        enums[m.group(1)] = members
    defines: dict[str, Value] = {}
    for m in _DEFINE.finditer(text):
        name = m.group(1)
        if name.startswith("_UAPI_"):  # the include guard
            continue
        defines[name] = names[name] = _eval(m.group(2), names)
    return enums, defines


_STRUCT = re.compile(r"\bstruct\s+(\w+)\s*\{(.*?)\}\s*;", re.S)
_FIELD = re.compile(r"(\w+)\s+(\w+)")
# uapi fixed-size types -> struct module codes
_C_TYPES = {
    "__u8": "B", "__s8": "b", "__u16": "H", "__s16": "h",
    "__u32": "I", "__s32": "i", "__u64": "Q", "__s64": "q",
}  # fmt: skip


def parse_structs(text: str) -> dict[str, list[tuple[str, str]]]:
    """-> {struct name: [(field, C type), ...]} for the struct definitions."""
    text = _COMMENT.sub(" ", text)
    structs: dict[str, list[tuple[str, str]]] = {}
    for m in _STRUCT.finditer(text):
        fields: list[tuple[str, str]] = []
        for decl in (d.strip() for d in m.group(2).split(";")):
            if not decl:
                continue
            f = _FIELD.fullmatch(decl)
            assert f and f.group(1) in _C_TYPES, f"unsupported field {decl!r} in {m.group(1)}"
            fields.append((f.group(2), f.group(1)))
        structs[m.group(1)] = fields
    return structs


def struct_problems(text: str) -> list[str]:
    """Differences between the header's structs and uapi.C_STRUCTS."""
    problems: list[str] = []
    structs = parse_structs(text)
    for name in sorted(set(structs) - set(uapi.C_STRUCTS)):
        problems.append(f"struct {name} is not mirrored in uapi.C_STRUCTS")
    for name in sorted(set(uapi.C_STRUCTS) - set(structs)):
        problems.append(f"uapi.C_STRUCTS has struct {name}, the header does not")
    for name in sorted(set(structs) & set(uapi.C_STRUCTS)):
        fields, fmt = uapi.C_STRUCTS[name]
        if list(fields) != structs[name]:
            problems.append(f"struct {name}: fields {structs[name]} in the header, {list(fields)}")
        want = "=" + "".join(_C_TYPES[t] for _, t in structs[name])
        if fmt != want:
            problems.append(f"struct {name}: format {fmt!r} in uapi.py, the header needs {want!r}")
        # "=" packs without padding: the C compiler must not pad either
        offset = 0
        for field, ctype in structs[name]:
            size = struct.calcsize(_C_TYPES[ctype])
            if offset % size:
                problems.append(f"struct {name}: {field} is padded in C, not in {want!r}")
            offset += size
        largest = max(struct.calcsize(_C_TYPES[t]) for _, t in structs[name])
        if offset % largest:
            problems.append(f"struct {name}: tail padding in C, not in {want!r}")
    return problems


# Upper-case names in uapi.py that describe the mirror itself.
_NOT_MIRRORS = {"C_ENUMS", "C_STRUCTS", "FEATURE_PREFIX", "DEFINE_PREFIX", *uapi.NOT_DEFINES}


def compare(text: str) -> list[str]:
    """Every difference between a header text and hagent.uapi, as messages."""
    enums, defines = parse_header(text)
    problems: list[str] = []

    for c_enum in sorted(set(enums) - set(uapi.C_ENUMS)):
        problems.append(f"enum {c_enum} is not mirrored in uapi.C_ENUMS")
    for c_enum in sorted(set(uapi.C_ENUMS) - set(enums)):
        problems.append(f"uapi.C_ENUMS has {c_enum}, the header has no such enum")

    for c_enum, members in enums.items():
        if c_enum not in uapi.C_ENUMS:
            continue
        cls, prefix = uapi.C_ENUMS[c_enum]
        sentinels = {n: v for n, v in members.items() if n.startswith("__")}
        header = {n: v for n, v in members.items() if n not in sentinels}
        py: dict[str, int] = {prefix + m.name: int(m) for m in cls}
        for name in sorted(set(header) - set(py)):
            problems.append(f"{c_enum}: {name} missing in uapi.{cls.__name__}")
        for name in sorted(set(py) - set(header)):
            problems.append(f"{c_enum}: uapi.{cls.__name__} has {name}, the header does not")
        for name in sorted(set(header) & set(py)):
            if header[name] != py[name]:
                problems.append(f"{name} = {header[name]} in the header, {py[name]} in uapi.py")
        for name, value in sentinels.items():
            if py and value != max(py.values()) + 1:
                problems.append(f"{name} = {value}, uapi.{cls.__name__} ends at {max(py.values())}")

    flags = {n: v for n, v in defines.items() if n.startswith(uapi.FEATURE_PREFIX)}
    others = {n: v for n, v in defines.items() if n not in flags}
    py_flags = {uapi.FEATURE_PREFIX + (f.name or ""): int(f) for f in uapi.Feature}
    for name in sorted(set(flags) - set(py_flags)):
        problems.append(f"{name} missing in uapi.Feature")
    for name in sorted(set(py_flags) - set(flags)):
        problems.append(f"uapi.Feature has {name}, the header does not")
    for name in sorted(set(flags) & set(py_flags)):
        if flags[name] != py_flags[name]:
            problems.append(
                f"{name} = {flags[name]:#x} in the header, {py_flags[name]:#x} in uapi.py"
            )

    py_consts = {
        uapi.DEFINE_PREFIX + k: v
        for k, v in vars(uapi).items()
        if k.isupper() and isinstance(v, int | str) and k not in _NOT_MIRRORS
    }
    for name in sorted(set(others) - set(py_consts)):
        problems.append(f"#define {name} missing in uapi.py")
    for name in sorted(set(py_consts) - set(others)):
        problems.append(f"uapi.py has {name}, the header does not")
    for name in sorted(set(others) & set(py_consts)):
        h, v = others[name], py_consts[name]
        if h != v:
            shown = repr(v) if isinstance(v, str) else int(v)
            problems.append(f"{name} = {h!r} in the header, {shown} in uapi.py")
    return problems + struct_problems(text)


# --- the real check -----------------------------------------------------------


def test_header_and_mirror_agree() -> None:
    assert compare(HEADER.read_text()) == []


def test_parser_sees_the_whole_header() -> None:
    enums, defines = parse_header(HEADER.read_text())
    assert set(enums) == set(uapi.C_ENUMS)
    assert enums["hagent_attr"]["HAGENT_A_NODES"] == 6
    last = enums["hagent_attr"]["__HAGENT_A_LAST"]
    assert last == max(v for k, v in enums["hagent_attr"].items() if k != "__HAGENT_A_LAST") + 1
    assert defines["HAGENT_A_MAX"] == last - 1
    assert defines["HAGENT_GENL_NAME"] == "hagent"
    assert defines["HAGENT_F_SELFTEST"] == 4


# Every attribute space: the mirrors of the C enums named hagent_*attr.
ATTR_SPACES = [cls for c_enum, (cls, _) in uapi.C_ENUMS.items() if c_enum.endswith("attr")]


def test_attr_spaces_found() -> None:
    assert uapi.Attr in ATTR_SPACES and len(ATTR_SPACES) == len(genl._ATTR_TYPES)


@pytest.mark.parametrize("space", ATTR_SPACES, ids=lambda cls: cls.__name__)
def test_genl_types_cover_every_attribute(space: type[IntEnum]) -> None:
    """genl.py gives every attribute of the mirror a type, and no stale ones."""
    assert set(genl._ATTR_TYPES[space]) == {a.name for a in space}
    assert [i for i, _, _ in genl.build_nla_map(space)] == [int(a) for a in space]


# --- the parser catches drift ---------------------------------------------------


def _drift(old: str, new: str) -> list[str]:
    text = HEADER.read_text()
    assert old in text, old
    return compare(text.replace(old, new, 1))


def test_drift_new_enum_member() -> None:
    last = max(uapi.Attr)
    problems = _drift(f"\tHAGENT_A_{last.name},", f"\tHAGENT_A_{last.name},\n\tHAGENT_A_NEW,")
    assert "hagent_attr: HAGENT_A_NEW missing in uapi.Attr" in problems
    # the sentinel and the MAX define moved with it
    assert f"__HAGENT_A_LAST = {last + 2}, uapi.Attr ends at {int(last)}" in problems
    assert f"HAGENT_A_MAX = {last + 1} in the header, {int(last)} in uapi.py" in problems


def test_drift_removed_member_renumbers() -> None:
    problems = _drift("\tHAGENT_CMD_STATUS,\n", "")
    assert "hagent_cmd: uapi.Cmd has HAGENT_CMD_STATUS, the header does not" in problems
    assert "HAGENT_CMD_EVENT = 1 in the header, 2 in uapi.py" in problems


def test_drift_explicit_value() -> None:
    problems = _drift("\tHAGENT_TIER_SLOW,\n", "\tHAGENT_TIER_SLOW = 5,\n")
    assert "HAGENT_TIER_SLOW = 5 in the header, 1 in uapi.py" in problems


def test_drift_flag_bit() -> None:
    problems = _drift("(1ULL << 2)", "(1ULL << 3)")
    assert problems == ["HAGENT_F_SELFTEST = 0x8 in the header, 0x4 in uapi.py"]


def test_drift_new_flag_and_define() -> None:
    problems = _drift(
        "/* HAGENT_A_EVENT_TYPE values. */",
        "#define HAGENT_F_NEW\t(1ULL << 9)\n#define HAGENT_FOO 3\n",
    )
    assert "HAGENT_F_NEW missing in uapi.Feature" in problems
    assert "#define HAGENT_FOO missing in uapi.py" in problems


def test_drift_string_define() -> None:
    problems = _drift('"events"', '"event"')
    assert problems == ["HAGENT_MCGRP_EVENTS = 'event' in the header, 'events' in uapi.py"]


def test_drift_new_enum() -> None:
    problems = _drift(
        "#endif /* _UAPI_HAGENT_H */",
        "enum hagent_new { HAGENT_NEW_A, HAGENT_NEW_B = 4, __HAGENT_NEW_LAST };\n#endif",
    )
    assert problems == ["enum hagent_new is not mirrored in uapi.C_ENUMS"]


def test_drift_in_a_comment_is_ignored() -> None:
    assert _drift(" *        HAGENT_A_KERNEL ", " *        HAGENT_A_OTHER ") == []


def test_parser_details() -> None:
    enums, defines = parse_header(
        "enum e { A, B = 5, C, /* D, */ __E_LAST };\n"
        "#define X (1ULL << 40)\n#define Y (__E_LAST - 1)\n#define Z 0x10u\n"
    )
    assert enums == {"e": {"A": 0, "B": 5, "C": 6, "__E_LAST": 7}}
    assert defines == {"X": 1 << 40, "Y": 6, "Z": 16}
    with pytest.raises(KeyError):
        parse_header("#define Q (UNKNOWN + 1)\n")


# --- struct hagent_inject_sample -------------------------------------------------


def test_inject_sample_layout() -> None:
    structs = parse_structs(HEADER.read_text())
    assert structs["hagent_inject_sample"] == [
        ("addr", "__u64"),
        ("count", "__u32"),
        ("flags", "__u32"),
    ]
    assert uapi.INJECT_SAMPLE_SIZE == 16 == struct.calcsize(uapi.INJECT_SAMPLE_FORMAT)
    packed = struct.pack(uapi.INJECT_SAMPLE_FORMAT, 0x7F0000001000, 3, uapi.SAMPLE_F_STORE)
    order = sys.byteorder  # native, as the kernel reads it
    assert packed == (
        (0x7F0000001000).to_bytes(8, order) + (3).to_bytes(4, order) + (1).to_bytes(4, order)
    )


def test_comment_limits_are_in_the_header() -> None:
    """The limits uapi.py takes from the INJECT comments are still what they say."""
    text = HEADER.read_text()
    assert f"/* 1..{uapi.SAMPLE_COUNT_MAX} */" in text
    assert f"many times (default 1, at most {uapi.REPEAT_MAX})" in text


def test_drift_struct_field_type() -> None:
    problems = _drift("\t__u32 count;", "\t__u16 count;")
    assert "struct hagent_inject_sample: format '=QII' in uapi.py, the header needs '=QHI'" in (
        problems
    )
    assert any(p.startswith("struct hagent_inject_sample: fields") for p in problems)
    assert "struct hagent_inject_sample: flags is padded in C, not in '=QHI'" in problems


def test_drift_struct_field_order() -> None:
    problems = _drift("\t__u64 addr;", "\t__u64 address;")
    assert problems == [
        "struct hagent_inject_sample: fields [('address', '__u64'), ('count', '__u32'), "
        "('flags', '__u32')] in the header, [('addr', '__u64'), ('count', '__u32'), "
        "('flags', '__u32')]"
    ]


def test_drift_new_struct() -> None:
    problems = _drift("#endif /* _UAPI_HAGENT_H */", "struct hagent_new {\n\t__u32 a;\n};\n#endif")
    assert problems == ["struct hagent_new is not mirrored in uapi.C_STRUCTS"]


def test_struct_parser_details() -> None:
    assert parse_structs("struct s { __u64 a; /* x; */ __u8 b; };") == {
        "s": [("a", "__u64"), ("b", "__u8")]
    }
    with pytest.raises(AssertionError, match="unsupported field"):
        parse_structs("struct s { int a[4]; };")
