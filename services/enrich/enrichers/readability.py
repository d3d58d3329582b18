"""Word count and reading time."""

from __future__ import annotations

from typing import Any, ClassVar

import regex

from ..analysis.doc import Doc
from .base import field

__all__ = ["ReadabilityEnricher", "count_words"]

_WORD = regex.compile(r"\b[\p{L}\p{N}][\p{L}\p{N}'’\-]*\b")
WORDS_PER_MINUTE = 230  # adult silent reading of non-fiction (Brysbaert 2019: 238)


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


class ReadabilityEnricher:
    name: ClassVar[str] = "readability"
    provides: ClassVar[tuple[str, ...]] = ("word_count", "reading_time")
    requires: ClassVar[tuple[str, ...]] = ()

    def enrich(self, docs: list[Doc]) -> list[dict[str, dict[str, Any]]]:
        out = []
        for doc in docs:
            words = count_words(doc.article.body)
            minutes = words / WORDS_PER_MINUTE
            out.append(
                {
                    "word_count": field("regex-words", "1", value=words),
                    "reading_time": field(
                        f"words/{WORDS_PER_MINUTE}wpm", "1", seconds=round(minutes * 60), minutes=max(1, round(minutes))
                    ),
                }
            )
        return out
