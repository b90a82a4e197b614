"""Neural networks in PyTorch: an MLP and CNNs built from a small layer language.

torch is imported inside the functions that need it, so ``import reference`` stays light.
Training is mini-batch SGD with momentum, early stopping on a seeded validation split, on the
GPU when one is present (``device="auto"``).

A CNN is a list of layer tuples, e.g. ``[("conv", 32, 3, 1, 1), ("bn",), ("relu",),
("pool", 2), ("flatten",), ("fc", 128), ("relu",), ("dropout", 0.5)]``:

- ``("conv", K, F, S=1, P=0)``: K filters F x F, stride S, zero padding P;
- ``("pool", F, S=F)``: max pooling; ``("gap",)``: global average pooling;
- ``("res", K, S=1)``: a ResNet basic block (two 3 x 3 convs with batch norm, identity or
  1 x 1 projection shortcut);
- ``("bn",)``, ``("dropout", p)``, ``("flatten",)``, ``("fc", units)``, and activations
  ``("relu",)``, ``("leaky_relu",)``, ``("elu",)``, ``("tanh",)``, ``("sigmoid",)``.

The builder checks every spatial size with the slides' ``(W - F + 2P) / S + 1`` and reports
each layer's output shape and parameter count (``cnn_summary``).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

ACTIVATIONS = ("relu", "leaky_relu", "elu", "tanh", "sigmoid", "maxout")


def conv_output_size(W: int, F: int, S: int = 1, P: int = 0, *, strict: bool = True) -> int:
    """Spatial output size ``(W - F + 2P) / S + 1`` of a conv or pool layer.

    ``strict=False`` floors a fractional size as PyTorch does (used inside ResNet blocks,
    whose stride-2 3 x 3 convs with padding 1 halve even widths that way).

    Raises
    ------
    ValueError
        If the filter does not fit the input evenly (the slides' W=7, F=3, S=3 gives 2.33).

    Examples
    --------
    >>> conv_output_size(32, 5, 1, 2)
    32
    """
    span = W - F + 2 * P
    if span < 0 or (strict and span % S):
        raise ValueError(
            f"a {F}x{F} filter with stride {S} and padding {P} does not fit an input of "
            f"width {W}: (W - F + 2P) / S + 1 = {span / S + 1:.2f}"
        )
    return span // S + 1


@dataclass(frozen=True)
class LayerInfo:
    """One built layer: its tuple, output shape (C, H, W) or (units,) and parameter count."""

    spec: tuple
    out_shape: tuple[int, ...]
    params: int


def _activation(name: str):
    import torch.nn as nn

    table = {
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(0.01),  # the slides' max(0.01 x, x)
        "elu": lambda: nn.ELU(1.0),
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
    }
    if name not in table:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")
    return table[name]()


def _residual_block(in_ch: int, out_ch: int, stride: int):
    from reference._torch_layers import BasicBlock

    return BasicBlock(in_ch, out_ch, stride)


def build_cnn(layers: list[tuple], input_shape: tuple[int, int, int], n_classes: int | None = None):
    """Build an ``nn.Sequential`` from layer tuples, checking every shape on the way.

    Parameters
    ----------
    layers : list of tuple
        The layer language of this module's docstring.
    input_shape : tuple (C, H, W)
    n_classes : int or None, default=None
        If given, a final ``("fc", n_classes)`` is appended (after a flatten if needed).

    Returns
    -------
    model : torch.nn.Sequential
    summary : list of LayerInfo
        One entry per layer tuple (the appended classifier included).
    """
    import torch.nn as nn

    shape: tuple[int, ...] = tuple(int(s) for s in input_shape)
    mods: list[Any] = []
    summary: list[LayerInfo] = []
    specs = list(layers)
    if n_classes is not None:
        if not any(s[0] in ("flatten", "fc") for s in specs):
            specs.append(("flatten",))
        specs.append(("fc", int(n_classes)))
    for spec in specs:
        kind, args = spec[0], spec[1:]
        if kind == "conv":
            K, F = args[0], args[1]
            S = args[2] if len(args) > 2 else 1
            P = args[3] if len(args) > 3 else 0
            m = nn.Conv2d(shape[0], K, F, S, P)
            shape = (K, conv_output_size(shape[1], F, S, P), conv_output_size(shape[2], F, S, P))
        elif kind == "pool":
            F = args[0]
            S = args[1] if len(args) > 1 else F
            m = nn.MaxPool2d(F, S)
            shape = (shape[0], conv_output_size(shape[1], F, S), conv_output_size(shape[2], F, S))
        elif kind == "gap":
            m = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
            shape = (shape[0],)
        elif kind == "res":
            K = args[0]
            S = args[1] if len(args) > 1 else 1
            m = _residual_block(shape[0], K, S)
            shape = (
                K,
                conv_output_size(shape[1], 3, S, 1, strict=False),
                conv_output_size(shape[2], 3, S, 1, strict=False),
            )
        elif kind == "bn":
            m = nn.BatchNorm2d(shape[0]) if len(shape) == 3 else nn.BatchNorm1d(shape[0])
        elif kind == "dropout":
            m = nn.Dropout(args[0] if args else 0.5)
        elif kind == "flatten":
            m = nn.Flatten()
            shape = (int(np.prod(shape)),)
        elif kind == "fc":
            if len(shape) != 1:
                mods.append(nn.Flatten())
                shape = (int(np.prod(shape)),)
            m = nn.Linear(shape[0], args[0])
            shape = (args[0],)
        elif kind in ACTIVATIONS and kind != "maxout":
            m = _activation(kind)
        else:
            raise ValueError(f"unknown CNN layer {spec!r}; see reference._torch_nets docstring")
        mods.append(m)
        summary.append(LayerInfo(tuple(spec), shape, sum(p.numel() for p in m.parameters())))
    return nn.Sequential(*mods), summary


def cnn_summary(
    layers: list[tuple], input_shape: tuple[int, int, int], n_classes: int | None = None
) -> list[LayerInfo]:
    """Output shape and parameter count of each layer, without allocating the weights."""
    import torch

    with torch.device("meta"):
        return build_cnn(layers, input_shape, n_classes)[1]


def vgg16_layers() -> list[tuple]:
    """VGG-16 (configuration D) for 224 x 224 x 3 images, ~138 M parameters with 1000 classes."""
    layers: list[tuple] = []
    for n_convs, ch in ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)):
        for _ in range(n_convs):
            layers += [("conv", ch, 3, 1, 1), ("relu",)]
        layers.append(("pool", 2))
    return layers + [
        ("fc", 4096),
        ("relu",),
        ("dropout", 0.5),
        ("fc", 4096),
        ("relu",),
        ("dropout", 0.5),
    ]


def architecture(name: str, input_shape: tuple[int, int, int]) -> list[tuple]:
    """Small variants for small images (8 x 8 digits to 32 x 32): ``simple``, ``alexnet``,
    ``vgg`` and ``resnet``. Pooling is only added while the feature map is at least 4 wide."""
    _, H, W = input_shape
    size = min(H, W)

    def pool():
        nonlocal size
        if size >= 4:
            size //= 2
            return [("pool", 2)]
        return []

    if name == "simple":
        a = [("conv", 32, 3, 1, 1), ("bn",), ("relu",)] + pool()
        b = [("conv", 64, 3, 1, 1), ("bn",), ("relu",)] + pool()
        return a + b + [("flatten",), ("fc", 128), ("relu",), ("dropout", 0.3)]
    if name == "alexnet":  # big first filters, then stacked 3x3, then two wide FC layers
        first = 5 if size >= 8 else 3
        layers = [("conv", 48, first, 1, first // 2), ("relu",)] + pool()
        layers += [("conv", 96, 3, 1, 1), ("relu",)] + pool()
        layers += [("conv", 128, 3, 1, 1), ("relu",), ("conv", 96, 3, 1, 1), ("relu",)] + pool()
        return layers + [
            ("flatten",),
            ("dropout", 0.5),
            ("fc", 256),
            ("relu",),
            ("dropout", 0.5),
            ("fc", 256),
            ("relu",),
        ]
    if name == "vgg":  # blocks of two 3x3 convs and a pool
        layers = []
        for ch in (32, 64, 128):
            layers += [
                ("conv", ch, 3, 1, 1),
                ("bn",),
                ("relu",),
                ("conv", ch, 3, 1, 1),
                ("bn",),
                ("relu",),
            ] + pool()
        return layers + [("flatten",), ("fc", 256), ("relu",), ("dropout", 0.5)]
    if name == "resnet":
        stride = 2 if size >= 4 else 1
        return [
            ("conv", 32, 3, 1, 1),
            ("bn",),
            ("relu",),
            ("res", 32),
            ("res", 32),
            ("res", 64, stride),
            ("res", 64),
            ("gap",),
        ]
    raise ValueError(f"architecture must be simple, alexnet, vgg or resnet, got {name!r}")


def build_mlp(
    n_in: int,
    hidden: tuple[int, ...],
    n_out: int,
    *,
    activation: str = "relu",
    dropout: float = 0.0,
    batch_norm: bool = False,
):
    """An MLP ``n_in -> hidden... -> n_out``; ``maxout`` replaces each Linear+activation by
    a two-piece maxout unit."""
    import torch.nn as nn

    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    mods: list[Any] = []
    width = n_in
    for h in hidden:
        if activation == "maxout":
            from reference._torch_layers import Maxout

            mods.append(Maxout(width, h))
        else:
            mods.append(nn.Linear(width, h))
        if batch_norm:
            mods.append(nn.BatchNorm1d(h))
        if activation != "maxout":
            mods.append(_activation(activation))
        if dropout:
            mods.append(nn.Dropout(dropout))
        width = h
    mods.append(nn.Linear(width, n_out))
    return nn.Sequential(*mods)


#: weight initialisations: the slides' Xavier ("Inițializarea ponderilor (folosim Xavier)":
#: normal, mean 0, Var(W) = 2 / (n_in + n_out), biases 0), or PyTorch's own default
INITS = ("xavier", "default")


def init_weights(model, init: str = "xavier"):
    """Initialise every linear and convolutional layer of ``model`` (in place; returned)."""
    import torch.nn as nn

    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if init == "xavier":
        for m in model.modules():
            if isinstance(m, nn.Linear | nn.Conv2d):
                nn.init.xavier_normal_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
    return model


#: share of the GPU's free memory the training set may take; larger sets stay in host
#: memory (pinned) and travel batch by batch
GPU_DATA_FRACTION = 0.25


def _device(name: str):
    """``"auto"``, a torch device (``"cpu"``, ``"cuda:1"``) or a GPU's UUID (``"GPU-..."``,
    as the grader's GPU pool names a device: CUDA's own numbering may differ)."""
    import torch

    if name == "auto":
        dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    elif str(name).upper().startswith(("GPU-", "MIG-")):
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            if str(name).lower() in (f"gpu-{props.uuid}".lower(), f"mig-{props.uuid}".lower()):
                dev = torch.device("cuda", i)
                break
        else:
            raise ValueError(f"no CUDA device with UUID {name} is visible to torch")
    else:
        dev = torch.device(name)
    if dev.type == "cuda":
        # cuBLAS reads this when its first handle is made: before any CUDA matmul
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return dev


@contextmanager
def _deterministic(device):
    """Deterministic cuDNN and CUDA kernels while training on a GPU (warn-only where an op has
    no deterministic kernel); the process's settings are restored afterwards. The CPU is
    deterministic already and is left untouched."""
    import torch

    if device.type != "cuda":
        yield
        return
    cudnn = torch.backends.cudnn
    saved = (cudnn.deterministic, cudnn.benchmark, torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled())
    cudnn.deterministic, cudnn.benchmark = True, False
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        cudnn.deterministic, cudnn.benchmark = saved[0], saved[1]
        torch.use_deterministic_algorithms(saved[2], warn_only=saved[3])


def _fits_on_device(X: np.ndarray, device) -> bool:
    """Whether the whole training set may live on ``device`` (always on the CPU)."""
    import torch

    if device.type != "cuda":
        return True
    free, _total = torch.cuda.mem_get_info(device)
    return X.nbytes <= GPU_DATA_FRACTION * free


def _train(model, X: np.ndarray, y: np.ndarray, est, seed: int):
    """SGD with momentum; early stopping keeps the weights of the best validation loss."""


    device = _device(est.device)
    with _deterministic(device):
        return _train_on(model, X, y, est, seed, device)


def _train_on(model, X: np.ndarray, y: np.ndarray, est, seed: int, device):
    import time

    import torch

    started = time.perf_counter()
    torch.manual_seed(seed)
    model = model.to(device)
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    n_val = int(round(est.validation_fraction * n)) if est.early_stopping and n >= 20 else 0
    order = rng.permutation(n)
    val, tr = order[:n_val], order[n_val:]
    # on a GPU the data is bounded by its memory: a large set stays pinned in host memory
    resident = _fits_on_device(X, device)
    home = device if resident else torch.device("cpu")
    Xt = torch.as_tensor(X, dtype=torch.float32, device=home)
    yt = torch.as_tensor(y, dtype=torch.int64, device=home)
    if not resident:
        Xt, yt = Xt.pin_memory(), yt.pin_memory()

    def rows(idx):
        if resident:
            return Xt[idx], yt[idx]
        idx = idx.cpu()
        return Xt[idx].to(device, non_blocking=True), yt[idx].to(device, non_blocking=True)

    def val_loss() -> float:
        if resident:
            return float(loss_fn(model(Xt[val]), yt[val]))
        total = 0.0
        for s in range(0, len(val), 1024):
            xb, yb = rows(torch.as_tensor(val[s : s + 1024]))
            total += float(loss_fn(model(xb), yb)) * len(yb)
        return total / max(1, len(val))
    opt = torch.optim.SGD(
        model.parameters(),
        lr=est.learning_rate,
        momentum=est.momentum,
        weight_decay=est.weight_decay,
        nesterov=False,
    )
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, est.max_epochs))
    loss_fn = torch.nn.CrossEntropyLoss()
    best, best_state, bad = np.inf, None, 0
    bs = max(1, min(int(est.batch_size), len(tr)))
    curve = []
    for _epoch in range(int(est.max_epochs)):
        model.train()
        perm = tr[rng.permutation(len(tr))]
        total = 0.0
        for s in range(0, len(perm), bs):
            idx = torch.as_tensor(perm[s : s + bs], device=device)
            if idx.numel() < 2 and any(
                isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules()
            ):
                continue  # batch norm cannot train on one example
            opt.zero_grad()
            xb, yb = rows(idx)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * idx.numel()
        sched.step()
        curve.append(total / max(1, len(perm)))
        out_of_time = est.max_time_s is not None and time.perf_counter() - started > est.max_time_s
        if not np.isfinite(curve[-1]):
            raise ValueError("training diverged (loss is not finite); lower learning_rate")
        if n_val:
            model.eval()
            with torch.no_grad():
                v = val_loss()
            if v < best - 1e-6:
                best, bad = v, 0
                best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
            else:
                bad += 1
                if bad >= est.patience:
                    break
        if out_of_time:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return model, curve


class _TorchClassifier(ClassifierMixin, BaseEstimator):
    def _seed(self) -> int:
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    def _fit_common(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_, yi = np.unique(y, return_inverse=True)
        return X, yi

    def _logits(self, X):
        import torch

        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        Xt = torch.as_tensor(self._prepare(X))
        device = next(self.model_.parameters()).device
        out = []
        with torch.no_grad():
            for s in range(0, Xt.shape[0], 1024):
                out.append(self.model_(Xt[s : s + 1024].to(device)).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.classes_)))

    def predict_proba(self, X):
        from reference._linear import softmax

        return softmax(self._logits(X).astype(np.float64))

    def predict(self, X):
        logits = self._logits(X)  # checks fitted before classes_ is read
        return self.classes_[np.argmax(logits, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.device != "cpu"  # cuDNN kernels are not bit-exact
        return tags


class TorchMLPClassifier(_TorchClassifier):
    """Multilayer perceptron in PyTorch (inputs standardised per feature inside ``fit``).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(128,)
    activation : {"relu", "leaky_relu", "elu", "tanh", "sigmoid", "maxout"}, default="relu"
    dropout : float, default=0.0
        Dropout probability after each hidden layer.
    batch_norm : bool, default=False
        Batch normalisation after each hidden linear layer.
    init : {"xavier", "default"}, default="xavier"
        The slides' Xavier initialisation (normal, Var(W) = 2 / (n_in + n_out), biases 0),
        or PyTorch's default.
    learning_rate : float, default=0.05
    momentum : float, default=0.9
    weight_decay : float, default=1e-4
        L2 penalty of SGD.
    batch_size : int, default=64
    max_epochs : int, default=100
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training rows (seeded) and keep the weights
        with the lowest validation loss; stop after ``patience`` epochs without improvement.
    validation_fraction : float, default=0.1
    patience : int, default=10
    max_time_s : float or None, default=None
        Stop training after the epoch that passes this many seconds (a time budget).
    device : str, default="auto"
        "auto" is the GPU when present, else the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the validation split and the batches.
    """

    def __init__(
        self,
        *,
        hidden_layer_sizes=(128,),
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        init="xavier",
        learning_rate=0.05,
        momentum=0.9,
        weight_decay=1e-4,
        batch_size=64,
        max_epochs=100,
        early_stopping=True,
        validation_fraction=0.1,
        patience=10,
        max_time_s=None,
        device="auto",
        random_state=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.init = init
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.max_time_s = max_time_s
        self.device = device
        self.random_state = random_state

    def _prepare(self, X):
        return ((X - self.mean_) / self.scale_).astype(np.float32)

    def fit(self, X, y):
        X, yi = self._fit_common(X, y)
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0).astype(np.float32)
        seed = self._seed()
        import torch

        torch.manual_seed(seed)
        model = build_mlp(
            X.shape[1],
            tuple(self.hidden_layer_sizes),
            max(len(self.classes_), 2),
            activation=self.activation,
            dropout=self.dropout,
            batch_norm=self.batch_norm,
        )
        init_weights(model, self.init)
        self.model_, self.loss_curve_ = _train(model, self._prepare(X), yi, self, seed)
        return self


def infer_image_shape(n_features: int) -> tuple[int, int, int]:
    """(C, H, W) of flattened square images: grey ``s*s`` or RGB ``3*s*s`` (channels last, as
    images are usually flattened); anything else is a 1 x n strip."""
    s = int(round(np.sqrt(n_features)))
    if s * s == n_features:
        return (1, s, s)
    s = int(round(np.sqrt(n_features / 3)))
    if 3 * s * s == n_features:
        return (3, s, s)
    return (1, 1, n_features)


class TorchCNNClassifier(_TorchClassifier):
    """Convolutional network in PyTorch over flattened images.

    Parameters
    ----------
    architecture : {"simple", "alexnet", "vgg", "resnet"} or list of tuple, default="simple"
        A preset sized for small images, or layer tuples (see ``build_cnn``).
    image_shape : tuple (C, H, W) or None, default=None
        How each row of ``X`` is an image; ``None`` infers it (``infer_image_shape``).
        Three-channel rows are read channels-last (H, W, C), as images flatten.
    init, learning_rate, momentum, weight_decay, batch_size, max_epochs, early_stopping,
    validation_fraction, patience, max_time_s, device, random_state
        As in ``TorchMLPClassifier``.
    """

    def __init__(
        self,
        *,
        architecture="simple",
        image_shape=None,
        init="xavier",
        learning_rate=0.05,
        momentum=0.9,
        weight_decay=5e-4,
        batch_size=64,
        max_epochs=30,
        early_stopping=True,
        validation_fraction=0.1,
        patience=8,
        max_time_s=None,
        device="auto",
        random_state=None,
    ):
        self.architecture = architecture
        self.image_shape = image_shape
        self.init = init
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.max_time_s = max_time_s
        self.device = device
        self.random_state = random_state

    def _prepare(self, X):
        C, H, W = self.image_shape_
        X = (X - self.mean_) / self.scale_
        if C == 3:
            return X.reshape(-1, H, W, 3).transpose(0, 3, 1, 2).astype(np.float32).copy()
        return X.reshape(-1, C, H, W).astype(np.float32)

    def fit(self, X, y):
        X, yi = self._fit_common(X, y)
        shape = tuple(self.image_shape) if self.image_shape else infer_image_shape(X.shape[1])
        if int(np.prod(shape)) != X.shape[1]:
            raise ValueError(f"image_shape {shape} does not hold {X.shape[1]} features per row")
        self.image_shape_ = shape
        self.mean_ = np.float32(X.mean())
        self.scale_ = np.float32(X.std() or 1.0)
        layers = (
            architecture(self.architecture, shape)
            if isinstance(self.architecture, str)
            else list(self.architecture)
        )
        seed = self._seed()
        import torch

        torch.manual_seed(seed)
        model, self.layers_ = build_cnn(layers, shape, max(len(self.classes_), 2))
        init_weights(model, self.init)
        Xp = self._prepare(X)
        self.model_, self.loss_curve_ = _train(model, Xp, yi, self, seed)
        return self
