"""The article's language: the one every other enricher processes it in, and how it was chosen.

Three sources, in this order of trust:

1. **Declared**: the article's own ``language`` (raw ``language``, ninjs
   ``language``, HTML ``<html lang>``), else the sender's default from
   ``NEWSFLOW_SOURCE_LANGUAGES`` (``{"reuters": "en"}``, matched on the
   article's ``source``, case-insensitively). Any spelling of a tag
   (``en-GB``, ``eng``, ``fre``) is read as its ISO 639-1 code; a tag with no
   ISO 639-1 code is ignored, and the field says so.
2. **Detected**: py3langid, restricted to the languages
   newsflow can process (a configured spaCy model or a YAKE stopword list)
   plus ``NEWSFLOW_LANGUAGE_EXTRA_CANDIDATES``, so its answer is always an
   ISO 639-1 code the other enrichers know. It reads **prose**: the lines of
   headline and body with at least three lowercase words making at least 40%
   of the line's words (:func:`is_prose`); results tables, standings, price
   lists and all-caps headlines, dominated by names, numbers and short lines,
   do not drive the guess. With no prose line it reads the text as it is, and
   a guess from names and numbers must then be as sure as one that overrides a
   declared language; when it is not, it reads the table's **headings** (the
   lines that are not rows of numbers, :func:`heading_sample`: "Zahlen /
   FRANKREICH (3. Spieltag):", "SOCCER - DUTCH LEAGUE RESULTS", "venerdì 12
   giugno"), where the writer's language is rather than the names', as it
   reads prose.
3. **Default**: ``NEWSFLOW_LANGUAGE_DEFAULT`` (``en``).

A guess is used when it reaches ``NEWSFLOW_LANGUAGE_MIN_CONFIDENCE``, and
overrides a declared language only when it reaches
``NEWSFLOW_LANGUAGE_OVERRIDE_CONFIDENCE``; otherwise the declared language,
else the default, is used and ``reason`` says why. The field:

``code``
    the language the article is processed in (ISO 639-1; never ``und``);
``method``
    ``declared``, ``py3langid`` or ``default``;
``detected`` / ``confidence`` / ``guess``
    the detector's accepted answer (``und`` when it could not tell), its
    probability, and its best guess whatever the probability;
``declared`` / ``declared_by``
    the declared language and where it came from (``article`` / ``source``);
``reason``
    when the detector's answer was not used, or overrode a declaration.

The classifier reads at most ``SAMPLE_CHARS`` characters, cut at a word
boundary: py3langid's cost grows with the text (about 0.45 ms for 1,000
characters) and its answer on news prose is settled well before that.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from importlib.metadata import version
from typing import ClassVar, Literal

import numpy as np
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
from py3langid.modelio import load_model

from shared.models import LanguageField
from shared.settings import Settings

from ..analysis.doc import Doc
from ..analysis.keywords import YAKE_LANGUAGES
from ..analysis.langcodes import UNDETERMINED, iso639_1
from .base import Fields

__all__ = [
    "SAMPLE_CHARS",
    "Declared",
    "LanguageEnricher",
    "LanguagePolicy",
    "candidate_languages",
    "decide",
    "declared_language",
    "heading_sample",
    "is_prose",
    "is_table_row",
    "language_sample",
    "prose_sample",
]

_VERSION = version("py3langid")
SAMPLE_CHARS = 1000
_MIN_PROSE_WORDS = 3
_MIN_PROSE_SHARE = 0.4
_TOKEN_RE = re.compile(r"\w+(?:['’.\-]\w+)*")
_YAKE_TO_ISO = {"cz": "cs"}
_NUMBER_RE = re.compile(r"^[-+±]?\d[\d.,:'’/%-]*$")
_SCORE_RE = re.compile(r"\d\s*[:\-–]\s*\d")
_CAPS_WORD_RE = re.compile(r"[^\W\d_]{2,}(?:['’][^\W\d_]+)*")


def language_sample(text: str, limit: int = SAMPLE_CHARS) -> str:
    """The start of ``text`` that the classifier reads: at most ``limit`` characters, not cutting a word."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", limit // 2, limit + 1)
    return text[: cut if cut > 0 else limit]


