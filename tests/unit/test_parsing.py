"""parse_raw: every accepted raw shape becomes a ParsedArticle; every bad input a RejectedInput with its code."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from services.ingest.errors import REJECT_CODES, RejectedInput
from services.ingest.parsing import ACCEPTED_SHAPES, ParsedArticle, html_fragment_to_text, parse_raw

REPO = Path(__file__).resolve().parents[2]
SAMPLE_PATH = Path(__file__).parent.parent / "data" / "sample-article-afp-2024-04-14.txt"
SAMPLE = SAMPLE_PATH.read_text(encoding="utf-8")
SAMPLE_TITLE = "US says doesn't want escalation as Israel war cabinet mulls response to Iran attack"
MAX = 2_000_000

ARTICLE_HTML = """<!doctype html>
<html lang="en"><head>
<title>Big news today - Example Times</title>
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2024-04-14T10:00:00+02:00">
<meta property="og:site_name" content="Example Times">
<link rel="canonical" href="https://www.example.com/news/big-news/?utm_source=feed">
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article>
<h1>Big news today</h1>
<p>The first paragraph of the story has enough words to be considered main text by the extractor, surely.</p>
<p>The second paragraph adds more detail about what happened on Sunday in the capital, according to officials
who spoke on condition of anonymity because they were not authorised to talk to the press.</p>
<p>Share this article</p>
</article>
<section class="comments"><p>Great article!!! Visit my site for cheap watches</p></section>
<footer>Copyright 2024 Example Times. All rights reserved.</footer>
<script>var tracking = "should never appear";</script>
</body></html>"""


def parse(value: Any) -> ParsedArticle:
    data = value if isinstance(value, bytes) or value is None else orjson.dumps(value)
    return parse_raw(data, max_bytes=MAX)


def rejected(value: Any, *, max_bytes: int = MAX) -> RejectedInput:
    data = value if isinstance(value, bytes) or value is None else orjson.dumps(value)
    with pytest.raises(RejectedInput) as info:
        parse_raw(data, max_bytes=max_bytes)
    assert info.value.code in REJECT_CODES
    assert info.value.message
    return info.value


def assert_is_the_sample(article: ParsedArticle) -> None:
    assert article.title == SAMPLE_TITLE
    assert article.dateline is not None
    assert article.dateline.agency == "AFP"
    assert article.dateline.date == date(2024, 4, 14)
    assert article.body.startswith("The United States does not want to see an escalation")
    assert "President Joe Biden, along with members" not in article.body
    assert "Short link" not in article.body
    assert '"We\'re not looking for a wider war with Iran."' in article.body
    assert "“break all the dishes”" in article.body
    assert article.source == "AFP"  # from the dateline


# --------------------------------------------------------------------------- accepted shapes


def test_the_real_sample_as_plain_text() -> None:
    article = parse(SAMPLE_PATH.read_bytes())
    assert_is_the_sample(article)
    assert article.raw_format == "plain"
    assert (article.url, article.canonical_url, article.published_at, article.language) == (None, None, None, None)


def test_the_real_sample_as_a_text_object() -> None:
    article = parse(
        {
            "text": SAMPLE,
            "url": "https://english.ahram.org.eg/News/520446.aspx?utm_source=twitter#top",
            "published_at": "2024-04-14T18:05:00+02:00",
            "language": "en",
        }
    )
    assert_is_the_sample(article)
    assert article.raw_format == "text"
    assert article.url == "https://english.ahram.org.eg/News/520446.aspx?utm_source=twitter#top"
    assert article.canonical_url == "https://english.ahram.org.eg/News/520446.aspx"
    assert article.published_at == datetime(2024, 4, 14, 16, 5, tzinfo=UTC)
    assert article.language == "en"


def test_a_utf8_bom_is_accepted() -> None:
    article = parse(b"\xef\xbb\xbf" + SAMPLE_PATH.read_bytes())
    assert article.title == SAMPLE_TITLE
    assert not article.title.startswith("\ufeff")
    json_article = parse(b"\xef\xbb\xbf" + orjson.dumps({"text": SAMPLE}))
    assert json_article.raw_format == "text"


def test_text_object_with_a_different_explicit_title_keeps_the_whole_text_as_body() -> None:
    article = parse({"text": "First line of the story.\nSecond line.", "title": "Sender's title"})
    assert article.title == "Sender's title"
    assert article.body == "First line of the story.\n\nSecond line."


def test_fields_shape() -> None:
    article = parse(
        {
            "title": "  Iran  attack: what we know ",
            "body": "WASHINGTON (Reuters) - The United States said on Sunday it does not want escalation.\r\n\r\n"
            "(Reporting by Jane Doe; Editing by John Roe)\n\nShare this article",
            "url": "https://www.reuters.com/world/iran-attack/?utm_medium=social",
            "published_at": "Sun, 14 Apr 2024 10:00:00 GMT",
            "language": "en",
            "authors": ["Jane Doe", " Jane Doe ", "John Roe"],
            "extra_field": "ignored",
        }
    )
    assert article.raw_format == "fields"
    assert article.title == "Iran attack: what we know"
    assert article.body == (
        "The United States said on Sunday it does not want escalation.\n\n(Reporting by Jane Doe; Editing by John Roe)"
    )
    assert article.dateline is not None
    assert (article.dateline.agency, article.dateline.location) == ("Reuters", "WASHINGTON")
    assert article.canonical_url == "https://reuters.com/world/iran-attack"
    assert article.source == "Reuters"
    assert article.published_at == datetime(2024, 4, 14, 10, 0, tzinfo=UTC)
    assert article.authors == ("Jane Doe", "John Roe")


def test_a_byline_line_gives_authors_and_source() -> None:
    article = parse({"text": "Headline here\nBy Jane Doe and John Roe, AP\n\nLONDON — Britain said."})
    assert article.title == "Headline here"
    assert article.authors == ("Jane Doe", "John Roe")
    assert article.source == "AP"
    assert article.body == "Britain said."
    assert article.dateline is not None and article.dateline.location == "LONDON"


def test_fields_shape_source_falls_back_to_the_url_host() -> None:
    article = parse({"title": "T", "body": "Body text.", "url": "https://www.example.com/a"})
    assert article.source == "example.com"
    explicit = parse({"title": "T", "body": "Body text.", "url": "https://www.example.com/a", "source": "Example"})
    assert explicit.source == "Example"


@pytest.mark.parametrize(
    ("published_at", "expected"),
    [
        ("2024-04-14T10:00:00Z", datetime(2024, 4, 14, 10, 0, tzinfo=UTC)),
        ("2024-04-14T12:00:00+02:00", datetime(2024, 4, 14, 10, 0, tzinfo=UTC)),
        ("2024-04-14 10:00:00", datetime(2024, 4, 14, 10, 0, tzinfo=UTC)),  # no zone: UTC
        ("Sun, 14 Apr 2024 06:00:00 -0400", datetime(2024, 4, 14, 10, 0, tzinfo=UTC)),
        ("April 14, 2024 10:00 AM", datetime(2024, 4, 14, 10, 0, tzinfo=UTC)),
        (1713088800, datetime(2024, 4, 14, 10, 0, tzinfo=UTC)),  # epoch seconds
        (1713088800000, datetime(2024, 4, 14, 10, 0, tzinfo=UTC)),  # epoch milliseconds
        (None, None),
        ("", None),
    ],
)
def test_published_at_is_utc(published_at: Any, expected: datetime | None) -> None:
    article = parse({"title": "T", "body": "Body text.", "published_at": published_at})
    assert article.published_at == expected
    if expected is not None:
        assert article.published_at is not None and article.published_at.utcoffset() == UTC.utcoffset(None)


def test_a_single_author_string_is_accepted() -> None:
    assert parse({"body": "Body text.", "authors": "Jane Doe"}).authors == ("Jane Doe",)


def test_ninjs_with_body_text() -> None:
    article = parse(
        {
            "uri": "https://www.example.com/a/",
            "headline": "Ninjs headline",
            "body_text": "Plain body.\n\nSecond paragraph.",
            "versioncreated": "2024-04-14T10:00:00+02:00",
            "language": "fr",
            "byline": "By Jane Doe and John Roe, AFP",
            "copyrightholder": "AFP",
        }
    )
    assert article.raw_format == "ninjs"
    assert article.title == "Ninjs headline"
    assert article.body == "Plain body.\n\nSecond paragraph."
    assert article.url == "https://www.example.com/a/"
    assert article.canonical_url == "https://example.com/a"
    assert article.published_at == datetime(2024, 4, 14, 8, 0, tzinfo=UTC)
    assert article.language == "fr"
    assert article.authors == ("Jane Doe", "John Roe")
    assert article.source == "AFP"


def test_ninjs_with_body_html_and_a_urn() -> None:
    article = parse(
        {
            "uri": "urn:newsml:afp.com:20240414:abc",
            "headline": "Ninjs headline",
            "body_html": "<p>PARIS, April 14 (AFP) - First  para\n of text.</p>"
            "<figure><img src='x.jpg'><figcaption>A photo. AFP</figcaption></figure>"
            "<p>Second <b>para</b>.<br>Line two &amp; more.</p><script>track()</script>",
            "versioncreated": "2024-04-14T10:00:00Z",
        }
    )
    assert article.body == "First para of text.\n\nSecond para.\n\nLine two & more."
    assert article.url is None and article.canonical_url is None  # a URN is not a URL
    assert article.uri == "urn:newsml:afp.com:20240414:abc"  # but it is the item's identity
    assert article.dateline is not None
    assert (article.dateline.agency, article.dateline.location) == ("AFP", "PARIS")
    assert article.dateline.date == date(2024, 4, 14)  # the year comes from versioncreated
    assert article.source == "AFP"


def test_html_shape_extracts_main_text_and_metadata() -> None:
    article = parse({"html": ARTICLE_HTML, "url": "https://www.example.com/news/big-news?utm_campaign=x"})
    assert article.raw_format == "html"
    assert article.title == "Big news today"
    assert article.body.startswith("The first paragraph of the story")
    assert "who spoke on condition of anonymity" in article.body
    assert "Big news today" not in article.body  # the <h1> repeating the title
    for noise in ("Home", "Share this article", "cheap watches", "Copyright", "tracking"):
        assert noise not in article.body
    assert article.canonical_url == "https://example.com/news/big-news"
    assert article.published_at == datetime(2024, 4, 14, 8, 0, tzinfo=UTC)
    assert article.authors == ("Jane Doe",)
    assert article.source == "Example Times"
    assert article.language == "en"


def test_html_shape_takes_the_url_from_the_page_when_none_is_sent() -> None:
    article = parse({"html": ARTICLE_HTML})
    assert article.canonical_url == "https://example.com/news/big-news"


def test_html_fragment_to_text() -> None:
    html = "<div>Intro<p>One\n two</p><ul><li>a</li><li>b</li></ul><!-- note --><style>p{}</style></div>"
    assert html_fragment_to_text(html).split() == ["Intro", "One", "two", "a", "b"]
    assert html_fragment_to_text("") == ""
    assert html_fragment_to_text("<script>x</script>").strip() == ""


@pytest.mark.parametrize(
    "text",
    ["Just one paragraph of plain text, no headline.", "42 people died in a crash on Sunday.", "[UPDATE] Hi\n\nText."],
)
def test_plain_text_that_is_not_json_is_an_article(text: str) -> None:
    article = parse(text.encode())
    assert article.raw_format == "plain"
    assert article.body


def test_parsed_article_is_frozen() -> None:
    article = parse(b"Headline\n\nBody.")
    with pytest.raises(dataclasses.FrozenInstanceError):
        article.title = "changed"  # type: ignore[misc]  # the point: a frozen dataclass refuses it


# --------------------------------------------------------------------------- rejections


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (None, "empty"),
        (b"", "empty"),
        (b"  \n\t ", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b"abc \xff def", "invalid_utf8"),
        (b"\xc3\x28", "invalid_utf8"),
        (b"[]", "not_an_object"),
        (b"[1, 2]", "not_an_object"),
        (b"42", "not_an_object"),
        (b"true", "not_an_object"),
        (b"null", "not_an_object"),
        (b'"str"', "not_an_object"),
        (b"{}", "unknown_shape"),
        (b'{"headline": "x", "uri": "y"}', "unknown_shape"),
        (b'{"text": ""}', "no_text"),
        (b'{"text": "   \\n  "}', "no_text"),
        (b'{"title": "T", "body": ""}', "no_text"),
        (b'{"title": "T", "body": "Short link:"}', "no_text"),
        (b'{"text": "Headline\\n\\nAFP , Sunday 14 Apr 2024"}', "no_text"),
        (b'{"body": 42}', "invalid_field"),
        (b'{"text": null}', "invalid_field"),
        (b'{"text": ["a"]}', "invalid_field"),
        (b'{"body": "x", "url": 5}', "invalid_field"),
        (b'{"body": "x", "authors": [1]}', "invalid_field"),
        (b'{"body": "x", "published_at": "yesterday"}', "invalid_field"),
        (b'{"headline": "x", "body_text": 5}', "invalid_field"),
        (b'{"html": "<html><body><script>x</script></body></html>"}', "html_no_text"),
        (b'{"html": ""}', "html_no_text"),
        (b'{"text": "abc"', "invalid_json"),
        (b"[1, 2", "invalid_json"),
    ],
)
def test_bad_input_is_rejected_with_its_code(value: bytes | None, code: str) -> None:
    assert rejected(value).code == code


def test_rejected_input_survives_pickling() -> None:
    error = rejected({"body": 42})
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.message, copy.field) == (error.code, error.message, "body")


def test_oversize_is_rejected_with_size_and_limit() -> None:
    error = rejected(b"x" * 1001, max_bytes=1000)
    assert error.code == "too_large"
    assert "1,001" in error.message and "1,000" in error.message
    # exactly at the limit is fine
    assert parse_raw(b"Headline\n\n" + b"x" * 990, max_bytes=1000).body


def test_invalid_utf8_message_names_the_byte_and_its_position() -> None:
    error = rejected(b"Headline \xff body")
    assert "0xff" in error.message and "position 9" in error.message
    bom_error = rejected(b"\xef\xbb\xbfAB\xfe")
    assert "0xfe" in bom_error.message and "position 5" in bom_error.message  # counted in the original bytes


def test_invalid_field_names_the_field() -> None:
    error = rejected({"body": 42})
    assert error.field == "body"
    assert "'body'" in error.message and "number" in error.message
    date_error = rejected({"body": "x", "published_at": "soon"})
    assert date_error.field == "published_at"


def test_unknown_shape_lists_the_accepted_shapes() -> None:
    error = rejected({})
    assert ACCEPTED_SHAPES in error.message


def test_not_an_object_says_what_it_got() -> None:
    assert "array" in rejected([]).message
    assert "number" in rejected(42).message
    assert "string" in rejected("str").message


# --------------------------------------------------------------------------- speed


def test_non_html_paths_do_not_import_trafilatura() -> None:
    code = (
        "import sys, orjson\n"
        "from services.ingest.parsing import parse_raw\n"
        f"parse_raw(orjson.dumps({{'text': {SAMPLE!r}}}), max_bytes=10**6)\n"
        "parse_raw(orjson.dumps({'headline': 'h', 'body_html': '<p>x</p>'}), max_bytes=10**6)\n"
        "assert 'trafilatura' not in sys.modules, 'trafilatura imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


def test_parsing_the_sample_text_object_is_fast() -> None:
    value = orjson.dumps({"text": SAMPLE})
    parse_raw(value, max_bytes=MAX)  # warm caches
    runs = 50
    start = time.perf_counter()
    for _ in range(runs):
        parse_raw(value, max_bytes=MAX)
    per_call = (time.perf_counter() - start) / runs
    # ~0.3 ms on a quiet machine; the bound is loose so a busy CI box does not flake
    assert per_call < 0.01, f"parse_raw took {per_call * 1000:.2f} ms per call"
