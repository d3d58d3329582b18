"""The entity rules for the shapes of agency copy: results tables, 'Name (Country)', live-update time stamps,
all-capitals headlines, clubs next to result verbs (text written here; run through the pinned English model)."""

from __future__ import annotations

import pytest
import spacy
from spacy.tokens import Doc as SpacyDoc

from services.enrich.analysis.entities import (
    RULES,
    RULES_OFF,
    RULES_OFF_EVERYWHERE,
    RULES_ON,
    Entity,
    default_rules,
    extract_entities,
)
from services.enrich.analysis.nlp import SpacyPool
from shared.settings import Settings


@pytest.fixture(scope="module")
def entities_of() -> object:
    nlp, _ = SpacyPool(Settings()).get("en")

    def run(text: str) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for e in extract_entities(nlp(text)):
            out.setdefault(e.type, set()).add(e.name)
        return out

    return run


def names(ents: list[Entity]) -> set[str]:
    return {e.name for e in ents}


def test_results_rows_name_teams_and_keep_scores_out(entities_of) -> None:
    got = entities_of(
        "Results of regional league games on Thursday.\n\nVardon 3 Kelsham 2\n\nMerrow 2 Tarbet 1\n\n"
        "Standings:\n\nMerrow 3 1 0 6 1 10\n\nDrayle 3 0 1 13 10 9"
    )
    assert {"Vardon", "Kelsham", "Merrow", "Tarbet", "Drayle"} <= got.get("organization", set()), got
    assert not any(c.isdigit() for names_ in got.values() for n in names_ for c in n)


def test_a_country_in_a_table_stays_a_place_and_an_initial_makes_a_person(entities_of) -> None:
    got = entities_of(
        "Scores on Friday:\n\nEssex 312 (T. Westley 104, M. Critchley 58), Surrey 287 (O. Pope 91).\n\n"
        "Romania 2 Lithuania 1"
    )
    assert {"T. Westley", "O. Pope"} <= got.get("person", set())
    assert {"Romania", "Lithuania"} <= got.get("place", set())
    assert "Essex" in got.get("organization", set())


def test_name_followed_by_a_country_in_brackets_is_a_person(entities_of) -> None:
    got = entities_of(
        "Quarter-final results on Wednesday:\n\nJannik Sinner (Italy) beat Alexander Bublik (Kazakhstan) "
        "6-1 7-5 6-0\n\nAryna Sabalenka (Belarus) beat Qinwen Zheng (China) 7-6 6-3"
    )
    assert {"Jannik Sinner", "Alexander Bublik", "Aryna Sabalenka"} <= got.get("person", set())
    assert "Alexander Bublik" not in got.get("organization", set())


def test_live_update_time_stamps_are_not_names(entities_of) -> None:
    got = entities_of(
        "Live updates on the election.\n\n2130 GMT - Friedrich Merz claims victory in Berlin.\n\n"
        "2105 GMT - Chancellor Olaf Scholz concedes defeat."
    )
    every = {n for v in got.values() for n in v}
    assert not any("GMT" in n for n in every), every


def test_all_capitals_headline_keeps_only_confirmed_names(entities_of) -> None:
    got = entities_of(
        "SOCCER - TOTTENHAM SACK POSTECOGLOU AFTER RUN OF DEFEATS\n\nTottenham Hotspur sacked manager Ange "
        "Postecoglou on Monday after five defeats in London."
    )
    every = {n for v in got.values() for n in v}
    assert "RUN" not in every and "SOCCER" not in every
    assert "Ange Postecoglou" in got.get("person", set())


def test_a_city_next_to_a_result_verb_is_a_club_but_in_chicago_is_the_city(entities_of) -> None:
    got = entities_of(
        "Leicestershire beat Somerset by an innings on Friday. Chicago beat Boston 5-3, and the fans "
        "in Chicago cheered."
    )
    assert "Boston" in got.get("organization", set())
    assert "Chicago" in got.get("place", set())


def test_a_team_name_cut_by_ner_is_whole_on_a_row(entities_of) -> None:
    got = entities_of("Standings after Sunday:\n\nOklahoma City Thunder 42 10 .808 -\n\nHouston Rockets 33 20 .623 9")
    assert {"Oklahoma City Thunder", "Houston Rockets"} <= got.get("organization", set())
    assert "Oklahoma City" not in got.get("place", set())


def test_a_dateline_city_is_a_place_and_v_is_not_part_of_a_name(entities_of) -> None:
    got = entities_of("MUNICH, May 31 - Paris St Germain v Inter Milan ended 5-0 at the Allianz Arena.")
    assert "MUNICH" in got.get("place", set())
    assert not any(n.endswith(" v") for v in got.values() for n in v)


def test_a_role_is_not_an_organisation() -> None:
    nlp, _ = SpacyPool(Settings()).get("fr")
    text = "Le ministre des Transports, Philippe Tabarot, a appelé la SNCF à la responsabilité."
    ents = extract_entities(nlp(text), lang="fr")
    assert not any(e.name.lower().startswith("ministre") for e in ents), [(e.type, e.name) for e in ents]


