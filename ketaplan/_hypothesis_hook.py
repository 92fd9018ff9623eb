"""Hypothesis's entry point: registers ketaplan's strategies for ``st.from_type``.

Hypothesis calls :func:`setup` while it is being imported, possibly in the middle of importing
``ketaplan.strategies`` itself, so the strategies are registered as deferred and imported only
when first used.
"""

from __future__ import annotations

from typing import Any


def setup() -> None:
    """Register a deferred strategy for each ketaplan model."""
    from hypothesis import strategies as st  # noqa: PLC0415 - Hypothesis is loading us

    from ketaplan.clinic import Clinic  # noqa: PLC0415
    from ketaplan.patient import Medication, Patient  # noqa: PLC0415
    from ketaplan.plans import Plan  # noqa: PLC0415
    from ketaplan.protocol import GapWindow, Phase, Protocol  # noqa: PLC0415

    def later(name: str) -> Any:
        def build() -> Any:
            from ketaplan import strategies  # noqa: PLC0415 - deferred on purpose

            return getattr(strategies, name)()

        return st.deferred(build)

    for model, name in (
        (Protocol, "protocols"),
        (Clinic, "clinics"),
        (Patient, "patients"),
        (Medication, "medications"),
        (GapWindow, "gaps"),
        (Phase, "phases"),
        (Plan, "plans"),
    ):
        st.register_type_strategy(model, later(name))
