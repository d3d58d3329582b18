"""Why ingest refuses a raw record: a stable code and a message a person can act on.

:class:`RejectedInput` is raised by :func:`services.ingest.parsing.parse_raw`; the
ingest handler turns it into a ``news.dlq`` record (``error.code`` /
``error.message``). Codes are part of the contract: they are stable, lower-case
identifiers that operators filter and alert on. Messages may change wording.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "EMPTY",
    "HTML_NO_TEXT",
    "INVALID_FIELD",
    "INVALID_JSON",
    "INVALID_UTF8",
    "NOT_AN_OBJECT",
    "NO_TEXT",
    "REJECT_CODES",
    "TOO_LARGE",
    "TOO_SHORT",
    "UNKNOWN_SHAPE",
    "RejectedInput",
]

INVALID_UTF8: Final = "invalid_utf8"
"""The value is not valid UTF-8."""
EMPTY: Final = "empty"
"""No value (a tombstone), no bytes, or only whitespace."""
TOO_LARGE: Final = "too_large"
"""The value is over the configured size limit (``max_article_bytes``)."""
INVALID_JSON: Final = "invalid_json"
"""The value starts like a JSON object or array but is not valid JSON."""
NOT_AN_OBJECT: Final = "not_an_object"
"""Valid JSON that is not an object: an array, a number, a bool, null or a string literal."""
UNKNOWN_SHAPE: Final = "unknown_shape"
"""A JSON object with none of the fields that select an accepted shape (for example ``{}``)."""
INVALID_FIELD: Final = "invalid_field"
"""A field of an accepted shape has the wrong type or an unusable value (``{"body": 42}``)."""
NO_TEXT: Final = "no_text"
"""An accepted shape whose article text is empty after normalisation (``{"text": ""}``)."""
HTML_NO_TEXT: Final = "html_no_text"
"""HTML from which no main text could be extracted, or whose only text is navigation or boilerplate."""
TOO_SHORT: Final = "too_short"
"""Article text (headline and body) under the configured minimum of words (``min_article_words``)."""

REJECT_CODES: Final[frozenset[str]] = frozenset(
    {
        INVALID_UTF8,
        EMPTY,
        TOO_LARGE,
        INVALID_JSON,
        NOT_AN_OBJECT,
        UNKNOWN_SHAPE,
        INVALID_FIELD,
        NO_TEXT,
        HTML_NO_TEXT,
        TOO_SHORT,
    }
)


class RejectedInput(Exception):
    """A raw record that cannot become an article.

    ``code`` is one of :data:`REJECT_CODES`; ``message`` says what is wrong and
    what the sender can do about it. ``field`` names the offending field for
    ``invalid_field`` (else ``None``).
    """

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        if code not in REJECT_CODES:
            raise ValueError(f"unknown reject code {code!r}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field

    def __reduce__(self) -> tuple[object, ...]:  # picklable despite the keyword-only field
        return (_rebuild, (self.code, self.message, self.field))

    def __repr__(self) -> str:
        return f"RejectedInput(code={self.code!r}, message={self.message!r})"


def _rebuild(code: str, message: str, field: str | None) -> RejectedInput:
    return RejectedInput(code, message, field=field)
