"""similarity.string_kernels against the slides' worked example and a dict-of-counts oracle."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from similarity.string_kernels import char_ngram_matrix, ngram_lengths, string_kernel_matrix
from tests.conftest import WORKED_EXAMPLES

EXAMPLES = WORKED_EXAMPLES


@pytest.fixture(scope="module")
def worked() -> dict:
    return json.loads(EXAMPLES.read_text())["string_kernels"]


def _counts(s: str, n: int) -> Counter:
    return Counter(s[i : i + n] for i in range(len(s) - n + 1))


def _oracle(a: str, b: str, lengths, kind: str) -> float:
    total = 0.0
    for n in lengths:
        ca, cb = _counts(a, n), _counts(b, n)
        for g in ca.keys() & cb.keys():
            total += {"presence": 1, "spectrum": ca[g] * cb[g], "intersection": min(ca[g], cb[g])}[
                kind
            ]
    return total


@pytest.mark.parametrize(
    "kind,key",
    [("presence", "presence_bits"), ("spectrum", "spectrum"), ("intersection", "intersection")],
)
def test_worked_example(worked, kind, key):
    K = string_kernel_matrix(
        [worked["s"]], [worked["t"]], p=worked["p"], kind=kind, normalize=False
    )
    assert K.shape == (1, 1)
    assert K[0, 0] == worked[key]


def test_worked_example_counts(worked):
    for doc, key in ((worked["s"], "ngram_counts_s"), (worked["t"], "ngram_counts_t")):
        X, vocab = char_ngram_matrix([doc], p=worked["p"], kind="spectrum", return_vocabulary=True)
        got = {g: int(c) for g, c in zip(vocab, X.toarray()[0], strict=True) if c}
        assert got == worked[key]


def test_intersection_vocabulary_counts_occurrences(worked):
    X, vocab = char_ngram_matrix([worked["s"]], p=2, kind="intersection", return_vocabulary=True)
    assert ("pi", 1) in vocab and ("pi", 2) in vocab and ("pi", 3) not in vocab
    assert X.sum() == len(worked["s"]) - 1


@pytest.mark.parametrize("kind", ["presence", "spectrum", "intersection"])
@pytest.mark.parametrize("p", [1, 3, (2, 4), range(2, 6)])
def test_matches_dict_oracle_on_random_text(kind, p):
    rng = np.random.default_rng(7)
    alphabet = list("ab c\n\tăîșț∑é")  # small alphabet so n-grams repeat; non-ASCII too
    docs = ["".join(rng.choice(alphabet, size=rng.integers(0, 60))) for _ in range(12)]
    other = ["".join(rng.choice(alphabet, size=rng.integers(1, 40))) for _ in range(5)]
    lengths = ngram_lengths(p)
    K = string_kernel_matrix(docs, other, p=p, kind=kind, normalize=False)
    want = np.array([[_oracle(a, b, lengths, kind) for b in other] for a in docs])
    np.testing.assert_array_equal(K, want)
    Ks = string_kernel_matrix(docs, p=p, kind=kind, normalize=False)
    want_s = np.array([[_oracle(a, b, lengths, kind) for b in docs] for a in docs])
    np.testing.assert_allclose(Ks, want_s, rtol=0, atol=1e-9)


def test_large_alphabet_long_ngrams_use_exact_fallback():
    # 2000 distinct characters and p=7 overflow a 62-bit base-|alphabet| code.
    rng = np.random.default_rng(0)
    chars = [chr(0x4E00 + i) for i in range(2000)]
    base = "".join(rng.choice(chars, size=200))
    docs = [base, base[50:] + base[:50], "".join(rng.choice(chars, size=200))]
    K = string_kernel_matrix(docs, p=7, kind="spectrum", normalize=False)
    want = np.array([[_oracle(a, b, [7], "spectrum") for b in docs] for a in docs])
    np.testing.assert_array_equal(K, want)


def test_normalized_is_cosine_of_self_kernels():
    docs = ["pineapple pi", "apple pie", "pie", "x"]
    raw = string_kernel_matrix(docs, p=2, kind="spectrum", normalize=False)
    norm = string_kernel_matrix(docs, p=2, kind="spectrum")
    d = np.diag(raw)
    expected = np.zeros_like(raw)
    ok = np.outer(d, d) > 0
    expected[ok] = raw[ok] / np.sqrt(np.outer(d, d)[ok])
    np.testing.assert_allclose(norm, expected)
    np.testing.assert_allclose(np.diag(norm)[:3], 1.0)
    assert norm[3, 3] == 0.0  # "x" has no 2-gram: similarity 0, not NaN
    assert (norm >= 0).all() and (norm <= 1 + 1e-12).all()
    np.testing.assert_array_equal(norm, norm.T)


def test_normalized_cross_matrix_uses_each_side_self_kernel():
    a, b = ["pineapple pi", "apple"], ["apple pie"]
    cross = string_kernel_matrix(a, b, p=(2, 3), kind="intersection")
    full = string_kernel_matrix(a + b, p=(2, 3), kind="intersection")
    np.testing.assert_allclose(cross, full[:2, 2:])


def test_dense_and_sparse_paths_agree_on_many_documents():
    # > 512 documents sharing frequent n-grams exercise the dense BLAS block of _gram.
    rng = np.random.default_rng(3)
    words = ["def ", "self.", "return ", "x", "y", "    ", "(", ")", ":\n", "for i in "]
    docs = ["".join(rng.choice(words, size=30)) for _ in range(600)]
    K = string_kernel_matrix(docs[:600], docs[:7], p=3, kind="spectrum", normalize=False)
    want = np.array([[_oracle(a, b, [3], "spectrum") for b in docs[:7]] for a in docs[:20]])
    np.testing.assert_allclose(K[:20], want)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="kind"):
        string_kernel_matrix(["a"], kind="cosine")
    with pytest.raises(ValueError, match="p must"):
        string_kernel_matrix(["a"], p=0)
    with pytest.raises(TypeError, match="sequence of strings"):
        string_kernel_matrix("abc")
    with pytest.raises(TypeError, match=r"docs_b\[1\]"):
        string_kernel_matrix(["a"], ["b", 3])


def test_empty_inputs():
    assert string_kernel_matrix([], p=2).shape == (0, 0)
    assert string_kernel_matrix(["abc"], [], p=2).shape == (1, 0)
    assert char_ngram_matrix(["", "a"], p=3).shape[0] == 2
