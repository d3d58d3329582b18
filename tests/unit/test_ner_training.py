"""The training-corpus readers of the shipped NER pipelines (training/ner): tags to spans, files to sentences."""

from __future__ import annotations

import orjson
import spacy

from training.ner.prepare import (
    PT_CONTRACTIONS,
    hipe_sentences,
    iob_spans,
    join_contractions,
    read_sentences,
    smartdata_sentences,
)
from training.ner.sources import SOURCES


def test_iob2_spans() -> None:
    tags = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "O", "B-ORG"]
    assert iob_spans(tags) == [(0, 2, "PER"), (3, 4, "LOC"), (4, 6, "LOC"), (7, 8, "ORG")]


def test_iob1_spans_start_on_i_and_on_a_type_change() -> None:
    assert iob_spans(["I-PER", "I-PER", "I-ORG", "O", "I-LOC"]) == [(0, 2, "PER"), (2, 3, "ORG"), (4, 5, "LOC")]


def test_labels_mapped_and_unknown_ones_dropped() -> None:
    # ANERcorp / AQMAR spellings: PERS is PER, MIS1 is MISC; a type outside PER/ORG/LOC/MISC is no entity
    assert iob_spans(["B-PERS", "I-PERS", "B-MIS1", "B-DATE", "I-DATE"]) == [(0, 2, "PER"), (2, 3, "MISC")]


def test_wikiann_lines_lose_their_language_prefix() -> None:
    text = "de:Theodor\tB-PER\nde:Heuss\tI-PER\nde:sprach\tO\n\nde:Bonn\tB-LOC\n"
    sentences = list(read_sentences(text, "wikiann"))
    assert sentences == [[("Theodor", "B-PER"), ("Heuss", "I-PER"), ("sprach", "O")], [("Bonn", "B-LOC")]]


def test_unbroken_files_cut_at_sentence_ends_and_skip_provenance_lines() -> None:
    text = "# file:\tX_1880\nEr O\nkam O\n. O\nBerlin I-LOC\nrief O\n. O\n"
    assert [[w for w, _ in s] for s in read_sentences(text, "space")] == [["Er", "kam", "."], ["Berlin", "rief", "."]]


def test_universal_ner_lines_give_word_and_tag() -> None:
    text = "# sent_id = x-1\n# text = Em o Porto\n1\tEm\tO\t-\t-\n2\to\tO\t-\t-\n3\tPorto\tB-LOC\t-\ta\n\n"
    assert list(read_sentences(text, "uner")) == [[("Em", "O"), ("o", "O"), ("Porto", "B-LOC")]]


def test_portuguese_contractions_split_by_universal_dependencies_are_written_as_in_news() -> None:
    words = [("Em", "O"), ("o", "O"), ("Porto", "B-LOC"), (",", "O"), ("a", "O"), ("Universidade", "B-ORG"),
             ("de", "I-ORG"), ("o", "I-ORG"), ("Minho", "I-ORG"), ("falou", "O"), ("a", "O"), ("os", "O"),
             ("jornalistas", "O"), ("de", "O"), ("A", "B-ORG"), ("Bola", "I-ORG")]  # fmt: skip
    assert join_contractions(words, PT_CONTRACTIONS) == [
        ("No", "O"), ("Porto", "B-LOC"), (",", "O"), ("a", "O"), ("Universidade", "B-ORG"), ("do", "I-ORG"),
        ("Minho", "I-ORG"), ("falou", "O"), ("aos", "O"), ("jornalistas", "O"), ("de", "O"), ("A", "B-ORG"),
        ("Bola", "I-ORG"),
    ]  # fmt: skip


