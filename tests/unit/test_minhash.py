"""MinHash signatures and LSH bands: deterministic, Jaccard-faithful, cheap to compare."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import xxhash

from services.ingest.minhash import (
    DEFAULT_PARAMS,
    MinHashParams,
    bands,
    estimate_similarity,
    min_equal_slots,
    shingle_hashes,
    signature,
    signatures,
    text_signature,
    tokens,
)

ROOT = Path(__file__).resolve().parents[2]

# Pinned shape for the golden values: independent of later changes to the defaults.
PINNED = MinHashParams(num_perm=128, shingle_size=3, bands=24, rows=3, threshold=0.45, min_shingles=20)
TEXT = (
    "the european central bank kept interest rates at record highs on thursday but signalled it could start "
    "cutting borrowing costs as early as june if inflation keeps easing towards its 2% target, while the euro "
    "fell about half a percent against the dollar after the statement"
)
GOLDEN_SIG_XXH3 = "da1350ad6e543f0c"
GOLDEN_BANDS = ("0:9117bc9a164d6b51", "1:6464dbb5ef907d7e", "2:600074324dbd23cc")
GOLDEN_LAST_BAND = "23:293b77eb777a538f"

TITLE = "Measles cases surge in Europe, WHO urges catch-up vaccination"
BODY = (
    "Measles cases in Europe and Central Asia rose more than 30-fold last year, the World Health Organization said "
    "on Tuesday, urging countries to step up vaccination after a drop in routine immunisation during the COVID-19 "
    "pandemic left millions of children unprotected. The WHO's European region, which covers 53 countries, "
    "recorded 58,114 measles cases in 2023, compared with 941 in 2022, the agency said in a joint report with the "
    "U.N. children's fund UNICEF. Kazakhstan and Romania accounted for more than half of all cases. Romania "
    "declared a national measles epidemic in December, and at least 18 children have died there since the start "
    "of the outbreak. Measles is one of the most contagious diseases known and can cause severe complications, "
    "including pneumonia and brain swelling, particularly in young children."
)
OTHER_BODY = (
    "Pilots at the airline will strike for 24 hours on Friday, their union said on Wednesday, escalating a "
    "months-long dispute over pensions and forcing the carrier to cancel hundreds of flights at the height of the "
    "late summer travel season. The union said the walkout would affect all departures of passenger and cargo "
    "flights from its two hubs between midnight and midnight local time. The airline said it expected to cancel "
    "about 800 flights, affecting some 130,000 passengers, and called the strike disproportionate."
)


def test_signature_is_num_perm_little_endian_uint32_slots() -> None:
    sig = signature(TITLE, BODY)
    assert len(sig) == 4 * DEFAULT_PARAMS.num_perm
    assert np.frombuffer(sig, dtype="<u4").shape == (DEFAULT_PARAMS.num_perm,)


def test_same_text_gives_the_pinned_signature_and_band_keys() -> None:
    sig = text_signature(TEXT, PINNED)
    keys = bands(sig, PINNED)
    assert xxhash.xxh3_64_hexdigest(sig) == GOLDEN_SIG_XXH3
    assert keys[:3] == GOLDEN_BANDS
    assert keys[-1] == GOLDEN_LAST_BAND
    assert len(keys) == PINNED.bands


def test_signature_is_identical_in_other_processes_with_other_hash_seeds() -> None:
    code = (
        "import json, sys; from services.ingest.minhash import MinHashParams, bands, text_signature;"
        "p = MinHashParams(num_perm=128, shingle_size=3, bands=24, rows=3, threshold=0.45, min_shingles=20);"
        "print(json.dumps(bands(text_signature(sys.argv[1], p), p)))"
    )
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", code, TEXT], env=env, cwd=ROOT, capture_output=True, check=True)
        assert tuple(json.loads(out.stdout)) == bands(text_signature(TEXT, PINNED), PINNED)


def test_repeated_calls_give_the_same_signature() -> None:
    assert signature(TITLE, BODY) == signature(TITLE, BODY)
    assert signatures([(TITLE, BODY), (TITLE, OTHER_BODY)]) == [signature(TITLE, BODY), signature(TITLE, OTHER_BODY)]


def test_identical_text_has_similarity_one() -> None:
    assert estimate_similarity(signature(TITLE, BODY), signature(TITLE, BODY)) == 1.0


def test_quotes_case_punctuation_and_whitespace_do_not_change_the_signature() -> None:
    retyped = BODY.replace("'", "’").replace(", ", " ,  ").upper().replace(". ", ".\r\n\t")
    assert signature(TITLE, retyped) == signature(TITLE, BODY)


def test_unrelated_story_has_low_similarity() -> None:
    assert estimate_similarity(signature(TITLE, BODY), signature("Pilots to strike", OTHER_BODY)) < 0.1


def test_a_few_changed_words_keep_similarity_high() -> None:
    edited = BODY.replace("rose", "increased").replace("urging", "calling on").replace("severe", "serious")
    sim = estimate_similarity(signature(TITLE, BODY), signature(TITLE, edited))
    assert sim >= 0.7
    assert sim >= DEFAULT_PARAMS.threshold


def test_estimate_tracks_exact_jaccard() -> None:
    """Over many overlaps, equal-slot share ~ Jaccard of the shingle sets (binomial sd 0.044 at 128 slots)."""
    words = BODY.split()
    errors = []
    for cut in range(10, len(words) - 10, 5):
        a, b = " ".join(words[:cut] + words[-10:]), " ".join(words[cut - 10 :])
        sa, sb = (set(shingle_hashes(tokens(t.casefold()), 3).tolist()) for t in (a, b))
        exact = len(sa & sb) / len(sa | sb)
        errors.append(estimate_similarity(text_signature(a.casefold()), text_signature(b.casefold())) - exact)
    assert abs(float(np.mean(errors))) < 0.03
    assert float(np.sqrt(np.mean(np.square(errors)))) < 0.07


def test_short_text_has_no_signature() -> None:
    p = DEFAULT_PARAMS
    just_enough = " ".join(f"w{i}" for i in range(p.min_shingles + p.shingle_size - 1))
    too_short = " ".join(f"w{i}" for i in range(p.min_shingles + p.shingle_size - 2))
    assert text_signature(just_enough) != b""
    assert text_signature(too_short) == b""
    assert signature("Breaking", "Markets closed higher.") == b""
    assert bands(b"") == ()
    assert estimate_similarity(b"", b"") == 0.0


def test_tokens_split_on_punctuation_and_isolate_wide_scripts() -> None:
    assert tokens("U.S. stocks: 2-1 win, don't—stop") == ["U", "S", "stocks", "2", "1", "win", "don", "t", "stop"]
    assert tokens("東京で地震") == ["東", "京", "で", "地", "震"]
    assert tokens("हिन्दी समाचार") == ["हिन्दी", "समाचार"]  # combining vowel signs stay inside the word


def test_bands_are_keyed_by_index_and_reject_a_wrong_length() -> None:
    keys = bands(signature(TITLE, BODY))
    assert [k.split(":")[0] for k in keys] == [str(i) for i in range(DEFAULT_PARAMS.bands)]
    assert all(len(k.split(":")[1]) == 16 for k in keys)
    with pytest.raises(ValueError, match="slots"):
        bands(b"\x00" * 8)


def test_different_lengths_compare_as_zero() -> None:
    small = replace(DEFAULT_PARAMS, num_perm=64, bands=16, rows=4)
    assert estimate_similarity(signature(TITLE, BODY), signature(TITLE, BODY, small)) == 0.0


def test_min_equal_slots_matches_the_threshold() -> None:
    assert min_equal_slots(replace(DEFAULT_PARAMS, threshold=0.5)) == 64
    assert min_equal_slots(replace(DEFAULT_PARAMS, threshold=0.45)) == 58
    assert min_equal_slots(replace(DEFAULT_PARAMS, threshold=1.0)) == 128
    assert min_equal_slots(replace(DEFAULT_PARAMS, threshold=0.001)) == 1


def test_seed_changes_every_signature() -> None:
    other = replace(DEFAULT_PARAMS, seed=1)
    assert estimate_similarity(signature(TITLE, BODY), signature(TITLE, BODY, other)) < 0.1


@pytest.mark.parametrize(
    "kwargs",
    [{"bands": 50, "rows": 3}, {"threshold": 0.0}, {"num_perm": 4}, {"shingle_size": 0}, {"min_shingles": 0}],
)
def test_invalid_params_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        MinHashParams(**kwargs)  # type: ignore[arg-type]  # bad values on purpose: the constructor must refuse them


def test_numpy_xxh3_matches_the_xxhash_library_for_every_short_length() -> None:
    """The vectorised xxh3_64 used for tokens of 1-16 bytes equals xxhash's, byte for byte."""
    import random

    import numpy as np
    import xxhash

    from services.ingest.minhash import _xxh3_64_spans

    rnd = random.Random(3)
    words = [bytes(rnd.randrange(256) for _ in range(n)) for n in range(1, 41) for _ in range(25)]
    buf = b"".join(words)
    lengths = np.array([len(w) for w in words], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    got = _xxh3_64_spans(buf, starts, lengths)
    assert [int(x) for x in got] == [xxhash.xxh3_64_intdigest(w) for w in words]
