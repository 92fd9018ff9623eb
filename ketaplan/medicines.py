"""Medicine names as people write them: brands, strengths and forms, reduced to ingredients.

A patient file says "Ativan", "clonazepam 0.5 mg", "Lorazepam ER" or "Adderall XR"; the medication
rules name ingredients and classes. :func:`plain_name` drops what does not change the medicine
(strengths, release forms, dosage forms, salts); :func:`ingredients` maps a brand or synonym
to its ingredients with the dictionary of the ``drug-named-entity-recognition`` package (MeSH,
DrugBank, NHS and Wikipedia names, brand names included, kept by Fast Data Science), which
ketaplan could not match with a table of its own. The dictionary takes seconds to load (two to
five, once per process: every ``ketaplan`` command with a patient who takes "Ativan" paid it), so
its answers for every name it gives the built-in classes' ingredients (brands, synonyms; about
1,400) are kept in ``library/medications/names.json``, made by the dictionary itself
(``python -m ketaplan.medicines`` writes it again, and a test holds it equal to the dictionary's
answers). The dictionary is read only for other names, and then each answer is cached; the file
is used only with the dictionary version it was made with.

A few brands the dictionary does not know, or names by a description rather than its
ingredients (Brixadi; Subutex as "buprenorphine and buccal opioid dependence"), are read from
``library/medications/brands.toml`` first: each brand's active ingredients as its label lists
them, with the label as its source.

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
import json
import re
import sys
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from typing import Any, NamedTuple

__all__ = [
    "Brand",
    "NamesAhead",
    "brand_named",
    "brand_sources",
    "brands",
    "dictionary_version",
    "ingredients",
    "names_ahead",
    "plain_name",
    "stored_names",
    "suggestions",
    "synonyms",
]

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
    key = plain_name(name)
    if not key:
        return ()
    labelled = brand_named(name)
    if labelled is not None:
        return labelled.ingredients
    ahead = _ahead()
    if ahead is not None and key in ahead.ingredients:
        return ahead.ingredients[key]
    return _looked_up(key)


def _looked_up(key: str) -> tuple[str, ...]:
    """The dictionary's own answer for a plain name."""
    found = _finder()(key.split(), is_ignore_case=True)
    names = (_ingredient(match) for match, _, _ in found)
    return tuple(dict.fromkeys(n for n in names if n))


@cache
def synonyms(ingredient: str) -> tuple[str, ...]:
    """Every name the dictionary knows for ``ingredient`` (brands included), lower case."""
    ahead = _ahead()
    if ahead is not None and ingredient in ahead.synonyms:
        return ahead.synonyms[ingredient]
    return _synonyms_looked_up(ingredient)


def _synonyms_looked_up(ingredient: str) -> tuple[str, ...]:
    found = _finder()([ingredient], is_ignore_case=True)
    names: list[str] = []
    for match, _, _ in found:
        if _ingredient(match) == ingredient:
            names += [str(s).casefold() for s in match.get("synonyms") or ()]
    return tuple(dict.fromkeys(n for n in names if "," not in n))


class Brand(NamedTuple):
    """A brand's active ingredients as its label lists them (``medications/brands.toml``)."""

    ingredients: tuple[str, ...]
    source: str
    """The id of the source that lists them (:func:`brand_sources`)."""
    classes: tuple[str, ...] = ()
    """Classes the brand has besides its ingredients', where its label gives it one use only
    (Valtoco, approved only for seizure clusters, is a seizure medicine; diazepam is not)."""


@cache
def brands() -> dict[str, Brand]:
    """The brands read from their labels, by plain name (lower case)."""
    table = _brand_data()["brands"]
    return {
        plain_name(name): Brand(
            tuple(entry["ingredients"]), entry["source"], tuple(entry.get("classes", ()))
        )
        for name, entry in table.items()
    }


def brand_named(name: str) -> Brand | None:
    """The brand of ``brands.toml`` that ``name`` names, as its plain name or among its words.

    "Diastat rectal gel", "Diastat Pediatric" and "diazepam (Valtoco)" name their brands as
    "Diastat" and "Valtoco" do; of two brands named, the longer ("Diastat AcuDial").
    """
    key = plain_name(name)
    exact = brands().get(key)
    if exact is not None or not key:
        return exact
    words = f" {key} "
    named = [brand for brand in brands() if f" {brand} " in words]
    return brands()[max(named, key=len)] if named else None


def brand_sources() -> dict[str, dict[str, str]]:
    """The sources :func:`brands` cite, by id (``citation`` and ``url``)."""
    return {item["id"]: item for item in _brand_data()["sources"]}


@cache
def _brand_data() -> dict[str, Any]:
    text = resources.files("ketaplan").joinpath("library", "medications", "brands.toml")
    return tomllib.loads(text.read_text("utf-8"))


class NamesAhead(NamedTuple):
    """The dictionary's answers worked out ahead (``library/medications/names.json``)."""

    dictionary: str
    """The version of ``drug-named-entity-recognition`` that gave them."""
    ingredients: dict[str, tuple[str, ...]]
    """:func:`ingredients` by plain name."""
    synonyms: dict[str, tuple[str, ...]]
    """:func:`synonyms` by ingredient."""


def _names_file() -> Traversable:
    return resources.files("ketaplan").joinpath("library", "medications", "names.json")


def dictionary_version() -> str:
    """The installed version of the name dictionary."""
    return metadata.version("drug-named-entity-recognition")


@cache
def _ahead() -> NamesAhead | None:
    """The answers worked out ahead, when they were made with the installed dictionary."""
    stored = stored_names()
    return stored if stored.dictionary == dictionary_version() else None


def stored_names() -> NamesAhead:
    """``library/medications/names.json`` as it is."""
    data = json.loads(_names_file().read_text("utf-8"))
    return NamesAhead(
        data["dictionary"],
        {key: tuple(value) for key, value in data["ingredients"].items()},
        {key: tuple(value) for key, value in data["synonyms"].items()},
    )


def names_ahead(ingredients_known: Iterable[str]) -> NamesAhead:
    """The dictionary's answers for ``ingredients_known`` and every name it gives them."""
    synonyms_of = {name: _synonyms_looked_up(name) for name in sorted(ingredients_known)}
    answers: dict[str, tuple[str, ...]] = {}
    for every in synonyms_of.values():
        for synonym in every:
            key = plain_name(synonym)
            if key and key not in answers:
                answers[key] = _looked_up(key)
    return NamesAhead(dictionary_version(), answers, synonyms_of)


def suggestions(name: str, known: Iterable[str], *, limit: int = 3) -> list[str]:
    """The known names closest to ``name`` (a misspelling), best first."""
    return difflib.get_close_matches(plain_name(name), list(known), n=limit, cutoff=0.75)


def _write_names_ahead() -> None:  # pragma: no cover - by hand, when the dictionary changes
    """Write ``library/medications/names.json`` from the installed dictionary."""
    from ketaplan._presets import builtin_classes  # noqa: PLC0415 - only for this

    made = names_ahead(builtin_classes()[0])
    data = {"dictionary": made.dictionary, "ingredients": made.ingredients,
            "synonyms": made.synonyms}  # fmt: skip
    text = json.dumps(data, indent=0, sort_keys=True, ensure_ascii=False) + "\n"
    with resources.as_file(_names_file()) as written:
        written.write_text(text, encoding="utf-8")
    print(f"{len(made.ingredients)} names, dictionary {made.dictionary}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    _write_names_ahead()
