"""Word count and reading time."""

from __future__ import annotations

from typing import ClassVar

import regex

from shared.models import ReadingTimeField, WordCountField

from ..analysis.doc import Doc
from .base import Fields

__all__ = ["ReadabilityEnricher", "count_words"]

_WORD = regex.compile(r"\b[\p{L}\p{N}][\p{L}\p{N}'’\-]*\b")
WORDS_PER_MINUTE = 230  # adult silent reading of non-fiction (Brysbaert 2019: 238)


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


class ReadabilityEnricher:
    name: ClassVar[str] = "readability"
    provides: ClassVar[tuple[str, ...]] = ("word_count", "reading_time")
    requires: ClassVar[tuple[str, ...]] = ()

    def enrich(self, docs: list[Doc]) -> list[Fields]:
        out: list[Fields] = []
        for doc in docs:
            words = count_words(doc.article.body)
            minutes = words / WORDS_PER_MINUTE
            out.append(
                {
                    "word_count": WordCountField(value=words, method="regex-words", version="1"),
                    "reading_time": ReadingTimeField(
                        seconds=round(minutes * 60), minutes=max(1, round(minutes)),
                        method=f"words/{WORDS_PER_MINUTE}wpm", version="1",
                    ),
                }
            )  # fmt: skip
        return out
