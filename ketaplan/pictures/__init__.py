"""Pictures of a plan: its timeline as an SVG drawing, or as an HTML page around it.

:func:`timeline_svg` draws a plan's course: phases as bands, each session at its day over the
window it had to land in, moved sessions with their reasons, holds and staff tasks as marks,
today as a line, and a legend. :func:`timeline_html` puts the drawing in a printable page with
every appointment listed as a table. Both are one self-contained file: no script, nothing
fetched. The clinic's day or week is the run sheet's page (:mod:`ketaplan.runsheet.page`),
which shares this package's style and escaping (:mod:`ketaplan.pictures.document`).
"""

from ketaplan.pictures.page import timeline_html
from ketaplan.pictures.timeline import timeline_svg

__all__ = ["timeline_html", "timeline_svg"]
