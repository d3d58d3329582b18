"""Entity quality on CoNLL-2003 stories: read the file, rebuild each story as wire text, score document-level
entities (pure: no model is loaded here; :mod:`bench.quality` runs the systems).

The CoNLL file (``token TAG`` per line, a blank line between sentences, ``-DOCSTART-`` between stories) is
read by path and never copied into the repository. Each story becomes the wire text a feed would send as
``{"text": ...}``: the first sentence is the headline, the sentences up to the dateline (``LONDON
1996-08-30``) are the byline and dateline lines, and every later sentence is a body paragraph (CoNLL keeps
one sentence or table row per line; Reuters copy is one sentence per paragraph).

Scoring is per story and per type, on distinct entities: people (gold ``PER``), organisations (``ORG``) and
places (``LOC``); ``MISC`` is not scored. A predicted entity is a set of surface names (newsflow's name and
aliases; one name for stock spaCy). On both sides, gold included, the names of a type are clustered first:
equal folded names are one entity, and a one-word person that is the last word of a longer person's name
in the same story is that person ("Simmons" counts with "Phil Simmons"). A predicted cluster matches a
gold cluster of the same type when they share a folded name (one-to-one); the rest are false positives
and false negatives. Only gold names that occur in the text the systems read are scored (the dateline and
byline are metadata, in ``enrichment.dateline``): :attr:`Story.dropped` lists the others.

Shapes (:func:`story_shape`), decided on the body lines only: ``results`` when at least half of them are
table rows (a fifth or more of the tokens are numbers, or a line of at most 8 tokens with a number and no
lowercase word of four letters or more); else ``brief`` when the body has at most 3 lines or fewer than 80
words; else ``prose``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path

from evaluation.enrich_eval import Counts
from shared.textfold import fold_name as fold

__all__ = [
    "GOLD_TYPES",
    "KINDS",
    "SHAPES",
    "Story",
    "StoryScore",
    "Tally",
    "cluster",
    "default_conll_path",
    "detokenize",
    "match_counts",
    "modern_format",
    "read_conll",
    "score_story",
    "story_shape",
]

#: Scored kinds and the gold tag of each.
GOLD_TYPES = {"people": "PER", "organizations": "ORG", "places": "LOC"}
KINDS = tuple(GOLD_TYPES)
SHAPES = ("prose", "results", "brief")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NO_SPACE_BEFORE = frozenset(",.;:!?)]}%") | {"'s", "'S", "n't", "'re", "'ll", "'d", "'ve", "'m", "'"}
_NO_SPACE_AFTER = frozenset("([{$")
_LINE_ENDS = frozenset({".", "!", "?", ":", ";", '"', "'"})
_NUMBER = re.compile(r"^[+-]?[\d.,:/-]*\d[\d.,:/-]*$")


def default_conll_path(repo: Path | None = None, name: str = "conll2003-dev.txt") -> Path:
    """``<repo>/../shared/data/external/<name>``: CoNLL-2003 dev by default (override with
    ``NEWSFLOW_CONLL_DEV``), ``conll2020-dev.txt`` for the modern set (override with
    ``NEWSFLOW_CONLL2020_DEV``)."""
    import os

    variable = "NEWSFLOW_CONLL2020_DEV" if name.startswith("conll2020") else "NEWSFLOW_CONLL_DEV"
    override = os.environ.get(variable)
    if override:
        return Path(override)
    root = repo or Path(__file__).resolve().parents[1]
    return root.parent / "shared" / "data" / "external" / name


def detokenize(tokens: Sequence[str]) -> str:
    """CoNLL tokens back to running text: no space before closing punctuation and clitics, straight double
    quotes alternately opening and closing."""
    out: list[str] = []
    glue_next = False
    quote_open = False
    for tok in tokens:
        glue = glue_next or not out or tok in _NO_SPACE_BEFORE
        glue_next = tok in _NO_SPACE_AFTER
        if tok == '"':
            if quote_open:
                glue = True
            else:
                glue_next = True
            quote_open = not quote_open
        out.append(tok if glue else " " + tok)
    return "".join(out)


@dataclass
class Story:
    """One CoNLL story, as wire text, with its gold entity names."""

    index: int
    headline: str
    text: str  # the wire story: headline, byline/dateline lines, body paragraphs
    body_lines: list[list[str]]  # the tokens of each body line (for the shape)
    gold_mentions: dict[str, list[str]]  # kind -> every gold name, in order, dateline included
    shape: str = "prose"
    dropped: list[str] = dc_field(default_factory=list)  # gold names not in the text the systems read

    def gold_in(self, text: str) -> dict[str, list[str]]:
        """The gold names of each kind that occur in ``text`` (what the systems read); the rest go to
        :attr:`dropped`."""
        self.dropped = []
        kept: dict[str, list[str]] = {k: [] for k in KINDS}
        for kind, names in self.gold_mentions.items():
            for name in names:
                (kept[kind] if name in text else self.dropped).append(name)
        return kept


def _sentences(lines: Iterable[str]) -> Iterator[list[list[tuple[str, str]]]]:
    """Stories as lists of sentences of ``(token, tag)``."""
    story: list[list[tuple[str, str]]] = []
    sentence: list[tuple[str, str]] = []
    for raw in lines:
        line = raw.strip()
        if line.startswith("-DOCSTART-"):
            if sentence:
                story.append(sentence)
            if story:
                yield story
            story, sentence = [], []
        elif not line:
            if sentence:
                story.append(sentence)
            sentence = []
        else:
            parts = line.split()
            sentence.append((parts[0], parts[-1] if len(parts) > 1 else "O"))
    if sentence:
        story.append(sentence)
    if story:
        yield story


def _spans(sentence: Sequence[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """``(tag, name)`` of each gold entity of a sentence (IOB1 or IOB2)."""
    current: list[str] = []
    label = ""
    for tok, tag in [*sentence, ("", "O")]:
        kind = tag[2:] if len(tag) > 2 and tag[1] == "-" else ""
        starts = tag.startswith("B-") or kind != label
        if current and (starts or not kind):
            yield label, detokenize(current)
            current = []
        if kind:
            current.append(tok)
        label = kind


def story_shape(body_lines: Sequence[Sequence[str]]) -> str:
    """``results``, ``brief`` or ``prose`` by the rule in the module docstring."""
    if not body_lines:
        return "brief"

    def table_row(tokens: Sequence[str]) -> bool:
        numbers = sum(1 for t in tokens if _NUMBER.match(t))
        long_word = any(t.isalpha() and t.islower() and len(t) >= 4 for t in tokens)
        return numbers >= 0.2 * len(tokens) or (len(tokens) <= 8 and numbers > 0 and not long_word)

    rows = sum(1 for line in body_lines if table_row(line))
    if rows * 2 >= len(body_lines):
        return "results"
    words = sum(1 for line in body_lines for t in line if any(c.isalpha() for c in t))
    if len(body_lines) <= 3 or words < 80:
        return "brief"
    return "prose"


def _unwrap(lines: Sequence[list[str]]) -> list[list[str]]:
    """Body lines with the hard wraps of the original copy joined: a line that does not end a sentence
    followed by one starting in lower case is one line ("... defend the Ashes in" + "a six-test series")."""
    out: list[list[str]] = []
    for line in lines:
        if out and out[-1][-1] not in _LINE_ENDS and line[0][:1].islower():
            out[-1] = out[-1] + line
        else:
            out.append(list(line))
    return out


def modern_format(path: Path) -> bool:
    """Is the file in CoNLL-2020's layout (``token start end TAG``, no headline line) rather than
    CoNLL-2003's (``token ... TAG``, a headline and a dateline line first)? Decided on the first token line."""
    with path.open(encoding="utf-8") as f:
        for raw in f:
            parts = raw.split()
            if parts and not parts[0].startswith("-DOCSTART-"):
                return len(parts) == 4 and parts[1].isdigit() and parts[2].isdigit()
    return False


