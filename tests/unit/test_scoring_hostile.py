"""A hostile ``submission.csv``: every malformed file is ``OutputInvalid`` with a reason, never a
crash of the batch (issue 16, item 1)."""

import random

import pytest

from grader.scoring import MAX_FIELD_CHARS, OutputInvalid
from tests.unit.test_scoring import make


def _valid(n=200, labels=None, sep="\n"):
    labels = labels or [("cat", "dog", "frog")[i % 3] for i in range(n)]
    return ("id,label" + sep + "".join(f"t{i},{labels[i]}{sep}" for i in range(n))).encode()


@pytest.mark.parametrize("sep", ["\n", "\r\n", "\r"])
def test_every_line_ending_reads_alike(tmp_path, sep):
    scorer, labels = make(tmp_path)
    score = scorer.evaluate(_valid(labels=labels, sep=sep))
    assert score.private == 1.0 and score.public == 1.0


def test_mixed_line_endings_read_alike(tmp_path):
    scorer, labels = make(tmp_path)
    seps = ["\n", "\r\n", "\r"]
    raw = "id,label\r" + "".join(f"t{i},{labels[i]}{seps[i % 3]}" for i in range(200))
    assert scorer.evaluate(raw.encode()).private == 1.0


def test_a_200000_character_label_is_invalid_output(tmp_path):
    scorer, labels = make(tmp_path)
    raw = _valid(labels=["x" * 200_000] + labels[1:])
    with pytest.raises(OutputInvalid, match=r"line 2 has a field longer than 1,000 characters"):
        scorer.parse(raw)


def test_a_field_just_over_the_bound_is_invalid_and_one_at_it_is_checked_as_a_label(tmp_path):
    scorer, labels = make(tmp_path)
    with pytest.raises(OutputInvalid, match="longer than"):
        scorer.parse(_valid(labels=["x" * (MAX_FIELD_CHARS + 1)] + labels[1:]))
    with pytest.raises(OutputInvalid, match="not in the training labels"):
        scorer.parse(_valid(labels=["x" * MAX_FIELD_CHARS] + labels[1:]))


def test_a_huge_quoted_field_spanning_lines_is_invalid_output(tmp_path):
    scorer, _ = make(tmp_path)
    raw = b'id,label\nt0,"' + b"a\n" * 100_000 + b'"\n'
    with pytest.raises(OutputInvalid, match="longer than"):
        scorer.parse(raw)


@pytest.mark.parametrize("raw,needle", [
    (b"id,label\nt0,c\x00at\n", "NUL byte"),
    (b"\x00", "NUL byte"),
    (b'id,label\nt0,"cat\n', "misses 199"),  # an unclosed quote runs to the end of the file
    (b"id,label\n" + b"t0,cat\n" * 1000, "more than once"),
    (b"id,label\n" + b"t0,cat\n" * 5000, "more than 1400 rows"),
    (b"\xef\xbb\xbf", "empty"),
    (b"\n\n\n", "header"),
    (b"id,label\x1b]0;pwned\x07\n", "header"),
])
def test_malformed_files_have_a_reason(tmp_path, raw, needle):
    scorer, _ = make(tmp_path)
    with pytest.raises(OutputInvalid, match=needle):
        scorer.parse(raw)


def test_regression_labels_python_reads_but_metrics_might_not(tmp_path):
    scorer, labels = make(tmp_path, metric="mse", classes=None)
    odd = ["1_0", "\u0661\u0662", " 1e5 ", "-0.5"] + labels[4:]
    raw = ("id,label\n" + "".join(f"t{i},{v}\n" for i, v in enumerate(odd))).encode()
    assert scorer.evaluate(raw).private >= 0.0
    with pytest.raises(OutputInvalid, match="not numbers"):
        scorer.evaluate(raw.replace(b"1_0", b"1e999"))


def _mutations(rng: random.Random, base: bytes):
    """Random damage to a valid file: flipped bytes, inserted specials, cut and spliced."""
    specials = [b"\r", b"\n", b'"', b",", b"\x00", b"\xff", b"\xef\xbb\xbf", b"\x1b[2J",
                b'"' * 3, b"\\", b"\t", b";", "\u2028".encode(),
                b"x" * 5000, b"\xc3", b"\xed\xa0\x80"]  # lone surrogate, encoded
    for _ in range(400):
        data = bytearray(base)
        for _ in range(rng.randint(1, 8)):
            op = rng.randrange(4)
            pos = rng.randrange(len(data) + 1)
            if op == 0 and data:
                data[min(pos, len(data) - 1)] = rng.randrange(256)
            elif op == 1:
                data[pos:pos] = rng.choice(specials)
            elif op == 2:
                del data[pos:pos + rng.randint(1, 40)]
            else:
                data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 20)))
        yield bytes(data)
    for _ in range(200):
        yield bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))


@pytest.mark.parametrize("metric,classes", [("accuracy", ("cat", "dog", "frog")),
                                            ("mse", None), ("roc_auc", ("0", "1"))])
def test_fuzz_parse_and_score_return_or_raise_output_invalid(tmp_path, metric, classes):
    """Seeded fuzz: parse and score either return or raise OutputInvalid, nothing else."""
    scorer, labels = make(tmp_path, metric=metric, n=30, classes=classes)
    if metric == "roc_auc":
        labels = ["0.25" if lab == "0" else "0.75" for lab in labels]
    base = _valid(n=30, labels=labels)
    rng = random.Random(16)
    outcomes = {"ok": 0, "invalid": 0}  # ok: damage that left a valid file (e.g. a label swap)
    for raw in _mutations(rng, base):
        try:
            scorer.evaluate(raw)
            outcomes["ok"] += 1
        except OutputInvalid as exc:
            assert str(exc).startswith("submission.csv"), raw
            outcomes["invalid"] += 1
    assert outcomes["invalid"] > 300, outcomes  # the damage does reach the checks


def test_empty_lines_count_against_the_row_bound(tmp_path):
    from tests.unit.test_scoring import csv_bytes

    scorer, labels = make(tmp_path)
    ids = [f"t{i}" for i in range(len(labels))]
    good = csv_bytes(ids, labels)
    # a csv written on Windows without newline="": an empty line after every row, still valid
    doubled = good.replace(b"\n", b"\r\r\n")
    assert scorer.evaluate(doubled).private == 1.0
    # millions of empty lines (the red team's 64 MB took 30 s and 500 MB): refused at once
    padded = good + b"\n" * 5_000_000
    with pytest.raises(OutputInvalid, match=r"more than \d+ empty lines for 200 test ids"):
        scorer.parse(padded)
