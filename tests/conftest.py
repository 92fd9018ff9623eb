"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

# Profiles: "fast" for `make test` (and CI), "deep" for `make test-deep`. The example database is
# off in CI so runs are reproducible from the seed alone.
DATABASE = None if os.environ.get("CI") else DirectoryBasedExampleDatabase(".hypothesis/examples")

for name, examples in (("fast", 25), ("deep", 500)):
    settings.register_profile(
        name,
        max_examples=examples,
        deadline=None,
        database=DATABASE,
        suppress_health_check=[HealthCheck.too_slow],
    )
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))

#: The suite plans as of a fixed moment (``ketaplan.timing.current_time``), so that it gives
#: the same answers on any day; a test about the clock sets its own.
os.environ["KETAPLAN_NOW"] = "2026-11-01T00:00:00+00:00"

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data() -> Path:
    """The folder of test data files."""
    return DATA
