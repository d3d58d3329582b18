"""Size limits, all derived from one setting (``max_article_bytes``), so they agree with each other.

An accepted raw record (at most ``max_article_bytes``) must fit every record it
produces: the normalised article (the body once, JSON-escaped: at most twice its
bytes), the enriched article (the body again plus the enrichment, whose summary
and quotes are cut from the body) and a dead letter (the original in base64,
4/3 of its bytes, plus capped headers). :func:`max_record_bytes` is the bound
they all fit in; it is the producer's ``max_request_size``, the
``max.message.bytes`` of the topics newsflow creates and the consumer's fetch
size per partition.

Dead letters keep the original whole up to :func:`dlq_keep_bytes` (twice the
article limit, so ``newsflow dlq redrive --code too_large`` works after the
limit was raised up to 2x); a longer original is cut to
:data:`DLQ_TRUNCATED_BYTES`, with its full size and SHA-256.
"""

from __future__ import annotations

from typing import Final

__all__ = ["DLQ_TRUNCATED_BYTES", "RECORD_HEADROOM_BYTES", "dlq_keep_bytes", "max_record_bytes"]

RECORD_HEADROOM_BYTES: Final = 1 << 20
"""Room for the enrichment fields, the JSON envelope and the headers (1 MiB)."""
DLQ_TRUNCATED_BYTES: Final = 64 * 1024
"""How much of an original longer than :func:`dlq_keep_bytes` a dead letter keeps."""


def max_record_bytes(max_article_bytes: int) -> int:
    """The largest record newsflow produces or accepts on its topics: 4x the article limit + 1 MiB."""
    return 4 * max_article_bytes + RECORD_HEADROOM_BYTES


def dlq_keep_bytes(max_article_bytes: int) -> int:
    """Originals up to this size are kept whole in their dead letter (base64: 8/3 of the article limit)."""
    return 2 * max_article_bytes
