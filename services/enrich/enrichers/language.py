"""Language identification with py3langid (ISO 639-1 code + confidence)."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any, ClassVar

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from .base import Doc, field, unavailable

__all__ = ["LanguageEnricher"]

_VERSION = version("py3langid")


class LanguageEnricher:
    name: ClassVar[str] = "language"
    provides: ClassVar[tuple[str, ...]] = ("language",)

    def __init__(self) -> None:
        self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

    def enrich(self, docs: list[Doc]) -> list[dict[str, dict[str, Any]]]:
        out = []
        for doc in docs:
            text = doc.text
            if not text.strip():
                out.append({"language": unavailable("py3langid", _VERSION, "no text", code=None)})
                continue
            code, prob = self._identifier.classify(text[:5000])
            out.append({"language": field("py3langid", _VERSION, code=code, confidence=round(float(prob), 4))})
        return out
