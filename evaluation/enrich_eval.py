"""The hand-labelled enrichment evaluation set and its scoring.

``evaluation/enrich/*.yaml`` holds wire-style articles written for newsflow
(business, science, sport, disasters, politics, health, culture, crime,
environment, conflict; English, French, Spanish, German, Italian, Portuguese)
in the shapes feeds carry (``shape``: prose, results, standings, market and
price-list reports, one-paragraph briefs, all-caps headlines, corrections,
live updates), each with the people,
organisations, places, countries, direct quotes (speaker + start of text)
and IPTC category a person expects. This module loads them as
:class:`~shared.models.Article` objects, runs enrichers over them and
computes precision / recall / F1 per field (micro-averaged over articles).

Matching rules: an expected entity is found when its folded name (lowercase,
no accents, no leading article) equals the name or an alias of a predicted
entity of the same kind; a predicted entity matching nothing expected is a
false positive. Countries are compared as ISO code sets. A quote is found
when a predicted, non-partial quote starts with the expected opening words
and (for ``quotes``) has the expected speaker. ``category`` scores the first
predicted topic. ``keywords`` (information only, used by the bench) counts
an expected key phrase as found when it and a predicted one contain each
other.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from services.enrich.analysis.doc import Doc
from services.enrich.enrichers.base import Enricher
from shared.models import (
    Article,
    CategoryField,
    CountriesField,
    EntitiesField,
    EntityItem,
    KeywordsField,
    Origin,
    QuoteItem,
    QuotesField,
)
from shared.textfold import fold_name as fold

__all__ = [
    "EVAL_DIR",
    "FIELDS",
    "Counts",
    "EvalItem",
    "entity_counts",
    "format_table",
    "load_eval_set",
    "run",
    "score",
]

EVAL_DIR = Path(__file__).resolve().parent / "enrich"
FIELDS = ("people", "organizations", "places", "countries", "quotes", "quote_text", "category", "keywords")
_ENTITY_FIELDS = ("people", "organizations", "places")


@dataclass
class EvalItem:
    """One labelled article."""

    id: str
    language: str
    article: Article
    expected: dict[str, Any]
    category: str
    shape: str = "prose"  # prose, results, standings, market, price-list, brief, allcaps, correction, live


@dataclass
class Counts:
    """True positives, false positives and false negatives of one field."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, tp: int, fp: int, fn: int) -> None:
        self.tp, self.fp, self.fn = self.tp + tp, self.fp + fp, self.fn + fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Scores:
    """Counts per field, overall and per language."""

    overall: dict[str, Counts] = dc_field(default_factory=lambda: {f: Counts() for f in FIELDS})
    by_language: dict[str, dict[str, Counts]] = dc_field(default_factory=dict)

    def add(self, lang: str, name: str, tp: int, fp: int, fn: int) -> None:
        self.overall[name].add(tp, fp, fn)
        self.by_language.setdefault(lang, {f: Counts() for f in FIELDS})[name].add(tp, fp, fn)


def load_eval_set(directory: Path = EVAL_DIR) -> list[EvalItem]:
    """Every labelled article, sorted by id."""
    items: list[EvalItem] = []
    for path in sorted(directory.glob("*.yaml")):
        d = yaml.safe_load(path.read_text(encoding="utf-8"))
        published = datetime.fromisoformat(d["published_at"].replace("Z", "+00:00"))
        article = Article(
            id=d["id"],
            content_hash=d["id"],
            title=d["title"].strip(),
            body=d["body"].strip(),
            source="newsflow-eval",
            published_at=published,
            language=d["language"],
            raw_format="fields",
            ingested_at=datetime(2024, 1, 1, tzinfo=UTC),
            origin=Origin(topic="eval", partition=0, offset=len(items)),
        )
        items.append(EvalItem(d["id"], d["language"], article, d["expected"], d["category"], d.get("shape", "prose")))
    return items


