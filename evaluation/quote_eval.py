"""PolNeAR direct quotes and their sources: the gold standard and how a prediction is scored.

PolNeAR (2016 US election coverage, brat files: ``Source``, ``Cue`` and ``Content`` spans tied by an
``Attribution`` event) marks attributed speech, direct and reported. It is read from
``<repo>/../shared/data/external/polnear-dev/`` (``text/*.txt``, ``attributions/*.ann``) by path; its
text never enters the repository. An article annotated more than once keeps its first annotation file.

Definitions (the bench states them as it prints):

- **Gold direct quote**: a passage between paired quotation marks (per paragraph: ``“`` / ``«`` / ``„``
  open, ``”`` / ``»`` close, a straight ``"`` alternates; a quote still open at a paragraph's end runs to
  it) that lies inside a ``Content`` span, with at least three words. Its source is that attribution's
  ``Source`` (None for an attribution without one). A quoted passage of one or two words (a scare quote,
  a term) is neither a gold quote nor a false positive; a longer quoted passage outside every ``Content``
  (a title, a slogan) is a false positive when predicted.
- **A predicted quote matches** a gold quote when their character spans overlap by at least half of
  the longer one (each gold quote matched once).
- **Speaker**: a gold ``Source`` is a surface mention. It is classed as
  *pronoun* (he, she, they, I, who ...), *name* (a run of capitalised words that ends the head of one of
  its comma / bracket separated parts: "Hillary Clinton's campaign manager Robby Mook" -> "Robby Mook",
  "Flynn, a top Trump surrogate" -> "Flynn"; a run inside a complement — "a spokesman for Trump" — or
  followed by a common noun — "The Republican nominee" — is no name) or *description* (anything else).
  A predicted speaker (a resolved entity name) is right for a *name* when both end with the same word
  (the surname) and the word before the gold surname, if any, is in the predicted name or is a title
  ("Mr. Obama" = "Barack Obama"; "Bill Clinton" != "Hillary Clinton"). For a *pronoun* or a definite
  description ("the mayor") the referent is taken to be the last *name* source annotated before it in
  the article (a proxy: PolNeAR has no coreference); with none, no speaker is right. A description
  is also right with no speaker (the sentence names nobody); an indefinite one ("a source",
  "officials") only so. Quotes without a gold source are not scored for the speaker.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evaluation.enrich_eval import Counts
from shared.textfold import fold_accents

__all__ = [
    "DEFAULT_DIR",
    "Article",
    "GoldQuote",
    "QuoteScore",
    "classify_source",
    "name_of_source",
    "quoted_segments",
    "read_polnear",
    "same_speaker",
    "score_article",
]

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "external" / "polnear-dev"
_OPEN = frozenset("“«„")
_CLOSE = frozenset("”»")
_PRONOUNS = frozenset("he she they it i we you him her them his its their who which that this these those one".split())
_DEFINITE = frozenset("the this that these those his her its their".split())
_DETERMINERS = frozenset("the a an this that these those his her its their some another".split())
_BREAK = frozenset("of for with at from in to on by who which that whose whom and as".split())
_TITLES = frozenset(
    "mr mrs ms miss dr sen senator rep representative gov governor president vice gen lt col maj sgt capt "
    "adm prof rev judge justice chairman chairwoman speaker secretary mayor chief leader minister former "
    "sir lord lady dame st saint attorney general spokesman spokeswoman".split()
)
_TOKEN = re.compile(r"[^\s,()\[\]—–]+")


@dataclass
class GoldQuote:
    """One gold direct quote: its span in the text and the attribution's source."""

    start: int
    end: int
    source: str | None
    kind: str  # "name", "pronoun", "description", "none"
    name: str | None  # for kind "name": the name in the source
    referent: str | None  # the name a pronoun or definite description is taken to mean (see the module doc)


@dataclass
class Article:
    """One PolNeAR article: its text, gold quotes and the short quoted passages that are not scored."""

    name: str
    text: str
    quotes: list[GoldQuote]
    ignored: list[tuple[int, int]]  # quoted passages of one or two words


