"""Refusals a user can act on, carrying a catalogue key instead of an English sentence.

The domain raises them; a page shows ``exc.message(lang)`` next to the field named by
``exc.field``. Nothing here knows about Streamlit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from minqing import i18n


@dataclass(frozen=True)
class Label:
    """A parameter that is itself a catalogue key (e.g. ``status.closed``), translated on display."""

    key: str


class DomainError(Exception):
    """A rule refused the request; ``key`` names the catalogue message, ``field`` the input at fault."""

    def __init__(self, key: str, *, field: str | None = None, **params: object) -> None:
        self.key = key
        self.field = field
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str = i18n.DEFAULT_LANG, *,
                quote: Callable[[object], object] = lambda value: value) -> str:
        """The refusal in ``lang``, with any :class:`Label` parameters translated too.

        ``quote`` is applied to the other parameters (values a user typed or a link carried):
        a page passes its markdown quoting so they show as typed.
        """
        params = {
            name: i18n.t(value.key, lang) if isinstance(value, Label) else quote(value)
            for name, value in self.params.items()
        }
        return i18n.t(self.key, lang, **params)


class InputError(DomainError):
    """A field is missing or malformed."""


class RuleError(DomainError):
    """The move is not allowed from the record's current state."""


class NotFoundError(DomainError):
    """The record does not exist or lies outside the caller's scope."""


class ConflictError(DomainError):
    """Someone else saved the record after the caller read it: reload and re-apply."""


class StoreError(DomainError):
    """The database stayed busy or unreachable through the retries; nothing was written, so the
    user's input is still theirs to send again (``store.busy`` / ``store.unreachable``)."""
