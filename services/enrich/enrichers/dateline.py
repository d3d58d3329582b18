"""The dateline parsed by ingest (agency, place, date), reported as a field."""

from __future__ import annotations

from typing import ClassVar

from shared.models import DatelineField

from ..analysis.doc import Doc
from .base import Fields

__all__ = ["DatelineEnricher"]

_METHOD = "newsflow.dateline"


class DatelineEnricher:
    name: ClassVar[str] = "dateline"
    provides: ClassVar[tuple[str, ...]] = ("dateline",)
    requires: ClassVar[tuple[str, ...]] = ()

    def enrich(self, docs: list[Doc]) -> list[Fields]:
        out: list[Fields] = []
        for doc in docs:
            d = doc.article.dateline
            if d is None:
                reason = "no dateline found"
                out.append({"dateline": DatelineField.unavailable(_METHOD, "1", reason, agency=None, date=None)})
            else:
                dateline = DatelineField(
                    raw=d.raw, agency=d.agency, location=d.location, date=d.date, method=_METHOD, version="1"
                )
                out.append({"dateline": dateline})
        return out
