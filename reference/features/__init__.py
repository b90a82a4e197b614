"""Features per data modality: tabular columns, image files, text."""

from reference.features.detect import MODALITIES, detect_modality, feature_columns
from reference.features.images import load_images
from reference.features.tabular import tabular_features
from reference.features.text import char_ngram_counts, text_column

__all__ = [
    "MODALITIES",
    "char_ngram_counts",
    "detect_modality",
    "feature_columns",
    "load_images",
    "tabular_features",
    "text_column",
]
