"""submission.csv validation and the public/private split."""

import json

import numpy as np
import pandas as pd
import pytest

from grader.course import load_course
from grader.scoring import METRICS, OutputInvalid, Scorer
from tests.conftest import WORKED_EXAMPLES


def make(tmp_path, metric="accuracy", n=200, classes=("cat", "dog", "frog")):
    rng = np.random.default_rng(0)
    (tmp_path / "data").mkdir()
    (tmp_path / "hidden").mkdir()
    (tmp_path / "course.toml").write_text(
        f'[competition]\nname = "t"\nmetric = "{metric}"\nseed = 3\n')
    labels = [classes[i % len(classes)] for i in range(n)] if classes else \
        [f"{v:.3f}" for v in rng.normal(size=n)]
    (tmp_path / "data" / "train.csv").write_text(
        "id,label\n" + "".join(f"tr{i},{labels[i]}\n" for i in range(n)))
    (tmp_path / "data" / "test.csv").write_text("id\n" + "".join(f"t{i}\n" for i in range(n)))
    (tmp_path / "hidden" / "test_labels.csv").write_text(
        "id,label\n" + "".join(f"t{i},{labels[i]}\n" for i in range(n)))
    return Scorer(load_course(tmp_path)), labels


def csv_bytes(ids, labels, header="id,label"):
    return (header + "\n" + "".join(f"{i},{lab}\n" for i, lab in zip(ids, labels))).encode()


def test_perfect_and_split(tmp_path):
    scorer, labels = make(tmp_path)
    ids = [f"t{i}" for i in range(200)]
    score = scorer.score(scorer.parse(csv_bytes(ids, labels)))
    assert score.public == 1.0 and score.private == 1.0
    mask = scorer.public_mask
    assert mask.sum() == 60  # 30 % public
    # stratified: every class appears in the public part in proportion
    pub = scorer.truth[mask].value_counts()
    assert pub.min() >= 19
    # seeded: the same split every time
    assert (Scorer(scorer.course).public_mask == mask).all()
    assert score.details["confusion"][0][0] == labels.count("cat")


def test_public_and_private_differ(tmp_path):
    scorer, labels = make(tmp_path)
    ids = [f"t{i}" for i in range(200)]
    mask = scorer.public_mask.to_numpy()
    wrong = [("dog" if lab == "cat" else "cat") if m else lab for lab, m in zip(labels, mask)]
    s = scorer.score(scorer.parse(csv_bytes(ids, wrong)))
    assert s.public == 0.0 and s.private == 1.0


@pytest.mark.parametrize("raw,needle", [
    (b"", "empty"),
    (b"id,prediction\nt0,cat\n", "header"),
    (b"\xff\xfe", "UTF-8"),
    (b"id,label\nt0,cat,extra\n", "3 fields"),
    (b"id,label\nt0,cat\nt0,cat\n", "more than once"),
    (b"id,label\nzzz,cat\n", "not test ids"),
    (b"id,label\nt0,cat\n", "misses 199 of 200"),
    # pandas' default index column: the header is named as the cause, with the fix
    (b",id,label\n0,t0,cat\n", r"first column has no name.*index=False"),
    (b"Unnamed: 0,Id,Predicted\n0,t0,cat\n", r"header is 'Unnamed: 0,Id,Predicted'.*index=False"),
    (b"ID,class\nt0,cat,extra\n", r"header is 'ID,class'; expected"),
])
def test_invalid_outputs(tmp_path, raw, needle):
    scorer, _ = make(tmp_path)
    with pytest.raises(OutputInvalid, match=needle):
        scorer.parse(raw)


def test_labels_must_come_from_training_labels(tmp_path):
    scorer, labels = make(tmp_path)
    ids = [f"t{i}" for i in range(200)]
    with pytest.raises(OutputInvalid, match="'horse'"):
        scorer.parse(csv_bytes(ids, ["horse"] + labels[1:]))


def test_class_ids_written_as_floats_are_told_the_fix(tmp_path):
    """numpy/torch write class 3 as '3.0': still not a training label, but the message says
    how the labels must look instead of only listing the allowed ones."""
    scorer, labels = make(tmp_path, classes=("0", "1", "2"))
    ids = [f"t{i}" for i in range(200)]
    with pytest.raises(OutputInvalid, match=r"e\.g\. '0\.0'.*write them as train\.csv does "
                                            r"\('0', not '0\.0'.*astype\(int\)"):
        scorer.parse(csv_bytes(ids, [f"{lab}.0" for lab in labels]))
    with pytest.raises(OutputInvalid) as info:  # a class that does not exist: no such fix
        scorer.parse(csv_bytes(ids, ["7.0"] + labels[1:]))
    assert "astype" not in str(info.value)


