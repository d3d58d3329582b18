"""The archive worker end to end: news.enriched -> PostgreSQL, with two replicas, a malformed record,
and PostgreSQL stopped mid-stream (its own server, stopped and started by the test)."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from devtools.embedded import find_postgres_bin, free_port, start_postgres, stop
from shared.settings import Settings
from tests.conftest import Workers
from tests.httputil import wait_for
from tests.kafkautil import collect, produce
from tests.unit.publish_articles import enriched

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def articles(prefix: str, n: int) -> tuple[list[bytes], list[bytes]]:
    arts = [enriched(f"{prefix}{i}", story_id=f"st_{i % 5}") for i in range(n)]
    return [a.model_dump_json().encode() for a in arts], [a.id.encode() for a in arts]


def rows(url: str) -> int:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            r = conn.execute("SELECT count(*), count(DISTINCT (id, version)) FROM articles").fetchone()
    except psycopg.Error:
        return -1
    assert r is not None
    assert r[0] == r[1]  # never two rows of one article version
    return int(r[0])


def wait_rows(url: str, want: int, timeout_s: float, workers: Workers) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if rows(url) == want:
            return
        time.sleep(0.5)
    raise AssertionError(f"{rows(url)} rows, want {want}\n{workers.logs()}")


async def test_two_replicas_archive_every_record_once_and_dead_letter_a_bad_one(
    settings: Settings, workers: Workers, pg_url: str
) -> None:
    for _ in range(2):
        workers.start("archive", NEWSFLOW_ARCHIVE_URL=pg_url)
    values, keys = articles("r", 120)
    await produce(settings, values, settings.topics.enriched, keys=keys)
    await produce(settings, values[:40], settings.topics.enriched, keys=keys[:40])  # redelivered
    await produce(settings, [b'{"not": "an article"}'], settings.topics.enriched, keys=[b"bad"])
    await asyncio.to_thread(wait_rows, pg_url, 120, 90, workers)
    letters = await collect(settings, [settings.topics.dlq], count=1, timeout_s=30)
    assert b"invalid_article" in letters[0].value and b'"stage":"archive"' in letters[0].value


@pytest.fixture
def own_postgres() -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """A PostgreSQL of this test's own (never the shared one): its url, stop() and start()."""
    try:
        find_postgres_bin()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    folder = Path(tempfile.mkdtemp(prefix="newsflow-pg-"))
    folder.chmod(0o755)  # the postgres user (when the tests run as root) reaches its data folder
    port = free_port()
    procs = [start_postgres(port, folder / "data", durable=False)]

    def down() -> None:
        stop(procs[-1], timeout_s=30)

    def up() -> None:
        procs.append(start_postgres(port, folder / "data", durable=False))

    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/newsflow", down, up
    finally:
        for p in procs:
            stop(p)
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


async def test_postgres_stopped_for_30s_mid_stream_loses_nothing_and_duplicates_nothing(
    settings: Settings, workers: Workers, own_postgres: tuple[str, Callable[[], None], Callable[[], None]]
) -> None:
    url, down, up = own_postgres
    port = free_port()
    first = workers.start("archive", NEWSFLOW_ARCHIVE_URL=url, NEWSFLOW_WEB_PORT=str(port))
    values, keys = articles("o", 200)
    await produce(settings, values[:100], settings.topics.enriched, keys=keys[:100])
    await asyncio.to_thread(wait_rows, url, 100, 90, workers)  # the database was created and migrated
    assert json.loads(await asyncio.to_thread(wait_for, port, "/readyz", 200, 30))["checks"]["postgresql"] == "ok"
    down()
    checks = json.loads(await asyncio.to_thread(wait_for, port, "/readyz", 503, 30))["checks"]  # PostgreSQL gone
    assert checks["postgresql"].startswith("error"), checks
    await produce(settings, values[100:], settings.topics.enriched, keys=keys[100:])
    await produce(settings, values[:30], settings.topics.enriched, keys=keys[:30])  # and a replay
    await asyncio.sleep(15)
    assert first.poll() is None, "the worker must back off, not crash:\n" + workers.logs()
    first.terminate()  # a worker stopping during the outage: its blocked batch's offsets stay uncommitted
    first.wait(30)
    await asyncio.sleep(15)
    up()
    workers.start("archive", NEWSFLOW_ARCHIVE_URL=url)
    await asyncio.to_thread(wait_rows, url, 200, 120, workers)
    assert "retrying" in workers.logs()
