"""The dateline and byline grammar: the forms accepted, the sentences refused, dates without a year."""

from __future__ import annotations

from datetime import date

import pytest

from services.ingest.datelines import match_dateline_prefix, parse_byline, parse_dateline


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
