"""Entity quality on real agency copy, 1996 and 2020: newsflow's enrich against stock spaCy, same stories,
same run, and what each entity rule is worth.

    python -m bench.quality [--conll PATH ...] [--model NAME_OR_PATH ...] [--stock NAME_OR_PATH ...]
                            [--list N] [--rounds N] [--no-ablation]

Reads CoNLL-2020 dev (modern Reuters, 2020) and CoNLL-2003 dev (Reuters, 1996) by path (default
``<repo>/../shared/data/external/conll2020-dev.txt`` and ``conll2003-dev.txt``, or ``NEWSFLOW_CONLL2020_DEV``
/ ``NEWSFLOW_CONLL_DEV``, or ``--conll``; a missing file is skipped with a message; their text never enters
the repository). Each story is rebuilt as a wire story (:mod:`evaluation.conll_eval`) and sent the way a
feed would: ``{"text": ...}`` through ingest's own :func:`~services.ingest.parsing.parse_raw`, as an
:class:`~shared.models.Article`, through every enricher of :func:`default_enrichers`, in batches, as the
enrich service runs them. Stock spaCy (``en_core_web_sm`` and ``en_core_web_md`` by default) runs naively
on the same text (the article's headline and body, what newsflow reads): the full pipeline, ``nlp(text)``
per story, ``doc.ents`` mapped PERSON -> people, ORG -> organisations, GPE / LOC / FAC -> places (NORP and
the rest are not scored, as gold MISC is not).

Printed per set: precision / recall / F1 per kind and micro overall, per story shape (prose, results,
briefs), for all stories and without the stories whose detected language is not English; ms per article
for newsflow's whole enrich, its NER parse + entity rules, and stock spaCy; the stories where newsflow
finds fewer entities than stock spaCy, and those where a stock model finds entities and newsflow none.
Then the rules table (:data:`~services.enrich.analysis.entities.RULES`): for each English model, micro F1
with every rule, with none, and leaving one rule out at a time, on every set, from one NER parse per model
and set.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from evaluation.conll_eval import KINDS, SHAPES, Story, StoryScore, Tally, default_conll_path, read_conll, score_story
from evaluation.enrich_eval import Counts

__all__ = [
    "STOCK_TYPES",
    "Ablation",
    "Measurement",
    "SystemRun",
    "ablate",
    "main",
    "measure",
    "run_newsflow",
    "run_stock",
]

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
    again: Callable[[], dict[str, float]] | None = None  # one more timed pass: ms per article

    def time_again(self) -> None:
        """Keep the fastest of this pass and the ones before (a shared machine only ever slows a pass)."""
        if self.again is not None:
            for k, ms in self.again().items():
                self.ms_per_article[k] = min(ms, self.ms_per_article.get(k, ms))


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
    from services.enrich.analysis.doc import Doc

    return Doc(article=article).text


def run_newsflow(arts: Sequence[Any], model: str | None = None) -> SystemRun:
    """Every enricher over ``arts`` in ``enrich_batch_size`` batches; entities as name sets per kind."""
    from services.enrich.analysis.doc import Doc
    from services.enrich.analysis.nlp import SpacyPool
    from services.enrich.enrichers.registry import default_enrichers
    from shared.models import EntitiesField, LanguageField
    from shared.settings import Settings

    settings = Settings(spacy_model=model) if model else Settings()
    pool = SpacyPool(settings)
    enrichers = default_enrichers(settings, pool=pool)
    size = settings.enrich_batch_size
    _enrich([Doc(article=a) for a in arts[:size]], enrichers, pool)  # warm-up: models, gazetteer, caches

    def timed(docs: list[Any]) -> dict[str, float]:
        stages = {"total": 0.0, "entities": 0.0}
        for i in range(0, len(docs), size):
            for name, seconds in _enrich(docs[i : i + size], enrichers, pool).items():
                stages[name] += seconds
        return {k: v * 1000 / max(1, len(docs)) for k, v in stages.items()}

    docs = [Doc(article=a) for a in arts]
    ms = timed(docs)
    out = []
    for d in docs:
        kinds = d.field(EntitiesField).by_kind()
        out.append({k: [{e.name, *(e.aliases or [])} for e in kinds[k] or []] for k in KINDS})
    label = f"newsflow ({pool.model_names['en']})"
    languages = [d.field(LanguageField).code or "?" for d in docs]
    return SystemRun(label, out, ms, languages, lambda: timed([Doc(article=a) for a in arts]))


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
        doc.release()
    return {"total": total, "entities": ner}


def load_stock(model: str) -> Any:
    """A full stock pipeline by package name (or a PyPI re-upload of it) or model directory."""
    import spacy

    from services.enrich.analysis.nlp import model_candidates

    for candidate in model_candidates(model):
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
    out: list[dict[str, list[set[str]]]] = []

    def timed() -> dict[str, float]:
        out.clear()
        start = time.perf_counter()
        for t in texts:
            doc = nlp(t)
            ents: dict[str, list[set[str]]] = {k: [] for k in KINDS}
            for e in doc.ents:
                kind = STOCK_TYPES.get(e.label_)
                if kind:
                    ents[kind].append({e.text})
            out.append(ents)
        return {"total": (time.perf_counter() - start) * 1000 / max(1, len(texts))}

    ms = timed()
    name = nlp.meta.get("name", "?")
    label = f"stock {nlp.meta.get('lang', 'en')}_{name} {nlp.meta.get('version', '')}"
    return SystemRun(label, list(out), ms, again=timed)


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


@dataclass
class Measurement:
    """Every system's scores on the same stories: ``runs[:n_newsflow]`` are newsflow's, the rest stock."""

    stories: list[Story]
    runs: list[SystemRun]
    n_newsflow: int
    all: list[Tally]  # per run, every story
    english: list[Tally]  # per run, without the stories newsflow detected as not English
    per_story: list[list[StoryScore]]  # per run
    dropped: int  # gold names not in the text read

    @property
    def not_english(self) -> list[bool]:
        return [lang != "en" for lang in self.runs[0].languages]

    def fewer(self) -> list[int]:
        """Stories where newsflow (its first model) finds fewer entities than the first stock model."""
        mine, theirs = self.per_story[0], self.per_story[self.n_newsflow]
        return [i for i in range(len(self.stories)) if mine[i].found < theirs[i].found]

    def none(self) -> list[int]:
        """Stories where any stock model finds entities and newsflow (its first model) none."""
        stock = self.per_story[self.n_newsflow :]
        return [
            i for i in range(len(self.stories)) if self.per_story[0][i].found == 0 and any(s[i].found for s in stock)
        ]


def measure(
    path: Path, models: Sequence[str | None] = (None,), stock: Sequence[str] = ("en_core_web_sm",), rounds: int = 1
) -> Measurement:
    """Read the CoNLL file, run newsflow with each of ``models`` and each ``stock`` model, score them all;
    time each ``rounds`` times, the systems taking turns, and keep each one's fastest pass."""
    stories = read_conll(path)
    arts = articles(stories)
    texts = [article_text(a) for a in arts]
    golds = [s.gold_in(t) for s, t in zip(stories, texts, strict=True)]
    runs = [run_newsflow(arts, m) for m in models] + [run_stock(texts, m) for m in stock]
    for _ in range(rounds - 1):
        for r in runs:
            r.time_again()
    every = [True] * len(stories)
    english = [lang == "en" for lang in runs[0].languages]
    scored = [score(r, stories, golds, every) for r in runs]
    return Measurement(
        stories, runs, len(models), [t for t, _ in scored], [score(r, stories, golds, english)[0] for r in runs],
        [p for _, p in scored], sum(len(s.dropped) for s in stories),
    )  # fmt: skip


