"""Standard Webhooks: signed headers, the retry schedule and what a response means (pure).

Spec: https://www.standardwebhooks.com/ . ``webhook-id`` is stable for one article version at one
endpoint (the receiver's idempotency key), ``webhook-timestamp`` is this attempt's Unix time, and
``webhook-signature`` holds one ``v1,<base64 HMAC-SHA256 of id.timestamp.body>`` per active secret,
space-separated, signed by the ``standardwebhooks`` library.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from standardwebhooks import Webhook

from shared.retry_after import retry_after_s

__all__ = ["Outcome", "classify", "next_delay", "sign_headers", "webhook_id"]


def webhook_id(subscription_id: str, article_id: str, version: int) -> str:
    """The ``webhook-id`` of one article version at one endpoint (same on every retry)."""
    return f"msg_{article_id}_v{version}_{subscription_id}"


def sign_headers(msg_id: str, body: bytes, secrets: Sequence[str], now: datetime | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt (one signature per secret)."""
    at = (now or datetime.now(UTC)).replace(microsecond=0)
    text = body.decode()
    signatures = " ".join(Webhook(s).sign(msg_id, at, text) for s in secrets)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
    }


def next_delay(
    schedule: Sequence[float], failed_attempts: int, jitter: float, rnd: random.Random | None = None
) -> float | None:
    """Seconds to wait before the next attempt after ``failed_attempts`` failures; None when exhausted.

    Attempt 1 is immediate; attempt ``n + 1`` waits ``schedule[n - 1]`` scaled by a random factor in
    ``[1 - jitter, 1 + jitter]`` (so endpoints recovering at once are not hit by every retry together).
    """
    if failed_attempts < 1 or failed_attempts > len(schedule):
        return None
    base = schedule[failed_attempts - 1]
    r = (rnd or random).uniform(1 - jitter, 1 + jitter)
    return max(0.0, base * r)


@dataclass(frozen=True)
class Outcome:
    kind: Literal["delivered", "retry", "gone", "refused"]  # refused: the target is not allowed (shared/egress)
    status: int | None  # None: no response (timeout, connection refused)
    retry_after_s: float | None = None  # the receiver's Retry-After, on 429 / 503
    detail: str = ""


def classify(status: int | None, headers: Mapping[str, str] | None = None, detail: str = "") -> Outcome:
    """2xx delivered; 410 gone (disable the endpoint); 429 / 503 retry, honouring Retry-After; else retry."""
    if status is None:
        return Outcome("retry", None, detail=detail or "no response")
    if 200 <= status < 300:
        return Outcome("delivered", status)
    if status == 410:
        return Outcome("gone", status, detail=detail or "410 Gone")
    retry_after = None
    if status in (429, 503) and headers:
        lowered = {k.lower(): v for k, v in headers.items()}
        retry_after = retry_after_s(lowered.get("retry-after"))
    return Outcome("retry", status, retry_after, detail or f"HTTP {status}")
