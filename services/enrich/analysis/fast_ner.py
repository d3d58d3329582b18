"""A faster forward pass for the token vectors of spaCy's NER, with the model's own weights.

spaCy's small pipelines (``en_core_web_sm``, ...) give the NER component its
own token-to-vector network: four hash embeddings (NORM, PREFIX, SUFFIX,
SHAPE) mixed by a maxout layer, then four residual CNN blocks (window 1,
maxout, layer norm), then a linear layer into the transition parser. thinc
runs it layer by layer, and that is most of the NER's time: about 9 of
12 ms per 300-token article on the bench machine, the rest being spaCy's
transition parse.

:func:`install` replaces that one sub-network of a loaded pipeline by
:class:`FastTok2Vec`, which computes the same function with fewer passes
over memory:

- the embedding stage depends only on a token's four lexical attributes, so
  its output is cached per distinct attribute tuple (computed by the model's
  own thinc layers on a miss; bounded by ``cache_size`` rows);
- the CNN blocks use thinc's padded layout, maxout weights reordered piece
  by piece so the maximum is two vectorised ``np.maximum`` calls, and
  thinc's layer-norm arithmetic.

A pipeline with static word vectors (``en_core_web_md``: a fifth input, the
token's 300-dimension vector projected to the width, concatenated before the
maxout) is computed the same way: the cache key adds the token's ORTH, and on a
miss its vector row comes from :class:`StaticTable`, a sorted array of the
vector keys (about 14 MB for md's 684,830 keys, where spaCy's ``Vectors`` keeps
a Python dict of about 150 MB and the 700,000 strings of ``strings.json``, which
the NER never reads). :meth:`StaticTable.from_disk` reads the model's
``vocab/`` directly, so :class:`~services.enrich.analysis.nlp.SpacyPool` loads
such a pipeline without its vocabulary's strings and vectors.

The transition parse stays spaCy's own code. With ``gemm="blis"`` (thinc's
kernel) the vectors are bit-identical to thinc's; with ``"numpy"``
(OpenBLAS, the :class:`~services.enrich.analysis.nlp.SpacyPool` default) they differ
by about 1e-6, and ``tests/unit/test_fast_ner.py`` checks the entities are
the same as the stock pipeline's on the evaluation set, for English and
French. A pipeline whose NER is built otherwise (a listener on a shared
``tok2vec``, a transformer) is left as it is: :func:`install` returns None.

Inference only: a pipeline with the fast layer must not be trained or saved.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from spacy.attrs import IDS
from spacy.language import Language
from spacy.tokens import Doc as SpacyDoc
from thinc.api import Model

__all__ = ["FastTok2Vec", "StaticTable", "install", "uses_static_vectors"]

_FAST_NAME = "newsflow_fast_tok2vec"


class UnsupportedModel(Exception):
    """The NER's token-vector network is not the architecture :class:`FastTok2Vec` computes."""


def _need(condition: bool, what: str) -> None:
    if not condition:
        raise UnsupportedModel(what)


def _find(model: Model, name: str) -> Model:
    found = [n for n in model.walk() if n.name == name]
    _need(len(found) == 1, f"one {name} layer")
    return found[0]