def _prose_words(line: str) -> tuple[int, int]:
    """(prose words, all words) of a line: prose words are lowercase words, or words of a script without
    case counted as one per two characters; capitalised words (names) and numbers are not."""
    prose = total = 0
    for token in _TOKEN_RE.findall(line):
        first = token[0]
        if first.isdigit() or first == "_":
            total += 1
        elif first.islower():
            prose += 1
            total += 1
        elif first.lower() == first.upper():  # no case (Chinese, Arabic, Hindi...)
            weight = max(1, len(token) // 2)
            prose += weight
            total += weight
        else:
            total += 1
    return prose, total


def is_prose(line: str) -> bool:
    """True for a line of running text: at least three lowercase words, at least 40% of its words.

    "Seizinger won the race by half a second." is prose; "1. Katja Seizinger (Germany) 1:25.41",
    "Barcelona 4 3 1 0 10 3 10", "Wheat 3.45 3.50 +0.05" and "SOCCER - REAL MADRID V BARCELONA" are not.
    """
    prose, total = _prose_words(line)
    return prose >= _MIN_PROSE_WORDS and prose >= _MIN_PROSE_SHARE * total


def prose_sample(text: str, limit: int = SAMPLE_CHARS) -> str:
    """The prose lines of ``text`` (:func:`is_prose`), in order, cut to ``limit``; ``""`` if it has none."""
    lines: list[str] = []
    size = 0
    for line in text.splitlines():
        if size >= limit:
            break
        if is_prose(line):
            lines.append(line.strip())
            size += len(lines[-1]) + 1
    return language_sample("\n".join(lines), limit)


def is_table_row(line: str) -> bool:
    """A row of a table or list: two numbers or more, or a score / time (``1:1``, ``2-0``, ``1:38.42``).

    "Aston Villa - FC Southampton 1:1", "Ajax Amsterdam 3 Feyenoord Rotterdam 1" and "Copper 8,412.50
    8,415.00" are rows; "ITALIEN ( 5. Spieltag ) :" and "Lima , 4 oct ( EFE ) ." are not.
    """
    numbers = sum(1 for token in line.split() if _NUMBER_RE.match(token))
    return numbers >= 2 or bool(_SCORE_RE.search(line))


def heading_sample(text: str, limit: int = SAMPLE_CHARS) -> str:
    """The lines of a text without prose that are not table rows (:func:`is_table_row`): its headings, captions
    and dateline, cut to ``limit``; words in capitals are read in lower case (py3langid's n-grams are those of
    running, mostly lower-case text). ``""`` when every line is a row."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not is_table_row(line)]
    sample = language_sample("\n".join(lines), limit)
    return _CAPS_WORD_RE.sub(lambda m: m[0].lower() if m[0].isupper() else m[0], sample)


@dataclass(frozen=True)
class Declared:
    """A declared language: its ISO 639-1 ``code`` (None if the tag has none), the tag as sent, and who."""

    code: str | None
    tag: str
    by: Literal["article", "source"]


def declared_language(article_language: str | None, source: str | None, sources: Mapping[str, str]) -> Declared | None:
    """The article's declared language, else its source's configured default, else None."""
    if article_language and article_language.strip():
        return Declared(iso639_1(article_language), article_language.strip(), "article")
    if source and sources:
        key = source.strip().casefold()
        tag = sources.get(key) or sources.get(key.removeprefix("www."))
        if tag:
            return Declared(iso639_1(tag), tag, "source")
    return None


@dataclass(frozen=True)
class LanguagePolicy:
    """How a guess and a declaration become the processing language (settings ``language_*``)."""

    default: str
    min_confidence: float
    override_confidence: float
    source_languages: Mapping[str, str] = dc_field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> LanguagePolicy:
        default = iso639_1(settings.language_default)
        if default is None:
            raise ValueError(f"NEWSFLOW_LANGUAGE_DEFAULT {settings.language_default!r} is not an ISO 639-1 code")
        return cls(
            default=default,
            min_confidence=settings.language_min_confidence,
            override_confidence=settings.language_override_confidence,
            source_languages={k.strip().casefold(): v for k, v in settings.source_languages.items()},
        )


def decide(
    guess: str | None, confidence: float, *, prose: bool, declared: Declared | None, policy: LanguagePolicy
) -> LanguageField:
    """The ``language`` field from the detector's answer and the declaration (pure).

    ``guess`` is None when there was no text to read; ``prose`` says whether the detector read running words
    (prose lines, or the headings of a table) rather than the whole text of names and numbers.
    ``declared`` / ``declared_by`` are written when there is a declaration, ``reason`` when there are notes.
    """
    conf = round(float(confidence), 4)
    floor = policy.min_confidence if prose else max(policy.min_confidence, policy.override_confidence)
    accepted = guess is not None and conf >= floor
    notes: list[str] = []
    usable = declared if declared is not None and declared.code else None
    if declared is not None and usable is None:
        notes.append(f"declared language {declared.tag!r} ({declared.by}) has no ISO 639-1 code; ignored")
    code: str | None
    if usable is not None and usable.code is not None:
        if accepted and guess != usable.code and conf >= policy.override_confidence:
            notes.append(
                f"py3langid's {guess!r} at {conf} overrides the declared {usable.code!r} ({usable.by}): "
                f"at or over NEWSFLOW_LANGUAGE_OVERRIDE_CONFIDENCE {policy.override_confidence}"
            )
            code, method = guess, "py3langid"
        else:
            if guess is not None and guess != usable.code:
                notes.append(
                    f"declared {usable.code!r} ({usable.by}) kept over py3langid's {guess!r} at {conf}, "
                    f"under NEWSFLOW_LANGUAGE_OVERRIDE_CONFIDENCE {policy.override_confidence}"
                )
            code, method = usable.code, "declared"
    elif accepted:
        code, method = guess, "py3langid"
    else:
        if guess is None:
            notes.append("no text to detect the language from")
        elif not prose:
            notes.append(
                f"no prose lines (a table, a list or a headline only) and py3langid's {guess!r} at {conf} on the "
                f"whole text is under {floor}"
            )
        else:
            notes.append(f"py3langid's {guess!r} at {conf} is under NEWSFLOW_LANGUAGE_MIN_CONFIDENCE {floor}")
        notes.append(f"processed in the default language {policy.default!r}")
        code, method = policy.default, "default"
    detected = guess if accepted else UNDETERMINED
    out = LanguageField(code=code, detected=detected, confidence=conf, guess=guess, method=method, version=_VERSION)
    if declared is not None:
        out.declared, out.declared_by = declared.code, declared.by
    if notes:
        out.reason = "; ".join(notes)
    return out


def candidate_languages(spacy_languages: Iterable[str], extra: Iterable[str], known: Iterable[str]) -> list[str]:
    """What py3langid may answer: spaCy model and YAKE languages it knows, plus ``extra`` (checked)."""
    known_set = set(known)
    processable = {iso639_1(c) for c in spacy_languages} | {_YAKE_TO_ISO.get(c, c) for c in YAKE_LANGUAGES}
    out = {c for c in processable if c and c in known_set}
    for tag in extra:
        code = iso639_1(tag)
        if code is None or code not in known_set:
            raise ValueError(
                f"NEWSFLOW_LANGUAGE_EXTRA_CANDIDATES: {tag!r} is not an ISO 639-1 code py3langid knows "
                f"(it knows: {', '.join(sorted(c for c in known_set if len(c) == 2))})"
            )
        out.add(code)
    return sorted(out)


def _identifier(spacy_languages: Iterable[str], extra: Iterable[str]) -> tuple[LanguageIdentifier, list[str]]:
    """py3langid's identifier over the :func:`candidate_languages` only, and those languages.

    What ``set_languages(candidates)`` does, without keeping the full model: py3langid's own
    ``set_languages`` slices the weights (``nb_ptc``, one column per language) but keeps the full
    matrix for a later reset, 28 MB for 142 languages; built from the sliced columns alone the
    identifier holds 34 (6.8 MB), with the same columns in the same order, so the same answers.
    """
    ptc, pc, classes, nextmove, row, output = load_model(MODEL_DIR / MODEL_FILE)
    candidates = candidate_languages(spacy_languages, extra, classes)
    keep = set(candidates)
    columns = [i for i, c in enumerate(classes) if c in keep]
    identifier = LanguageIdentifier(
        np.ascontiguousarray(ptc[:, columns]), np.asarray(pc)[columns], [classes[i] for i in columns],
        nextmove, output, norm_probs=True, tk_row=row,
    )  # fmt: skip
    return identifier, candidates


class LanguageEnricher:
    """The ``language`` field (see the module doc). ``spacy_languages``: languages with a spaCy model."""

    name: ClassVar[str] = "language"
    provides: ClassVar[tuple[str, ...]] = ("language",)
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: Settings, spacy_languages: Iterable[str] = ("en", "fr")) -> None:
        self.policy = LanguagePolicy.from_settings(settings)
        self._identifier, self.candidates = _identifier(
            [*spacy_languages, self.policy.default], settings.language_extra_candidates
        )

    def detect(self, text: str) -> tuple[str | None, float, bool]:
        """(best guess, its probability, read running words?) for ``text``; (None, 0.0, False) for no text.

        Prose lines when there are some; else the whole text, and when that guess is under
        ``override_confidence``, the table's headings (:func:`heading_sample`) if they have letters.
        """
        sample = prose_sample(text)
        if sample:
            code, prob = self._identifier.classify(sample)
            return str(code), float(prob), True
        sample = language_sample(text.strip())
        if not any(c.isalpha() for c in sample):
            return None, 0.0, False
        code, prob = self._identifier.classify(sample)
        if prob < self.policy.override_confidence:
            headings = heading_sample(text)
            if any(c.isalpha() for c in headings):
                code, prob = self._identifier.classify(headings)
                return str(code), float(prob), True
        return str(code), float(prob), False

    def enrich(self, docs: list[Doc]) -> list[Fields]:
        out: list[Fields] = []
        for doc in docs:
            guess, confidence, prose = self.detect(doc.text)
            declared = declared_language(doc.article.language, doc.article.source, self.policy.source_languages)
            out.append({"language": decide(guess, confidence, prose=prose, declared=declared, policy=self.policy)})
        return out
