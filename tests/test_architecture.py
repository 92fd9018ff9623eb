"""The package's architecture: imports point down the layers, and private names stay private.

Every ``.py`` file of the installed ``ketaplan`` package is parsed (nothing is imported), every
import is collected (at module level and inside functions, ``import a.b``, ``from x import y``,
relative imports resolved) and the edges are checked against :data:`LAYERS`.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import annotated_types
from pydantic import BaseModel, StringConstraints

import ketaplan
from ketaplan._model import Model, Ref
from ketaplan.errors import DefinitionError

#: The root package, and its facade module (``ketaplan/__init__.py``).
ROOT = "ketaplan"
FACADE = ROOT

#: The layer of each module. An entry covers the module and everything below it
#: (``ketaplan.protocol`` covers ``ketaplan.protocol.gap``); the longest matching entry wins. The
#: facade ``ketaplan`` covers only ``ketaplan/__init__.py``. A module may import modules of its own
#: layer or a lower one. Entries for modules that do not exist are allowed (they are skipped);
#: a module that exists but has no entry fails :func:`test_every_module_has_a_layer`.
LAYERS: dict[str, int] = {
    # 0 foundation: the version, errors, shared types, text helpers, the pydantic base, time maths.
    "ketaplan._version": 0,
    "ketaplan.errors": 0,
    "ketaplan._types": 0,
    "ketaplan._text": 0,
    "ketaplan._model": 0,
    "ketaplan._problems": 0,
    "ketaplan._files": 0,
    "ketaplan.timing": 0,
    # 1 models: the data a user writes or reads (protocols, clinics, patients, bookings, plans).
    "ketaplan.protocol": 1,
    "ketaplan.hours": 1,
    "ketaplan.clinic": 1,
    "ketaplan.patient": 1,
    "ketaplan.bookings": 1,
    "ketaplan._rows": 1,
    "ketaplan.decisions": 1,
    "ketaplan.plans": 1,
    "ketaplan.violation": 1,
    "ketaplan._presets": 1,
    "ketaplan.medicines": 1,
    "ketaplan.medications": 1,
    "ketaplan.openings": 1,
    # 2 rules: every scheduling rule, once (windows, days, anchors, course, calendar, capacity,
    # tasks), and medication holds.
    "ketaplan.rules": 2,
    "ketaplan.holds": 2,
    # 3 engine: capacity, slot finding, screening and the planning machinery.
    "ketaplan.ledger": 3,
    "ketaplan.slots": 3,
    "ketaplan._screen": 3,
    "ketaplan._planning": 3,
    "ketaplan.instructions": 3,
    # 4 files and defaults: loading definitions and the shipped demo data.
    "ketaplan.loading": 4,
    "ketaplan.defaults": 4,
    # 5 verbs: plan, check, replan, status, and the arguments check and replan share.
    "ketaplan.planner": 5,
    "ketaplan.intake": 5,
    "ketaplan.alternatives": 5,
    "ketaplan.roster": 5,
    "ketaplan.placement": 5,
    "ketaplan._cpsat": 5,
    "ketaplan.checking": 5,
    "ketaplan.replanning": 5,
    "ketaplan.disruption": 5,
    "ketaplan._relocation": 5,
    "ketaplan._resolve": 5,
    # 5 operations over many plans: the day's run sheet (its text and page are outputs, 6).
    "ketaplan.runsheet": 5,
    "ketaplan.standing": 5,
    "ketaplan.capacity": 5,
    "ketaplan.whatif": 5,
    # 6 outputs: iCalendar, FHIR, summaries, Hypothesis strategies and verification.
    "ketaplan.ics": 6,
    "ketaplan.fhir": 6,
    "ketaplan.summary": 6,
    "ketaplan.strategies": 6,
    "ketaplan.verify": 6,
    "ketaplan._hypothesis_hook": 6,
    "ketaplan.runsheet.table": 6,
    "ketaplan.runsheet.page": 6,
    "ketaplan.pictures": 6,
    # 7 command line and facade: the only modules allowed to import the facade.
    "ketaplan.cli": 7,
    "ketaplan.__main__": 7,
    FACADE: 7,
}

#: The layer whose modules may import the facade.
TOP = 7


@dataclass(frozen=True)
class Source:
    """One module's source text, as parsed by the checker."""

    name: str
    text: str
    is_package: bool = False


