"""Character p-gram string kernels: presence bits, spectrum and intersection.

One implementation shared by the text reference models (``reference.features.text``) and the
plagiarism engine. Documents become sparse p-gram rows (``char_ngram_matrix``) and the Gram
matrix is a sparse product of those rows (``string_kernel_matrix``), never a Python loop over
n-grams.

The three kernels of the slides, for p-gram count tables ``S`` and ``T`` of two strings:

- presence:      ``k(s, t) = sum_v [S(v) > 0] * [T(v) > 0]``
- spectrum:      ``k(s, t) = sum_v S(v) * T(v)``
- intersection:  ``k(s, t) = sum_v min(S(v), T(v))``

The intersection kernel is a presence kernel over *occurrences*: the t-th occurrence of a p-gram
``v`` in a document is its own feature ``(v, t)``, and ``min(a, b)`` is the number of occurrence
indices ``1..a`` and ``1..b`` have in common. So all three kernels are one sparse product.

P-grams are identified exactly (no hashing, so no collisions): characters are ranked within the
alphabet seen in the call, and a p-gram is the base-|alphabet| number of its ranks. Columns are
numbered within one call (by first appearance), so pass every document that must share a
vocabulary in the same call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import scipy.sparse as sp

from similarity.factorize import factorize

__all__ = ["KINDS", "char_ngram_matrix", "string_kernel_matrix", "ngram_lengths"]

Kind = Literal["presence", "spectrum", "intersection"]
KINDS: tuple[str, ...] = ("presence", "spectrum", "intersection")

# A p-gram code must fit in a signed 64-bit integer: p * log2(alphabet size) < 63.
_MAX_CODE_BITS = 62


def ngram_lengths(p: int | Iterable[int]) -> tuple[int, ...]:
    """The sorted, distinct n-gram lengths named by ``p``.

    Parameters
    ----------
    p : int or iterable of int
        One length (``3``), a ``range`` (``range(3, 6)`` is 3, 4 and 5) or any collection of
        lengths (``(3, 5)`` is 3 and 5, not 3 to 5).

    Returns
    -------
    tuple of int
        The lengths, each at least 1.

    Examples
    --------
    >>> ngram_lengths(range(3, 6))
    (3, 4, 5)
    """
    lengths = (p,) if isinstance(p, int | np.integer) else tuple(p)
    if not lengths or any(not isinstance(n, int | np.integer) or n < 1 for n in lengths):
        raise ValueError(f"p must be a positive int or a collection of them, got {p!r}")
    return tuple(sorted({int(n) for n in lengths}))


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")


def _check_docs(docs: Sequence[str], name: str) -> list[str]:
    if isinstance(docs, str):
        raise TypeError(f"{name} must be a sequence of strings, not one string")
    docs = list(docs)
    bad = [i for i, d in enumerate(docs) if not isinstance(d, str)]
    if bad:
        raise TypeError(f"{name}[{bad[0]}] is {type(docs[bad[0]]).__name__}, expected str")
    return docs


def _codepoints(docs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """All documents' characters as one uint32 array, and each document's start offset."""
    lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
    starts = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    text = "".join(docs)
    chars = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return chars, starts


def _ngram_codes(
    ranks: np.ndarray, starts: np.ndarray, n: int, alphabet: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every n-gram window inside one document: (document index, position, exact code).

    The code is the base-``alphabet`` number of the window's character ranks, or, when that
    would overflow int64, the window's index among the distinct windows (``np.unique`` rows).
    """
    total = ranks.size
    n_docs = starts.size - 1
    doc_len = np.diff(starts)
    n_windows = np.maximum(doc_len - n + 1, 0)
    if n_windows.sum() == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    doc_of_window = np.repeat(np.arange(n_docs, dtype=np.int64), n_windows)
    # Window start positions: each document's start plus 0..n_windows-1 (a ragged arange).
    offsets = np.repeat(starts[:-1] - np.concatenate(([0], np.cumsum(n_windows)[:-1])), n_windows)
    pos = np.arange(doc_of_window.size, dtype=np.int64) + offsets
    if n * np.log2(max(alphabet, 2)) <= _MAX_CODE_BITS:
        code = np.zeros(total - n + 1 if total >= n else 0, dtype=np.int64)
        for k in range(n):  # Horner's rule over the n characters, vectorised over windows
            code *= alphabet
            code += ranks[k : total - n + 1 + k]
        return doc_of_window, pos, code[pos]
    windows = np.lib.stride_tricks.sliding_window_view(ranks, n)[pos]
    _, code = np.unique(windows, axis=0, return_inverse=True)
    return doc_of_window, pos, code.reshape(-1).astype(np.int64)


