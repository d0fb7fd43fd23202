"""Clustering: normalisation, exact-text and embedding clusterers, representatives, fallback."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from planner import clustering
from planner.clustering import (
    EmbeddingClusterer,
    TextClusterer,
    make_clusterer,
    normalise,
    representatives,
)

PARAPHRASES = ["The cat sat on the mat.", "A cat was sitting on the mat."]
UNRELATED = "The stock market fell sharply today."


@pytest.fixture(scope="module")
def embedder() -> EmbeddingClusterer:
    """The real packaged model; the process-wide encoder cache makes this load once."""
    c = EmbeddingClusterer()
    c.load()
    return c


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Hello,   World!  ", "hello, world"),
        ('"Yes."', "yes"),
        ("ＦＵＬＬ\u3000width", "full width"),  # NFKC folds full-width letters and spaces
        ("Straße", "strasse"),  # casefold, not lower
        ("e.g. this", "e.g. this"),  # inner punctuation stays
        ("...", ""),
        ("", ""),
        ("$5", "$5"),  # currency is a symbol, not punctuation
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_text_clusterer_groups_variants_and_splits_paraphrases() -> None:
    texts = ["The cat sat.", "the  cat sat", *PARAPHRASES, "THE CAT SAT!", UNRELATED]
    assert TextClusterer().cluster(texts) == [0, 0, 1, 2, 0, 3]
    assert TextClusterer().cluster([]) == []


def test_text_clusterer_same_and_match() -> None:
    c = TextClusterer()
    assert c.same("Hello there.", "hello there")
    assert not c.same(*PARAPHRASES)
    assert c.match("hello THERE", ["Bye.", "Hello there!", "hello there"]) == 1
    assert c.match("Something else", ["Bye."]) is None
    assert c.match("", ["Bye.", "."]) == 1  # both normalise to the empty ending


def test_representatives_most_frequent_ties_first_seen() -> None:
    texts = ["b", "A", "a", "a", "B", "c"]
    labels = [0, 1, 1, 1, 0, 2]
    # cluster 0: "b" and "B" once each -> first seen "b"; cluster 1: "a" twice beats "A"
    assert representatives(texts, labels) == ["b", "a", "c"]
    assert representatives([], []) == []


def test_embedding_groups_paraphrases_and_splits_unrelated(embedder: EmbeddingClusterer) -> None:
    assert embedder.cluster([*PARAPHRASES, UNRELATED]) == [0, 0, 1]
    assert embedder.same(*PARAPHRASES)
    assert not embedder.same(PARAPHRASES[0], UNRELATED)


def test_embedding_variants_together_and_labels_by_first_appearance(
    embedder: EmbeddingClusterer,
) -> None:
    texts = [UNRELATED, "the cat sat on the mat", "THE CAT SAT ON THE MAT!", UNRELATED]
    assert embedder.cluster(texts) == [0, 1, 1, 0]
    assert embedder.cluster([]) == []
    assert embedder.cluster(["Only one."]) == [0]


def test_empty_ending_is_its_own_meaning(embedder: EmbeddingClusterer) -> None:
    assert embedder.cluster(["", "Yes.", ".", "", "yes"]) == [0, 1, 0, 0, 1]
    assert embedder.same("", "!")
    assert not embedder.same("", "Yes.")
    assert embedder.match("", ["Yes.", ""]) == 1
    assert embedder.match("", ["Yes."]) is None
    assert embedder.match("Yes.", [""]) is None


def test_embedding_match(embedder: EmbeddingClusterer) -> None:
    candidates = [UNRELATED, PARAPHRASES[0], "a cat was sitting on the mat"]
    # an exact normalised match wins over a merely similar earlier candidate
    assert embedder.match("A cat was sitting on the mat!", candidates) == 2
    assert embedder.match("A cat sat on the mat.", candidates[:2]) == 1
    assert embedder.match("I like turtles.", candidates) is None
    assert embedder.match("I like turtles.", []) is None


def test_threshold_is_configurable() -> None:
    loose = EmbeddingClusterer(threshold=-1.0)  # every pair of non-empty texts merges
    assert loose.cluster([PARAPHRASES[0], UNRELATED, ""]) == [0, 0, 1]
    strict = EmbeddingClusterer(threshold=1.0)
    assert strict.cluster(PARAPHRASES) == [0, 1]
    with pytest.raises(ValueError, match="threshold"):
        EmbeddingClusterer(threshold=1.5)


def test_embeddings_are_unit_cached_and_thread_safe(embedder: EmbeddingClusterer) -> None:
    texts = [*PARAPHRASES, UNRELATED, PARAPHRASES[0]]
    first = embedder.embed(texts)
    assert first.shape == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(first[0], first[3])
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: embedder.embed(texts), range(8)))
    for r in results:
        np.testing.assert_array_equal(r, first)


def test_average_linkage_does_not_chain() -> None:
    # A~B and B~C at 0.9 but A~C at 0.5: A and B merge (tie -> lowest indices), then C's mean
    # similarity to {A, B} is (0.5 + 0.9) / 2 = 0.7 < 0.85, so C stays apart.
    sim = np.array([[1.0, 0.9, 0.5], [0.9, 1.0, 0.9], [0.5, 0.9, 1.0]])
    assert clustering._average_linkage(sim, np.ones(3), 0.85) == [0, 0, 2]
    # Weights are rollout counts. A~B 0.9 merge first; then {A, B} vs C is the mean over rollout
    # pairs: equal weights (0.86 + 0.80) / 2 = 0.83 < 0.85 stays apart, but with A sampled 9
    # times (9 * 0.86 + 1 * 0.80) / 10 = 0.854 >= 0.85 merges.
    sim = np.array([[1.0, 0.9, 0.86], [0.9, 1.0, 0.80], [0.86, 0.80, 1.0]])
    assert clustering._average_linkage(sim, np.ones(3), 0.85) == [0, 0, 2]
    assert clustering._average_linkage(sim, np.array([9.0, 1.0, 1.0]), 0.85) == [0, 0, 0]


def test_make_clusterer_modes(embedder: EmbeddingClusterer) -> None:
    assert isinstance(make_clusterer("text"), TextClusterer)
    made = make_clusterer("embedding", threshold=0.9)
    assert isinstance(made, EmbeddingClusterer)
    assert made.mode == "embedding" and made.threshold == 0.9
    with pytest.raises(ValueError, match="unknown clustering mode"):
        make_clusterer("fuzzy")  # type: ignore[arg-type]


def test_make_clusterer_falls_back_with_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(clustering, "_fallback_warned", False)
    with caplog.at_level(logging.WARNING, logger="planner.clustering"):
        first = make_clusterer("embedding", model_dir=tmp_path)
        second = make_clusterer("embedding", model_dir=tmp_path)
    assert isinstance(first, TextClusterer) and isinstance(second, TextClusterer)
    assert first.mode == "text"
    assert len(caplog.records) == 1
    with pytest.raises(clustering.EmbeddingModelUnavailable):
        EmbeddingClusterer(model_dir=tmp_path).cluster(["a", "b"])
