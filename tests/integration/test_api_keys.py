"""API keys and webhook targets over real HTTP, on the real Redis, with two publish replicas.

- Every route answers 401 without a key (reads too, unless NEWSFLOW_API_ANONYMOUS_READ), 403 to a key
  without the scope; a ``write`` key sees and deletes only its own subscriptions, ``admin`` every one;
  a revoked key is refused by every replica within a second; writes are rate-limited per key, bodies
  and subscriptions per key capped, and each change is an audit line with the key's name.
- SSRF: a webhook target that is (or resolves to) a loopback, private, link-local, unique-local,
  multicast or reserved address is refused at creation (422, with the reason), and at delivery when the
  name's answer changed after creation (a ``webhook_refused_target`` dead letter). DNS is a stub: no
  packet is ever sent to such an address.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from services.publish.api import ROUTES, make_app
from services.publish.bootstrap import Publish, bootstrap
from services.publish.subscriptions import Subscription
from shared import codec
from shared.records import InRecord, OutRecord
from shared.redis_client import delete_namespace
from shared.settings import Settings

from ..apikey_util import bearer, make_key
from ..conftest import settings_env
from ..stub_resolver import StubResolver
from ..unit.publish_articles import enriched


async def _settle(tasks: list[asyncio.Task[Any]]) -> None:
    """Wait for cancelled background tasks, at most 10 s: a task still finishing its cancellation then (an HTTP
    session closing after a refused connection) must not hang the test's teardown until the test timeout."""
    await asyncio.wait(tasks, timeout=10)


pytestmark = pytest.mark.integration

PUBLIC = "93.184.215.14"  # what the stub answers for a public name; never connected to in these tests


@dataclass
class Replica:
    publish: Publish
    server: TestServer
    tasks: list[asyncio.Task[None]]

    @property
    def base(self) -> str:
        return str(self.server.make_url("")).rstrip("/")


@dataclass
class Rig:
    settings: Settings
    dns: StubResolver
    replicas: list[Replica]
    http: ClientSession
    letters: list[OutRecord] = field(default_factory=list)
    offset: int = 0

    @property
    def base(self) -> str:
        return self.replicas[0].base

    async def key(self, name: str, *scopes: str) -> dict[str, str]:
        return bearer(await make_key(self.settings, name, *scopes))  # type: ignore[arg-type]  # scope names

    async def create(self, headers: dict[str, str], body: dict[str, object]) -> tuple[int, dict]:
        async with self.http.post(f"{self.base}/v1/subscriptions", json=body, headers=headers) as r:
            return r.status, await r.json()

    async def publish_article(self, article_id: str) -> None:
        a = enriched(article_id)
        self.offset += 1
        rec = InRecord(topic="enriched", partition=0, offset=self.offset, key=a.id.encode(), value=codec.dumps(a))
        outs = await self.replicas[0].publish.handler.handle([rec])
        await self.replicas[0].publish.handler.mark_delivered(outs)


async def _replica(s: Settings, dns: StubResolver, letters: list[OutRecord]) -> Replica:
    async def sink(outs: list[OutRecord]) -> None:
        letters.extend(outs)

    publish = bootstrap(
        s, redis=Redis.from_url(s.redis_url), ensure_topics=lambda names: asyncio.sleep(0), resolver=dns,
        dead_letters=sink,
    )  # fmt: skip
    server = TestServer(make_app(publish.api))
    await server.start_server()
    tasks = [publish.catalog.run(), publish.dispatcher.run(), publish.hub.run()]
    return Replica(publish, server, [asyncio.create_task(t) for t in tasks])


@pytest.fixture
async def rig_factory(settings_factory, tmp_path) -> AsyncIterator[Callable[..., object]]:
    rigs: list[Rig] = []

    async def make(replicas: int = 1, **overrides: object) -> Rig:
        routing = tmp_path / "routing.yaml"
        routing.write_text("routes: []\nsubscriptions:\n  - id: configured\n    target: {kind: stream}\n")
        s = settings_factory(
            routing_file=routing, subscription_poll_s=0.1, webhook_retry_schedule_s=[0.2], webhook_jitter=0.0,
            webhook_poll_s=0.05, webhook_timeout_s=0.5, webhook_lease_s=2.0, **overrides,
        )  # fmt: skip
        dns = StubResolver()
        letters: list[OutRecord] = []
        reps = [await _replica(s, dns, letters) for _ in range(replicas)]
        rig = Rig(s, dns, reps, ClientSession(), letters)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        await rig.http.close()
        for rep in rig.replicas:
            rep.publish.hub.close()
            await rep.server.close()
            for t in rep.tasks:
                t.cancel()
            await _settle(rep.tasks)
        redis = rig.replicas[0].publish.redis
        await delete_namespace(redis, rig.settings.redis_namespace)
        for rep in rig.replicas:
            await rep.publish.redis.aclose()


