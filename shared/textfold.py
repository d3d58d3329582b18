"""Text folding: the comparison forms of text, for every service (never for display).

Three forms for three jobs; each keeps its behaviour exactly (fingerprints, the evaluation sets and
the gazetteer depend on them):

- :func:`fold_for_comparison`: ingest's fingerprints and near-duplicate shingles. NFKC, case-folded,
  quotes removed, dashes and spacing unified; accents are kept (``"résumé"`` is not ``"resume"``).
- :func:`fold_accents`: lowercase without accents, curly apostrophe straightened; the words of a
  text stay where they are (enrich's topic cues).
- :func:`fold_name`: :func:`fold_accents` for a name to look up: also no leading article (``the``,
  ``le``, ``l'`` ...), possessive, dots or surrounding punctuation (enrich's gazetteer, entities,
  quotes, keywords and stories).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import regex

__all__ = ["fold_accents", "fold_for_comparison", "fold_name"]

# Every quote and apostrophe variant: straight, curly, low-9, reversed, guillemets,
# primes, backtick/acute, modifier letters used as apostrophes, CJK and fullwidth quotes.
_QUOTES = "\"'`´‘’‚‛“”„‟‹›«»′″‴‵‶‷ʹʺʻʼʽˮ˝〝〞〟＂＇"
# removed together with the invisible format characters (soft hyphen, zero-width, bidi controls)
_DROP_FOR_COMPARISON_RE = re.compile(
    "[" + re.escape(_QUOTES) + r"\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_DASHES_RE = re.compile(r"[‐‑‒–—―⁃−﹘﹣－]+")
_HYPHEN_RUN_RE = re.compile(r"-{2,}")
_NO_SPACE_BEFORE = ",.;:!?)]}%-"
_NO_SPACE_AFTER = "([{-"
_NO_SPACE_RE = re.compile(f" (?:(?=[{re.escape(_NO_SPACE_BEFORE)}])|(?<=[{re.escape(_NO_SPACE_AFTER)}] ))")
_ASCII_QUOTES = b"\"'`"


def fold_for_comparison(text: str) -> str:
    """The lossy comparison form of ``text`` (for fingerprints only, never for display).

    NFKC, case-folded; every quote/apostrophe variant removed; invisible
    format characters removed; every dash and hyphen (and the spaces around
    it) becomes ``-``; no space before ``,.;:!?)]}%`` or after ``([{``; all
    whitespace (newlines included) collapsed to one space.
    """
    # quotes go before NFKC too: NFKC turns some (the acute accent ´) into a space and a combining mark
    if text.isascii():  # ASCII is NFKC; its only quotes are " ' ` and it has no invisible characters
        text = text.encode("ascii").translate(None, _ASCII_QUOTES).decode("ascii")
    else:
        text = _DROP_FOR_COMPARISON_RE.sub("", text)
        if not unicodedata.is_normalized("NFKC", text):
            text = _DROP_FOR_COMPARISON_RE.sub("", unicodedata.normalize("NFKC", text))
    text = text.casefold()
    if not text.isascii():  # every dash the pattern knows is outside ASCII
        text = _DASHES_RE.sub("-", text)
    if "--" in text:
        text = _HYPHEN_RUN_RE.sub("-", text)
    # single spaces now: each one goes when the next character is in _NO_SPACE_BEFORE or the previous one
    # is in _NO_SPACE_AFTER (one pass; the same as removing every " ," ... then every "( " ... in turn)
    return _NO_SPACE_RE.sub("", _collapse_whitespace(text))


_ASCII_SPACES_BUT_SPACE = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"  # what str.split() splits ASCII text on, but " "


def _collapse_whitespace(text: str) -> str:
    """``" ".join(text.split())``, without splitting an ASCII text whose paragraphs are already clean.

    Such a text (a normalised body) only needs its blank lines between
    paragraphs turned into spaces; substring tests run in C, several times
    faster than splitting the text into words.
    """
    if text.isascii():
        joined = text.replace("\n\n", " ") if "\n" in text else text
        if not (
            "  " in joined
            or joined[:1] == " "
            or joined[-1:] == " "
            or any(space in joined for space in _ASCII_SPACES_BUT_SPACE)
        ):
            return joined
    return " ".join(text.split())


def fold_accents(text: str) -> str:
    """Lowercase, accents removed (NFKD, combining marks dropped), ``’`` written ``'``."""
    text = text.replace("’", "'")
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


_ARTICLES = regex.compile(r"^(?:(?:the|le|la|les|el|los|las|lo)\s+|l')", regex.IGNORECASE)  # a word: not "Lebanon"
_POSSESSIVE = regex.compile(r"(?:'s|')$")


@lru_cache(maxsize=1 << 16)
def fold_name(text: str) -> str:
    """Normalise a name for lookup: lowercase, no accents, no article, possessive or dots (cached)."""
    text = fold_accents(text.replace("‘", "'")).replace(".", "")
    text = regex.sub(r"\s+", " ", text).strip(' ,;:!?"()[]«»“”،؛؟')
    text = _POSSESSIVE.sub("", text)
    return _ARTICLES.sub("", text).strip()
