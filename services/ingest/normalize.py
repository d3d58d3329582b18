"""Text normalisation for ingest: clean characters, keep paragraphs, drop site chrome, split wire stories.

Everything here is pure and fast (compiled regexes, no network, no models).

Display text vs comparison text:

- :func:`clean_text`, :func:`normalize_title` and :func:`normalize_body` produce
  the text people read. They never change letters, quotes or dashes except to
  close a curly quote opened with ``“`` and closed with a straight ``"``
  (:func:`fix_quote_pairs`).
- :func:`shared.textfold.fold_for_comparison` is the lossy form used only for
  fingerprints: it removes every quote, unifies dashes, case and spacing.

Wire stories (:func:`split_wire_story`) arrive as a headline line, then a
dateline line (``AFP , Sunday 14 Apr 2024``) and the body; the dateline may
instead start the first paragraph (``WASHINGTON (Reuters) - ...``), in which
case it is stripped from the body. :func:`parse_dateline` is strict: a line
is a dateline only when all of it fits one of the documented forms.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

import regex
from dateutil import parser as _dateparser

from shared.captions import is_photo_caption
from shared.models import Dateline

__all__ = [
    "KNOWN_AGENCIES",
    "WireStory",
    "clean_text",
    "fix_quote_pairs",
    "is_boilerplate",
    "match_dateline_prefix",
    "normalize_body",
    "normalize_title",
    "parse_byline",
    "parse_dateline",
    "split_paragraphs",
    "split_wire_story",
]

# ---------------------------------------------------------------------------
# characters and whitespace
# ---------------------------------------------------------------------------

# Line separators that become "\n" (U+2029 paragraph separator becomes a blank line).
_LINEBREAK_RE = re.compile("[\v\f\x85\u2028\u2029]")
_LINEBREAKS = {"\u2029": "\n\n"}
# C0/C1 controls (except \t and \n), BOM / zero-width no-break space, zero-width space,
# soft hyphen, word joiner, Mongolian vowel separator. ZWJ/ZWNJ and bidi marks are kept:
# they carry meaning in Arabic, Persian, Indic scripts and emoji.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f\ufeff\u200b\u00ad\u2060\u180e]")
# ASCII that none of the above touches: printable characters, tab and newline
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n"


def clean_text(text: str) -> str:
    """NFC-normalise, remove control characters and collapse whitespace, keeping line structure.

    Line endings become ``\\n``; runs of spaces, tabs and other horizontal
    whitespace become one space; lines are stripped; runs of blank lines
    become one blank line; the result is stripped. Single newlines are kept
    (see :func:`split_paragraphs` for how they are read). Idempotent.
    """
    if not text:
        return ""
    # plain ASCII with no control character (one fast bytes pass) is NFC and has nothing to replace
    if text.isascii() and not text.encode("ascii").translate(None, _PLAIN_ASCII):
        if _is_clean_plain(text):
            return text
    else:
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if _LINEBREAK_RE.search(text):
            text = _LINEBREAK_RE.sub(lambda m: _LINEBREAKS.get(m[0], "\n"), text)
        text = _CONTROL_RE.sub("", text)
    out: list[str] = []
    blank = False
    for line in text.split("\n"):
        words = line.split()  # every Unicode whitespace run, NBSP and tabs included
        if not words:
            blank = True
            continue
        if blank and out:
            out.append("")
        blank = False
        out.append(" ".join(words))
    return "\n".join(out)


def _is_clean_plain(text: str) -> bool:
    """True when a non-empty text of printable ASCII, tabs and newlines already is its :func:`clean_text`.

    That is: no tab, no two spaces in a row, no space at either end of a line,
    no blank line at either end and no two blank lines in a row. Substring
    tests run in C, several times faster than splitting the text into words.
    """
    if "\t" in text or "  " in text or text[0] in " \n" or text[-1] in " \n":
        return False
    return "\n" not in text or not (" \n" in text or "\n " in text or "\n\n\n" in text)


# ---------------------------------------------------------------------------
# paragraphs
# ---------------------------------------------------------------------------

_TERMINAL = (".", "!", "?", ":", ";", '"', "”", "’", "'", "»", ")", "]", "…")


def _looks_hard_wrapped(lines: list[str]) -> bool:
    """A block of 3+ lines of similar, typical terminal width that mostly end mid-sentence."""
    if len(lines) < 3:
        return False
    widths = [len(line) for line in lines[:-1]]
    if min(widths) < 40 or max(widths) > 100 or max(widths) - min(widths) > 30:
        return False
    ended = sum(line.endswith(_TERMINAL) for line in lines[:-1])
    return ended * 2 < len(lines) - 1


def _join_block(block: str) -> list[str]:
    lines = block.split("\n")
    if len(lines) == 1:
        return lines
    if _looks_hard_wrapped(lines):
        return [" ".join(lines)]
    out = [lines[0]]
    for line in lines[1:]:
        prev = out[-1]
        if not prev.endswith(_TERMINAL) and line[:1].islower():
            # a soft wrap inside a sentence; "inter-\nnational" keeps its hyphen
            out[-1] = prev + line if prev.endswith("-") and not prev.endswith(" -") else f"{prev} {line}"
        else:
            out.append(line)
    return out


def split_paragraphs(text: str) -> list[str]:
    """Split cleaned text into paragraphs.

    Blank lines always separate paragraphs. Inside a block, a single newline
    separates paragraphs too, unless it is a soft wrap: the previous line does
    not end a sentence and the next starts in lower case, or the whole block
    looks hard-wrapped at a fixed width (then its lines are joined).
    """
    return _clean_paragraphs(clean_text(text))


def _clean_paragraphs(text: str) -> list[str]:
    """:func:`split_paragraphs` of a text that already is :func:`clean_text` output."""
    if not text:
        return []
    paragraphs: list[str] = []
    for block in text.split("\n\n"):
        paragraphs.extend(_join_block(block))
    return paragraphs


# ---------------------------------------------------------------------------
# quotes
# ---------------------------------------------------------------------------


def fix_quote_pairs(paragraph: str) -> str:
    """Close mismatched curly/straight quote pairs, changing nothing else.

    ``“quoted,"`` becomes ``“quoted,”`` and ``"quoted”`` becomes ``“quoted”``.
    Straight pairs (``"a"``) and curly pairs (``“a”``) are left as they are.
    Works within one paragraph.
    """
    if '"' not in paragraph or ("“" not in paragraph and "”" not in paragraph):
        return paragraph
    chars = list(paragraph)
    curly_open = False
    straight_at: int | None = None
    for i, char in enumerate(chars):
        if char == "“":
            curly_open, straight_at = True, None
        elif char == "”":
            if curly_open:
                curly_open = False
            elif straight_at is not None:
                chars[straight_at] = "“"
                straight_at = None
        elif char == '"':
            if curly_open:
                chars[i] = "”"
                curly_open = False
            else:
                straight_at = i if straight_at is None else None
    return "".join(chars)


# ---------------------------------------------------------------------------
# boilerplate (photo captions: shared.captions)
# ---------------------------------------------------------------------------

_MAX_CHROME_CHARS = 300
_CHROME_RE = re.compile(
    r"""^(?:
        short\s*link\s*:?.*
      | (?:read\s+more|read\s+also|also\s+read|see\s+also|more\s+on\s+this(?:\s+story)?|recommended(?:\s+for\s+you)?
          |related(?:\s+(?:articles?|stories|news|coverage|content))?)\s*[:>»|].*
      | follow\s+(?:us|\w+(?:\s+\w+)?)\s+on\s+(?:twitter|x|facebook|instagram|linkedin|telegram|whatsapp|tiktok
          |youtube|threads|bluesky|mastodon|google\s+news)\b.*
      | share\s+(?:this|the)\s+(?:article|story|post|page)\b.*
      | share\s+(?:on|via)\s+(?:twitter|x|facebook|whatsapp|linkedin|e-?mail|telegram)\b.*
      | (?:click|tap)\s+here\s+to\s+(?:subscribe|share|read\s+more|follow|sign\s+up)\b.*
      | subscribe\s+to\s+our\s+(?:newsletter|channel|podcast)\b.*
      | sign\s+up\s+for\s+our\s+(?:\w+\s+)?newsletter\b.*
      | advertisement | scroll\s+to\s+continue(?:\s+with\s+content)?
    )$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_TRAILING_SHORT_LINK_RE = re.compile(r"\s*\bShort\s*link\s*:\s*(?:https?://\S*)?\s*$", re.IGNORECASE)


