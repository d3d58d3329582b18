"""API keys (shared/apikeys.py): scopes, the stored form, the verifier's cache, stream tokens, the rate."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from shared.apikeys import (
    KEY_PREFIX,
    KeyRefused,
    KeyVerifier,
    MemoryKeyStore,
    RateLimiter,
    StreamTokens,
    digest,
    grants,
    parse_scopes,
)


def test_scopes_nest_admin_over_write_over_read() -> None:
    assert grants({"admin"}, "admin") and grants({"admin"}, "write") and grants({"admin"}, "read")
    assert grants({"write"}, "read") and grants({"write"}, "write") and not grants({"write"}, "admin")
    assert grants({"read"}, "read") and not grants({"read"}, "write") and not grants({"read"}, "admin")
    assert parse_scopes(["Read", " write "]) == {"read", "write"}
    with pytest.raises(ValueError, match="unknown scope 'owner'"):
        parse_scopes(["owner"])


async def test_a_key_is_shown_once_and_only_its_sha256_is_stored() -> None:
    store = MemoryKeyStore()
    key, rec = await store.create("japan-desk", frozenset({"write"}))
    assert key.startswith(KEY_PREFIX) and len(key) == len(KEY_PREFIX) + 43
    assert rec.digest == hashlib.sha256(key.encode()).hexdigest() == digest(key)
    assert key not in repr(await store.list()) and key not in rec.to_json().decode()
    other, _ = await store.create("other", frozenset({"read"}))
    assert other != key
    with pytest.raises(KeyRefused, match="exists"):
        await store.create("japan-desk", frozenset({"read"}))
    with pytest.raises(KeyRefused, match="lower-case"):
        await store.create("Japan Desk", frozenset({"read"}))
    with pytest.raises(KeyRefused, match="at least one scope"):
        await store.create("none", frozenset())
    assert [k.name for k in await store.list()] == ["japan-desk", "other"]


async def test_the_verifier_sees_a_revocation_after_its_cache_time() -> None:
    store = MemoryKeyStore()
    key, _ = await store.create("desk", frozenset({"write"}))
    verifier = KeyVerifier(store, cache_s=0.2)
    who = await verifier.verify(key)
    assert who is not None and who.name == "desk" and who.may("read") and not who.may("admin")
    assert await verifier.verify(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert await verifier.verify("not-a-key") is None
    assert await store.revoke("desk") and not await store.revoke("desk")
    assert await verifier.verify(key) is not None  # cached, at most cache_s
    await asyncio.sleep(0.25)
    assert await verifier.verify(key) is None


async def test_stream_tokens_expire_and_cannot_be_forged() -> None:
    tokens = StreamTokens(None, namespace="t", ttl_s=60)
    token = await tokens.issue("d" * 64, now=1000.0)
    assert await tokens.digest_of(token, now=1059.0) == "d" * 64
    assert await tokens.digest_of(token, now=1061.0) is None  # expired
    payload, _, mac = token.partition(".")
    forged = await StreamTokens(None, namespace="t", ttl_s=60).issue("d" * 64, now=1000.0)  # another secret
    assert await tokens.digest_of(forged, now=1001.0) is None
    assert await tokens.digest_of(payload + "." + mac[::-1], now=1001.0) is None
    assert await tokens.digest_of("garbage", now=1001.0) is None


async def test_the_rate_limit_counts_writes_per_key_per_minute() -> None:
    limiter = RateLimiter(None, namespace="t", per_minute=2)
    assert await limiter.hit("a", now=60.0) is None and await limiter.hit("a", now=61.0) is None
    assert await limiter.hit("a", now=70.0) == pytest.approx(50.0)  # wait until the minute ends
    assert await limiter.hit("b", now=70.0) is None  # another key has its own count
    assert await limiter.hit("a", now=120.0) is None  # a new minute
