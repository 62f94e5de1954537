"""Error types. Every message a user can cause names what and where."""

from __future__ import annotations


class MyoscoreError(Exception):
    """Base of every error myoscore raises on purpose; its text is shown to the user."""


class SchemeError(MyoscoreError):
    """A scale, atlas or protocol file is invalid.

    The message names the file, the key and what is wrong.
    """

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        super().__init__(f"{file}: {key}: {problem}")


class NotFound(MyoscoreError):
    """A subject, exam, reader, read, item or scheme does not exist."""


class AccessDenied(MyoscoreError):
    """The signed-in user may not do or see this (blinding, roles, passwords)."""


class ReadLocked(MyoscoreError):
    """The read is submitted; only a coordinator can reopen it."""


class InvalidValue(MyoscoreError):
    """A rating value is not a level of the item's scale."""


class DatabaseVersionError(MyoscoreError):
    """The database was written by a newer myoscore, or is not a myoscore database."""


class ImagingError(MyoscoreError):
    """An image file or series cannot be read; the message names the file or series."""


class NeedsConfirmation(MyoscoreError):
    """An action was held back until the user confirms it (the message says how): e.g. a
    value other than NE for a unit that no series of the exam shows."""
