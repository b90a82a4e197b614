"""Errors of the plagiarism engine that the person running it can fix."""

from __future__ import annotations

from diagnostics import Diagnostic

__all__ = ["SimilarityError", "SimilarityOptionsError", "SimilarityInputError"]


class SimilarityError(Diagnostic):
    """A problem with the engine's inputs or options."""

    reference = "similarity"


class SimilarityOptionsError(SimilarityError):
    reference = "invalid-similarity-options"


class SimilarityInputError(SimilarityError):
    reference = "invalid-similarity-input"