def _concrete(path: str) -> str:
    return path.replace("{id}", "configured").replace("{name}", "app.js")


async def _statuses(rig: Rig, headers: dict[str, str], scope: str) -> dict[tuple[str, str], int]:
    """The status of every route needing ``scope`` (the stream with a 0.5 s budget: it answers at once)."""
    out: dict[tuple[str, str], int] = {}
    for method, path, _, needed in ROUTES:
        if needed != scope:
            continue
        body = {"target": {"kind": "stream"}} if method == "POST" and path == "/v1/subscriptions" else None
        async with rig.http.request(method, rig.base + _concrete(path), json=body, headers=headers) as r:
            out[(method, path)] = r.status
    return out


async def test_no_key_is_401_on_every_write_and_every_read_unless_anonymous_read(rig_factory) -> None:
    rig = await rig_factory()
    for scope in ("admin", "write", "read"):
        got = await _statuses(rig, {}, scope)
        assert got and set(got.values()) == {401}, got
    async with rig.http.get(f"{rig.base}/v1/stories", headers={"Authorization": "Bearer nfk_made-up"}) as r:
        assert r.status == 401 and "Bearer" in r.headers["WWW-Authenticate"]
    for path in ("/", "/openapi.json", "/static/app.js"):  # the page and the document are public
        async with rig.http.get(rig.base + path) as r:
            assert r.status == 200, path
    open_rig = await rig_factory(api_anonymous_read=True)
    reads = await _statuses(open_rig, {}, "read")
    assert reads.pop(("POST", "/v1/stream/token")) == 400  # a token is made for a key
    assert reads[("GET", "/v1/stories")] == reads[("GET", "/v1/stream")] == 200, reads
    assert set(reads.values()) <= {200, 404}, reads  # 404: no such story or article, past the key check
    assert set((await _statuses(open_rig, {}, "write")).values()) == {401}
    assert set((await _statuses(open_rig, {}, "admin")).values()) == {401}


async def test_a_read_key_reads_and_is_403_on_every_write(rig_factory) -> None:
    rig = await rig_factory()
    reader = await rig.key("reader", "read")
    writes = await _statuses(rig, reader, "write") | await _statuses(rig, reader, "admin")
    assert set(writes.values()) == {403}, writes
    keys = await _statuses(rig, await rig.key("writer"), "admin")
    assert set(keys.values()) == {403}, keys  # a write key cannot manage keys
    async with rig.http.get(f"{rig.base}/v1/stories", headers=reader) as r:
        assert r.status == 200
    async with rig.http.post(f"{rig.base}/v1/stream/token", headers=reader) as r:
        token = (await r.json())["token"]
    async with rig.http.get(f"{rig.base}/v1/stream?token={token}") as r:  # what the page's EventSource does
        assert r.status == 200 and r.headers["content-type"].startswith("text/event-stream")
    async with rig.http.get(f"{rig.base}/v1/stream?token={token[:-2]}xx") as r:
        assert r.status == 401


