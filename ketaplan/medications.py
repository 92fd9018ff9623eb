"""Medication rules: which holds, washouts and monitoring apply to a patient's medications.

The rules in force for a plan are, in order: the built-in presets (``presets.toml``, each with
its source), replaced or switched off by the clinic's ``medication_rules`` and
``medication_presets_off``, plus the protocol's own ``holds`` (the esketamine label's monitoring
rules). A medication matches a rule when its name is the rule's medication, or belongs to the
rule's class (``library/medications/classes.toml``, extended by the clinic's
``medication_classes``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ketaplan._presets import builtin_classes, preset_rules, preset_sources
from ketaplan.clinic import Clinic
from ketaplan.patient import Medication
from ketaplan.protocol import HoldRule, Protocol, Source

__all__ = ["NO_RULE", "MedicationRules", "medication_rules"]

#: The class of drugs known to need no rule (antidepressants that continue unchanged).
NO_RULE = "no-rule"


def _key(name: str) -> str:
    return " ".join(name.casefold().split())


@dataclass(frozen=True)
class MedicationRules:
    """The medication rules in force, and how to match a medication to them.

    >>> from ketaplan import load_protocol
    >>> from ketaplan.patient import Medication
    >>> rules = medication_rules(load_protocol("esketamine-trd"))
    >>> sorted(rules.classes_of("Lorazepam"))
    ['benzodiazepine', 'cns-depressant', 'lorazepam']
    >>> [(r.id, r.severity) for r in rules.matching(Medication(name="lorazepam"))]
    [('benzodiazepine', 'hold'), ('cns-depressants', 'monitor')]
    >>> rules.classes_of("lorazpam") is None
    True
    """

    rules: tuple[HoldRule, ...]
    sources: dict[str, Source] = field(default_factory=dict)
    names: dict[str, frozenset[str]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def classes_of(self, name: str) -> frozenset[str] | None:
        """The classes of a drug, and the name itself; ``None`` when the name is unknown.

        The name is included so that a rule may name a single drug as well as a class.
        """
        key = _key(name)
        key = self.aliases.get(key, key)
        if key in self.names:
            return self.names[key] | {key}
        known_classes = {c for classes in self.names.values() for c in classes}
        if key in known_classes:
            return frozenset({key})
        return None

    def matching(self, medication: Medication) -> list[HoldRule]:
        """The rules that apply to ``medication``, in rule order."""
        classes = self.classes_of(medication.name) or frozenset({_key(medication.name)})
        return [rule for rule in self.rules if _key(rule.medication) in classes]

    def source(self, source_id: str | None) -> Source | None:
        """A source any rule cites, by id."""
        return self.sources.get(source_id) if source_id else None


def medication_rules(protocol: Protocol, clinic: Clinic | None = None) -> MedicationRules:
    """The rules in force for ``protocol`` at ``clinic`` (presets, clinic, protocol)."""
    names, aliases = builtin_classes()
    names = dict(names)
    sources: dict[str, Source] = {s.id: s for s in preset_sources()}
    overrides: dict[str, HoldRule] = {}
    off: set[str] = set()
    extra: Iterable[HoldRule] = ()
    if clinic is not None:
        for name, classes in clinic.medication_classes.items():
            names[_key(name)] = frozenset(_key(c) for c in classes)
        sources.update({s.id: s for s in clinic.sources})
        overrides = {rule.id: rule for rule in clinic.medication_rules}
        off = set(clinic.medication_presets_off)
        presets = {rule.id for rule in preset_rules()}
        extra = [rule for rule in clinic.medication_rules if rule.id not in presets]
    rules = [overrides.get(rule.id, rule) for rule in preset_rules() if rule.id not in off]
    rules += list(extra)
    sources.update({s.id: s for s in protocol.sources})
    rules += list(protocol.holds)
    return MedicationRules(tuple(rules), sources, names, aliases)
