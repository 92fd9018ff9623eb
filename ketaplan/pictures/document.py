"""What every picture ketaplan draws shares: escaping, the page around it, the house style.

The run sheet page (:mod:`ketaplan.runsheet.page`) and a plan's timeline
(:mod:`ketaplan.pictures.timeline`) are self-contained files: inline CSS, no script, no font,
image or style sheet from the network. Every text that comes from a file goes through
:func:`text`, which escapes it for HTML and for XML (an SVG file) alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

from ketaplan._version import __version__

__all__ = ["STYLE", "capital", "footer", "html_page", "text"]

#: Characters XML 1.0 does not allow (C0 controls but tab and newlines, surrogates, U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

#: The style both pages start from: ink, tables, the footer, and printing on A4.
STYLE = """
:root { --ink: #1d2329; --muted: #5b6570; --line: #d5dae0; --over: #b3261e; --label: 8em; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; color: var(--ink); margin: 24px; }
h1 { font-size: 1.5em; margin: 0 0 .15em; }
h2 { font-size: 1.05em; margin: 1.2em 0 .3em; }
.meta { color: var(--muted); margin: 0 0 1em; }
.alert { border-left: 4px solid var(--over); background: #fbeae9; padding: .45em .8em;
  margin: 0 0 1em; }
.note { border-left: 4px solid var(--muted); background: #f1f3f5; padding: .45em .8em;
  margin: 0 0 1em; }
table { border-collapse: collapse; width: 100%; }
th { text-align: left; font-size: .8em; color: var(--muted); font-weight: 600;
  white-space: nowrap; }
th, td { padding: 2px 10px 2px 0; border-bottom: 1px solid #eceff2; vertical-align: top;
  font-variant-numeric: tabular-nums; }
footer { margin-top: 2em; font-size: .8em; color: var(--muted); }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { margin: 0; font-size: 11px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section, .timeline { break-inside: avoid; }
}
"""


def text(value: object, /) -> str:
    r"""``value`` as text for HTML or XML: markup escaped, characters XML forbids replaced.

    >>> text('<b title="x">&\x01</b>')
    '&lt;b title=&quot;x&quot;&gt;&amp;\ufffd&lt;/b&gt;'
    """
    return _NOT_XML.sub("\ufffd", escape(str(value), quote=True))


def capital(label: str, /) -> str:
    """``label`` with a capital first letter: ``"chair 2"`` becomes ``"Chair 2"``."""
    return label[:1].upper() + label[1:]


def footer(time_zone: str, /) -> str:
    """The footer every page ends with: privacy, the zone, ketaplan's version, the safety line."""
    return (
        f"<footer>Patients by id only. Times in {text(time_zone)}. Made by ketaplan "
        f"{text(__version__)}, which plans what a clinician decided and gives no medical advice."
        "</footer>"
    )


def html_page(title: str, body: Sequence[str], *, style: str) -> str:
    """A complete, self-contained HTML page around ``body`` (markup).

    ``title`` is escaped here; the style is :data:`STYLE` followed by the page's own ``style``.
    """
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            '<head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{text(title)}</title>",
            f"<style>{STYLE}{style}</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )
