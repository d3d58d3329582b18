"""MinHash signatures and LSH band keys for near-duplicate detection (pure, no I/O).

The pipeline for one article, identical on every replica (nothing depends on
the process, the platform or the numpy version):

1. *Comparison text*: :func:`services.ingest.fingerprint.comparison_text`
   (NFKC, casefolded, quotes removed, dashes unified, whitespace collapsed),
   the same text the exact content hash is taken over.
2. *Tokens* (:func:`tokens`): maximal runs of letters, digits, combining
   marks and ``_``; every other character (punctuation, quotes, dashes,
   whitespace) only separates tokens, so it never changes a signature. Each
   character of a script written without spaces (CJK ideographs, kana,
   hangul: East Asian wide) is a token of its own.
3. *Shingles* (:func:`shingle_hashes`): every run of ``shingle_size``
   consecutive tokens. Each token is hashed once with ``xxh3_64``; a
   shingle's 64-bit hash is ``fmix64(seed ^ t[0] ^ rotl(t[1], 21) ^
   rotl(t[2], 42) ...)`` computed for all shingles at once with numpy
   (``fmix64`` is MurmurHash3's finaliser, a bijection with full avalanche).
   This is 2.5x cheaper than hashing each joined shingle string and just as
   collision-free in practice. :func:`text_signatures` does steps 2 to 4 for
   a batch of texts at once, hashing tokens of up to 16 bytes with a numpy
   transcription of XXH3's short-input code (the same values as the library).
4. *MinHash* by one-permutation hashing with optimal densification
   (Shrivastava, ICML 2017): a shingle hash's top 32 bits pick one of
   ``num_perm`` slots, its low 32 bits are its value, and each slot keeps the
   minimum value that falls into it. A slot that no shingle fell into copies
   the value of the first filled slot along its own fixed pseudo-random probe
   sequence. Two signatures agree in a slot with probability equal to the
   Jaccard similarity of the two shingle sets, as with ``num_perm``
   independent permutations, at the cost of one hash per shingle instead of
   ``num_perm`` (measured: as accurate, 5x cheaper; ``bench.neardup_sweep``).
5. *Bands* (:func:`bands`): the first ``bands * rows`` slots cut into
   ``bands`` bands; a band's key is ``f"{band_index}:{xxh3_64 hex of the
   band's bytes}"``. Two articles become LSH candidates when they share a band
   key, which happens with probability about ``1 - (1 - J**rows)**bands``.

A signature is ``num_perm`` little-endian uint32 slots. A text with fewer than
``min_shingles`` shingles gets ``b""`` (no near check; exact dedup still
applies): one changed word alters up to ``shingle_size`` of its shingles, so
on a text of 20 shingles a single edit already costs 0.26 of Jaccard and
two edits bring a true copy down to the threshold, while unrelated one-line
briefs on the same wire template start to collide.

The defaults of :class:`MinHashParams` come from the measurements printed by
``python -m bench.neardup_sweep`` on the labelled set in ``evaluation/neardup``.
Changing any parameter (or the seed) makes new signatures incomparable with
the ones already stored: roll it out with a new dedup namespace.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xxhash

from .fingerprint import comparison_text

__all__ = [
    "DEFAULT_PARAMS",
    "MinHashParams",
    "bands",
    "estimate_similarity",
    "min_equal_slots",
    "shingle_hashes",
    "signature",
    "signatures",
    "text_signature",
    "text_signatures",
    "tokens",
]

_SEED = 0x6E657773666C6F77  # b"newsflow"


@dataclass(frozen=True)
class MinHashParams:
    """Signature shape and decision threshold (every replica must use the same).

    Defaults measured on ``evaluation/neardup`` (``python -m bench.neardup_sweep``):
    precision and recall 1.0 over 8 independent hash seeds for every
    threshold from 0.35 to 0.5 with 3-token shingles and 128 slots; recall
    falls from 0.55 on (0.99, 0.94 at 0.6). 24 bands of 3 rows find a pair
    at Jaccard 0.45 / 0.5 / 0.57 (the weakest copies) with probability
    0.90 / 0.96 / 0.99 while needing 24 Redis keys per article (32 x 4: 0.74
    / 0.87 / 0.97 with 32 keys). The threshold 0.45 sits where the bands
    still find 90 % of pairs, 2.7 standard deviations of the estimate below
    the weakest copies and far above the closest different story (0.19).

    ``threshold`` is the estimated Jaccard similarity (share of equal slots)
    at or above which an LSH candidate is a near duplicate. Only the first
    ``bands * rows`` slots take part in LSH; all ``num_perm`` slots take part
    in the similarity estimate.
    """

    num_perm: int = 128
    shingle_size: int = 3
    bands: int = 24
    rows: int = 3
    threshold: float = 0.45
    min_shingles: int = 20
    seed: int = _SEED

    def __post_init__(self) -> None:
        if not 8 <= self.num_perm <= 1024:
            raise ValueError("num_perm must be in 8..1024")
        if not 1 <= self.shingle_size <= 16:
            raise ValueError("shingle_size must be in 1..16")
        if self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.num_perm:
            raise ValueError("need bands >= 1, rows >= 1 and bands * rows <= num_perm")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        if self.min_shingles < 1:
            raise ValueError("min_shingles must be >= 1")
        if not 0 <= self.seed < 2**64:
            raise ValueError("seed must be an unsigned 64-bit integer")


DEFAULT_PARAMS = MinHashParams()

# --------------------------------------------------------------------------- text -> tokens


class _TokenChars(dict[int, str]):
    """``str.translate`` table filled on demand: word characters kept, wide characters isolated, others a space."""

    _LIMIT = 1 << 16  # distinct characters remembered; bounds memory against hostile input

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if ch.isalnum() or ch == "_" or unicodedata.category(ch).startswith("M"):
            out = f" {ch} " if code > 0x7F and unicodedata.east_asian_width(ch) in ("W", "F") else ch
        else:
            out = " "
        if len(self) < self._LIMIT:
            self[code] = out
        return out


_TOKEN_CHARS = _TokenChars()


def tokens(text: str) -> list[str]:
    """Return the tokens of ``text`` in order (see the module docstring, step 2)."""
    return text.translate(_TOKEN_CHARS).split()


# --------------------------------------------------------------------------- tokens -> shingle hashes

_U32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)


def _fmix64(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser, in place (uint64 arithmetic wraps on purpose)."""
    s = np.uint64(33)
    x ^= x >> s
    x *= np.uint64(0xFF51AFD7ED558CCD)
    x ^= x >> s
    x *= np.uint64(0xC4CEB9FE1A85EC53)
    x ^= x >> s
    return x


