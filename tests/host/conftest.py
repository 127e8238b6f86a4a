"""Host tests never look at the real /sys/module/hagent (it may exist here or not)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from hagent.kernel import kmodlib


@pytest.fixture(autouse=True)
def sys_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """kmodlib.SYS_MODULE in a temporary directory, missing (not loaded) until a test makes it."""
    path = tmp_path_factory.mktemp("sys_module") / "hagent"
    saved = kmodlib.SYS_MODULE
    kmodlib.SYS_MODULE = path
    yield path
    kmodlib.SYS_MODULE = saved
