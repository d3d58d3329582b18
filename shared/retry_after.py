"""An HTTP ``Retry-After`` header in seconds (RFC 9110: delta seconds or an HTTP date), for every client newsflow
runs: publish's webhooks (a receiver's 429 / 503) and intake's fetches (a site's 429 / 503)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["retry_after_s"]


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from ``now`` (default: this moment) until ``value`` allows a retry, never negative; None when the
    header is absent or unreadable. A date without a zone is read as UTC."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