def _mix_shingles(t: np.ndarray, k: int, seed: int) -> np.ndarray:
    """``seed ^ t[i] ^ rotl(t[i+1], 21) ^ ...`` for every ``i`` with ``k`` tokens from it (before ``fmix64``)."""
    n = len(t) - k + 1
    s = t[:n] ^ np.uint64(seed)
    for m in range(1, k):
        r = (21 * m) % 64
        part = t[m : m + n]
        s ^= (part << np.uint64(r)) | (part >> np.uint64(64 - r)) if r else part
    return s


def shingle_hashes(toks: Sequence[str], k: int, seed: int = _SEED) -> np.ndarray:
    """Return the 64-bit hashes (uint64) of every ``k``-token shingle of ``toks``, in order.

    Empty when there are fewer than ``k`` tokens. The same shingle always
    hashes the same under the same seed.
    """
    if len(toks) - k + 1 <= 0:
        return np.empty(0, dtype=np.uint64)
    t = np.fromiter(map(xxhash.xxh3_64_intdigest, map(str.encode, toks)), dtype=np.uint64, count=len(toks))
    return _fmix64(_mix_shingles(t, k, seed))


# --------------------------------------------------------------------------- many tokens at once

# XXH3-64 (xxHash >= 0.8, a frozen format) with seed 0 and the default secret, whose first 56 bytes are
# all that inputs of 1 to 16 bytes use; the constants below are the spec's (XXH3_len_1to3_64b,
# XXH3_len_4to8_64b, XXH3_len_9to16_64b, XXH64_avalanche, XXH3_avalanche, XXH3_rrmxmx).
_XXH3_SECRET = bytes.fromhex(
    "b8fe6c3923a44bbe7c01812cf721ad1cded46de9839097db7240a4a4b7b3671fcb79e64eccc0e578825ad07dccff7221b8084674f743248e"
)


