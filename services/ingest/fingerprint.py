"""Fingerprints and ids: the same article always gets the same hashes and the same id.

- :func:`comparison_text` folds away what retyping changes (quotes, dashes,
  case, spacing, Unicode compatibility forms), so a copy with other quotes or
  spacing has the same :func:`content_hash`.
- :func:`article_id` is derived from :func:`identity_key`: a ninjs item's
  URN ``uri``, else the canonical URL (a corrected article with the same URI
  or URL keeps its id and gets a new version), else the content hash.

``content_hash`` and ``url_hash`` use xxHash XXH3-128 (fast; collisions are
astronomically unlikely by chance, but XXH3 is not built to resist someone
crafting them on purpose). ``article_id`` uses BLAKE2b, a cryptographic hash,
because ids are derived from sender-controlled URLs.
"""

from __future__ import annotations

import hashlib

import xxhash

from shared.textfold import fold_for_comparison

__all__ = [
    "ID_PREFIX",
    "article_id",
    "comparison_text",
    "content_hash",
    "hash_comparison_text",
    "identity_key",
    "url_hash",
]

ID_PREFIX = "nf_"


def comparison_text(title: str, body: str) -> str:
    """``title`` and ``body`` folded for comparison, joined by one newline.

    Each part gets :func:`~shared.textfold.fold_for_comparison`:
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


def identity_key(canonical_url: str | None, uri: str | None = None) -> str | None:
    """What names the article across its versions: ``"uri:" + uri`` for a ninjs item with a non-web
    ``uri`` (a URN: the publisher's identifier, kept by every correction), else ``"url:" + canonical_url``,
    else ``None`` (the article is known by its content only)."""
    if uri:
        return f"uri:{uri}"
    return f"url:{canonical_url}" if canonical_url else None


def url_hash(canonical_url: str | None, *, uri: str | None = None) -> str:
    """XXH3-128 of :func:`identity_key` as 32 hex characters; ``""`` when there is neither URL nor URI.

    Pass a URL from :func:`services.ingest.urls.canonicalize_url`; the empty
    string is what :class:`services.ingest.dedup.DedupItem` takes for "no URL".
    """
    key = identity_key(canonical_url, uri)
    return xxhash.xxh3_128_hexdigest(key.encode("utf-8")) if key else ""


def article_id(canonical_url: str | None, content_hash: str, *, uri: str | None = None) -> str:
    """The article's deterministic id: ``"nf_"`` + 24 hex characters (96 bits of BLAKE2b).

    Hashes :func:`identity_key` when there is one, else ``"content:" + content_hash``.
    """
    key = identity_key(canonical_url, uri) or f"content:{content_hash}"
    return ID_PREFIX + hashlib.blake2b(key.encode("utf-8"), digest_size=12).hexdigest()