def _occurrence_index(doc: np.ndarray, code_id: np.ndarray) -> np.ndarray:
    """For each window, how many earlier windows of the same document have the same code.

    ``doc`` is non-decreasing (windows come document by document), so a stable sort by code
    groups the windows by code, then document, then position.
    """
    order = np.argsort(code_id, kind="stable")
    d, c = doc[order], code_id[order]
    new_group = np.ones(order.size, dtype=bool)
    new_group[1:] = (d[1:] != d[:-1]) | (c[1:] != c[:-1])
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(order.size), 0))
    occ = np.empty(order.size, dtype=np.int64)
    occ[order] = np.arange(order.size) - group_start
    return occ


def char_ngram_matrix(
    docs: Sequence[str],
    p: int | Iterable[int] = 3,
    kind: Kind = "spectrum",
    *,
    return_vocabulary: bool = False,
) -> sp.csr_matrix | tuple[sp.csr_matrix, list]:
    """Sparse character p-gram features of documents, one row per document.

    Parameters
    ----------
    docs : sequence of str of length n_docs
        The documents. Case and whitespace are kept as they are.
    p : int or iterable of int, default=3
        The p-gram length, or several lengths (see ``ngram_lengths``); the columns of all
        lengths are side by side, so a product of rows sums the kernels over the lengths.
    kind : {"spectrum", "presence", "intersection"}, default="spectrum"
        ``"spectrum"``: the count of each p-gram; ``"presence"``: 1 if it occurs;
        ``"intersection"``: one 0/1 column per (p-gram, occurrence index), so that the product
        of two rows is ``sum_v min(S(v), T(v))``.
    return_vocabulary : bool, default=False
        Also return each column's p-gram (for ``"intersection"``, ``(p-gram, occurrence)``
        with occurrence counted from 1).

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_docs, n_features), dtype float64
        Columns are numbered within this call: documents compared with each other must be
        featurised together.
    vocabulary : list, only if ``return_vocabulary``
        ``vocabulary[j]`` names column ``j``.

    Examples
    --------
    >>> X, vocab = char_ngram_matrix(["pineapple pi"], p=2, return_vocabulary=True)
    >>> dict(zip(vocab, X.toarray()[0]))["pi"]
    2.0
    """
    _check_kind(kind)
    docs = _check_docs(docs, "docs")
    lengths = ngram_lengths(p)
    chars, starts = _codepoints(docs)
    # Rank characters within the alphabet seen here, so codes stay small and exact.
    if chars.size:
        present = np.zeros(int(chars.max()) + 1, dtype=bool)
        present[chars] = True
        alphabet_chars = np.flatnonzero(present)
        lut = np.cumsum(present) - 1
        ranks = lut[chars].astype(np.int64)
    else:
        alphabet_chars = np.zeros(0, dtype=np.int64)
        ranks = np.zeros(0, dtype=np.int64)
    alphabet = max(alphabet_chars.size, 1)

    blocks: list[sp.csr_matrix] = []
    vocabulary: list = []
    for n in lengths:
        doc, pos, code = _ngram_codes(ranks, starts, n, alphabet)
        # pandas.factorize numbers the distinct codes by first appearance with a hash table,
        # several times faster than np.unique's sort on millions of windows.
        if kind == "intersection":
            # One int64 key per (p-gram, occurrence): dense p-gram id * (max occurrences) + t.
            code_id = factorize(code)[0].astype(np.int64)
            occ = _occurrence_index(doc, code_id)
            col = factorize(code_id * (int(occ.max(initial=0)) + 1) + occ)[0]
        else:
            col = factorize(code)[0]
            occ = None
        n_cols = int(col.max(initial=-1)) + 1
        block = sp.csr_matrix(
            (np.ones(col.size), (doc, col)), shape=(len(docs), n_cols), dtype=np.float64
        )
        block.sum_duplicates()
        if kind == "presence":
            block.data[:] = 1.0
        blocks.append(block)
        if return_vocabulary:
            first = np.full(n_cols, col.size, dtype=np.int64)
            np.minimum.at(first, col, np.arange(col.size))  # each column's first window
            grams = [
                "".join(map(chr, alphabet_chars[ranks[s : s + n]])) for s in pos[first].tolist()
            ]
            if kind == "intersection":
                grams = list(zip(grams, (occ[first] + 1).tolist(), strict=True))
            vocabulary.extend(grams)
    X = sp.hstack(blocks, format="csr") if len(blocks) > 1 else blocks[0].tocsr()
    return (X, vocabulary) if return_vocabulary else X


