"""Import names and the distributions that provide them.

Most distributions are imported under their own name; the table below holds the ones an ML
course meets that are not (``cv2`` comes from ``opencv-python-headless``). A built
environment's own metadata (``top_level.txt``, RECORD) comes first; this table names what to
add to ``environment/requirements.txt`` for a module the environment lacks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

#: import name -> the distribution to declare for it
KNOWN_DISTRIBUTIONS: dict[str, str] = {
    "cv2": "opencv-python-headless",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "bs4": "beautifulsoup4",
    "Bio": "biopython",
    "dateutil": "python-dateutil",
    "google.protobuf": "protobuf",
    "tensorflow": "tensorflow",
    "keras": "keras",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "catboost": "catboost",
    "timm": "timm",
    "torchvision": "torchvision",
    "torchaudio": "torchaudio",
    "mpl_toolkits": "matplotlib",
    "pylab": "matplotlib",
    "attr": "attrs",
    "jwt": "pyjwt",
    "serial": "pyserial",
    "magic": "python-magic",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "Levenshtein": "levenshtein",
    "imblearn": "imbalanced-learn",
    "umap": "umap-learn",
    "hdbscan": "hdbscan",
    "gensim": "gensim",
    "nltk": "nltk",
    "spacy": "spacy",
    "transformers": "transformers",
    "sentence_transformers": "sentence-transformers",
    # same name as their distribution, listed so a missing one is known to be a package
    # (not a student's own file left out of the submission)
    **{name: name for name in (
        "numpy", "pandas", "scipy", "matplotlib", "torch", "tqdm", "seaborn", "plotly",
        "statsmodels", "joblib", "optuna", "shap", "jax", "einops", "albumentations",
        "datasets", "wandb", "mlflow", "numba", "sympy", "networkx", "polars", "pyarrow",
        "h5py", "tabulate", "requests", "onnx", "onnxruntime", "lime", "graphviz")},
}

_NO_MODULE = re.compile(r"^(?:ModuleNotFoundError|ImportError): No module named '?([\w.]+)'?")
#: pandas' (and scikit-learn's) import of an optional dependency at call time:
#: ``ImportError: Missing optional dependency 'tabulate'.  Use pip or conda to install it.``
_OPTIONAL = re.compile(r"^ImportError: Missing optional dependency '([\w.-]+)'")


def distribution_for(module: str, top_level: dict[str, list[str]] | None = None) -> str:
    """The distribution that provides top-level ``module`` (its own name when unknown)."""
    if top_level and top_level.get(module):
        return top_level[module][0]
    return KNOWN_DISTRIBUTIONS.get(module, module.replace("_", "-"))


def missing_module(exception_line: str) -> str:
    """The top-level module of ``ModuleNotFoundError: No module named 'a.b'`` (``"a"``), or of
    pandas' ``Missing optional dependency 'tabulate'`` (``DataFrame.to_markdown`` without
    tabulate was an ``error``, the student's fault), or ``""``."""
    line = exception_line.strip()
    m = _NO_MODULE.match(line) or _OPTIONAL.match(line)
    return m.group(1).split(".")[0] if m else ""


def local_modules(code_dir: Path, files: Iterable[str] | None = None) -> set[str]:
    """Modules the submission itself provides: its ``.py`` files and folders (top level)."""
    names = list(files) if files is not None else [
        str(p.relative_to(code_dir)) for p in code_dir.rglob("*.py")]
    out = set()
    for rel in names:
        parts = Path(rel).parts
        if not parts:
            continue
        out.add(parts[0] if len(parts) > 1 else Path(parts[0]).stem)
        # a file in a subfolder may be imported from its own folder (sys.path[0] is the entry's)
        if len(parts) > 1:
            out.add(Path(parts[-1]).stem)
    return out