def test_regression_needs_numbers(tmp_path):
    scorer, labels = make(tmp_path, metric="mse", classes=None)
    ids = [f"t{i}" for i in range(200)]
    with pytest.raises(OutputInvalid, match="not numbers"):
        scorer.parse(csv_bytes(ids, ["nan"] + labels[1:]))
    s = scorer.score(scorer.parse(csv_bytes(ids, labels)))
    assert s.private == 0.0 and not scorer.greater_is_better


@pytest.mark.parametrize("bad,needle", [
    # pandas writes NaN as an empty field: named as that, not as e.g. ''
    ("", r"not numbers, e\.g\. an empty label \(pandas writes NaN.*id 't0'.*numpy\.isfinite"),
    ("nan", r"'nan' \(NaN\) for id 't0'.*numpy\.isfinite"),
    ("-inf", r"'-inf' \(infinite\).*numpy\.isfinite"),
    ("high", r"'high' for id 't0'; the metric is mae: write the predicted number.*not a class"),
])
def test_regression_non_numbers_are_named_with_their_fix(tmp_path, bad, needle):
    scorer, labels = make(tmp_path, metric="mae", classes=None)
    ids = [f"t{i}" for i in range(200)]
    with pytest.raises(OutputInvalid, match=needle) as info:
        scorer.parse(csv_bytes(ids, [bad] + labels[1:]))
    assert "1 label(s)" in str(info.value)


def test_roc_auc_outside_0_1_names_the_value_and_the_positive_class(tmp_path):
    scorer, labels = make(tmp_path, metric="roc_auc", classes=("0", "1"))
    ids = [f"t{i}" for i in range(200)]
    probs = ["0.25"] * 197 + ["1.5", "-0.2", "3"]
    with pytest.raises(OutputInvalid, match=r"3 label\(s\) outside \[0, 1\], e\.g\. '1\.5' "
                                            r"for id 't197'.*positive class \('1'\).*"
                                            r"predict_proba\(X\)\[:, 1\]"):
        scorer.parse(csv_bytes(ids, probs))
    with pytest.raises(OutputInvalid, match=r"empty label.*probability of the positive class \('1'\)"):
        scorer.parse(csv_bytes(ids, [""] + probs[1:]))
    assert scorer.score(scorer.parse(csv_bytes(ids, ["0.5"] * 200))).private == 0.5


def test_metrics_match_worked_examples():
    ex = json.loads(WORKED_EXAMPLES.read_text())
    # the slide prints the confusion matrix as predicted (rows) by actual (columns)
    m = np.array(ex["classification_metrics"]["multiclass"]["confusion_matrix_as_printed_predicted_by_actual"])
    classes = ex["classification_metrics"]["multiclass"]["classes"]
    y, p = [], []
    for pi, row in enumerate(m):
        for ai, count in enumerate(row):
            y += [classes[ai]] * count
            p += [classes[pi]] * count
    acc = METRICS["accuracy"][0](np.array(y), np.array(p))
    assert acc == pytest.approx(ex["classification_metrics"]["multiclass"]["accuracy"])
    b = ex["classification_metrics"]["binary"]
    y = np.array([1] * b["tp"] + [1] * b["fn"] + [0] * b["fp"] + [0] * b["tn"])
    p = np.array([1] * b["tp"] + [0] * b["fn"] + [1] * b["fp"] + [0] * b["tn"])
    # gradebox's metric is the macro F1: the slide's F1 of the positive class averaged with the
    # negative class's F1, 2 tn / (2 tn + fn + fp), computed here from the same counts
    f1_negative = 2 * b["tn"] / (2 * b["tn"] + b["fn"] + b["fp"])
    assert METRICS["macro_f1"][0](y, p) == pytest.approx((b["f1"] + f1_negative) / 2)
    tau = ex["regression_metrics"]["kendall_tau_a"]
    # 5 items with 7 concordant and 3 discordant pairs, no ties: tau = (7 - 3) / 10
    x = np.array([1, 2, 3, 4, 5], dtype=float)
    for perm in __import__("itertools").permutations(range(5)):
        yy = np.array(perm, dtype=float)
        conc = sum((x[i] - x[j]) * (yy[i] - yy[j]) > 0 for i in range(5) for j in range(i + 1, 5))
        if conc == tau["concordant"]:
            break
    assert METRICS["kendall_tau"][0](pd.Series(x).to_numpy(), yy) == pytest.approx(tau["value"])


