"""Headless Chromium (Debian's, from tests/interop/setup.sh) for the tests of the pictures.

One helper for every page and drawing ketaplan writes: :func:`render` opens a file as a person
would, returns the DOM Chromium built, what its console said and a screenshot; :func:`spread`
measures how much the screenshot varies (0 for a blank one). Issue 17: "open the files in
headless Chromium, take a screenshot, and assert it renders (not blank, no console errors)".
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest
from PIL import Image, ImageStat


class Rendered(NamedTuple):
    """What Chromium made of a file."""

    dom: str
    """The document as Chromium built it (``--dump-dom``)."""
    console: list[str]
    """Every console message it logged (script errors, CSP or parse reports among them)."""
    shot: Path
    """A PNG screenshot of the window."""


def chromium() -> str:
    """Chromium's command, or a skip that says how to get it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return found


def render(page: Path, *, size: tuple[int, int] = (1400, 900)) -> Rendered:
    """Open ``page`` in headless Chromium: its DOM, its console and a screenshot beside it."""
    base = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={page.parent / 'chromium-profile'}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         check=True, timeout=120)  # fmt: skip
    shot = page.with_suffix(".png")
    drawn = subprocess.run(
        [*base, f"--window-size={size[0]},{size[1]}", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    console = [line for line in (dom.stderr + drawn.stderr).splitlines() if ":CONSOLE" in line]
    return Rendered(dom.stdout, console, shot)


def spread(png: Path) -> float:
    """The standard deviation of the screenshot's grey levels: 0 when it is blank."""
    with Image.open(png) as image:
        return float(ImageStat.Stat(image.convert("L")).stddev[0])


def size_of(png: Path) -> tuple[int, int]:
    """The screenshot's width and height in pixels."""
    with Image.open(png) as image:
        return image.size
