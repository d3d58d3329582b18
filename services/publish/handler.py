"""The publish handler: deliver enriched articles to the sinks their routes choose.

Delivery is idempotent per sink: a delivery is remembered in Redis under
``(route, topic, article id, version)`` once the broker acknowledged it, and
a redelivered article (a rebalance, a restart, the same article enriched
twice) is not sent to that sink again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from pydantic import ValidationError
from redis.asyncio import Redis

from shared.events import cloudevent_headers
from shared.models import EnrichedArticle
from shared.records import InRecord, OutRecord, dead_letter, lineage
from shared.settings import Settings

from .ninjs import NINJS_SCHEMA, to_ninjs
from .routing import Router

__all__ = ["PublishHandler"]


class PublishHandler:
    def __init__(
        self,
        settings: Settings,
        router: Router,
        redis: Redis,
        ensure_topics: Callable[[list[str]], Awaitable[object]] | None = None,
    ) -> None:
        self.settings = settings
        self.ensure_topics = ensure_topics  # routed topics are created before first use
        self._known_topics: set[str] = {settings.topics.dlq}
        self.router = router
        self.redis = redis
        self.source = f"{settings.source_name}/publish"
        self._ns = settings.redis_key("delivered")

    def _key(self, delivery_id: bytes) -> str:
        return f"{self._ns}:{delivery_id.decode()}"

    async def handle(self, records: list[InRecord]) -> list[OutRecord]:
        outs: list[OutRecord] = []
        planned: dict[bytes, OutRecord] = {}
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
            for target in self.router.route(article):
                delivery_id = f"{target.sink}:{article.id}:v{article.version}".encode()
                inherited = lineage(rec, "article.published", **{"newsflow.sink": target.sink})
                trace = inherited.pop("traceparent", b"").decode()
                headers = cloudevent_headers(
                    event_type="article.published", source=self.source, subject=article.id,
                    event_id=delivery_id.decode(), traceparent=trace, time=rec.time,
                )  # fmt: skip
                headers.update(inherited)
                value = rec.value or b""
                if target.format == "ninjs":
                    value, headers["ce_dataschema"] = orjson.dumps(to_ninjs(article)), NINJS_SCHEMA.encode()
                planned[delivery_id] = OutRecord(target.topic, article.id.encode(), value, headers, source=rec)
        if planned:
            ids = list(planned)
            async with self.redis.pipeline(transaction=False) as pipe:
                for i in ids:
                    pipe.exists(self._key(i))
                flags = await pipe.execute()
            outs.extend(planned[i] for i, seen in zip(ids, flags, strict=True) if not seen)
        new_topics = {o.topic for o in outs} - self._known_topics
        if new_topics and self.ensure_topics is not None:
            await self.ensure_topics(sorted(new_topics))
        self._known_topics |= new_topics
        return outs

    async def mark_delivered(self, outs: list[OutRecord]) -> None:
        """After the broker acknowledged ``outs``: remember each delivery."""
        delivered = [o.headers["ce_id"] for o in outs if o.topic != self.settings.topics.dlq]
        if not delivered:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for d in delivered:
                pipe.set(self._key(d), b"1", ex=self.settings.delivery_window_s)
            await pipe.execute()