def test_a_ranked_player_is_a_person_and_the_other_side_of_a_score_a_team(entities_of) -> None:
    got = entities_of(
        "Leading money winners on the tour:\n\n1. Ian Woosnam 510,258\n\n2. Colin Montgomerie 442,201\n\n"
        "Results on Saturday:\n\nCrystal Palace 3 Wolverhampton Wanderers 1\n\nNottingham Forest 2 Brighton 2"
    )
    assert {"Ian Woosnam", "Colin Montgomerie"} <= got.get("person", set())
    assert {"Wolverhampton Wanderers", "Nottingham Forest"} <= got.get("organization", set())


def test_brackets_dashes_and_trailing_common_words_are_not_part_of_a_name(entities_of) -> None:
    got = entities_of(
        "LIVE - Champions League final.\n\nThe Interfax news agency said Hizbollah (Party of God) had agreed. "
        "Scorers: Everton - Iliman Ndiaye (40th)."
    )
    every = {n for v in got.values() for n in v}
    assert "LIVE" not in every
    assert not any("(" in n or " - " in n or n.endswith("agency") for n in every), every


def test_a_scorer_before_a_minute_is_a_person(entities_of) -> None:
    got = entities_of(
        "Latvia edged Estonia 2-1 in their under-19 qualifier on Sunday.\n\n"
        "Scorers: Latvia - Tudor Vaskevics (31st), Ilmars Tarasovs (75th)"
    )
    assert {"Tudor Vaskevics", "Ilmars Tarasovs"} <= got.get("person", set()), got


def test_a_dateline_with_a_date_names_places_whatever_ner_made_of_them(entities_of) -> None:
    got = entities_of(
        "CYCLING - DUTCH RIDER WINS.\n\nKELSTRUP 2025-03-14\n\nKelstrup saw its first stage win on Friday.\n\n"
        "FLOODS - RIVER BURSTS ITS BANKS.\n\nDARVESH, Tajikistan 2025-04-02\n\nRescue teams worked through the "
        "night in Darvesh after the river burst its banks."
    )
    places = got.get("place", set())
    assert {"Tajikistan"} <= places
    assert any(n.lower() == "kelstrup" for n in places) and any(n.lower() == "darvesh" for n in places), got
    assert not got.get("person") and not got.get("organization"), got


def test_a_dateline_place_is_still_a_team_next_to_a_result(entities_of) -> None:
    got = entities_of("RUGBY - HOSTS WIN.\n\nVARDLEY, England 2025-03-14\n\nVardley beat Hull 30-12 on Friday.")
    assert "VARDLEY" in got.get("place", set()) and "England" in got.get("place", set())
    assert "Vardley" in got.get("organization", set())


def test_the_players_of_a_line_up_are_people(entities_of) -> None:
    got = entities_of(
        "Teams:\n\nRovers - 1 - Tomasz Okafor; 2 - Luis de la Vega (14 - Samir Rendell 61st), 5 - Bram "
        "Oosterhuis, 8 - Kenji Maranelli (Ben Adeyemi, 70), 9 - Idris Kovalenko.\n\nThe home side won 2-0."
    )
    assert {
        "Tomasz Okafor", "Luis de la Vega", "Samir Rendell", "Bram Oosterhuis", "Kenji Maranelli", "Ben Adeyemi",
        "Idris Kovalenko",
    } <= got.get("person", set()), got  # fmt: skip
    assert not got.get("organization") and "Rovers" not in got.get("person", set()), got


def test_a_first_name_ner_left_out_joins_the_person(entities_of) -> None:
    got = entities_of(
        "Final standings:\n\n4. Teodor Halvorsen 2:12.05\n\nThe jury upheld the protest. Instead Halvorsen "
        "went home.\n\nResults on Friday:\n\nJudith Oberwieser (Austria) beat Petra Lansrova (Czech Republic) 6-2 6-0"
    )
    people = got.get("person", set())
    assert {"Teodor Halvorsen", "Petra Lansrova"} <= people, got
    assert not any(n.startswith("Instead") for n in people) and "Lansrova" not in got.get("organization", set())


def test_a_place_before_a_player_role_is_the_club_but_a_country_stays(entities_of) -> None:
    got = entities_of(
        "The Sheffield side lost again, while Norwich midfielder Tomas Brandt scored. Norwich have won twice, "
        "and the England captain kept his place."
    )
    assert "Norwich" in got.get("organization", set()) and "Norwich" not in got.get("person", set()), got
    assert "England" in got.get("place", set())


def test_an_organisation_named_short_is_that_organisation(entities_of) -> None:
    got = entities_of(
        "Harwell Instruments Corp said on Monday it would cut 200 jobs. Dunmore Controls Inc, a rival, said "
        "Dunmore Controls would not bid. Lisa Harwell, no relation, said Harwell had called her."
    )
    assert "Dunmore Controls" in got.get("organization", set()) and "Dunmore Controls" not in got.get("person", set())
    assert "Lisa Harwell" in got.get("person", set()), got  # a surname stays the person's


