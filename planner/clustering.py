"""Group candidate endings by meaning: exact normalised text, or sentence-embedding similarity.

Labels from ``cluster`` run 0..C-1 in order of first appearance. Texts whose normalised forms are
equal always share a cluster, and an empty ending (normalises to "": the unit ends at once) is a
meaning of its own, equal only to other empty endings.
"""

from __future__ import annotations

import logging
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from planner.encoder import EmbeddingModelUnavailable, encoders_lock, get_encoder

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.85
# Cosine at or above which two endings mean the same. Measured on this model: paraphrases score
# 0.88-0.99 (cat sat / cat was sitting on the mat 0.95), different claims on one topic 0.72-0.79
# (cat/dog 0.72, good/bad idea 0.79); loose paraphrases (0.80-0.85) stay apart, as splitting one
# meaning costs less than merging two. Negations and changed numbers score > 0.9 and merge anyway.


def normalise(text: str) -> str:
    """NFKC, casefold, collapse whitespace, strip leading/trailing punctuation and whitespace."""
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    start, end = 0, len(folded)
    while start < end and _is_edge(folded[start]):
        start += 1
    while end > start and _is_edge(folded[end - 1]):
        end -= 1
    return folded[start:end]


def _is_edge(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch).startswith("P")


def representatives(texts: Sequence[str], labels: Sequence[int]) -> list[str]:
    """Per cluster label, its most frequent member text (exact string); ties: first seen."""
    counts: list[dict[str, int]] = [{} for _ in range(max(labels, default=-1) + 1)]
    for text, label in zip(texts, labels, strict=True):
        counts[label][text] = counts[label].get(text, 0) + 1
    # dicts keep insertion order and max() returns the first maximum, hence "first seen" on ties
    return [max(c, key=c.__getitem__) for c in counts]