@dataclass
class Ablation:
    """One model's NER over one set, scored with the default English rules, with none, and with each rule
    switched: left out when it is on by default, added when it is off."""

    model: str
    every: Counts  # the default rules
    none: Counts
    without: dict[str, Counts]  # rule -> micro counts with that rule switched


def ablate(arts: Sequence[Any], stories: Sequence[Story], golds: Sequence[dict[str, list[str]]],
           model: str | None = None) -> Ablation:  # fmt: skip
    """Parse ``arts`` once with newsflow's pipeline for ``model`` (the language enricher first, as the
    service runs), then score :func:`extract_entities` with each set of rules on the same parses."""
    from services.enrich.analysis.doc import Doc
    from services.enrich.analysis.entities import ENTITY_TYPES, RULES, default_rules, extract_entities
    from services.enrich.analysis.nlp import SpacyPool
    from services.enrich.enrichers.registry import default_enrichers
    from shared.settings import Settings

    settings = Settings(spacy_model=model) if model else Settings()
    pool = SpacyPool(settings)
    language = next(e for e in default_enrichers(settings, pool=pool) if e.name == "language")
    docs = [Doc(article=a) for a in arts]
    for doc, fields in zip(docs, language.enrich(docs), strict=True):
        doc.fields.update(fields)
    pool.parse(docs)

    def micro(rules: Collection[str]) -> Counts:
        tally = Tally()
        for doc, story, gold in zip(docs, stories, golds, strict=True):
            ents: dict[str, list[set[str]]] = {k: [] for k in KINDS}
            if doc.model.has_ner:
                for e in extract_entities(doc.spacy, lang=doc.model.lang, rules=rules):
                    kind = ENTITY_TYPES[e.type]
                    if kind in ents:
                        ents[kind].append(e.forms)
            tally.add(story.shape, score_story(ents, gold))
        return tally.overall

    on = default_rules("en")
    without = {rule: micro(on - {rule} if rule in on else on | {rule}) for rule in RULES}
    return Ablation(pool.model_names["en"], micro(on), micro(()), without)