def test_a_tournament_is_not_a_place(entities_of) -> None:
    got = entities_of(
        "The Dutch Open champion beat the U.S. Amateur Championship winner at the Tulsa Classic. Fans in "
        "Tulsa cheered, and she now heads for the Hong Kong Open."
    )
    every = {n for v in got.values() for n in v}
    assert not any(n.endswith(("Open", "Classic", "Championship")) for n in every), got
    assert "United States" not in every and "Tulsa" in got.get("place", set()), got


def test_a_name_owning_a_player_is_the_club(entities_of) -> None:
    got = entities_of(
        "Everton's Duncan Fergusson went close, and Rotherham's Ian Marsh scored. Later Everton pulled level, "
        "while France's Jacques Chirac watched."
    )
    assert {"Everton", "Rotherham"} <= got.get("organization", set()), got
    assert "France" in got.get("place", set()) and "Everton" not in got.get("person", set())


def _spans(text: str, ents: list[tuple[str, str]], lang: str = "en") -> SpacyDoc:
    """A blank ``lang`` doc of ``text`` with NER's spans given by hand: (surface, label), first occurrence."""
    doc = spacy.blank(lang)(text)
    spans = []
    for name, label in ents:
        span = doc.char_span(text.index(name), text.index(name) + len(name), label)
        assert span is not None, name
        spans.append(span)
    doc.ents = spans
    return doc


def test_sign_offs_and_photo_credits_name_people_whatever_ner_said() -> None:
    text = (
        "Ministers met on Monday.\n\nREUTERS/Ana Ruiz/File Photo\n\nTom Okafor/Pool via REUTERS\n\n"
        "(Reporting by Lena Brandt and Sam Reid in Oslo; Writing by GV De Clercq; Editing by Helen Marr)"
    )
    doc = _spans(text, [("Ana Ruiz/File Photo", "ORG"), ("Sam Reid", "ORG"), ("GV De Clercq; Editing", "ORG")])
    found = {(e.type, e.name) for e in extract_entities(doc)}
    people = {"Ana Ruiz", "Tom Okafor", "Lena Brandt", "Sam Reid", "GV De Clercq", "Helen Marr"}
    assert {n for t, n in found if t == "person"} == people, found
    assert not any("Photo" in n for _, n in found)
    assert all((t, n) == ("organization", "REUTERS") for t, n in found if "REUTERS" in n)  # the agency (media)
    without = {(e.type, e.name) for e in extract_entities(doc, rules=default_rules("en") - {"credits"})}
    assert ("organization", "Ana Ruiz/File Photo") in without  # what NER alone gives


def test_a_building_is_a_place_and_a_company_suffix_an_organisation() -> None:
    text = "Kensington Palace said Pfizer Inc and Acme Corp would pay, the Standard Bank said."
    doc = _spans(
        text,
        [("Kensington Palace", "ORG"), ("Pfizer Inc", "GPE"), ("Acme Corp", "PERSON"), ("Standard Bank", "ORG")],
    )
    found = {(e.type, e.name) for e in extract_entities(doc)}
    assert found == {
        ("place", "Kensington Palace"),
        ("organization", "Pfizer Inc"),
        ("organization", "Acme Corp"),
        ("organization", "Standard Bank"),
    }
    off = default_rules("en") - {"facilities", "company_suffixes"}
    assert {(e.type, e.name) for e in extract_entities(doc, rules=off)} >= {
        ("organization", "Kensington Palace"),
        ("place", "Pfizer Inc"),
    }


def test_don_is_a_first_name_in_english_and_a_title_in_spanish() -> None:
    english = _spans("Sheriff Don Barnes spoke.", [("Don Barnes", "PERSON")])
    spanish = _spans("Habló don Felipe Reyes.", [("don Felipe Reyes", "PER")])
    assert [e.name for e in extract_entities(english, rules=RULES)] == ["Don Barnes"]
    assert [e.name for e in extract_entities(spanish, lang="es")] == ["Felipe Reyes"]


def test_a_cut_title_is_kept_as_written_and_a_courtesy_title_alone_is_no_name() -> None:
    text = "M. Paul Durand a parlé hier. Puis M. Durand est parti. MM. ont voté avec Mme Roux et Léa Blanc."
    ents = [("M. Paul Durand", "PER"), ("M. Durand", "PER"), ("MM.", "ORG"), ("Roux", "PER"), ("Léa Blanc", "PER")]
    doc = _spans(text, ents)
    people = {e.name: e for e in extract_entities(doc, lang="fr") if e.type == "person"}
    assert people.keys() == {"Paul Durand", "Roux", "Léa Blanc"}, people
    assert sorted(people["Paul Durand"].written) == ["M. Durand", "M. Paul Durand"]
    assert people["Roux"].written == ["Mme Roux"]  # NER left the title out: the mention as written all the same
    assert people["Léa Blanc"].written == []
    assert all(e.name.rstrip(".") != "MM" for e in extract_entities(doc, lang="fr"))
    off = {e.name for e in extract_entities(doc, lang="fr", rules=default_rules("fr") - {"titles"})}
    assert {"M. Paul Durand", "MM"} <= off


