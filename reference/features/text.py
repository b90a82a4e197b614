"""Text features: the raw documents for string kernels, or character p-gram counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from reference.features.detect import feature_columns


def text_column(*frames: pd.DataFrame) -> list[np.ndarray]:
    """Each frame's documents as an (n, 1) object array of str (what string-kernel models,
    Levenshtein k-NN and the vectoriser pipelines take): its one feature column, or its
    feature columns joined by a space, in order (a review's title and its body); missing
    text becomes ""."""
    cols = feature_columns(frames[0])
    if not cols:
        raise ValueError("text data needs a feature column beside id and label; found none")
    out = []
    for f in frames:
        docs = f[cols[0]].fillna("").astype(str)
        for c in cols[1:]:
            docs = docs + " " + f[c].fillna("").astype(str)
        out.append(docs.to_numpy(dtype=object)[:, None])
    return out


def char_ngram_counts(*docs: np.ndarray, p=(3, 4, 5)) -> list[sp.csr_matrix]:
    """Character p-gram count rows for several document sets over one shared vocabulary
    (``similarity.string_kernels.char_ngram_matrix``, spectrum kind)."""
    from similarity.string_kernels import char_ngram_matrix

    flat = [list(np.asarray(d, dtype=object).ravel()) for d in docs]
    X = char_ngram_matrix([s for f in flat for s in f], p, "spectrum")
    bounds = np.cumsum([0] + [len(f) for f in flat])
    return [X[bounds[i] : bounds[i + 1]] for i in range(len(flat))]
