"""The message contract for other tools: docs/asyncapi.yaml is current and valid AsyncAPI 3.0, and the
records the services really produce match the schemas it (and ``newsflow schema json``) publishes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from typer.testing import CliRunner

from services.cli import app
from services.clients import iter_inputs
from services.contracts import asyncapi_document, asyncapi_yaml, topic_json_schema
from services.ingest.dedup import MemoryDedupStore, NearParams
from services.ingest.handler import IngestHandler
from services.publish.routing import load_router
from shared import codec
from shared.models import EnrichedArticle, Enrichment, Origin
from shared.records import InRecord, OutRecord, model_record
from shared.settings import Settings, Topics

from ..conftest import ROOT

DOC_PATH = ROOT / "docs" / "asyncapi.yaml"
ASYNCAPI_SCHEMA = ROOT / "tests" / "schemas" / "asyncapi-3.0.0.json"
SAMPLES = ROOT / "services" / "samples"


def _document() -> dict[str, Any]:
    return asyncapi_document(Topics(), load_router().routes)


def test_the_committed_asyncapi_document_is_current() -> None:
    assert DOC_PATH.read_text() == asyncapi_yaml(_document()), (
        "docs/asyncapi.yaml is out of date: run `newsflow schema asyncapi -o docs/asyncapi.yaml`"
    )


def _check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "check_jsonschema", "--schemafile", str(ASYNCAPI_SCHEMA), str(path)]
    return subprocess.run(cmd, capture_output=True, text=True)


def test_the_asyncapi_document_is_valid_against_the_asyncapi_3_0_schema() -> None:
    result = _check_jsonschema(DOC_PATH)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d["operations"]["ingestReceiveRaw"].update(action="consume"),
        lambda d: d["channels"]["raw"]["bindings"]["kafka"].update(partitions=0),
        lambda d: d["components"]["messages"]["Article"].update(contentType=7),
    ],
)
def test_the_asyncapi_schema_rejects_a_broken_document(tmp_path: Path, breakage: Any) -> None:
    """The shipped schema is a real check: a document that breaks AsyncAPI 3.0 fails it."""
    doc = _document()
    breakage(doc)
    path = tmp_path / "broken.yaml"
    path.write_text(asyncapi_yaml(doc))
    assert _check_jsonschema(path).returncode != 0


def test_every_topic_and_route_has_a_channel_with_kafka_bindings_and_cloudevents_headers() -> None:
    doc = _document()
    addresses = {c["address"] for c in doc["channels"].values()}
    assert set(Topics().all()) | {r.topic for r in load_router().routes} == addresses
    for name, message in doc["components"]["messages"].items():
        assert message["bindings"]["kafka"]["key"]["type"] == "string", name
        if not name.startswith("Raw"):
            assert {"ce_specversion", "ce_id", "ce_type", "traceparent"} <= set(message["headers"]["required"])
    groups = {op["bindings"]["kafka"]["groupId"]["enum"][0] for op in doc["operations"].values() if "bindings" in op}
    assert groups == {"newsflow-ingest", "newsflow-enrich", "newsflow-publish"}


# --- the real records against the published schemas ---------------------------------------------------


def _validator(doc: dict[str, Any], pointer: str) -> jsonschema.Draft202012Validator:
    registry = Registry().with_resource("urn:newsflow:asyncapi", Resource.from_contents(doc, DRAFT202012))
    return jsonschema.Draft202012Validator(
        {"$ref": f"urn:newsflow:asyncapi#{pointer}"}, registry=registry, format_checker=jsonschema.FormatChecker()
    )


def _errors(validator: jsonschema.Draft202012Validator, instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]


async def _ingest_outputs() -> list[OutRecord]:
    settings = Settings(near_dedup=False)
    handler = IngestHandler(settings, MemoryDedupStore(NearParams(min_equal_slots=0)))
    raws = [r.value for r in iter_inputs([str(SAMPLES)])] + [b"[1, 2]"]
    raws.append(raws[0])  # the same article again: an exact duplicate
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    records = [
        InRecord("news.raw", 0, i, None, v, {"traceparent": traceparent}, 1_713_000_000_000 + i)
        for i, v in enumerate(raws)
    ]
    return await handler.handle(records)


def _headers(out: OutRecord) -> dict[str, str]:
    return {k: v.decode() for k, v in out.headers.items()}


async def test_records_ingest_produces_match_their_channel_messages_in_the_document() -> None:
    doc = _document()
    by_topic = {c["address"]: next(iter(c["messages"])) for c in doc["channels"].values()}
    outs = await _ingest_outputs()
    assert {o.topic for o in outs} == {"news.ingested", "news.duplicates", "news.dlq"}
    for out in outs:
        message = by_topic[out.topic]
        payload = _validator(doc, f"/components/messages/{message}/payload")
        headers = _validator(doc, f"/components/messages/{message}/headers")
        assert _errors(payload, orjson.loads(out.value)) == [], out.topic
        assert _errors(headers, _headers(out)) == [], out.topic


def test_raw_samples_match_the_raw_schema_and_a_wrong_shape_does_not() -> None:
    doc = _document()
    raw_json = _validator(doc, "/components/messages/RawJson/payload")
    for raw in iter_inputs([str(SAMPLES)]):
        value = raw.value.decode()
        if value.lstrip().startswith("{"):
            assert _errors(raw_json, json.loads(value)) == [], raw.origin
    assert _errors(raw_json, {"headline": 5}) != []  # no shape takes a number for a headline


def _enriched() -> EnrichedArticle:
    return EnrichedArticle(
        id="nf_1", content_hash="h", title="t", body="b", raw_format="fields", ingested_at=datetime.now(UTC),
        origin=Origin(topic="news.raw", partition=0, offset=1), story_id="st_1",
        enrichment=Enrichment.model_validate(
            {"enriched_at": datetime.now(UTC), "language": {"code": "en", "method": "m", "version": "1"}}
        ),
    )  # fmt: skip


def test_topic_json_schemas_accept_real_values_and_reject_others() -> None:
    enriched = orjson.loads(codec.dumps(_enriched()))
    for role in ("enriched", "published"):
        validator = jsonschema.Draft202012Validator(topic_json_schema(role), format_checker=jsonschema.FormatChecker())
        assert list(validator.iter_errors(enriched)) == []
        assert list(validator.iter_errors({**enriched, "unexpected": 1})) != []  # the models forbid extra fields
    raw = jsonschema.Draft202012Validator(topic_json_schema("raw"))
    assert raw.is_valid("any plain text") and raw.is_valid({"html": "<p>x</p>"}) and not raw.is_valid([1, 2])
    with pytest.raises(ValueError, match="unknown topic"):
        topic_json_schema("news.nope")


def test_enriched_records_match_the_document() -> None:
    doc = _document()
    out = model_record(
        "news.enriched", "nf_1", _enriched(), event_type="article.enriched", source="newsflow/enrich",
        event_id="nf_1:v1:enriched", time=datetime.now(UTC),
        parent=InRecord("news.ingested", 0, 3, b"nf_1", b"{}", {"newsflow_raw_ts": "1713000000000"}, 1713000000500),
    )  # fmt: skip
    assert _errors(_validator(doc, "/components/messages/EnrichedArticle/payload"), orjson.loads(out.value)) == []
    assert _errors(_validator(doc, "/components/messages/EnrichedArticle/headers"), _headers(out)) == []


def test_the_cli_prints_the_document_and_a_topics_json_schema() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["schema", "asyncapi"])
    assert result.exit_code == 0 and yaml.safe_load(result.stdout)["asyncapi"] == "3.0.0"
    result = runner.invoke(app, ["schema", "json", "news.ingested"])
    assert result.exit_code == 0 and json.loads(result.stdout) == topic_json_schema("ingested")
    result = runner.invoke(app, ["schema", "json", "news.published.lang.fr"])  # a routed topic
    assert result.exit_code == 0 and json.loads(result.stdout) == topic_json_schema("published")
    assert runner.invoke(app, ["schema", "json", "no.such.topic"]).exit_code == 2