def test_ranks_and_offices_written_before_a_person_are_kept_as_written_but_never_cut_into_the_name() -> None:
    text = (
        "Le général en chef Moreau a reçu M. le comte de Varenne et le conseiller fédéral Jean Roth. "
        "Il presidente Carlo Neri e Luca Berti."
    )
    ents = [("Moreau", "PER"), ("comte de Varenne", "PER"), ("Jean Roth", "PER")]
    fr = {e.name: e for e in extract_entities(_spans(text, ents), lang="fr") if e.type == "person"}
    assert fr["Moreau"].written == ["général en chef Moreau"]
    assert fr["comte de Varenne"].written == ["M. le comte de Varenne"]  # a rank is never cut from the name
    assert fr["Jean Roth"].written == ["conseiller fédéral Jean Roth"]
    it = {e.name: e for e in extract_entities(_spans(text, [("Carlo Neri", "PER"), ("Luca Berti", "PER")]), lang="it")}
    assert it["Carlo Neri"].written == ["presidente Carlo Neri"] and it["Luca Berti"].written == []
    off = extract_entities(_spans(text, ents), lang="fr", rules=default_rules("fr") - {"titles"})
    assert all(not e.written for e in off)


def test_a_lowercase_function_word_ending_a_name_is_cut_from_it() -> None:
    text = "Lisboa das novas regras fala. O Conselho de Estado reuniu."
    doc = _spans(text, [("Lisboa das", "LOC"), ("Conselho de Estado", "ORG")])
    assert {e.name for e in extract_entities(doc, lang="pt")} == {"Lisboa", "Conselho de Estado"}
    off = extract_entities(doc, lang="pt", rules=default_rules("pt") - {"dangling"})
    assert "Lisboa das" in {e.name for e in off}


def test_a_ranked_name_before_a_bracket_is_a_competitor_but_a_known_country_stays_a_place() -> None:
    text = "Classement\n1. Moreau (Fr, 12 s).\n2. Italie (Rossi).\nVu à Morges (Vaud)."
    doc = _spans(text, [("Moreau", "LOC"), ("Italie", "LOC"), ("Morges", "LOC")])
    found = {(e.type, e.name) for e in extract_entities(doc, lang="fr")}
    assert {("person", "Moreau"), ("place", "Italy"), ("place", "Morges")} <= found, found
    off = extract_entities(doc, lang="fr", rules=default_rules("fr") - {"brackets"})
    assert ("place", "Moreau") in {(e.type, e.name) for e in off}


def test_a_one_word_place_listed_among_people_with_brackets_is_a_person_but_a_place_with_its_region_stays() -> None:
    text = "Ont signé Jean Roth (Sion), Dufourmantel (Nyon) et Anne Blanc (Morges). Vu à Montreux (Vaud) hier."
    ents = [("Jean Roth", "PER"), ("Dufourmantel", "LOC"), ("Anne Blanc", "PER"), ("Montreux", "LOC")]
    found = {(e.type, e.name) for e in extract_entities(_spans(text, ents), lang="fr")}
    assert {("person", "Dufourmantel"), ("place", "Montreux")} <= found, found
    alone = "Ont signé Jean Roth, Dufourmantel (Nyon) et Anne Blanc."  # no list of bracketed people
    plain_ents = [("Jean Roth", "PER"), ("Dufourmantel", "LOC"), ("Anne Blanc", "PER")]
    plain = extract_entities(_spans(alone, plain_ents, "fr"), lang="fr")
    assert ("place", "Dufourmantel") in {(e.type, e.name) for e in plain}


def test_rules_are_switches_and_an_unknown_rule_is_refused() -> None:
    assert RULES_OFF["en"] <= RULES.keys() and default_rules("en") == RULES.keys() - RULES_OFF["en"]
    assert default_rules("fr") == RULES_ON == frozenset(RULES) - RULES_OFF_EVERYWHERE
    assert "first_names" not in default_rules("de") and "first_names" not in default_rules("en")
    doc = _spans("Ministers met Ana Ruiz.", [("Ana Ruiz", "PERSON")])
    assert [e.name for e in extract_entities(doc, rules=())] == ["Ana Ruiz"]
    with pytest.raises(ValueError, match="unknown entity rules"):
        extract_entities(doc, rules=["tables", "no_such_rule"])


