"""Fingerprints and ids: the same article always gets the same hashes and the same id.

- :func:`comparison_text` folds away what retyping changes (quotes, dashes,
  case, spacing, Unicode compatibility forms), so a copy with other quotes or
  spacing has the same :func:`content_hash`.
- :func:`article_id` is derived from the canonical URL when there is one
  (a corrected article at the same URL keeps its id and gets a new version),
  else from the content hash.

``content_hash`` and ``url_hash`` use xxHash XXH3-128 (fast; collisions are
astronomically unlikely by chance, but XXH3 is not built to resist someone
crafting them on purpose). ``article_id`` uses BLAKE2b, a cryptographic hash,
because ids are derived from sender-controlled URLs.
"""

from __future__ import annotations

import hashlib

import xxhash

from .normalize import fold_for_comparison

__all__ = ["ID_PREFIX", "article_id", "comparison_text", "content_hash", "hash_comparison_text", "url_hash"]

ID_PREFIX = "nf_"


def comparison_text(title: str, body: str) -> str:
    """``title`` and ``body`` folded for comparison, joined by one newline.

    Each part gets :func:`~services.ingest.normalize.fold_for_comparison`:
    NFKC, case-folded, every quote/apostrophe variant removed (straight,
    curly, low, guillemets, primes), dashes unified, no space before
    punctuation, all whitespace collapsed to one space. The newline keeps
    title and body apart, so moving words between them changes the result.
    """
    return f"{fold_for_comparison(title)}\n{fold_for_comparison(body)}"


def content_hash(title: str, body: str) -> str:
    """XXH3-128 of :func:`comparison_text` (UTF-8), as 32 lower-case hex characters."""
    return hash_comparison_text(comparison_text(title, body))


def hash_comparison_text(text: str) -> str:
    """:func:`content_hash` of an already-built :func:`comparison_text` (to build it once)."""
    return xxhash.xxh3_128_hexdigest(text.encode("utf-8"))


def url_hash(canonical_url: str | None) -> str:
    """XXH3-128 of ``"url:" + canonical_url`` as 32 hex characters; ``""`` when there is no URL.

    Pass a URL from :func:`services.ingest.urls.canonicalize_url`; the empty
    string is what :class:`services.ingest.dedup.DedupItem` takes for "no URL".
    """
    if not canonical_url:
        return ""
    return xxhash.xxh3_128_hexdigest(("url:" + canonical_url).encode("utf-8"))


def article_id(canonical_url: str | None, content_hash: str) -> str:
    """The article's deterministic id: ``"nf_"`` + 24 hex characters (96 bits of BLAKE2b).

    Hashes ``"url:" + canonical_url`` when there is a canonical URL, else
    ``"content:" + content_hash``.
    """
    key = f"url:{canonical_url}" if canonical_url else f"content:{content_hash}"
    return ID_PREFIX + hashlib.blake2b(key.encode("utf-8"), digest_size=12).hexdigest()
