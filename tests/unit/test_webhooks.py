"""Standard Webhooks signing (verified by the standardwebhooks library), retry schedule, responses."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.publish.subscriptions import new_secret
from services.publish.webhooks import classify, next_delay, sign_headers, webhook_id


def test_signature_verifies_with_the_standardwebhooks_library() -> None:
    secret = new_secret()
    body = '{"type":"article.published","data":{"title":"Séisme au Japon"}}'.encode()
    headers = sign_headers(webhook_id("jp", "nf_1", 2), body, [secret])
    assert headers["webhook-id"] == "msg_nf_1_v2_jp"
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers)["data"]["title"] == "Séisme au Japon"
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)


def test_two_secrets_during_rotation_both_verify() -> None:
    old, new = new_secret(), new_secret()
    body = b'{"a":1}'
    headers = sign_headers("msg_1", body, [old, new])
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)


def test_timestamp_is_this_attempt_and_too_old_fails() -> None:
    secret = new_secret()
    old = datetime.now(UTC) - timedelta(minutes=10)
    headers = sign_headers("msg_1", b"{}", [secret], now=old)
    assert headers["webhook-timestamp"] == str(int(old.timestamp()))
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(b"{}", headers)


def test_schedule_with_jitter_then_exhausted() -> None:
    schedule = [5, 300, 1800]
    rnd = random.Random(1)
    delays = [next_delay(schedule, n, 0.2, rnd) for n in (1, 2, 3)]
    for d, base in zip(delays, schedule, strict=True):
        assert d is not None and base * 0.8 <= d <= base * 1.2
    assert next_delay(schedule, 4, 0.2) is None
    assert next_delay(schedule, 1, 0.0) == 5


def test_default_schedule_is_the_specs() -> None:
    from shared.settings import Settings

    assert Settings().webhook_retry_schedule_s == [5, 300, 1800, 7200, 18000, 36000, 36000]


def test_responses() -> None:
    assert classify(200).kind == classify(204).kind == "delivered"
    assert classify(410).kind == "gone"
    assert classify(500).kind == "retry" and classify(500).retry_after_s is None
    assert classify(None, detail="timeout").kind == "retry"
    assert classify(302).kind == "retry"  # redirects are not followed
    assert classify(429, {"Retry-After": "7"}).retry_after_s == 7
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    ra = classify(503, {"retry-after": later}).retry_after_s
    assert ra is not None and 25 <= ra <= 31
    assert classify(500, {"Retry-After": "7"}).retry_after_s is None  # only on 429 / 503


def test_lease_must_outlive_an_attempt() -> None:
    from pydantic import ValidationError

    from shared.settings import Settings

    with pytest.raises(ValidationError, match="NEWSFLOW_WEBHOOK_LEASE_S"):
        Settings(webhook_timeout_s=15, webhook_lease_s=10)
