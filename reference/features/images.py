"""Image features: files named by a column, decoded once into a flat array, cached by content."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _resolve(data_dir: Path, name: str) -> Path:
    path = (data_dir / name).resolve()
    if not path.is_relative_to(data_dir.resolve()):
        raise ValueError(f"image path {name!r} points outside the data folder {data_dir}")
    if not path.is_file():
        raise ValueError(f"image file {name!r} not found under {data_dir}")
    return path


def _decode(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB") if im.mode not in ("L", "1", "I;16", "I", "F") else im.convert("L")
        return np.asarray(im, dtype=np.float32) / 255.0


def load_images(
    names: Sequence[str],
    data_dir: str | Path,
    *,
    cache_dir: str | Path | None = None,
    return_shape: bool = False,
) -> np.ndarray | tuple[np.ndarray, tuple[int, int, int]]:
    """Images under ``data_dir`` as rows of a float32 array in [0, 1].

    Grey images give ``H * W`` values per row; colour ones ``H * W * 3`` (channels last). All
    images must share one size. With ``cache_dir``, the decoded array is stored under the
    blake2b hash of the files' names and bytes, so the same data set is decoded only once.

    Returns
    -------
    X : ndarray of shape (n_images, H * W[ * 3]), dtype float32
    shape : tuple (C, H, W), only if ``return_shape``
        One image's shape, channels first (what ``TorchCNNClassifier(image_shape=...)`` takes).
    """
    data_dir = Path(data_dir)
    paths = [_resolve(data_dir, str(n)) for n in names]
    cache_file = None
    if cache_dir is not None:
        h = hashlib.blake2b(digest_size=16)
        for name, path in zip(names, paths, strict=True):
            h.update(str(name).encode() + b"\0" + hashlib.blake2b(path.read_bytes()).digest())
        cache_file = Path(cache_dir) / f"images-{h.hexdigest()}.npy"
        if cache_file.is_file():
            return _flat(np.load(cache_file, allow_pickle=False), return_shape)
    arrays = [_decode(p) for p in paths]
    if any(a.ndim == 3 for a in arrays) and any(a.ndim == 2 for a in arrays):
        arrays = [np.repeat(a[..., None], 3, axis=2) if a.ndim == 2 else a for a in arrays]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"images differ in size {sorted(shapes)[:3]}; resize them to one size")
    X = np.stack(arrays) if arrays else np.zeros((0, 0, 0), np.float32)
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(".tmp.npy")
        np.save(tmp, X, allow_pickle=False)
        tmp.replace(cache_file)  # atomic: a concurrent reader never sees half a file
    return _flat(X, return_shape)


def _flat(images: np.ndarray, return_shape: bool):
    """(n, H, W[, 3]) → rows of H * W[ * 3] values, and the (C, H, W) of one image."""
    X = images.reshape(images.shape[0], -1)
    if not return_shape:
        return X
    C = images.shape[3] if images.ndim == 4 else 1
    return X, (C, int(images.shape[1]), int(images.shape[2]))