def run(enrichers: Sequence[Enricher], articles: Iterable[Article], batch_size: int = 32) -> list[Doc]:
    """Enrich ``articles`` in batches, the way the enrich service does."""
    docs = [Doc(article=a) for a in articles]
    for start in range(0, len(docs), batch_size):
        batch = docs[start : start + batch_size]
        for enricher in enrichers:
            for doc, fields in zip(batch, enricher.enrich(batch), strict=True):
                doc.fields.update(fields)
    return docs


def entity_counts(predicted: Sequence[Collection[str]] | None, expected: list[str]) -> tuple[int, int, int]:
    """(tp, fp, fn) of the entities ``predicted``, each given by its names (its name and aliases)."""
    preds = [{fold(n) for n in names} for names in predicted or []]
    used: set[int] = set()
    tp = 0
    for name in expected:
        key = fold(name)
        hit = next((i for i, names in enumerate(preds) if i not in used and key in names), None)
        if hit is not None:
            used.add(hit)
            tp += 1
    return tp, len(preds) - len(used), len(expected) - tp


def _names(entities: list[EntityItem] | None) -> list[list[str]] | None:
    return None if entities is None else [[e.name, *(e.aliases or [])] for e in entities]


def _quote_counts(
    predicted: list[QuoteItem] | None, expected: list[dict[str, str]], speaker: bool
) -> tuple[int, int, int]:
    preds = [q for q in predicted or [] if not q.partial]
    used: set[int] = set()
    tp = 0
    for exp in expected:
        start = fold(exp["text"])
        for i, q in enumerate(preds):
            if i in used or not fold(q.text).startswith(start):
                continue
            if speaker and fold(q.speaker or "") != fold(exp["speaker"]):
                continue
            used.add(i)
            tp += 1
            break
    return tp, len(preds) - len(used), len(expected) - tp


def score(docs: Sequence[Doc], items: Sequence[EvalItem]) -> Scores:
    """Precision / recall / F1 counts of ``docs`` against the labels of ``items``."""
    s = Scores()
    for doc, item in zip(docs, items, strict=True):
        lang, exp = item.language, item.expected
        ents = doc.field_or_none(EntitiesField)
        kinds = ents.by_kind() if ents else {}
        for name in _ENTITY_FIELDS:
            s.add(lang, name, *entity_counts(_names(kinds.get(name)), exp.get(name) or []))
        countries, quoted = doc.field_or_none(CountriesField), doc.field_or_none(QuotesField)
        got = {c.code for c in (countries.value if countries else None) or []}
        want = set(exp.get("countries") or [])
        s.add(lang, "countries", len(got & want), len(got - want), len(want - got))
        quotes = quoted.value if quoted else None
        s.add(lang, "quotes", *_quote_counts(quotes, exp.get("quotes") or [], speaker=True))
        s.add(lang, "quote_text", *_quote_counts(quotes, exp.get("quotes") or [], speaker=False))
        category, keywords = doc.field_or_none(CategoryField), doc.field_or_none(KeywordsField)
        cats = (category.value if category else None) or []
        top = cats[0].code if cats else None
        s.add(
            lang,
            "category",
            int(top == item.category),
            int(top is not None and top != item.category),
            int(top != item.category),
        )
        kws = [fold(k.text) for k in (keywords.value if keywords else None) or []]
        found = sum(1 for k in exp.get("keyphrases") or [] if any(fold(k) in p or p in fold(k) for p in kws))
        n_exp = len(exp.get("keyphrases") or [])
        s.add(lang, "keywords", found, 0, n_exp - found)
    return s


def format_table(s: Scores) -> str:
    """The scores as a text table: P/R/F1 overall, then F1 per language."""
    langs = sorted(s.by_language)
    head = f"{'field':<14}{'P':>7}{'R':>7}{'F1':>7}" + "".join(f"{'F1 ' + lang:>9}" for lang in langs)
    lines = [head, "-" * len(head)]
    for name in FIELDS:
        c = s.overall[name]
        row = f"{name:<14}{c.precision:>7.3f}{c.recall:>7.3f}{c.f1:>7.3f}"
        row += "".join(f"{s.by_language[lang][name].f1:>9.3f}" for lang in langs)
        lines.append(row)
    return "\n".join(lines)
