"""The docs' examples run: ``console`` blocks are executed and compared, and every full
protocol, clinic or patient written in a ``toml`` block must validate.

(``>>>`` examples in the docs and README run as doctests through pytest's configuration.)
"""

from __future__ import annotations

import doctest
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from ketaplan.loading import detect_kind, load_definition, parse_definition
from ketaplan.roster import Roster

ROOT = Path(__file__).parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for index, match in enumerate(FENCE.finditer(page.read_text(encoding="utf-8"))):
            if match.group(1) == language:
                found.append((f"{page.name}#{index}", match.group(2)))
    return found


def console_steps(text: str) -> list[tuple[str, str]]:
    steps: list[tuple[str, str]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], ""))
        elif steps:
            command, expected = steps[-1]
            steps[-1] = (command, expected + line + "\n")
    return steps


@pytest.mark.parametrize(("where", "text"), blocks("console"))
def test_console_examples(where: str, text: str, tmp_path: Path) -> None:
    checker = doctest.OutputChecker()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    bin_dir = Path(sys.executable).parent
    for command, expected in console_steps(text):
        argv = shlex.split(command)
        if argv[0] == "ketaplan":
            argv[0] = str(bin_dir / "ketaplan")
        result = subprocess.run(
            argv, capture_output=True, text=True, check=False, timeout=120, cwd=ROOT
        )
        got = result.stdout + result.stderr
        assert checker.check_output(expected, got, flags), (
            f"{where}: {command}\n--- expected\n{expected}--- got\n{got}"
        )


#: Blocks that start with "# a fragment" show part of a definition; the rest are whole.
WHOLE = [(where, text) for where, text in blocks("toml") if not text.startswith("# a fragment")]


def test_docs_have_whole_definitions() -> None:
    assert len(WHOLE) >= 3  # a protocol, a clinic and a patient at least


@pytest.mark.parametrize(("where", "text"), WHOLE)
def test_toml_examples_validate(where: str, text: str, tmp_path: Path) -> None:
    data = parse_definition(text, format="toml", origin=where)
    if "patients" in data:  # a roster (docs/operations.md)
        assert Roster.model_validate(data).patients
        return
    path = tmp_path / "example.toml"
    path.write_text(text, encoding="utf-8")
    definition = load_definition(path)
    assert type(definition).__name__.lower() == detect_kind(data)


#: Files the docs show whole: the page's block must be the file, so the tutorial cannot drift
#: from the files that ketaplan's own suite runs (docs/examples/lakeside/test_series.py).
SHOWN = {
    "docs/examples/lakeside/series.toml": ("toml", "# Lakeside's own IV series"),
    "docs/examples/lakeside/test_series.py": ("python", '"""Lakeside\'s property tests'),
}


@pytest.mark.parametrize("path", sorted(SHOWN))
def test_docs_show_example_files_as_they_are(path: str) -> None:
    language, opening = SHOWN[path]
    shown = [text for _, text in blocks(language) if text.startswith(opening)]
    assert shown == [(ROOT / path).read_text(encoding="utf-8")]


def test_first_draft_differs_from_the_series_only_where_the_tutorial_says() -> None:
    draft = (ROOT / "docs/examples/lakeside/first-draft.toml").read_text(encoding="utf-8")
    assert "maximum = 3 }" in draft
    fragment = next(text for _, text in blocks("toml") if "first-draft.toml" in text)
    assert fragment.split("\n", 1)[1] in draft
