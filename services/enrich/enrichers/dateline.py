"""The dateline parsed by ingest (agency, place, date), reported as a field."""

from __future__ import annotations

from typing import Any, ClassVar

from ..analysis.doc import Doc
from .base import field, unavailable

__all__ = ["DatelineEnricher"]


class DatelineEnricher:
    name: ClassVar[str] = "dateline"
    provides: ClassVar[tuple[str, ...]] = ("dateline",)
    requires: ClassVar[tuple[str, ...]] = ()

    def enrich(self, docs: list[Doc]) -> list[dict[str, dict[str, Any]]]:
        out = []
        for doc in docs:
            d = doc.article.dateline
            if d is None:
                out.append(
                    {"dateline": unavailable("newsflow.dateline", "1", "no dateline found", agency=None, date=None)}
                )
            else:
                out.append(
                    {
                        "dateline": field(
                            "newsflow.dateline",
                            "1",
                            raw=d.raw,
                            agency=d.agency,
                            location=d.location,
                            date=d.date.isoformat() if d.date else None,
                        )
                    }
                )
        return out
