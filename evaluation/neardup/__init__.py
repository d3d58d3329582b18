"""The labelled near-duplicate evaluation set and the routine that scores a dedup store on it.

``articles_*.yaml`` hold hand-written base wire stories, each with the
hand-written material for its syndicated copies (``syndication``: an outlet
header, another dateline, a rewritten headline, an added sentence, word
replacements, a "Reporting by" trailer) and hand-written hard negatives
(different stories on the same event or topic, often on the same wire
template). :func:`load_cases` turns them into labelled texts:

- every base article (``label: base``), inserted first;
- per base, one syndicated copy per recipe in :data:`RECIPES` (``positive``:
  must be decided ``dup`` / ``near`` with ``duplicate_of`` = the base);
- every negative (``negative``: must pass, i.e. not be a near duplicate of
  anything).

``python -m evaluation.neardup`` prints every materialised case as JSON, for
review.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from services.ingest.dedup import DedupDecision, DedupItem, DedupStore
from services.ingest.fingerprint import content_hash, url_hash
from services.ingest.minhash import DEFAULT_PARAMS, MinHashParams, bands, signature

__all__ = [
    "RECIPES",
    "Case",
    "EvalResult",
    "evaluate",
    "load_cases",
]

HERE = Path(__file__).parent
Label = Literal["base", "positive", "negative"]


@dataclass(frozen=True)
class Case:
    """One article of the evaluation set."""

    id: str
    base: str  # the base article's id (its own id for a base)
    label: Label
    how: str  # the recipe of a positive, the reason of a negative
    title: str
    body: str


# --------------------------------------------------------------------------- materialising


def _paragraphs(block: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", block.strip()) if p.strip()]


def _body(dateline: str, paras: list[str], caption: str | None = None, *, header: str = "", trailer: str = "") -> str:
    paras = list(paras)
    if caption:
        paras.insert(1, caption)
    if dateline.rstrip().endswith(("-", "–", "—")):
        paras[0] = f"{dateline} {paras[0]}"  # Reuters style: "LONDON (Wire) - The ..."
    else:
        paras.insert(0, dateline)  # AFP style: the dateline on its own line
    if header:
        paras.insert(0, header)
    if trailer:
        paras.append(trailer)
    return "\n\n".join(paras)


_STRAIGHT: dict[str, str | int | None] = {"“": '"', "”": '"', "‘": "'", "’": "'"}


def _flip_quotes(text: str) -> str:
    if any(q in text for q in "“”‘’"):
        return text.translate(str.maketrans(_STRAIGHT))
    text = re.sub(r'"([^"]*)"', r"“\1”", text)
    return text.replace("'", "’")


def _messy_whitespace(text: str) -> str:
    text = text.replace(". ", ".  ").replace(", ", ",\u00a0", 3)
    return "\r\n".join(line + "  " if i % 3 == 0 else "\t" + line for i, line in enumerate(text.split("\n")))


def _replace(paras: list[str], pairs: Iterable[list[str]], where: str) -> list[str]:
    out = list(paras)
    for old, new in pairs:
        for i, p in enumerate(out):
            if old in p:
                out[i] = p.replace(old, new, 1)
                break
        else:
            raise ValueError(f"{where}: replacement {old!r} not found in the body")
    return out


def _drop_last_sentence(paras: list[str]) -> list[str]:
    """Drop the last sentence of the longest multi-sentence paragraph after the first (quote-free if any)."""
    out = list(paras)
    splits = [re.split(r"(?<=[.!?])\s+(?=[A-Z])", p) for p in out]
    best = max(range(1, len(out)), key=lambda i: (len(splits[i]) > 1, not re.search('["“”]', out[i]), len(out[i])))
    if len(splits[best]) < 2:
        raise ValueError("no multi-sentence paragraph to drop a sentence from")
    out[best] = " ".join(splits[best][:-1])
    return out


Recipe = Callable[[dict[str, Any], list[str]], tuple[str, str]]


def _outlet(a: dict[str, Any], p: list[str]) -> tuple[str, str]:
    s = a["syndication"]
    body = _body(s["dateline"], _replace(p, s["replace"][:1], a["id"]), a["caption"], header=s["header"])
    return a["title"], body + "\n\nShort link:"


def _caption_quotes_ws(a: dict[str, Any], p: list[str]) -> tuple[str, str]:
    return a["title"], _messy_whitespace(_flip_quotes(_body(a["dateline"], p)))


def _sentence_dropped(a: dict[str, Any], p: list[str]) -> tuple[str, str]:
    paras = _replace(_drop_last_sentence(p), a["syndication"]["replace"][:2], a["id"])
    return a["title"], _body(a["dateline"], paras, a["caption"])


def _sentence_added(a: dict[str, Any], p: list[str]) -> tuple[str, str]:
    s = a["syndication"]
    paras = [*p[:2], s["added"], *p[2:]]
    return a["title"], _body(a["dateline"], paras, a["caption"], trailer=s["reporting"])


def _words_changed(a: dict[str, Any], p: list[str]) -> tuple[str, str]:
    s = a["syndication"]
    return s["title"], _body(a["dateline"], _replace(p, s["replace"], a["id"]), a["caption"])


def _combo(a: dict[str, Any], p: list[str]) -> tuple[str, str]:
    s = a["syndication"]
    paras = _replace(p, s["replace"][:3], a["id"])
    del paras[-2]
    body = _body(s["dateline"], paras, header=s["header"], trailer=s["reporting"])
    return s["title"], _flip_quotes(body) + "\n\nShort link:"


def _abridged(a: dict[str, Any], p: list[str]) -> tuple[str, str]:
    s = a["syndication"]
    keep = max(3, round(len(p) * 0.75))  # outlets trim wire copy from the bottom
    return s["title"], _body(s["dateline"], p[:keep], header=s["header"])


RECIPES: dict[str, Recipe] = {
    "outlet-header-dateline-trailer": _outlet,
    "caption-removed-quotes-whitespace": _caption_quotes_ws,
    "sentence-dropped-words-changed": _sentence_dropped,
    "sentence-added-reporting-trailer": _sentence_added,
    "words-changed-new-headline": _words_changed,
    "combined-edits-paragraph-dropped": _combo,
    "abridged-bottom-quarter-cut": _abridged,
}


@cache
def load_cases() -> tuple[Case, ...]:
    """Return every case of the set: bases first, then positives and negatives grouped per base."""
    articles: list[dict[str, Any]] = []
    for path in sorted(HERE.glob("articles_*.yaml")):
        articles.extend(yaml.safe_load(path.read_text(encoding="utf-8")))
    bases, probes = [], []
    for a in articles:
        paras = _paragraphs(a["body"])
        bases.append(Case(a["id"], a["id"], "base", "", a["title"], _body(a["dateline"], paras, a["caption"])))
        for name, recipe in RECIPES.items():
            title, body = recipe(a, paras)
            probes.append(Case(f"{a['id']}/{name}", a["id"], "positive", name, title, body))
        for n in a["negatives"]:
            body = _body(n["dateline"], _paragraphs(n["body"]))
            probes.append(Case(n["id"], a["id"], "negative", n["why"], n["title"], body))
    ids = Counter(c.id for c in (*bases, *probes))
    if dup := [i for i, n in ids.items() if n > 1]:
        raise ValueError(f"duplicate case ids: {dup}")
    return (*bases, *probes)


# --------------------------------------------------------------------------- scoring


@dataclass
class EvalResult:
    """Outcome of one run of the set through a store."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    exact: int = 0  # probes decided as exact duplicates (not counted as near detections)
    via_copy: int = 0  # true positives pointed at an earlier indexed copy of the same story, not the base
    errors: list[str] = field(default_factory=list)  # one line per wrong decision
    decisions: dict[str, DedupDecision] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def summary(self) -> str:
        return (
            f"precision={self.precision:.3f} recall={self.recall:.3f} "
            f"(tp={self.tp} fp={self.fp} fn={self.fn} tn={self.tn} exact={self.exact} via_copy={self.via_copy})"
        )


