"""The IPTC category lexicon: scoring rules, languages, and the category bench's pure parts."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import yaml

from evaluation.category_eval import (
    NONE,
    Confusion,
    DefinitionBaseline,
    SemevalPair,
    pair_agreement,
    pair_group,
    read_bbc,
)
from services.enrich.enrichers.category import Lexicon, load_lexicon

SPORT, ECONOMY, POLITICS, ARTS = "medtop:15000000", "medtop:04000000", "medtop:11000000", "medtop:01000000"
CRIME, TECH, HEALTH, CONFLICT = "medtop:02000000", "medtop:13000000", "medtop:07000000", "medtop:16000000"


def _lexicon(tmp_path: Path, cues: dict[str, dict[str, dict[str, int]]]) -> Lexicon:
    """A small vocabulary file: topic code -> language -> cue -> weight."""
    topics = [{"code": code, "name": code, "cues": c} for code, c in cues.items()]
    path = tmp_path / "lexicon.yaml"
    path.write_text(yaml.safe_dump({"version": "t", "topics": topics}, allow_unicode=True), encoding="utf-8")
    load_lexicon.cache_clear()
    try:
        return load_lexicon(path)
    finally:
        load_lexicon.cache_clear()


def top(title: str, body: str, lang: str = "en") -> str | None:
    topics = load_lexicon().score(title, body, lang, {})
    return topics[0].code if topics else None


def test_every_topic_has_cues_in_the_eight_languages_and_a_definition() -> None:
    lex = load_lexicon()
    assert {"en", "fr", "es", "de", "pt", "it", "nl", "ar"} <= lex.languages
    for topic in lex.topics:
        assert topic.definition, topic.code
        for lang in ("de", "pt", "it", "nl", "ar"):
            assert topic.words.get(lang) or topic.prefixes.get(lang), (topic.code, lang)


def test_hints_alone_do_not_beat_one_strong_cue(tmp_path: Path) -> None:
    lex = _lexicon(tmp_path, {"A": {"en": {"games": 1, "fans": 1, "team": 1}}, "B": {"en": {"fees": 2}}})
    topics = lex.score("Parking fees", "Fans of the team drive to games and pay fees.", "en", {})
    assert [t.code for t in topics] == ["B"]


def test_hints_decide_when_no_topic_has_a_strong_cue(tmp_path: Path) -> None:
    lex = _lexicon(tmp_path, {"A": {"en": {"final": 1, "won": 1}}, "B": {"en": {"price": 1}}})
    topics = lex.score("Roddick in the final", "He won the semi and plays the final.", "en", {})
    assert topics[0].code == "A"


def test_a_word_counts_once_per_topic_for_its_strongest_cue(tmp_path: Path) -> None:
    both = _lexicon(tmp_path, {"A": {"en": {"legislation": 2, "legislat*": 2}}, "B": {"en": {"court": 3}}})
    one = _lexicon(tmp_path, {"A": {"en": {"legislation": 2}}, "B": {"en": {"court": 3}}})
    text = ("Legislation", "The legislation goes to court.")
    assert both.score(*text, "en", {}) == one.score(*text, "en", {})


def test_phrases_match_word_runs_and_a_trailing_stem(tmp_path: Path) -> None:
    lex = _lexicon(tmp_path, {"A": {"en": {"interest rate*": 3}}, "B": {"en": {"rose": 2}}})
    assert lex.score("", "The bank raised interest rates; shares rose.", "en", {})[0].code == "A"
    assert lex.score("", "The rates of interest rose.", "en", {})[0].code == "B"


def test_a_stem_cue_does_not_take_longer_unrelated_words() -> None:
    # "invest*" once made every investigation an economy story, "gene*" every general a science one
    assert (
        top("Police investigation", "Police opened an investigation; a general said suspects were arrested.") == CRIME
    )


@pytest.mark.parametrize(
    ("title", "body", "code"),
    [
        ("Beijing fees row", "Officials look at parking fees and prices for drivers; fees rise.", ECONOMY),
        ("War games battle it out", "The video games let gamers battle online on the console.", TECH),
        ("MPs back bill", "Tory and Lib Dem MPs backed the Home Secretary's bill in the Commons.", POLITICS),
        ("Singer tops singles chart", "The rapper's album and single topped the singles chart.", ARTS),
    ],
)
def test_english_cases_the_bbc_confusions_showed(title: str, body: str, code: str) -> None:
    assert top(title, body) == code


@pytest.mark.parametrize(
    ("lang", "title", "body", "code"),
    [
        ("de", "Bundestag stimmt ab", "Abgeordnete der SPD und CDU stimmten im Bundestag für die Regierung.", POLITICS),
        ("de", "Bayern gewinnt", "Der Stürmer traf, die Mannschaft gewann im Stadion die Meisterschaft.", SPORT),
        ("pt", "Inflação sobe", "A inflação subiu e o banco central elevou os juros, dizem economistas.", ECONOMY),
        ("it", "Vaccino approvato", "I pazienti in ospedale riceveranno il vaccino contro la malattia.", HEALTH),
        ("nl", "Aanval op stad", "Soldaten en troepen voerden een luchtaanval uit; de oorlog escaleert.", CONFLICT),
        ("ar", "الانتخابات البرلمانية", "صوت الناخبون واعلنت الحكومة نتائج الاقتراع في البرلمان", POLITICS),
        ("ar", "مباراة", "فاز الفريق في المباراة وسجل اللاعب هدفين في الدوري امام الجماهير في الملعب", SPORT),
    ],
)  # fmt: skip
def test_each_new_language_scores(lang: str, title: str, body: str, code: str) -> None:
    assert top(title, body, lang) == code


def test_arabic_words_are_compared_without_the_article_and_attached_prepositions(tmp_path: Path) -> None:
    lex = _lexicon(tmp_path, {"A": {"ar": {"الحكومة": 3}}, "B": {"ar": {"سوق": 2}}})
    for word in ("الحكومة", "والحكومة", "للحكومة", "حكومة"):
        assert lex.score("", f"قالت {word} ان السوق", "ar", {})[0].code == "A"


def test_confusion_scores_the_strict_desk_mapping() -> None:
    conf = Confusion()
    for desk, predicted in [("tech", TECH), ("tech", ECONOMY), ("tech", ARTS), ("politics", POLITICS),
                            ("politics", CRIME), ("business", POLITICS)]:  # fmt: skip
        conf.add(desk, predicted)
    assert conf.accuracy == pytest.approx(3 / 6)
    assert conf.recall("tech") == pytest.approx(2 / 3)
    assert conf.recall("politics") == pytest.approx(1 / 2)
    assert conf.precision("politics") == pytest.approx(1 / 2)  # one of the two politics predictions was business
    assert conf.columns() == sorted({TECH, ECONOMY, ARTS, POLITICS, CRIME})


def test_pair_agreement_counts_same_story_pairs_by_group() -> None:
    pairs = [SemevalPair("de", "de", "a", "b", 1.0), SemevalPair("de", "en", "a", "b", 1.5),
             SemevalPair("de", "en", "a", "b", 1.0), SemevalPair("en", "en", "a", "b", 3.0)]  # fmt: skip
    tops = [(SPORT, SPORT), (SPORT, NONE), (ECONOMY, ECONOMY), (SPORT, SPORT)]
    assert pair_agreement(pairs, tops) == {"cross": (2, 1, 1), "de": (1, 1, 1)}
    assert pair_group("fr", "fr") == "fr" and pair_group("fr", "en") == "cross"


def test_definition_baseline_picks_the_nearest_definition() -> None:
    base = DefinitionBaseline(("S", "W"), ("sport: competitive games and matches", "weather: rain and snow"))
    assert base.classify(["Heavy snow and rain tomorrow", "The matches of the games", "xyz"]) == ["W", "S", NONE]


def test_read_bbc(tmp_path: Path) -> None:
    path = tmp_path / "bbc.jsonl"
    row = {"doc_id": "tech/001.txt", "category": "tech", "title": "T", "text": "Body", "iptc_guess": "x"}
    path.write_bytes(orjson.dumps(row) + b"\n\n")
    [article] = read_bbc(path)
    assert (article.doc_id, article.desk, article.title, article.text) == ("tech/001.txt", "tech", "T", "Body")