async def test_a_write_key_sees_and_deletes_only_its_own_subscriptions_admin_every_one(rig_factory, caplog) -> None:
    rig = await rig_factory()
    rig.dns.answers["hooks.desk-a.example"] = [PUBLIC]
    a, b, admin = await rig.key("desk-a"), await rig.key("desk-b"), await rig.key("ops", "admin")
    caplog.set_level(logging.INFO, logger="newsflow.audit")
    status, created = await rig.create(
        a, {"id": "a-japan", "filter": {"countries": ["JP"]},
            "target": {"kind": "webhook", "url": "https://hooks.desk-a.example/in"}, "owner": "desk-b"},
    )  # fmt: skip
    assert status == 201, created
    assert created["owner"] == "desk-a"  # set by the server, whatever the body says
    async with rig.http.get(f"{rig.base}/v1/subscriptions", headers=b) as r:
        assert (await r.json())["subscriptions"] == []  # neither a's nor the routing file's
    for method, path in (("GET", "/v1/subscriptions/a-japan"), ("DELETE", "/v1/subscriptions/a-japan"),
                         ("POST", "/v1/subscriptions/a-japan/enable")):  # fmt: skip
        async with rig.http.request(method, rig.base + path, headers=b) as r:
            assert r.status == 404, (method, path)
    status, problem = await rig.create(b, {"id": "a-japan", "target": {"kind": "stream"}})  # take over: no
    assert status == 409 and "taken" in problem["title"]
    async with rig.http.get(f"{rig.base}/v1/subscriptions", headers=a) as r:
        assert [s["id"] for s in (await r.json())["subscriptions"]] == ["a-japan"]
    async with rig.http.get(f"{rig.base}/v1/subscriptions", headers=admin) as r:
        listed = {s["id"]: s for s in (await r.json())["subscriptions"]}
    assert set(listed) == {"a-japan", "configured"}
    assert listed["a-japan"]["target"]["url"] == "https://hooks.desk-a.example/in"
    async with rig.http.delete(f"{rig.base}/v1/subscriptions/a-japan", headers=admin) as r:
        assert r.status == 204
    audits = [r.__dict__["audit"] for r in caplog.records if r.name == "newsflow.audit"]
    assert {"action": "subscription.create", "key": "desk-a", "subscription": "a-japan", "owner": "desk-a",
            "target": "https://hooks.desk-a.example/in"} in audits  # fmt: skip
    assert any(x["action"] == "subscription.delete" and x["key"] == "ops" and x["owner"] == "desk-a" for x in audits)


async def test_admin_makes_lists_and_revokes_keys_over_http(rig_factory) -> None:
    rig = await rig_factory()
    admin = await rig.key("ops", "admin")
    async with rig.http.post(
        f"{rig.base}/v1/keys", json={"name": "night-desk", "scopes": ["read"]}, headers=admin
    ) as r:
        assert r.status == 201, await r.text()
        made = await r.json()
    assert made["scopes"] == ["read"] and made["key"].startswith("nfk_")
    async with rig.http.get(f"{rig.base}/v1/stories", headers=bearer(made["key"])) as r:
        assert r.status == 200
    async with rig.http.post(f"{rig.base}/v1/keys", json={"name": "night-desk"}, headers=admin) as r:
        assert r.status == 409
    async with rig.http.post(f"{rig.base}/v1/keys", json={"name": "x", "scopes": ["owner"]}, headers=admin) as r:
        assert r.status == 422 and "unknown scope" in (await r.json())["title"]
    async with rig.http.get(f"{rig.base}/v1/keys", headers=admin) as r:
        listed = (await r.json())["keys"]
    assert [k["name"] for k in listed] == ["night-desk", "ops"] and made["key"] not in orjson.dumps(listed).decode()
    async with rig.http.delete(f"{rig.base}/v1/keys/night-desk", headers=admin) as r:
        assert r.status == 204
    async with rig.http.delete(f"{rig.base}/v1/keys/night-desk", headers=admin) as r:
        assert r.status == 404
    await asyncio.sleep(rig.settings.api_key_cache_s)
    async with rig.http.get(f"{rig.base}/v1/stories", headers=bearer(made["key"])) as r:
        assert r.status == 401


async def test_a_revoked_key_is_401_on_every_replica_within_a_second(rig_factory) -> None:
    rig = await rig_factory(replicas=2)
    key = await make_key(rig.settings, "leaving")
    for rep in rig.replicas:  # both have it cached now
        async with rig.http.get(f"{rep.base}/v1/subscriptions", headers=bearer(key)) as r:
            assert r.status == 200
    redis = Redis.from_url(rig.settings.redis_url)
    try:
        from shared.apiauth import key_namespace
        from shared.apikeys import RedisKeyStore

        assert await RedisKeyStore(redis, namespace=key_namespace(rig.settings)).revoke("leaving")
    finally:
        await redis.aclose()
    revoked_at = time.monotonic()
    refused: dict[str, float] = {}
    while len(refused) < 2 and time.monotonic() - revoked_at < 3:
        for rep in rig.replicas:
            if rep.base not in refused:
                async with rig.http.get(f"{rep.base}/v1/stories", headers=bearer(key)) as r:
                    if r.status == 401:
                        refused[rep.base] = time.monotonic() - revoked_at
        await asyncio.sleep(0.05)
    assert len(refused) == 2 and max(refused.values()) < 1.0, refused


