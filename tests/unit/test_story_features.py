"""An article's story signature: its rarest words (the text part), and its entities and key phrases when NER
found names, capitalised words when not (the field part)."""

from __future__ import annotations

from services.enrich.analysis.doc import Doc
from services.enrich.analysis.rarity import RARE_ZIPF, UNLISTED_ZIPF, rarity, rarity_table
from services.enrich.stories import TEXT_WORDS, story_features
from shared.models import CountriesField, EntitiesField, EntityItem, KeywordItem, KeywordsField, TextSpan
from tests.unit.test_enrichers import make_article


def signed(title: str, body: str, people: list[str], keywords: list[str], lang: str = "en") -> dict[str, float]:
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
    return story_features(doc)


def test_numbers_that_tell_an_event_and_not_years_or_small_ones() -> None:
    feats = signed("Crash", "The Boeing 737 crashed in 2019, killing 157 of 3,300 passengers on 12 flights.",
                   ["Someone"], [])  # fmt: skip
    assert {k for k in feats if k.startswith("d:")} == {"d:737", "d:157", "d:3300"}


def test_with_entities_no_capitalised_words_and_the_text_part_from_every_word() -> None:
    feats = signed("Kirby speaks", "Kirby said Washington does not seek war.", ["John Kirby"], ["wider war"])
    assert {k for k in feats if not k.startswith("t:")} == {"e:john kirby", "w:wider", "w:war"}
    text = {k for k in feats if k.startswith("t:")}
    assert {"t:kirby", "t:washin", "t:speaks", "t:seek", "t:war"} <= text  # folded, cut to six letters
    assert not text & {"t:said", "t:does", "t:not"}  # stopwords


def test_without_entities_capitalised_names_and_content_words_sign_the_article() -> None:
    feats = signed(
        "Merkel trifft Macron in Paris",
        "Bundeskanzlerin Merkel hat am Montag Präsident Macron getroffen. Merkel und Macron sprachen über Europa.",
        [], [], lang="de",
    )  # fmt: skip
    names = {k for k in feats if k.startswith("n:")}
    assert {"n:merkel", "n:macron", "n:paris"} <= names  # folded, cut to six letters
    assert "n:bundes" in names  # German capitalises nouns: they count as names here
    assert "t:sprach" in feats and "t:getrof" in feats  # the text part, cut to six letters
    assert not {k for k in feats if k[2:] in ("hat", "und", "uber")}  # stopwords


def test_a_script_without_case_keeps_its_longer_words() -> None:
    feats = signed("", "أعلن المجلس الانتقالي الجنوبي حالة الطوارئ في عدن", [], [], lang="ar")
    names = [k for k in feats if k.startswith("n:")]
    assert names and all(len(k) > 5 for k in names)  # "n:" + at least four letters
    assert "n:في" not in feats


def test_shouted_headline_words_are_not_names() -> None:
    feats = signed("", "BREAKING NEWS: floods in Porto Alegre", [], [])
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