def test_a_line_of_an_uncased_script_with_a_latin_acronym_is_not_a_capitals_line() -> None:
    # Arabic has no capitals: a line naming "CNN" is not a headline in capitals, whose names need confirming
    text = "قال خالد العمري لشبكة CNN إن المحادثات ستستمر.\nوأضاف أن الوفد سيعود إلى عمان غدا."
    doc = spacy.blank("ar")(text)
    spans = []
    for name, label in (("خالد العمري", "PER"), ("عمان", "LOC")):
        span = doc.char_span(text.index(name), text.index(name) + len(name), label)
        assert span is not None
        spans.append(span)
    doc.ents = spans
    found = [(e.type, e.name) for e in extract_entities(doc, lang="ar")]
    assert ("person", "خالد العمري") in found and ("organization", "CNN") in found and len(found) == 3, found
    latin = _spans("UN TALKS RESUME IN GENEVA\nDelegates met Ana Ruiz.", [("TALKS", "ORG"), ("Ana Ruiz", "PERSON")])
    assert [e.name for e in extract_entities(latin)] == ["Ana Ruiz"]  # a capitals line: unconfirmed names go


def test_an_inflected_adjective_of_nationality_is_a_group_not_a_place() -> None:
    # NER trained on Wikipedia and newspapers tags "Britse" (British) as a place; it names no place
    text = "De Britse regering sprak in Londen met Franse diplomaten."
    doc = spacy.blank("nl")(text)
    spans = []
    for name in ("Britse", "Londen", "Franse"):
        span = doc.char_span(text.index(name), text.index(name) + len(name), "LOC")
        assert span is not None
        spans.append(span)
    doc.ents = spans
    found = {(e.type, e.country) for e in extract_entities(doc, lang="nl")}
    assert found == {("group", "GB"), ("place", "GB"), ("group", "FR")}, found


def test_a_news_agency_or_paper_is_an_organisation_wherever_it_stands() -> None:
    # a dateline credit NER left out, a paper NER took for a person, and one inside a longer organisation
    text = (
        "KASSEL , 3. Mai ( AP / dpa ) .\nDie Stadt plant neu , schrieb De Standaard am Montag .\n"
        "Die Thomson Reuters Foundation zahlt ."
    )
    doc = _spans(text, [("De Standaard", "PER"), ("Thomson Reuters Foundation", "ORG")], "de")
    found = {(e.type, e.name) for e in extract_entities(doc, lang="de")}
    assert {("organization", n) for n in ("AP", "dpa", "De Standaard", "Thomson Reuters Foundation")} <= found, found
    assert ("organization", "Reuters") not in found and ("person", "De Standaard") not in found
    without = {(e.type, e.name) for e in extract_entities(doc, lang="de", rules=default_rules("de") - {"media"})}
    assert ("person", "De Standaard") in without and ("organization", "dpa") not in without
    lower = _spans("Die Agentur nannte keine Quelle , sagte der dpa-Sprecher nicht .", [], "de")
    assert extract_entities(lower, lang="de") == []  # "dpa-Sprecher" is no mention of the agency


def test_a_function_word_opening_a_sentence_is_no_name_but_a_capitalised_noun_inside_one_is() -> None:
    text = "Según el Gobierno , la ley pasará . Además , habló Ana Ruiz .\nTambién dijo que Más y Según llegan ."
    ents = [("Según", "PER"), ("Gobierno", "ORG"), ("Además", "PER"), ("Ana Ruiz", "PER"), ("También", "PER")]
    doc = _spans(text, ents, "es")
    found = {(e.type, e.name) for e in extract_entities(doc, lang="es")}
    assert found == {("organization", "Gobierno"), ("person", "Ana Ruiz")}, found
    kept = {e.name for e in extract_entities(doc, lang="es", rules=default_rules("es") - {"stopwords"})}
    assert {"Según", "Además", "También"} <= kept
    # mid-sentence, a capitalised homograph of a function word is a name ("Stato" is also "been")
    it = _spans("Lo ha detto il Consiglio di Stato ieri .", [("Stato", "ORG")], "it")
    assert [e.name for e in extract_entities(it, lang="it")] == ["Stato"]


def test_a_formation_line_up_without_shirt_numbers_names_people() -> None:
    text = (
        "Halle - Kiel 2:1 ( 1:0 )\nHalle :\nBrandt - Okafor - Weiland , Ruiz - Hesse ( 73. Lindqvist ) , Marr , "
        "Dorn , Keller - Vogt , Sander ( 80. Pohl ) .\nBerlin , Hamburg , Bremen , Kiel , Essen und Bonn stimmten zu ."
    )
    doc = _spans(text, [("Weiland", "LOC"), ("Hesse", "LOC"), ("Berlin", "LOC"), ("Hamburg", "LOC")], "de")
    found = {(e.type, e.name) for e in extract_entities(doc, lang="de")}
    players = {"Brandt", "Okafor", "Weiland", "Ruiz", "Hesse", "Lindqvist", "Marr", "Dorn", "Keller", "Vogt"}
    assert {("person", n) for n in players | {"Sander", "Pohl"}} <= found, found
    assert ("place", "Berlin") in found and ("person", "Berlin") not in found  # a list of cities is no line-up
    assert ("person", "Halle") not in found and ("person", "Kiel") not in found
    without = {(e.type, e.name) for e in extract_entities(doc, lang="de", rules=default_rules("de") - {"lineups"})}
    assert ("place", "Weiland") in without


