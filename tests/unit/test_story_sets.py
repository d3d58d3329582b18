"""The story-grouping scores and the TF-IDF baseline: B-cubed, pairwise, SemEval groups, boilerplate pages."""

from __future__ import annotations

import pytest

from evaluation.story_baseline import tfidf_single_pass
from evaluation.story_sets import (
    GROUPS,
    EcbDoc,
    SemevalPair,
    bcubed,
    is_boilerplate,
    mixed_topics,
    pairwise,
    semeval_scores,
    stream_order,
)


def test_bcubed_of_a_perfect_clustering_is_one() -> None:
    s = bcubed(["a", "a", "b"], [7, 7, 9])
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)


def test_bcubed_of_one_cluster_for_two_events() -> None:
    # gold {1,2} {3}; predicted all together: precision per item 2/3, 2/3, 1/3; recall 1
    s = bcubed(["a", "a", "b"], [1, 1, 1])
    assert s.precision == pytest.approx(5 / 9)
    assert s.recall == 1.0


def test_bcubed_of_singletons() -> None:
    # gold {1,2,3,4}; each alone: precision 1, recall 1/4
    s = bcubed(["a"] * 4, [1, 2, 3, 4])
    assert (s.precision, s.recall) == (1.0, 0.25)
    assert s.f1 == pytest.approx(0.4)


def test_pairwise_counts_pairs() -> None:
    # gold pairs: (0,1) (0,2) (1,2); predicted pairs: (0,1) (2,3)
    s = pairwise(["a", "a", "a", "b"], [1, 1, 2, 2])
    assert s.precision == 0.5
    assert s.recall == pytest.approx(1 / 3)


def test_scores_refuse_lists_of_different_length() -> None:
    with pytest.raises(ValueError, match="length"):
        bcubed(["a"], [1, 2])
    with pytest.raises(ValueError, match="length"):
        pairwise(["a"], [1, 2])


def test_semeval_scores_by_group() -> None:
    pairs = [
        SemevalPair("1", 0, 1, "en", "en", 1.0),  # same story, joined
        SemevalPair("2", 2, 3, "de", "de", 1.5),  # same story, apart
        SemevalPair("3", 0, 2, "en", "de", 4.0),  # unrelated, apart
        SemevalPair("4", 4, 5, "es", "es", 3.5),  # unrelated, joined
        SemevalPair("5", 4, 0, "es", "en", 2.5),  # neither: not scored
    ]
    story = ["s1", "s1", "s2", "s3", "s4", "s4"]
    scores = semeval_scores(pairs, story)
    assert list(scores) == [*GROUPS, "all"]
    assert (scores["English"].same, scores["English"].same_joined) == (1, 1)
    assert scores["same language, not English"].recall == 0.0
    assert scores["same language, not English"].specificity == 0.0
    assert scores["cross-language"].specificity == 1.0
    assert (scores["all"].same, scores["all"].unrelated) == (2, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("No Cookies To use this website, cookies must be enabled in your browser.", True),
        ("Sign up to FREE email alerts Subscribe Thank you for subscribing See our privacy notice", True),
        ("We noticed you're blocking ads! Turn off your ad blocker.", True),
        ("Police arrested a man on Tuesday after a bus driver was attacked in Krosno.", False),
    ],
)
def test_boilerplate_pages(text: str, expected: bool) -> None:
    assert is_boilerplate(text) is expected


def test_stream_order_is_the_file_order_or_a_fixed_shuffle() -> None:
    assert stream_order(5, None) == [0, 1, 2, 3, 4]
    shuffled = stream_order(50, 0)
    assert sorted(shuffled) == list(range(50)) and shuffled != list(range(50))
    assert stream_order(50, 0) == shuffled


def test_tfidf_baseline_joins_rewrites_and_keeps_another_event_apart() -> None:
    texts = [
        "Earthquake of magnitude 7.5 strikes Noto peninsula in Japan, tsunami warning issued",
        "Tsunami warning after magnitude 7.5 earthquake strikes Japan's Noto peninsula",
        "Central bank cuts interest rates by a quarter point as inflation eases",
    ]
    clusters = tfidf_single_pass(texts, [0, 1, 2], threshold=0.3)
    assert clusters[0] == clusters[1] != clusters[2]
    assert tfidf_single_pass(texts, [0, 1, 2], threshold=0.99) == [0, 1, 2]


def test_mixed_topics_are_those_with_both_events_in_one_story() -> None:
    docs = [EcbDoc(str(i), topic, f"{topic}_{sub}", "text") for i, (topic, sub) in
            enumerate([(1, "ecb"), (1, "ecbplus"), (2, "ecb"), (2, "ecbplus"), (2, "ecb")])]  # fmt: skip
    assert mixed_topics(docs, ["a", "a", "b", "c", "b"]) == [1]
    assert mixed_topics(docs, ["a", "b", "c", "d", "c"]) == []