def report_rules(ablations: dict[str, list[Ablation]]) -> None:
    """The rules table: micro F1 per set and model with the default rules, with none, and the change in
    F1 when each rule is switched (left out when on, a negative number being what it earns; added when
    off, marked ``+``: a positive number would be what it earns)."""
    from services.enrich.analysis.entities import RULES, default_rules

    on = default_rules("en")

    sets = list(ablations)
    cols = [(name, a) for name in sets for a in ablations[name]]
    print("\n== entity rules, switched one at a time (micro F1; per rule: F1 with it switched minus F1 with the"
          " default rules;\n   '-' a default rule left out, '+' a rule off for English added)")  # fmt: skip
    print("  " + " " * 18 + "".join(f"{name[:16] + ' ' + a.model[-2:]:>22}" for name, a in cols))
    print("  " + f"{'default rules':<18}" + "".join(f"{a.every.f1:>22.3f}" for _, a in cols))
    print("  " + f"{'no rule (NER)':<18}" + "".join(f"{a.none.f1:>22.3f}" for _, a in cols))
    for rule in RULES:
        label = ("- " if rule in on else "+ ") + rule
        print("  " + f"{label:<18}" + "".join(f"{a.without[rule].f1 - a.every.f1:>+22.4f}" for _, a in cols))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conll", type=Path, nargs="+", default=None, help="CoNLL files (default: both dev sets)")
    parser.add_argument("--model", nargs="+", default=[None], help="newsflow's English model(s) (default: setting)")
    parser.add_argument("--stock", nargs="+", default=["en_core_web_sm", "en_core_web_md"], help="stock models")
    parser.add_argument("--ablate", nargs="+", default=["en_core_web_md", "en_core_web_sm"],
                        help="English models whose rules are left out one at a time")  # fmt: skip
    parser.add_argument("--no-ablation", action="store_true", help="skip the rules table")
    parser.add_argument("--list", type=int, default=10, help="stories to list where newsflow finds fewer")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes per system, taken in turns (best kept)")
    args = parser.parse_args(argv)
    paths = args.conll or [default_conll_path(name="conll2020-dev.txt"), default_conll_path()]
    ablations: dict[str, list[Ablation]] = {}
    summary = []
    for path in paths:
        if not path.is_file():
            print(f"bench-quality: skipped, no CoNLL file at {path} (set NEWSFLOW_CONLL2020_DEV / "
                  "NEWSFLOW_CONLL_DEV or --conll)")  # fmt: skip
            continue
        m = report_set(path, args)
        summary.append((path.stem, m))
        if not args.no_ablation:
            arts = articles(m.stories)
            golds = [s.gold_in(article_text(a)) for s, a in zip(m.stories, arts, strict=True)]
            ablations[path.stem] = [ablate(arts, m.stories, golds, model) for model in args.ablate]
    if ablations:
        report_rules(ablations)
    if summary:
        print("\n== summary (micro F1, all stories; same run)")
        for name, m in summary:
            cells = ", ".join(f"{r.name} {t.overall.f1:.3f}" for r, t in zip(m.runs, m.all, strict=True))
            print(f"  {name}: {cells}; stories where stock finds entities and newsflow none: {len(m.none())}")
    return 0


