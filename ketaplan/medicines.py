"""Medicine names as people write them: brands, strengths and forms, reduced to ingredients.

A patient file says "Ativan", "clonazepam 0.5 mg", "Lorazepam ER" or "Adderall XR"; the medication
rules name ingredients and classes. :func:`plain_name` drops what does not change the medicine
(strengths, release forms, dosage forms, salts); :func:`ingredients` maps a brand or synonym
to its ingredients with the dictionary of the ``drug-named-entity-recognition`` package (MeSH,
DrugBank, NHS and Wikipedia names, brand names included, kept by Fast Data Science), which
ketaplan could not match with a table of its own. The dictionary takes a second or two to load,
so it is read only for a name ketaplan's own tables do not know, and each answer is cached.

>>> plain_name("Clonazepam 0.5 mg tablet")
'clonazepam'
>>> plain_name("Lorazepam ER")
'lorazepam'
>>> ingredients("Ativan")
('lorazepam',)
>>> ingredients("Adderall XR")
('amphetamine',)
>>> ingredients("not a medicine")
()
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

__all__ = ["ingredients", "plain_name", "suggestions", "synonyms"]

#: Words that say how much or in what form, not which medicine.
# fmt: off
_NOISE = frozenset((
    "mg", "mcg", "µg", "ug", "g", "ml", "mg/ml", "mcg/ml", "%", "iu", "unit", "units", "tab",
    "tabs", "tablet", "tablets", "cap", "caps", "capsule", "capsules", "oral", "solution",
    "suspension", "syrup", "liquid", "drops", "spray", "nasal", "patch", "patches",
    "transdermal", "injection", "injectable", "iv", "im", "sc", "subcutaneous", "sublingual",
    "odt", "chewable", "film", "er", "xr", "sr", "cr", "la", "xl", "ir", "dr", "ec", "mr", "ds",
    "extended", "immediate", "delayed", "sustained", "controlled", "modified", "release",
    "hydrochloride", "hcl", "hydrobromide", "sodium", "potassium", "mesylate", "maleate",
    "tartrate", "succinate", "sulfate", "sulphate", "besylate", "citrate", "fumarate",
    "acetate", "bitartrate", "as", "needed", "prn", "daily", "nightly", "at", "night",
    "bedtime", "morning", "evening", "once", "twice",
))
# fmt: on
_NUMBER = re.compile(r"^[\d.,/]+[a-zµ%/]*$")


def plain_name(name: str) -> str:
    """``name`` in lower case without strengths, release and dosage forms or salts."""
    words = re.split(r"[\s()\[\],;]+", name.casefold())
    kept = [w for w in words if w and w not in _NOISE and not _NUMBER.match(w)]
    return " ".join(kept)


@cache
def _finder() -> Any:
    from drug_named_entity_recognition import find_drugs  # noqa: PLC0415 - slow; only if needed

    return find_drugs


def _ingredient(match: dict[str, Any]) -> str:
    # The dictionary's canonical names sometimes carry a form ("Selegiline Patch").
    return plain_name(str(match.get("name") or ""))


@cache
def ingredients(name: str) -> tuple[str, ...]:
    """The ingredients (lower case) the dictionary gives for ``name``, or ``()`` if none."""
    tokens = plain_name(name).split()
    if not tokens:
        return ()
    found = _finder()(tokens, is_ignore_case=True)
    names = (_ingredient(match) for match, _, _ in found)
    return tuple(dict.fromkeys(n for n in names if n))


@cache
def synonyms(ingredient: str) -> tuple[str, ...]:
    """Every name the dictionary knows for ``ingredient`` (brands included), lower case."""
    found = _finder()([ingredient], is_ignore_case=True)
    names: list[str] = []
    for match, _, _ in found:
        if _ingredient(match) == ingredient:
            names += [str(s).casefold() for s in match.get("synonyms") or ()]
    return tuple(dict.fromkeys(n for n in names if "," not in n))


def suggestions(name: str, known: Iterable[str], *, limit: int = 3) -> list[str]:
    """The known names closest to ``name`` (a misspelling), best first."""
    return difflib.get_close_matches(plain_name(name), list(known), n=limit, cutoff=0.75)
