"""The course models on the slides' worked examples and small hand-checked cases."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reference import MODEL_TASKS, MODELS, make_model
from reference._linear import (
    gradient_check,
    linear_loss_and_grad,
    multiclass_hinge_loss,
    numerical_gradient,
    softmax,
    softmax_cross_entropy,
)
from reference._torch_nets import (
    build_mlp,
    cnn_summary,
    conv_output_size,
    infer_image_shape,
    vgg16_layers,
)
from tests.conftest import WORKED_EXAMPLES

EXAMPLES = WORKED_EXAMPLES


@pytest.fixture(scope="module")
def worked() -> dict:
    return json.loads(EXAMPLES.read_text())


# --- losses, softmax and the gradient check ---------------------------------------------


def test_hinge_and_softmax_first_example(worked):
    ex = worked["linear_classifier_losses"]
    scores = np.asarray(ex["scores_columns_are_examples"]).T  # rows are examples here
    y = ex["true_class_per_example"]
    np.testing.assert_allclose(
        multiclass_hinge_loss(scores, y), ex["multiclass_svm_hinge_per_example"]
    )
    assert multiclass_hinge_loss(scores, y).mean() == pytest.approx(ex["multiclass_svm_hinge_mean"])
    first = ex["softmax_first_example"]
    np.testing.assert_allclose(softmax(scores[:1])[0], first["probabilities"], atol=5e-9)
    assert softmax_cross_entropy(scores[:1], [0])[0] == pytest.approx(first["loss"], rel=1e-12)


def test_second_example_through_the_linear_classifier(worked):
    ex = worked["linear_classifier_losses"]["second_example"]
    W, x, b = np.asarray(ex["W"]), np.asarray(ex["x"], float), np.asarray(ex["b"])
    scores = W @ x + b
    np.testing.assert_allclose(scores, ex["scores"], atol=1e-12)
    y = [ex["true_class"]]
    assert multiclass_hinge_loss(scores[None], y)[0] == pytest.approx(ex["hinge_loss"])
    np.testing.assert_allclose(softmax(scores[None])[0], ex["softmax_probabilities"], atol=5e-9)
    assert softmax_cross_entropy(scores[None], y)[0] == pytest.approx(ex["softmax_loss"])
    # linear_loss_and_grad gives the same numbers from W, b and x (no regularisation).
    for loss, key in (("hinge", "hinge_loss"), ("softmax", "softmax_loss")):
        value, _, _ = linear_loss_and_grad(W, b, x[None], np.array(y), loss=loss, reg=0.0)
        assert value == pytest.approx(ex[key])
    assert softmax_cross_entropy(scores[None], y)[0] != pytest.approx(ex["slide_value"])


def test_gradient_check_on_the_slides_function(worked):
    g = worked["gradient"]
    f = eval(f"lambda x: {g['f']}")  # noqa: S307 - the course's own formula, a constant
    f_prime = eval(f"lambda x: {g['f_prime']}")  # noqa: S307
    for x0 in (-2.0, -0.5, 0.0, 1.0, 1.7):
        x = np.array([x0])
        assert gradient_check(lambda v: float(f(v[0])), lambda v: f_prime(v), x) < 1e-7
        # The slides' forward difference with h = 0.001 is within O(h) of the derivative.
        fwd = numerical_gradient(lambda v: float(f(v[0])), x, h=1e-3, centered=False)[0]
        assert fwd == pytest.approx(f_prime(x0), abs=0.02)
    # A wrong derivative is caught.
    assert (
        gradient_check(lambda v: float(f(v[0])), lambda v: 2 * v**3 - 4 * v, np.array([1.0])) > 0.1
    )


@pytest.mark.parametrize("loss", ["hinge", "softmax"])
def test_analytic_gradients_pass_the_numerical_check(loss):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((9, 5)), rng.integers(0, 4, 9)
    W, b = rng.standard_normal((4, 5)), rng.standard_normal(4)
    reg = 0.1
    _, dW, db = linear_loss_and_grad(W, b, X, y, loss=loss, reg=reg)
    fW = lambda w: linear_loss_and_grad(w, b, X, y, loss=loss, reg=reg)[0]  # noqa: E731
    fb = lambda c: linear_loss_and_grad(W, c, X, y, loss=loss, reg=reg)[0]  # noqa: E731
    assert gradient_check(fW, dW, W) < 1e-6
    assert gradient_check(fb, db, b) < 1e-6


# --- CNN builder: the slides' conv arithmetic ------------------------------------------------


def test_conv_output_sizes(worked):
    for ex in worked["conv_layers"]["examples"]:
        if ex.get("pool"):
            continue
        if ex["out"] is None:
            with pytest.raises(ValueError, match="does not fit"):
                conv_output_size(ex["W"], ex["F"], ex["S"], ex["P"])
        else:
            assert conv_output_size(ex["W"], ex["F"], ex["S"], ex["P"]) == ex["out"]


def test_conv_layers_shapes_and_params_through_the_builder(worked):
    for ex in worked["conv_layers"]["examples"]:
        if "params" not in ex:
            continue
        if ex.get("pool"):
            layer, channels = ("pool", ex["F"], ex["S"]), 96
        else:
            layer, channels = ("conv", ex["K"], ex["F"], ex["S"], ex["P"]), ex["D"]
        (info,) = cnn_summary([layer], (channels, ex["W"], ex["W"]))
        assert info.out_shape[1:] == (ex["out"], ex["out"])
        assert info.params == ex["params"]


def test_vgg16_has_138_million_parameters(worked):
    summary = cnn_summary(vgg16_layers(), (3, 224, 224), n_classes=1000)
    total = sum(i.params for i in summary)
    assert total == 138_357_544
    assert round(total / 1e6) == worked["conv_layers"]["vgg16_total_params_millions"]
    assert summary[-1].out_shape == (1000,)


def test_builder_rejects_a_filter_that_does_not_fit():
    with pytest.raises(ValueError, match="does not fit"):
        cnn_summary([("conv", 4, 3, 3, 0)], (1, 7, 7))


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "elu", "tanh", "sigmoid", "maxout"])
def test_mlp_builder_activations(activation):
    import torch

    net = build_mlp(4, (6, 5), 3, activation=activation, dropout=0.1, batch_norm=True)
    out = net.eval()(torch.zeros(2, 4))
    assert out.shape == (2, 3)
    n_params = sum(p.numel() for p in net.parameters())
    pieces = 2 if activation == "maxout" else 1
    linear = (4 * 6 + 6) * pieces + (6 * 5 + 5) * pieces + (5 * 3 + 3)
    assert n_params == linear + 2 * (6 + 5)  # batch-norm scale and shift


def test_infer_image_shape():
    assert infer_image_shape(64) == (1, 8, 8)
    assert infer_image_shape(3 * 32 * 32) == (3, 32, 32)
    assert infer_image_shape(10) == (1, 1, 10)


# --- k-NN tie-breaking -------------------------------------------------------------------


def test_knn_tie_breaks():
    # Query at 0: neighbours at 1 (class a), 2 (class b), 3 (class b), -1.5 (class a) — k=4
    # gives two votes each. 1-NN says a (distance 1); distance weights: a 1/1 + 1/1.5 = 1.67
    # beats b 1/2 + 1/3 = 0.83.
    X = np.array([[1.0], [2.0], [3.0], [-1.5]])
    y = np.array(["a", "b", "b", "a"])
    q = np.array([[0.0]])
    for rule in ("nearest", "distance"):
        assert make_model("knn", n_neighbors=4, tie_break=rule).fit(X, y).predict(q)[0] == "a"
    # Nearest neighbour a (at 1.0), the other a far off (-10): 1-NN says a, but distance
    # weights favour b at 1.1 and 1.2 (1/1.1 + 1/1.2 = 1.74 > 1/1 + 1/10 = 1.1).
    X2 = np.array([[1.0], [1.1], [1.2], [-10.0]])
    assert make_model("knn", n_neighbors=4, tie_break="distance").fit(X2, y).predict(q)[0] == "b"
    assert make_model("knn", n_neighbors=4, tie_break="nearest").fit(X2, y).predict(q)[0] == "a"
    # Votes a 1, b 2, c 2 (k = 5, query at 0): the slides' 1-NN is a (the nearest, not a
    # tied label); the weighted vote of all five neighbours is a too (1 > 1/2 + 1/3 > 1/4 +
    # 1/5). Both once chose among the tied labels only: b.
    X3 = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]])
    y3 = np.array(["a", "b", "b", "c", "c"])
    for rule in ("nearest", "distance"):
        assert make_model("knn", n_neighbors=5, tie_break=rule).fit(X3, y3).predict(q)[0] == "a"
    # Random: seeded, so repeatable, and both tied labels occur over many queries.
    qs = np.zeros((200, 1))
    picks = make_model("knn", n_neighbors=4, random_state=0).fit(X, y).predict(qs)
    assert set(picks) == {"a", "b"}
    again = make_model("knn", n_neighbors=4, random_state=0).fit(X, y).predict(qs)
    np.testing.assert_array_equal(picks, again)


def test_knn_metrics_and_regression(worked):
    d = worked["distances"]
    X = np.array([d["x"], d["y"]], float)
    knn = make_model("knn", n_neighbors=1, metric="minkowski", p=0.5).fit(X, [0, 1])
    assert knn.predict([[5, 1, 3, 0.1]])[0] == 0
    h = worked["distances"]["hamming"]
    cat = make_model("knn", n_neighbors=1, metric="hamming").fit(
        np.array([h["x"], list("TTTT")]), ["first", "second"]
    )
    assert cat.predict(np.array([h["y"]]))[0] == "first"  # distance 2 vs 3
    lev = make_model("knn_levenshtein").fit(np.array([["kitten"], ["banana"]]), [0, 1])
    assert lev.predict(np.array([["sitting"], ["bandana"]])).tolist() == [0, 1]
    reg = make_model("knn_regressor", n_neighbors=2).fit([[0.0], [1.0], [10.0]], [0.0, 2.0, 50.0])
    assert reg.predict([[0.4]])[0] == pytest.approx(1.0)


def test_kernel_ridge_dual_form_on_the_slides_gram_matrices(worked):
    g = worked["gram_matrices"]
    X, y, Y = np.asarray(g["X"], float), np.asarray(g["labels"], float), np.asarray(g["Y"], float)
    lam = 1e-6  # the slides' lambda
    krr = make_model("kernel_ridge", kernel="linear", lam=lam).fit(X, y)
    alpha = np.linalg.inv(np.asarray(g["K_X"]) + lam * np.eye(4)) @ y
    np.testing.assert_allclose(krr.dual_coef_, alpha, rtol=1e-6)
    np.testing.assert_allclose(krr.predict(Y), np.asarray(g["K_Y"]) @ alpha, rtol=1e-6)
    clf = make_model("kernel_ridge_ova", kernel="linear", lam=lam).fit(X, y.astype(int))
    np.testing.assert_array_equal(clf.predict(Y), np.sign(np.asarray(g["K_Y"]) @ alpha))


def test_string_kernel_svm_and_multinomial_bins():
    docs = np.array([["the cat sat"], ["a cat sat"], ["stock prices fell"], ["prices fell"]])
    svm = make_model("string_kernel_svm", C=10.0).fit(docs, ["pets", "pets", "money", "money"])
    assert svm.predict(np.array([["my cat sat"], ["prices rose"]])).tolist() == ["pets", "money"]
    nb = make_model("multinomial_nb", n_bins=4, value_range=(0, 255)).fit(
        [[0, 10], [250, 240]], [0, 1]
    )
    np.testing.assert_array_equal(nb.bin_edges_, [0, 85, 170, 255])
    assert nb.predict([[20, 5], [255, 200]]).tolist() == [0, 1]


def test_multinomial_nb_per_feature_bins_match_kbins_discretizer():
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import KBinsDiscretizer

    rng = np.random.default_rng(0)
    X = rng.random((80, 3)) * [1.0, 100.0, 10.0]
    y = (X[:, 0] + X[:, 1] / 100 > 1).astype(int)
    ours = make_model("multinomial_nb", n_bins=4, per_feature=True).fit(X, y)
    theirs = make_pipeline(
        KBinsDiscretizer(n_bins=4, encode="ordinal", strategy="uniform"), MultinomialNB()
    ).fit(X, y)
    Xq = rng.random((50, 3)) * [1.0, 100.0, 10.0]
    np.testing.assert_array_equal(ours._bins(Xq), theirs[0].transform(Xq))
    np.testing.assert_array_equal(ours.predict(Xq), theirs.predict(Xq))


def test_registry():
    assert {
        "majority",
        "stratified",
        "gaussian_nb",
        "multinomial_nb",
        "bernoulli_nb",
        "knn",
        "kernel_ridge",
        "kernel_ridge_ova",
        "svm_ovo",
        "svm_ova",
        "lda",
        "perceptron",
        "linear_hinge",
        "linear_softmax",
        "mlp",
        "cnn",
        "cnn_alexnet",
        "cnn_vgg",
        "cnn_resnet",
        "knn_regressor",
    } <= set(MODELS)
    assert set(MODEL_TASKS) == set(MODELS)
    with pytest.raises(KeyError, match="did you mean 'knn'"):
        make_model("knm")


@pytest.mark.parametrize("name", ["simple", "alexnet", "vgg", "resnet"])
@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 32, 32), (1, 1, 5)])
def test_presets_build_and_their_summary_matches_a_forward_pass(name, shape):
    import torch

    from reference._torch_nets import architecture, build_cnn

    model, summary = build_cnn(architecture(name, shape), shape, n_classes=4)
    out = model.eval()(torch.zeros(2, *shape))
    assert tuple(out.shape) == (2, 4) == (2, *summary[-1].out_shape)
    assert sum(i.params for i in summary) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("kw", [{"name": "cnn_resnet"}, {"name": "mlp", "activation": "maxout"}])
def test_trained_networks_with_custom_layers_pickle(kw):
    import pickle

    params = {k: v for k, v in kw.items() if k != "name"}
    X = np.random.default_rng(0).random((40, 16))
    y = np.arange(40) % 2
    model = make_model(kw["name"], max_epochs=2, device="cpu", random_state=0, **params).fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))


def test_networks_start_from_the_slides_xavier_initialisation():
    # "Inițializarea ponderilor (folosim Xavier)": normal, mean 0, Var(W) = 2 / (n_in + n_out)
    import torch
    import torch.nn as nn

    from reference._torch_nets import init_weights

    torch.manual_seed(0)
    net = init_weights(nn.Sequential(nn.Linear(600, 400), nn.ReLU(), nn.Conv2d(8, 16, 3)))
    lin, conv = net[0], net[2]
    assert lin.weight.std().item() == pytest.approx((2 / (600 + 400)) ** 0.5, rel=0.02)
    assert conv.weight.std().item() == pytest.approx((2 / (8 * 9 + 16 * 9)) ** 0.5, rel=0.1)
    assert not lin.bias.any() and not conv.bias.any()
    torch.manual_seed(0)
    default = init_weights(nn.Linear(600, 400), "default")  # PyTorch's: U(+-1/sqrt(n_in))
    assert default.weight.std().item() == pytest.approx((1 / 600 / 3) ** 0.5, rel=0.02)
    assert make_model("mlp").get_params()["init"] == "xavier"
    with pytest.raises(ValueError, match="init must be one of"):
        make_model("mlp", init="he", max_epochs=1).fit(np.eye(4), [0, 1, 0, 1])
