"""Build spaCy training corpora (``train.spacy`` and a held-out ``heldout.spacy``) from pinned IOB files.

``python -m training.ner.prepare LANG OUT_DIR [--cache DIR]``: reads every
:data:`training.ner.sources.SOURCES` file of ``LANG`` from ``--cache`` (files
named by their sha256) or downloads it from its pinned URL, checks its sha256,
converts IOB1/IOB2 tags to PER/ORG/LOC/MISC spans and writes 95 % of the
sentences (by a stable hash) to ``train.spacy`` and 5 % to ``heldout.spacy``
(spaCy's model selection reads only that held-out part of the training data).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import spacy
from spacy.tokens import Doc, DocBin, Span

from .sources import SOURCES, Source

__all__ = [
    "HIPE_TYPES",
    "SMARTDATA_TYPES",
    "hipe_sentences",
    "iob_spans",
    "join_contractions",
    "main",
    "read_sentences",
    "smartdata_sentences",
]

LABELS = {"PER", "ORG", "LOC", "MISC"}
_SENT_END = {".", "!", "?"}
_MAX_WORDS = 60  # a file with no sentence breaks is cut at sentence-final tokens, or every 60 words
_PT_ARTICLES = ("o", "a", "os", "as")
_PT_DEMONSTRATIVES = ("este", "esta", "estes", "estas", "esse", "essa", "esses", "essas", "aquele", "aquela",
                      "aqueles", "aquelas", "isto", "isso", "aquilo", "ele", "ela", "eles", "elas")  # fmt: skip
#: Portuguese contractions that Universal Dependencies splits into two words ("do" -> "de o"), and the written
#: form; only those that standard spelling always contracts ("de um" / "dum" and "em um" / "num" both occur)
PT_CONTRACTIONS: dict[tuple[str, str], str] = {
    **{("de", w): "d" + w for w in (*_PT_ARTICLES, *_PT_DEMONSTRATIVES, "aqui", "ali", "aí")},
    **{("em", w): "n" + w for w in (*_PT_ARTICLES, *_PT_DEMONSTRATIVES)},
    **{("por", w): "pel" + w for w in _PT_ARTICLES},
    ("a", "o"): "ao", ("a", "os"): "aos", ("a", "a"): "à", ("a", "as"): "às",
    **{("a", w): "à" + w[1:] for w in ("aquele", "aquela", "aqueles", "aquelas", "aquilo")},
}  # fmt: skip


def _fetch(source: Source, cache: Path | None) -> str:
    cached = cache / source.sha256 if cache is not None else None
    if cached is not None and cached.exists():
        data = cached.read_bytes()
    else:
        with urllib.request.urlopen(source.url, timeout=120) as response:
            data = response.read()
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    if digest != source.sha256:
        raise ValueError(f"{source.url}: sha256 {digest}, expected {source.sha256}")
    return (gzip.decompress(data) if source.path.endswith(".gz") else data).decode("utf-8")


def read_sentences(text: str, fmt: str) -> Iterator[list[tuple[str, str]]]:
    """(word, tag) sentences of one IOB file (see :class:`Source` for ``fmt``); comment lines skipped."""
    sentence: list[tuple[str, str]] = []
    for line in text.splitlines():
        if line.startswith("# "):  # Europeana provenance lines, Universal NER's sentence ids and text
            continue
        if fmt == "uner":  # index, word, tag, misc, annotator
            parts = line.split("\t")[1:3]
        else:
            parts = line.split("\t") if fmt in {"wikiann", "tsv"} else line.rsplit(" ", 1)
        if len(parts) < 2 or not parts[0].strip():
            if sentence:
                yield sentence
                sentence = []
            continue
        word, tag = parts[0].strip(), parts[-1].strip()
        if fmt == "wikiann":
            word = word.split(":", 1)[1] if ":" in word else word
        if not word:
            continue
        sentence.append((word, tag))
        if fmt == "space" and (word in _SENT_END or word == "\u06d4" or len(sentence) >= _MAX_WORDS) and tag == "O":
            yield sentence
            sentence = []
    if sentence:
        yield sentence


#: HIPE's coarse literal types kept (``time``, dates, is not a name; ``prod``, a newspaper or a doctrine, is MISC)
HIPE_TYPES = {"pers": "PER", "org": "ORG", "loc": "LOC", "prod": "MISC"}

#: SmartData concept types kept as PER / ORG / LOC (routes such as "A27", positions, dates, numbers are not names)
SMARTDATA_TYPES = {
    "person": "PER", "organization": "ORG", "organization-company": "ORG", "location": "LOC",
    "location-city": "LOC", "location-street": "LOC", "location-stop": "LOC",
}  # fmt: skip


def smartdata_sentences(text: str, nlp: spacy.language.Language) -> Iterator[list[tuple[str, str]]]:
    """(word, IOB2 tag) sentences of the DFKI SmartData corpus (Avro JSON documents, one after the other, with
    character spans of typed concept mentions): tokenised by ``nlp``'s tokenizer, a mention that does not
    fall on token boundaries widened to them, overlapping mentions after the first dropped, and the text cut
    into sentences at line breaks, sentence-final tokens, or every 60 words."""
    decoder = json.JSONDecoder()
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return
        record, pos = decoder.raw_decode(text, pos)
        mentions = (record.get("conceptMentions") or {}).get("array", [])
        spans = [
            (m["span"]["start"], m["span"]["end"], SMARTDATA_TYPES[m["type"]])
            for m in mentions
            if m["type"] in SMARTDATA_TYPES
        ]
        yield from _labelled_sentences(nlp.make_doc(record["text"]["string"]), spans)


def _labelled_sentences(doc: Doc, spans: list[tuple[int, int, str]]) -> Iterator[list[tuple[str, str]]]:
    """(word, IOB2 tag) sentences of ``doc`` with character ``spans`` (start, end, label) laid on it: a span
    off token boundaries widened to them, one overlapping an earlier span dropped; cut at line breaks,
    sentence-final tokens, or every 60 words."""
    tags = ["O"] * len(doc)
    for start, end, label in spans:
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is None or any(t != "O" for t in tags[span.start : span.end]):
            continue
        tags[span.start : span.end] = [f"B-{label}"] + [f"I-{label}"] * (len(span) - 1)
    sentence: list[tuple[str, str]] = []
    for token, tag in zip(doc, tags, strict=True):
        if not token.is_space:
            sentence.append((token.text, tag))
        ends = (token.is_space and "\n" in token.text) or token.text in _SENT_END or len(sentence) >= _MAX_WORDS
        if sentence and ends and tag == "O":
            yield sentence
            sentence = []
    if sentence:
        yield sentence


def hipe_sentences(text: str, nlp: spacy.language.Language) -> Iterator[list[tuple[str, str]]]:
    """(word, IOB2 tag) sentences of a CLEF-HIPE-2020 TSV file (``TOKEN<TAB>NE-COARSE-LIT<TAB>...<TAB>MISC``,
    documents and segments in ``#`` comments): each document's text is written back from its tokens (no space
    where MISC says ``NoSpaceAfter``), tokenised by ``nlp``'s tokenizer (``l'`` and ``M.`` as the pipeline
    will see them, not HIPE's ``l`` ``'``), the literal coarse types laid on as character spans, and cut into
    sentences at sentence-final tokens or every 60 words."""
    documents: list[list[tuple[str, str, bool]]] = []
    for line in text.splitlines():
        if line.startswith("# document_id") or not documents:
            documents.append([])
        parts = line.split("\t")
        if line.startswith("#") or len(parts) < 10 or parts[0] == "TOKEN":
            continue
        documents[-1].append((parts[0], parts[1], "NoSpaceAfter" in parts[9]))
    for tokens in documents:
        chars: list[str] = []
        bounds: list[tuple[int, int]] = []  # each word's character offsets in the text written back
        tags: list[str] = []
        pos = 0
        for word, tag, glued in tokens:
            chars.append(word if glued else word + " ")
            bounds.append((pos, pos + len(word)))
            pos += len(chars[-1])
            prefix, _, kind = tag.partition("-")
            tags.append(f"{prefix}-{HIPE_TYPES[kind]}" if kind in HIPE_TYPES else "O")
        spans = [(bounds[s][0], bounds[e - 1][1], label) for s, e, label in iob_spans(tags)]
        yield from _labelled_sentences(nlp.make_doc("".join(chars)), spans)


def join_contractions(sentence: list[tuple[str, str]], table: dict[tuple[str, str], str]) -> list[tuple[str, str]]:
    """``sentence`` with each split contraction of ``table`` written as one word (``de o`` -> ``do``), as news
    text has it; the joined word keeps the first word's tag (the pair is never joined when the second word
    begins a name). The first word's capital is kept (``De o`` -> ``Do``)."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(sentence):
        word, tag = sentence[i]
        if i + 1 < len(sentence):
            nxt, nxt_tag = sentence[i + 1]
            joined = table.get((word.lower(), nxt.lower()))
            if joined is not None and not nxt_tag.startswith("B-") and nxt.islower():
                out.append((joined.capitalize() if word[:1].isupper() else joined, tag))
                i += 2
                continue
        out.append((word, tag))
        i += 1
    return out


