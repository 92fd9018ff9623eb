"""Where a fact comes from, and how strong that source is."""

from __future__ import annotations

from ketaplan._model import Model, NonEmptyText, Slug, Text
from ketaplan._types import EvidenceLevel

__all__ = ["Source"]


class Source(Model):
    """A publication, label or practice that a protocol fact rests on.

    Other parts of a protocol refer to a source by its ``id`` in their ``source`` field.
    """

    id: Slug
    """How the rest of the protocol refers to this source."""
    citation: NonEmptyText
    """Who said it and where, in a form a reader can look up."""
    evidence: EvidenceLevel
    """How strong the source is."""
    url: Text | None = None
    """Where to read it, if it is online."""
    note: Text | None = None
    """What this source supports, or how sources disagree."""