def test_a_known_first_name_and_a_capitalised_word_ner_left_out_are_a_person() -> None:
    text = "Die Stadt baut neu .\nVon Hans Keller\nIm Santiago Bernabeu spielte Real , sagte Anna Lindqvist ."
    doc = _spans(text, [("Real", "ORG"), ("Anna Lindqvist", "PER")], "de")
    found = {(e.type, e.name) for e in extract_entities(doc, lang="de")}
    assert ("person", "Hans Keller") in found and ("person", "Anna Lindqvist") in found, found
    assert not any("Santiago" in n or "Von" in n or "Stadt" in n for _, n in found), found  # a city; no first name
    off = {e.name for e in extract_entities(doc, lang="de", rules=default_rules("de") - {"named_pairs"})}
    assert "Hans Keller" not in off


def test_an_acronym_ner_left_out_in_running_text_is_an_organisation() -> None:
    text = (
        "Der Vorstand der GTZ traf die Gewerkschaft , sagte Ana Ruiz im TV .\nDas PIB wuchs im Jahr XIV .\n"
        "AGUA EOLICA HEUTE im Test"
    )
    doc = _spans(text, [("Ana Ruiz", "PER")], "de")
    found = {(e.type, e.name) for e in extract_entities(doc, lang="de")}
    assert found == {("organization", "GTZ"), ("person", "Ana Ruiz")}, found  # no thing, numeral or shout
    assert "acronym_orgs" not in default_rules("en")
    off = {e.name for e in extract_entities(doc, lang="de", rules=default_rules("de") - {"acronym_orgs"})}
    assert off == {"Ana Ruiz"}


def test_an_institution_named_by_its_common_noun_is_an_organisation_and_a_paper_keeps_its_article() -> None:
    text = "Ayer el Gobierno aprobó la ley , según Der Spiegel , y la Policía detuvo a Ana Ruiz por 300 EUR ."
    doc = _spans(text, [("Gobierno", "PER"), ("Policía", "LOC"), ("Ana Ruiz", "PER")], "es")
    found = {(e.type, e.name) for e in extract_entities(doc, lang="es")}
    want = {("organization", "Gobierno"), ("organization", "Policía"), ("organization", "Der Spiegel")}
    assert found == want | {("person", "Ana Ruiz")}, found  # "EUR": a currency, no organisation
    off = {(e.type, e.name) for e in extract_entities(doc, lang="es", rules=default_rules("es") - {"institutions"})}
    assert ("person", "Gobierno") in off


def test_a_function_word_of_a_script_without_capitals_is_no_name_anywhere() -> None:
    text = "قال خالد العمري في عمان إن المحادثات ستستمر مع الوفد."
    doc = _spans(text, [("خالد العمري", "PER"), ("في", "PER"), ("مع", "ORG")], "ar")
    assert [(e.type, e.name) for e in extract_entities(doc, lang="ar")] == [("person", "خالد العمري")]


def test_a_country_or_capital_ner_left_out_is_a_place_but_a_city_namesake_is_not() -> None:
    text = "Die Regierung in Frankreich plant neu , sagte Ana Ruiz im Stadion Santiago Bernabeu ."
    doc = _spans(text, [("Ana Ruiz", "PER")], "de")
    found = {(e.type, e.name) for e in extract_entities(doc, lang="de")}
    assert ("person", "Ana Ruiz") in found and {n for t, n in found if t == "place"} == {"France"}, found
    off = {e.type for e in extract_entities(doc, lang="de", rules=default_rules("de") - {"known_places"})}
    assert off == {"person"}


def test_a_country_after_an_elided_article_or_preposition_is_a_place_but_not_after_an_irish_o() -> None:
    fr = _spans("Le roi d'Espagne a vu Paul O'Madrid.", [], "fr")
    assert {(e.type, e.name) for e in extract_entities(fr, lang="fr")} == {("place", "Spain")}
    it = _spans("Il governo dell'Italia ha deciso.", [], "it")
    assert {(e.type, e.name) for e in extract_entities(it, lang="it")} == {("place", "Italy")}


def test_two_places_named_as_one_across_and_are_two_but_a_country_known_whole_stays() -> None:
    text = "Chove em Viseu e Braga. Visitou Trinidad and Tobago."
    doc = _spans(text, [("Viseu e Braga", "LOC"), ("Trinidad and Tobago", "GPE")], "pt")
    found = {(e.type, e.name) for e in extract_entities(doc, lang="pt")}
    assert found == {("place", "Viseu"), ("place", "Braga"), ("place", "Trinidad and Tobago")}, found
    off = {e.name for e in extract_entities(doc, lang="pt", rules=default_rules("pt") - {"conjoined"})}
    assert "Viseu e Braga" in off


