"""The plagiarism engine: Python-aware normalisation, string kernels, fingerprints, corpora
and fragment alignment.

Public API::

    opts = SimilarityOptions(threshold=0.45)
    result = compare({"ana": Path("ana.py"), ...}, template=..., archive=..., web=...,
                     options=opts, cache_dir=...)
    write_outputs(result, Path("out/similarity"))

See docs/similarity.md for how the score is built.
"""

# first: scipy's array-API layer without numpy.f2py and numpy.testing (see the module)
import similarity._scipy_import  # noqa: F401
from similarity.align import Fragment
from similarity.clusters import clusters
from similarity.engine import Pair, SimilarityResult, combine, compare, noise_floor, rank_key
from similarity.errors import SimilarityError, SimilarityInputError, SimilarityOptionsError
from similarity.options import SimilarityOptions
from similarity.outputs import write_outputs
from similarity.string_kernels import char_ngram_matrix, string_kernel_matrix

__all__ = [
    "SimilarityOptions", "SimilarityError", "SimilarityOptionsError", "SimilarityInputError", "compare",
    "combine", "SimilarityResult", "Pair", "Fragment", "write_outputs", "rank_key", "noise_floor",
    "string_kernel_matrix", "char_ngram_matrix", "clusters",
]
