"""The base of the one exception family users read (``assistant/errors.py`` adds the rest).

It lives here, under the agents' interface, so that agents and model backends raise the same
errors without importing the application."""

from __future__ import annotations


class OpenbookError(Exception):
    """Base class for errors shown to users: a message for people and, where there is one, the
    next thing to try (``hint``)."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message
