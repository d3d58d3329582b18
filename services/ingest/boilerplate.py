"""Site chrome in an article body: ``Short link:``, ``Read more:``, ``Follow us on ...`` and the like.

:func:`normalize_body` is the body people read: :func:`~services.ingest.text.clean_text`,
paragraphs, chrome (:func:`is_boilerplate`) and photo captions
(:func:`shared.captions.is_photo_caption`) removed, a trailing short link
stripped, quote pairs fixed. Pure: compiled regexes only.
"""

from __future__ import annotations

import re

from shared.captions import is_photo_caption

from .text import clean_paragraphs, clean_text, fix_quote_pairs

__all__ = ["is_boilerplate", "normalize_body", "normalize_clean_body"]

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


def normalize_body(text: str) -> str:
    """Article body for display: cleaned, paragraphs separated by one blank line, chrome and captions removed.

    Applies :func:`~services.ingest.text.clean_text` and
    :func:`~services.ingest.text.split_paragraphs`, drops paragraphs for
    which :func:`is_boilerplate` or :func:`is_photo_caption` is true, strips a
    ``Short link: ...`` stuck to the end of the last paragraph, and applies
    :func:`~services.ingest.text.fix_quote_pairs`. Idempotent.
    """
    return normalize_clean_body(clean_text(text))


def normalize_clean_body(text: str) -> str:
    """:func:`normalize_body` of a text that already is :func:`clean_text` output."""
    paragraphs = clean_paragraphs(text)
    kept = [fix_quote_pairs(p) for p in paragraphs if not is_boilerplate(p) and not is_photo_caption(p)]
    while kept:
        # the pattern needs a colon: skip scanning a long paragraph that has none
        last = _TRAILING_SHORT_LINK_RE.sub("", kept[-1]) if ":" in kept[-1] else kept[-1]
        if last:
            kept[-1] = last
            break
        kept.pop()
    return "\n\n".join(kept)
