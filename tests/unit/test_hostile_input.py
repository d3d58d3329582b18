"""Hostile input is a dead letter with a clear code, never a crash: properties over the parser, the
normaliser and every enricher (hypothesis), and work that grows with the input, counted in calls."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.enrich.analysis.caps import MAX_SENTENCE_CHARS, cap_sentences
from services.enrich.analysis.nlp import SpacyPool
from services.enrich.enrichers.registry import default_enrichers
from services.enrich.pipeline import EnrichmentPipeline
from services.ingest.errors import REJECT_CODES, RejectedInput
from services.ingest.parsing import ParsedArticle, parse_raw
from services.ingest.text import clean_text
from shared.models import Article, Origin
from shared.settings import Settings

MAX = 200_000

_dates = st.one_of(  # json.dumps writes the floats' and ints' every value
    st.sampled_from([
        "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2024-06-30T23:59:60Z", "2024-02-30T10:00:00Z",
        "Mon, 01 Jan 0001 00:00:00 +1400", "9999-12-31 23:59:59 -1400", "", " ", "yesterday", "24:00", "0000",
        "2024-04-14T10:00:00.123456789+05:45", "1e400", "99999-01-01",
    ]),
    st.text(max_size=40),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
)  # fmt: skip
_html = st.lists(
    st.one_of(
        st.sampled_from(["<p>", "</p>", "<br>", "&#0;", "&#xD800;", "&#1;", "&#xFFFE;", "&amp;", "&#99999999999;",
                         "<script>", "<pre>", "<!--", "-->", "<![CDATA[", "&", "<", "\x00", "\ud800", "text "]),
        st.text(max_size=20),
    ),
    max_size=40,
).map("".join)  # fmt: skip
_text = st.text(max_size=300)
_objects = st.one_of(
    st.fixed_dictionaries({"title": st.one_of(_text, st.integers(), st.none()), "body": st.one_of(_text, _html)},
                          optional={"published_at": _dates, "authors": st.one_of(_text, st.lists(_text, max_size=3)),
                                    "url": _text, "language": _text}),
    st.fixed_dictionaries({"headline": _text}, optional={"body_html": _html, "body_text": _text,
                                                         "versioncreated": _dates, "uri": _text, "byline": _text}),
    st.fixed_dictionaries({"text": st.one_of(_text, _html)}, optional={"published_at": _dates}),
    st.fixed_dictionaries({"html": _html}, optional={"published_at": _dates, "url": _text}),
    st.dictionaries(st.text(max_size=10), st.one_of(_text, st.integers(), st.none()), max_size=4),
)  # fmt: skip


def _outcome(value: bytes | None) -> ParsedArticle | str:
    try:
        return parse_raw(value, max_bytes=MAX)
    except RejectedInput as exc:
        assert exc.code in REJECT_CODES
        return exc.code


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_objects)
def test_every_json_object_is_an_article_or_a_clear_rejection(obj: dict[str, Any]) -> None:
    result = _outcome(json.dumps(obj).encode())  # json writes lone surrogates as \ud800 escapes: hostile too
    if isinstance(result, ParsedArticle):
        assert result.body
        assert result.published_at is None or result.published_at.tzinfo is not None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_are_an_article_or_a_clear_rejection(value: bytes) -> None:
    _outcome(value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_the_normaliser_never_fails_and_never_grows_text_much(text: str) -> None:
    cleaned = clean_text(text)
    assert len(cleaned) <= 2 * len(text) + 2


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(["a", "&", '"', " ", ".", "\n", "é", "-"]), max_size=3000))
def test_caps_bound_sentences(text: str) -> None:
    broken = cap_sentences(text)
    for part in broken.split("\n\n"):
        assert len(part) <= MAX_SENTENCE_CHARS or " " not in part.strip() or "." in part


@pytest.mark.parametrize(
    "ch",
    [
        "ninjs_date",
        "html_refs",
        "ampersands",
        "one_sentence",
        "many_dates",
    ],
)
def test_parse_work_grows_linearly_with_input(ch: str) -> None:
    """Calls made by parse_raw on an input of size n and 4n: about 4x, never the 16x of a quadratic path."""
    makers: dict[str, Callable[[int], dict[str, Any]]] = {
        "ninjs_date": lambda n: {"headline": "t", "body_text": "word " * n, "versioncreated": "0001-01-01T00:00+14:00"},
        "html_refs": lambda n: {"headline": "t", "body_html": "<p>x &#1; &#xD800;</p>" * n},
        "ampersands": lambda n: {"headline": "t", "body_html": "<p>" + "&amp;" * n + "</p>"},
        "one_sentence": lambda n: {"title": "t", "body": "word " * n},
        "many_dates": lambda n: {"text": "Headline\nAFP , Sunday 14 Apr 2024\n" + "On 14 Apr 2024 it rained. " * n},
    }  # fmt: skip
    _outcome(orjson.dumps(makers[ch](50)))  # first use: imports and caches are not the work measured

    def work(n: int) -> Callable[[], object]:
        return lambda: _outcome(orjson.dumps(makers[ch](n)))

    small, large = _calls(work(500)), _calls(work(2000))
    assert large <= 6 * small + 200, (small, large)


def _calls(fn: Callable[[], object]) -> int:
    """Python-level function calls (and calls into C) made by ``fn()``, in its thread and the threads it
    starts (the pipeline runs each enricher in one): a deterministic measure of work, unlike a clock.
    Work inside one C call (a regex, spaCy's Cython) is not seen; the input caps bound that."""
    counts = [0]

    def profile(frame: object, event: str, arg: object) -> None:
        if event in ("call", "c_call"):
            counts[0] += 1

    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        fn()
    finally:
        threading.setprofile(None)
        sys.setprofile(None)
    return counts[0]


@pytest.fixture(scope="module")
def pipeline() -> EnrichmentPipeline:
    return EnrichmentPipeline(default_enrichers(Settings(), pool=SpacyPool(Settings())))


_bodies = st.one_of(
    st.text(min_size=1, max_size=600),
    st.text(alphabet=st.sampled_from(list("&\"'«»“”.!? \n-—Aa1")), min_size=1, max_size=1500),
    st.lists(st.sampled_from(["President Joe Biden", "said", '"We are ready,"', "in Paris", ".", "\n\n", "the",
                              "Kirby", "NATO", "«", "»", "on Monday", "he told reporters"]), min_size=1, max_size=80)
    .map(" ".join),
)  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.text(max_size=80), body=_bodies, language=st.sampled_from([None, "en", "fr", "es", "xx", "zz-ZZ"]))
def test_every_enricher_gives_every_field_for_any_article(
    pipeline: EnrichmentPipeline, title: str, body: str, language: str | None
) -> None:
    article = Article(
        id="h1", content_hash="h", title=title, body=body, language=language, raw_format="fields",
        ingested_at=datetime.now(UTC), origin=Origin(topic="t", partition=0, offset=0),
    )  # fmt: skip
    [doc] = pipeline.run([article])
    for enricher in pipeline.enrichers:
        for name in enricher.provides:
            assert name in doc.fields, name
            reason = doc.fields[name].reason or ""
            assert not reason.startswith(("enricher failed", "over its time budget")), (name, reason)


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2024-06-30T23:59:60Z", "2024-06-30T23:59:59+00:00"),  # a leap second
        (253_402_300_799, "9999-12-31T23:59:59+00:00"),  # seconds, not milliseconds of 1978
        (1_712_000_000, "2024-04-01T19:33:20+00:00"),
        (1_712_000_000_000, "2024-04-01T19:33:20+00:00"),  # past the seconds range: milliseconds
    ],
)
def test_dates_leap_seconds_and_epochs(stamp: object, expected: str) -> None:
    parsed = parse_raw(orjson.dumps({"title": "t", "body": "A body.", "published_at": stamp}), max_bytes=MAX)
    assert parsed.published_at is not None and parsed.published_at.isoformat() == expected


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01 00:00 +14:00"])
@pytest.mark.parametrize("shape", ["fields", "text", "ninjs", "html"])
def test_dates_out_of_range_in_utc_are_invalid_field(stamp: str, shape: str) -> None:
    body = "An article body that is long enough to be read as one."
    obj: dict[str, Any] = {
        "fields": {"title": "t", "body": body, "published_at": stamp},
        "text": {"text": f"Headline\n\n{body}", "published_at": stamp},
        "ninjs": {"headline": "t", "body_text": body, "versioncreated": stamp},
        "html": {"html": f"<html><body><article><p>{body}</p></article></body></html>", "published_at": stamp},
    }[shape]
    assert _outcome(orjson.dumps(obj)) == "invalid_field"


