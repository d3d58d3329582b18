"""Enrich never loses a batch: a panicking or slow enricher costs one article its field, not the batch."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime
from typing import ClassVar

import pytest
import yake_rust

from services.enrich.analysis.caps import MAX_SENTENCE_CHARS, cap_sentences
from services.enrich.analysis.doc import Doc
from services.enrich.analysis.keywords import extract_keywords
from services.enrich.enrichers.base import Fields
from services.enrich.pipeline import EnrichmentPipeline
from shared.models import Article, EnrichmentField, Origin


class PanicException(BaseException):
    """Stands in for ``pyo3_runtime.PanicException``."""


def _article(i: int, body: str = "A body.") -> Article:
    return Article(
        id=f"a{i}", content_hash="h", title=f"T{i}", body=body, raw_format="fields",
        ingested_at=datetime.now(UTC), origin=Origin(topic="t", partition=0, offset=i),
    )  # fmt: skip


class Length:
    name: ClassVar[str] = "length"
    provides: ClassVar[tuple[str, ...]] = ("length",)
    requires: ClassVar[tuple[str, ...]] = ()

    def enrich(self, docs: list[Doc]) -> list[Fields]:
        return [{"length": EnrichmentField(value=len(d.article.body), method="len", version="1")} for d in docs]


class PanicsOn:
    """Panics (a BaseException) on any batch holding the body ``bad``."""

    name: ClassVar[str] = "panicky"
    provides: ClassVar[tuple[str, ...]] = ("panicky",)
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self, bad: str) -> None:
        self.bad = bad
        self.calls = 0

    def enrich(self, docs: list[Doc]) -> list[Fields]:
        self.calls += 1
        if any(d.article.body == self.bad for d in docs):
            raise PanicException("called `Result::unwrap()` on an `Err` value: BacktrackLimitExceeded")
        return [{"panicky": EnrichmentField(value=True, method="p", version="1")} for _ in docs]


class SlowOn:
    """Sleeps (releasing nothing but the GIL) on the body ``slow``."""

    name: ClassVar[str] = "slow"
    provides: ClassVar[tuple[str, ...]] = ("slow",)
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self, slow: str, seconds: float) -> None:
        self.slow, self.seconds = slow, seconds

    def enrich(self, docs: list[Doc]) -> list[Fields]:
        if any(d.article.body == self.slow for d in docs):
            time.sleep(self.seconds)
        return [{"slow": EnrichmentField(value=True, method="s", version="1")} for _ in docs]


def test_a_panicking_enricher_costs_only_the_article_it_panics_on() -> None:
    panicky = PanicsOn("bad")
    articles = [_article(0), _article(1, "bad"), _article(2)]
    docs = EnrichmentPipeline([panicky, Length()]).run(articles)
    assert [d.fields["panicky"].value for d in docs] == [True, None, True]
    assert "PanicException" in (docs[1].fields["panicky"].reason or "")
    assert [d.fields["length"].value for d in docs] == [7, 3, 7]  # the next enricher ran on every article
    assert panicky.calls == 1 + len(articles)  # the batch, then each article alone


def test_keyboard_interrupt_is_not_swallowed() -> None:
    class Interrupts(Length):
        def enrich(self, docs: list[Doc]) -> list[Fields]:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        EnrichmentPipeline([Interrupts()]).run([_article(0)])


def test_an_article_over_its_budget_gets_null_fields_and_the_others_come_out_in_time() -> None:
    articles = [_article(0), _article(1, "slow"), _article(2)]
    started = time.monotonic()
    docs = EnrichmentPipeline([SlowOn("slow", 3.0), Length()], budget_s=0.3).run(articles)
    took = time.monotonic() - started
    assert took < 2.0, took  # two budgets (the batch, then the slow article alone), not the 3 s sleep
    assert docs[0].fields["slow"].value is True and docs[2].fields["slow"].value is True
    assert docs[1].fields["slow"].value is None and "time budget" in (docs[1].fields["slow"].reason or "")
    assert docs[1].fields["length"].value is None and "skipped" in (docs[1].fields["length"].reason or "")
    assert docs[0].fields["length"].value == 7


def test_the_calling_thread_keeps_running_while_an_enricher_overruns() -> None:
    """The pipeline runs in a thread (asyncio.to_thread): the rest of the process must keep running."""
    ticks = []
    stop = threading.Event()

    def ticker() -> None:
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    t = threading.Thread(target=ticker)
    t.start()
    EnrichmentPipeline([SlowOn("slow", 1.0)], budget_s=0.2).run([_article(0, "slow")])
    stop.set()
    t.join()
    assert len(ticks) > 10


def test_sentences_are_capped_and_normal_text_is_left_alone() -> None:
    normal = "One sentence. Another one!\nA third"
    assert cap_sentences(normal) == normal
    long = " ".join(["word"] * 10_000)
    capped = cap_sentences(long)
    assert max(len(p) for p in capped.split("\n\n")) <= MAX_SENTENCE_CHARS
    assert capped.replace("\n\n", " ") == long


def test_yake_on_a_60000_word_sentence_does_not_panic() -> None:
    rnd = random.Random(3)
    words = "market election storm vaccine league court climate budget rocket strike museum harvest the of".split()
    text = " ".join(rnd.choice(words) for _ in range(60_000))
    kws = extract_keywords(yake_rust.Yake(language="en", ngrams=3), text, [], 5)
    assert kws and all(k["text"].lower() in text for k in kws)