class Clusterer(Protocol):
    """What the planner needs from a clustering strategy."""

    mode: str

    def cluster(self, texts: Sequence[str]) -> list[int]:
        """Cluster label per text, numbered 0..C-1 in order of first appearance."""

    def same(self, a: str, b: str) -> bool:
        """Whether two texts count as the same meaning."""

    def match(self, text: str, candidates: Sequence[str]) -> int | None:
        """Index of the best candidate with the same meaning as ``text``, else None."""

    def distances(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        """Distance in meaning between every text of ``a`` and of ``b``, shape (len a, len b),
        in [0, sqrt 2]: 0 for the same normalised text, sqrt 2 for unrelated ones."""


ORTHOGONAL = float(np.sqrt(2.0))  # the distance of two unrelated unit vectors


def _discrete(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    ka, kb = [normalise(t) for t in a], [normalise(t) for t in b]
    return np.array([[0.0 if x == y else ORTHOGONAL for y in kb] for x in ka]).reshape(
        len(a), len(b)
    )


class TextClusterer:
    """Clusters by exact equality of ``normalise(text)``."""

    mode = "text"

    def cluster(self, texts: Sequence[str]) -> list[int]:
        """Cluster label per text, numbered 0..C-1 in order of first appearance."""
        ids: dict[str, int] = {}
        return [ids.setdefault(normalise(t), len(ids)) for t in texts]

    def same(self, a: str, b: str) -> bool:
        """Whether the normalised forms are equal."""
        return normalise(a) == normalise(b)

    def match(self, text: str, candidates: Sequence[str]) -> int | None:
        """Index of the first candidate with the same normalised form, else None."""
        key = normalise(text)
        return next((i for i, c in enumerate(candidates) if normalise(c) == key), None)

    def distances(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        """0 for equal normalised forms, else sqrt 2 (a one-hot embedding per meaning)."""
        return _discrete(a, b)


class EmbeddingClusterer:
    """Average-linkage clustering of all-MiniLM-L6-v2 sentence embeddings by cosine similarity."""

    mode = "embedding"

    def __init__(
        self, threshold: float = DEFAULT_THRESHOLD, *, model_dir: str | Path | None = None
    ):
        if not -1.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be a cosine similarity in [-1, 1], got {threshold}")
        self.threshold = threshold
        self._model_dir = Path(model_dir) if model_dir is not None else None

    def load(self) -> None:
        """Load the model now (it is otherwise loaded on first use); raises if it cannot."""
        get_encoder(self._model_dir)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings of the texts as written, one row per text."""
        return get_encoder(self._model_dir).embed(list(texts))

    def cluster(self, texts: Sequence[str]) -> list[int]:
        """Cluster label per text, numbered 0..C-1 in order of first appearance."""
        keys = [normalise(t) for t in texts]
        sizes = Counter(keys)
        group: dict[str, int] = {}  # normalised form -> index of its first text
        for i, k in enumerate(keys):
            group.setdefault(k, i)
        root = dict(group)  # normalised form -> first text of its final cluster
        firsts = [i for k, i in group.items() if k]  # empty endings never merge with text
        if len(firsts) > 1:
            vectors = self.embed([_surface(texts[i]) for i in firsts])
            weights = np.array([sizes[keys[i]] for i in firsts], dtype=np.float64)
            merged = _average_linkage(vectors @ vectors.T, weights, self.threshold)
            root.update((keys[i], firsts[m]) for i, m in zip(firsts, merged, strict=True))
        ids: dict[int, int] = {}
        return [ids.setdefault(root[k], len(ids)) for k in keys]

    def same(self, a: str, b: str) -> bool:
        """Equal normalised forms, or both non-empty with cosine similarity >= threshold."""
        na, nb = normalise(a), normalise(b)
        if na == nb or not na or not nb:
            return na == nb
        va, vb = self.embed([_surface(a), _surface(b)])
        return float(va @ vb) >= self.threshold

    def match(self, text: str, candidates: Sequence[str]) -> int | None:
        """An exact normalised match first; else the most similar candidate if >= threshold."""
        key = normalise(text)
        keys = [normalise(c) for c in candidates]
        if key in keys:
            return keys.index(key)
        usable = [i for i, k in enumerate(keys) if k]
        if not key or not usable:
            return None
        vectors = self.embed([_surface(text)] + [_surface(candidates[i]) for i in usable])
        sims = vectors[1:] @ vectors[0]
        best = int(np.argmax(sims))  # first candidate on ties
        return usable[best] if float(sims[best]) >= self.threshold else None

    def distances(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        """Euclidean distance of the unit embeddings (sqrt(2 - 2 cos)); an empty ending is
        at 0 from other empty ones and sqrt 2 from any text, as in ``cluster``."""
        out = _discrete(a, b)
        ia = [i for i, t in enumerate(a) if normalise(t)]
        ib = [j for j, t in enumerate(b) if normalise(t)]
        if ia and ib:
            va = self.embed([_surface(a[i]) for i in ia]).astype(np.float64)
            vb = self.embed([_surface(b[j]) for j in ib]).astype(np.float64)
            d = np.sqrt(np.clip(2.0 - 2.0 * (va @ vb.T), 0.0, None))
            exact = out[np.ix_(ia, ib)] == 0.0  # equal normalised forms: exactly 0
            out[np.ix_(ia, ib)] = np.where(exact, 0.0, d)
        return out


def _surface(text: str) -> str:
    # Embed the text with its punctuation: stripping "?" lifts "Is it raining?" vs "It is
    # raining." from 0.82 to 0.87 cosine, across the default threshold.
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _average_linkage(sim: np.ndarray, weights: np.ndarray, threshold: float) -> list[int]:
    """Merge the most similar pair while its weighted mean pairwise similarity >= threshold.

    Returns, per item, the index of the first item of its cluster. Weights are rollout counts,
    so an ending sampled often pulls its cluster's mean more than a one-off; ties merge the
    lowest indices first, so the result is deterministic.
    """
    n = len(weights)
    if n < 2:
        return list(range(n))
    sim = np.array(sim, dtype=np.float64)
    np.fill_diagonal(sim, -np.inf)
    w = weights.astype(np.float64)
    label = np.arange(n)
    while True:
        i, j = divmod(int(np.argmax(sim)), n)  # row-major first max of a symmetric matrix: i < j
        if sim[i, j] < threshold:
            return [int(x) for x in label]
        # Lance-Williams update for (weighted) average linkage; j's row/column leave the game
        sim[i, :] = sim[:, i] = (w[i] * sim[i] + w[j] * sim[j]) / (w[i] + w[j])
        sim[j, :] = sim[:, j] = sim[i, i] = -np.inf
        w[i] += w[j]
        label[label == j] = i


_fallback_warned = False


def make_clusterer(
    mode: Literal["embedding", "text"],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    model_dir: str | Path | None = None,
) -> Clusterer:
    """A clusterer for ``mode``; "embedding" loads the model now and falls back to text if it fails.

    The fallback is logged as one warning per process, since callers may build a clusterer per
    request; check ``.mode`` on the result to see which one you got.
    """
    global _fallback_warned
    if mode == "text":
        return TextClusterer()
    if mode != "embedding":
        raise ValueError(f"unknown clustering mode {mode!r}; expected 'embedding' or 'text'")
    clusterer = EmbeddingClusterer(threshold, model_dir=model_dir)
    try:
        clusterer.load()
    except EmbeddingModelUnavailable as exc:
        with encoders_lock:
            warn, _fallback_warned = not _fallback_warned, True
        if warn:
            log.warning("embedding clustering unavailable, using exact text clustering: %s", exc)
        return TextClusterer()
    return clusterer
