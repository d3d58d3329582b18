"""Observability end to end: the three services as processes, a real broker and Redis, an OTLP receiver.

One article (sent with a W3C ``traceparent``) and one bad record go through ingest, enrich and
publish (a language route and a ``format: ninjs`` route). Then:

- the spans the three processes exported over OTLP/HTTP form one trace, parent to child, from the
  raw record's span to every sink, and each output's ``traceparent`` is the span that made it;
- each service's ``/metrics`` has the metrics the pipeline promises, with samples, and every name the
  Grafana dashboard (``deploy/grafana/newsflow.json``) queries exists there;
- the services log one JSON object per line (``NEWSFLOW_LOG_FORMAT=json``);
- the ninjs sink's value is valid against IPTC's ninjs 2.1 schema.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from aiohttp import web
from aiokafka import AIOKafkaProducer
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from devtools.embedded import free_port
from shared.kafka import ensure_topics
from shared.redis_client import delete_namespace
from shared.settings import Settings

from ..conftest import ROOT, Workers, make_settings
from ..kafkautil import Got, collect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DASHBOARD = ROOT / "deploy" / "grafana" / "newsflow.json"
NINJS_SCHEMA = json.loads((ROOT / "tests" / "schemas" / "ninjs-schema_2.1.json").read_text())
SAMPLE = (ROOT / "tests" / "data" / "sample-article-afp-2024-04-14.txt").read_bytes()
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
RAW_SPAN = "00f067aa0ba902b7"
SERVICES = ("ingest", "enrich", "publish")


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    links: tuple[str, ...]  # linked span ids


@dataclass
class Receiver:
    """An OTLP/HTTP (protobuf) trace receiver: what a collector's ``/v1/traces`` does, kept in memory."""

    spans: list[Span] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        export = ExportTraceServiceRequest()
        export.ParseFromString(body)
        for rs in export.resource_spans:
            attrs = {a.key: a.value.string_value for a in rs.resource.attributes}
            for ss in rs.scope_spans:
                for s in ss.spans:
                    self.spans.append(
                        Span(
                            service=attrs.get("service.name", ""),
                            name=s.name,
                            trace_id=s.trace_id.hex(),
                            span_id=s.span_id.hex(),
                            parent_span_id=s.parent_span_id.hex(),
                            links=tuple(link.span_id.hex() for link in s.links),
                        )
                    )
        return web.Response(
            body=ExportTraceServiceResponse().SerializeToString(), content_type="application/x-protobuf"
        )


@dataclass
class Running:
    settings: Settings
    workers: Workers
    receiver: Receiver
    ports: dict[str, int]
    got: list[Got]
    lang_topic: str
    ninjs_topic: str


def _routing(tmp: Path, prefix: str) -> Path:
    path = tmp / "routing.yaml"
    path.write_text(
        "routes:\n"
        f"  - name: by-language\n    topic: {prefix}.lang.{{language}}\n"
        f"  - name: wire-ninjs\n    topic: {prefix}.ninjs\n    format: ninjs\n"
    )
    return path


async def _send(settings: Settings) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    await producer.start()
    try:
        traceparent = f"00-{TRACE_ID}-{RAW_SPAN}-01".encode()
        await (await producer.send(settings.topics.raw, SAMPLE, headers=[("traceparent", traceparent)]))
        await (await producer.send(settings.topics.raw, b"[1, 2]"))  # a dead letter: not_an_object
    finally:
        await producer.stop()


