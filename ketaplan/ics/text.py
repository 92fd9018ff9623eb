r"""Cleaning text before it reaches icalendar.

icalendar 7.3 escapes CR, LF, ``;``, ``,`` and ``\\`` in TEXT values, but writes other control
characters raw, and some parsers then split lines on them (a whole feed lost, or an injected
event). Every text ketaplan writes passes through :func:`clean_text` first.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["CUT", "MAX_TEXT", "clean_line", "clean_text", "for_terminal", "shortened"]

_NEWLINES = re.compile(r"\r\n|\r|\u0085|\u2028|\u2029")
# C0 controls but TAB and LF, DEL, C1 controls, and bidirectional formatting characters.
_UNSAFE = re.compile(
    "[\u0000-\u0008\u000b-\u001f\u007f\u0080-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)

#: The last code point a ``\xNN`` escape can show.
_LATIN1 = 0xFF

#: Cleaned text is cut to this many characters, so one value cannot grow a file without bound.
MAX_TEXT = 4000
#: What ends a text that was cut, so that no reader takes it for the whole.
CUT = " [cut: the plan holds the whole text]"


def clean_text(value: str, /) -> str:
    r"""``value`` with line breaks made LF and every control and bidi character removed.

    A literal backslash before ``N`` is written with U+2216 (set minus) in its place:
    icalendar (7.3) turns ``\N`` into a line break before escaping, so the text would come back
    split in two.

    >>> clean_text("Line one\r\nEND:VEVENT\rBEGIN:VEVENT\x0bx\u2028y\u202ez")
    'Line one\nEND:VEVENT\nBEGIN:VEVENT x\ny z'
    """
    if "\\N" in value:  # icalendar reads a literal backslash-N as a line break: keep its look
        value = value.replace("\\N", "\u2216N")
    if value.isascii() and value.replace("\n", "").replace("\t", "").isprintable():
        return shortened(value.strip(), MAX_TEXT)  # nothing to replace: the common case
    text = _UNSAFE.sub(" ", _NEWLINES.sub("\n", value))
    return shortened(text.strip(), MAX_TEXT)


def shortened(text: str, limit: int, /) -> str:
    """``text`` if it has at most ``limit`` characters, else cut to them, ending in :data:`CUT`.

    >>> shortened("a short reason", 100)
    'a short reason'
    >>> shortened("x" * 50, 45)
    'xxxxxxxx [cut: the plan holds the whole text]'
    """
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(CUT))] + CUT


@lru_cache(maxsize=65536)  # titles, names and ids recur across events: clean each once
def clean_line(value: str, /) -> str:
    r"""``value`` cleaned, on one line: for titles, names and X- values.

    >>> clean_line("Demo\r\nClinic\u2028A")
    'Demo Clinic A'
    """
    return " ".join(clean_text(value).split())


def for_terminal(value: str, /) -> str:
    r"""``value`` safe to print: every control and bidi character shown as ``\xNN``, lines kept.

    Text from input files (a medication or clinic name) reaches tables, warnings and errors; an
    escape sequence in it must not drive the user's terminal.

    >>> for_terminal("lorazepam\x1b[2J\nnext")
    'lorazepam\\x1b[2J\nnext'
    """
    if value.isascii() and value.replace("\n", "").replace("\t", "").isprintable():
        return value
    text = _NEWLINES.sub("\n", value)
    return _UNSAFE.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= _LATIN1 else f"\\u{code:04x}"
