"""Which modality a competition's data is: tabular columns, image files, or text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

MODALITIES = ("tabular", "images", "text")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
#: a string column is text when its values average at least this many characters or hold spaces
TEXT_MIN_MEAN_LENGTH = 20
_RESERVED = ("id", "label")


def feature_columns(df: pd.DataFrame) -> list[str]:
    """Every column but ``id`` and ``label``."""
    return [c for c in df.columns if c not in _RESERVED]


def _is_string_column(values: pd.Series) -> bool:
    return values.dtype == object or pd.api.types.is_string_dtype(values)


def _is_file_column(values: pd.Series, data_dir: Path | None) -> bool:
    sample = values.dropna().astype(str).head(20)
    if sample.empty or not sample.str.lower().str.endswith(IMAGE_SUFFIXES).all():
        return False
    return data_dir is None or all((Path(data_dir) / v).is_file() for v in sample)


def detect_modality(df: pd.DataFrame, data_dir: str | Path | None = None) -> str:
    """``"images"`` if a column names image files (under ``data_dir`` when given), ``"text"``
    if the only feature column holds free text, else ``"tabular"``.

    Examples
    --------
    >>> detect_modality(pd.DataFrame({"id": [1], "x": [0.5], "label": [0]}))
    'tabular'
    """
    cols = feature_columns(df)
    strings = [c for c in cols if _is_string_column(df[c])]
    for c in strings:
        if _is_file_column(df[c], None if data_dir is None else Path(data_dir)):
            return "images"
    if len(cols) == 1 and strings:
        s = df[cols[0]].dropna().astype(str)
        if not s.empty and (
            s.str.len().mean() >= TEXT_MIN_MEAN_LENGTH or s.str.contains(" ").any()
        ):
            return "text"
    return "tabular"


def image_column(df: pd.DataFrame) -> str:
    """The column naming image files."""
    for c in feature_columns(df):
        if _is_string_column(df[c]) and _is_file_column(df[c], None):
            return c
    raise ValueError(f"no column names image files ({', '.join(IMAGE_SUFFIXES)})")
