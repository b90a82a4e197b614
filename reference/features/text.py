"""Text features: the raw documents for string kernels, or character p-gram counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from reference.features.detect import feature_columns


def text_column(*frames: pd.DataFrame) -> list[np.ndarray]:
    """Each frame's text column as an (n, 1) object array of str (what string-kernel models
    and Levenshtein k-NN take); missing text becomes ""."""
    cols = feature_columns(frames[0])
    if len(cols) != 1:
        raise ValueError(f"text data needs one feature column, found {len(cols)}: {cols}")
    return [f[cols[0]].fillna("").astype(str).to_numpy(dtype=object)[:, None] for f in frames]


def char_ngram_counts(*docs: np.ndarray, p=(3, 4, 5)) -> list[sp.csr_matrix]:
    """Character p-gram count rows for several document sets over one shared vocabulary
    (``similarity.string_kernels.char_ngram_matrix``, spectrum kind)."""
    from similarity.string_kernels import char_ngram_matrix

    flat = [list(np.asarray(d, dtype=object).ravel()) for d in docs]
    X = char_ngram_matrix([s for f in flat for s in f], p, "spectrum")
    bounds = np.cumsum([0] + [len(f) for f in flat])
    return [X[bounds[i] : bounds[i + 1]] for i in range(len(flat))]
