"""The stock baseline for story grouping: TF-IDF single-pass clustering, as a short script would do it.

Each text is lowercased and split into word tokens (letters and digits, any script); words of two
characters or fewer are dropped. Each word is weighted tf x idf, with the idf counted over the
whole set (a script that sees the whole set at once: more than a stream knows) and the vector
normalised. The texts are taken in stream order; each joins the cluster whose centroid (the mean of
its members' vectors) is most similar by cosine, if that is at least ``threshold``, else starts a
new cluster. No entities, no languages, no dates.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import regex

__all__ = ["tfidf_single_pass"]

_WORD = regex.compile(r"[\p{L}\p{N}]+")


def _vectors(texts: Sequence[str]) -> list[dict[str, float]]:
    tokens = [[w for w in _WORD.findall(t.lower()) if len(w) > 2] for t in texts]
    df = Counter(w for ws in tokens for w in set(ws))
    n = len(texts)
    out = []
    for ws in tokens:
        tf = Counter(ws)
        vec = {w: c * math.log((1 + n) / (1 + df[w])) for w, c in tf.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        out.append({w: v / norm for w, v in vec.items()})
    return out


def tfidf_single_pass(texts: Sequence[str], order: Sequence[int], threshold: float) -> list[int]:
    """The cluster number of every text (indexed like ``texts``), the texts taken in ``order``."""
    vecs = _vectors(texts)
    sums: list[dict[str, float]] = []  # per cluster: the sum of its members' vectors
    sizes: list[int] = []
    postings: dict[str, set[int]] = {}  # word -> clusters whose sum has it
    out = [-1] * len(texts)
    for i in order:
        v = vecs[i]
        best, best_sim = -1, threshold
        candidates = set().union(*(postings.get(w, set()) for w in v)) if v else set()
        for c in candidates:
            s = sums[c]
            norm = math.sqrt(sum(x * x for x in s.values())) or 1.0
            sim = sum(x * s.get(w, 0.0) for w, x in v.items()) / norm
            if sim >= best_sim:
                best, best_sim = c, sim
        if best < 0:
            best = len(sums)
            sums.append({})
            sizes.append(0)
        for w, x in v.items():
            sums[best][w] = sums[best].get(w, 0.0) + x
            postings.setdefault(w, set()).add(best)
        sizes[best] += 1
        out[i] = best
    return out