def iob_spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, label) word spans of IOB1 or IOB2 ``tags``; labels outside PER/ORG/LOC/MISC dropped."""
    spans: list[tuple[int, int, str]] = []
    start, label = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, kind = tag.partition("-")
        kind = "MISC" if kind.startswith("MIS") else {"PERS": "PER", "GPE": "LOC"}.get(kind, kind)
        continues = prefix == "I" and kind == label and start >= 0
        if not continues:
            if start >= 0 and label in LABELS:
                spans.append((start, i, label))
            start, label = (i, kind) if prefix in {"B", "I"} else (-1, "")
    return spans


def _doc(nlp: spacy.language.Language, sentence: list[tuple[str, str]]) -> Doc:
    words = [w for w, _ in sentence]
    doc = Doc(nlp.vocab, words=words)
    doc.ents = [Span(doc, s, e, label=lab) for s, e, lab in iob_spans([t for _, t in sentence])]
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lang", choices=sorted(SOURCES))
    parser.add_argument("out", type=Path)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args(argv)
    nlp = spacy.blank(args.lang)
    train, held = DocBin(), DocBin()
    counts = [0, 0]
    for source in SOURCES[args.lang]:
        text = _fetch(source, args.cache)
        if source.fmt in {"smartdata", "hipe"}:
            sentences = (smartdata_sentences if source.fmt == "smartdata" else hipe_sentences)(text, nlp)
        else:
            sentences = read_sentences(text, source.fmt)
        for sentence in sentences:
            if source.fmt == "uner" and args.lang == "pt":  # Universal Dependencies words, not the text's
                sentence = join_contractions(sentence, PT_CONTRACTIONS)
            key = hashlib.sha1(" ".join(w for w, _ in sentence).encode()).digest()[0]
            target = 1 if key < 13 else 0  # ~5 % held out
            (held if target else train).add(_doc(nlp, sentence))
            counts[target] += 1
    args.out.mkdir(parents=True, exist_ok=True)
    train.to_disk(args.out / "train.spacy")
    held.to_disk(args.out / "heldout.spacy")
    print(f"{args.lang}: {counts[0]} training sentences, {counts[1]} held out -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
