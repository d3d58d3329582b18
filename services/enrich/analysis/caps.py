"""Input caps applied before the NLP libraries, so their work per article is bounded by its size.

- :func:`cap_sentences`: yake-rust's tokenizer (segtok) panics with ``BacktrackLimitExceeded``
  on a very long sentence (a 60,000-word one). A sentence longer than :data:`MAX_SENTENCE_CHARS`
  gets a paragraph break at a space every so often (only for the text handed to YAKE).

:func:`cap_sentences` does not keep the text's length. (spaCy's tokenizer, quadratic in a long run of
punctuation without whitespace, is bounded where it runs: :mod:`services.enrich.analysis.tokenizer_guard`.)
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["MAX_SENTENCE_CHARS", "cap_sentences"]

MAX_SENTENCE_CHARS: Final = 2_000
"""Longest stretch without a sentence end or a line break handed to YAKE."""

_SENTENCE_END_RE = re.compile(r"[.!?…]\s|\n")


def cap_sentences(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> str:
    """``text`` with a paragraph break (``"\\n\\n"``: segtok does not split at a single one) in place of a
    space wherever ``max_chars`` pass without a sentence end. The result is longer than ``text``: use it
    only where no offsets are taken (YAKE's phrases are looked up in the original text).

    A stretch with no space to break at (a run of punctuation) is left as it is: it holds no words.
    """
    out: list[str] = []
    last = 0
    for match in _SENTENCE_END_RE.finditer(text):
        out.append(_break(text[last : match.end()], max_chars))
        last = match.end()
    out.append(_break(text[last:], max_chars))
    return "".join(out)


def _break(chunk: str, max_chars: int) -> str:
    if len(chunk) <= max_chars:
        return chunk
    parts: list[str] = []
    start = 0
    while len(chunk) - start > max_chars:
        space = chunk.rfind(" ", start + 1, start + max_chars + 1)
        if space < 0:
            space = chunk.find(" ", start + max_chars + 1)
            if space < 0:
                break
        parts.append(chunk[start:space])
        start = space + 1
    parts.append(chunk[start:])
    return "\n\n".join(parts)
