"""Split a plain-text wire story into headline, dateline and body (:func:`split_wire_story`).

Wire stories arrive as a headline line, then a dateline line
(``AFP , Sunday 14 Apr 2024``) and the body; the dateline may instead start
the first paragraph (``WASHINGTON (Reuters) - ...``), in which case it is
stripped from the body. The grammar is :mod:`services.ingest.datelines`.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import NamedTuple

from shared.models import Dateline

from .boilerplate import normalize_clean_body
from .datelines import MAX_DATELINE_CHARS, match_dateline_prefix, parse_dateline
from .text import SENTENCE_ENDINGS, clean_text, normalize_title

__all__ = ["WireStory", "split_wire_story"]


def _merge_datelines(found: list[Dateline]) -> Dateline | None:
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    return Dateline(
        raw="\n".join(d.raw for d in found),
        agency=next((d.agency for d in found if d.agency), None),
        location=next((d.location for d in found if d.location), None),
        date=next((d.date for d in found if d.date), None),
    )


class WireStory(NamedTuple):
    """A wire story split into its parts (unpacks as ``title, dateline, body``)."""

    title: str
    dateline: Dateline | None
    body: str


_MAX_TITLE_CHARS = 300


def split_wire_story(
    text: str, *, reference: date | None = None, has_headline: bool = True, precleaned: bool = False
) -> WireStory:
    """Split a plain-text article into headline, dateline and body.

    - The first line is the headline when more text follows, it is at most
      300 characters, it is not itself a dateline, and the next line does not
      continue its sentence (start in lower case after a line without final
      punctuation). Otherwise the title is ``""`` and everything is body.
    - Up to two following lines that :func:`parse_dateline` accepts (for
      example a byline and a dateline) form the dateline.
    - A dateline at the start of the first body paragraph
      (:func:`match_dateline_prefix`) is stripped from the body and merged in.
    - The title is normalised with :func:`normalize_title` and the body with
      :func:`~services.ingest.boilerplate.normalize_body` (paragraphs, chrome and captions removed).

    ``reference`` (usually the publication date) dates a dateline without a
    year. With ``has_headline=False`` (a body whose title came separately) no
    line is taken as the headline and the title is ``""``. ``precleaned=True``
    says ``text`` already is :func:`clean_text` output (not cleaned again).
    """
    lines = (text if precleaned else clean_text(text)).split("\n")
    title = ""
    start = 0
    first = lines[0]
    following = next((line for line in lines[1:] if line), "")
    if (
        has_headline
        and following
        and len(first) <= _MAX_TITLE_CHARS
        and not (following[:1].islower() and not first.endswith(SENTENCE_ENDINGS))
        and not first.endswith((",", "-"))
        and _line_dateline(first, reference) is None
    ):
        title, start = first, 1
    found: list[Dateline] = []
    index = start
    while index < len(lines) and len(found) < 2:
        line = lines[index]
        if line:
            dateline = _line_dateline(line, reference)
            if dateline is None:
                break
            found.append(dateline)
        index += 1
    body = "\n".join(lines[index:]).strip()
    prefixed, rest = match_dateline_prefix(body, reference=reference)
    if prefixed is not None:
        found.append(prefixed)
        body = clean_text(rest)
    elif not unicodedata.is_normalized("NFC", body):
        # whole lines of clean_text output are their own clean_text unless removed control characters
        # left a letter before a combining mark (not NFC): only then does cleaning again change them
        body = clean_text(body)
    return WireStory(normalize_title(title), _merge_datelines(found), normalize_clean_body(body))


def _line_dateline(line: str, reference: date | None) -> Dateline | None:
    """:func:`parse_dateline` of one line of :func:`clean_text` output, skipping lines too long to be one."""
    return None if len(line) > MAX_DATELINE_CHARS else parse_dateline(line, reference=reference)
