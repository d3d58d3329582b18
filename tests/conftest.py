"""Fixtures: one real broker (Tansu) per session, the real Redis, and factories.

- ``broker``: a Tansu broker started once per test session on a free port
  (``NEWSFLOW_TEST_BOOTSTRAP`` points the tests at another broker instead).
- ``redis_url``: the Redis at ``NEWSFLOW_TEST_REDIS_URL`` (default
  127.0.0.1:6379); one is started on a free port when none answers.
- ``settings``: a fresh :class:`Settings` per test with its own topic names,
  consumer groups and Redis namespace, so tests never see each other's data.
- ``workers``: starts service workers as real processes (``python -m
  services.cli ingest``) configured by those settings, and kills them at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from redis.asyncio import Redis

from devtools.embedded import free_port, port_open, start_redis, start_tansu, stop
from shared.kafka import ensure_topics
from shared.redis_client import delete_namespace
from shared.settings import Settings, Topics

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("NEWSFLOW_TEST_BOOTSTRAP")
    if external:
        yield external
        return
    port = free_port()
    proc = start_tansu(port, log=tmp_path_factory.mktemp("tansu") / "tansu.log")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("NEWSFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    u = urlparse(url)
    if port_open(u.hostname or "127.0.0.1", u.port or 6379):
        yield url
        return
    port = free_port()
    proc = start_redis(port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(proc)


def make_settings(bootstrap: str, redis_url: str, **overrides: object) -> Settings:
    """Settings isolated by a unique run id: topics, groups and Redis namespace."""
    run = uuid.uuid4().hex[:10]
    base: dict[str, object] = {
        "bootstrap_servers": bootstrap,
        "redis_url": redis_url,
        "topics": Topics(
            raw=f"t{run}.raw",
            ingested=f"t{run}.ingested",
            enriched=f"t{run}.enriched",
            duplicates=f"t{run}.duplicates",
            dlq=f"t{run}.dlq",
            deliveries=f"t{run}.deliveries",
        ),
        "partitions": 4,
        "group_prefix": f"g{run}",
        "redis_namespace": f"nftest:{run}",
        # Tansu joins a group in ~half the session timeout: keep it short in tests.
        "session_timeout_s": 6.0,
        "heartbeat_interval_s": 1.0,
        "rebalance_timeout_s": 6.0,
        "commit_interval_s": 0.2,
        "batch_wait_s": 0.05,
    }
    base.update(overrides)
    return Settings(**base)  # type: ignore[arg-type]  # the overrides are checked by pydantic when it runs


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment variables that reproduce ``settings`` in a child process."""
    return {**settings.to_env(), "NEWSFLOW_LOG_LEVEL": "INFO"}


@pytest.fixture
def settings_factory(broker: str, redis_url: str) -> Callable[..., Settings]:
    def factory(**overrides: object) -> Settings:
        url = str(overrides.pop("redis_url", redis_url))
        return make_settings(broker, url, **overrides)

    return factory


@pytest.fixture
async def settings(settings_factory: Callable[..., Settings]) -> AsyncIterator[Settings]:
    s = settings_factory()
    await ensure_topics(s)
    yield s


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url)
    yield client
    await delete_namespace(client, settings.redis_namespace)
    await client.aclose()


class Workers:
    """Service workers as real OS processes (the container entrypoint)."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.settings = settings
        self.log_dir = log_dir
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, service: str, **extra_env: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, **settings_env(self.settings), **extra_env}
        n = len(self.procs)
        log = open(self.log_dir / f"{service}-{n}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli", service], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        self.procs.append((service, proc))
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.log_dir.glob("*.log"))

    def stop_all(self) -> None:
        for _, p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for _, p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture
def workers(settings: Settings, tmp_path: Path) -> Iterator[Workers]:
    w = Workers(settings, tmp_path)
    try:
        yield w
    finally:
        w.stop_all()


# -- PostgreSQL (the archive) ---------------------------------------------------------------------------


def postgres_admin_url() -> str:
    """The shared PostgreSQL the tests create their databases in (``NEWSFLOW_TEST_POSTGRES_URL``)."""
    return os.environ.get("NEWSFLOW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A database of its own on the shared PostgreSQL (created empty, dropped after the test); the test is
    skipped when no PostgreSQL answers."""
    import psycopg
    from psycopg import sql

    admin = postgres_admin_url()
    name = f"nftest_{uuid.uuid4().hex[:12]}"
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {admin}: {exc}")
    with conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