class StaticTable:
    """A model's static word vectors as arrays: ``keys`` (sorted uint64 hashes), the ``rows`` they map to,
    and the vectors ``data``; :meth:`rows_of` is spaCy's ``Vectors.find`` (-1 for a key with no vector)."""

    def __init__(self, keys: np.ndarray, rows: np.ndarray, data: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys = np.ascontiguousarray(keys[order], dtype=np.uint64)
        self.rows = np.ascontiguousarray(rows[order], dtype=np.int32)
        self.data = data

    @classmethod
    def from_vectors(cls, vectors: Any) -> StaticTable:
        """From a loaded spaCy ``Vectors`` (default mode, a ``key2row`` dict)."""
        key2row = vectors.key2row
        keys = np.fromiter(key2row.keys(), dtype=np.uint64, count=len(key2row))
        rows = np.fromiter(key2row.values(), dtype=np.int64, count=len(key2row))
        return cls(keys, rows, np.asarray(vectors.data))

    @classmethod
    def from_disk(cls, vocab_dir: Path) -> StaticTable:
        """From a model's ``vocab/`` directory (``key2row`` read as a stream, ``vectors`` memory-mapped), as
        spaCy writes them in default mode; ``UnsupportedModel`` when they are not there."""
        import srsly.msgpack

        cfg = vocab_dir / "vectors.cfg"
        mode = srsly.read_json(cfg).get("mode", "default") if cfg.exists() else "default"
        _need(mode == "default" and (vocab_dir / "key2row").exists(), "default-mode vectors with a key2row file")
        with (vocab_dir / "key2row").open("rb") as f:
            unpacker = srsly.msgpack.Unpacker(f, raw=False, strict_map_key=False)
            n = unpacker.read_map_header()
            keys = np.empty(n, dtype=np.uint64)
            rows = np.empty(n, dtype=np.int64)
            for i in range(n):
                keys[i] = unpacker.unpack()
                rows[i] = unpacker.unpack()
        return cls(keys, rows, np.load(vocab_dir / "vectors", mmap_mode="r"))

    def rows_of(self, keys: np.ndarray) -> np.ndarray:
        at = np.searchsorted(self.keys, keys)
        at[at == len(self.keys)] = 0
        return np.where(self.keys[at] == keys, self.rows[at], -1)


def uses_static_vectors(nlp: Language, name: str = "ner") -> bool:
    """Does the component's own token-vector network read static word vectors?"""
    if name not in nlp.pipe_names:
        return False
    model: Any = nlp.get_pipe(name)
    return any(n.name == "static_vectors" for n in model.model.walk())


class _Layers:
    """The sub-layers of spaCy's ``HashEmbedCNN >> list2array >> linear`` chain (``MultiHashEmbed``, with or
    without static vectors, then ``MaxoutWindowEncoder``)."""

    def __init__(self, chain: Model) -> None:
        _need(len(chain.layers) == 3, "tok2vec >> list2array >> linear")
        tok2vec, to_array, linear = chain.layers
        _need(to_array.name == "list2array" and linear.name == "linear", "list2array >> linear")
        _need(len(tok2vec.layers) == 2, "embed >> encode")
        embed, encode = tok2vec.layers
        self.static: Model | None = None
        if len(embed.layers) == 3:  # concatenate(features >> list2ragged >> embed, static_vectors) >> mix
            both, with_mix, _ = embed.layers
            _need(len(both.layers) == 2 and both.layers[1].name == "static_vectors", "features | static_vectors")
            chained, self.static = both.layers
            _need(len(chained.layers) == 3, "extract_features >> list2ragged >> embed")
            features, _, with_embed = chained.layers
            _need(self.static.attrs.get("key_attr") in ("ORTH", None), "vectors keyed by ORTH")
        else:
            _need(len(embed.layers) == 5, "extract_features >> list2ragged >> embed >> mix >> ragged2list")
            features, _, with_embed, with_mix, _ = embed.layers
        _need(features.name == "extract_features", "extract_features")
        self.columns = [IDS[c] if isinstance(c, str) else c for c in features.attrs["columns"]]
        self.hashed = len(self.columns)
        if self.static is not None:
            self.columns.append(IDS["ORTH"])  # the vector's key, last: part of the cache key
        _need(with_embed.attrs.get("pad") == 0 and with_mix.attrs.get("pad") == 0, "unpadded embedding")
        self.embed, self.mix = with_embed.layers[0], with_mix.layers[0]
        _need(encode.name.startswith("with_array(residual("), "residual CNN encoder")
        self.pad = int(encode.attrs["pad"])
        chain_of_blocks = encode.layers[0]
        blocks = (
            chain_of_blocks.layers
            if chain_of_blocks.name.startswith("residual(") and ">>residual(" in (chain_of_blocks.name)
            else [chain_of_blocks]
        )
        self.blocks: list[tuple[Model, Model]] = []
        for block in blocks:
            _need(block.name == "residual(expand_window>>maxout>>layernorm>>dropout)", "residual CNN block")
            inner = block.layers[0]
            _need(_find(inner, "expand_window").attrs["window_size"] == 1, "window size 1")
            self.blocks.append((_find(inner, "maxout"), _find(inner, "layernorm")))
        self.linear = linear
        self.width = int(self.mix.get_dim("nO"))


def _layernorm(x: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    """thinc's ``layernorm`` forward (``mu = x.mean(1)``, ``var = x.var(1) + 1e-8``,
    ``(x - mu) * var ** -0.5 * g + b``): the same arithmetic in the same order, so the same bits, in fewer
    passes over ``x``: ``x.var`` would compute the mean and ``x - mu`` again (numpy's ``_var``: the squares
    summed, then divided by the count), and the products are made in place."""
    mu = x.mean(axis=1, keepdims=True)
    d = x - mu
    var = np.add.reduce(np.square(d), axis=1, keepdims=True)
    np.true_divide(var, np.intp(x.shape[1]), out=var, casting="unsafe")
    var += 1e-08
    d *= var ** (-1.0 / 2.0)
    d *= g
    d += b
    return d


class FastTok2Vec:
    """Docs to the NER parser's input vectors, as thinc's chain computes them (see the module doc)."""

    def __init__(
        self, chain: Model, *, gemm: str = "numpy", cache_size: int = 100_000, vectors: StaticTable | None = None
    ) -> None:
        self.layers = _Layers(chain)
        _need(self.layers.static is None or vectors is not None, "the static vectors' table")
        self.vectors = vectors if self.layers.static is not None else None
        self.cache_size = cache_size
        if gemm == "numpy":
            self._gemm: Callable[[np.ndarray, np.ndarray], np.ndarray] = lambda a, w: np.dot(a, w.T)
        elif gemm == "blis":
            import blis.py

            self._gemm = lambda a, w: blis.py.gemm(a, w, trans2=True)
        else:
            raise ValueError(f"gemm must be 'numpy' or 'blis', not {gemm!r}")
        self._weights_key: tuple[int, ...] = ()
        self._lock = threading.Lock()  # the cache is shared: one forward pass at a time
        self._blocks: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.clear_cache()

    # -- weights ---------------------------------------------------------------

    def _weights(self) -> list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Maxout weights reordered piece-major; recomputed (and the cache emptied) if the params change."""
        lay = self.layers
        key = (*(id(m.get_param("W")) for m, _ in lay.blocks), id(lay.linear.get_param("W")))
        if key != self._weights_key:
            blocks = []
            for maxout, norm in lay.blocks:
                w, b = np.asarray(maxout.get_param("W")), np.asarray(maxout.get_param("b"))  # (nO, nP, nI), (nO, nP)
                n_out, n_pieces, n_in = w.shape
                w_p = np.ascontiguousarray(w.transpose(1, 0, 2).reshape(n_pieces * n_out, n_in))
                b_p = np.ascontiguousarray(b.T.reshape(n_pieces * n_out))
                blocks.append(
                    (n_out, n_pieces, w_p, b_p, np.asarray(norm.get_param("G")), np.asarray(norm.get_param("b")))
                )
            self._blocks = blocks
            self._weights_key = key
            self.clear_cache()
        return self._blocks

    # -- embedding cache ---------------------------------------------------------

    def clear_cache(self) -> None:
        self._rows: dict[bytes, int] = {}
        # all ``cache_size`` rows at once: np.zeros maps fresh zero pages, resident only once a row is
        # written, so an empty cache costs nothing and a growing one is never copied
        self._table = np.zeros((self.cache_size, self.layers.width), dtype="float32")
        self._used = 0

    @property
    def cached(self) -> int:
        """Distinct attribute tuples in the embedding cache."""
        return self._used

    def _embed_uncached(self, feats: np.ndarray) -> np.ndarray:
        lay = self.layers
        if lay.static is None or self.vectors is None:
            return lay.mix.predict(lay.embed.predict(feats))
        hashed = lay.embed.predict(np.ascontiguousarray(feats[:, : lay.hashed]))
        rows = self.vectors.rows_of(feats[:, lay.hashed])
        projected = self._gemm(np.ascontiguousarray(self.vectors.data[rows], dtype="float32"),
                               np.asarray(lay.static.get_param("W")))  # fmt: skip
        projected[rows < 0] = 0  # no vector: zeros, as spaCy's StaticVectors
        return lay.mix.predict(np.concatenate([hashed, projected], axis=1))

    def _embed(self, feats: np.ndarray) -> np.ndarray:
        """``(n, 4)`` uint64 attribute ids to ``(n, width)`` embeddings, through the cache."""
        n = feats.shape[0]
        keys = np.ascontiguousarray(feats).view(np.dtype((np.void, feats.dtype.itemsize * feats.shape[1]))).ravel()
        uniq, inverse = np.unique(keys, return_inverse=True)
        if len(uniq) > self.cache_size:
            return self._embed_uncached(feats)
        uniq_keys = uniq.tolist()
        rows = np.empty(len(uniq), dtype=np.int64)
        missing = []
        get = self._rows.get
        for i, k in enumerate(uniq_keys):
            r = get(k)
            if r is None:
                missing.append(i)
            else:
                rows[i] = r
        if missing:
            if self._used + len(missing) > self.cache_size:
                self.clear_cache()
                return self._embed(feats)
            first = np.empty(len(uniq), dtype=np.int64)
            first[inverse[::-1]] = np.arange(n - 1, -1, -1)  # first occurrence of each distinct tuple
            computed = self._embed_uncached(np.ascontiguousarray(feats[first[missing]]))
            start, end = self._used, self._used + len(missing)
            self._table[start:end] = computed
            for j, i in enumerate(missing):
                self._rows[uniq_keys[i]] = rows[i] = start + j
            self._used = end
        return self._table[rows[inverse]]

    # -- forward -------------------------------------------------------------------

    def __call__(self, docs: Sequence[SpacyDoc]) -> np.ndarray:
        """``(total tokens, nO)`` float32, rows in doc order, like the chain's ``predict``.

        Runs in chunks of about 2,048 tokens (rows do not depend on the chunking) to keep the
        working set in cache.
        """
        chunks: list[list[SpacyDoc]] = [[]]
        size = 0
        for doc in docs:
            if size >= 2048:
                chunks.append([])
                size = 0
            chunks[-1].append(doc)
            size += len(doc)
        with self._lock:
            outs = [self._forward(c) for c in chunks]
        return outs[0] if len(outs) == 1 else np.concatenate(outs)

    def _forward(self, docs: Sequence[SpacyDoc]) -> np.ndarray:
        blocks = self._weights()
        lay = self.layers
        lin_w, lin_b = np.asarray(lay.linear.get_param("W")), np.asarray(lay.linear.get_param("b"))
        lengths = [len(d) for d in docs if len(d)]
        if not lengths:
            return np.zeros((0, lin_w.shape[0]), dtype="float32")
        feats = np.concatenate([d.to_array(lay.columns) for d in docs if len(d)]).astype("uint64", copy=False)
        embedded = self._embed(feats.reshape(len(feats), -1))
        # thinc's padded layout: [pad, doc 1, pad, doc 2, ..., pad]
        pad, width = lay.pad, lay.width
        total = sum(lengths) + pad * (len(lengths) + 1)
        rows = np.empty(sum(lengths), dtype=np.int64)
        at, pos = 0, pad
        for n in lengths:
            rows[at : at + n] = np.arange(pos, pos + n)
            at += n
            pos += n + pad
        x = np.zeros((total, width), dtype="float32")
        x[rows] = embedded
        window = np.zeros((total, 3 * width), dtype="float32")
        for n_out, n_pieces, w_p, b_p, g, b in blocks:
            window[1:, :width] = x[:-1]  # expand_window(1): previous, self, next
            window[:, width : 2 * width] = x
            window[:-1, 2 * width :] = x[1:]
            y = self._gemm(window, w_p)
            y += b_p
            y = y.reshape(total, n_pieces, n_out)
            best = np.maximum(y[:, 0], y[:, 1])
            for p in range(2, n_pieces):
                np.maximum(best, y[:, p], out=best)
            x = x + _layernorm(best, g, b)  # window's first and last edge rows stay zero, as in thinc
        out = self._gemm(np.ascontiguousarray(x[rows]), lin_w)
        out += lin_b
        return out

    def as_model(self) -> Model:
        def forward(model: Model, docs: Sequence[SpacyDoc], is_train: bool) -> tuple[np.ndarray, Callable[..., Any]]:
            if is_train:
                raise NotImplementedError("the fast NER token vectors are for inference only")
            return self(docs), lambda d_out: []

        model: Model = Model(_FAST_NAME, forward)
        model.attrs["fast"] = self
        return model


def install(
    nlp: Language,
    *,
    gemm: str = "numpy",
    cache_size: int = 100_000,
    name: str = "ner",
    vectors: StaticTable | None = None,
) -> FastTok2Vec | None:
    """Give ``nlp``'s NER the fast token vectors; None (pipeline unchanged) if its NER is built otherwise.
    A NER reading static vectors takes them from ``vectors``, else from ``nlp.vocab.vectors``."""
    if name not in nlp.pipe_names:
        return None
    pipe: Any = nlp.get_pipe(name)  # a TrainablePipe; spaCy types get_pipe as a plain callable
    parser_model = pipe.model
    if not parser_model.layers or parser_model.layers[0].name == _FAST_NAME:
        return None
    try:
        if vectors is None and uses_static_vectors(nlp, name):
            vectors = StaticTable.from_vectors(nlp.vocab.vectors)
        fast = FastTok2Vec(parser_model.layers[0], gemm=gemm, cache_size=cache_size, vectors=vectors)
    except (UnsupportedModel, KeyError, ValueError, AttributeError):
        return None
    parser_model.layers[0] = fast.as_model()
    return fast
