"""The message contract for other tools: JSON Schema per topic and an AsyncAPI 3.0 document.

Both are generated from the pydantic models of ``shared/models.py`` (the only definition of what
flows between the services) and the publish routing rules; nothing is written by hand.
``newsflow schema asyncapi`` prints the document (``docs/asyncapi.yaml`` is it for the default
configuration, checked to be current and valid against the AsyncAPI 3.0.0 JSON Schema in the tests);
``newsflow schema json TOPIC`` prints one topic's JSON Schema.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel

from shared.metrics import RAW_TS_HEADER
from shared.models import (
    SCHEMA_VERSION,
    Article,
    DeadLetter,
    DeliveryRecord,
    DuplicateRecord,
    EnrichedArticle,
    OutboxRecord,
    RawFields,
    RawHtml,
    RawNinjs,
    RawText,
)
from shared.settings import Topics

if TYPE_CHECKING:
    from services.publish.routing import Route

__all__ = ["TOPIC_ROLES", "asyncapi_document", "asyncapi_yaml", "topic_json_schema"]

NINJS_SCHEMA_URL = "http://www.iptc.org/std/ninjs/ninjs-schema_2.1.json"
_KAFKA_BINDING = "0.5.0"
_DRAFT_2020_12 = "application/schema+json;version=draft-2020-12"
_RAW_SHAPES: tuple[type[BaseModel], ...] = (RawText, RawFields, RawHtml, RawNinjs)
_MODELS: dict[str, type[BaseModel]] = {
    "ingested": Article,
    "enriched": EnrichedArticle,
    "duplicates": DuplicateRecord,
    "dlq": DeadLetter,
    "deliveries": DeliveryRecord,
}
_ALSO: tuple[type[BaseModel], ...] = (OutboxRecord,)  # on news.deliveries beside DeliveryRecord
TOPIC_ROLES = ("raw", "ingested", "enriched", "duplicates", "dlq", "deliveries", "published")
"""The kinds of topic: the six of :class:`Topics` and ``published`` (every routed topic)."""


def _schemas(models: Sequence[type[BaseModel]], ref_template: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The models' schemas, with every shared definition hoisted into one map (refs by ``ref_template``)."""
    defs: dict[str, Any] = {}
    out: list[dict[str, Any]] = []
    for model in models:
        schema = model.model_json_schema(ref_template=ref_template, mode="serialization")
        defs.update(schema.pop("$defs", {}))
        out.append(schema)
    return out, defs


