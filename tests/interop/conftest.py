"""Fixtures for the interoperability tests: the tools, or a skip that says why not."""

from __future__ import annotations

import pytest

from .parsers import Libical, icaljs_available, libical


@pytest.fixture(scope="session")
def libical_reader() -> Libical:
    reader = libical()
    if reader is None:
        pytest.skip("libical3 is not installed (tests/interop/setup.sh installs it with apt-get)")
    return reader


@pytest.fixture(scope="session")
def icaljs() -> None:
    reason = icaljs_available()
    if reason:
        pytest.skip(reason)
