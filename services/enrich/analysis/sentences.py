"""Sentence boundaries for wire copy: a spaCy component, no statistical model.

:class:`~services.enrich.analysis.nlp.SpacyPool` adds :data:`COMPONENT` to
every pipeline it loads (first, before the NER); the sentences it marks are
:attr:`Doc.sentences <services.enrich.analysis.doc.Doc.sentences>`.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np
import regex
from spacy.attrs import IDX, LENGTH, SENT_START, SPACY
from spacy.language import Language
from spacy.tokens import Doc as SpacyDoc

__all__ = ["COMPONENT", "TEXT_KEY", "doc_text"]

#: The name the splitter is registered under (``nlp.add_pipe(COMPONENT)``).
COMPONENT = "newsflow_sentences"
#: The ``Doc.user_data`` key of the text a spaCy doc was made from (set by
#: :meth:`SpacyPool.parse <services.enrich.analysis.nlp.SpacyPool.parse>`, or by :func:`doc_text`).
TEXT_KEY = "newsflow.text"

_ENDERS = frozenset({".", "!", "?", "…", "...", "?!", "!?"})
_OPENERS = frozenset({"“", "«", "„", "‘"})
_ALWAYS_CLOSE = frozenset({"”", "»", ")", "]"})
_AMBIGUOUS_QUOTES = frozenset({'"', "'", "’"})
# a character of an ender or of a line break: the tokens that hold one are the only ones that can start a sentence
_MARKS = regex.compile(r"[.!?…\n]")


def doc_text(sdoc: SpacyDoc) -> str:
    """``sdoc.text``, without re-joining it: spaCy's ``Doc.text`` joins every token (a Python ``Token`` each)
    on each call. The text is ``sdoc.user_data[TEXT_KEY]`` when the doc's maker stored it there, else it is
    joined once and stored."""
    text = sdoc.user_data.get(TEXT_KEY)
    if not isinstance(text, str):
        text = sdoc.user_data[TEXT_KEY] = sdoc.text
    return text


@Language.component(COMPONENT)
def _sentences(doc: SpacyDoc) -> SpacyDoc:
    """Split sentences for wire copy, without a statistical model.

    A sentence starts at every line break (headline, paragraphs) and after
    ``.``, ``!``, ``?`` or an ellipsis when the next word is not lowercase.
    Closing quotes and brackets stay with the sentence they close: ``”``,
    ``»`` (even after a space, French style) and a straight quote glued to
    the previous token; a straight quote after a space opens the next one.

    Only the tokens that can matter are visited: those holding a line break or a
    sentence-ending mark (found in the text, mapped to tokens by character offset)
    and the few after each; a token is read as a slice of the text, with no spaCy
    ``Token`` made. The boundaries are written with one ``Doc.from_array`` call:
    setting ``Token.is_sent_start`` token by token re-checks the whole document each
    time (about 1 ms per article).
    """
    n = len(doc)
    if not n:
        return doc
    text = doc_text(doc)
    arrays = doc.to_array([IDX, LENGTH, SPACY])
    starts: list[int] = arrays[:, 0].tolist()
    ends: list[int] = (arrays[:, 0] + arrays[:, 1]).tolist()
    spaced: list[int] = arrays[:, 2].tolist()  # 1: the token is followed by a space (its whitespace_)
    flags = np.full(n, -1, dtype=np.int64)  # SENT_START: 1 starts a sentence, -1 does not
    flags[0] = 1

    def token(i: int) -> str:
        return text[starts[i] : ends[i]]

    def line_break(i: int) -> bool:  # a whitespace token holding a line break
        t = token(i)
        return "\n" in t and t.isspace()

    for i in sorted({bisect_right(starts, m.start()) - 1 for m in _MARKS.finditer(text)} - {-1}):
        t = token(i)
        if line_break(i):
            if i + 1 < n:
                flags[i + 1] = 1
            continue
        if t not in _ENDERS:
            continue
        # after an ender: closing marks, more enders and spaces stay in the sentence; the next other token
        # starts one unless it is lowercase; a line break (flagged above) starts one anyway
        for j in range(i + 1, n):
            if line_break(j - 1):
                break
            t = token(j)
            prev_glued = not spaced[j - 1] and not token(j - 1).isspace()
            closing = t in _ALWAYS_CLOSE or (t in _AMBIGUOUS_QUOTES and prev_glued)
            if t in _ENDERS:
                break  # the rest is this ender's own walk (each token is walked at most once: linear)
            if closing or t.isspace():
                continue
            if not t[:1].islower():
                flags[j] = 1
            break
    # spaCy reads attribute arrays as uint64
    doc.from_array([SENT_START], flags.astype(np.uint64).reshape(-1, 1))  # type: ignore[arg-type]  # Ints2d: numpy
    return doc
