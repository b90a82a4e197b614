"""run_references end to end on real data: tabular, image files on disk, text, regression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_digits, load_iris

from reference import run_references
from reference.features import detect_modality, load_images, tabular_features
from reference.runner import SEARCH_SPACES


def _split(df: pd.DataFrame, frac: float = 0.7, seed: int = 0):
    idx = np.random.default_rng(seed).permutation(len(df))
    cut = int(frac * len(df))
    train, test = df.iloc[idx[:cut]], df.iloc[idx[cut:]]
    return train.reset_index(drop=True), test.reset_index(drop=True)


def _accuracy(result, test: pd.DataFrame) -> float:
    pred = result.predictions.loc[test["id"]].to_numpy()
    return float(np.mean(pred == test["label"].to_numpy()))


@pytest.fixture(scope="module")
def iris_frames():
    X, y = load_iris(return_X_y=True)
    df = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    df.insert(0, "id", [f"r{i:03d}" for i in range(len(y))])
    df["colour"] = np.where(np.arange(len(y)) % 2, "red", "blue")  # a categorical column
    df["label"] = np.array(["setosa", "versicolor", "virginica"])[y]
    return _split(df)


def test_tabular_models_predict_every_test_id(iris_frames):
    train, test = iris_frames
    seen = []
    results = run_references(
        train,
        test.drop(columns="label"),
        None,
        models=["majority", "gaussian_nb", "knn", "svm_ovo", "linear_softmax"],
        budget_s=20,
        seed=0,
        progress=seen.append,
    )
    assert [r.model for r in results] == [r.model for r in seen]
    by = {r.model: r for r in results}
    assert all(r.status == "ok" for r in results), [(r.model, r.message) for r in results]
    for r in results:
        assert list(r.predictions.index) == list(test["id"])
        assert r.fit_s >= 0 and r.predict_s >= 0 and r.validation_score is not None
    most = train["label"].value_counts().idxmax()
    assert set(by["majority"].predictions) == {most}
    for name in ("gaussian_nb", "knn", "svm_ovo", "linear_softmax"):
        assert _accuracy(by[name], test) > 0.85, name
    assert by["knn"].params["metric"] in ("l1", "l2")


def test_validation_df_is_used_and_results_are_seeded(iris_frames):
    train, test = iris_frames
    tr, val = _split(train, 0.75, seed=1)
    kw = dict(models=["knn", "linear_softmax"], budget_s=20, seed=3, validation_df=val)
    a = run_references(tr, test.drop(columns="label"), None, **kw)
    b = run_references(tr, test.drop(columns="label"), None, **kw)
    for ra, rb in zip(a, b, strict=True):
        assert ra.params == rb.params
        pd.testing.assert_series_equal(ra.predictions, rb.predictions)


def test_a_failing_model_is_a_result_and_the_others_still_run(iris_frames, monkeypatch):
    train, test = iris_frames
    monkeypatch.setitem(SEARCH_SPACES, "knn", [{"n_neighbors": 0}])
    results = run_references(
        train,
        test.drop(columns="label"),
        None,
        models=["knn", "majority", "kernel_ridge"],
        budget_s=5,
    )
    status = {r.model: r for r in results}
    assert status["knn"].status == "error" and "n_neighbors" in status["knn"].message
    assert status["majority"].status == "ok"
    assert (
        status["kernel_ridge"].status == "skipped"
        and "regression" in status["kernel_ridge"].message
    )


def test_unknown_model_and_missing_columns_raise_before_work(iris_frames):
    train, test = iris_frames
    with pytest.raises(KeyError, match="did you mean 'knn'"):
        run_references(train, test, None, models=["knnn"])
    with pytest.raises(ValueError, match="'id'"):
        run_references(train, test.drop(columns="id"), None, models=["majority"])


@pytest.fixture(scope="module")
def digits_images(tmp_path_factory):
    from PIL import Image

    root = tmp_path_factory.mktemp("course")
    data = root / "data"
    (data / "images").mkdir(parents=True)
    X, y = load_digits(return_X_y=True)
    X, y = X[:600], y[:600]
    names = []
    for i, row in enumerate(X):
        name = f"images/{i:04d}.png"
        Image.fromarray((row.reshape(8, 8) * 255 / 16).astype(np.uint8), mode="L").save(data / name)
        names.append(name)
    df = pd.DataFrame({"id": np.arange(len(y)), "file": names, "label": y})
    return data, root / "cache", X, df


def test_images_are_detected_loaded_and_cached(digits_images):
    data, cache, X, df = digits_images
    assert detect_modality(df, data) == "images"
    got = load_images(df["file"], data, cache_dir=cache)
    assert got.shape == (600, 64) and got.dtype == np.float32
    np.testing.assert_allclose(got, (X * 255 / 16).astype(np.uint8) / 255, atol=1e-6)
    cached = list(cache.glob("images-*.npy"))
    assert len(cached) == 1
    np.testing.assert_array_equal(load_images(df["file"], data, cache_dir=cache), got)
    assert list(cache.glob("images-*.npy")) == cached  # same content, same key: no new entry


def test_image_paths_cannot_leave_the_data_folder(digits_images, tmp_path):
    data, _, _, _ = digits_images
    (data.parent / "secret.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="outside the data folder"):
        load_images(["../secret.png"], data)
    with pytest.raises(ValueError, match="not found"):
        load_images(["images/missing.png"], data)


def test_image_models_run_on_files(digits_images):
    data, cache, _, df = digits_images
    train, test = _split(df)
    results = run_references(
        train,
        test.drop(columns="label"),
        data,
        models=["majority", "knn", "gaussian_nb"],
        budget_s=20,
        cache_dir=cache,
    )
    by = {r.model: r for r in results}
    assert all(r.status == "ok" for r in results), [(r.model, r.message) for r in results]
    assert _accuracy(by["knn"], test) > 0.9


@pytest.mark.slow
def test_cnn_on_non_square_colour_images(tmp_path):
    from PIL import Image

    data = tmp_path / "data"
    (data / "img").mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    for i in range(60):
        label = i % 2
        pixels = rng.integers(0, 60, size=(6, 10, 3), dtype=np.uint8)
        pixels[:, : 5 if label else 10, 0] += 150  # class 1: red on the left half only
        Image.fromarray(pixels, mode="RGB").save(data / f"img/{i}.png")
        rows.append({"id": i, "path": f"img/{i}.png", "label": label})
    df = pd.DataFrame(rows)
    X, shape = load_images(df["path"], data, return_shape=True)
    assert shape == (3, 6, 10) and X.shape == (60, 180)
    train, test = _split(df)
    (res,) = run_references(train, test.drop(columns="label"), data, models=["cnn"], budget_s=120)
    assert res.status == "ok", res.message
    assert res.params["image_shape"] == [3, 6, 10]  # the files' shape, not a guess from 180
    assert _accuracy(res, test) > 0.9


def test_text_models_with_string_kernels():
    rng = np.random.default_rng(0)
    ro = [
        "ana are mere si pere",
        "copiii merg la scoala",
        "vremea este frumoasa azi",
        "masina este in garaj",
        "cartea este pe masa",
    ]
    en = [
        "the cat sat on the mat",
        "children walk to school",
        "the weather is nice today",
        "the car is in the garage",
        "the book is on the table",
    ]
    rows = []
    for i in range(120):
        lang = i % 2
        src = ro if lang == 0 else en
        words = " ".join(rng.choice(" ".join(src).split(), size=6))
        rows.append({"id": i, "text": words, "label": "ro" if lang == 0 else "en"})
    df = pd.DataFrame(rows)
    assert detect_modality(df) == "text"
    train, test = _split(df)
    results = run_references(
        train,
        test.drop(columns="label"),
        None,
        models=["majority", "string_kernel_svm", "string_kernel_ridge", "knn_levenshtein", "knn"],
        budget_s=20,
    )
    by = {r.model: r for r in results}
    assert by["knn"].status == "skipped"
    assert by["string_kernel_svm"].status == "ok", by["string_kernel_svm"].message
    assert _accuracy(by["string_kernel_svm"], test) > 0.9
    assert by["string_kernel_ridge"].status == "ok", by["string_kernel_ridge"].message
    assert _accuracy(by["string_kernel_ridge"], test) > 0.9
    assert by["knn_levenshtein"].status == "ok"


def test_levenshtein_knn_is_skipped_on_long_texts():
    words = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit"]
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "id": range(30),
            "label": [i % 2 for i in range(30)],
            "text": [" ".join(rng.choice(words, 40)) for _ in range(30)],
        }
    )
    train, test = _split(df)
    (res,) = run_references(train, test.drop(columns="label"), None, models=["knn_levenshtein"])
    assert res.status == "skipped" and "quadratic" in res.message


def test_regression_models_beat_the_mean():
    X, y = load_diabetes(return_X_y=True)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    df.insert(0, "id", np.arange(len(y)))
    df["label"] = y
    train, test = _split(df)
    results = run_references(
        train, test.drop(columns="label"), None, task="regression", budget_s=20
    )
    by = {r.model: r for r in results}
    assert set(by) == {"mean", "knn_regressor", "kernel_ridge"}

    def mse(r):
        return float(np.mean((r.predictions.loc[test["id"]].to_numpy() - test["label"]) ** 2))

    assert mse(by["knn_regressor"]) < mse(by["mean"])
    assert mse(by["kernel_ridge"]) < mse(by["mean"])


def test_tabular_features_one_hot_and_fill():
    train = pd.DataFrame(
        {"id": [1, 2, 3], "a": [1.0, None, 3.0], "c": ["x", "y", "x"], "label": [0, 1, 0]}
    )
    test = pd.DataFrame({"id": [4], "a": [None], "c": ["z"]})
    Xtr, Xte = tabular_features(train, test)
    np.testing.assert_array_equal(Xtr, [[1, 1, 0, 0], [2, 0, 1, 0], [3, 1, 0, 0]])
    np.testing.assert_array_equal(Xte, [[2, 0, 0, 1]])
    with pytest.raises(ValueError, match="lack the training column"):
        tabular_features(train, test.drop(columns="c"))


def test_an_mae_course_scores_and_chooses_by_mae():
    # The validation score is the course metric's negative: MAE for an mae course, MSE
    # otherwise (checked by hand on the mean model), and the cache fingerprint tells them apart.
    from reference.runner import model_fingerprint

    X, y = load_diabetes(return_X_y=True)
    df = pd.DataFrame(X[:, :4], columns=["a", "b", "c", "d"])
    df.insert(0, "id", [f"p{i}" for i in range(len(y))])
    df["label"] = y
    train, test = _split(df)
    tr, val = _split(train, 0.75, seed=2)
    kw = dict(task="regression", models=["mean", "knn_regressor"], budget_s=20, seed=0,
              validation_df=val)
    by_mae = {r.model: r for r in run_references(tr, test.drop(columns="label"), None,
                                                 metric="mae", **kw)}
    by_mse = {r.model: r for r in run_references(tr, test.drop(columns="label"), None, **kw)}
    error = val["label"].to_numpy() - tr["label"].mean()
    assert by_mae["mean"].validation_score == pytest.approx(-np.mean(np.abs(error)))
    assert by_mse["mean"].validation_score == pytest.approx(-np.mean(error**2))
    assert by_mae["knn_regressor"].status == "ok"
    assert -by_mae["knn_regressor"].validation_score < -by_mae["mean"].validation_score
    fp = {m: model_fingerprint("knn_regressor", task="regression", modality="tabular", seed=0,
                               metric=m) for m in ("mae", "mse", None)}
    assert fp["mse"] == fp[None] != fp["mae"]
