"""Webhook delivery: one loop per endpoint, each attempt signed, retried from the durable outbox.

The publish consumer only enqueues deliveries (:class:`~services.publish.outbox.Outbox`); this
dispatcher sends them. Every endpoint has its own task and at most ``webhook_concurrency`` attempts in
flight, so a slow or dead endpoint delays only its own deliveries, never Kafka routes, the live stream,
other endpoints or the consumer. An acknowledged delivery (2xx) is recorded in the ledger before it is
forgotten, and the ledger is checked before every attempt, so it is never sent again for that article
version. When the schedule runs out, or the endpoint answers 410 Gone (which disables it), the delivery
becomes a dead letter on ``news.dlq`` (stage ``publish``) that ``newsflow dlq redrive`` sends again.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import orjson
from aiohttp.abc import AbstractResolver

from shared.egress import EgressPolicy, GuardedResolver, RefusedTarget, url_refusal
from shared.metrics import webhook_attempt
from shared.records import InRecord, OutRecord, dead_letter
from shared.settings import Settings

from .ledger import DeliveryLedger
from .outbox import Job, Outbox, OutboxJournal, outbox_record
from .subscription_store import SubscriptionCatalog, SubscriptionStore
from .subscriptions import Subscription, WebhookTarget
from .webhooks import Outcome, classify, next_delay, sign_headers

__all__ = ["REDRIVE_HEADER", "WebhookDispatcher", "envelope", "ledger_id"]

log = logging.getLogger(__name__)

REDRIVE_HEADER = "newsflow_webhook_subscription"  # on a dead letter: re-driven, it goes to this endpoint only


DeadLetterSink = Callable[[list[OutRecord]], Awaitable[None]]


def ledger_id(sub_id: str, article_id: str, version: int) -> str:
    return f"webhook/{sub_id}:{article_id}:v{version}"


def envelope(sub_id: str, value: bytes) -> bytes:
    """The body POSTed: ``{"type", "subscription", "data": <the enriched article>}`` (same on every retry)."""
    return b'{"type":"article.published","subscription":' + orjson.dumps(sub_id) + b',"data":' + value + b"}"


@dataclass
class _Endpoint:
    task: asyncio.Task[None]
    wake: asyncio.Event


class WebhookDispatcher:
    def __init__(
        self,
        settings: Settings,
        catalog: SubscriptionCatalog,
        store: SubscriptionStore,
        outbox: Outbox,
        ledger: DeliveryLedger,
        dead_letters: DeadLetterSink,
        resolver: AbstractResolver | None = None,
        journal_outbox: OutboxJournal | None = None,
    ) -> None:
        self.settings = settings
        self.journal_outbox = journal_outbox  # a dead-lettered delivery leaves the outbox's journal too
        self.catalog = catalog
        self.store = store
        self.outbox = outbox
        self.ledger = ledger
        self.dead_letters = dead_letters
        self.egress = EgressPolicy(
            allow_insecure=settings.webhook_allow_insecure, allow_private=settings.webhook_allow_private_networks
        )
        # every name is resolved through the egress policy at each connection (no DNS cache), so the
        # address a connection goes to is the one checked, whatever the name answered at creation
        self.resolver = resolver if isinstance(resolver, GuardedResolver) else GuardedResolver(self.egress, resolver)
        self._endpoints: dict[str, _Endpoint] = {}

    def notify(self, sub_ids: set[str]) -> None:
        """New deliveries for these endpoints were enqueued here: look now, not at the next poll."""
        for s in sub_ids:
            if ep := self._endpoints.get(s):
                ep.wake.set()

    def _new_session(self) -> aiohttp.ClientSession:
        """One connection pool per endpoint: endpoints on one host never wait for each other's connections."""
        return aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.settings.webhook_timeout_s),
            connector=aiohttp.TCPConnector(
                limit=self.settings.webhook_concurrency, resolver=self.resolver, use_dns_cache=False
            ),
            headers={"user-agent": "newsflow-webhooks/1"},
        )

    async def run(self) -> None:
        """Keep one loop per enabled webhook subscription, until cancelled."""
        try:
            while True:
                wanted = {s.id for s in self.catalog.current() if isinstance(s.target, WebhookTarget)}
                for sub_id in wanted - set(self._endpoints):
                    wake = asyncio.Event()
                    task = asyncio.create_task(self._endpoint_loop(sub_id, wake), name=f"webhook:{sub_id}")
                    self._endpoints[sub_id] = _Endpoint(task, wake)
                for sub_id in list(self._endpoints):
                    if self._endpoints[sub_id].task.done() and sub_id not in wanted:
                        del self._endpoints[sub_id]
                    elif self._endpoints[sub_id].task.done():  # crashed: start it again next round
                        exc = self._endpoints[sub_id].task.exception()
                        log.error("webhook loop %s stopped: %r; restarting", sub_id, exc)
                        del self._endpoints[sub_id]
                # asyncio.wait, not wait_for: Python 3.11's wait_for can swallow a cancel that races the event
                changed = asyncio.ensure_future(self.catalog.changed.wait())
                try:
                    await asyncio.wait([changed], timeout=1.0)
                finally:
                    changed.cancel()
        finally:
            await self.close()

    async def close(self) -> None:
        for ep in self._endpoints.values():
            ep.task.cancel()
        await asyncio.gather(*(ep.task for ep in self._endpoints.values()), return_exceptions=True)
        self._endpoints.clear()

    async def _endpoint_loop(self, sub_id: str, wake: asyncio.Event) -> None:
        s = self.settings
        inflight: set[asyncio.Task[None]] = set()
        session = self._new_session()
        try:
            while True:
                sub = self.catalog.get(sub_id)
                if sub is None or not isinstance(sub.target, WebhookTarget):
                    return  # deleted: its pending deliveries expire with the delivery window
                free = s.webhook_concurrency - len(inflight)
                if free > 0:
                    try:
                        jobs = await self.outbox.claim(sub_id, free, s.webhook_lease_s)
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:  # Redis down: back off, the jobs stay in the outbox
                        log.warning("webhook %s: claim failed (%s); retrying", sub_id, exc)
                        jobs = []
                        await asyncio.sleep(1.0)
                    if jobs:
                        jobs = await self._not_yet_delivered(sub, jobs)
                    for job in jobs:
                        t = asyncio.create_task(self._settle(session, sub, job))
                        inflight.add(t)
                        t.add_done_callback(inflight.discard)
                wake.clear()
                waiters: list[asyncio.Future[object]] = [asyncio.ensure_future(wake.wait())]
                if inflight and len(inflight) >= s.webhook_concurrency:
                    waiters.append(asyncio.ensure_future(asyncio.wait(inflight, return_when="FIRST_COMPLETED")))
                try:
                    await asyncio.wait(waiters, timeout=s.webhook_poll_s, return_when="FIRST_COMPLETED")
                finally:
                    for w in waiters:
                        w.cancel()
        finally:
            for t in inflight:
                t.cancel()
            await asyncio.gather(*inflight, return_exceptions=True)
            await session.close()

    async def _not_yet_delivered(self, sub: Subscription, jobs: list[Job]) -> list[Job]:
        """The claimed jobs the ledger has no acknowledgement for; the others are forgotten, never re-sent."""
        try:
            done = await self.ledger.delivered([ledger_id(sub.id, j.article, j.version) for j in jobs])
            known = [j for j, d in zip(jobs, done, strict=True) if d]
            if known:  # acknowledged before (a replay racing the acknowledgement, an outbox put back)
                # journaled again: the acknowledgement is then the latest record of its key on news.deliveries
                await self.ledger.record([ledger_id(sub.id, j.article, j.version) for j in known])
            for job in known:
                await self.outbox.finish(job)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Redis trouble: the claimed jobs come back after their lease
            log.warning("webhook %s: ledger check failed (%s); retrying after the lease", sub.id, exc)
            return []
        return [j for j, d in zip(jobs, done, strict=True) if not d]

    async def _settle(self, session: aiohttp.ClientSession, sub: Subscription, job: Job) -> None:
        """One attempt and its bookkeeping; a failure of Redis or the broker leaves the job leased (retried)."""
        try:
            lid = ledger_id(sub.id, job.article, job.version)
            if sub.disabled:
                await self._dead_letter(sub, job, "webhook_disabled", f"endpoint disabled: {sub.disabled}", None)
                return
            outcome = await self._attempt(session, sub, job)
            if outcome.kind == "delivered":
                await self.ledger.record([lid])
                await self.outbox.finish(job)
                return
            if outcome.kind == "refused":
                await self._dead_letter(sub, job, "webhook_refused_target", outcome.detail, None)
                return
            if outcome.kind == "gone":
                url = sub.target.url if isinstance(sub.target, WebhookTarget) else "?"
                reason = f"{outcome.detail} from {url}"
                await self.store.disable(sub.id, reason)
                log.warning("webhook %s answered 410 Gone: endpoint disabled", sub.id)
                await self._dead_letter(sub, job, "webhook_disabled", f"endpoint disabled: {reason}", outcome.status)
                return
            failed = job.attempts + 1
            delay = next_delay(self.settings.webhook_retry_schedule_s, failed, self.settings.webhook_jitter)
            if delay is None:
                await self._dead_letter(sub, job, "webhook_exhausted", outcome.detail, outcome.status, failed)
                return
            if outcome.retry_after_s is not None:
                delay = min(max(delay, outcome.retry_after_s), self.settings.webhook_max_retry_after_s)
            await self.outbox.reschedule(job, delay_s=delay, status=outcome.status, error=outcome.detail)
        except asyncio.CancelledError:
            raise
        except Exception:  # Redis or broker trouble: the lease runs out and the delivery is tried again
            log.exception("webhook %s: bookkeeping for %s failed; it will be retried after the lease", sub.id, job.id)

    async def _attempt(self, session: aiohttp.ClientSession, sub: Subscription, job: Job) -> Outcome:
        target = sub.target
        assert isinstance(target, WebhookTarget)
        body = envelope(sub.id, job.value)
        headers = sign_headers(job.id, body, [x.get_secret_value() for x in target.secrets])
        if (reason := url_refusal(str(target.url), self.egress)) is not None:  # an IP literal is not resolved
            return Outcome("refused", None, detail=reason)
        started = time.perf_counter()
        try:
            async with session.post(str(target.url), data=body, headers=headers, allow_redirects=False) as resp:
                await resp.read()
                webhook_attempt(resp.status, time.perf_counter() - started)
                return classify(resp.status, dict(resp.headers))
        except TimeoutError:
            webhook_attempt("timeout", time.perf_counter() - started)
            return classify(None, detail=f"no answer within {self.settings.webhook_timeout_s:g}s")
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, RefusedTarget):
                webhook_attempt("refused", time.perf_counter() - started)
                return Outcome("refused", None, detail=str(exc.os_error))
            webhook_attempt("error", time.perf_counter() - started)
            return classify(None, detail=f"{type(exc).__name__}: {exc}")
        except aiohttp.ClientError as exc:
            webhook_attempt("error", time.perf_counter() - started)
            return classify(None, detail=f"{type(exc).__name__}: {exc}")

    async def _dead_letter(
        self, sub: Subscription, job: Job, code: str, detail: str, status: int | None, attempts: int | None = None
    ) -> None:
        o = job.origin
        target = sub.target
        url = str(target.url) if isinstance(target, WebhookTarget) else "?"
        n = attempts if attempts is not None else job.attempts + 1
        rec = InRecord(
            topic=o.topic, partition=o.partition, offset=o.offset,
            key=base64.b64decode(o.key) if o.key else None, value=job.value,
            headers={**o.headers, REDRIVE_HEADER: sub.id},
        )  # fmt: skip
        message = (
            f"webhook {url} (subscription {sub.id}): {n} attempt(s), last status "
            f"{status if status is not None else 'none'} ({detail}); webhook-id {job.id}"
        )
        out = dead_letter(
            rec, topic=self.settings.topics.dlq, stage="publish", code=code, message=message,
            source=self.settings.source_name, attempts=n,
        )  # fmt: skip
        out.headers["ce_id"] = f"dlq:webhook:{job.id}".encode()
        await self.dead_letters([out])
        if self.journal_outbox is not None:
            await self.journal_outbox([outbox_record(self.settings, ledger_id(sub.id, job.article, job.version), job,
                                                     "dead_lettered")])  # fmt: skip
        await self.outbox.finish(job)
        log.warning("webhook %s: %s -> %s (%s)", sub.id, job.id, code, message)
