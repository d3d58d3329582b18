"""The search's parameters: parsed into a query, hostile ones refused with a message before any SQL."""

from __future__ import annotations

import pytest

from shared.archive.query import QueryError, SearchQuery, facets_sql, page_sql, parse_q, parse_search
from shared.archive.rows import row_of, ts_config
from tests.unit.publish_articles import enriched


def q(**params: str | list[str]) -> dict[str, list[str]]:
    return {k: v if isinstance(v, list) else [v] for k, v in params.items()}


def test_q_splits_words_phrases_and_exclusions() -> None:
    assert parse_q('ecb "interest rates" -inflation -"bond market" lagarde') == (
        ("ecb", "lagarde"), ("interest rates",), ("inflation", "bond market"),
    )  # fmt: skip


def test_defaults_sort_by_relevance_with_text_and_by_time_without() -> None:
    assert parse_search(q(q="quake")).sort == "relevance"
    assert parse_search(q(country="jp")).sort == "time"
    assert parse_search(q(country="jp")).filters == {"country": ("JP",)}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (q(q="x" * 100_000), "at most 500"),
        (q(q=" ".join(["w"] * 40)), "at most 16"),
        (q(q="-only -exclusions"), "searches for none"),
        (q(entity=["e"] * 10_000), "at most 20"),
        (
            q(
                entity=[f"e{i}" for i in range(20)],
                story=[f"s{i}" for i in range(20)],
                source=[f"x{i}" for i in range(20)],
            ),
            "at most 50 in all",
        ),
        (q(country="France"), "ISO 3166-1"),
        (q(language="english"), "ISO 639-1"),
        (q(**{"from": "yesterday"}), "not a date"),
        (q(**{"from": "2026-02-01", "to": "2026-01-01"}), "before"),
        (q(sort="random"), "relevance or time"),
        (q(sort="relevance"), "needs q"),
        (q(limit="100000"), "from 1 to 100"),
        (q(limit="-1"), "from 1 to 100"),
        (q(q=["a", "b"]), "give it once"),
        (q(cursor="'; DROP TABLE articles; --"), "not one this search gave"),
        (q(source="a" * 201), "over 200"),
        (q(qq="typo"), "unknown parameter"),
    ],
)
def test_hostile_or_wrong_parameters_are_refused_with_a_message(params: dict[str, list[str]], message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_search(params)


def test_sql_metacharacters_stay_bound_parameters() -> None:
    query = parse_search(q(q="'; DROP TABLE articles; -- \\ %s %(x)s", source="x' OR 1=1 --"))
    for text, params in (page_sql(query, ["english"]), facets_sql(query, ["english"])):
        assert "DROP" not in text and "1=1" not in text
        assert "x' OR 1=1 --" in params["source"]


def test_a_cursor_of_another_query_or_sort_is_refused() -> None:
    from datetime import UTC, datetime

    from shared.archive.query import Cursor

    a = parse_search(q(q="flood"))
    token = a.encode_cursor(Cursor(at=datetime.now(UTC), id="x", rank=0.5))
    assert parse_search(q(q="flood", cursor=token)).cursor is not None
    with pytest.raises(QueryError, match="another query"):
        parse_search(q(q="flood", country="FR", cursor=token))
    with pytest.raises(QueryError):
        parse_search(q(q="flood", sort="time", cursor=token))


def test_text_is_matched_only_in_the_configurations_of_the_languages_asked_for() -> None:
    text, _ = page_sql(parse_search(q(q="vote", language="fr")), ["english", "french"])
    assert "'french'::regconfig" in text and "'english'::regconfig" not in text
    assert isinstance(parse_search(q(q="vote")), SearchQuery)


def test_a_row_keeps_the_columns_a_search_filters_on() -> None:
    a = enriched("nf_9", countries=("jp", "JP"), organizations=("ECB",), language="fr")
    r = row_of(a, a.model_dump_json())
    assert (r.countries, r.ts_config, r.category) == (["JP"], "french", "medtop:03000000")
    assert "ecb" in r.entity_keys and "yoshimasa hayashi" in r.entity_keys
    assert ts_config("xx") == "simple" and ts_config(None) == "simple"
