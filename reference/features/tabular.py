"""Tabular features: numeric columns as they are, string columns one-hot."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reference.features.detect import feature_columns


def tabular_features(train: pd.DataFrame, *others: pd.DataFrame) -> list[np.ndarray]:
    """Feature matrices (float64) for ``train`` and each other frame, with the same columns.

    Numeric columns are kept; a missing value becomes the training median. Other columns are
    one-hot encoded over the categories seen in any frame (no labels are involved, so looking
    at the test frame's categories leaks nothing). Columns are in ``train``'s order.

    Returns
    -------
    list of ndarray
        ``[X_train, X_other_1, ...]``, each of shape (n_rows, n_features).
    """
    cols = feature_columns(train)
    missing = [f"{c!r}" for c in cols for o in others if c not in o.columns]
    if missing:
        raise ValueError(f"test/validation data lack the training column(s) {', '.join(missing)}")
    frames = [train[cols], *(o[cols] for o in others)]
    blocks: list[list[np.ndarray]] = [[] for _ in frames]
    for c in cols:
        numeric = [pd.to_numeric(f[c], errors="coerce") for f in frames]
        if all(n.notna().sum() == f[c].notna().sum() for n, f in zip(numeric, frames, strict=True)):
            fill = numeric[0].median() if numeric[0].notna().any() else 0.0
            for b, n in zip(blocks, numeric, strict=True):
                b.append(n.fillna(fill).to_numpy(np.float64)[:, None])
        else:
            cats = sorted({str(v) for f in frames for v in f[c].dropna().unique()})
            for b, f in zip(blocks, frames, strict=True):
                values = f[c].astype(str).to_numpy()
                b.append((values[:, None] == np.array(cats)[None, :]).astype(np.float64))
    return [
        np.hstack(b) if b else np.zeros((len(f), 0)) for b, f in zip(blocks, frames, strict=True)
    ]