def _self_kernel(X: sp.csr_matrix) -> np.ndarray:
    """Each row's kernel with itself: the squared norm of its feature row."""
    return np.asarray(X.multiply(X).sum(axis=1)).ravel()


def _gram(A: sp.csr_matrix, B: sp.csr_matrix) -> np.ndarray:
    """Dense ``A @ B.T``; columns shared by many documents go through BLAS, the rest sparse.

    A p-gram present in most documents (indentation, ``self.``) makes the sparse product cost
    the square of its document frequency, so such columns are multiplied densely.
    """
    same = A is B
    df = np.diff(A.tocsc().indptr) + (0 if same else np.diff(B.tocsc().indptr))
    n = A.shape[0] + (0 if same else B.shape[0])
    dense_cols = np.flatnonzero(df > max(16, n // 16))
    # Cap the dense block at ~256 MB for the operands together.
    budget = max(1, (256 << 20) // (8 * max(A.shape[0] + B.shape[0], 1)))
    if dense_cols.size > budget:
        dense_cols = dense_cols[np.argsort(df[dense_cols])[::-1][:budget]]
    sparse_mask = np.ones(A.shape[1], dtype=bool)
    sparse_mask[dense_cols] = False
    As = A[:, sparse_mask]
    Bs = As if same else B[:, sparse_mask]
    K = np.asarray((As @ Bs.T).toarray(), dtype=np.float64)
    if dense_cols.size:
        Ad = A[:, dense_cols].toarray()
        K += Ad @ (Ad if same else B[:, dense_cols].toarray()).T
    return K


def string_kernel_matrix(
    docs_a: Sequence[str],
    docs_b: Sequence[str] | None = None,
    *,
    p: int | Iterable[int] = 3,
    kind: Kind = "presence",
    normalize: bool = True,
) -> np.ndarray:
    """The Gram matrix of a character p-gram string kernel between two lists of documents.

    Parameters
    ----------
    docs_a : sequence of str of length n_a
    docs_b : sequence of str of length n_b, default=None
        ``None`` means ``docs_b = docs_a`` (a symmetric matrix, computed once).
    p : int or iterable of int, default=3
        The p-gram length, or several (``range(3, 6)``): the blended kernel is the sum of the
        kernels of each length (before normalisation).
    kind : {"presence", "spectrum", "intersection"}, default="presence"
        Presence bits ``sum_v S01(v) T01(v)``, spectrum ``sum_v S(v) T(v)`` or intersection
        ``sum_v min(S(v), T(v))``, where ``S`` and ``T`` count the p-grams of each document.
    normalize : bool, default=True
        Return ``K[i, j] / sqrt(k(a_i, a_i) k(b_j, b_j))``, in [0, 1]; a document with no
        p-gram (shorter than p) has similarity 0 with everything.

    Returns
    -------
    K : ndarray of shape (n_a, n_b), dtype float64

    Examples
    --------
    >>> string_kernel_matrix(["pineapple pi"], ["apple pie"], p=2, kind="spectrum",
    ...                      normalize=False)
    array([[8.]])
    """
    _check_kind(kind)
    docs_a = _check_docs(docs_a, "docs_a")
    same = docs_b is None
    docs_b = docs_a if same else _check_docs(docs_b, "docs_b")
    n_a = len(docs_a)
    X = char_ngram_matrix(docs_a if same else docs_a + docs_b, p, kind)
    A, B = (X, X) if same else (X[:n_a], X[n_a:])
    if A.shape[0] == 0 or B.shape[0] == 0:
        return np.zeros((A.shape[0], B.shape[0]))
    K = _gram(A, B)
    if same:
        K = (K + K.T) / 2  # exact symmetry despite the dense/sparse split's rounding
    if normalize:
        da = _self_kernel(A)
        db = da if same else _self_kernel(B)
        denom = np.sqrt(np.outer(da, db))
        K = np.divide(K, denom, out=np.zeros_like(K), where=denom > 0)
    return K
