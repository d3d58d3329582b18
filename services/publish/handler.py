"""The publish handler: route each enriched article to its sinks (pure decisions, thin I/O).

Per article: the routing file's Kafka routes, every matching subscription (a Kafka topic, a webhook or
the live stream), the live stream and the recent-stories view. Kafka outputs are returned to the batch
loop (produced, then recorded in the delivery ledger once the broker acknowledged them); webhook
deliveries are only enqueued in the durable outbox (the dispatcher sends them, so an endpoint never holds
the consumer); the live stream and the stories view are written here. The ledger, checked first, keeps
every sink at one delivery per article version.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson
from pydantic import ValidationError

from shared.events import cloudevent_headers
from shared.models import EnrichedArticle
from shared.records import InRecord, OutRecord, dead_letter, lineage
from shared.settings import Settings

from .dispatcher import REDRIVE_HEADER, ledger_id
from .ledger import DeliveryLedger
from .ninjs import NINJS_SCHEMA, to_ninjs
from .outbox import Job, JobOrigin, Outbox, OutboxJournal, outbox_record
from .recent import RecentStore
from .routing import Router, Target
from .stream import StreamHub
from .subscription_store import SubscriptionCatalog
from .subscriptions import ArticleFacts, KafkaTarget, WebhookTarget, matches
from .views import ArticleCard, card_of
from .webhooks import webhook_id

__all__ = ["PublishHandler"]


@dataclass
class _Planned:
    kafka: dict[str, OutRecord]
    jobs: dict[str, Job]  # ledger id -> job
    stream: dict[str, tuple[ArticleCard, ArticleFacts, bytes]]  # ledger id -> (card, facts, article bytes)


class PublishHandler:
    def __init__(
        self,
        settings: Settings,
        router: Router,
        ledger: DeliveryLedger,
        *,
        catalog: SubscriptionCatalog | None = None,
        outbox: Outbox | None = None,
        hub: StreamHub | None = None,
        recent: RecentStore | None = None,
        ensure_topics: Callable[[list[str]], Awaitable[object]] | None = None,
        notify: Callable[[set[str]], None] | None = None,
        journal_outbox: OutboxJournal | None = None,
    ) -> None:
        self.settings = settings
        self.router = router
        self.ledger = ledger
        self.catalog = catalog
        self.outbox = outbox
        self.hub = hub
        self.recent = recent
        self.ensure_topics = ensure_topics  # routed topics are created before first use
        self.notify = notify
        self.journal_outbox = journal_outbox  # webhook deliveries are journaled before they enter the outbox
        self._known_topics: set[str] = {settings.topics.dlq}
        self.source = f"{settings.source_name}/publish"

    def _kafka(self, rec: InRecord, article: EnrichedArticle, target: Target) -> tuple[str, OutRecord]:
        delivery_id = f"{target.sink}:{article.id}:{article.revision_tag}"  # a re-enrichment: new id
        inherited = lineage(rec, "article.published", **{"newsflow.sink": target.sink})
        trace = inherited.pop("traceparent", b"").decode()
        headers = cloudevent_headers(
            event_type="article.published", source=self.source, subject=article.id,
            event_id=delivery_id, traceparent=trace or None, time=rec.time,
        )  # fmt: skip
        headers.update(inherited)
        value = rec.value or b""
        if target.format == "ninjs":
            value, headers["ce_dataschema"] = orjson.dumps(to_ninjs(article)), NINJS_SCHEMA.encode()
        return delivery_id, OutRecord(target.topic, article.id.encode(), value, headers, source=rec)

    def _job(self, rec: InRecord, article: EnrichedArticle, sub_id: str) -> tuple[str, Job]:
        origin = JobOrigin(
            topic=rec.topic, partition=rec.partition, offset=rec.offset,
            key=base64.b64encode(rec.key).decode() if rec.key is not None else None,
            headers={k: v for k, v in rec.headers.items() if k != REDRIVE_HEADER},
        )  # fmt: skip
        job = Job(webhook_id(sub_id, article.id, article.version), sub_id, article.id, article.version,
                  rec.value or b"", origin)  # fmt: skip
        return ledger_id(sub_id, article.id, article.version), job

    def _plan(self, rec: InRecord, article: EnrichedArticle, plan: _Planned) -> None:
        subs = self.catalog.current() if self.catalog else []
        facts = ArticleFacts.of(article)
        redrive_to = rec.headers.get(REDRIVE_HEADER)
        if redrive_to:  # a re-driven webhook dead letter: that endpoint only
            if any(s.id == redrive_to and isinstance(s.target, WebhookTarget) for s in subs):
                lid, job = self._job(rec, article, redrive_to)
                plan.jobs[lid] = job
            return
        targets = list(self.router.route(article))
        for s in subs:
            if s.disabled or not matches(s.filter, facts):
                continue
            if isinstance(s.target, KafkaTarget):
                targets.append(Target(f"sub:{s.id}", s.target.topic))
            elif isinstance(s.target, WebhookTarget):
                lid, job = self._job(rec, article, s.id)
                plan.jobs[lid] = job
        for t in dict.fromkeys(targets):
            did, out = self._kafka(rec, article, t)
            plan.kafka[did] = out
        if self.hub is not None or self.recent is not None:
            plan.stream[f"stream:{article.id}:v{article.version}"] = (card_of(article), facts, rec.value or b"")

    async def handle(self, records: list[InRecord]) -> list[OutRecord]:
        outs: list[OutRecord] = []
        plan = _Planned({}, {}, {})
        if self.catalog is not None:
            await self.catalog.ensure_loaded()
        for rec in records:
            try:
                article = EnrichedArticle.model_validate_json(rec.value or b"")
            except ValidationError as exc:
                err = exc.errors()[0]
                outs.append(
                    dead_letter(
                        rec, topic=self.settings.topics.dlq, stage="publish", code="invalid_enriched_article",
                        message=f"not a newsflow enriched article: {err['msg']} at "
                        f"{'.'.join(map(str, err['loc'])) or 'root'}",
                        source=self.settings.source_name, max_article_bytes=self.settings.max_article_bytes,
                    )
                )  # fmt: skip
                continue
            self._plan(rec, article, plan)
        ids = [*plan.kafka, *plan.jobs, *plan.stream]
        seen = dict(zip(ids, await self.ledger.delivered(ids), strict=True)) if ids else {}
        outs.extend(out for did, out in plan.kafka.items() if not seen[did])
        pending = [(lid, job) for lid, job in plan.jobs.items() if not seen[lid]]
        jobs = [job for _, job in pending]
        if jobs and self.outbox is not None:
            if self.journal_outbox is not None:  # first: an outbox Redis loses is rebuilt from the log
                await self.journal_outbox([outbox_record(self.settings, lid, job, "enqueued") for lid, job in pending])
            await self.outbox.enqueue(jobs)
            if self.notify is not None:
                self.notify({j.sub for j in jobs})
        fresh = [(lid, item) for lid, item in plan.stream.items() if not seen[lid]]
        if fresh:
            if self.recent is not None:
                await self.recent.add([(card, value) for _, (card, _, value) in fresh])
            if self.hub is not None:
                await self.hub.append([(card, facts) for _, (card, facts, _) in fresh])
            await self.ledger.record([lid for lid, _ in fresh])
        new_topics = {o.topic for o in outs} - self._known_topics
        if new_topics and self.ensure_topics is not None:
            await self.ensure_topics(sorted(new_topics))
        self._known_topics |= new_topics
        return outs

    async def mark_delivered(self, outs: list[OutRecord]) -> None:
        """After the broker acknowledged ``outs``: remember each delivery."""
        await self.ledger.record([o.headers["ce_id"].decode() for o in outs if o.topic != self.settings.topics.dlq])
