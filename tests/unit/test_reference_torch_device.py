"""Device choice and determinism settings of the torch reference models (CPU here)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from reference import _torch_nets as tn
from reference import make_model


def test_gpu_uuid_that_torch_cannot_see_is_a_clear_error():
    X, y = load_digits(return_X_y=True)
    with pytest.raises(ValueError, match="no CUDA device with UUID GPU-0000 is visible"):
        make_model("mlp", device="GPU-0000", max_epochs=1).fit(X[:50], y[:50])


def test_cpu_training_is_untouched_by_the_gpu_settings():
    import torch

    before = (torch.backends.cudnn.deterministic, torch.are_deterministic_algorithms_enabled())
    X, y = load_digits(return_X_y=True)
    a = make_model("mlp", random_state=0, max_epochs=5, device="cpu").fit(X, y)
    b = make_model("mlp", random_state=0, max_epochs=5, device="cpu").fit(X, y)
    assert a.loss_curve_ == b.loss_curve_  # bit for bit
    assert (torch.backends.cudnn.deterministic,
            torch.are_deterministic_algorithms_enabled()) == before
    assert tn._fits_on_device(np.zeros((10**6, 10)), torch.device("cpu"))


def test_runner_passes_the_device_to_the_networks_only():
    import pandas as pd

    from reference.runner import run_references

    X, y = load_digits(return_X_y=True)
    df = pd.DataFrame(X[:300], columns=[f"f{i}" for i in range(64)])
    train = df.assign(id=range(300), label=y[:300])
    test = df.iloc[:50].assign(id=range(50))
    res = run_references(train, test, None, models=["mlp", "gaussian_nb"], budget_s=60,
                         device="cpu")
    by = {r.model: r for r in res}
    assert by["mlp"].status == "ok" and by["mlp"].params["device"] == "cpu"
    assert "device" not in by["gaussian_nb"].params