def is_boilerplate(paragraph: str) -> bool:
    """True for a short paragraph that is site chrome, not article text.

    Recognised: ``Short link: ...``, ``Read more: ...`` / ``Related: ...`` /
    ``See also: ...``, ``Follow us on <network>``, ``Share this article``,
    ``Share on <network>``, ``Click here to subscribe ...``, ``Subscribe to
    our newsletter``, ``Advertisement``. Agency credits such as ``(Reporting
    by ...; Editing by ...)`` are article text and are kept.
    """
    return len(paragraph) <= _MAX_CHROME_CHARS and _CHROME_RE.match(paragraph) is not None


def normalize_title(text: str) -> str:
    """A headline on one line: cleaned, every whitespace run one space, quote pairs fixed."""
    return fix_quote_pairs(" ".join(clean_text(text).split()))


def normalize_body(text: str) -> str:
    """Article body for display: cleaned, paragraphs separated by one blank line, chrome and captions removed.

    Applies :func:`clean_text`, :func:`split_paragraphs`, drops paragraphs for
    which :func:`is_boilerplate` or :func:`is_photo_caption` is true, strips a
    ``Short link: ...`` stuck to the end of the last paragraph, and applies
    :func:`fix_quote_pairs`. Idempotent.
    """
    return _normalize_clean_body(clean_text(text))


