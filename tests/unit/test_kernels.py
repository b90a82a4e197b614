"""reference.kernels and reference.distances against the slides' worked examples and sklearn."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics.pairwise import (
    linear_kernel,
    polynomial_kernel,
    rbf_kernel,
)

from reference import distances, kernels
from reference.kernels import KERNELS, kernel_diag
from tests.conftest import WORKED_EXAMPLES

EXAMPLES = WORKED_EXAMPLES


@pytest.fixture(scope="module")
def worked() -> dict:
    return json.loads(EXAMPLES.read_text())


def test_distances_worked_example(worked):
    d = worked["distances"]
    x, y = [d["x"]], [d["y"]]
    assert distances.euclidean(x, y)[0, 0] == pytest.approx(d["euclidean"], abs=1e-12)
    assert distances.manhattan(x, y)[0, 0] == d["manhattan"]
    assert distances.minkowski(x, y, p=2)[0, 0] == pytest.approx(d["euclidean"])
    assert distances.minkowski(x, y, p=1)[0, 0] == pytest.approx(d["manhattan"])
    h = d["hamming"]
    assert distances.hamming([h["x"]], [h["y"]])[0, 0] == h["value"]


def test_minkowski_below_one_breaks_triangle_inequality(worked):
    m = worked["distances"]["minkowski_p_below_1_breaks_triangle_inequality"]
    D = distances.minkowski([m["x"], m["y"], m["z"]], p=m["p"])
    assert D[0, 1] == pytest.approx(m["d_xy"])
    assert D[0, 2] == pytest.approx(m["d_xz"])
    assert D[2, 1] == pytest.approx(m["d_zy"])
    assert D[0, 1] > D[0, 2] + D[2, 1]


def _levenshtein_oracle(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def test_levenshtein_matches_dynamic_programme():
    assert distances.levenshtein(["kitten"], ["sitting"])[0, 0] == 3
    rng = np.random.default_rng(1)
    words = ["".join(rng.choice(list("ACGT"), size=rng.integers(0, 9))) for _ in range(25)]
    D = distances.levenshtein(words, words[:10])
    want = np.array([[_levenshtein_oracle(a, b) for b in words[:10]] for a in words])
    np.testing.assert_array_equal(D, want)
    # One string per row of a 2-D array (how a text column arrives) gives the same matrix.
    column = np.array(words, dtype=object)[:, None]
    np.testing.assert_array_equal(distances.levenshtein(column, column[:10]), D)


def test_kernels_worked_example(worked):
    k = worked["kernels"]
    x, z = [k["x"]], [k["z"]]
    assert kernels.linear(x, z)[0, 0] == k["linear"]
    assert kernels.polynomial(x, z, degree=2, c=1)[0, 0] == k["polynomial_c1_d2"]
    assert kernels.rbf(x, z, sigma=1.0)[0, 0] == pytest.approx(k["rbf_sigma_1"]["value"], rel=1e-12)
    assert kernels.intersection(x, z)[0, 0] == k["intersection"]
    assert kernels.hellinger(x, z)[0, 0] == pytest.approx(k["hellinger"], rel=1e-12)


def test_gram_matrices_worked_example(worked):
    g = worked["gram_matrices"]
    np.testing.assert_array_equal(kernels.linear(g["X"]), g["K_X"])
    np.testing.assert_array_equal(kernels.linear(g["Y"], g["X"]), g["K_Y"])


def test_normalize_matches_slide_formula(worked):
    K = np.asarray(worked["gram_matrices"]["K_X"], dtype=float)
    got = kernels.normalize(K)
    d = np.sqrt(np.diag(K))
    np.testing.assert_allclose(got, K / np.outer(d, d))
    np.testing.assert_allclose(np.diag(got), 1.0)
    # Normalising the Gram matrix is the linear kernel of L2-normalised rows (primal form).
    X = np.asarray(worked["gram_matrices"]["X"], dtype=float)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    np.testing.assert_allclose(got, Xn @ Xn.T)


def test_against_sklearn_and_sigma_to_gamma():
    rng = np.random.default_rng(0)
    X, Z = rng.random((7, 5)), rng.random((4, 5))
    np.testing.assert_allclose(kernels.linear(X, Z), linear_kernel(X, Z))
    np.testing.assert_allclose(
        kernels.polynomial(X, Z, degree=3, c=0.5),
        polynomial_kernel(X, Z, degree=3, gamma=1, coef0=0.5),
    )
    sigma = 0.7
    np.testing.assert_allclose(
        kernels.rbf(X, Z, sigma=sigma), rbf_kernel(X, Z, gamma=1 / (2 * sigma**2))
    )
    np.testing.assert_allclose(kernels.intersection(X, Z), np.minimum(X[:, None], Z[None]).sum(-1))
    np.testing.assert_allclose(kernels.hellinger(X, Z), np.sqrt(X[:, None] * Z[None]).sum(-1))


def _pq_oracle(x, y) -> float:
    P = Q = 0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            s = (x[i] - x[j]) * (y[i] - y[j])
            P += s > 0
            Q += s < 0
    return 2.0 * (P - Q)


def test_pq_kernel_counts_concordant_minus_discordant_pairs():
    rng = np.random.default_rng(2)
    X = rng.integers(0, 4, size=(6, 9)).astype(float)  # small ints: plenty of ties
    Z = rng.integers(0, 4, size=(3, 9)).astype(float)
    want = np.array([[_pq_oracle(a, b) for b in Z] for a in X])
    np.testing.assert_array_equal(kernels.pq(X, Z), want)
    # Same ranking → every pair concordant: 2 * m(m-1)/2.
    assert kernels.pq([[1, 2, 3, 4]], [[10, 20, 30, 40]])[0, 0] == 12
    assert kernels.pq([[1, 2, 3, 4]], [[4, 3, 2, 1]])[0, 0] == -12
    # A kernel: its Gram matrix is positive semi-definite.
    assert np.linalg.eigvalsh(kernels.pq(X)).min() > -1e-9


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_every_kernel_symmetric_psd_and_diag(name):
    rng = np.random.default_rng(5)
    X = rng.random((12, 6))
    K = KERNELS[name](X)
    assert K.shape == (12, 12)
    np.testing.assert_allclose(K, K.T, atol=1e-9)
    assert np.linalg.eigvalsh(K).min() > -1e-7 * max(1.0, np.abs(K).max())
    np.testing.assert_allclose(kernel_diag(name, X), np.diag(K), rtol=1e-12)
    np.testing.assert_allclose(KERNELS[name](X, None), K)


def test_nonnegative_kernels_reject_negative_input():
    with pytest.raises(ValueError, match="hellinger"):
        kernels.hellinger([[1.0, -1.0]])
    with pytest.raises(ValueError, match="intersection"):
        kernels.intersection([[1.0, 2.0]], [[-1.0, 0.0]])
    with pytest.raises(ValueError, match="sigma"):
        kernels.rbf([[1.0]], sigma=0)
    with pytest.raises(ValueError, match="square"):
        kernels.normalize(np.ones((2, 3)))