def report_set(path: Path, args: argparse.Namespace) -> Measurement:
    """Measure and print one CoNLL file (see the module docstring)."""
    m = measure(path, args.model, args.stock, max(1, args.rounds))
    stories, runs = m.stories, m.runs
    ours, stock = runs[0], runs[m.n_newsflow :]
    shapes = {s: sum(1 for st in stories if st.shape == s) for s in SHAPES}
    sizes = ", ".join(f"{k} {v}" for k, v in shapes.items())
    scored = m.all[0].overall.tp + m.all[0].overall.fn
    print(f"\n######## entity quality on {path.name}: {len(stories)} stories ({sizes}); distinct gold entities "
          f"scored {scored}, gold names not in the text read {m.dropped}")  # fmt: skip
    report(runs, m.all, "all stories", shapes)
    kept = [not x for x in m.not_english]
    if not all(kept):
        kept_shapes = {s: sum(1 for st, k in zip(stories, kept, strict=True) if k and st.shape == s) for s in SHAPES}
        report(runs, m.english, f"without the {sum(m.not_english)} stories detected as not English", kept_shapes)
    print()
    for k, r in enumerate(stock):
        gap = m.all[0].overall.f1 - m.all[m.n_newsflow + k].overall.f1
        print(f"{ours.name} - {r.name}, all stories: micro F1 {gap:+.3f}")
    print(f"\nms per article (fastest of {max(1, args.rounds)} passes, taken in turns), and micro F1 per ms")
    print(f"  {'':<48}{'ms':>7}{'F1':>7}{'F1/ms':>8}")
    for i, (r, t) in enumerate(zip(runs, m.all, strict=True)):
        ms = r.ms_per_article["total"]
        what = "whole enrich" if i < m.n_newsflow else "full pipeline"
        print(f"  {r.name[:34] + ', ' + what:<48}{ms:>7.1f}{t.overall.f1:>7.3f}{t.overall.f1 / ms:>8.4f}")
        if i < m.n_newsflow:
            ner = r.ms_per_article["entities"]
            print(f"  {r.name[:34] + ', NER + rules':<48}{ner:>7.1f}{t.overall.f1:>7.3f}{t.overall.f1 / ner:>8.4f}")
    mine, theirs = m.per_story[0], m.per_story[m.n_newsflow]
    fewer, none = m.fewer(), m.none()
    langs = ours.languages

    def line(i: int) -> str:
        tp_m = sum(c[0] for c in mine[i].counts.values())
        tp_s = sum(c[0] for c in theirs[i].counts.values())
        st = stories[i]
        return (f"  #{st.index:<4}{st.shape:<8}{langs[i]:<5}found {mine[i].found:>3} vs {theirs[i].found:>3}"
                f"  correct {tp_m:>3} vs {tp_s:>3}  {st.headline[:60]}")  # fmt: skip

    print(f"\nstories where newsflow finds fewer entities than {stock[0].name}: {len(fewer)} "
          f"(newsflow vs stock; detected language; the {args.list} largest gaps)")  # fmt: skip
    for i in sorted(fewer, key=lambda i: mine[i].found - theirs[i].found)[: args.list]:
        print(line(i))
    print(f"\nstories where a stock model finds entities and newsflow none: {len(none)}")
    for i in none:
        print(line(i))
    return m


if __name__ == "__main__":
    sys.exit(main())