def test_a_name_typed_a_place_and_an_organisation_is_what_most_of_its_mentions_say() -> None:
    text = "Acmetel signed. Acmetel grew. Acmetel hired. Brindle and Corvo met."
    doc = _spans(text, [("Acmetel", "ORG"), ("Brindle", "ORG"), ("Corvo", "GPE")])
    second, third = doc.char_span(16, 23, "ORG"), doc.char_span(30, 37, "GPE")  # the other two "Acmetel"
    assert second is not None and third is not None
    doc.ents = [*doc.ents, second, third]
    found = {(e.type, e.name) for e in extract_entities(doc, lang="en")}
    assert ("organization", "Acmetel") in found and ("place", "Acmetel") not in found, found
    off = {(e.type, e.name) for e in extract_entities(doc, lang="en", rules=default_rules("en") - {"type_votes"})}
    assert {("organization", "Acmetel"), ("place", "Acmetel")} <= off, off


def test_a_place_with_an_inhabitants_ending_names_its_people_but_a_place_that_ends_so_stays() -> None:
    text = "Les Genevois et les Sédunois, venus de Sion, ont vu Calais."
    doc = _spans(text, [("Genevois", "LOC"), ("Sédunois", "LOC"), ("Sion", "LOC"), ("Calais", "LOC")], "fr")
    found = {(e.type, e.name) for e in extract_entities(doc, lang="fr")}
    assert ("group", "Genevois") in found and ("place", "Calais") in found, found  # Geneva, a known city
    assert ("place", "Sédunois") in found  # an irregular form: no place "Séd" named or known
    off = {(e.type, e.name) for e in extract_entities(doc, lang="fr", rules=default_rules("fr") - {"inhabitants"})}
    assert ("place", "Genevois") in off


def test_an_acronym_and_a_common_noun_in_one_word_name_the_acronyms_organisation() -> None:
    text = "Der CDU-Politiker sprach mit der Firma TX-Datenwerk ."
    doc = _spans(text, [("CDU-Politiker", "ORG"), ("TX-Datenwerk", "ORG")], "de")
    found = {(e.type, e.name) for e in extract_entities(doc, lang="de")}
    assert found == {("organization", "CDU"), ("organization", "TX-Datenwerk")}, found  # a rare word: a name
    off = {e.name for e in extract_entities(doc, lang="de", rules=default_rules("de") - {"compounds"})}
    assert "CDU-Politiker" in off
    french = _spans("La grève de SUD-Rail continue .", [("SUD-Rail", "ORG")], "fr")
    assert [e.name for e in extract_entities(french, lang="fr")] == ["SUD-Rail"]  # a French union's name


def test_a_country_or_city_in_the_german_genitive_is_a_place() -> None:
    text = "Die Regierung Japans lud Ana Ruiz ein , sagte Hamburgs Hafenchef ."
    doc = _spans(text, [("Ana Ruiz", "PER")], "de")
    found = {(e.type, e.name) for e in extract_entities(doc, lang="de")}
    assert {n for t, n in found if t == "place"} == {"Japan", "Hamburgs"}, found
    off = {e.type for e in extract_entities(doc, lang="de", rules=default_rules("de") - {"genitives"})}
    assert off == {"person"}
    dutch = _spans("De Japans regering en Ana Ruiz .", [("Ana Ruiz", "PER")], "nl")  # "Japans": Japanese
    assert {e.type for e in extract_entities(dutch, lang="nl")} == {"person"}


def test_a_german_place_keeps_its_abbreviated_river_in_running_text_and_in_a_dateline() -> None:
    text = "FRANKFURT A. M. , 4. März ( AP ) .\nSie wohnt in Frankfurt a. M. und in Freiburg i. Br. seit Jahren ."
    doc = _spans(text, [("Frankfurt", "LOC"), ("Freiburg", "LOC"), ("A. M.", "PER")], "de")
    found = {(e.type, e.name): e.mentions for e in extract_entities(doc, lang="de")}
    # the dateline's and the sentence's Frankfurt are one place ("Br." loses its full stop to the tokenizer)
    assert found == {("place", "Frankfurt a. M."): 2, ("place", "Freiburg i. Br"): 1, ("organization", "AP"): 1}
    off = {(e.type, e.name) for e in extract_entities(doc, lang="de", rules=default_rules("de") - {"qualifiers"})}
    assert ("person", "A. M.") in off and ("place", "Frankfurt") in off, off


def test_a_one_word_place_that_is_a_german_common_noun_is_dropped_but_a_known_place_stays() -> None:
    text = "Die Saison in Essen beginnt , und in der Altstadt von Hamburg gibt es Kuchen ."
    spans = [("Saison", "LOC"), ("Essen", "LOC"), ("Altstadt", "LOC"), ("Hamburg", "LOC"), ("Kuchen", "LOC")]
    doc = _spans(text, spans, "de")
    found = {e.name for e in extract_entities(doc, lang="de")}
    # "Essen" and "Altstadt" are places too in Wiktionary, "Hamburg" the gazetteer knows
    assert found == {"Essen", "Altstadt", "Hamburg"}, found
    off = {e.name for e in extract_entities(doc, lang="de", rules=default_rules("de") - {"common_nouns"})}
    assert {"Saison", "Kuchen"} <= off, off


