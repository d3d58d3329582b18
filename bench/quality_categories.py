"""Category quality: newsflow's IPTC category against a zero-shot baseline, same articles, same run.

    python -m bench.quality_categories [--bbc PATH] [--semeval PATH] [--list N]

Three sets, each skipped with a message when its file is absent (:mod:`evaluation.category_eval` reads
them; their text never enters the repository):

- **BBC News** (``<repo>/../shared/data/external/bbc-news-dev.jsonl``): accuracy of the first topic with
  the strict desk mapping, recall and precision per desk, the confusion matrix (desk x first topic).
- **newsflow's own labelled articles** (``evaluation/enrich/*.yaml``): first-topic accuracy per language.
- **SemEval-2022 pairs rated the same story** (``semeval2022-pairs-dev.jsonl``): how often both articles
  get a topic and the same first topic, per language group (a consistency check across languages: the
  pairs carry no categories).

newsflow runs as the enrich service does, in ``enrich_batch_size`` batches through the language, entities
and category enrichers (the category enricher reads the entities); its ms per article is the category
enricher's own time (the parse is the entities enricher's). The baseline is
:class:`~evaluation.category_eval.DefinitionBaseline`: the nearest IPTC definition by TF-IDF cosine.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from evaluation.category_eval import (
    DESK_TOPICS,
    NONE,
    Confusion,
    DefinitionBaseline,
    default_data_path,
    pair_agreement,
    read_bbc,
    read_semeval_pairs,
)

__all__ = ["main", "run_newsflow"]

_SHORT = {
    "medtop:01000000": "arts",
    "medtop:02000000": "crime",
    "medtop:03000000": "disaster",
    "medtop:04000000": "economy",
    "medtop:05000000": "educat",
    "medtop:06000000": "environ",
    "medtop:07000000": "health",
    "medtop:08000000": "human",
    "medtop:09000000": "labour",
    "medtop:10000000": "lifesty",
    "medtop:11000000": "politics",
    "medtop:12000000": "religion",
    "medtop:13000000": "sci/tech",
    "medtop:14000000": "society",
    "medtop:15000000": "sport",
    "medtop:16000000": "conflict",
    "medtop:17000000": "weather",
    NONE: "none",
}


def _article(i: int, title: str, body: str, language: str | None = None) -> Any:
    from shared.models import Article, Origin

    return Article(
        id=f"cat-{i}", content_hash=f"cat-{i}", title=title, body=body, language=language, raw_format="fields",
        ingested_at=datetime(2024, 1, 1, tzinfo=UTC), origin=Origin(topic="bench", partition=0, offset=i),
    )  # fmt: skip


def _wire(i: int, text: str) -> Any:
    """A text sent the way a feed would (``{"text": ...}`` through ingest's parser), as an Article."""
    from services.ingest.parsing import parse_raw

    p = parse_raw(orjson.dumps({"text": text}), max_bytes=2_000_000)
    return _article(i, p.title, p.body, p.language)


def run_newsflow(articles: Sequence[Any]) -> tuple[list[str], list[str], dict[str, float]]:
    """First topic and language of each article, and ms per article of the category enricher and (for
    scale, same run) of the entities enricher (the spaCy parse and the entity rules)."""
    from services.enrich.analysis.doc import Doc
    from services.enrich.analysis.nlp import SpacyPool
    from services.enrich.enrichers.base import Enricher
    from services.enrich.enrichers.category import CategoryEnricher
    from services.enrich.enrichers.entities import EntitiesEnricher
    from services.enrich.enrichers.language import LanguageEnricher
    from shared.models import CategoryField
    from shared.settings import Settings

    settings = Settings()
    pool = SpacyPool(settings)
    enrichers: list[Enricher] = [LanguageEnricher(settings, spacy_languages=pool.model_names), EntitiesEnricher(pool),
                 CategoryEnricher(pool)]  # fmt: skip
    docs = [Doc(article=a) for a in articles]
    size = settings.enrich_batch_size
    spent = {"category": 0.0, "entities": 0.0}
    tops, langs = [], []
    for start in range(0, len(docs), size):
        batch = docs[start : start + size]
        for enricher in enrichers:
            t = time.perf_counter()
            results = enricher.enrich(batch)
            if enricher.name in spent:
                spent[enricher.name] += time.perf_counter() - t
            for doc, fields in zip(batch, results, strict=True):
                doc.fields.update(fields)
        for doc in batch:
            field = doc.field_or_none(CategoryField)
            value = (field.value if field else None) or []
            tops.append(value[0].code if value else NONE)
            langs.append(doc.processing_language)
            doc.release()
    return tops, langs, {k: v * 1000 / max(1, len(docs)) for k, v in spent.items()}


def baseline() -> DefinitionBaseline:
    """The zero-shot baseline over the IPTC names and definitions newsflow ships."""
    from services.enrich.enrichers.category import load_lexicon

    topics = load_lexicon().topics
    return DefinitionBaseline(tuple(t.code for t in topics), tuple(f"{t.name}. {t.definition}" for t in topics))


def _print_confusion(name: str, conf: Confusion) -> None:
    cols = conf.columns()
    print(f"\n  confusion, {name} (rows: desk; columns: first topic)")
    print("  " + f"{'':<14}" + "".join(f"{_SHORT.get(c, c)[:8]:>9}" for c in cols))
    for desk in sorted(conf.counts):
        print("  " + f"{desk:<14}" + "".join(f"{conf.counts[desk][c]:>9}" for c in cols))


def bbc(path: Path, show: int) -> None:
    """The BBC section (see the module doc)."""
    if not path.exists():
        print(f"\n== BBC News: {path} not found, skipped")
        return
    items = read_bbc(path)
    print(f"\n== BBC News dev ({path.name}): {len(items)} articles, strict desk mapping "
          "(tech: science and technology or economy)")  # fmt: skip
    base = baseline().classify([f"{a.title}\n\n{a.text}" for a in items])
    tops, _, ms = run_newsflow([_article(i, a.title, a.text) for i, a in enumerate(items)])
    runs = {"baseline (TF-IDF nearest IPTC definition)": base, "newsflow": tops}
    confusions = {}
    print(f"  {'system':<44}{'accuracy':>9}" + "".join(f"{'R ' + d[:6]:>10}" for d in DESK_TOPICS)
          + "".join(f"{'P ' + d[:6]:>10}" for d in DESK_TOPICS))  # fmt: skip
    for name, predicted in runs.items():
        conf = Confusion()
        for a, p in zip(items, predicted, strict=True):
            conf.add(a.desk, p)
        confusions[name] = conf
        print(f"  {name:<44}{conf.accuracy:>9.3f}" + "".join(f"{conf.recall(d):>10.3f}" for d in DESK_TOPICS)
              + "".join(f"{conf.precision(d):>10.3f}" for d in DESK_TOPICS))  # fmt: skip
    for name, conf in confusions.items():
        _print_confusion(name, conf)
    print(f"\n  ms/article, same run: category enricher {ms['category']:.2f} (its own time), "
          f"entities enricher {ms['entities']:.2f} (the spaCy parse and the entity rules, for scale)")  # fmt: skip
    if show:
        wrong = [(a, p) for a, p in zip(items, tops, strict=True) if p not in DESK_TOPICS[a.desk]]
        print(f"\n  newsflow misses ({len(wrong)}; first {show}):")
        for a, p in wrong[:show]:
            print(f"    {a.doc_id:<22} -> {_SHORT.get(p, p):<9} {a.title[:70]}")


def own_set() -> None:
    """newsflow's labelled articles (``evaluation/enrich``): first-topic accuracy per language."""
    from evaluation.enrich_eval import load_eval_set

    items = load_eval_set()
    base = baseline().classify([f"{i.article.title}\n\n{i.article.body}" for i in items])
    tops, _, _ = run_newsflow([i.article for i in items])
    langs = sorted({i.language for i in items})
    print(f"\n== newsflow's own labelled articles (evaluation/enrich): {len(items)}")
    sizes = {lang: sum(i.language == lang for i in items) for lang in langs}
    print(f"  {'system':<44}{'all':>7}" + "".join(f"{f'{lang} ({sizes[lang]})':>9}" for lang in langs))
    for name, predicted in (("baseline (TF-IDF nearest IPTC definition)", base), ("newsflow", tops)):
        right = [p == i.category for i, p in zip(items, predicted, strict=True)]
        row = f"  {name:<44}{sum(right) / len(items):>7.3f}"
        for lang in langs:
            sel = [r for r, i in zip(right, items, strict=True) if i.language == lang]
            row += f"{sum(sel) / len(sel):>9.3f}"
        print(row)


def semeval(path: Path) -> None:
    """Same first topic for pairs people rated the same story, per language group."""
    if not path.exists():
        print(f"\n== SemEval-2022 pairs: {path} not found, skipped")
        return
    pairs = [p for p in read_semeval_pairs(path) if p.overall <= 1.5 and len(p.text1) > 200 and len(p.text2) > 200]
    texts = [t for p in pairs for t in (p.text1, p.text2)]
    base = baseline().classify(texts)
    tops, _, _ = run_newsflow([_wire(i, t) for i, t in enumerate(texts)])
    print(f"\n== SemEval-2022 pairs rated the same story (overall <= 1.5, both texts > 200 chars): {len(pairs)}")
    print("  same first topic for both articles / pairs (pairs where both got a topic)")
    for name, predicted in (("baseline (TF-IDF nearest IPTC definition)", base), ("newsflow", tops)):
        agree = pair_agreement(pairs, [(predicted[2 * i], predicted[2 * i + 1]) for i in range(len(pairs))])
        cells = "".join(f"{g}: {same}/{n} ({both}){'':<3}" for g, (n, both, same) in agree.items())
        total = [sum(v[k] for v in agree.values()) for k in range(3)]
        print(f"  {name:<44}all {total[2]}/{total[0]} ({total[1]})   {cells}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quality_categories", description=__doc__.split("\n")[0])
    parser.add_argument("--bbc", type=Path, default=default_data_path("bbc-news-dev.jsonl"))
    parser.add_argument("--semeval", type=Path, default=default_data_path("semeval2022-pairs-dev.jsonl"))
    parser.add_argument("--list", type=int, default=0, metavar="N", help="list the first N BBC misses")
    args = parser.parse_args(argv)
    bbc(args.bbc, args.list)
    own_set()
    semeval(args.semeval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
