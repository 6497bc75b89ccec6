"""Errors that reach users.

A `UserInputError` is bad input (a missing file, a corrupt video, an unknown class key): the CLI
prints it as one line ``error: PATH: reason`` and exits 2, the GUI shows it in a message. Anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import os


class CineStudioError(Exception):
    """Base class of CineStudio's own errors."""


class UserInputError(CineStudioError):
    """Input the user can fix: says what (`subject`, usually a path) and why (`reason`)."""

    def __init__(self, subject: str | os.PathLike[str], reason: str):
        self.subject = os.fspath(subject)
        self.reason = reason
        super().__init__(f"{self.subject}: {reason}")


class MediaError(UserInputError):
    """A file that is not a readable video (or image) of the kind expected."""


class UnknownClassError(UserInputError):
    """A class key that the active taxonomy scheme does not define."""