def test_xml_incompatible_characters_in_body_html_are_replaced() -> None:
    html = "<p>Zero &#0; surrogate &#xD800; control &#1; &#x1F; raw \x01 and &#99999999999; kept &#65;</p>"
    parsed = parse_raw(orjson.dumps({"headline": "t", "body_html": html}), max_bytes=MAX)
    assert parsed.body.startswith("Zero \ufffd surrogate \ufffd control") and parsed.body.endswith("kept A")


@pytest.mark.parametrize("unit", ["&", '"', "word ", "« Quote » said Kirby. ", "A" * 50 + " "])
def test_enrich_work_grows_linearly_with_the_article(pipeline: EnrichmentPipeline, unit: str) -> None:
    """Calls made by the whole pipeline on a hostile body of n and 4n units: about 4x, not 16x."""

    def run(n: int) -> None:
        article = Article(
            id="w1", content_hash="h", title="Hostile", body=unit * n, raw_format="fields",
            ingested_at=datetime.now(UTC), origin=Origin(topic="t", partition=0, offset=0),
        )  # fmt: skip
        pipeline.run([article])

    size = max(1, 1000 // len(unit))
    run(size // 10)  # first use of each code path
    small, large = _calls(lambda: run(size)), _calls(lambda: run(4 * size))
    print(f"{unit[:10]!r}: {small} calls for {size} units, {large} for {4 * size}")
    assert small > 100  # the enrichers' own threads are counted
    assert large <= 6 * small + 2000, (small, large)