def _tau_a_by_pairs(x, y):
    n = len(x)
    signs = [np.sign((x[i] - x[j]) * (y[i] - y[j])) for i in range(n) for j in range(i + 1, n)]
    return sum(signs) / (n * (n - 1) / 2)


def test_kendall_tau_is_the_slides_tau_a_with_ties():
    # (P - Q) / (n(n-1)/2), a tied pair counting as neither: truth 1..5, predictions
    # [1, 1, 2, 3, 3] have P = 8, Q = 0 of 10 pairs: 0.8 (scipy's tau-b said 0.894, so
    # rounded predictions outscored exact ones)
    tau = METRICS["kendall_tau"][0]
    assert tau(np.arange(1.0, 6.0), np.array([1.0, 1, 2, 3, 3])) == pytest.approx(0.8)
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(2, 30))
        x = rng.integers(0, int(rng.integers(1, 6)), n).astype(float)
        y = rng.integers(0, int(rng.integers(1, 6)), n).astype(float)
        assert tau(x, y) == pytest.approx(_tau_a_by_pairs(x, y), abs=1e-12)
    assert tau(np.ones(4), np.arange(4.0)) == 0.0  # one ranking all tied: P = Q = 0
    assert tau(np.array([1.0]), np.array([2.0])) == 0.0  # no pair at all


def test_roc_auc_positive_class_is_the_one_students_are_told(tmp_path):
    # labels 9 and 10: numbers by value, so the positive class is '10' both in the message
    # and in the AUC (a string sort made it '9': probabilities of '10' scored as their inverse)
    scorer, labels = make(tmp_path, metric="roc_auc", classes=("9", "10"))
    ids = [f"t{i}" for i in range(200)]
    assert scorer.positive_label == "10"
    p_ten = ["0.9" if lab == "10" else "0.1" for lab in labels]
    assert scorer.score(scorer.parse(csv_bytes(ids, p_ten))).private == 1.0


@pytest.mark.parametrize("huge", ["1e308", "-1e200"])
def test_regression_labels_that_overflow_the_metric_are_invalid_not_ranked(tmp_path, huge,
                                                                           recwarn):
    # finite labels whose squared error overflows: the run was 'ok', ranked with an
    # inf mse, given a grade, and numpy's overflow warnings went to the instructor's terminal
    scorer, labels = make(tmp_path, metric="mse", classes=None)
    ids = [f"t{i}" for i in range(200)]
    preds = scorer.parse(csv_bytes(ids, [huge] * 200))
    with pytest.raises(OutputInvalid, match=rf"too large to score with mse: {huge} for id "
                                            r"'t\d+'.*diverged"):
        scorer.score(preds)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("header,needle", [
    ("# id,label", r"numpy\.savetxt starts its header with '# ' unless given comments=\"\""),
])
def test_headers_numpy_and_kaggle_write_are_told_their_fix(tmp_path, header, needle):
    scorer, labels = make(tmp_path)
    ids = [f"t{i}" for i in range(200)]
    with pytest.raises(OutputInvalid, match=needle):
        scorer.parse(csv_bytes(ids, labels, header=header))


@pytest.mark.parametrize("header", ["Id,Label", "ID,LABEL", "label,id", "Label,Id"])
def test_a_header_in_another_case_or_order_is_read_by_its_names(tmp_path, header):
    # 'Id,Label' (Kaggle's case) and 'label,id' are unambiguous: they once cost a student the
    # whole grade as invalid output
    scorer, labels = make(tmp_path)
    ids = [f"t{i}" for i in range(200)]
    swapped = header.lower() == "label,id"
    raw = "".join(f"{a},{b}\n" for a, b in (zip(labels, ids, strict=True) if swapped
                                            else zip(ids, labels, strict=True)))
    preds = scorer.parse(f"{header}\n{raw}".encode())
    assert preds.equals(scorer.parse(csv_bytes(ids, labels)))
    assert scorer.score(preds).private == 1.0