def read_conll(path: Path) -> list[Story]:
    """Every story of a CoNLL-2003 or CoNLL-2020 file, rebuilt as wire text (see the module docstring).

    A CoNLL-2020 story has no headline line (:func:`modern_format`): each sentence is a paragraph, the
    first of them read as the headline (a dateline such as ``ANKARA (Reuters) -`` stays where it is)."""
    modern = modern_format(path)
    stories = []
    with path.open(encoding="utf-8") as f:
        for index, sentences in enumerate(_sentences(f)):
            if modern:
                stories.append(_modern_story(index, sentences))
                continue
            toks = [[t for t, _ in s] for s in sentences]
            dateline = next((i for i, s in enumerate(toks[:5]) if i > 0 and _DATE.match(s[-1])), None)
            head = 1 if dateline is None else dateline + 1
            body = _unwrap(toks[head:])
            lines = [detokenize(s) for s in toks[:head]] + [detokenize(s) for s in body]
            text = "\n".join(lines[:head]) + "\n\n" + "\n\n".join(lines[head:])
            stories.append(Story(index, lines[0], text.strip(), body, _gold(sentences), story_shape(body)))
    return stories


def _gold(sentences: Sequence[Sequence[tuple[str, str]]]) -> dict[str, list[str]]:
    """Every gold name of the scored types, in order."""
    gold: dict[str, list[str]] = {k: [] for k in KINDS}
    by_tag = {tag: kind for kind, tag in GOLD_TYPES.items()}
    for s in sentences:
        for tag, name in _spans(s):
            if tag in by_tag:
                gold[by_tag[tag]].append(name)
    return gold