def test_people_written_in_capitals_on_a_by_line_or_in_running_text_are_people() -> None:
    text = (
        "Der Streit geht weiter .\nANNA ROTH\nForstdirektor KARL PAUL WEBER aus Fulda lobte GUSTAVO FERRAZ "
        "ELVIS MOURA .\nANNA ROTH VERLÄSST DEN VEREIN"
    )
    doc = _spans(text, [("KARL", "ORG"), ("Fulda", "LOC")], "de")
    found = {(e.type, e.name) for e in extract_entities(doc, lang="de")}
    # the by-line alone on its line, a name in running text whatever NER made of it, two by-lines in a row;
    # the capitals headline does not split into names and is left to the headline rule
    people = {("person", n) for n in ("ANNA ROTH", "KARL PAUL WEBER", "GUSTAVO FERRAZ", "ELVIS MOURA")}
    assert found == people | {("place", "Fulda")}, found
    off = {(e.type, e.name) for e in extract_entities(doc, lang="de", rules=default_rules("de") - {"caps_names"})}
    assert off == {("organization", "KARL"), ("place", "Fulda")}, off


def test_a_capitals_stretch_with_a_place_or_a_function_word_is_no_person() -> None:
    text = "Il a vu PAUL ROUX DE LYON et ANNA LONDON hier ."
    doc = _spans(text, [], "fr")
    assert extract_entities(doc, lang="fr") == []


def test_a_name_run_across_a_lower_case_word_into_a_person_is_cut_there() -> None:
    text = "SPORT 2 O cronista Paulo Moura escreveu sobre a Casa da Moeda ."
    doc = _spans(text, [("SPORT 2 O cronista Paulo Moura", "ORG"), ("Casa da Moeda", "ORG")], "pt")
    found = {(e.type, e.name) for e in extract_entities(doc, lang="pt")}
    assert ("person", "Paulo Moura") in found and ("organization", "Casa da Moeda") in found, found
    off = {(e.type, e.name) for e in extract_entities(doc, lang="pt", rules=default_rules("pt") - {"inner_words"})}
    assert ("person", "Paulo Moura") not in off, off
    kept = _spans("Il Ministero degli affari esteri ha parlato .", [("Ministero degli affari esteri", "ORG")], "it")
    assert [e.name for e in extract_entities(kept, lang="it")] == ["Ministero degli affari esteri"]


def test_an_organisation_of_an_organisation_is_one_but_a_place_after_of_stays_a_place() -> None:
    text = "O Conselho Fiscal da Liga Norte reuniu-se com o Tribunal de Parma ."
    ents = [("Conselho Fiscal", "ORG"), ("Liga Norte", "ORG"), ("Tribunal", "ORG"), ("Parma", "LOC")]
    doc = _spans(text, ents, "pt")
    found = {(e.type, e.name) for e in extract_entities(doc, lang="pt")}
    assert ("organization", "Conselho Fiscal da Liga Norte") in found, found
    assert ("place", "Parma") in found and ("organization", "Tribunal") in found, found
    off = {(e.type, e.name) for e in extract_entities(doc, lang="pt", rules=default_rules("pt") - {"org_of_org"})}
    assert {("organization", "Conselho Fiscal"), ("organization", "Liga Norte")} <= off, off
    assert "org_of_org" not in default_rules("en")  # costs English CoNLL-2003 one organisation


def test_an_organisation_of_one_thing_and_of_another_is_one_organisation() -> None:
    text = "A Câmara da Indústria e do Comércio reuniu-se com a Liga de Futebol e Sporting ."
    ents = [("Câmara da Indústria", "ORG"), ("Comércio", "ORG"), ("Liga de Futebol", "ORG"), ("Sporting", "ORG")]
    doc = _spans(text, ents, "pt")
    found = {(e.type, e.name) for e in extract_entities(doc, lang="pt")}
    # "and of" continues the name; "and" alone before another organisation lists two
    assert {("organization", "Câmara da Indústria e do Comércio"), ("organization", "Sporting")} <= found, found
    assert ("organization", "Comércio") not in found and ("organization", "Liga de Futebol") in found, found
    off = {(e.type, e.name) for e in extract_entities(doc, lang="pt", rules=default_rules("pt") - {"org_and_of"})}
    assert {("organization", "Câmara da Indústria"), ("organization", "Comércio")} <= off, off


def test_a_place_ner_found_in_the_german_genitive_is_that_place_not_a_noun_or_a_nationality() -> None:
    text = "Die Exporte Chinas und Indiens steigen , sagte Anna Roth ."
    doc = _spans(text, [("Chinas", "LOC"), ("Indiens", "LOC"), ("Anna Roth", "PER")], "de")
    found = {(e.type, e.name) for e in extract_entities(doc, lang="de")}
    # not dropped as a Wiktionary noun form, not the French nationality "Indiens"
    assert {("place", "China"), ("place", "India")} <= found, found
    off = {(e.type, e.name) for e in extract_entities(doc, lang="de", rules=default_rules("de") - {"genitives"})}
    assert ("place", "China") not in off and ("place", "India") not in off, off
