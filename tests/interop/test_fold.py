"""ketaplan's folding of ASCII lines gives icalendar's bytes, line for line."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from icalendar.parser import Contentline

from ketaplan.ics.export import fold

# Long runs of the characters the folding rule treats specially, around the fold widths.
ascii_lines = st.text(
    alphabet=st.sampled_from("ab\\^;,: ") | st.characters(min_codepoint=32, max_codepoint=126),
    max_size=400,
)


@given(ascii_lines)
@example("X" * 73 + "\\" + "n" * 80)
@example("X" * 74)
@example("X" * 75)
@example("^" * 300)
@example("\\" * 300)
def test_an_ascii_line_folds_as_icalendar_folds_it(line: str) -> None:
    assert fold(line).encode("ascii") == Contentline(line).to_ical()  # type: ignore[no-untyped-call]


def test_every_piece_fits_75_octets() -> None:
    for size in range(0, 400, 7):
        pieces = fold("\\^x" * size).split("\r\n")
        assert all(len(piece) <= 75 for piece in pieces)
        assert "".join(p[1:] if n else p for n, p in enumerate(pieces)) == "\\^x" * size
