"""How rare a word is in a language, from a static word-frequency list: the idf a stream can know.

A TF-IDF script counts document frequencies over the whole set it clusters; a stream never sees the
whole set. Instead, each word's frequency in the language at large comes from the ``wordfreq`` package
(3.1.1: code Apache-2.0, data CC BY-SA 4.0, from Wikipedia, subtitles, news, books and web text;
``docs/enrichment/stories.md``): its "small" list per language, words seen at least once per million
(about 30,000 words, loaded on first use of a language, a few MB each).

:func:`rarity` maps a word to ``max(0, RARE_ZIPF - zipf)``, ``zipf`` being ``log10`` of its
frequency per billion words: a word an article of ~500 words would contain about every time ("the",
"said") weighs 0, a word rarer than the list (a name, a place) weighs the most. A language the
package has no list for gets None: the caller weighs every word alike.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
from pathlib import Path

import msgpack

__all__ = ["RARE_ZIPF", "rarity", "rarity_table"]

RARE_ZIPF = 6.3  # zipf of a word an article of ~500 words holds about once: log10(1e9 / 500)
UNLISTED_ZIPF = 2.5  # a word not on the list (seen less than once per million words)


@functools.cache
def rarity_table(lang: str) -> dict[str, float] | None:
    """Word (lowercase, as wordfreq spells it) -> its rarity in ``lang``; None without a list for it.

    Read from the package's data file (``small_<lang>.msgpack.gz``: a header, then one list of words per
    centibel of frequency, the index being minus the centibels) without importing ``wordfreq`` itself,
    which would keep its own copy of every list it reads and pull in its text-repair dependencies.
    """
    path = _DATA / f"small_{lang}.msgpack.gz" if _DATA is not None else None
    if path is None or not path.is_file():
        return None
    with gzip.open(path, "rb") as f:
        data = msgpack.load(f, raw=False)
    header, buckets = data[0], data[1:]
    if not isinstance(header, dict) or header.get("format") != "cB" or header.get("version") != 1:
        raise ValueError(f"{path}: not a wordfreq cBpack file: {header!r}")
    table: dict[str, float] = {}
    for index, words in enumerate(buckets):
        weight = max(0.0, RARE_ZIPF - (9.0 - index / 100))  # zipf = log10(frequency) + 9; frequency = 10^(-index/100)
        for word in words:
            table[word] = weight
    return table


def rarity(table: dict[str, float], word: str) -> float:
    """The rarity of ``word`` (lowercase) in ``table``; a word not on the list is rarer than any on it."""
    found = table.get(word)
    return RARE_ZIPF - UNLISTED_ZIPF if found is None else found


def _data_dir() -> Path | None:
    spec = importlib.util.find_spec("wordfreq")
    locations = spec.submodule_search_locations if spec is not None else None
    return Path(next(iter(locations))) / "data" if locations else None


_DATA = _data_dir()
