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
import math

__all__ = ["RARE_ZIPF", "rarity", "rarity_table"]

RARE_ZIPF = 6.3  # zipf of a word an article of ~500 words holds about once: log10(1e9 / 500)
UNLISTED_ZIPF = 2.5  # a word not on the list (seen less than once per million words)


@functools.cache
def rarity_table(lang: str) -> dict[str, float] | None:
    """Word (lowercase, as wordfreq spells it) -> its rarity in ``lang``; None without a list for it."""
    import wordfreq  # imported on first use: a worker that never signs a text does not load it

    if lang not in wordfreq.available_languages("small"):
        return None
    table = wordfreq.get_frequency_dict(lang, wordlist="small")
    return {w: max(0.0, RARE_ZIPF - (math.log10(f) + 9.0)) for w, f in table.items()}


def rarity(table: dict[str, float], word: str) -> float:
    """The rarity of ``word`` (lowercase) in ``table``; a word not on the list is rarer than any on it."""
    found = table.get(word)
    return RARE_ZIPF - UNLISTED_ZIPF if found is None else found
