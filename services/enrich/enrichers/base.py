"""The enricher interface: adding an enricher is adding one module.

An enricher takes a batch of :class:`Doc` and returns, for each doc, the
fields it computed. Every field payload carries ``method`` and ``version``
(:func:`field` builds one), so each value in ``news.enriched`` says what
produced it. Enrichers run in registry order; a later enricher can read what
an earlier one put in ``doc.fields`` (for example the detected language) and
share expensive work through ``doc.cache`` (for example a spaCy ``Doc``).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, ClassVar, Protocol, runtime_checkable

from shared.models import Article

__all__ = ["Doc", "Enricher", "field", "unavailable"]


@dataclass
class Doc:
    """One article going through the enrichers."""

    article: Article
    fields: dict[str, dict[str, Any]] = dc_field(default_factory=dict)
    cache: dict[str, Any] = dc_field(default_factory=dict)

    @property
    def text(self) -> str:
        """Headline and body, the text most enrichers read."""
        return f"{self.article.title}\n\n{self.article.body}" if self.article.title else self.article.body

    @property
    def language(self) -> str | None:
        """The ISO 639-1 code the article is processed in (the ``language`` field's ``code``), once decided."""
        lang = self.fields.get("language", {})
        return lang.get("code") if lang else None


def field(method: str, version: str, **values: Any) -> dict[str, Any]:
    """An enrichment field payload: its values plus which method produced it."""
    return {**values, "method": method, "version": version}


def unavailable(method: str, version: str, reason: str, **values: Any) -> dict[str, Any]:
    """A field that could not be computed: null value plus the reason."""
    return {"value": None, **values, "method": method, "version": version, "reason": reason}


@runtime_checkable
class Enricher(Protocol):
    """What the enrich service calls. ``provides`` names the fields it writes."""

    name: ClassVar[str]
    provides: ClassVar[tuple[str, ...]]

    def enrich(self, docs: list[Doc]) -> list[dict[str, dict[str, Any]]]:
        """Return one ``{field_name: payload}`` dict per doc, in order."""
        ...
