"""Medication rules: which holds, washouts and monitoring apply to a patient's medications.

The rules in force for a plan are, in order: the built-in presets (``presets.toml``, each with
its source), replaced or switched off by the clinic's ``medication_rules`` and
``medication_presets_off``, plus the protocol's own ``holds`` (the esketamine label's monitoring
rules); of these, those whose scope (``applies_to``: drugs, routes, settings) covers the
protocol. A medication matches a rule when its name is the rule's medication, or belongs to the
rule's class (``library/medications/classes.toml``, extended by the clinic's
``medication_classes``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from ketaplan._model import Loc
from ketaplan._presets import builtin_classes, preset_rules, preset_sources
from ketaplan.clinic import Clinic
from ketaplan.medicines import brand_named, ingredients, plain_name, suggestions, synonyms
from ketaplan.patient import Medication
from ketaplan.protocol import HoldRule, Protocol, Source

__all__ = [
    "NO_RULE",
    "MedicationRules",
    "medication_rules",
    "medication_rules_everywhere",
    "medicine_names",
    "unmatched_names",
]

#: The class of drugs known to need no rule (antidepressants that continue unchanged).
NO_RULE = "no-rule"


def _key(name: str) -> str:
    return " ".join(name.casefold().split())


#: What joins the ingredients of a combination as people write it: "/", "+", ",", "and", "with".
_COMBINATION = re.compile(r"\s*(?:/|\+|,|\band\b|\bwith\b)\s*", re.IGNORECASE)


def _pieces(name: str) -> list[str]:
    """The parts of a combination as written (``"buprenorphine/naloxone"``); one otherwise."""
    return [piece for piece in _COMBINATION.split(name) if piece.strip()]


@dataclass(frozen=True)
class MedicationRules:
    """The medication rules in force, and how to match a medication to them.

    >>> from ketaplan import load_protocol
    >>> from ketaplan.patient import Medication
    >>> rules = medication_rules(load_protocol("esketamine-trd"))
    >>> sorted(rules.classes_of("Lorazepam"))
    ['benzodiazepine', 'cns-depressant', 'lorazepam', 'seizure-possible']
    >>> [(r.id, r.severity) for r in rules.matching(Medication(name="lorazepam"))]
    [('cns-depressants', 'monitor')]
    >>> rules.classes_of("lorazpam") is None
    True
    """

    rules: tuple[HoldRule, ...]
    sources: dict[str, Source] = field(default_factory=dict)
    names: dict[str, frozenset[str]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def classes_of(self, name: str) -> frozenset[str] | None:
        """The classes of a drug, and the name itself; ``None`` when the name is unknown.

        The name is included so that a rule may name a single drug as well as a class. A name
        is read as written, then without strength and form (``"clonazepam 0.5 mg"``), then as a
        brand or synonym of known ingredients (``"Ativan"``: lorazepam, with its classes).
        """
        key = _key(name)
        found = self._known(key)
        if found is None:
            found = self._known(plain_name(name))
        if found is not None:
            return found
        parts = [self._ingredient(ingredient) for ingredient in ingredients(name)]
        known = [part for part in parts if part is not None]
        if not known:
            # A combination written as its ingredients ("buprenorphine/naloxone"): each read
            # as above, so an esketamine patient on it gets the sedation monitoring (label 7.1).
            pieces = _pieces(name)
            if len(pieces) > 1:
                known = [f for f in (self.classes_of(piece) for piece in pieces) if f is not None]
        if not known:
            return None
        labelled = brand_named(name)  # a brand with one use (seizure rescue)
        return frozenset({key}).union(*known, labelled.classes if labelled else ())

    def _ingredient(self, ingredient: str) -> frozenset[str] | None:
        """An ingredient the dictionary gives, or the known ones of a combination it gives.

        The dictionary names a combination brand by its ingredients together: Suboxone and
        Zubsolv are "buprenorphine/naloxone", Contrave "naltrexone and bupropion".
        """
        found = self._known(ingredient)
        pieces = _pieces(ingredient)
        if found is not None or len(pieces) == 1:
            return found
        known = [f for f in (self._known(plain_name(piece)) for piece in pieces) if f is not None]
        return frozenset().union(*known) if known else None

    def _known(self, key: str) -> frozenset[str] | None:
        key = self.aliases.get(key, key)
        if key in self.names:
            return self.names[key] | {key}
        if key in self._class_names:
            return frozenset({key})
        return None

    @cached_property  # looked up for every medication at every session: worked out once
    def _class_names(self) -> frozenset[str]:
        return frozenset(c for classes in self.names.values() for c in classes)

    def unknown(self, medication: Medication) -> str | None:
        """A warning for a medication no rule can be matched to, with likely meant names."""
        if self.classes_of(medication.name) is not None:
            return None
        known = {*self.names, *self.aliases, *self._class_names}
        brands = {alias for name in self.names for alias in synonyms(name)}
        close = suggestions(medication.name, sorted(known | brands))
        hint = f"; did you mean {_either(close)}?" if close else ""
        return (
            f"unknown medication {medication.name!r}: no medication rule could be matched{hint} "
            "(check the spelling, or add it to the clinic's medication_classes)"
        )

    def rule_name_problem(self, name: str, *, also: str = "") -> str | None:
        """What is wrong with ``name`` as the medication a rule names, or None when it is right.

        A rule applies to a medication when it names one of :meth:`classes_of` it: a drug as the
        dictionary keeps it (``"lorazepam"``) or a class (``"benzodiazepine"``). Any other name
        (a typo, a brand, a plural, a strength) matches no patient's medication written another
        way, and the rule would silently do nothing: it is refused, with the names likely meant.
        ``also``: what else the name may be, in words (``", or one the clinic's rules name"``).

        >>> print(medicine_names().rule_name_problem("maois"))
        must be a medication or class ketaplan knows (did you mean 'maoi'?)
        """
        key = _key(name)
        if key in self.names or key in self._class_names:
            return None
        meant = self._meant_by(name)
        hint = f" (did you mean {_either(meant)}?)" if meant else ""
        return f"must be a medication or class ketaplan knows{also}{hint}"

    def _meant_by(self, name: str) -> list[str]:
        """The names a rule may use that ``name`` likely means, best first."""
        key = _key(name)
        if key in self.aliases:  # a class as people write it: "maois", "benzodiazepines"
            meant = self.aliases[key]
            return [meant] if meant != NO_RULE else []
        plain = plain_name(name)
        if plain in self.names or plain in self._class_names:  # "lorazepam 1 mg"
            return [plain]
        close = suggestions(name, sorted({*self.names, *self._class_names, *self.aliases}))
        if close:  # a typo: "benzodiazapine", "maio"
            return [c for c in dict.fromkeys(self.aliases.get(c, c) for c in close) if c != NO_RULE]
        return [i for i in ingredients(name) if i in self.names]  # a brand: "Nardil"

    def matching(self, medication: Medication) -> list[HoldRule]:
        """The rules that apply to ``medication``, in rule order."""
        classes = self.classes_of(medication.name) or frozenset({_key(medication.name)})
        return [rule for rule in self.rules if _key(rule.medication) in classes]

    def source(self, source_id: str | None) -> Source | None:
        """A source any rule cites, by id."""
        return self.sources.get(source_id) if source_id else None


def _either(names: list[str]) -> str:
    """``'a' or 'b'``: the names a "did you mean" offers."""
    return " or ".join(repr(name) for name in names)


def medicine_names(clinic: Clinic | None = None) -> MedicationRules:
    """The medicine names and classes ketaplan knows (with the clinic's), and no rules.

    For reading a patient's medications before any protocol is chosen (``ketaplan validate``).
    """
    names, aliases = builtin_classes()
    names = dict(names)
    if clinic is not None:
        for name, classes in clinic.medication_classes.items():
            names[_key(name)] = frozenset(_key(c) for c in classes)
    return MedicationRules((), {}, names, aliases)


def unmatched_names(
    holds: Sequence[HoldRule], field: str, clinic: Clinic | None = None
) -> list[tuple[Loc, str, object]]:
    """Each medication ``holds`` (a protocol's, or ``clinic``'s own) name that no rule can match.

    Each finding is ``(location, message, name)``, the location below ``field``. With
    ``clinic``, also each class its ``medication_classes`` lists that is neither one ketaplan
    knows nor one of ``holds`` names: the class, or the hold, would silently do nothing.
    """
    known = medicine_names(clinic)
    found: list[tuple[Loc, str, object]] = []
    for index, hold in enumerate(holds):
        problem = known.rule_name_problem(hold.medication)
        if problem is not None:
            found.append(((field, index, "medication"), problem, hold.medication))
    if clinic is None:
        return found
    builtin, named = medicine_names(), {_key(hold.medication) for hold in holds}
    for name, classes in clinic.medication_classes.items():
        for listed in classes:
            problem = builtin.rule_name_problem(listed, also=f", or one the clinic's {field} name")
            if problem is not None and _key(listed) not in named:
                found.append((("medication_classes",), f"{name!r}: {problem}", listed))
    return found


def medication_rules_everywhere(clinic: Clinic | None = None) -> tuple[HoldRule, ...]:
    """The presets, replaced or switched off by ``clinic``, and its own rules, any scope."""
    if clinic is None:
        return preset_rules()
    overrides = {rule.id: rule for rule in clinic.medication_rules}
    off = set(clinic.medication_presets_off)
    presets = {rule.id for rule in preset_rules()}
    rules = [overrides.get(rule.id, rule) for rule in preset_rules() if rule.id not in off]
    return (*rules, *(rule for rule in clinic.medication_rules if rule.id not in presets))


def medication_rules(protocol: Protocol, clinic: Clinic | None = None) -> MedicationRules:
    """The rules in force for ``protocol`` at ``clinic`` (presets, clinic, protocol)."""
    known = medicine_names(clinic)
    names, aliases = known.names, known.aliases
    sources: dict[str, Source] = {s.id: s for s in preset_sources()}
    if clinic is not None:
        sources.update({s.id: s for s in clinic.sources})
    rules = [*medication_rules_everywhere(clinic), *protocol.holds]
    sources.update({s.id: s for s in protocol.sources})
    in_force = tuple(
        rule
        for rule in rules
        if rule.applies_to.covers(
            drug=protocol.drug, route=protocol.route, setting=protocol.setting
        )
    )
    return MedicationRules(in_force, sources, names, aliases)
