"""Users' side: standard Kafka clients (librdkafka, kcat) and the newsflow CLI against running services."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Consumer, Producer

from shared.settings import Settings

from ..conftest import settings_env
from ..kafkautil import collect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE = ROOT / "tests" / "data" / "sample-article-afp-2024-04-14.txt"


def _cli(
    settings: Settings, *args: str, stdin: bytes | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings_env(settings), "COLUMNS": "200"}
    r = subprocess.run(
        [sys.executable, "-m", "services.cli", *args], cwd=ROOT, env=env, input=stdin or b"", capture_output=True,
        timeout=timeout, check=False,
    )  # fmt: skip
    return subprocess.CompletedProcess(r.args, r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode())


async def test_librdkafka_producer_and_consumer_need_no_newsflow_code(settings, workers) -> None:
    workers.start("ingest")
    workers.start("enrich")
    p = Producer({"bootstrap.servers": settings.bootstrap_servers})
    p.produce(settings.topics.raw, SAMPLE.read_bytes())  # plain text
    p.produce(
        settings.topics.raw,
        json.dumps({"title": "Chess champion retains title", "body": "The world chess champion retained her title "
                    "on Sunday after a tense final game in Madrid, organisers said. " * 4,
                    "url": "https://example.org/chess"}).encode(),
    )  # fmt: skip
    assert p.flush(30) == 0
    c = Consumer({
        "bootstrap.servers": settings.bootstrap_servers, "group.id": f"{settings.group_prefix}-reader",
        "auto.offset.reset": "earliest", "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000,
    })  # fmt: skip
    c.subscribe([settings.topics.enriched])
    titles: set[str] = set()
    deadline = time.monotonic() + 90
    try:
        while len(titles) < 2 and time.monotonic() < deadline:
            m = c.poll(1.0)
            if m is None or m.error():
                continue
            value = orjson.loads(m.value() or b"")
            assert m.key() == value["id"].encode()
            assert dict(m.headers() or [])["ce_type"] == b"io.newsflow.article.enriched"
            titles.add(value["title"])
    finally:
        c.close()
    assert titles == {
        "US says doesn't want escalation as Israel war cabinet mulls response to Iran attack",
        "Chess champion retains title",
    }, workers.logs()


@pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is not installed (apt-get install kcat)")
async def test_kcat_publishes_and_reads(settings, workers) -> None:
    workers.start("ingest")
    kcat = str(ROOT / "scripts" / "kcat")
    r = subprocess.run(
        [kcat, "-b", settings.bootstrap_servers, "-P", "-t", settings.topics.raw, str(SAMPLE)],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    got = await collect(settings, [settings.topics.ingested], count=1, timeout_s=60)
    assert got, workers.logs()
    r = subprocess.run(
        [kcat, "-b", settings.bootstrap_servers, "-C", "-t", settings.topics.ingested, "-o", "beginning", "-e", "-q"],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert orjson.loads(r.stdout.splitlines()[0])["dateline"]["agency"] == "AFP"


async def test_cli_send_tail_and_dlq_redrive(settings, workers, tmp_path: Path) -> None:
    workers.start("ingest")
    jsonl = tmp_path / "batch.jsonl"
    jsonl.write_text(
        json.dumps(
            {"title": "Dam opens", "body": "A new dam opened on Friday, bringing power to a million homes. " * 3}
        )
        + "\n[1, 2]\n"
    )
    sent = _cli(settings, "send", str(SAMPLE), str(jsonl))
    assert sent.returncode == 0, sent.stderr
    assert "sent 3 article(s)" in sent.stdout
    piped = _cli(settings, "send", "-", stdin=b"\xff\xfe broken bytes")
    assert piped.returncode == 0 and "sent 1 article(s)" in piped.stdout

    t = settings.topics
    got = await collect(settings, [t.ingested, t.dlq], count=4, timeout_s=60)
    assert sorted(g.topic for g in got) == sorted([t.ingested, t.ingested, t.dlq, t.dlq]), workers.logs()

    tail = _cli(settings, "tail", t.ingested, "--from-beginning", "-n", "2")
    assert tail.returncode == 0, tail.stderr
    assert "US says doesn't want escalation" in tail.stdout and "Dam opens" in tail.stdout
    as_json = _cli(settings, "tail", t.ingested, "--from-beginning", "-n", "2", "--json")
    assert {orjson.loads(line)["title"] for line in as_json.stdout.splitlines()} >= {"Dam opens"}

    shown = _cli(settings, "dlq", "show")
    assert "not_an_object" in shown.stdout and "invalid_utf8" in shown.stdout, shown.stdout + shown.stderr
    assert "2 dead letter(s)" in shown.stdout

    dry = _cli(settings, "dlq", "redrive", "--code", "not_an_object", "--dry-run")
    assert "would re-drive 1 dead letter(s)" in dry.stdout, dry.stdout + dry.stderr
    redriven = _cli(settings, "dlq", "redrive", "--code", "not_an_object")
    assert "re-drove 1 dead letter(s)" in redriven.stdout, redriven.stdout + redriven.stderr
    # the re-driven record goes through ingest again (still bad: a new dead letter with the re-drive marked)
    got = await collect(settings, [t.dlq], count=3, timeout_s=60)
    assert len(got) == 3
    assert any("newsflow_redriven_from" in orjson.loads(g.value)["original_headers"] for g in got)
    again = _cli(settings, "dlq", "redrive", "--code", "not_an_object")
    assert "re-drove 1 dead letter(s)" in again.stdout  # only the new letter: each letter is re-driven once