def test_smartdata_documents_become_sentences_of_names_on_token_boundaries() -> None:
    text = "Stau auf der A3 bei Köln. Peter Maier von der Deutschen Bahn AG\nsprach in Frankfurt."

    def mention(name: str, kind: str, cut: int = 0) -> dict[str, object]:
        start = text.index(name)
        return {"span": {"start": start + cut, "end": start + len(name)}, "type": kind}

    record = {"text": {"string": text}, "conceptMentions": {"array": [
        mention("A3", "location-route"), mention("Köln", "location-city"), mention("Peter Maier", "person"),
        mention("Deutschen Bahn AG", "organization-company"), mention("Bahn", "organization"),
        mention("Frankfurt", "location-city", cut=2),  # off the token's start: widened to it
    ]}}  # fmt: skip
    two = orjson.dumps(record).decode() + "\n" + orjson.dumps({"text": {"string": "Gut."}}).decode()
    sentences = list(smartdata_sentences(two, spacy.blank("de")))
    assert sentences == [
        [("Stau", "O"), ("auf", "O"), ("der", "O"), ("A3", "O"), ("bei", "O"), ("Köln", "B-LOC"), (".", "O")],
        [("Peter", "B-PER"), ("Maier", "I-PER"), ("von", "O"), ("der", "O"), ("Deutschen", "B-ORG"),
         ("Bahn", "I-ORG"), ("AG", "I-ORG")],
        [("sprach", "O"), ("in", "O"), ("Frankfurt", "B-LOC"), (".", "O")],
        [("Gut", "O"), (".", "O")],
    ]  # fmt: skip


def _hipe_row(token: str, tag: str, misc: str = "_") -> str:
    return "\t".join([token, tag, "O", "O", "O", "O", "O", "_", "_", misc])


def test_hipe_documents_are_written_back_and_retokenised_with_their_coarse_types() -> None:
    # an invented document in CLEF-HIPE-2020's TSV layout: HIPE splits "l'" and "M." where spaCy does not
    rows = [
        "TOKEN\tNE-COARSE-LIT\tNE-COARSE-METO\tNE-FINE-LIT\tNE-FINE-METO\tNE-FINE-COMP\tNE-NESTED\tNEL-LIT\tNEL-METO\tMISC",
        "# document_id = X-1900-01-01-a-i0001",
        _hipe_row("M", "B-pers", "NoSpaceAfter"), _hipe_row(".", "I-pers"), _hipe_row("Durand", "I-pers"),
        _hipe_row("est", "O"), _hipe_row("parti", "O"), _hipe_row("de", "O"), _hipe_row("l", "O", "NoSpaceAfter"),
        _hipe_row("'", "O", "NoSpaceAfter"), _hipe_row("Hôtel", "B-loc"), _hipe_row("du", "I-loc"),
        _hipe_row("Lac", "I-loc"), _hipe_row("le", "O"), _hipe_row("3", "B-time"), _hipe_row("mai", "I-time"),
        _hipe_row("Genève", "B-loc"), _hipe_row("Lausanne", "B-loc", "NoSpaceAfter"), _hipe_row(".", "O", "EndOfLine"),
        "# segment_iiif_link = _",
        "# document_id = X-1900-01-02-a-i0002",
        _hipe_row("Le", "O"), _hipe_row("Temps", "B-prod", "NoSpaceAfter"), _hipe_row(".", "O"),
    ]  # fmt: skip
    sentences = list(hipe_sentences("\n".join(rows), spacy.blank("fr")))
    assert sentences == [
        [("M.", "B-PER"), ("Durand", "I-PER"), ("est", "O"), ("parti", "O"), ("de", "O"), ("l'", "O"),
         ("Hôtel", "B-LOC"), ("du", "I-LOC"), ("Lac", "I-LOC"), ("le", "O"), ("3", "O"), ("mai", "O"),
         ("Genève", "B-LOC"), ("Lausanne", "B-LOC"), (".", "O")],
        [("Le", "O"), ("Temps", "B-MISC"), (".", "O")],
    ]  # fmt: skip


def test_every_source_is_pinned() -> None:
    for lang, sources in SOURCES.items():
        assert sources, lang
        for s in sources:
            assert len(s.commit) == 40 and len(s.sha256) == 64, s
            assert s.url.startswith(f"https://raw.githubusercontent.com/{s.repo}/{s.commit}/")
            assert s.licence
