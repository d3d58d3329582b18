"""Redis with an ACL user and password, over TLS, built only from Settings by ``make_redis``.

The fixture starts its own ``redis-server`` on a free port with a throwaway CA and
server certificate (``openssl``, in tmp), a TLS-only port and an ACL file: the default
user off, ``nfsvc`` allowed the service commands on ``nfsec:*`` keys, and ``outsider``
the same commands on other keys only.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from redis.exceptions import AuthenticationError, ConnectionError, NoPermissionError, ResponseError

from devtools.embedded import TlsFiles, free_port, make_tls_files, start_redis, stop, write_redis_acl
from services.enrich.stories import RedisStoryIndex, story_id_for
from services.ingest.dedup import RedisDedupStore
from shared.redis_client import delete_namespace, make_redis
from shared.settings import Settings
from shared.settings_check import require_workable
from tests.integration.test_dedup_contract import BASE, NEAR, NEAR_COPY, item
from tests.integration.test_story_index_contract import floods, iran

pytestmark = pytest.mark.integration

PASSWORD = f"svc-{uuid.uuid4().hex}"
OUTSIDER_PASSWORD = f"out-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def secure_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, TlsFiles]]:
    d = tmp_path_factory.mktemp("redis-secure")
    tls = make_tls_files(d / "tls")
    acl = write_redis_acl(d / "users.acl", {"nfsvc": (PASSWORD, "nfsec:*"), "outsider": (OUTSIDER_PASSWORD, "other:*")})
    port = free_port()
    proc = start_redis(port, tls=tls, acl_file=acl, log=d / "redis.log")
    try:
        yield port, tls
    finally:
        stop(proc)


def secure_settings(port: int, tls: TlsFiles | None, **overrides: object) -> Settings:
    base: dict[str, object] = {
        "redis_url": f"rediss://127.0.0.1:{port}/0",
        "redis_username": "nfsvc",
        "redis_password": SecretStr(PASSWORD),
        "redis_tls_ca_file": tls.ca if tls else None,
        "redis_namespace": f"nfsec:{uuid.uuid4().hex[:10]}",
    }
    base.update(overrides)
    return Settings(**base)  # type: ignore[arg-type]  # field values of mixed types from a dict


@pytest.fixture
async def settings(secure_redis: tuple[int, TlsFiles]) -> AsyncIterator[Settings]:
    s = require_workable(secure_settings(*secure_redis))
    yield s
    client = make_redis(s)
    await delete_namespace(client, s.redis_namespace)
    await client.aclose()


async def test_the_acl_user_over_tls_runs_the_dedup_lua_and_the_story_index(settings: Settings) -> None:
    client = make_redis(settings)
    try:
        store = RedisDedupStore(client, namespace=settings.redis_key("dedup"), ttl_s=3600, near=NEAR)
        first, copy = await store.decide([item(BASE, "raw:0:1", "a-1"), item(NEAR_COPY, "raw:0:2", "a-2")])
        assert first.passes and not copy.passes and copy.duplicate_of == "a-1" and copy.kind == "near"
        ids = await RedisStoryIndex(client, settings).assign([iran("afp-1"), floods("x-2"), iran("ap-3")])
        assert ids == [story_id_for("afp-1"), story_id_for("x-2"), story_id_for("afp-1")]
    finally:
        await client.aclose()


async def test_a_wrong_password_is_refused(secure_redis: tuple[int, TlsFiles]) -> None:
    client = make_redis(secure_settings(*secure_redis, redis_password=SecretStr("not-the-password")))
    with pytest.raises(AuthenticationError, match="invalid username-password pair"):
        await client.ping()
    await client.aclose()


async def test_without_a_user_the_disabled_default_user_gets_nothing(secure_redis: tuple[int, TlsFiles]) -> None:
    client = make_redis(secure_settings(*secure_redis, redis_username=None, redis_password=None))
    with pytest.raises((AuthenticationError, ResponseError), match=r"(?i)auth"):
        await client.get("nfsec:x")
    await client.aclose()


async def test_a_user_without_rights_on_the_namespace_is_refused(secure_redis: tuple[int, TlsFiles]) -> None:
    s = secure_settings(*secure_redis, redis_username="outsider", redis_password=SecretStr(OUTSIDER_PASSWORD))
    client = make_redis(s)
    try:
        assert await client.ping()  # authenticated...
        store = RedisDedupStore(client, namespace=s.redis_key("dedup"), ttl_s=3600, near=NEAR)
        # ...but not on newsflow's keys (inside the Lua script the refusal comes as a plain error reply)
        with pytest.raises(ResponseError, match="can't access at least one of the keys"):
            await store.decide([item(BASE, "raw:0:1", "a-1")])
        with pytest.raises(NoPermissionError):
            await client.execute_command("FLUSHALL")
    finally:
        await client.aclose()


async def test_tls_without_the_ca_fails_verification(secure_redis: tuple[int, TlsFiles]) -> None:
    port, _ = secure_redis
    client = make_redis(secure_settings(port, None))  # the system CAs do not know the throwaway CA
    with pytest.raises(ConnectionError, match=r"(?i)certificate verify failed"):
        await client.ping()
    await client.aclose()


async def test_plaintext_to_the_tls_port_fails(secure_redis: tuple[int, TlsFiles]) -> None:
    port, _ = secure_redis
    client = make_redis(secure_settings(port, None, redis_url=f"redis://127.0.0.1:{port}/0"))
    with pytest.raises(ConnectionError):
        await client.ping()
    await client.aclose()


def test_the_password_never_shows_in_the_settings_repr_or_dump(tmp_path: Path) -> None:
    s = secure_settings(6379, None)
    for text in (repr(s), str(s), s.model_dump_json(), repr(s.model_dump())):
        assert PASSWORD not in text
    assert s.to_env()["NEWSFLOW_REDIS_PASSWORD"] == PASSWORD  # only what a child process needs