def _secret_word(offset: int, size: int) -> int:
    return int.from_bytes(_XXH3_SECRET[offset : offset + size], "little")


_BITFLIP_1TO3 = np.uint64(_secret_word(0, 4) ^ _secret_word(4, 4))
_BITFLIP_4TO8 = np.uint64(_secret_word(8, 8) ^ _secret_word(16, 8))
_BITFLIP_9TO16 = (
    np.uint64(_secret_word(24, 8) ^ _secret_word(32, 8)),
    np.uint64(_secret_word(40, 8) ^ _secret_word(48, 8)),
)
_PRIME64_2, _PRIME64_3 = np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9)
_PRIME_MX1, _PRIME_MX2 = np.uint64(0x165667919E3779F9), np.uint64(0x9FB21C651E98DF25)
_SHIFT = [np.uint64(n) for n in range(64)]


def _mul128_fold64(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Low 64 bits XOR high 64 bits of the 128-bit products ``a * b`` (XXH3_mul128_fold64, portable form)."""
    s32, low = _SHIFT[32], _LOW32
    a_lo, a_hi, b_lo, b_hi = a & low, a >> s32, b & low, b >> s32
    lo_lo, hi_lo, lo_hi = a_lo * b_lo, a_hi * b_lo, a_lo * b_hi
    cross = (lo_lo >> s32) + (hi_lo & low) + lo_hi
    upper = (hi_lo >> s32) + (cross >> s32) + a_hi * b_hi
    folded: np.ndarray = ((cross << s32) | (lo_lo & low)) ^ upper
    return folded


def _xxh3_64_spans(buf: bytes, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``xxhash.xxh3_64_intdigest(buf[s : s + n])`` for every span (``n >= 1``), as uint64.

    Spans of 1 to 16 bytes (nearly every word) are hashed with numpy, all at
    once, following the spec's short-input paths; longer ones by the xxhash
    library, one by one. The results are the library's, bit for bit.
    """
    sh = _SHIFT
    padded = buf + bytes(8)
    byte = np.frombuffer(padded, dtype=np.uint8)
    # the little-endian uint64 that starts at every byte offset (an unaligned view, nothing copied)
    word = np.ndarray(shape=(len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
    n = lengths.astype(np.uint64)
    out = np.empty(len(starts), dtype=np.uint64)
    idx = np.flatnonzero(lengths <= 3)  # XXH3_len_1to3_64b
    if idx.size:
        s, m = starts[idx], lengths[idx]
        h = (byte[s].astype(np.uint64) << sh[16]) | (byte[s + (m >> 1)].astype(np.uint64) << sh[24])
        h |= byte[s + m - 1].astype(np.uint64) | (n[idx] << sh[8])
        h ^= _BITFLIP_1TO3
        h ^= h >> sh[33]  # XXH64_avalanche
        h *= _PRIME64_2
        h ^= h >> sh[29]
        h *= _PRIME64_3
        h ^= h >> sh[32]
        out[idx] = h
    idx = np.flatnonzero((lengths >= 4) & (lengths <= 8))  # XXH3_len_4to8_64b
    if idx.size:
        s, m = starts[idx], lengths[idx]
        h = (word[s + m - 4] & _LOW32) + (word[s] << sh[32])
        h ^= _BITFLIP_4TO8
        h ^= ((h << sh[49]) | (h >> sh[15])) ^ ((h << sh[24]) | (h >> sh[40]))  # XXH3_rrmxmx
        h *= _PRIME_MX2
        h ^= (h >> sh[35]) + n[idx]
        h *= _PRIME_MX2
        h ^= h >> sh[28]
        out[idx] = h
    idx = np.flatnonzero((lengths >= 9) & (lengths <= 16))  # XXH3_len_9to16_64b
    if idx.size:
        s, m = starts[idx], lengths[idx]
        lo = word[s] ^ _BITFLIP_9TO16[0]
        hi = word[s + m - 8] ^ _BITFLIP_9TO16[1]
        h = n[idx] + lo.byteswap() + hi + _mul128_fold64(lo, hi)
        h ^= h >> sh[37]  # XXH3_avalanche
        h *= _PRIME_MX1
        h ^= h >> sh[32]
        out[idx] = h
    for i in np.flatnonzero(lengths > 16).tolist():
        out[i] = xxhash.xxh3_64_intdigest(buf[starts[i] : starts[i] + lengths[i]])
    return out


def _batch_token_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The token hashes of all ``texts`` one after the other (uint64), and each text's token count.

    The same as :func:`tokens` then ``xxh3_64`` of each token's UTF-8 bytes.
    """
    # a translated text has no whitespace but " ", and UTF-8 never uses byte 0x20 inside a character: the
    # tokens are the runs of other bytes of the encoded texts, joined by spaces here
    encoded = [text.translate(_TOKEN_CHARS).encode("utf-8") for text in texts]
    buf = b" " + b" ".join(encoded) + b" "
    in_token = np.frombuffer(buf, dtype=np.uint8) != 0x20
    edges = np.flatnonzero(in_token[1:] != in_token[:-1]) + 1  # alternately a token's start and its end
    starts, ends = edges[0::2], edges[1::2]
    text_ends = np.cumsum([len(e) + 1 for e in encoded])  # where each text's closing space sits in buf
    counts = np.diff(np.searchsorted(starts, text_ends), prepend=0)
    return _xxh3_64_spans(buf, starts, ends - starts), counts


# --------------------------------------------------------------------------- shingle hashes -> signature


@lru_cache(maxsize=8)
def _probe_table(num_perm: int, seed: int) -> np.ndarray:
    """Row ``i``: the fixed pseudo-random order in which an empty slot ``i`` looks for a filled one."""
    keys = _fmix64(np.arange(num_perm * num_perm, dtype=np.uint64) ^ np.uint64(seed ^ 0x5DEECE66D))
    table = np.argsort(keys.reshape(num_perm, num_perm), axis=1, kind="stable").astype(np.intp)
    table.flags.writeable = False
    return table


def _one_permutation_minhash(h: np.ndarray, rows: np.ndarray, n_rows: int, num_perm: int, seed: int) -> np.ndarray:
    """The signatures (``n_rows`` x ``num_perm`` uint32) of shingle hashes ``h``, ``rows`` naming each one's text.

    Every row must have at least one shingle.
    """
    slots = (((h >> _U32) * np.uint64(num_perm)) >> _U32).astype(np.intp)  # top 32 bits -> slot (fastrange)
    cells = rows * num_perm + slots
    sig = np.full(n_rows * num_perm, 0xFFFFFFFF, dtype=np.uint32)
    np.minimum.at(sig, cells, (h & _LOW32).astype(np.uint32))
    filled = np.zeros(n_rows * num_perm, dtype=bool)
    filled[cells] = True
    empty = np.flatnonzero(~filled)
    if empty.size:
        slot = empty % num_perm
        probes = _probe_table(num_perm, seed)[slot] + (empty - slot)[:, None]  # the probes within the same row
        sig[empty] = sig[probes[np.arange(empty.size), np.argmax(filled[probes], axis=1)]]
    return sig.reshape(n_rows, num_perm)


_BATCH_TEXTS = 100  # the working arrays of 100 news articles stay in the CPU cache: 2x faster than 500


def text_signatures(texts: Sequence[str], params: MinHashParams = DEFAULT_PARAMS) -> list[bytes]:
    """Return :func:`text_signature` of each already-built comparison text, in order.

    The numpy work runs for :data:`_BATCH_TEXTS` texts at a time instead of
    once per text (about 4x cheaper per news article); the bytes are the same.
    """
    out: list[bytes] = []
    for i in range(0, len(texts), _BATCH_TEXTS):
        out += _batch_signatures(texts[i : i + _BATCH_TEXTS], params)
    return out


def _batch_signatures(texts: Sequence[str], params: MinHashParams) -> list[bytes]:
    """:func:`text_signatures` of one batch: every step runs once over the tokens of all the texts."""
    k, num_perm = params.shingle_size, params.num_perm
    out = [b""] * len(texts)
    t, counts = _batch_token_hashes(texts)
    ok = counts - k + 1 >= params.min_shingles
    signed = np.flatnonzero(ok)
    if not signed.size:
        return out
    t = t[np.repeat(ok, counts)]  # the tokens of the texts that get a signature
    row = np.repeat(np.arange(signed.size), counts[signed])
    whole = row[: len(row) - k + 1] == row[k - 1 :]  # the shingles inside one text, not across two
    h = _fmix64(_mix_shingles(t, k, params.seed)[whole])
    sigs = _one_permutation_minhash(h, row[: len(row) - k + 1][whole], signed.size, num_perm, params.seed)
    data, width = sigs.astype("<u4", copy=False).tobytes(), 4 * num_perm
    for r, i in enumerate(signed.tolist()):
        out[i] = data[r * width : (r + 1) * width]
    return out


def text_signature(text: str, params: MinHashParams = DEFAULT_PARAMS) -> bytes:
    """Return the MinHash signature of an already-built comparison text.

    ``num_perm`` little-endian uint32 slots, or ``b""`` when the text has
    fewer than ``params.min_shingles`` shingles.
    """
    return text_signatures([text], params)[0]


def signature(title: str, body: str, params: MinHashParams = DEFAULT_PARAMS) -> bytes:
    """Return the MinHash signature of an article's comparison text (see :func:`text_signature`).

    A caller that already holds ``comparison_text(title, body)`` (for the
    content hash) saves its cost by calling :func:`text_signature` on it.
    """
    return text_signature(comparison_text(title, body), params)


def signatures(articles: Iterable[tuple[str, str]], params: MinHashParams = DEFAULT_PARAMS) -> list[bytes]:
    """Return :func:`signature` for each ``(title, body)``, in order, in one batch (:func:`text_signatures`)."""
    return text_signatures([comparison_text(title, body) for title, body in articles], params)


def bands(sig: bytes, params: MinHashParams = DEFAULT_PARAMS) -> tuple[str, ...]:
    """Return the LSH band keys of a signature: ``("0:<16 hex>", "1:<16 hex>", ...)``.

    Empty for an empty signature (no near check). Raises ``ValueError`` when
    the signature's length does not match ``params.num_perm``.
    """
    if not sig:
        return ()
    if len(sig) != 4 * params.num_perm:
        raise ValueError(f"signature has {len(sig) / 4:g} slots, params expect {params.num_perm}")
    width = 4 * params.rows
    h = xxhash.xxh3_64_hexdigest
    return tuple(f"{i}:{h(sig[i * width : (i + 1) * width])}" for i in range(params.bands))


def estimate_similarity(a: bytes, b: bytes) -> float:
    """Return the share of equal slots of two signatures (the Jaccard estimate).

    0.0 when either is empty or their lengths differ: the rule the dedup
    stores apply.
    """
    if not a or len(a) != len(b) or len(a) % 4:
        return 0.0
    va, vb = np.frombuffer(a, dtype="<u4"), np.frombuffer(b, dtype="<u4")
    return float(np.count_nonzero(va == vb)) / va.size


def min_equal_slots(params: MinHashParams = DEFAULT_PARAMS) -> int:
    """Return the ``NearParams.min_equal_slots`` matching ``params.threshold``.

    The smallest count of equal slots whose share of ``num_perm`` is at least
    the threshold (0.5 of 128 slots is 64, not 65, despite float rounding).
    """
    return max(1, math.ceil(params.threshold * params.num_perm - 1e-9))
