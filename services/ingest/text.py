"""Display text for ingest: clean characters, keep paragraphs, close mismatched quote pairs.

Everything here is pure and fast (compiled regexes, no network, no models).

:func:`clean_text` and :func:`normalize_title` produce the text people read.
They never change letters, quotes or dashes except to close a curly quote
opened with ``“`` and closed with a straight ``"`` (:func:`fix_quote_pairs`).
:func:`shared.textfold.fold_for_comparison` is the lossy form used only for
fingerprints: it removes every quote, unifies dashes, case and spacing.
Site chrome is dropped from a body in :mod:`services.ingest.boilerplate`.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "SENTENCE_ENDINGS",
    "clean_paragraphs",
    "clean_text",
    "fix_quote_pairs",
    "normalize_title",
    "split_paragraphs",
]

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

# what a line that ends a sentence ends with (a line without one is soft-wrapped if the next starts lower case)
SENTENCE_ENDINGS = (".", "!", "?", ":", ";", '"', "”", "’", "'", "»", ")", "]", "…")


def _looks_hard_wrapped(lines: list[str]) -> bool:
    """A block of 3+ lines of similar, typical terminal width that mostly end mid-sentence."""
    if len(lines) < 3:
        return False
    widths = [len(line) for line in lines[:-1]]
    if min(widths) < 40 or max(widths) > 100 or max(widths) - min(widths) > 30:
        return False
    ended = sum(line.endswith(SENTENCE_ENDINGS) for line in lines[:-1])
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
        if not prev.endswith(SENTENCE_ENDINGS) and line[:1].islower():
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
    return clean_paragraphs(clean_text(text))


def clean_paragraphs(text: str) -> list[str]:
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


def normalize_title(text: str) -> str:
    """A headline on one line: cleaned, every whitespace run one space, quote pairs fixed."""
    return fix_quote_pairs(" ".join(clean_text(text).split()))
