"""Intended doses and their titration across a series."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import Field, model_validator

from ketaplan._model import Loc, Model, Slug, Text, fail
from ketaplan._types import DoseUnit

__all__ = ["DoseStep", "Dosing"]

Amount = Annotated[float, Field(gt=0, le=1000)]


class DoseStep(Model):
    """The doses allowed from one dose number on, until the next step.

    The first amount is the intended dose; the others are the alternatives the clinician may
    choose (e.g. ``[56, 84]`` for "56 or 84 mg").
    """

    from_dose: Annotated[int, Field(ge=1, le=10_000)]
    """The 1-based number of the first dose, counted over the whole plan, this step covers."""
    amounts: Annotated[tuple[Amount, ...], Field(min_length=1, max_length=10)]
    over_minutes: Annotated[int, Field(ge=1, le=24 * 60)] | None = None
    """How long the dose is given over (an infusion), if that matters."""
    note: Text | None = None


class Dosing(Model):
    """The titration of a protocol's doses, step by step."""

    unit: DoseUnit
    steps: Annotated[tuple[DoseStep, ...], Field(min_length=1, max_length=50)]
    source: Slug | None = None

    def for_dose(self, number: int) -> DoseStep:
        """The step that covers dose ``number`` (1-based)."""
        chosen = self.steps[0]
        for step in self.steps:
            if step.from_dose <= number:
                chosen = step
        return chosen

    def describe(self, number: int) -> str:
        """The dose for dose ``number`` in words, e.g. ``'56 mg or 84 mg'``."""
        step = self.for_dose(number)
        text = " or ".join(f"{amount:g} {self.unit}" for amount in step.amounts)
        if step.over_minutes is not None:
            text += f" over {step.over_minutes} min"
        return text

    def allows(self, number: int, amount: float, unit: str) -> bool:
        """Whether ``amount`` ``unit`` is one of the doses the menu allows for dose ``number``."""
        return unit == self.unit and any(
            math.isclose(amount, allowed) for allowed in self.for_dose(number).amounts
        )

    def read(self, text: str) -> tuple[float, str] | None:
        """A single dose written as text (``"84 mg"``), or ``None`` if it is not one."""
        value, _, unit = text.strip().partition(" ")
        try:
            amount = float(value)
        except ValueError:
            return None
        return (amount, unit.strip()) if unit.strip() == self.unit else None

    @model_validator(mode="after")
    def _ordered(self) -> Dosing:
        found: list[tuple[Loc, str, object]] = []
        if self.steps[0].from_dose != 1:
            found.append(
                (("steps", 0, "from_dose"), "must be 1 for the first step", self.steps[0].from_dose)
            )
        for index in range(1, len(self.steps)):
            previous, step = self.steps[index - 1], self.steps[index]
            if step.from_dose <= previous.from_dose:
                found.append(
                    (
                        ("steps", index, "from_dose"),
                        f"must be greater than the previous step's ({previous.from_dose})",
                        step.from_dose,
                    )
                )
        fail(found)
        return self
