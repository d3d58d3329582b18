"""Run the enrichers over a batch of articles (pure: no Kafka, no Redis).

No article can take its batch down or freeze the worker:

- Each enricher runs over the batch in a helper thread with a deadline of
  ``budget_s`` (one article's budget for the whole batch: a normal batch takes
  a few hundred milliseconds). The event loop is never blocked: the handler
  runs this pipeline in a thread itself (``asyncio.to_thread``).
- When the batch call fails (any exception, including ``BaseException``
  subclasses native libraries raise, such as pyo3's ``PanicException``) or
  runs over its deadline, the enricher is run again on each article alone,
  each with ``budget_s``. The article that fails gets that enricher's fields
  ``null`` with the reason; the rest of the batch is enriched as usual.
- An article over its budget gets the enricher's fields ``null`` with the
  reason and ``Doc.over_budget`` set to the enricher's name; the enrichers
  after it skip it (their fields ``null``, "skipped"), so one slow article
  costs at most two budgets. A thread that overruns is
  abandoned (Python cannot stop a thread; it is a daemon and its result is
  dropped), counted in ``newsflow_enrich_over_budget_total``.

Input caps (``analysis/caps.py``, ``enrich_max_chars``) keep each library's work bounded
by the article's size, so the budget is a safety net, not the normal path.

The enrichers' order is checked when the pipeline is built (each runs after
the fields it ``requires``: :func:`~services.enrich.enrichers.base.check_order`).
Each article's analyses (its spaCy parse, entities, key phrases) live on its
:class:`~services.enrich.analysis.doc.Doc` while the enrichers run and are
released when the batch is done; the docs returned keep their fields.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from shared import tracing
from shared.failures import BudgetExceeded, describe, is_fatal
from shared.metrics import ENRICH_OVER_BUDGET, enricher_timer
from shared.models import FIELD_MODELS, Article, EnrichmentField, Origin

from .analysis.doc import Doc
from .enrichers.base import Enricher, Fields, check_order

__all__ = ["DEFAULT_BUDGET_S", "EnrichmentPipeline", "call_with_deadline"]

log = logging.getLogger(__name__)

DEFAULT_BUDGET_S = 10.0
T = TypeVar("T")


def call_with_deadline(fn: Callable[[], T], timeout_s: float, what: str) -> T:
    """``fn()`` in a daemon thread; its result, its exception, or :class:`BudgetExceeded` after ``timeout_s``."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller, who decides (a panic is not fatal there)
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name=f"enrich-{what}", daemon=True).start()
    if not done.wait(None if timeout_s == float("inf") else timeout_s):
        raise BudgetExceeded(f"{what} ran over its {timeout_s:g} s budget")
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]  # the box holds what fn returned (a T)


class EnrichmentPipeline:
    """Enrichers in order; each sees the fields of those before it (module doc: failures and budgets)."""

    def __init__(self, enrichers: Sequence[Enricher], budget_s: float = DEFAULT_BUDGET_S) -> None:
        check_order(enrichers)
        self.enrichers = list(enrichers)
        self.budget_s = budget_s

    def warm(self) -> None:
        """Run every enricher once on a small article, so lazy set-up (gazetteers, lexicons, first model
        calls) happens at start-up and not in the first batch, which would stall that batch for seconds."""
        now = datetime.now(UTC)
        article = Article(
            id="nf_warmup", content_hash="warmup", title="Warm-up article",
            body='The minister said in Paris on Monday that talks with Germany would resume. "We are ready," '
            "she told reporters.",
            raw_format="fields", ingested_at=now, origin=Origin(topic="warmup", partition=0, offset=0),
        )  # fmt: skip
        budget, self.budget_s = self.budget_s, float("inf")  # first calls load lexicons: no deadline
        try:
            self.run([article])
        finally:
            self.budget_s = budget

    def run(self, articles: list[Article]) -> list[Doc]:
        docs = [Doc(article=a) for a in articles]
        for enricher in self.enrichers:
            live = [d for d in docs if d.over_budget is None]
            for doc in docs:
                if doc.over_budget is not None:
                    doc.fields.update(_skipped(enricher, doc.over_budget))
            if live:
                with enricher_timer(enricher.name, len(live)), tracing.span(f"enrich.{enricher.name}"):
                    results = self._enrich(enricher, live)
                for doc, fields in zip(live, results, strict=True):
                    doc.fields.update(fields)
        for doc in docs:
            doc.release()  # the fields and over_budget stay for the handler; the parse is large
        return docs

    def _enrich(self, enricher: Enricher, docs: list[Doc]) -> list[Fields]:
        """The enricher's fields for each doc: the batch at once, else article by article (module doc)."""
        try:
            return self._call(enricher, docs)
        except BaseException as exc:
            if is_fatal(exc):
                raise
            if len(docs) == 1:
                return [self._failed_alone(enricher, docs[0], exc)]
            log.warning(
                "enricher %s failed on a batch of %d (%s); running it article by article",
                enricher.name, len(docs), describe(exc),
            )  # fmt: skip
        out = []
        for doc in docs:
            try:
                out.append(self._call(enricher, [doc])[0])
            except BaseException as exc:
                if is_fatal(exc):
                    raise
                out.append(self._failed_alone(enricher, doc, exc))
        return out

    def _call(self, enricher: Enricher, docs: list[Doc]) -> list[Fields]:
        results = call_with_deadline(lambda: enricher.enrich(docs), self.budget_s, enricher.name)
        if len(results) != len(docs):
            raise RuntimeError(f"enricher {enricher.name} returned {len(results)} results for {len(docs)} articles")
        return results

    def _failed_alone(self, enricher: Enricher, doc: Doc, exc: BaseException) -> Fields:
        """The fields of ``enricher`` for the one article it failed on, with the reason."""
        over = isinstance(exc, BudgetExceeded)
        ENRICH_OVER_BUDGET.labels(enricher=enricher.name, outcome="timeout" if over else "error").inc()
        a = doc.article
        if over:
            doc.over_budget = enricher.name
            log.error("enricher %s ran over its %.1f s budget on article %s v%d", enricher.name, self.budget_s,
                      a.id, a.version)  # fmt: skip
            return _unavailable(enricher, f"over its time budget ({self.budget_s:g} s per article)")
        log.error("enricher %s failed on article %s v%d: %s", enricher.name, a.id, a.version, describe(exc),
                  exc_info=exc)  # fmt: skip
        return _unavailable(enricher, f"enricher failed: {describe(exc)}")


def _unavailable(enricher: Enricher, reason: str) -> Fields:
    """Each field ``enricher`` provides, null with the reason, as its model (:data:`~shared.models.FIELD_MODELS`;
    the base for a field this version does not know); ``version`` "?": the enricher failed before saying."""
    return {f: FIELD_MODELS.get(f, EnrichmentField).unavailable(enricher.name, "?", reason) for f in enricher.provides}


def _skipped(enricher: Enricher, slow: str) -> Fields:
    return _unavailable(enricher, f"skipped: the article ran over its time budget in {slow}")
