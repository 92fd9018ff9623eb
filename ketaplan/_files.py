"""Reading a user's file whole, bounded by construction.

A size read from ``stat`` is no bound for what is not a regular file: ``/dev/zero`` and a pipe
report 0 bytes and never end, and a FIFO with no writer blocks. Every reader of a user's file
(definitions, plans, events, bookings, busy calendars) reads through :func:`read_capped`, which
opens only regular files and never reads more than its limit and one byte.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["FileRefused", "exists", "is_dir", "is_file", "read_capped"]


class FileRefused(ValueError):  # noqa: N818 - an outcome each reader words as its own error
    """The file is not one to read: what it must be, and what it is."""

    def __init__(self, expectation: str, value: object, *, too_large: bool) -> None:
        self.expectation = expectation
        self.value = value
        self.too_large = too_large
        """Refused for its size (a :class:`~ketaplan.errors.LimitError`) rather than its kind."""
        super().__init__(f"must be {expectation}; got {value!r}")


def read_capped(path: str, limit: int) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them, or FileRefused.

    ``OSError`` (no such file, no permission) is the caller's to word.
    """
    found = Path(path).stat()
    if not stat.S_ISREG(found.st_mode):
        kind = (
            "a FIFO or pipe"
            if stat.S_ISFIFO(found.st_mode)
            else "a directory"
            if stat.S_ISDIR(found.st_mode)
            else "a device or socket"
        )
        raise FileRefused("a regular file (not a device, pipe or FIFO)", kind, too_large=False)
    if found.st_size > limit:
        raise FileRefused(f"at most {limit} bytes", found.st_size, too_large=True)
    with Path(path).open("rb") as file:
        data = file.read(limit + 1)  # it may have grown since
    if len(data) > limit:
        raise FileRefused(f"at most {limit} bytes", f"more than {limit}", too_large=True)
    return data


def exists(name: str | os.PathLike[str]) -> bool:
    """Whether ``name`` names something on disk; a name too long or with a NUL does not.

    ``Path.exists`` raises for those (``OSError: File name too long``), where a name typed by
    a user is simply not a file.
    """
    try:
        return Path(name).exists()
    except (OSError, ValueError):
        return False


def is_file(name: str | os.PathLike[str]) -> bool:
    """Whether ``name`` is a regular file (as :func:`exists`, never raising for the name)."""
    try:
        return Path(name).is_file()
    except (OSError, ValueError):
        return False


def is_dir(name: str | os.PathLike[str]) -> bool:
    """Whether ``name`` is a folder (as :func:`exists`, never raising for the name)."""
    try:
        return Path(name).is_dir()
    except (OSError, ValueError):
        return False
