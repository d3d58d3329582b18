"""An article's story signature: by its text (its rarest words) when it has enough of them, else by its fields
(entities and key phrases when NER found names, capitalised words when not)."""

from __future__ import annotations

from services.enrich.analysis.doc import Doc
from services.enrich.analysis.keywords import stopwords
from services.enrich.analysis.rarity import RARE_ZIPF, UNLISTED_ZIPF, rarity, rarity_table
from services.enrich.stories import MIN_TEXT_WORDS, TEXT_WORDS, _field_features, story_features
from shared.models import CountriesField, EntitiesField, EntityItem, KeywordItem, KeywordsField, TextSpan
from tests.unit.test_enrichers import make_article


def enriched(title: str, body: str, people: list[str], keywords: list[str], lang: str = "en") -> Doc:
    doc = Doc(article=make_article(title, body))
    first = TextSpan.model_validate({"in": "body", "start": 0, "end": 1})
    doc.fields = {
        "entities": EntitiesField(
            people=[EntityItem(name=n, mentions=1, first=first) for n in people] if people else None,
            method="m", version="1",
        ),
        "countries": CountriesField(value=[], method="m", version="1"),
        "keywords": KeywordsField(value=[KeywordItem(text=k, score=1.0) for k in keywords], language=lang,
                                  method="m", version="1"),
    }  # fmt: skip
    return doc


def signed(title: str, body: str, people: list[str], keywords: list[str], lang: str = "en") -> dict[str, float]:
    """The signature ``story_features`` gives."""
    return story_features(enriched(title, body, people, keywords, lang))


def by_fields(title: str, body: str, people: list[str], keywords: list[str], lang: str = "en") -> dict[str, float]:
    """The signature by fields, which an article with too little text gets."""
    return _field_features(enriched(title, body, people, keywords, lang), stopwords(lang))


def test_numbers_that_tell_an_event_and_not_years_or_small_ones() -> None:
    feats = by_fields("Crash", "The Boeing 737 crashed in 2019, killing 157 of 3,300 passengers on 12 flights.",
                   ["Someone"], [])  # fmt: skip
    assert {k for k in feats if k.startswith("d:")} == {"d:737", "d:157", "d:3300"}


def test_an_article_with_text_is_signed_by_its_words_one_without_by_its_fields() -> None:
    feats = signed("Kirby speaks", "Kirby said Washington does not seek war.", ["John Kirby"], ["wider war"])
    assert {"t:kirby", "t:washin", "t:speaks", "t:seek", "t:war"} == set(feats)  # folded, cut to six letters
    # stopwords ("said", "does", "not") are left out
    brief = signed("Kirby", "War talk.", ["John Kirby"], ["wider war"])  # fewer than MIN_TEXT_WORDS words
    assert MIN_TEXT_WORDS > 3 and set(brief) == {"e:john kirby", "w:wider", "w:war"}  # no capitalised words


def test_without_entities_capitalised_names_and_content_words_sign_the_article() -> None:
    feats = by_fields(
        "Merkel trifft Macron in Paris",
        "Bundeskanzlerin Merkel hat am Montag Präsident Macron getroffen. Merkel und Macron sprachen über Europa.",
        [], [], lang="de",
    )  # fmt: skip
    names = {k for k in feats if k.startswith("n:")}
    assert {"n:merkel", "n:macron", "n:paris"} <= names  # folded, cut to six letters
    assert "n:bundes" in names  # German capitalises nouns: they count as names here
    assert not {k for k in feats if k[2:] in ("hat", "und", "uber")}  # stopwords
    text = signed(
        "Merkel trifft Macron in Paris",
        "Bundeskanzlerin Merkel hat am Montag Präsident Macron getroffen. Merkel und Macron sprachen über Europa.",
        [], [], lang="de",
    )  # fmt: skip
    assert "t:sprach" in text and "t:getrof" in text and "t:merkel" in text  # by text, cut to six letters
    assert not {k for k in text if k[2:] in ("hat", "und", "uber")}  # stopwords


def test_a_script_without_case_keeps_its_longer_words() -> None:
    feats = by_fields("", "أعلن المجلس الانتقالي الجنوبي حالة الطوارئ في عدن", [], [], lang="ar")
    names = [k for k in feats if k.startswith("n:")]
    assert names and all(len(k) > 5 for k in names)  # "n:" + at least four letters
    assert "n:في" not in feats


def test_shouted_headline_words_are_not_names() -> None:
    feats = by_fields("", "BREAKING NEWS: floods in Porto Alegre", [], [])
    assert "n:breaki" not in feats and "n:porto" in feats and "n:alegre" in feats


def test_the_text_part_weighs_count_by_rarity() -> None:
    common = "The government said on Monday that the people would get more money next year. " * 3
    feats = signed("", common + "Zelenskyy met Stoltenberg in Vilnius.", [], [])
    # once each, names off the frequency list outweigh common words said three times
    assert feats["t:zelens"] == feats["t:stolte"] > feats["t:govern"] > feats.get("t:people", 0.0)


def test_the_text_part_is_bounded_and_of_length_one() -> None:
    feats = signed("", " ".join(f"{chr(97 + i % 26)}{chr(97 + i // 26)}quorx" for i in range(40)), [], [])
    text = {k: v for k, v in feats.items() if k.startswith("t:")}
    assert len(text) == TEXT_WORDS
    assert abs(sum(v * v for v in text.values()) - 1.0) < 1e-4


def test_rarity_is_zero_for_the_commonest_words_and_highest_off_the_list() -> None:
    table = rarity_table("en")
    assert table is not None
    assert rarity(table, "the") == 0.0 < rarity(table, "police") < rarity(table, "earthquake")
    assert rarity(table, "zzqxv") == RARE_ZIPF - UNLISTED_ZIPF
    assert rarity_table("de") is not None and rarity(rarity_table("de") or {}, "polizei") < rarity(table, "polizei")
    assert rarity_table("xx") is None  # no list: the caller weighs every word alike