def _modern_story(index: int, sentences: Sequence[Sequence[tuple[str, str]]]) -> Story:
    """A CoNLL-2020 story: one paragraph per sentence (the file's offsets put a blank line between them)."""
    toks = [[t for t, _ in s] for s in sentences]
    lines = [detokenize(s) for s in toks]
    return Story(index, lines[0], "\n\n".join(lines).strip(), toks[1:], _gold(sentences), story_shape(toks[1:]))


def cluster(entities: Iterable[Iterable[str]], kind: str) -> list[set[str]]:
    """Entities of one kind (each a set of surface names) as clusters of folded names: equal names join,
    and for people a one-word name joins the longer name it ends ("Simmons" -> "Phil Simmons")."""
    clusters: list[set[str]] = []
    index: dict[str, int] = {}
    for names in entities:
        folded = {f for n in names if (f := fold(n))}
        if not folded:
            continue
        hits = sorted({index[f] for f in folded if f in index})
        if hits:
            target = hits[0]
            for other in hits[1:]:  # one entity bridging two clusters joins them
                clusters[target] |= clusters[other]
                clusters[other] = set()
            clusters[target] |= folded
        else:
            target = len(clusters)
            clusters.append(set(folded))
        for f in clusters[target]:
            index[f] = target
    clusters = [c for c in clusters if c]
    if kind != "people":
        return clusters
    multi = [c for c in clusters if any(" " in n for n in c)]
    kept = []
    for c in clusters:
        if all(" " not in n for n in c):
            owner = next((m for m in multi if any(n.split()[-1] in c for n in m if " " in n)), None)
            if owner is not None:
                owner |= c
                continue
        kept.append(c)
    return kept


def match_counts(predicted: list[set[str]], gold: list[set[str]]) -> tuple[int, int, int]:
    """(tp, fp, fn) of predicted clusters against gold clusters: one-to-one, on a shared folded name."""
    used: set[int] = set()
    tp = 0
    for g in gold:
        hit = next((i for i, p in enumerate(predicted) if i not in used and p & g), None)
        if hit is not None:
            used.add(hit)
            tp += 1
    return tp, len(predicted) - len(used), len(gold) - tp


@dataclass
class StoryScore:
    """One system's result on one story: counts per kind and how many entities it found."""

    counts: dict[str, tuple[int, int, int]]
    found: int  # distinct predicted entities over the three kinds


def score_story(predicted: dict[str, list[set[str]]], gold: dict[str, list[str]]) -> StoryScore:
    """Counts per kind of one system's entities (kind -> list of name sets) against a story's gold names."""
    counts = {}
    found = 0
    for kind in KINDS:
        pred = cluster(predicted.get(kind) or [], kind)
        want = cluster(([n] for n in gold.get(kind) or []), kind)
        counts[kind] = match_counts(pred, want)
        found += len(pred)
    return StoryScore(counts, found)


@dataclass
class Tally:
    """Counts per kind, summed over stories, overall and per shape."""

    by_kind: dict[str, Counts] = dc_field(default_factory=lambda: {k: Counts() for k in KINDS})
    by_shape: dict[str, dict[str, Counts]] = dc_field(default_factory=dict)

    def add(self, shape: str, s: StoryScore) -> None:
        shape_counts = self.by_shape.setdefault(shape, {k: Counts() for k in KINDS})
        for kind, (tp, fp, fn) in s.counts.items():
            self.by_kind[kind].add(tp, fp, fn)
            shape_counts[kind].add(tp, fp, fn)

    @staticmethod
    def micro(counts: dict[str, Counts]) -> Counts:
        total = Counts()
        for c in counts.values():
            total.add(c.tp, c.fp, c.fn)
        return total

    @property
    def overall(self) -> Counts:
        return self.micro(self.by_kind)
