"""Sentence boundaries for wire copy: a spaCy component, no statistical model.

:class:`~services.enrich.analysis.nlp.SpacyPool` adds :data:`COMPONENT` to
every pipeline it loads (first, before the NER); the sentences it marks are
:attr:`Doc.sentences <services.enrich.analysis.doc.Doc.sentences>`.
"""

from __future__ import annotations

import numpy as np
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc as SpacyDoc

__all__ = ["COMPONENT"]

#: The name the splitter is registered under (``nlp.add_pipe(COMPONENT)``).
COMPONENT = "newsflow_sentences"

_ENDERS = frozenset({".", "!", "?", "…", "...", "?!", "!?"})
_OPENERS = frozenset({"“", "«", "„", "‘"})
_ALWAYS_CLOSE = frozenset({"”", "»", ")", "]"})
_AMBIGUOUS_QUOTES = frozenset({'"', "'", "’"})


@Language.component(COMPONENT)
def _sentences(doc: SpacyDoc) -> SpacyDoc:
    """Split sentences for wire copy, without a statistical model.

    A sentence starts at every line break (headline, paragraphs) and after
    ``.``, ``!``, ``?`` or an ellipsis when the next word is not lowercase.
    Closing quotes and brackets stay with the sentence they close: ``”``,
    ``»`` (even after a space, French style) and a straight quote glued to
    the previous token; a straight quote after a space opens the next one.

    The boundaries are written with one ``Doc.from_array`` call: setting
    ``Token.is_sent_start`` token by token re-checks the whole document each
    time (about 1 ms per article).
    """
    if not len(doc):
        return doc
    flags = np.full(len(doc), -1, dtype=np.int64)  # SENT_START: 1 starts a sentence, -1 does not
    flags[0] = 1
    seen_end = False
    prev_text, prev_ws, prev_space = "", "", False
    for i, tok in enumerate(doc):
        text, ws = tok.text, tok.whitespace_
        space = text.isspace()
        if i == 0:
            pass
        elif prev_space and "\n" in prev_text:
            flags[i] = 1
            seen_end = False
        elif seen_end:
            closing = text in _ALWAYS_CLOSE or (text in _AMBIGUOUS_QUOTES and not prev_ws and not prev_space)
            if not (closing or text in _ENDERS or space):
                if not text[:1].islower():
                    flags[i] = 1
                seen_end = False
        if text in _ENDERS:
            seen_end = True
        prev_text, prev_ws, prev_space = text, ws, space
    # spaCy reads attribute arrays as uint64
    doc.from_array([SENT_START], flags.astype(np.uint64).reshape(-1, 1))  # type: ignore[arg-type]  # Ints2d: numpy
    return doc