async def test_a_stream_opened_with_a_key_ends_when_the_key_is_revoked(rig_factory) -> None:
    rig = await rig_factory()
    key = await make_key(rig.settings, "wallboard", "read")
    redis = Redis.from_url(rig.settings.redis_url)
    try:
        async with rig.http.get(f"{rig.base}/v1/stream", headers=bearer(key)) as r:
            assert r.status == 200
            await r.content.readuntil(b"\n\n")  # the retry: line, the stream is open
            from shared.apiauth import key_namespace
            from shared.apikeys import RedisKeyStore

            await RedisKeyStore(redis, namespace=key_namespace(rig.settings)).revoke("wallboard")
            await asyncio.sleep(rig.settings.api_key_cache_s + 0.1)
            await rig.publish_article("nf_after")  # the next event: the stream checks the key and ends
            async with asyncio.timeout(10):
                rest = await r.content.read()
        assert b"nf_after" not in rest
    finally:
        await redis.aclose()


async def test_writes_are_rate_limited_and_bodies_and_subscriptions_capped_per_key(rig_factory) -> None:
    rig = await rig_factory(api_writes_per_minute=3, api_max_subscriptions_per_key=2, api_max_body_bytes=1024)
    desk, other = await rig.key("desk"), await rig.key("other")
    assert (await rig.create(desk, {"id": "one"}))[0] == 201
    assert (await rig.create(desk, {"id": "two"}))[0] == 201
    status, problem = await rig.create(desk, {"id": "three"})
    assert status == 403 and "NEWSFLOW_API_MAX_SUBSCRIPTIONS_PER_KEY" in problem["title"]
    assert (await rig.create(desk, {"id": "one", "name": "replacing is not a new one"}))[0] == 429  # 4th write
    async with rig.http.post(f"{rig.base}/v1/subscriptions", json={"id": "x"}, headers=desk) as r:
        assert r.status == 429 and 1 <= int(r.headers["Retry-After"]) <= 60
    big = {"id": "big", "name": "x" * 2000}
    async with rig.http.post(f"{rig.base}/v1/subscriptions", data=orjson.dumps(big), headers=other) as r:
        assert r.status == 413
    assert (await rig.create(other, {"id": "fine"}))[0] == 201  # another key: its own count
    chunked = await rig.key("chunked")

    async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:  # no Content-Length: chunked encoding
        for i in range(0, len(data), size):
            yield data[i : i + size]
            await asyncio.sleep(0.01)

    url = f"{rig.base}/v1/subscriptions"
    async with rig.http.post(url, data=pieces(orjson.dumps(big), 300), headers=chunked) as r:
        assert r.status == 413
    small = orjson.dumps({"id": "in-pieces", "name": "y" * 500})  # under the limit, sent in 4 pieces
    async with rig.http.post(url, data=pieces(small, 150), headers=chunked) as r:
        assert r.status == 201, await r.text()


TARGETS = {  # a webhook URL, and the class its refusal names
    "https://127.0.0.1:6379/": "loopback",
    "https://[::1]/": "loopback",
    "https://10.0.0.5/admin": "private",
    "https://192.168.0.10/": "private",
    "https://169.254.169.254/latest/meta-data/": "link-local",
    "https://[fe80::1]/": "link-local",
    "https://[fd12::1]/": "unique-local",
    "https://224.0.0.251/": "multicast",
    "https://[ff05::2]/": "multicast",
    "https://240.0.0.9/": "reserved",
    "https://[::ffff:169.254.169.254]/": "link-local",
    "https://loop.example/": "loopback",
    "https://loop6.example/": "loopback",
    "https://intranet.example/": "private",
    "https://metadata.example/": "link-local",
    "https://ula.example/": "unique-local",
    "https://mcast.example/": "multicast",
    "https://reserved.example/": "reserved",
    "https://rebind.example/": "private",  # one public and one private answer
    "http://hooks.public.example/": "https",
    "file:///etc/passwd": "scheme",
}


async def test_every_inside_target_is_refused_at_creation_with_the_reason(rig_factory) -> None:
    rig = await rig_factory()
    rig.dns.answers.update({
        "loop.example": ["127.0.0.1"], "loop6.example": ["::1"], "intranet.example": ["10.1.2.3"],
        "metadata.example": ["169.254.169.254"], "ula.example": ["fd00::7"], "mcast.example": ["ff02::fb"],
        "reserved.example": ["240.1.2.3"], "rebind.example": [PUBLIC, "172.16.0.1"],
        "hooks.public.example": [PUBLIC],
    })  # fmt: skip
    desk = await rig.key("desk")
    for url, kind in TARGETS.items():
        status, problem = await rig.create(desk, {"target": {"kind": "webhook", "url": url}})
        assert status == 422, (url, problem)
        assert kind in orjson.dumps(problem).decode(), (url, problem)
    status, _ = await rig.create(
        desk, {"id": "ok", "target": {"kind": "webhook", "url": "https://hooks.public.example/"}}
    )
    assert status == 201
    async with rig.http.get(f"{rig.base}/v1/subscriptions", headers=desk) as r:
        assert [s["id"] for s in (await r.json())["subscriptions"]] == ["ok"]