def test_integer_ids_written_as_floats_are_told_the_fix(tmp_path):
    # numpy.savetxt's default '%.18e' and an id column read as float: '2.000000000000000000e+00'
    # and '2.0' were "not test ids" with no word on why
    (tmp_path / "data").mkdir()
    (tmp_path / "hidden").mkdir()
    (tmp_path / "course.toml").write_text('[competition]\nname = "t"\n')
    (tmp_path / "data" / "train.csv").write_text("id,label\n" + "".join(
        f"{i},{i % 2}\n" for i in range(100, 140)))
    (tmp_path / "data" / "test.csv").write_text("id\n" + "".join(f"{i}\n" for i in range(40)))
    (tmp_path / "hidden" / "test_labels.csv").write_text("id,label\n" + "".join(
        f"{i},{i % 2}\n" for i in range(40)))
    scorer = Scorer(load_course(tmp_path))
    for written in ([f"{i:.18e}" for i in range(40)], [f"{i}.0" for i in range(40)]):
        with pytest.raises(OutputInvalid, match=r"not test ids: .*whole numbers written as "
                                                r"floats \(write the ids as integers"):
            scorer.parse(csv_bytes(written, [str(i % 2) for i in range(40)]))
    with pytest.raises(OutputInvalid) as info:  # ids that are simply wrong: no such fix
        scorer.parse(csv_bytes([str(i + 1000) for i in range(40)], ["0"] * 40))
    assert "floats" not in str(info.value)


def _refusal(scorer, raw: bytes) -> str:
    with pytest.raises(OutputInvalid) as info:
        scorer.parse(raw)
    return str(info.value)


def test_windows_and_spreadsheet_outputs_name_their_cause(tmp_path):
    # each said only "expected 'id,label'", "not UTF-8 text (byte 0)", "line 2 has 3
    # fields" or "not a class name or text", with the generic what-to-do line
    scorer, labels = make(tmp_path, metric="mse", classes=None)
    ids = [f"t{i}" for i in range(200)]
    good = csv_bytes(ids, labels).decode()
    assert "separated by ';', not commas" in _refusal(scorer, good.replace(",", ";").encode())
    assert "ends in an empty column (a trailing comma)" in _refusal(
        scorer, good.replace("id,label\n", "id,label,\n").encode())
    assert "is UTF-16 text, not UTF-8" in _refusal(scorer, good.encode("utf-16"))
    latin = "id,label\nt0,1\nş1,2\n".encode("cp1250")
    assert "(byte 14, line 3: a text in another encoding" in _refusal(scorer, latin)
    split = good.replace(f"t0,{labels[0]}", "t0,174,2")
    assert "174,2 looks like a number with a decimal comma" in _refusal(scorer, split.encode())
    quoted = good.replace(f"t0,{labels[0]}", 't0,"174,2"')
    assert "write numbers with a decimal point (174.2), not a decimal comma" in _refusal(
        scorer, quoted.encode())


def test_ids_without_their_leading_zeros_are_named(tmp_path):
    scorer, labels = make(tmp_path)
    for name in ("data/test.csv", "hidden/test_labels.csv"):
        path = tmp_path / name
        path.write_text(path.read_text().replace("\nt", "\n0"))
    scorer = Scorer(load_course(tmp_path))
    raw = csv_bytes([str(i) for i in range(200)], labels)  # 0 for 00, 1 for 01, ...
    assert "test ids without their leading zeros ('1' for '01'), lost when data/test.csv was " \
           "read as numbers; read it with pd.read_csv(path, dtype={'id': str})" in \
           _refusal(scorer, raw)


def test_labels_that_only_look_like_the_training_labels_say_what_differs(tmp_path):
    # 'şoarece' typed on a legacy Romanian keyboard, 'câine' in NFD, 'Câine': each was told
    # "not in the training labels, e.g. 'şoarece'; allowed: ... 'șoarece'" (the same on screen)
    import unicodedata

    scorer, labels = make(tmp_path, classes=("șoarece", "câine", "pisică"))
    ids = [f"t{i}" for i in range(200)]
    for wrong, why in (("şoarece", "'ş' (U+015F, latin small letter s with cedilla) where "
                                   "train.csv has 'ș' (U+0219, latin small letter s with comma "
                                   "below)"),
                       (unicodedata.normalize("NFD", "câine"), "the same letters in another "
                                                               "Unicode form (decomposed, NFD)"),
                       ("Câine", "a different case ('C' for 'c')")):
        right = unicodedata.normalize("NFC", wrong).replace("ş", "ș").lower()
        preds = [wrong if lab == right else lab for lab in labels]
        message = _refusal(scorer, csv_bytes(ids, preds))
        assert f"looks like the training label {right!r} but differs: {why}" in message
