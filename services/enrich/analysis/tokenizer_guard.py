"""Linear-time tokenizing of long runs without whitespace.

spaCy's tokenizer strips prefixes and suffixes from a whitespace-free chunk one at a time, searching the
rest of the chunk again after each one: a chunk of ``n`` punctuation marks (``&&&...``, ``!!!...``,
``(((...``) costs O(n²) (20,000 ``&`` took about 100 s, issue #11). :func:`guard_tokenizer` makes any
chunk of :data:`MAX_CHUNK` or more non-space characters one token, before the affix loop starts: no word,
name or number is that long, so real text tokenizes as before, and the work is linear in the input.
"""

from __future__ import annotations

from collections.abc import Callable

import regex
from spacy.language import Language

__all__ = ["MAX_CHUNK", "guard_tokenizer"]

#: Whitespace-free chunks at least this long are one token (URLs included: spaCy keeps those whole too).
MAX_CHUNK = 100
_LONG = regex.compile(rf"\S{{{MAX_CHUNK},}}")


def guard_tokenizer(nlp: Language) -> Language:
    """Give ``nlp``'s tokenizer a ``token_match`` that keeps long whitespace-free chunks whole (see the
    module doc), besides the pipeline's own ``token_match``. Returns ``nlp``."""
    tokenizer = nlp.tokenizer
    own: Callable[[str], object] | None = getattr(tokenizer, "token_match", None)
    if getattr(own, "_newsflow_guard", False):
        return nlp

    def token_match(text: str) -> object:
        if len(text) >= MAX_CHUNK and _LONG.fullmatch(text):
            return True
        return own(text) if own is not None else None

    token_match._newsflow_guard = True  # type: ignore[attr-defined]  # a marker attribute on the function, for the tests
    tokenizer.token_match = token_match  # type: ignore[union-attr]  # nlp.tokenizer is a spaCy Tokenizer here
    return nlp
