"""Site chrome and photo captions dropped from a body; what a display body keeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.ingest.boilerplate import is_boilerplate, normalize_body
from shared.captions import is_photo_caption

SAMPLE = (Path(__file__).parent.parent / "data" / "sample-article-afp-2024-04-14.txt").read_text(encoding="utf-8")
CAPTION = (
    "President Joe Biden, along with members of his national security team, receive an update on an ongoing "
    "airborne attack on Israel from Iran, as they meet in the Situation Room of the White House in Washington, "
    "Saturday, April 13, 2024. AP"
)


@pytest.mark.parametrize(
    "paragraph",
    [
        "Short link:",
        "Short link: https://english.ahram.org.eg/News/520446.aspx",
        "Read more: Iran says attack was self-defence",
        "Related: Israel braces for Iranian attack",
        "Follow us on Twitter",
        "Follow Ahram Online on Facebook and X",
        "Share this article",
        "Share on WhatsApp",
        "Subscribe to our newsletter for daily updates",
        "Advertisement",
    ],
)
def test_site_chrome_is_boilerplate(paragraph: str) -> None:
    assert is_boilerplate(paragraph)


@pytest.mark.parametrize(
    "paragraph",
    [
        "(Reporting by Jane Doe; Editing by John Roe)",
        "Share prices rose on Monday.",
        "Readers should follow the advice on Twitter, officials said.",
        "Israels mulls response",
    ],
)
def test_article_text_is_not_boilerplate(paragraph: str) -> None:
    assert not is_boilerplate(paragraph)


@pytest.mark.parametrize(
    "paragraph",
    [
        CAPTION,
        "Palestinians inspect the rubble of a destroyed house in Rafah on April 14, 2024. (AFP)",
        "Protesters gather outside parliament in London. (AP Photo/Kirsty Wigglesworth)",
        "Smoke rises over Gaza City. AFP PHOTO / MAHMUD HAMS",
        "Israeli soldiers stand guard near the border. Photo: Reuters",
        "Photo: A man walks past a mural in Tehran.",
        "Iranian women walk past a mural in Tehran on April 15, 2024. REUTERS/Majid Asgaripour",
        "The minister arrives for a meeting in Brussels (Photo by John Thys / AFP)",
        "A handout picture shows the launch. Getty Images",
    ],
)
def test_photo_captions_are_recognised(paragraph: str) -> None:
    assert is_photo_caption(paragraph)


@pytest.mark.parametrize(
    "paragraph",
    [
        "The minister said the talks would resume on Monday. (AFP)",
        "The agency confirmed the figures, according to AP",
        "He shared a photo of the damage with reporters.",
        "The report was published by Getty Images in 2020, the company said.",
        "The talks, held in Cairo on April 14, 2024, ended without a deal, officials told AP",
        "(Reporting by Jane Doe; Editing by John Roe)",
    ],
)
def test_article_text_is_not_a_caption(paragraph: str) -> None:
    assert not is_photo_caption(paragraph)


def test_normalize_body_drops_chrome_and_captions_and_keeps_credits() -> None:
    body = (
        "First paragraph.\n\n"
        f"{CAPTION}\n\n\n"
        "Share this article\n\n"
        "Second paragraph.\n\n"
        "(Reporting by Jane Doe; Editing by John Roe)\n\n"
        "Follow us on Twitter\n\n"
        "Short link:"
    )
    assert normalize_body(body) == (
        "First paragraph.\n\nSecond paragraph.\n\n(Reporting by Jane Doe; Editing by John Roe)"
    )


def test_normalize_body_strips_a_short_link_stuck_to_the_last_paragraph() -> None:
    assert normalize_body("Para one ends. Short link: http://x.eg/1") == "Para one ends."


def test_normalize_body_is_idempotent() -> None:
    once = normalize_body(SAMPLE)
    assert normalize_body(once) == once
