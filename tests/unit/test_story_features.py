"""An article's story signature: entities and key phrases when NER found names, its text when not."""

from __future__ import annotations

from services.enrich.analysis.doc import Doc
from services.enrich.stories import story_features
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


def test_with_entities_no_text_signature() -> None:
    feats = signed("Kirby speaks", "Kirby said Washington does not seek war.", ["John Kirby"], ["wider war"])
    assert not [k for k in feats if k.startswith("n:")]
    assert set(feats) == {"e:john kirby", "w:wider", "w:war"}


def test_without_entities_capitalised_names_and_content_words_sign_the_article() -> None:
    feats = signed(
        "Merkel trifft Macron in Paris",
        "Bundeskanzlerin Merkel hat am Montag Präsident Macron getroffen. Merkel und Macron sprachen über Europa.",
        [], [], lang="de",
    )  # fmt: skip
    names = {k for k in feats if k.startswith("n:")}
    assert {"n:merkel", "n:macron", "n:paris"} <= names  # folded, cut to six letters
    assert "n:bundes" in names  # German capitalises nouns: they count as names here
    assert "w:sprach" in feats and "w:getrof" in feats  # content words, cut to six letters
    assert not {k for k in feats if k[2:] in ("hat", "und", "uber")}  # stopwords


def test_a_script_without_case_keeps_its_longer_words() -> None:
    feats = signed("", "أعلن المجلس الانتقالي الجنوبي حالة الطوارئ في عدن", [], [], lang="ar")
    names = [k for k in feats if k.startswith("n:")]
    assert names and all(len(k) > 5 for k in names)  # "n:" + at least four letters
    assert "n:في" not in feats


def test_shouted_headline_words_are_not_names() -> None:
    feats = signed("", "BREAKING NEWS: floods in Porto Alegre", [], [])
    assert "n:breaki" not in feats and "n:porto" in feats and "n:alegre" in feats