@pytest.fixture(scope="module")
async def running(broker: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    tmp = tmp_path_factory.mktemp("observability")
    settings = make_settings(broker, redis_url)
    prefix = settings.topics.raw.split(".")[0]
    await ensure_topics(settings)
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/v1/traces", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    otlp_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", otlp_port).start()
    workers = Workers(settings, tmp)
    ports = {s: free_port() for s in SERVICES}
    env = {
        "NEWSFLOW_OTEL_ENDPOINT": f"http://127.0.0.1:{otlp_port}",
        "NEWSFLOW_LOG_FORMAT": "json",
        "NEWSFLOW_ROUTING_FILE": str(_routing(tmp, prefix)),
        "OTEL_BSP_SCHEDULE_DELAY": "200",  # the SDK's export interval (ms), 5 s by default
    }
    try:
        for service in SERVICES:
            workers.start(service, NEWSFLOW_WEB_PORT=str(ports[service]), **env)
        await _send(settings)
        lang_topic, ninjs_topic = f"{prefix}.lang.en", f"{prefix}.ninjs"
        await ensure_topics(settings, [lang_topic, ninjs_topic])  # so the reader sees them before publish
        got = await collect(settings, [lang_topic, ninjs_topic, settings.topics.dlq], count=3, timeout_s=180)
        assert len(got) == 3, workers.logs()
        yield Running(settings, workers, receiver, ports, got, lang_topic, ninjs_topic)
    finally:
        workers.stop_all()
        await runner.cleanup()
        client = Redis.from_url(settings.redis_url)
        await delete_namespace(client, settings.redis_namespace)
        await client.aclose()


def _trace(receiver: Receiver) -> list[Span]:
    return [s for s in receiver.spans if s.trace_id == TRACE_ID]


async def _wait_for_spans(running: Running, want: int, timeout_s: float = 30) -> list[Span]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and len(_trace(running.receiver)) < want:
        await asyncio.sleep(0.2)
    return _trace(running.receiver)


async def test_one_article_is_one_connected_trace_across_the_three_services(running: Running) -> None:
    # raw -> ingest (article.ingested) -> enrich (article.enriched) -> publish (one span per sink: 2)
    spans = await _wait_for_spans(running, want=4)
    by_service = {s: [x for x in spans if x.service == f"newsflow-{s}"] for s in SERVICES}
    assert [x.name for x in by_service["ingest"]] == ["article.ingested"], spans
    ingest = by_service["ingest"][0]
    assert ingest.parent_span_id == RAW_SPAN  # continued from the raw record's traceparent
    assert [x.name for x in by_service["enrich"]] == ["article.enriched"], spans
    enrich = by_service["enrich"][0]
    assert enrich.parent_span_id == ingest.span_id
    assert sorted(x.name for x in by_service["publish"]) == ["article.published"] * 2, spans
    assert {x.parent_span_id for x in by_service["publish"]} == {enrich.span_id}
    # every output record carries the context of the span that produced it
    published = {
        g.topic: g.headers["traceparent"].decode() for g in running.got if g.topic != running.settings.topics.dlq
    }
    assert set(published) == {running.lang_topic, running.ninjs_topic}
    publish_ids = {x.span_id for x in by_service["publish"]}
    for traceparent in published.values():
        _, trace_id, span_id, _ = traceparent.split("-")
        assert trace_id == TRACE_ID and span_id in publish_ids


