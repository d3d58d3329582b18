"""Photo captions: the one detector for every service.

Ingest drops caption paragraphs from the body it publishes (``normalize_body``); enrich's summary
skips any that is still there (an article that did not come through ingest's normaliser).
"""

from __future__ import annotations

import re

__all__ = ["is_photo_caption"]

_AGENCY_CREDIT = (
    r"(?:AP|AFP|Reuters|REUTERS|EPA(?:-EFE)?|EFE|Xinhua|Anadolu(?:\s+Agency)?|Getty(?:\s+Images)?|Shutterstock"
    r"|Bloomberg|Sipa|dpa|DPA|ANSA|Kyodo|Yonhap|TASS|WANA|Abaca|Pool|Handout|AA|UPI|Ahram(?:\s+Online)?)"
)
# month names in a caption's date ("Saturday, April 13, 2024"); the dateline grammar has its own
_MONTH = (
    r"(?i:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
_MAX_CAPTION_CHARS = 500
_CAPTION_TAIL_CHARS = 160
# "..., Saturday, April 13, 2024. AP" / "... (AP Photo/Evan Vucci)" / "... (AFP)"
_CAPTION_BARE_AGENCY_RE = re.compile(rf"[.!?][\"”’)]?\s+{_AGENCY_CREDIT}(?:\s+(?i:photo|images?))?$")
_CAPTION_PAREN_AGENCY_RE = re.compile(rf"\(\s*{_AGENCY_CREDIT}(?:\s+(?i:photo))?(?:\s*/\s*[^()]{{1,80}})?\s*\)")
# explicit photo credits: "AFP PHOTO / X", "Getty Images", "REUTERS/Name", "Photo: X", "(Photo by X)"
_CAPTION_CREDIT_TAIL_RE = re.compile(
    r"(?:AFP\s+PHOTO\b[^.]{0,80}|Getty\s+Images|REUTERS/\w[^.]{0,60}"
    r"|(?:^|[.!?][\"”’]?\s+|\s[-–—|]\s*)(?i:photo(?:graph)?|picture|image|credit)s?\s*:\s*[^.]{1,80}"
    r"|\((?i:photo(?:graph)?|picture|image)s?\s*(?::|by|/)\s*[^()]{1,80}\))\s*\.?$"
)
_CAPTION_LEAD_RE = re.compile(r"^(?i:photo|file\s+photo|picture|image|photograph)\s*[:/|]")
_CAPTION_CUE_RE = re.compile(
    rf"{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}"
    r"|\b(?i:photo|pictured|file\s+image|handout|pose[sd]?|gestures?)\b"
)


def is_photo_caption(paragraph: str) -> bool:
    """True for a paragraph that is a photo caption.

    A caption (at most 500 characters) either carries an explicit photo credit
    at its end (``AFP PHOTO / ...``, ``Getty Images``, ``REUTERS/Name``,
    ``Photo: ...``, ``(Photo by ...)``), starts with ``Photo:``, or ends with
    an agency credit (``... 2024. AP``, ``(AP Photo/Name)``, ``(AFP)``) *and*
    reads like a caption (a full date such as ``Saturday, April 13, 2024``, or
    words such as "photo", "pictured", "poses"). A paragraph that merely ends
    with ``(AFP)`` is article text.
    """
    if len(paragraph) > _MAX_CAPTION_CHARS:
        return False
    if _CAPTION_LEAD_RE.match(paragraph):
        return True
    # credits sit at the end: look at the tail only ("^" in the pattern still means the paragraph's start)
    tail = max(0, len(paragraph) - _CAPTION_TAIL_CHARS)
    low = paragraph[tail:].lower()
    has_credit_word = (
        "photo" in low or "picture" in low or "image" in low or "credit" in low or "getty" in low or "reuters/" in low
    )
    if has_credit_word and _CAPTION_CREDIT_TAIL_RE.search(paragraph, tail):
        return True
    return _ends_with_agency_credit(paragraph) and _CAPTION_CUE_RE.search(paragraph) is not None


def _ends_with_agency_credit(paragraph: str) -> bool:
    """``... 2024. AP`` / ``... (AP Photo/Evan Vucci)`` / ``... (AFP)``."""
    stripped = paragraph.rstrip(" .")
    if stripped.endswith(")"):
        opening = stripped.rfind("(")
        return opening >= 0 and _CAPTION_PAREN_AGENCY_RE.fullmatch(stripped, opening) is not None
    return _CAPTION_BARE_AGENCY_RE.search(stripped, max(0, len(stripped) - 40)) is not None