@dataclass(frozen=True)
class Edge:
    """One import (or attribute access) from ``importer`` of ``imported``.

    ``name`` is the name taken from ``imported`` (``from imported import name``, or
    ``imported.name`` through a module bound by an import), or None when the module itself is
    imported.
    """

    importer: str
    imported: str
    name: str | None
    line: int


def read_tree(package: Path, root: str = ROOT) -> list[Source]:
    """Read every ``.py`` file under ``package`` as the module it defines."""
    sources: list[Source] = []
    for path in sorted(package.rglob("*.py")):
        parts = [root, *path.relative_to(package).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        sources.append(Source(".".join(parts), path.read_text(encoding="utf-8"), is_package))
    return sources


def is_ours(module: str) -> bool:
    """Whether ``module`` is the root package or one of its modules."""
    return module == ROOT or module.startswith(ROOT + ".")


def is_private(name: str) -> bool:
    """Whether ``name`` is private: a leading underscore, but not a dunder like ``__version__``."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def resolve_from(source: Source, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` statement in ``source`` takes names from."""
    if not node.level:
        return node.module or ""
    package = source.name.split(".")
    if not source.is_package:
        package.pop()
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def import_edges(source: Source, tree: ast.AST, known: set[str]) -> Iterator[Edge]:
    """Every import of one of our modules in ``tree``, wherever the statement is.

    ``from package import name`` is an import of the module ``package.name`` when that module
    exists (so ``from ketaplan import strategies`` is not an import of the facade), else of
    ``name`` from ``package``.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Edge(source.name, alias.name, None, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            module = resolve_from(source, node)
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                if submodule in known:
                    yield Edge(source.name, submodule, None, node.lineno)
                else:
                    yield Edge(source.name, module, alias.name, node.lineno)


def module_bindings(source: Source, tree: ast.AST, known: set[str]) -> dict[str, str]:
    """The names in ``source`` that imports bind to one of our modules (best effort, no scopes)."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:  # `import ketaplan.x` binds `ketaplan`
                    bound[alias.name.partition(".")[0]] = alias.name.partition(".")[0]
        elif isinstance(node, ast.ImportFrom):
            module = resolve_from(source, node)
            for alias in node.names:
                if f"{module}.{alias.name}" in known:
                    bound[alias.asname or alias.name] = f"{module}.{alias.name}"
    return {name: module for name, module in bound.items() if is_ours(module)}


def module_of(expr: ast.expr, bound: Mapping[str, str], known: set[str]) -> str | None:
    """The module ``expr`` names (``m`` or ``m.sub``) when it is bound by an import, else None."""
    if isinstance(expr, ast.Name):
        return bound.get(expr.id)
    if isinstance(expr, ast.Attribute):
        parent = module_of(expr.value, bound, known)
        if parent is not None and f"{parent}.{expr.attr}" in known:
            return f"{parent}.{expr.attr}"
    return None


def attribute_edges(source: Source, tree: ast.AST, known: set[str]) -> Iterator[Edge]:
    """Every ``module._name`` access in ``tree`` through a module bound by an import."""
    bound = module_bindings(source, tree, known)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            module = module_of(node.value, bound, known)
            if module is not None:
                yield Edge(source.name, module, node.attr, node.lineno)


def collect_edges(sources: Iterable[Source]) -> list[Edge]:
    """Every import of, and private attribute access into, one of our modules, by any module."""
    sources = list(sources)
    known = {source.name for source in sources}
    edges: list[Edge] = []
    for source in sources:
        tree = ast.parse(source.text, filename=source.name)
        edges += import_edges(source, tree, known)
        edges += attribute_edges(source, tree, known)
    return [edge for edge in edges if is_ours(edge.imported)]


def layer_of(module: str, layers: Mapping[str, int] = LAYERS) -> int | None:
    """The layer of ``module``: the longest entry of ``layers`` that covers it, or None."""
    covering = [
        prefix
        for prefix in layers
        if module == prefix or (prefix != FACADE and module.startswith(prefix + "."))
    ]
    return layers[max(covering, key=len)] if covering else None


def unlisted_modules(sources: Iterable[Source], layers: Mapping[str, int] = LAYERS) -> list[str]:
    """The modules that exist but that no entry of ``layers`` covers."""
    return sorted(source.name for source in sources if layer_of(source.name, layers) is None)


def layer_violations(edges: Iterable[Edge], layers: Mapping[str, int] = LAYERS) -> list[str]:
    """Every import of a higher layer, as ``importer -> imported (layer a -> layer b)``.

    Imports of the facade are left to :func:`facade_violations`, and modules without a layer to
    :func:`unlisted_modules`.
    """
    found: set[str] = set()
    for edge in edges:
        low, high = layer_of(edge.importer, layers), layer_of(edge.imported, layers)
        if edge.imported != FACADE and low is not None and high is not None and low < high:
            found.add(f"{edge.importer} -> {edge.imported} (layer {low} -> layer {high})")
    return sorted(found)


def facade_violations(edges: Iterable[Edge], layers: Mapping[str, int] = LAYERS) -> list[str]:
    """Every import of the facade by a module below the top layer, as ``importer -> ketaplan``."""
    found: set[str] = set()
    for edge in edges:
        layer = layer_of(edge.importer, layers)
        if edge.imported == FACADE and layer != TOP:
            what = f"{FACADE}.{edge.name}" if edge.name else FACADE
            found.add(f"{edge.importer} -> {what} (layer {layer} -> layer {TOP})")
    return sorted(found)


def privacy_violations(edges: Iterable[Edge]) -> list[str]:
    """Every private name taken from another module, as ``importer -> module._name (line n)``."""
    found = {
        f"{edge.importer} -> {edge.imported}.{edge.name} (line {edge.line})"
        for edge in edges
        if edge.name is not None and is_private(edge.name) and edge.importer != edge.imported
    }
    return sorted(found)


def package_sources() -> list[Source]:
    """The source of the installed package (the tree ``ketaplan`` was imported from)."""
    assert ketaplan.__file__ is not None
    return read_tree(Path(ketaplan.__file__).parent)


def report(title: str, lines: list[str]) -> str:
    """A failure message: ``title`` and one offending import per line."""
    return "\n".join([f"{title} ({len(lines)}):", *(f"  {line}" for line in lines)])


def test_every_module_has_a_layer() -> None:
    unlisted = unlisted_modules(package_sources())
    assert not unlisted, report("modules missing from LAYERS", unlisted)


def test_modules_import_only_their_own_layer_or_lower() -> None:
    upward = layer_violations(collect_edges(package_sources()))
    assert not upward, report("imports of a higher layer", upward)


def test_only_the_command_line_and_facade_import_the_facade() -> None:
    facade = facade_violations(collect_edges(package_sources()))
    assert not facade, report(f"imports of the facade `{FACADE}` below layer {TOP}", facade)


def test_no_module_uses_another_modules_private_names() -> None:
    private = privacy_violations(collect_edges(package_sources()))
    assert not private, report("private names used from another module", private)


def test_the_checker_reads_the_installed_tree() -> None:
    names = {source.name for source in package_sources()}
    assert {FACADE, "ketaplan.cli", "ketaplan.protocol", "ketaplan.protocol.gap"} <= names


def test_the_checker_reports_upward_facade_and_private_imports() -> None:
    layers = {"ketaplan": 7, "ketaplan.low": 1, "ketaplan.high": 5, "ketaplan.high.sub": 0}
    sources = [
        Source("ketaplan", "from ketaplan.high import run\n", is_package=True),
        Source("ketaplan.high", "def run() -> None: ...\n_secret = 1\n", is_package=True),
        Source("ketaplan.high.sub", "from .. import low\nfrom ..low import _hidden\n"),
        Source(
            "ketaplan.low",
            "import ketaplan.high as h\n"
            "import ketaplan.high.sub\n"
            "from ketaplan import __version__, high\n"
            "from ketaplan._model import Model\n"
            "_hidden = 2\n"
            "def f() -> object:\n"
            "    from ketaplan.high import _secret, run\n"
            "    return h._secret, high._secret, ketaplan.high.sub._x, h.__doc__, _hidden\n",
        ),
        Source("ketaplan.loose", "from . import low\n"),
    ]
    edges = collect_edges(sources)
    assert layer_violations(edges, layers) == [
        "ketaplan.high.sub -> ketaplan.low (layer 0 -> layer 1)",
        "ketaplan.low -> ketaplan.high (layer 1 -> layer 5)",
    ]
    assert facade_violations(edges, layers) == [
        "ketaplan.low -> ketaplan.__version__ (layer 1 -> layer 7)",
    ]
    assert privacy_violations(edges) == [
        "ketaplan.high.sub -> ketaplan.low._hidden (line 2)",
        "ketaplan.low -> ketaplan.high._secret (line 7)",
        "ketaplan.low -> ketaplan.high._secret (line 8)",
        "ketaplan.low -> ketaplan.high.sub._x (line 8)",
    ]
    assert unlisted_modules(sources, layers) == ["ketaplan.loose"]
    assert layer_of("ketaplan.highway", layers) is None  # a prefix covers whole names only


# -- what the layers alone do not say -----------------------------------------------------------

#: Modules that ``check`` must not reach: it judges with the rules, not by running a search.
SEARCH = ("ketaplan._planning", "ketaplan.planner", "ketaplan.slots", "ketaplan._screen")


def test_check_and_the_rules_build_no_planner() -> None:
    """``check`` and the rule layer reach no part of the search (issue 11: check used to build a
    throwaway planner and call its private methods)."""
    edges = collect_edges(package_sources())
    reached = sorted(
        f"{edge.importer} -> {edge.imported} (line {edge.line})"
        for edge in edges
        if edge.importer.startswith(("ketaplan.checking", "ketaplan.rules"))
        and edge.imported.startswith(SEARCH)
    )
    assert not reached, report("check or the rules import the search", reached)


#: Units allowed past the size limits, with why.
LONG_UNITS = {
    "ketaplan.protocol.model:_phase_findings": "a validator's list of cross-field checks",
}
MAX_FUNCTION_LINES = 60
MAX_CLASS_LINES = 400


def oversized(source: Source) -> Iterator[str]:
    """Functions over 60 lines and classes over 400, docstrings not counted."""
    for node in ast.walk(ast.parse(source.text)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        assert node.end_lineno is not None
        lines = node.end_lineno - node.lineno + 1
        first = node.body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            assert first.end_lineno is not None
            lines -= first.end_lineno - first.lineno + 1
        limit = MAX_CLASS_LINES if isinstance(node, ast.ClassDef) else MAX_FUNCTION_LINES
        name = f"{source.name}:{node.name}"
        if lines > limit and name not in LONG_UNITS:
            yield f"{name} has {lines} lines (at most {limit})"


def test_no_function_over_60_lines_and_no_class_over_400() -> None:
    found = sorted(line for source in package_sources() for line in oversized(source))
    assert not found, report("units too long to read in one go", found)


def test_the_size_check_can_fail() -> None:
    body = "".join(f"    x{n} = {n}\n" for n in range(61))
    assert list(oversized(Source("ketaplan.fake", f"def long() -> None:\n{body}")))
    assert not list(oversized(Source("ketaplan.fake", 'def fine() -> None:\n    """Doc."""\n')))


# -- text in models ------------------------------------------------------------------------------
# A plain ``str`` field keeps whatever Python string it is given, a lone surrogate included (a
# JSON file's "\udfff"), which no file, calendar or FHIR Bundle can hold: a clinic's address with
# one was accepted, and every plan made with it failed to be written. A constrained string is
# read by pydantic's core as UTF-8 text, which refuses it, and bounds its length (a plan's
# 900,000-character clinic name was accepted and cut to 4,000 in calendars). Found by a
# hostile test.


def _all_models() -> list[type]:
    for module in pkgutil.walk_packages(ketaplan.__path__, "ketaplan."):
        if not module.name.endswith("__main__"):
            try:
                importlib.import_module(module.name)
            except ImportError:  # an optional extra that is not installed
                continue
    found, todo = [], [Model]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def _unbounded(annotation: object, metadata: tuple[object, ...] = ()) -> Iterator[str]:
    """Where ``annotation`` holds a ``str`` with no length bound or pattern."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is str:
        if not any(
            isinstance(m, annotated_types.MaxLen)
            or (isinstance(m, StringConstraints) and (m.max_length or m.pattern))
            or getattr(m, "pattern", None)
            for m in metadata
        ):
            yield "str"
    elif origin is typing.Annotated:
        yield from _unbounded(args[0], (*metadata, *args[1:]))
    elif origin in (typing.Union, types.UnionType, tuple, list, set, frozenset, dict):
        for arg in args:
            yield from _unbounded(arg)


def test_every_text_a_model_holds_is_bounded_text() -> None:
    models = _all_models()
    assert len(models) > 50  # the walk found them
    loose = [
        f"{model.__module__}.{model.__qualname__}.{name}"
        for model in models
        for name, info in model.model_fields.items()  # type: ignore[attr-defined]
        if any(_unbounded(info.annotation, tuple(info.metadata)))
    ]
    assert loose == []


def test_the_text_check_can_fail() -> None:
    assert list(_unbounded(str | None)) == ["str"]
    assert list(_unbounded(dict[str, tuple[str, ...]])) == ["str", "str"]
    assert list(_unbounded(tuple[Ref, ...] | None)) == []


# -- numbers and bools in models ---------------------------------------------------------------
# pydantic's lax mode reads true and false as 1 and 0 where a number is due: a protocol's
# ``min_interval = { hours = true }`` was a one-hour interval between doses (the file meant 48),
# ``count = true`` one session, a clinic's ``chairs = true`` one chair (found by a protocol
# author). It reads text as a number too: ``min_interval = { hours = "48" }`` was 48 hours, and
# ``"yes"``, ``"off"`` or ``1`` as true or false (a missed visit's ``worsening = "no"`` was
# false, ``"yes"`` true: found by a review). Every number and bool of every model is guarded in
# one place (``Model.__get_pydantic_core_schema__``); this walk says none is missed.

#: Values each kind of field must refuse: what pydantic would read as one of its values.
_NOT_WRITTEN_AS: dict[object, tuple[object, ...]] = {
    int: (True, "48", b"48", 1.5),
    float: (True, "48", "1.5", b"1.5"),
    bool: ("yes", "true", "no", 1, 0, 0.0),
}


def _not_as_written(annotation: object) -> Iterator[object]:
    """Values of ``annotation``'s shape, each with a wrong value where it holds a number or bool."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation in _NOT_WRITTEN_AS:
        yield from _NOT_WRITTEN_AS[annotation]
    elif origin is typing.Annotated:
        yield from _not_as_written(args[0])
    elif origin in (typing.Union, types.UnionType):
        for arg in args:
            yield from _not_as_written(arg)
    elif origin in (tuple, list, set, frozenset):
        items = args[:1] if origin is not tuple or args[-1:] == (Ellipsis,) else args
        for index, item in enumerate(items):
            for sample in _not_as_written(item):
                yield [*(None,) * index, sample]
    elif origin is dict:
        for sample in _not_as_written(args[1]):
            yield {"key": sample}


def _takes(model: type[BaseModel], name: str, value: object) -> bool:
    """Whether ``model`` validates ``{name: value}`` without a problem in the field ``name``."""
    try:
        model.model_validate({name: value})
    except DefinitionError as err:
        return not any(p.path.partition("[")[0].partition(".")[0] == name for p in err.problems)
    return True


def test_every_number_and_bool_a_model_holds_is_read_only_as_written() -> None:
    checked, taken = 0, []
    for model in _all_models():
        for name, info in model.model_fields.items():  # type: ignore[attr-defined]
            for value in _not_as_written(info.annotation):
                checked += 1
                if _takes(model, info.alias or name, value):
                    taken.append(f"{model.__module__}.{model.__qualname__}.{name} = {value!r}")
    assert checked > 500  # the walk found them
    assert taken == []


def test_the_number_check_can_fail() -> None:
    class Loose(BaseModel):  # pydantic's own model, without ketaplan's guard
        count: int = 0
        hours: tuple[float, ...] = ()
        worsening: bool = False

    assert list(_not_as_written(dict[str, tuple[int, ...]] | None)) == [
        {"key": [value]} for value in _NOT_WRITTEN_AS[int]
    ]
    assert _takes(Loose, "count", True)
    assert _takes(Loose, "count", "48")
    assert _takes(Loose, "hours", ["1.5"])
    assert _takes(Loose, "worsening", "yes")
    assert _takes(Loose, "worsening", 1)


# -- counts in words -----------------------------------------------------------------------------
# Messages read "more than 1 doses in 7 days", "1 days after induction-1", "1 session(s)": a
# count written before a noun takes the noun's number from ``ketaplan._text.quantity`` ("1 dose",
# "2 doses"), never a fixed plural or "(s)". Found by a review of the rules' messages.

#: Count nouns ketaplan's messages use, in the plural.
_PLURALS = (
    "days|doses|sessions|hours|weeks|minutes|months|times|cases|items|plans|patients|rules|"
    "appointments|checkpoints|seeds|errors|warnings|notes|chairs|rooms|variants|holds|tasks"
)
_FIXED_PLURAL = re.compile(rf"^ (?:more |later )?(?:{_PLURALS})\b|^ ?\w+\(s\)")
#: Placeholders before a plural that are not counts, or counts that are never 1.
_NOT_COUNTS = {
    "ketaplan.capacity: {item.wait_days} days",  # a possessive, written apart: "1 day's wait"
    "ketaplan.loading: {len(made.appointments)} appointments",  # only past a limit of thousands
    "ketaplan.protocol.gap: {self.most} sessions",  # only when more than one cannot fit
    "ketaplan.protocol.model: {anchor.session} sessions",  # a session kind's name
}


def _fixed_plurals(source: Source) -> Iterator[str]:
    """Each count in an f-string of ``source`` followed by a fixed plural noun or "(s)"."""
    for node in ast.walk(ast.parse(source.text)):
        if not isinstance(node, ast.JoinedStr):
            continue
        for before, value, after in zip(
            [None, *node.values], node.values, [*node.values[1:], None], strict=False
        ):
            text = after.value if isinstance(after, ast.Constant) else ""
            expression = ast.unparse(value.value) if isinstance(value, ast.FormattedValue) else ""
            ranged = isinstance(before, ast.Constant) and str(before.value).endswith("-")
            named = re.search(r"(^|\.)(id|[a-z_]*_id)$|^[A-Z_0-9]+$", expression)
            if not expression or ranged or named or not isinstance(text, str):
                continue
            noun = _FIXED_PLURAL.match(text)
            if noun:
                yield f"{source.name}: {{{expression}}}{text[: noun.end()]}"


def test_a_count_before_a_noun_takes_the_noun_s_number() -> None:
    found = [place for source in package_sources() for place in _fixed_plurals(source)]
    assert sorted(set(found) - _NOT_COUNTS) == []
    assert set(found) >= _NOT_COUNTS  # each exception is still there


def test_the_count_check_can_fail() -> None:
    source = Source(
        "ketaplan.x",
        "f'{n} days, {k} session(s), {a}-{b} days, {MAX} days, {p.id} steps, {quantity(n, d)}'",
    )
    assert list(_fixed_plurals(source)) == ["ketaplan.x: {n} days", "ketaplan.x: {k} session(s)"]