@dataclass
class QuoteScore(Counts):
    """Counts over articles: quote tp / fp / fn (:class:`Counts`), speaker right / scored, error categories."""

    speaker_right: int = 0
    speaker_scored: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [right, scored]
    errors: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def speaker_accuracy(self) -> float:
        return self.speaker_right / self.speaker_scored if self.speaker_scored else 0.0

    def error(self, category: str, example: str) -> None:
        self.errors[category] = self.errors.get(category, 0) + 1
        examples = self.examples.setdefault(category, [])
        if len(examples) < 3:
            examples.append(example)


def quoted_segments(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of the text between each pair of quotation marks, paragraph by paragraph."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for para in text.split("\n"):
        opened = -1
        for i, ch in enumerate(para):
            if ch in _OPEN and opened < 0:
                opened = i
            elif (ch in _CLOSE or ch == '"') and opened >= 0:
                spans.append((pos + opened + 1, pos + i))
                opened = -1
            elif ch == '"':
                opened = i
        if opened >= 0:
            spans.append((pos + opened + 1, pos + len(para)))
        pos += len(para) + 1
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _words(text: str) -> list[str]:
    return [fold_accents(t).strip(".’'\"“”") for t in _TOKEN.findall(text)]


def _capitalised(token: str) -> bool:
    return token[:1].isupper()


def name_of_source(source: str, text: str = "") -> str | None:
    """The proper name a source mention is, if it is one (see the module doc); None for a description.

    ``text`` (the article) tells a sentence-initial common word from a name: a capitalised single word
    that the text also writes in lowercase ("Officials said") is no name.
    """
    for part in re.split(r"[,()\[\]—–]", source):
        tokens = _TOKEN.findall(part)
        head: list[str] = []
        for i, tok in enumerate(tokens):
            if tok.lower() in _BREAK and i > 0:
                break
            head.append(tok)
        # a possessive followed by more words is a modifier ("Clinton's campaign manager ...")
        kept = [t for i, t in enumerate(head) if not (re.search(r"['’]s?$", t) and i < len(head) - 1)]
        if not kept:
            continue
        last = re.sub(r"['’]s?$", "", kept[-1])
        if not _capitalised(last) or kept[-1].lower() in _DETERMINERS:
            continue
        run = [last]
        for tok in reversed(kept[:-1]):
            if not _capitalised(tok) or tok.lower() in _DETERMINERS:
                break
            run.insert(0, tok)
        if len(run) == 1 and len(kept) == 1 and re.search(rf"(?<!\w){re.escape(run[0].lower())}(?!\w)", text):
            continue  # "Officials": a common word the text also writes in lowercase
        return " ".join(run)
    return None


def classify_source(source: str | None, text: str = "") -> tuple[str, str | None]:
    """``(kind, name)`` of a gold source mention: ``none``, ``pronoun``, ``name`` (with the name) or
    ``description``."""
    if source is None or not source.strip():
        return "none", None
    words = _words(source)
    if len(words) == 1 and words[0] in _PRONOUNS:
        return "pronoun", None
    name = name_of_source(source, text)
    return ("name", name) if name else ("description", None)


def same_speaker(predicted: str | None, gold_name: str | None) -> bool:
    """A predicted speaker name is the gold name (see the module doc): same last word, and the gold
    word before it, if any, is in the predicted name or a title."""
    if predicted is None or gold_name is None:
        return predicted is None and gold_name is None
    pred = [w for w in _words(predicted) if len(w) > 1 and w not in ("jr", "sr")]
    gold = [w for w in _words(gold_name) if len(w) > 1 and w not in ("jr", "sr")]
    if not pred or not gold:
        return False
    if pred[-1] != gold[-1]:
        return " ".join(gold) == " ".join(pred[-len(gold) :])
    before = gold[-2] if len(gold) > 1 else None
    return before is None or before in pred or before in _TITLES


def read_polnear(directory: Path = DEFAULT_DIR) -> list[Article]:
    """Every article of the PolNeAR split in ``directory`` with its gold quotes; [] when absent."""
    texts = directory / "text"
    if not texts.is_dir():
        return []
    out = []
    for path in sorted(texts.glob("*.txt")):
        anns = sorted((directory / "attributions").glob(f"{path.stem}_*.ann"))
        if not anns:
            continue
        text = path.read_text(encoding="utf-8")
        out.append(_article(path.stem, text, anns[0].read_text(encoding="utf-8")))
    return out


def _article(name: str, text: str, ann: str) -> Article:
    spans: dict[str, tuple[str, int, int, str]] = {}
    links: list[dict[str, str]] = []
    for line in ann.splitlines():
        cols = line.split("\t")
        if cols[0].startswith("T") and len(cols) >= 2:
            label, _, rng = cols[1].partition(" ")
            offsets = [int(x) for part in rng.split(";") for x in part.split()]
            spans[cols[0]] = (label, min(offsets), max(offsets), cols[2] if len(cols) > 2 else "")
        elif cols[0].startswith("E") and len(cols) >= 2:
            links.append(dict(arg.split(":", 1) for arg in cols[1].split()[1:] if ":" in arg))
    contents: list[tuple[int, int, str | None, int]] = []  # start, end, source, source offset
    for link in links:
        content = spans.get(link.get("Content", ""))
        if content is None:
            continue
        src = spans.get(link.get("Source", ""))
        contents.append((content[1], content[2], src[3] if src else None, src[1] if src else content[1]))
    named: list[tuple[int, str]] = []  # (offset, name) of every name source, for pronoun referents
    for _, _, source, at in contents:
        kind, person = classify_source(source, text)
        if kind == "name" and person:
            named.append((at, person))
    named.sort()
    quotes, ignored = [], []
    for a, b in quoted_segments(text):
        inside = [c for c in contents if c[0] <= a and b <= c[1] + 1]
        if len(text[a:b].split()) < 3:
            ignored.append((a, b))
            continue
        if not inside:
            continue
        c = min(inside, key=lambda c: c[1] - c[0])
        kind, person = classify_source(c[2], text)
        referent = None
        if kind == "pronoun" or (kind == "description" and _words(c[2] or "x")[0] in _DEFINITE):
            before = [n for at, n in named if at < c[3]]
            referent = before[-1] if before else None
        quotes.append(GoldQuote(a, b, c[2], kind, person, referent))
    return Article(name, text, quotes, ignored)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    return inter > 0 and inter >= 0.5 * max(a[1] - a[0], b[1] - b[0])


def score_article(
    article: Article,
    predicted: Sequence[tuple[int, int, str | None]],
    score: QuoteScore,
) -> None:
    """Add one article's predicted quotes ``(start, end, speaker)`` (offsets into ``article.text``) to
    ``score``, with an error category for every miss (see the module doc for the rules)."""
    used: set[int] = set()
    for start, end, speaker in predicted:
        hit = next(
            (i for i, g in enumerate(article.quotes) if i not in used and _overlap((start, end), (g.start, g.end))),
            None,
        )
        if hit is None:
            if any(_overlap((start, end), s) for s in article.ignored):
                continue
            score.fp += 1
            score.error("quote: not a gold quote", article.text[start:end][:80])
            continue
        used.add(hit)
        score.tp += 1
        _score_speaker(article, article.quotes[hit], speaker, score)
    for i, g in enumerate(article.quotes):
        if i not in used:
            score.fn += 1
            score.error("quote: missed", article.text[g.start : g.end][:80])


def _score_speaker(article: Article, gold: GoldQuote, speaker: str | None, score: QuoteScore) -> None:
    if gold.kind == "none":
        return
    expected = gold.name if gold.kind == "name" else gold.referent
    right = same_speaker(speaker, expected) or (gold.kind == "description" and speaker is None)
    tally = score.by_kind.setdefault(gold.kind, [0, 0])
    tally[1] += 1
    score.speaker_scored += 1
    if right:
        tally[0] += 1
        score.speaker_right += 1
        return
    if speaker is None:
        category = f"speaker ({gold.kind}): none given"
    elif expected is None:
        category = f"speaker ({gold.kind}): one given, none expected"
    else:
        category = f"speaker ({gold.kind}): another one"
    want = f"{gold.source!r}" + (f" = {expected!r}" if gold.kind != "name" else "")
    score.error(category, f"{article.text[gold.start : gold.end][:50]!r} -> {speaker!r}, gold {want}")
