"""Language tags as newsflow writes them: ISO 639-1 two-letter codes, or ``und``.

Senders declare languages in many spellings (``en``, ``EN``, ``en-GB``,
``en_US``, ``eng``, ``fre``); :func:`iso639_1` turns each into its ISO 639-1
code, or ``None`` when the tag names no language that has one (``pcm``,
``und``, ``xx``). A code is never cut to two letters: ``pcm`` (Nigerian
Pidgin) is not ``pc``.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry

__all__ = ["UNDETERMINED", "iso639_1"]

UNDETERMINED = "und"
"""ISO 639-2 "undetermined": the detector could not tell."""

_PRIMARY_RE = re.compile(r"\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*\s*")


@lru_cache(maxsize=1024)
def iso639_1(tag: str | None) -> str | None:
    """The ISO 639-1 code of a language tag (BCP 47 / ISO 639-1, -2 or -3), else ``None``."""
    if not tag:
        return None
    match = _PRIMARY_RE.fullmatch(tag)
    if match is None:
        return None
    primary = match[1].lower()
    if len(primary) == 2:
        return primary if pycountry.languages.get(alpha_2=primary) is not None else None
    language = pycountry.languages.get(alpha_3=primary) or pycountry.languages.get(bibliographic=primary)
    code = getattr(language, "alpha_2", None) if language is not None else None
    return str(code) if code else None