async def test_batches_have_spans_linked_to_the_article_and_enrichers_nested_in_them(running: Running) -> None:
    await _wait_for_spans(running, want=4)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not any(s.name == "enrich batch" for s in running.receiver.spans):
        await asyncio.sleep(0.2)
    article_span = next(s for s in _trace(running.receiver) if s.name == "article.enriched")
    (batch,) = [s for s in running.receiver.spans if s.name == "enrich batch" and s.span_id in article_span.links]
    assert batch.trace_id != TRACE_ID  # a batch is a trace of its own, joined to its articles by links
    enrichers = {s.name for s in running.receiver.spans if s.parent_span_id == batch.span_id}
    assert {"enrich.language", "enrich.entities", "enrich.category"} <= enrichers, enrichers


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def _exposed_names(text: str) -> set[str]:
    """Every series name the exposition defines, with or without samples yet."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names |= {family.name + sfx for sfx in suffixes.get(family.type, ("",))}
        names |= {s.name for s in family.samples}
    return names


def _value(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for lbl, v in samples.get(name, []) if all(lbl.get(k) == want for k, want in labels.items()))


async def test_metrics_of_the_three_services_and_the_dashboard_uses_only_existing_names(running: Running) -> None:
    texts = {s: _scrape(p) for s, p in running.ports.items()}
    m = {s: _samples(t) for s, t in texts.items()}
    raw, dlq = running.settings.topics.raw, running.settings.topics.dlq
    assert _value(m["ingest"], "newsflow_records_in_total", service="ingest", topic=raw) == 2
    assert _value(m["ingest"], "newsflow_outcomes_total", service="ingest", outcome="ingested") == 1
    assert _value(m["ingest"], "newsflow_dead_letters_total", service="ingest", code="not_an_object") == 1
    assert _value(m["ingest"], "newsflow_records_out_total", service="ingest", topic=dlq) == 1
    assert _value(m["enrich"], "newsflow_outcomes_total", service="enrich", outcome="enriched") == 1
    assert _value(m["publish"], "newsflow_outcomes_total", service="publish", outcome="published") == 2
    for service in SERVICES:
        assert _value(m[service], "newsflow_batch_records_count", service=service) >= 1
        assert _value(m[service], "newsflow_handle_seconds_count", service=service) >= 1
        # the age of each output: now minus the raw record's timestamp, carried in newsflow_raw_ts
        assert _value(m[service], "newsflow_end_to_end_seconds_count", service=service) >= 1
        assert _value(m[service], "newsflow_end_to_end_seconds_sum", service=service) < 600
        lags = m[service].get("newsflow_consumer_lag", [])
        assert lags and all(v == 0 for _, v in lags), (service, lags)  # everything was read
    assert _value(m["publish"], "newsflow_end_to_end_seconds_count", service="publish") == 2
    assert _value(m["ingest"], "newsflow_redis_seconds_count", command="EVALSHA") >= 1
    assert _value(m["publish"], "newsflow_redis_seconds_count", command="PIPELINE") >= 1
    assert _value(m["enrich"], "newsflow_enricher_seconds_count", enricher="entities") >= 1
    assert _value(m["enrich"], "newsflow_enricher_articles_total", enricher="entities") >= 1

    exposed = set().union(*(_exposed_names(t) for t in texts.values()))
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs += [v["definition"] for v in dashboard["templating"]["list"] if v.get("definition")]
    used = {n for e in exprs for n in re.findall(r"\bnewsflow_[a-z0-9_]+", e)}
    assert len(used) >= 15, used
    assert used - exposed == set(), f"the dashboard queries metrics no service exposes: {sorted(used - exposed)}"


def test_services_log_one_json_object_per_line(running: Running) -> None:
    events: list[dict[str, Any]] = []
    for path in sorted(running.workers.log_dir.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if line.strip():
                events.append(json.loads(line))  # raises on any line that is not one JSON object
                assert {"timestamp", "level", "event", "logger"} <= set(events[-1]), line
    assert len(events) >= 3
    # the dead letter's line says where the record was read, and the batch it came in
    (dead,) = [e for e in events if e.get("code") == "not_an_object"]
    assert dead["topic"] == running.settings.topics.raw and dead["service"] == "ingest"
    assert isinstance(dead["partition"], int) and isinstance(dead["offset"], int)


def test_the_ninjs_sink_writes_valid_ninjs_items(running: Running) -> None:
    (record,) = [g for g in running.got if g.topic == running.ninjs_topic]
    item = orjson.loads(record.value)
    validator = jsonschema.Draft202012Validator(NINJS_SCHEMA, format_checker=jsonschema.FormatChecker())
    assert [e.message for e in validator.iter_errors(item)] == []
    assert item["language"] == "en" and item["subjects"][0]["literal"].startswith("medtop:")
    assert record.headers["ce_dataschema"] == b"http://www.iptc.org/std/ninjs/ninjs-schema_2.1.json"
