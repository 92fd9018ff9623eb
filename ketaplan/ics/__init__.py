"""iCalendar export and import: the only part of ketaplan that uses icalendar."""

from ketaplan.ics.export import PRODID, Audience, Detail, EventCache, Method, to_ics, uid_for
from ketaplan.ics.text import clean_line, clean_text

__all__ = [
    "PRODID",
    "Audience",
    "Detail",
    "EventCache",
    "Method",
    "clean_line",
    "clean_text",
    "to_ics",
    "uid_for",
]
