"""The ``quotes`` field: direct quotes with their speaker (the full entity name) and verb.

The finding and attribution are :mod:`services.enrich.analysis.quotes`; each
quote is listed with its text, speaker and speaker type, verb, ``partial``,
``resolution`` (which rule gave the speaker; null with no speaker) and where
it is (``at``: title or body offsets).
"""

from __future__ import annotations

from typing import ClassVar

from shared.models import QuoteItem, QuotesField

from ..analysis.doc import Doc
from ..analysis.entities import method_of
from ..analysis.nlp import SpacyPool
from ..analysis.quotes import VERSION, quotes_of
from .base import Fields

__all__ = ["QuotesEnricher"]


class QuotesEnricher:
    """Direct quotes with resolved speakers (see the module doc)."""

    name: ClassVar[str] = "quotes"
    provides: ClassVar[tuple[str, ...]] = ("quotes",)
    requires: ClassVar[tuple[str, ...]] = ("language",)

    def __init__(self, pool: SpacyPool) -> None:
        self._pool = pool

    def enrich(self, docs: list[Doc]) -> list[Fields]:
        self._pool.parse(docs)
        out: list[Fields] = []
        for doc in docs:
            method, version = method_of(doc.model)
            method, version = f"quote-marks+{method}", f"{VERSION}/{version}"
            ents = doc.entities
            if ents is None:
                reason = f"no spaCy model for language {doc.processing_language!r} to resolve speakers"
                out.append({"quotes": QuotesField.unavailable(method, version, reason)})
                continue
            value = [
                QuoteItem(
                    text=q.text,
                    speaker=q.speaker.name if q.speaker else None,
                    speaker_type=q.speaker.type if q.speaker else None,
                    verb=q.verb,
                    partial=q.partial,
                    resolution=q.resolution if q.speaker else None,
                    at=doc.locate(q.start, q.end),
                )
                for q in quotes_of(doc, ents)
            ]
            out.append({"quotes": QuotesField(value=value, method=method, version=version)})
        return out
