"""The built-in medication presets and drug classes, read from ``library/medications/``."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from ketaplan.protocol.policy import HoldRule
from ketaplan.protocol.source import Source

__all__ = ["builtin_classes", "preset_ids", "preset_rules", "preset_source_ids", "preset_sources"]


@cache
def _data(name: str) -> dict[str, object]:
    text = (resources.files("ketaplan") / "library" / "medications" / name).read_text("utf-8")
    return tomllib.loads(text)


@cache
def preset_sources() -> tuple[Source, ...]:
    """The sources the presets cite."""
    return tuple(Source.model_validate(item) for item in _data("presets.toml")["sources"])  # type: ignore[attr-defined]


@cache
def preset_rules() -> tuple[HoldRule, ...]:
    """The built-in hold, washout and advisory presets, by class."""
    return tuple(HoldRule.model_validate(item) for item in _data("presets.toml")["holds"])  # type: ignore[attr-defined]


@cache
def preset_ids() -> frozenset[str]:
    """The ids of the presets."""
    return frozenset(rule.id for rule in preset_rules())


@cache
def preset_source_ids() -> frozenset[str]:
    """The ids of the presets' sources."""
    return frozenset(source.id for source in preset_sources())


@cache
def builtin_classes() -> tuple[dict[str, frozenset[str]], dict[str, str]]:
    """Drug names to classes, and aliases of class names (all lower case)."""
    data = _data("classes.toml")
    names: dict[str, frozenset[str]] = {
        name: frozenset(classes)
        for name, classes in data["classes"].items()  # type: ignore[attr-defined]
    }
    aliases: dict[str, str] = dict(data["aliases"])  # type: ignore[call-overload]
    return names, aliases
