"""A text course whose data has two text columns (a review's title and its body): the
reference models and the standard text pipelines read them joined, as students do; the
reference and similarity stages failed on "text data needs one feature column" after every
run, leaving the class with no plagiarism check at all."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reference.features import text_column
from reference.standard import standard_predictions

WORDS = {"sport": "ball goal team match", "food": "tasty bread soup salt",
         "tech": "laptop screen battery cable"}


def _frame(n: int, seed: int, labelled: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    labels = rng.choice(sorted(WORDS), n)
    rows = {"id": [f"r{seed}_{i}" for i in range(n)],
            "title": [rng.choice(WORDS[lab].split()) for lab in labels],
            "text": [" ".join(rng.choice(WORDS[lab].split(), 5)) for lab in labels]}
    if labelled:
        rows["label"] = labels
    return pd.DataFrame(rows)


def test_two_text_columns_are_one_document(tmp_path):
    train, test = _frame(120, 1, True), _frame(30, 2, False)
    docs_train, docs_test = text_column(train, test)
    assert docs_train.shape == (120, 1) and docs_test.shape == (30, 1)
    assert docs_train[0, 0] == f"{train.title[0]} {train.text[0]}"
    name = "sklearn:TfidfVectorizer+MultinomialNB()"
    got = standard_predictions(train, test, tmp_path, task="classification", modality="text",
                               names=[name])
    pred = got[name]
    assert not isinstance(pred, str), pred
    truth = [next(k for k, v in WORDS.items() if t in v.split()) for t in test.title]
    assert (np.asarray(pred) == np.asarray(truth)).mean() > 0.9


def test_texts_pandas_reads_as_missing_are_a_note_before_the_runs(tmp_path):
    # a review "NA" (or "None", or an empty one) in test.csv made every pandas + TF-IDF
    # student crash on "np.nan is an invalid document", and nothing said why beforehand
    from grader.validate import check_inputs

    (tmp_path / "data").mkdir()
    (tmp_path / "hidden").mkdir()
    (tmp_path / "course.toml").write_text('[competition]\nname = "t"\nmodality = "text"\n')
    train, test = _frame(60, 1, True), _frame(20, 2, False)
    test.loc[3, "text"] = "NA"
    test.loc[7, "text"] = ""
    train.to_csv(tmp_path / "data" / "train.csv", index=False)
    test.to_csv(tmp_path / "data" / "test.csv", index=False)
    pd.DataFrame({"id": test.id, "label": "sport"}).to_csv(
        tmp_path / "hidden" / "test_labels.csv", index=False)
    notes = check_inputs(tmp_path).notes
    (note,) = [n for n in notes if "reads as missing" in n]
    assert note.startswith("data/test.csv: 2 text(s) in column 'text' that pandas.read_csv "
                           "reads as missing ('', 'NA'; first at data/test.csv:5)")
    assert "keep_default_na=False" in note


def test_shared_wrong_answers_of_a_text_course_show_the_text(tmp_path):
    # image courses showed a thumbnail beside each shared wrong answer; a text course's TA
    # had to look each id up in test.csv
    from grader.batch.similarity import _Thumbnails
    from grader.course import load_course

    (tmp_path / "data").mkdir()
    (tmp_path / "hidden").mkdir()
    (tmp_path / "course.toml").write_text('[competition]\nname = "t"\nmodality = "text"\n')
    train, test = _frame(60, 1, True), _frame(20, 2, False)
    test.loc[4, "text"] = "long " * 60
    train.to_csv(tmp_path / "data" / "train.csv", index=False)
    test.to_csv(tmp_path / "data" / "test.csv", index=False)
    pd.DataFrame({"id": test.id, "label": "sport"}).to_csv(
        tmp_path / "hidden" / "test_labels.csv", index=False)
    thumbs = _Thumbnails(load_course(tmp_path))
    assert thumbs.text(test.id[0]) == f"{test.title[0]} {test.text[0]}"
    long = thumbs.text(test.id[4])
    assert len(long) == _Thumbnails.TEXT_CHARS and long.endswith("…")
    assert thumbs.get(test.id[0]) is None  # no picture of a text


def test_a_text_course_naming_a_numeric_reference_model_is_told_before_the_runs(tmp_path):
    # baseline = "multinomial_nb" on a text course failed only after every student had run,
    # with a hint about budget_s; a listed one was skipped without a word
    import pytest

    from grader.errors import InputFileError
    from grader.validate import check_inputs

    (tmp_path / "data").mkdir()
    (tmp_path / "hidden").mkdir()
    (tmp_path / "course.toml").write_text(
        '[competition]\nname = "t"\nmodality = "text"\n[grading]\nbaseline = "multinomial_nb"\n'
        '[reference]\nmodels = ["knn_levenshtein", "linear_softmax"]\n')
    train, test = _frame(60, 1, True), _frame(20, 2, False)
    train.to_csv(tmp_path / "data" / "train.csv", index=False)
    test.to_csv(tmp_path / "data" / "test.csv", index=False)
    pd.DataFrame({"id": test.id, "label": "sport"}).to_csv(
        tmp_path / "hidden" / "test_labels.csv", index=False)
    with pytest.raises(InputFileError) as info:
        check_inputs(tmp_path)
    text = info.value.render()
    assert 'baseline = "multinomial_nb"\n    multinomial_nb needs numeric features and the ' \
           "course's data is text" in text
    assert '"linear_softmax"\n    linear_softmax needs numeric features' in text
    assert "knn_levenshtein\n" not in text and "string_kernel_svm" in text