async def _only_letter(rig: Any) -> dict[str, Any]:
    """The one dead letter the rig's publish wrote, decoded, once it is there (at most 10 s)."""
    deadline = time.monotonic() + 10
    while not rig.letters and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    (letter,) = rig.letters
    return dict(orjson.loads(letter.value))


async def test_a_name_that_changes_to_an_inside_address_after_creation_is_refused_at_delivery(rig_factory) -> None:
    rig = await rig_factory()
    rig.dns.answers["hooks.rebind.example"] = [PUBLIC]
    desk = await rig.key("desk")
    status, _ = await rig.create(
        desk, {"id": "rebind", "target": {"kind": "webhook", "url": "https://hooks.rebind.example/in"}}
    )
    assert status == 201
    rig.dns.answers["hooks.rebind.example"] = ["169.254.169.254"]  # the DNS answer changes
    asked = len(rig.dns.asked)
    await rig.publish_article("nf_1")
    d = await _only_letter(rig)
    assert d["error"]["code"] == "webhook_refused_target", d
    assert "169.254.169.254" in d["error"]["message"] and "link-local" in d["error"]["message"]
    assert rig.dns.asked[asked:] == ["hooks.rebind.example"]  # resolved at connection time, then refused
    assert await rig.replicas[0].publish.outbox.pending("rebind") == 0  # not retried


async def test_an_inside_address_stored_without_the_api_is_refused_at_delivery(rig_factory) -> None:
    rig = await rig_factory()
    publish = rig.replicas[0].publish
    sub = Subscription.model_validate({"id": "inside", "target": {"kind": "webhook", "url": "https://10.0.0.5/admin"}})
    await publish.store.put(sub)  # written straight to Redis, as an older version could have
    await publish.catalog.refresh()
    await rig.publish_article("nf_1")
    d = await _only_letter(rig)
    assert d["error"]["code"] == "webhook_refused_target" and "private" in d["error"]["message"]
    assert rig.dns.asked == []  # a literal is never resolved, nor connected to


async def test_the_openapi_document_declares_the_key_scheme_and_each_routes_scope(rig_factory) -> None:
    rig = await rig_factory()
    async with rig.http.get(f"{rig.base}/openapi.json") as r:
        doc = await r.json()
    assert doc["components"]["securitySchemes"]["apiKey"] == {**doc["components"]["securitySchemes"]["apiKey"],
                                                             "type": "http", "scheme": "bearer"}  # fmt: skip
    for method, path, _, scope in ROUTES:
        op = doc["paths"][path][method.lower()] if path in doc["paths"] else None
        if op is None:
            continue
        if scope is None:
            assert op["security"] == []
        else:
            assert op["x-newsflow-scope"] == scope and {"apiKey": [scope]} in op["security"], (method, path)
            assert "401" in op["responses"] and "403" in op["responses"]


def _newsflow(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings_env(settings)}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


async def test_newsflow_keys_create_list_revoke_against_a_replica(rig_factory) -> None:
    rig = await rig_factory()
    made = await asyncio.to_thread(_newsflow, rig.settings, "keys", "create", "night-desk", "--scope", "read")
    assert made.returncode == 0, made.stderr
    (key,) = re.findall(r"^nfk_[A-Za-z0-9_-]{43}$", made.stdout, re.MULTILINE)  # printed once, on its own line
    assert "action=key.create" in made.stderr and "name=night-desk" in made.stderr  # the audit line
    async with rig.http.get(f"{rig.base}/v1/stories", headers=bearer(key)) as r:
        assert r.status == 200
    again = await asyncio.to_thread(_newsflow, rig.settings, "keys", "create", "night-desk")
    assert again.returncode == 2 and "exists" in again.stdout
    listed = await asyncio.to_thread(_newsflow, rig.settings, "keys", "list")
    assert "night-desk\tread\t" in listed.stdout and key not in listed.stdout
    revoked = await asyncio.to_thread(_newsflow, rig.settings, "keys", "revoke", "night-desk")
    assert revoked.returncode == 0, revoked.stderr
    await asyncio.sleep(rig.settings.api_key_cache_s)
    async with rig.http.get(f"{rig.base}/v1/stories", headers=bearer(key)) as r:
        assert r.status == 401
