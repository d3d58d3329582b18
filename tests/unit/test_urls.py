"""URL canonicalisation: one spelling per article address; garbage is rejected."""

from __future__ import annotations

import pytest

from services.ingest.urls import canonicalize_url, url_host


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # tracking parameters and fragment dropped, remaining parameters sorted, www. and default port dropped
        (
            "HTTPS://WWW.Example.com:443/world/story-1/?utm_source=tw&utm_medium=social&b=2&a=1&fbclid=XYZ#comments",
            "https://example.com/world/story-1?a=1&b=2",
        ),
        ("http://example.com/a/?ref=foo&gclid=1&q=2", "http://example.com/a?q=2"),
        (
            "https://example.com/p?spm=1&igshid=2&_ga=3&mc_cid=1&mc_eid=2&cmpid=2&ocid=3&ref_src=t&id=7",
            "https://example.com/p?id=7",
        ),
        ("https://example.com/a?UTM_Campaign=x&Page=2", "https://example.com/a?Page=2"),
        # root path is "/", other paths lose their trailing slash
        ("https://example.com", "https://example.com/"),
        ("http://Example.com:80/", "http://example.com/"),
        ("https://example.com/a/b/", "https://example.com/a/b"),
        # a non-default port is kept
        ("https://example.com:8443/x/", "https://example.com:8443/x"),
        # dot segments, escapes, IDN hosts, user info
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/%7efoo/%e2%82%ac/café", "https://example.com/~foo/%E2%82%AC/caf%C3%A9"),
        ("https://bücher.de/x", "https://xn--bcher-kva.de/x"),
        ("http://user:secret@example.com/x", "http://example.com/x"),
        # surrounding whitespace
        ("  https://example.com/x  ", "https://example.com/x"),
        # real article parameters survive (not matched by prefix like courlan's tracker list)
        ("https://example.com/a?game=2&gallery=3&page=1", "https://example.com/a?gallery=3&game=2&page=1"),
        ("https://english.ahram.org.eg/News/520446.aspx", "https://english.ahram.org.eg/News/520446.aspx"),
    ],
)
def test_canonicalize_url_cleans_tracking_and_spelling(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "   ",
        "not a url",
        "example.com/a",  # no scheme
        "ftp://example.com/a",
        "javascript:alert(1)",
        "mailto:news@example.com",
        "https:///a",  # no host
        "https://-bad.com/",
        "http://256.1.1.1/",
        "https://exa mple.com/",
        "https://example.com:99999/",  # port out of range
    ],
)
def test_canonicalize_url_rejects_non_http_and_garbage(url: str | None) -> None:
    assert canonicalize_url(url) is None


def test_canonicalize_url_is_idempotent() -> None:
    url = "HTTPS://WWW.Example.com:443/a/./b/%7e/?utm_source=x&z=1&a=%25&q=a+b#frag"
    once = canonicalize_url(url)
    assert once is not None
    assert canonicalize_url(once) == once


def test_variants_of_one_article_share_a_canonical_url() -> None:
    variants = [
        "https://www.example.com/news/story/?utm_source=rss",
        "https://example.com/news/story#top",
        "HTTPS://EXAMPLE.COM/news/story/?fbclid=abc",
        "https://example.com:443/news/story",
    ]
    assert {canonicalize_url(v) for v in variants} == {"https://example.com/news/story"}


def test_query_order_of_repeated_names_is_kept() -> None:
    assert canonicalize_url("https://example.com/s?tag=b&x=1&tag=a") == "https://example.com/s?tag=b&tag=a&x=1"


def test_url_host_is_the_canonical_host() -> None:
    assert url_host("https://WWW.Ahram.org.eg:443/News/1.aspx") == "ahram.org.eg"
    assert url_host("ftp://example.com/") is None
    assert url_host(None) is None