def _item(i: int, case: Case, params: MinHashParams, sigs: dict[str, bytes] | None) -> DedupItem:
    sig = sigs[case.id] if sigs is not None else signature(case.title, case.body, params)
    return DedupItem(
        owner=f"news.raw/0/{i}",
        article_id=case.id,
        content_hash=content_hash(case.title, case.body),
        url_hash=url_hash(f"https://outlet-{i}.example/{case.id}"),  # every copy has its own URL
        signature=sig,
        bands=bands(sig, params),
    )


async def evaluate(
    store: DedupStore,
    params: MinHashParams = DEFAULT_PARAMS,
    *,
    sigs: dict[str, bytes] | None = None,
    batch: int = 32,
    seed: int = 7,
) -> EvalResult:
    """Run the whole set through ``store`` and score its near-duplicate decisions.

    Bases are inserted first; then positives and negatives in a seeded
    shuffled order, ``batch`` items per ``decide`` call (as the ingest
    handler batches). A positive is a true positive when it is decided a
    ``near`` duplicate of its own story: its base, or an earlier copy of the
    base that passed and got indexed (counted in ``via_copy``). A near
    decision on a negative or on a base, or a positive pointed at another
    story, is a false positive.
    ``sigs`` (case id -> signature) skips recomputing signatures.
    """
    cases = load_cases()
    bases = [c for c in cases if c.label == "base"]
    probes = [c for c in cases if c.label != "base"]
    random.Random(seed).shuffle(probes)
    ordered = [*bases, *probes]
    items = [_item(i, c, params, sigs) for i, c in enumerate(ordered)]
    story = {c.id: c.base for c in cases if c.label != "negative"}  # negatives are stories of their own
    res = EvalResult()
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        for case, d in zip(ordered[start : start + batch], await store.decide(chunk), strict=True):
            res.decisions[case.id] = d
            near = d.status == "dup" and d.kind == "near"
            if d.status == "dup" and d.kind == "exact":
                res.exact += 1
            if case.label == "positive":
                if near and story.get(d.duplicate_of or "") == case.base:
                    res.tp += 1
                    res.via_copy += d.duplicate_of != case.base
                    continue
                res.fn += 1
                if near:
                    res.fp += 1
                res.errors.append(f"MISS {case.id}: {d.status}/{d.kind} of {d.duplicate_of} sim={d.similarity}")
            elif near:
                res.fp += 1
                res.errors.append(f"FALSE {case.id} ({case.label}): near dup of {d.duplicate_of} sim={d.similarity}")
            else:
                res.tn += 1
    return res
