"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

# Profiles: "fast" for `make test` on a developer's machine (new random examples every run, and
# the failures it found kept in the example database), "deep" for `make test-deep` (500 examples,
# random), and "ci" when CI is set (`.ci/run`): the fast profile's examples, derandomized (drawn
# from a hash of each test), with no database, so that CI gives the same answer for the same
# commit. Random sweeps are for developers and `make test-deep`, where a new failure is a lead.
CI = bool(os.environ.get("CI"))
DATABASE = None if CI else DirectoryBasedExampleDatabase(".hypothesis/examples")

for name, examples, fixed in (("fast", 25, False), ("deep", 500, False), ("ci", 25, True)):
    settings.register_profile(
        name,
        max_examples=examples,
        deadline=None,
        database=None if fixed else DATABASE,  # Hypothesis: derandomize implies no database
        derandomize=fixed,
        suppress_health_check=[HealthCheck.too_slow],
    )
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if CI else "fast"))

#: The suite plans as of a fixed moment (``ketaplan.timing.current_time``), so that it gives
#: the same answers on any day; a test about the clock sets its own.
os.environ["KETAPLAN_NOW"] = "2026-11-01T00:00:00+00:00"

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data() -> Path:
    """The folder of test data files."""
    return DATA
