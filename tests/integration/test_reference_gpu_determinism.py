"""The torch reference models on a GPU are deterministic and bounded by GPU memory
(``pytest -m gpu``; skipped where torch sees no CUDA device)."""

from __future__ import annotations

import pytest
from sklearn.datasets import load_digits

from reference import _torch_nets as tn
from reference import make_model

pytestmark = pytest.mark.gpu


@pytest.fixture
def cuda_uuid():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device visible to torch")
    return "GPU-" + str(torch.cuda.get_device_properties(0).uuid)


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_two_gpu_fits_are_identical(name, cuda_uuid):
    X, y = load_digits(return_X_y=True)
    fits = [make_model(name, random_state=0, max_epochs=5, device=cuda_uuid).fit(X, y)
            for _ in range(2)]
    assert next(fits[0].model_.parameters()).device.type == "cuda"
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    assert (fits[0].predict(X) == fits[1].predict(X)).all()


def test_data_larger_than_the_gpu_share_travels_in_batches(cuda_uuid, monkeypatch):
    X, y = load_digits(return_X_y=True)
    a = make_model("mlp", random_state=0, max_epochs=5, device=cuda_uuid).fit(X, y)
    monkeypatch.setattr(tn, "GPU_DATA_FRACTION", 0.0)  # nothing fits: pinned host batches
    b = make_model("mlp", random_state=0, max_epochs=5, device=cuda_uuid).fit(X, y)
    assert a.loss_curve_ == pytest.approx(b.loss_curve_, rel=1e-5)
    assert a.score(X, y) == pytest.approx(b.score(X, y), abs=0.01)
