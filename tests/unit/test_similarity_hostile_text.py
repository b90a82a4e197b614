"""A submission whose string literals hold escaped lone surrogates ("\\udcff") is compared like
any other: it once stopped the whole comparison (UnicodeEncodeError in a feature hash)."""

from __future__ import annotations

from similarity import SimilarityOptions, compare, write_outputs
from similarity.features import extract_text

HOSTILE = 'x = "\\udcff"\ny = {"\\ud800": [1, 2, 3]}\nfor k in y:\n    print(k, x, y[k])\n'


def test_escaped_lone_surrogates_do_not_stop_the_comparison(tmp_path):
    assert "\\udcff" in HOSTILE  # the escape as written in the file, not the character
    f = extract_text(HOSTILE)
    assert f.canon and f.ast_keys.size
    for name, text in (("a", HOSTILE), ("b", HOSTILE.replace("y", "table")),
                       ("c", "import os\nprint(sorted(os.listdir('.')))\n")):
        (tmp_path / f"{name}.py").write_text(text)
    subs = {n: tmp_path / f"{n}.py" for n in "abc"}
    result = compare(subs, options=SimilarityOptions(min_score=0.0))
    top = result.pairs[0]
    assert (top.a, top.b) == ("a", "b") and top.flagged
    write_outputs(result, tmp_path / "out")
    assert (tmp_path / "out" / "pairs.csv").read_text().count("\n") == 4
