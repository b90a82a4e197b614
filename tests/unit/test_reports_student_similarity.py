"""A student's released similarity section lists the findings about them (flagged or
confirmed pairs), not every stored pair: the store keeps all of them, so a class gave each
student a line per classmate, mostly near 0, and "No notable similarity was found." never
showed. The real similarity engine on real programs, a real store, ``render_all``."""

from __future__ import annotations

from grader.store import Store
from reports.render import render_all
from similarity import SimilarityOptions, compare

ORIGINAL = '''import os
import pandas as pd
from sklearn.linear_model import Ridge

def load(name):
    return pd.read_csv(os.path.join(os.environ["GRADER_DATA"], name))

train, test = load("train.csv"), load("test.csv")
features = [c for c in train.columns if c.startswith("f")]
model = Ridge(alpha=0.1).fit(train[features], train["label"])
scores = model.predict(test[features])
for lower, upper in ((0, 50), (50, 100), (100, 400)):
    print(lower, upper, ((scores >= lower) & (scores < upper)).sum())
pd.DataFrame({"id": test["id"], "label": scores}).to_csv(
    os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), index=False)
'''
COPY = ORIGINAL.replace("train", "df_train").replace("model", "reg").replace("scores", "out")
OTHERS = {
    "carol": "import numpy as np\nprint(np.linalg.solve(np.eye(3) * 2, np.ones(3)))\n",
    "dan": "total = 0\nfor k in range(10):\n    total += k * k\nprint('sum of squares', total)\n",
}


def test_students_see_their_findings_not_every_pair(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    programs = {"ana": ORIGINAL, "bob": COPY, **OTHERS}
    for name, text in programs.items():
        (subs / f"{name}.py").write_text(text)
    result = compare({n: subs / f"{n}.py" for n in programs},
                     options=SimilarityOptions(min_score=0.0))
    pairs = {frozenset((p.a, p.b)): p for p in result.pairs}
    assert len(pairs) == 6 and pairs[frozenset(("ana", "bob"))].flagged
    assert not any(p.flagged for k, p in pairs.items() if k != frozenset(("ana", "bob")))
    out = tmp_path / "out"
    with Store(out / "grading.db") as st:
        st.set_meta(course="t", config={
            "competition": {"metric": "mse"}, "similarity": {"threshold": 0.45},
            "reports": {"release_similarity": True}})
        st.put_submissions([dict(student=n, path=str(subs / f"{n}.py"), entry=f"{n}.py",
                                 files=[f"{n}.py"], content_hash=n, accepted=True, reason=None,
                                 hint=None) for n in programs])
        st.put_similarity([p.to_dict() for p in result.pairs], result.clusters)
        render_all(out, st.snapshot())
    page = {n: (out / "reports" / "students" / f"{n}.txt").read_text() for n in programs}
    for n in ("ana", "bob"):  # one finding each: the copy, flagged, without its name
        section = page[n].split("Similarity check:")[1]
        assert section.count("another submission: ") == 1, section
        assert "(flagged for review)" in section and ({"ana", "bob"} - {n}).pop() not in section
    for n in OTHERS:
        assert "No notable similarity was found." in page[n], page[n]
        assert "another submission" not in page[n]
    html = (out / "reports" / "students" / "carol.html").read_text()
    assert "<p>No notable similarity was found.</p>" in html
