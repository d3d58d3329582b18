"""Input caps applied before the NLP libraries, so their work per article is bounded by its size.

- :func:`cap_token_runs`: spaCy's tokenizer is quadratic in the length of a run of punctuation
  without whitespace (20,000 ``&`` take about 30 s, 20,000 ``"`` about 45 s on this machine;
  the same characters in runs of 200 take about 1.3 s, linear in the token count). Every run
  of non-space characters is cut into runs of at most :data:`MAX_TOKEN_RUN` characters.
- :func:`cap_sentences`: yake-rust's tokenizer (segtok) panics with ``BacktrackLimitExceeded``
  on a very long sentence (a 60,000-word one). A sentence longer than :data:`MAX_SENTENCE_CHARS`
  gets a paragraph break at a space every so often (only for the text handed to YAKE).

Both keep a text's length only where said: :func:`cap_token_runs` does (offsets into its result
are offsets into the original), :func:`cap_sentences` does not.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["MAX_SENTENCE_CHARS", "MAX_TOKEN_RUN", "cap_sentences", "cap_token_runs"]

MAX_TOKEN_RUN: Final = 200
"""Longest run of non-whitespace characters handed to spaCy (URLs and compounds are shorter)."""
MAX_SENTENCE_CHARS: Final = 2_000
"""Longest stretch without a sentence end or a line break handed to YAKE."""

_LONG_RUN_RE = re.compile(rf"\S{{{MAX_TOKEN_RUN + 1},}}")
_SENTENCE_END_RE = re.compile(r"[.!?…]\s|\n")


def cap_token_runs(text: str, max_run: int = MAX_TOKEN_RUN) -> str:
    """``text`` with every ``max_run + 1``-th character of a longer whitespace-free run made a space
    (same length, so offsets into the result are offsets into ``text``)."""
    pattern = _LONG_RUN_RE if max_run == MAX_TOKEN_RUN else re.compile(rf"\S{{{max_run + 1},}}")

    def cut(match: re.Match[str]) -> str:
        chars = list(match[0])
        for k in range(max_run, len(chars), max_run + 1):
            chars[k] = " "
        return "".join(chars)

    return pattern.sub(cut, text)


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