def topic_json_schema(role: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of the values on a topic of ``role`` (see :data:`TOPIC_ROLES`)."""
    if role not in TOPIC_ROLES:
        raise ValueError(f"unknown topic {role!r}; use one of {', '.join(TOPIC_ROLES)} or a configured topic name")
    if role == "raw":
        shapes, defs = _schemas(_RAW_SHAPES, "#/$defs/{model}")
        schema: dict[str, Any] = {
            "title": "RawArticle",
            "description": "A raw article on news.raw: one of these JSON objects, or any non-JSON UTF-8 text "
            "(the article's raw text). Anything else goes to the dead-letter topic with a reason.",
            "anyOf": [*shapes, {"type": "string", "description": "plain UTF-8 text (not JSON)"}],
        }
    elif role == "deliveries":
        kinds, defs = _schemas([DeliveryRecord, *_ALSO], "#/$defs/{model}")
        schema = {
            "title": "Delivery",
            "description": "A record on news.deliveries: an acknowledged delivery, or a webhook delivery entering "
            "the outbox or leaving it as a dead letter (the latest record of a key is where that delivery is).",
            "anyOf": kinds,
        }
    else:
        model = EnrichedArticle if role == "published" else _MODELS[role]
        (schema,), defs = _schemas([model], "#/$defs/{model}")
    out = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    if defs:
        out["$defs"] = defs
    return out


def _headers(*, raw: bool = False, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    if raw:
        return {
            "type": "object",
            "description": "Optional. A W3C traceparent here starts the article's trace.",
            "properties": {"traceparent": {"$ref": "#/components/schemas/Traceparent"}},
        }
    props: dict[str, Any] = {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "Deterministic event id: consumers can deduplicate on it"},
        "ce_source": {"type": "string", "examples": ["newsflow/ingest"]},
        "ce_type": {"type": "string", "pattern": "^io\\.newsflow\\."},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string", "description": "The article id, where there is one"},
        "content-type": {"type": "string", "const": "application/json"},
        "traceparent": {"$ref": "#/components/schemas/Traceparent"},
        RAW_TS_HEADER: {
            "type": "string",
            "pattern": "^[0-9]+$",
            "description": "Timestamp (ms since the epoch) of the news.raw record this comes from",
        },
        **(extra or {}),
    }
    return {
        "type": "object",
        "description": "CloudEvents 1.0 Kafka binary-mode headers (UTF-8 values), W3C trace context",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type", "traceparent"],
        "properties": props,
    }


def _message(
    name: str, title: str, summary: str, payload: dict[str, Any], *, key: str, headers: dict[str, Any], ce_type: str
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "name": name,
        "title": title,
        "summary": summary,
        "contentType": "application/json",
        "headers": headers,
        "payload": payload,
        "bindings": {"kafka": {"key": {"type": "string", "description": key}, "bindingVersion": _KAFKA_BINDING}},
    }
    if ce_type:
        message["correlationId"] = {"description": "The CloudEvents id", "location": "$message.header#/ce_id"}
        message["description"] = f"`ce_type`: `{ce_type}`."
    return message


def _channel(address: str, messages: list[str], description: str, partitions: int, **extra: Any) -> dict[str, Any]:
    kafka: dict[str, Any] = {"partitions": partitions, "bindingVersion": _KAFKA_BINDING}
    if "{" not in address:
        kafka["topic"] = address
    return {
        "address": address,
        "description": description,
        "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in messages},
        "bindings": {"kafka": kafka},
        **extra,
    }


def _operation(action: str, channel: str, messages: list[str], summary: str, group: str | None) -> dict[str, Any]:
    op: dict[str, Any] = {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "summary": summary,
        "messages": [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in messages],
    }
    if group:
        op["bindings"] = {"kafka": {"groupId": {"type": "string", "enum": [group]}, "bindingVersion": _KAFKA_BINDING}}
    return op


def asyncapi_document(
    topics: Topics,
    routes: Sequence[Route],
    *,
    bootstrap_servers: str = "127.0.0.1:9092",
    partitions: int = 12,
    group_prefix: str = "newsflow",
    version: str | None = None,
) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of newsflow's topics for these topic names and routing rules."""
    version = version or metadata.version("newsflow")
    shapes, defs = _schemas([*_RAW_SHAPES, *_MODELS.values(), *_ALSO], "#/components/schemas/{model}")
    schemas: dict[str, Any] = dict(defs)
    for model, schema in zip([*_RAW_SHAPES, *_MODELS.values(), *_ALSO], shapes, strict=True):
        schemas[model.__name__] = schema
    schemas["Traceparent"] = {
        "type": "string",
        "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
        "description": "W3C trace context: the span that produced the record (https://www.w3.org/TR/trace-context/)",
    }
    ce = "#/components/schemas/"
    messages: dict[str, Any] = {}
    payload: dict[str, Any]
    for name, title, summary, payload in (
        (
            "RawJson",
            "Raw article (JSON)",
            "A raw article as a JSON object in one of the accepted shapes",
            {"anyOf": [{"$ref": ce + m.__name__} for m in _RAW_SHAPES]},
        ),
        (
            "RawText",
            "Raw article (text)",
            "Any non-JSON UTF-8 text: the article's raw text, headline first",
            {"type": "string"},
        ),
    ):
        messages[name] = _message(name, title, summary, payload, key="optional", headers=_headers(raw=True), ce_type="")
    messages["RawText"]["contentType"] = "text/plain"
    error_code = {"newsflow_error_code": {"type": "string", "description": "= error.code"}}
    ninjs_payload = {"schemaFormat": _DRAFT_2020_12, "schema": {"$ref": NINJS_SCHEMA_URL}}
    msg_extra: dict[str, Any] | None
    for name, title, summary, payload, ce_type, key, msg_extra in (
        (
            "Article",
            "Normalised article",
            "An article after parsing, normalising and deduplication",
            {"$ref": ce + "Article"},
            "article.ingested",
            "article id",
            None,
        ),
        (
            "EnrichedArticle",
            "Enriched article",
            "The article plus its enrichment and story id",
            {"$ref": ce + "EnrichedArticle"},
            "article.enriched",
            "article id",
            None,
        ),
        (
            "DuplicateRecord",
            "Dropped duplicate",
            "A copy that was not passed on, with the article it duplicates",
            {"$ref": ce + "DuplicateRecord"},
            "article.duplicate",
            "article id",
            None,
        ),
        (
            "DeadLetter",
            "Dead letter",
            "A record a stage could not process: the reason and the original bytes",
            {"$ref": ce + "DeadLetter"},
            "<stage>.dead_letter",
            "the original record's key",
            error_code,
        ),
        (
            "DeliveryRecord",
            "Acknowledged delivery",
            "A webhook or live-stream delivery its receiver acknowledged (the delivery ledger's log; compacted)",
            {"$ref": ce + "DeliveryRecord"},
            "delivery.acknowledged",
            "delivery id",
            None,
        ),
        (
            "OutboxRecord",
            "Webhook delivery enqueued or dead-lettered",
            "A webhook delivery entering the outbox (with the article) or leaving it as a dead letter: pending "
            "deliveries are put back into an outbox Redis lost (compacted with the acknowledgements)",
            {"$ref": ce + "OutboxRecord"},
            "delivery.outbox",
            "delivery id",
            None,
        ),
        (
            "PublishedArticle",
            "Published article",
            "The enriched article, delivered by a route (format newsflow)",
            {"$ref": ce + "EnrichedArticle"},
            "article.published",
            "article id",
            None,
        ),
        (
            "NinjsItem",
            "Published ninjs item",
            "The enriched article as an IPTC ninjs 2.1 item (format ninjs)",
            ninjs_payload,
            "article.published",
            "article id",
            {"ce_dataschema": {"type": "string", "const": NINJS_SCHEMA_URL}},
        ),
    ):
        messages[name] = _message(
            name, title, summary, payload, key=key, headers=_headers(extra=msg_extra), ce_type=f"io.newsflow.{ce_type}"
        )
    channels: dict[str, Any] = {
        "raw": _channel(topics.raw, ["RawJson", "RawText"], "Raw articles from any Kafka client", partitions),
        "ingested": _channel(topics.ingested, ["Article"], "Normalised, deduplicated articles", partitions),
        "enriched": _channel(topics.enriched, ["EnrichedArticle"], "Enriched articles", partitions),
        "duplicates": _channel(topics.duplicates, ["DuplicateRecord"], "Dropped duplicates", partitions),
        "dlq": _channel(topics.dlq, ["DeadLetter"], "Dead letters of every stage", partitions),
        "deliveries": _channel(
            topics.deliveries,
            ["DeliveryRecord", "OutboxRecord"],
            "Acknowledged webhook / stream deliveries and the webhook outbox's entries and dead letters "
            "(compacted; rebuilds the delivery ledger and the outbox)",
            partitions,
        ),
    }
    group = f"{group_prefix}-{{}}"
    operations: dict[str, Any] = {
        "ingestReceiveRaw": _operation("receive", "raw", ["RawJson", "RawText"], "ingest reads raw articles",
                                       group.format("ingest")),
        "ingestSendIngested": _operation("send", "ingested", ["Article"], "ingest passes new articles", None),
        "ingestSendDuplicates": _operation("send", "duplicates", ["DuplicateRecord"], "ingest drops copies", None),
        "enrichReceiveIngested": _operation("receive", "ingested", ["Article"], "enrich reads articles",
                                            group.format("enrich")),
        "enrichSendEnriched": _operation("send", "enriched", ["EnrichedArticle"], "enrich adds enrichment", None),
        "publishReceiveEnriched": _operation("receive", "enriched", ["EnrichedArticle"], "publish reads articles",
                                             group.format("publish")),
        "publishSendDeliveries": _operation("send", "deliveries", ["DeliveryRecord", "OutboxRecord"],
                                            "publish journals acknowledged webhook / stream deliveries and its "
                                            "webhook outbox", None),
        "sendDeadLetters": _operation("send", "dlq", ["DeadLetter"], "every stage dead-letters what it cannot do",
                                      None),
    }  # fmt: skip
    for route in routes:
        names = [f for _, f, _, _ in string.Formatter().parse(route.topic) if f]
        message = "NinjsItem" if route.format == "ninjs" else "PublishedArticle"
        route_extra: dict[str, Any] = {}
        if names:
            route_extra["parameters"] = {
                n: {"description": f"the article's {n}, as a slug (one record per value it has)"} for n in names
            }
        conditions = ", ".join(f"{k} in {v}" for k, v in route.when.items()) or "every article"
        key = "route-" + "".join(c if c.isalnum() or c in "-_." else "-" for c in route.name)
        channels[key] = _channel(
            route.topic, [message], f"Route `{route.name}`: {conditions}", partitions, **route_extra
        )
        op = "publishSend" + "".join(p.capitalize() for p in key.removeprefix("route-").replace("_", "-").split("-"))
        operations[op] = _operation("send", key, [message], f"publish delivers by route {route.name}", None)
    host = bootstrap_servers.split(",")[0].strip()
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "newsflow",
            "version": version,
            "description": "Event-driven news pipeline: ingest, enrich and publish article streams over Kafka. "
            f"Every JSON value carries `schema_version` ({SCHEMA_VERSION}); every produced record carries "
            "CloudEvents binary-mode headers and W3C `traceparent`. Generated by `newsflow schema asyncapi` "
            "from shared/models.py and the routing rules.",
            "license": {"name": "MIT"},
        },
        "defaultContentType": "application/json",
        "servers": {"kafka": {"host": host, "protocol": "kafka", "description": "The Kafka bootstrap servers"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def asyncapi_yaml(document: dict[str, Any]) -> str:
    """The document as YAML (key order kept, long lines not folded)."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000)
