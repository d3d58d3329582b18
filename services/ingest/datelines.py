"""The dateline and byline grammar of wire stories: ``AFP , Sunday 14 Apr 2024``, ``WASHINGTON (Reuters) -``.

:func:`parse_dateline` is strict: a line is a dateline only when all of it
fits one of the documented forms. :func:`match_dateline_prefix` finds one
that starts a paragraph (``WASHINGTON (Reuters) - ...``), :func:`parse_byline`
splits ``By Jane Doe, AP`` into names and agency. Pure: compiled regexes and
``dateutil``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

import regex
from dateutil import parser as _dateparser

from shared.models import Dateline

from .text import clean_text

__all__ = [
    "KNOWN_AGENCIES",
    "MAX_DATELINE_CHARS",
    "match_dateline_prefix",
    "parse_byline",
    "parse_dateline",
]

KNOWN_AGENCIES: frozenset[str] = frozenset(
    {
        "ap", "afp", "reuters", "epa", "efe", "xinhua", "anadolu", "anadolu agency", "dpa", "ansa", "kyodo",
        "yonhap", "tass", "ria novosti", "upi", "pa", "pa media", "aap", "cp", "the canadian press", "bloomberg",
        "mena", "wafa", "wam", "spa", "qna", "kuna", "irna", "isna", "tasnim", "ahram online", "al-ahram",
        "associated press", "the associated press", "agence france-presse", "agence france presse", "cnn", "bbc",
    }
)  # fmt: skip
"""Lower-cased names of news agencies, used to tell ``By Jane Doe, AP`` (an agency) from a job title."""

_MONTH = (
    r"(?i:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
_WEEKDAY = (
    r"(?i:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
    r"|Mon|Tues|Tue|Wed|Thurs|Thur|Thu|Fri|Sat|Sun)\.?"
)
_DATE_CORE = (
    rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?![\w])"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?!\d))"
)
_DATE = rf"(?:{_WEEKDAY},?\s+)?(?P<date>{_DATE_CORE})"
_DATE_FULL_CORE = (
    rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2})"
)
_DATE_FULL = rf"(?:{_WEEKDAY},?\s+)?(?P<date>{_DATE_FULL_CORE})"
_NAME_WORD = r"[\p{Lu}\p{N}][\p{L}\p{M}\p{N}&.'’-]*"
_NAME = rf"{_NAME_WORD}(?:\s+(?:{_NAME_WORD}|&|and|of|de|du|al|el))*"
_PERSON = (
    r"\p{Lu}[\p{L}\p{M}.'’-]*"
    r"(?:\s+(?:\p{Lu}[\p{L}\p{M}.'’-]*|de|van|von|der|den|da|di|dos|al|el|bin|ben|le|la|du))*"
)
_CAPS_PLACE = r"\p{Lu}[\p{Lu}\p{M}.'’ -]*?\p{Lu}\.?"
_TITLE_PLACE = r"\p{Lu}[\p{L}\p{M}.'’-]*(?:\s+\p{Lu}[\p{L}\p{M}.'’-]*){0,3}"
_REGION = r"\p{Lu}[\p{L}\p{M}.'’-]*(?:\s+\p{Lu}[\p{L}\p{M}.'’-]*){0,2}"
_SEP = r"(?:\s*(?:--|[–—])\s*|\s+-\s+)"
_FIRST_WORD_NOT_AGENCY = frozenset({"in", "on", "at", "from", "for", "since", "until", "as", "by", "to", "after"})

# "AFP , Sunday 14 Apr 2024", "Ahram Online , Monday 3 Jun 2024", "Reuters, Cairo, 14 April 2024"
_AGENCY_DATE_LINE = regex.compile(
    rf"^(?P<agency>{_NAME})\s*[,|/]\s*(?:(?P<location>{_TITLE_PLACE})\s*,\s*)?{_DATE_FULL}\s*\.?$"
)
# "Sunday 14 Apr 2024, AFP"
_DATE_AGENCY_LINE = regex.compile(rf"^{_DATE_FULL}\s*[,|/]\s*(?P<agency>{_NAME})$")
# "2024-04-14", "Sunday 14 Apr 2024"
_DATE_LINE = regex.compile(rf"^{_DATE_FULL}\s*\.?$")
# "By Jane Doe, AP", "By Jane Doe and John Roe"
_BYLINE_LINE = regex.compile(rf"^(?i:by)\s+{_PERSON}(?:\s*(?:,|and|&)\s*{_PERSON})*$")
# "WASHINGTON (Reuters) -", "PARIS, April 14 (AFP) -", "Washington (CNN) —", "GAZA CITY, Gaza Strip (AP) —"
_AGENCY_PREFIX = (
    rf"(?P<location>{_TITLE_PLACE}(?:,\s*{_REGION})?)(?:,\s*{_DATE})?\s*"
    rf"\((?P<agency>\p{{Lu}}[\p{{L}}\p{{N}}&.' -]{{0,30}})\)"
)
# "LONDON — ", "LONDON, April 14 — "
_CAPS_PREFIX = rf"(?P<location>{_CAPS_PLACE}(?:,\s*{_REGION})?)(?:,\s*{_DATE})?"
_AGENCY_PREFIX_START = regex.compile(rf"^{_AGENCY_PREFIX}\s*(?:--|[-–—:])\s*")
_CAPS_PREFIX_START = regex.compile(rf"^{_CAPS_PREFIX}{_SEP}")
_AGENCY_PREFIX_LINE = regex.compile(rf"^{_AGENCY_PREFIX}\s*(?:(?:--|[-–—:])\s*)?$")
_CAPS_PREFIX_LINE = regex.compile(rf"^{_CAPS_PREFIX}\s*(?P<dash>--|[-–—])?$")
MAX_DATELINE_CHARS = 120
"""The longest line :func:`parse_dateline` accepts (a longer one is body text)."""
_ORDINAL_RE = re.compile(r"(?<=\d)(?:st|nd|rd|th)\b")


@lru_cache(maxsize=4096)
def _to_date(text: str, reference: date | None) -> date | None:
    """Parse a date matched by the dateline patterns; a date without a year needs ``reference``."""
    text = _ORDINAL_RE.sub("", text)
    has_year = re.search(r"\d{4}", text) is not None
    if not has_year and reference is None:
        return None
    default = datetime(reference.year if reference else 2000, 1, 1)
    try:
        parsed = _dateparser.parse(text, default=default).date()
    except (ValueError, OverflowError):
        return None
    if not has_year and reference is not None and parsed > reference + timedelta(days=2):
        try:
            parsed = parsed.replace(year=parsed.year - 1)
        except ValueError:
            return None
    return parsed


def _plausible_agency_prefix(match: regex.Match[str]) -> bool:
    """``WASHINGTON (Reuters)`` or ``Washington (CNN)``, not ``Apple (AAPL)``: an upper-case place or a known agency."""
    place = match["location"].split(",", 1)[0]
    return place.isupper() or match["agency"].strip().lower() in KNOWN_AGENCIES


def _good_agency(name: str) -> bool:
    first = name.split(None, 1)[0].lower()
    return first not in _FIRST_WORD_NOT_AGENCY and len(name.split()) <= 5


def _dateline(raw: str, match: regex.Match[str], reference: date | None) -> Dateline:
    groups = match.groupdict()
    found_agency = groups.get("agency")
    location = groups.get("location")
    date_text = groups.get("date")
    return Dateline(
        raw=raw,
        agency=found_agency.strip() if found_agency else None,
        location=location.strip() if location else None,
        date=_to_date(date_text, reference) if date_text else None,
    )


def parse_byline(text: str) -> tuple[tuple[str, ...], str | None]:
    """Split a byline into (author names, agency).

    ``"By Jane Doe, AP"`` gives ``(("Jane Doe",), "AP")``; ``"By Jane Doe and
    John Roe"`` gives both names and no agency; ``"Jane Doe; John Roe"`` (as
    trafilatura writes authors) gives both names. Segments that are known
    agencies (:data:`KNOWN_AGENCIES`) become the agency; job titles
    ("Staff Writer") and segments that do not look like names are dropped.
    """
    text = clean_text(text).replace("\n", " ")
    text = regex.sub(r"^(?i:by)\s+", "", text)
    names: list[str] = []
    agency: str | None = None
    for part in regex.split(r"\s*(?:[,;|/]|\band\b|&)\s*", text):
        part = part.strip(" .")
        if not part:
            continue
        if part.lower() in KNOWN_AGENCIES:
            agency = agency or part
            continue
        words = part.split()
        if not 1 <= len(words) <= 5 or any(ch.isdigit() for ch in part):
            continue
        if not words[0][:1].isupper() or not words[-1][:1].isupper():
            continue
        if {w.lower() for w in words} & _ROLE_WORDS:
            continue
        if part not in names:
            names.append(part)
    return tuple(names), agency


_ROLE_WORDS = frozenset(
    {"staff", "writer", "reporter", "correspondent", "editor", "contributor", "bureau", "desk", "news", "online"}
)


def parse_dateline(text: str, *, reference: date | None = None) -> Dateline | None:
    """Parse a whole line as a dateline, or return ``None`` if it is not one.

    Accepted forms (the whole line must fit, at most 120 characters):

    - ``AFP , Sunday 14 Apr 2024`` / ``Ahram Online , Monday 3 Jun 2024`` /
      ``Reuters, Cairo, 14 April 2024``: agency, optional place, full date;
    - ``Sunday 14 Apr 2024, AFP``, or a date alone (``2024-04-14``);
    - ``WASHINGTON (Reuters) -``, ``PARIS, April 14 (AFP) -``,
      ``Washington (CNN) —``: place, optional date, agency in parentheses;
    - ``LONDON —`` / ``LONDON, April 14``: an upper-case place with a dash or a date;
    - ``By Jane Doe, AP``: a byline, whose agency (if a known one) is kept.

    Dates: ``Sunday 14 Apr 2024``, ``April 14, 2024``, ``14 April 2024``,
    ``2024-04-14`` (English month names); a date without a year (``April 14``)
    gets the year that puts it on or before ``reference`` (+2 days), or no date
    without a reference. An agency name is 1-5 capitalised words. Ordinary
    sentences do not fit these forms.
    """
    line = " ".join(text.split())
    if not line or len(line) > MAX_DATELINE_CHARS or "\n" in text.strip():
        return None
    if (match := _AGENCY_DATE_LINE.match(line)) and _good_agency(match["agency"]):
        dateline = _dateline(line, match, reference)
        return dateline if dateline.date else None
    if (match := _DATE_AGENCY_LINE.match(line)) and _good_agency(match["agency"]):
        dateline = _dateline(line, match, reference)
        return dateline if dateline.date else None
    if match := _DATE_LINE.match(line):
        dateline = _dateline(line, match, reference)
        return dateline if dateline.date else None
    if (match := _AGENCY_PREFIX_LINE.match(line)) and _plausible_agency_prefix(match):
        return _dateline(line, match, reference)
    if (match := _CAPS_PREFIX_LINE.match(line)) and (match["dash"] or match["date"]):
        return _dateline(line, match, reference)
    if match := _BYLINE_LINE.match(line):
        names, agency = parse_byline(line)
        if names:
            return Dateline(raw=line, agency=agency)
    return None


def match_dateline_prefix(paragraph: str, *, reference: date | None = None) -> tuple[Dateline | None, str]:
    """Find a dateline that starts ``paragraph``; return it and the paragraph without it.

    Forms: ``WASHINGTON (Reuters) - ...``, ``PARIS, April 14 (AFP) - ...``,
    ``Washington (CNN) — ...``, ``LONDON — ...``, ``LONDON, April 14 — ...``
    (a place must be upper case unless the agency is a known one, and a place
    without an agency must be followed by a dash).
    Returns ``(None, paragraph)`` when there is none.
    """
    head = paragraph[: MAX_DATELINE_CHARS + 20]
    match = _AGENCY_PREFIX_START.match(head)
    if match is not None and not _plausible_agency_prefix(match):
        match = None
    match = match or _CAPS_PREFIX_START.match(head)
    if match is None or match.end() >= len(paragraph):
        return None, paragraph
    raw = regex.sub(r"[\s\-–—:]+$", "", match[0])
    return _dateline(raw, match, reference), paragraph[match.end() :]
