"""Minimum text: pages whose only text is navigation or boilerplate are ``html_no_text``; items under the
minimum of words are ``too_short``; real briefs and the shipped samples pass. Texts written for these tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from services.ingest.errors import RejectedInput
from services.ingest.parsing import ParsedArticle, count_words, parse_raw
from shared.settings import Settings

SAMPLES = Path(__file__).resolve().parents[2] / "services" / "samples"
MIN = Settings().min_article_words

NAV_ONLY = "<nav><a href='/'>Home</a></nav>"
NAV_PAGE = (
    "<!doctype html><html lang='en'><head><title>Riverside Gazette</title></head><body>"
    "<nav><a href='/'>Home</a></nav></body></html>"
)
CHROME_PAGE = """<html><head><title>Riverside Gazette</title></head><body>
<div class="site-menu"><a href="/">Home</a> | <a href="/about">About us</a> | <a href="/contact">Contact</a></div>
<div id="cookie-banner">We use cookies to give you the best experience on our website. By continuing to browse
you agree to our use of cookies.</div>
<div role="contentinfo">Riverside Gazette is published by Riverside Media Group.</div>
</body></html>"""
ARTICLE_PAGE = """<!doctype html><html lang="en"><head><title>Library reopens after flood repairs</title></head>
<body><nav><a href="/">Home</a> <a href="/local">Local</a></nav>
<article><h1>Library reopens after flood repairs</h1>
<p>The central library in Riverside reopened on Monday, eight months after floodwater ruined its ground floor
and forced the council to move thousands of books to a warehouse outside town.</p>
<p>Repairs cost about 2.4 million pounds, the council said, most of it covered by insurance.</p>
</article><footer>Copyright 2026 Riverside Gazette</footer></body></html>"""
BRIEF = {
    "title": "Harbour strike ends in Gothenburg",
    "body": "Dock workers in Gothenburg returned to work on Thursday after a two-week strike over pay ended "
    "with a new contract.",
}


def parse(value: Any, min_words: int = MIN) -> ParsedArticle:
    data = value if isinstance(value, bytes) else orjson.dumps(value)
    return parse_raw(data, max_bytes=1_000_000, min_words=min_words)


def rejected(value: Any, min_words: int = MIN) -> RejectedInput:
    with pytest.raises(RejectedInput) as info:
        parse(value, min_words)
    return info.value


@pytest.mark.parametrize(
    "value",
    [
        {"html": NAV_ONLY},
        {"html": NAV_PAGE, "url": "https://gazette.example.org/"},
        {"html": CHROME_PAGE},
        NAV_PAGE.encode(),  # a page sent as it is, not wrapped in JSON
        NAV_ONLY.encode(),  # a fragment sent as it is
        b'<div class="menu">Home | About us | Contact</div>',
        {"text": NAV_PAGE},
        {"text": NAV_ONLY},
        {"headline": "Riverside Gazette", "body_html": NAV_ONLY},
    ],
)
def test_navigation_or_boilerplate_only_html_is_html_no_text(value: Any) -> None:
    error = rejected(value, min_words=0)  # whatever the minimum of words
    assert error.code == "html_no_text", error
    assert "navigation" in error.message


def test_the_message_quotes_the_boilerplate_that_was_found() -> None:
    error = rejected({"html": NAV_PAGE})
    assert "'Home'" in error.message and "navigation or boilerplate" in error.message


def test_an_article_page_behind_navigation_is_kept() -> None:
    article = parse({"html": ARTICLE_PAGE})
    assert article.title == "Library reopens after flood repairs"
    assert article.body.startswith("The central library in Riverside reopened on Monday")
    assert "Home" not in article.body and "Copyright" not in article.body
    raw = parse(ARTICLE_PAGE.encode())  # the same page sent as plain bytes is read as HTML, not as markup
    assert raw.raw_format == "html" and raw.body == article.body


def test_an_html_fragment_with_a_paragraph_is_kept_as_text() -> None:
    fragment = b"<div><h2>Library reopens</h2><p>The central library reopened on Monday after flood repairs.</p></div>"
    article = parse(fragment)
    assert (article.raw_format, article.title) == ("plain", "Library reopens")
    assert article.body == "The central library reopened on Monday after flood repairs."


def test_text_that_merely_starts_with_a_bracket_is_not_html() -> None:
    article = parse(b"<UPDATE> Council approves the new budget\n\nThe council approved the budget on Tuesday.")
    assert article.raw_format == "plain"


def test_too_short_items_say_how_short_and_what_to_do() -> None:
    error = rejected({"title": "Update", "body": "Click here"})
    assert error.code == "too_short"
    assert "3 words" in error.message and "'Update / Click here'" in error.message
    assert f"minimum of {MIN}" in error.message and "NEWSFLOW_MIN_ARTICLE_WORDS" in error.message
    assert rejected({"body": "Page not found"}).code == "too_short"
    assert rejected(b"Please enable JavaScript to view this page.").code == "too_short"
    assert parse({"title": "Update", "body": "Click here"}, min_words=0).body == "Click here"  # 0: no minimum


def test_briefs_and_flashes_pass_the_default_minimum() -> None:
    assert MIN == 8
    assert parse(BRIEF).title == BRIEF["title"]
    assert parse({"title": "Magnitude 7.1 quake hits Japan", "body": "The quake struck off the coast."}).body


@pytest.mark.parametrize("path", sorted(SAMPLES.iterdir()), ids=lambda p: p.name)
def test_shipped_samples_pass_the_default_minimum(path: Path) -> None:
    article = parse(path.read_bytes())
    assert count_words(article.title) + count_words(article.body) >= 100


def test_words_are_counted_with_letters_and_by_characters_in_unspaced_scripts() -> None:
    assert count_words("The 3 men, aged 25-30, left at 10:45.") == 5
    assert count_words("Ten-year-old O'Neill won") == 3
    assert count_words("东京股市周二收盘上涨") == 5  # ten characters, no spaces
    assert count_words("") == 0
