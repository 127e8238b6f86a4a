"""The JSON hagentctl prints for scripts, with the one schema version.

SCHEMA_VERSION changes when a --json output changes incompatibly (a key
removed, renamed or given another type); a new key leaves it as it is.  Every
JSON object a command prints carries it first, as "schema_version", so a
script can refuse a shape it does not know.  Commands print JSON only through
echo(), which adds it.
"""

import json
from collections.abc import Mapping
from typing import Any

import typer

SCHEMA_VERSION = 1


def document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """@doc with "schema_version" as its first key."""
    return {"schema_version": SCHEMA_VERSION, **doc}


def echo(doc: Mapping[str, Any], *, line: bool = False) -> None:
    """Print @doc with the schema version: indented, or as one line (JSON lines).

    typer.echo flushes, so a reader of a stream sees each line when it is printed.
    """
    typer.echo(json.dumps(document(doc), indent=None if line else 2))
