"""Import scipy's array-API layer without numpy's developer tools (imported for its side
effect, first thing in ``similarity/__init__.py``).

SciPy (1.14 to at least 1.17) imports ``scipy._lib._array_api`` with every ``scipy.sparse``
import; its vendored ``array_api_compat.numpy`` clones numpy's namespace with ``from numpy
import *`` and ``hasattr`` over ``dir(numpy)``, which imports every lazily loaded numpy
submodule: ``numpy.f2py`` (the Fortran wrapper generator), ``numpy.testing``, ``numpy.ma``,
``numpy.polynomial``... about 0.17 s of CPU, a tenth of ``grader similarity``'s whole run on a
class of 500. The ones outside the array API are left out of the clone while it is made
(``numpy.__all__`` and ``dir(numpy)`` restored right after, whatever happens): the clone is
only SciPy's array namespace for numpy, which never reaches them (SciPy's numpy branches call
``np.testing`` and ``np.ma`` on numpy itself, which still imports them on first use). Nothing
is done when the layer is already imported or numpy does not look as expected.
"""

from __future__ import annotations

import sys

__all__: list[str] = []

#: numpy submodules outside the array API, which an array namespace needs not load
_LEFT_OUT = frozenset({"f2py", "testing", "ma", "polynomial", "ctypeslib", "matlib"})


def _import_array_api_layer() -> None:
    if "scipy._lib._array_api" in sys.modules:
        return
    import numpy

    names, listing = getattr(numpy, "__all__", None), numpy.__dict__.get("__dir__")
    if not isinstance(names, list) or not callable(listing):
        return
    numpy.__all__ = [n for n in names if n not in _LEFT_OUT]
    numpy.__dir__ = lambda: [n for n in listing() if n not in _LEFT_OUT]
    try:
        import scipy._lib._array_api  # noqa: F401
    finally:
        numpy.__all__ = names
        numpy.__dir__ = listing


_import_array_api_layer()
