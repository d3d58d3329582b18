"""Subscriptions: validation and the pure matching of a filter against an enriched article."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.publish.subscriptions import (
    REVEAL,
    ArticleFacts,
    Subscription,
    SubscriptionFilter,
    matches,
    new_secret,
)

from .publish_articles import enriched


def _m(article=None, **filter_fields: object) -> bool:
    return matches(SubscriptionFilter.model_validate(filter_fields), ArticleFacts.of(article or enriched()))


def test_an_empty_filter_matches_everything() -> None:
    assert _m()


def test_country_language_category_source_and_story() -> None:
    assert _m(countries=["jp"]) and not _m(countries=["FR"])
    assert _m(countries=["FR", "JP"])  # any of a list
    assert _m(languages=["EN"]) and not _m(languages=["fr"])
    assert _m(categories=["03000000"]) and _m(categories=["medtop:03000000"]) and not _m(categories=["medtop:16000000"])
    assert _m(sources=["example wire"]) and not _m(sources=["AFP"])
    assert _m(story_ids=["st_jp"]) and not _m(story_ids=["st_other"])


def test_every_field_set_must_match() -> None:
    assert _m(countries=["JP"], languages=["en"])
    assert not _m(countries=["JP"], languages=["fr"])


def test_entities_match_names_and_aliases_case_insensitively() -> None:
    assert _m(entities=["Yoshimasa Hayashi"])
    assert _m(entities=["hayashi"])  # the merged mention, an alias
    assert _m(entities=["japan meteorological agency"])
    assert not _m(entities=["Fumio Kishida"])


def test_terms_match_whole_words_in_headline_or_body() -> None:
    assert _m(terms=["earthquake"]) and _m(terms=["TSUNAMI ADVISORY"])
    assert not _m(terms=["quake"])  # a whole word, not part of "earthquake"
    assert not _m(terms=["volcano"])


def test_tone_range() -> None:
    assert _m(tone_min=-0.5, tone_max=0.5)
    assert not _m(tone_min=0.1)
    assert not _m(enriched(tone=None), tone_max=0.5)  # no sentiment: a tone filter cannot match


def test_invalid_filters_are_rejected_with_a_reason() -> None:
    with pytest.raises(ValidationError, match="ISO 3166-1"):
        SubscriptionFilter(countries=["Japan"])
    with pytest.raises(ValidationError, match="IPTC"):
        SubscriptionFilter(categories=["disasters"])
    with pytest.raises(ValidationError, match="tone_min"):
        SubscriptionFilter(tone_min=0.5, tone_max=0.1)
    with pytest.raises(ValidationError, match="id"):
        Subscription(id="Bad Id!")


def test_webhook_secrets_are_hidden_unless_revealed() -> None:
    secret = new_secret()
    sub = Subscription.model_validate(
        {"id": "jp", "target": {"kind": "webhook", "url": "https://example.org/h", "secrets": [secret]}}
    )
    assert secret not in sub.model_dump_json()
    assert secret in sub.model_dump_json(context=REVEAL)
    assert Subscription.model_validate_json(sub.model_dump_json(context=REVEAL)) == sub
    with pytest.raises(ValidationError, match="whsec_"):
        Subscription.model_validate(
            {"id": "x", "target": {"kind": "webhook", "url": "https://e.org", "secrets": ["s"]}}
        )


def test_facts_round_trip_through_json() -> None:
    facts = ArticleFacts.of(enriched())
    assert ArticleFacts.from_json(facts.to_json()) == facts
