"""Common nouns of a language, from a word list shipped in ``services/enrich/data``.

German writes every noun with a capital, and NER trained on little data reads many of them as names
("Kuchen", "Plastik", "Saison"). ``common_nouns_de.txt.gz`` holds every declined form of the nouns the
German Wiktionary never gives as a name (built by ``scripts/common_nouns_de.py`` from german-nouns 1.2.5,
CC BY-SA 4.0). About 255,000 forms: held as one sorted blob and found by binary search (about 4 MB),
where a set of them would take some 25 MB of every worker that reads German.
"""

from __future__ import annotations

import functools
import gzip
from array import array
from collections.abc import Iterable
from pathlib import Path

__all__ = ["SortedWords", "common_nouns"]

_DATA = Path(__file__).resolve().parent.parent / "data"
_LISTS = {"de": "common_nouns_de.txt.gz"}


class SortedWords:
    """Membership in a sorted list of distinct words, kept as the UTF-8 lines of one blob and where each
    line starts: no object per word."""

    def __init__(self, lines: bytes) -> None:
        """``lines``: the words, sorted (as their UTF-8 bytes, which is code point order) and distinct, one
        per line; a ValueError otherwise."""
        self._blob = lines if lines.endswith(b"\n") or not lines else lines + b"\n"
        self._starts = array("I", [0])
        find, at = self._blob.find, 0
        while (nl := find(b"\n", at)) >= 0:
            at = nl + 1
            self._starts.append(at)
        previous = b""
        for i in range(len(self)):
            word = self._word(i)
            if not word or word <= previous:
                raise ValueError(f"SortedWords: line {i + 1} is empty, out of order or repeated")
            previous = word

    @classmethod
    def of(cls, words: Iterable[str]) -> SortedWords:
        return cls("".join(f"{w}\n" for w in words).encode("utf-8"))

    def __len__(self) -> int:
        return len(self._starts) - 1

    def _word(self, i: int) -> bytes:
        return self._blob[self._starts[i] : self._starts[i + 1] - 1]

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str) or not word or "\n" in word:
            return False
        key = word.encode("utf-8")
        blob, starts = self._blob, self._starts
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            found = blob[starts[mid] : starts[mid + 1] - 1]
            if found == key:
                return True
            if found < key:
                lo = mid + 1
            else:
                hi = mid
        return False


@functools.cache
def common_nouns(lang: str) -> SortedWords | None:
    """The common nouns of ``lang`` (every form, as written), or None where the project ships no list."""
    name = _LISTS.get(lang)
    if name is None:
        return None
    data = gzip.decompress((_DATA / name).read_bytes())
    while data.startswith(b"#"):  # the header: source and licence
        data = data[data.index(b"\n") + 1 :]
    return SortedWords(data)
