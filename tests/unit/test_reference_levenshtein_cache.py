"""Edit distances are computed once per pair of text sets: the model search predicts the same
validation texts for k = 1, 3 and 5, and each time recomputed the whole edit-distance matrix
(a text course's k-NN reference took 270 s, most of the batch). The results are the ones
computed afresh."""

from __future__ import annotations

import numpy as np

from reference import _neighbors
from reference._neighbors import KNNClassifier
from reference.distances import levenshtein


def test_the_search_computes_each_edit_distance_once(monkeypatch):
    rng = np.random.default_rng(0)
    words = "ball goal team tasty bread soup laptop screen cable".split()
    docs = np.array([[" ".join(rng.choice(words, 4))] for _ in range(60)], dtype=object)
    y = rng.integers(0, 3, 40)
    calls = []

    def counted(X, Z):
        calls.append((len(X), len(Z)))
        return levenshtein(X, Z)

    monkeypatch.setitem(_neighbors.DISTANCES, "levenshtein", counted)
    monkeypatch.setattr(_neighbors, "_STRING_DISTANCES", {})
    def knn(k):  # seeded: ties between equally near labels are broken at random
        return KNNClassifier(metric="levenshtein", n_neighbors=k, random_state=0)

    got = {k: knn(k).fit(docs[:40], y)
           .predict(docs[40:]) for k in (1, 3, 5)}
    assert calls == [(20, 40)]  # once, not once per k
    D = levenshtein(docs[40:], docs[:40])
    for k, pred in got.items():  # the same answers as from a fresh matrix
        fresh = knn(k).fit(docs[:40], y)
        monkeypatch.setattr(_neighbors, "_STRING_DISTANCES", {})
        assert (fresh.predict(docs[40:]) == pred).all()
    assert np.array_equal(_neighbors._STRING_DISTANCES[next(iter(_neighbors._STRING_DISTANCES))],
                          D)
