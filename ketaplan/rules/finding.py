"""What a rule says about a session: a code, a sentence, and the rule and source behind it."""

from __future__ import annotations

from typing import Literal, NamedTuple

from ketaplan.violation import CODES, Severity, ViolationCode

__all__ = ["Code", "Finding", "PlanningCode"]

PlanningCode = Literal["held", "deadline-lookahead"]
"""Codes only the planner uses: a day before sessions already held, and a day that leaves too
little time for the rest of a phase. ``check`` never reports them: they are about where the
next session should go, not about a session that is already there."""

Code = ViolationCode | PlanningCode


class Finding(NamedTuple):
    """One rule broken by one session (or a day a session might take)."""

    code: Code
    message: str
    """A sentence a person understands, without the session's id (the caller adds it)."""
    rule: str = ""
    """The rule in words, e.g. ``"rules.min_interval (48 h)"``."""
    source: str | None = None
    """The id of the rule's source."""
    severity: Severity | None = None
    """Set only where it differs from the code's usual severity."""
    involves: tuple[str, ...] = ()
    """Other appointments involved (e.g. the previous dose of a gap)."""

    @property
    def is_error(self) -> bool:
        """Whether ``check`` reports it as an error (the planner's own codes are not reported)."""
        code = self.code
        if code == "held" or code == "deadline-lookahead":  # noqa: PLR1714 - narrows the code
            return False
        return (self.severity or CODES[code][0]) == "error"