def _normalize_clean_body(text: str) -> str:
    """:func:`normalize_body` of a text that already is :func:`clean_text` output."""
    paragraphs = _clean_paragraphs(text)
    kept = [fix_quote_pairs(p) for p in paragraphs if not is_boilerplate(p) and not is_photo_caption(p)]
    while kept:
        # the pattern needs a colon: skip scanning a long paragraph that has none
        last = _TRAILING_SHORT_LINK_RE.sub("", kept[-1]) if ":" in kept[-1] else kept[-1]
        if last:
            kept[-1] = last
            break
        kept.pop()
    return "\n\n".join(kept)


# ---------------------------------------------------------------------------
# datelines and bylines
# ---------------------------------------------------------------------------

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
_MAX_DATELINE_CHARS = 120
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
    if not line or len(line) > _MAX_DATELINE_CHARS or "\n" in text.strip():
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
    head = paragraph[: _MAX_DATELINE_CHARS + 20]
    match = _AGENCY_PREFIX_START.match(head)
    if match is not None and not _plausible_agency_prefix(match):
        match = None
    match = match or _CAPS_PREFIX_START.match(head)
    if match is None or match.end() >= len(paragraph):
        return None, paragraph
    raw = regex.sub(r"[\s\-–—:]+$", "", match[0])
    return _dateline(raw, match, reference), paragraph[match.end() :]


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
      :func:`normalize_body` (paragraphs, chrome and captions removed).

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
        and not (following[:1].islower() and not first.endswith(_TERMINAL))
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
    return WireStory(normalize_title(title), _merge_datelines(found), _normalize_clean_body(body))


def _line_dateline(line: str, reference: date | None) -> Dateline | None:
    """:func:`parse_dateline` of one line of :func:`clean_text` output, skipping lines too long to be one."""
    return None if len(line) > _MAX_DATELINE_CHARS else parse_dateline(line, reference=reference)
