"""Text normalisation, boilerplate and caption removal, datelines and wire-story splitting."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services.ingest.normalize import (
    clean_text,
    fix_quote_pairs,
    is_boilerplate,
    match_dateline_prefix,
    normalize_body,
    normalize_title,
    parse_byline,
    parse_dateline,
    split_paragraphs,
    split_wire_story,
)
from shared.captions import is_photo_caption
from shared.textfold import fold_for_comparison

SAMPLE = (Path(__file__).parent.parent / "data" / "sample-article-afp-2024-04-14.txt").read_text(encoding="utf-8")
CAPTION = (
    "President Joe Biden, along with members of his national security team, receive an update on an ongoing "
    "airborne attack on Israel from Iran, as they meet in the Situation Room of the White House in Washington, "
    "Saturday, April 13, 2024. AP"
)

# --------------------------------------------------------------------------- clean_text


def test_clean_text_composes_unicode_to_nfc() -> None:
    assert clean_text("Cafe\u0301 cre\u0300me") == "Café crème"


def test_clean_text_removes_control_and_invisible_characters() -> None:
    assert clean_text("\ufeffAb\x00c\u200bd\u00ade\x1b\x7f") == "Abcde"


def test_clean_text_keeps_joiners_that_carry_meaning() -> None:
    persian = "می\u200cخواهم"  # ZWNJ is part of the spelling
    assert clean_text(persian) == persian


def test_clean_text_collapses_whitespace_and_keeps_paragraphs() -> None:
    raw = "  First\u00a0 line\t here  \r\nsecond line\r\n\r\n\r\n\n  Next\u2003paragraph \u2029Last"
    assert clean_text(raw) == "First line here\nsecond line\n\nNext paragraph\n\nLast"


def test_clean_text_is_idempotent_on_the_sample() -> None:
    once = clean_text(SAMPLE)
    assert clean_text(once) == once
    assert "\n\n\n" not in once


# --------------------------------------------------------------------------- paragraphs


def test_split_paragraphs_joins_a_hard_wrapped_block() -> None:
    text = (
        "This is a hard wrapped paragraph of text that goes on and\n"
        "on across several lines because the sender wrapped it at\n"
        "seventy characters or so, as email clients still do today.\n\n"
        "Second paragraph."
    )
    assert split_paragraphs(text) == [
        "This is a hard wrapped paragraph of text that goes on and on across several lines because the sender "
        "wrapped it at seventy characters or so, as email clients still do today.",
        "Second paragraph.",
    ]


def test_split_paragraphs_reads_single_newlines_between_sentences_as_breaks() -> None:
    assert split_paragraphs("One sentence.\nAnother one.\nThird") == ["One sentence.", "Another one.", "Third"]


def test_split_paragraphs_joins_a_soft_wrap_inside_a_sentence() -> None:
    assert split_paragraphs("The minister said the\ntalks were inter-\nnational.") == [
        "The minister said the talks were inter-national."
    ]


# --------------------------------------------------------------------------- quotes


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('“This event is not over," Gantz said.', "“This event is not over,” Gantz said."),
        ('"Take the win” he said.', "“Take the win” he said."),
        ('“curly” and "straight" stay', '“curly” and "straight" stay'),
        ('only "straight" quotes', 'only "straight" quotes'),
        ("no quotes at all", "no quotes at all"),
    ],
)
def test_fix_quote_pairs_closes_mismatched_pairs_only(before: str, after: str) -> None:
    assert fix_quote_pairs(before) == after


def test_fold_for_comparison_removes_quotes_and_unifies_spacing() -> None:
    assert fold_for_comparison("He said: « Hello » — “it’s  fine” ( really ) , ok") == (
        "he said: hello-its fine (really), ok"
    )


# --------------------------------------------------------------------------- boilerplate and captions


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


def test_normalize_title_is_one_line() -> None:
    assert normalize_title('  Iran\u00a0attack:\n“what we know"  ') == "Iran attack: “what we know”"


# --------------------------------------------------------------------------- datelines


@pytest.mark.parametrize(
    ("line", "agency", "location", "day"),
    [
        ("AFP , Sunday 14 Apr 2024", "AFP", None, date(2024, 4, 14)),
        ("Ahram Online , Monday 3 Jun 2024", "Ahram Online", None, date(2024, 6, 3)),
        ("Reuters, Cairo, 14 April 2024", "Reuters", "Cairo", date(2024, 4, 14)),
        ("AFP, April 14, 2024", "AFP", None, date(2024, 4, 14)),
        ("Sunday 14 Apr 2024, AFP", "AFP", None, date(2024, 4, 14)),
        ("2024-04-14", None, None, date(2024, 4, 14)),
        ("April 14, 2024", None, None, date(2024, 4, 14)),
        ("WASHINGTON (Reuters) -", "Reuters", "WASHINGTON", None),
        ("PARIS, April 14 (AFP) -", "AFP", "PARIS", None),  # no year and no reference: no date
        ("Washington (CNN) —", "CNN", "Washington", None),
        ("GAZA CITY, Gaza Strip (AP) —", "AP", "GAZA CITY, Gaza Strip", None),
        ("LONDON —", None, "LONDON", None),
        ("By Jane Doe, AP", "AP", None, None),
        ("By Jane Doe and John Roe", None, None, None),
    ],
)
def test_parse_dateline_forms(line: str, agency: str | None, location: str | None, day: date | None) -> None:
    dateline = parse_dateline(line)
    assert dateline is not None
    assert (dateline.raw, dateline.agency, dateline.location, dateline.date) == (line, agency, location, day)


@pytest.mark.parametrize(
    "line",
    [
        "The United States does not want to see an escalation, a top official said Sunday, April 14, 2024.",
        "Kirby said on Sunday, April 14, 2024",
        "In Washington, April 14, 2024",
        "By the end of the year, prices rose",
        "BREAKING",
        "Israels mulls response",
        "Iran launched more than 300 drones",
        "US says doesn't want escalation as Israel war cabinet mulls response to Iran attack",
        "AFP , Sunday 31 Feb 2024",  # not a real date
        "",
    ],
)
def test_parse_dateline_rejects_sentences(line: str) -> None:
    assert parse_dateline(line) is None


def test_a_dateline_without_a_year_takes_it_from_the_reference() -> None:
    dated = parse_dateline("PARIS, April 14 (AFP) -", reference=date(2024, 4, 15))
    assert dated is not None and dated.date == date(2024, 4, 14)
    # on 2 January, "December 30" is last year's
    rolled = parse_dateline("LONDON, December 30", reference=date(2025, 1, 2))
    assert rolled is not None and rolled.date == date(2024, 12, 30)


@pytest.mark.parametrize(
    ("paragraph", "raw", "agency", "location", "rest"),
    [
        ("WASHINGTON (Reuters) - The US said.", "WASHINGTON (Reuters)", "Reuters", "WASHINGTON", "The US said."),
        ("PARIS, April 14 (AFP) - France said.", "PARIS, April 14 (AFP)", "AFP", "PARIS", "France said."),
        ("NEW YORK (AP) — A man was arrested.", "NEW YORK (AP)", "AP", "NEW YORK", "A man was arrested."),
        ("LONDON — Britain said.", "LONDON", None, "LONDON", "Britain said."),
        ("LONDON—Britain said.", "LONDON", None, "LONDON", "Britain said."),
    ],
)
def test_match_dateline_prefix_strips_the_dateline(
    paragraph: str, raw: str, agency: str | None, location: str, rest: str
) -> None:
    dateline, remainder = match_dateline_prefix(paragraph)
    assert dateline is not None
    assert (dateline.raw, dateline.agency, dateline.location) == (raw, agency, location)
    assert remainder == rest


@pytest.mark.parametrize(
    "paragraph",
    [
        "COVID-19 cases rose again.",
        "The US — and its allies — said no.",
        "Iran launched more than 300 drones.",
        "Apple (AAPL) - shares rose 3% on Monday.",
        "Keir Starmer (Labour): we will act.",
    ],
)
def test_match_dateline_prefix_leaves_ordinary_paragraphs(paragraph: str) -> None:
    assert match_dateline_prefix(paragraph) == (None, paragraph)


def test_parse_byline_splits_names_and_agency() -> None:
    assert parse_byline("By Jane Doe, AP") == (("Jane Doe",), "AP")
    assert parse_byline("By Jane Doe and John Roe") == (("Jane Doe", "John Roe"), None)
    assert parse_byline("Jane Doe; John Roe") == (("Jane Doe", "John Roe"), None)
    assert parse_byline("Jane Doe, Staff Writer") == (("Jane Doe",), None)


# --------------------------------------------------------------------------- wire stories


def test_split_wire_story_on_the_real_sample() -> None:
    title, dateline, body = split_wire_story(SAMPLE)
    assert title == "US says doesn't want escalation as Israel war cabinet mulls response to Iran attack"
    assert dateline is not None
    assert dateline.agency == "AFP"
    assert dateline.date == date(2024, 4, 14)
    assert dateline.raw == "AFP , Sunday 14 Apr 2024"
    assert body.startswith("The United States does not want to see an escalation")
    assert "President Joe Biden, along with members" not in body  # the photo caption
    assert "Short link" not in body
    assert "AFP , Sunday" not in body
    assert body.endswith("or do something more measured.")
    # quotes are kept, straight and curly; the mismatched “...," pair is closed
    assert '"We don\'t want to see this escalate," White House' in body
    assert "“We must be prepared for every scenario.”" in body
    assert "strengthened precisely now,” Gantz continued." in body
    assert "\n\nIsraels mulls response\n\n" in body  # a sub-heading stays a paragraph
    assert (
        body.count("\n\n") == 18
    )  # 19 paragraphs: the source's 23 blocks minus headline, dateline, caption, "Short link:"


def test_split_wire_story_with_the_dateline_in_the_first_paragraph() -> None:
    text = "Iran attack: US urges restraint\n\nWASHINGTON (Reuters) - The United States urged restraint.\n\nMore."
    story = split_wire_story(text)
    assert story.title == "Iran attack: US urges restraint"
    assert story.dateline is not None
    assert (story.dateline.agency, story.dateline.location) == ("Reuters", "WASHINGTON")
    assert story.body == "The United States urged restraint.\n\nMore."


def test_split_wire_story_merges_a_byline_and_a_dateline() -> None:
    text = "Headline here\nBy Jane Doe, AP\nLONDON, April 14 —\nBritain said.\n"
    story = split_wire_story(text, reference=date(2024, 4, 20))
    assert story.title == "Headline here"
    assert story.dateline is not None
    assert story.dateline.raw == "By Jane Doe, AP\nLONDON, April 14 —"
    assert (story.dateline.agency, story.dateline.location, story.dateline.date) == ("AP", "LONDON", date(2024, 4, 14))
    assert story.body == "Britain said."


def test_split_wire_story_without_a_headline() -> None:
    one_paragraph = "The United States does not want to see an escalation, a top official said on Sunday."
    assert split_wire_story(one_paragraph) == ("", None, one_paragraph)
    wrapped = "The United States does not want to see an\nescalation of the crisis, an official said."
    assert split_wire_story(wrapped).title == ""
    assert split_wire_story("Headline\nBody.", has_headline=False) == ("", None, "Headline\n\nBody.")


def test_split_wire_story_of_nothing() -> None:
    assert split_wire_story("  \n\n ") == ("", None, "")
