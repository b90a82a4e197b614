"""The torch reference models on a GPU (runs only where torch sees one; skipped elsewhere,
like tests/integration/test_sandbox_gpu.py: a GPU is hardware, not an engine CI must have)."""

from __future__ import annotations

import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from reference import make_model


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_torch_models_train_on_the_gpu(name):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device visible to torch")
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    model = make_model(name, random_state=0, max_epochs=20).fit(Xtr, ytr)  # device="auto"
    assert next(model.model_.parameters()).device.type == "cuda"
    assert model.score(Xte, yte) > 0.95
