"""Which pairs get the behavioural evidence spelled out for their pair page
(``grader.batch.similarity._behaviour_evidence``): flagged pairs, the strongest behaviour, and
every pair with identical predictions, whether or not its identity is evidence (an *unproven*
pair says why it is not)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from grader.batch import similarity as batch_similarity
from reports import render as reports_render
from similarity import SimilarityOptions, compare
from similarity.behaviour import BehaviourModel
from similarity.behaviour_identity import IdentityEvidence
from tests.unit.test_behaviour_identity import _easy_class
from tests.unit.test_similarity_explained_rank import PROGRAMS


def test_identical_pairs_get_their_words_even_outside_the_strongest(tmp_path, monkeypatch):
    truth, hard, popular, preds = _easy_class()
    acc = truth.copy()
    acc[hard[:5]] = popular[hard[:5]]  # two accurate students, identical, 5 wrong answers
    preds["acc1"], preds["acc2"] = [str(v) for v in acc], [str(v) for v in acc]
    model = BehaviourModel.fit(preds, [str(t) for t in truth])
    ev = IdentityEvidence(model)
    students = {"acc1": "a", "acc2": "b", "s01": "c", "s02": "d", "s03": "e"}
    subs = {}
    for name, program in students.items():
        (tmp_path / f"{name}.py").write_text(PROGRAMS[program])
        subs[name] = tmp_path / f"{name}.py"
    result = compare(subs, options=SimilarityOptions(min_score=0.0), behaviour=ev)
    by = {(p.a, p.b): p for p in result.pairs}
    twins = by[("acc1", "acc2")]
    assert twins.behaviour["agreement"] == 1.0 and twins.behaviour["behaviour"] == 0.0
    assert not twins.flagged
    # an 8 x 8 pixel course (as digits): the shared wrong answers come with their images
    data = tmp_path / "data"
    data.mkdir()
    pixels = np.random.default_rng(0).integers(0, 17, (truth.size, 64))
    table = pd.DataFrame(pixels, columns=[f"px{i}" for i in range(64)])
    table.insert(0, "id", [str(i) for i in range(truth.size)])
    table.to_csv(data / "test.csv", index=False)
    # none of the strongest-behaviour or best-ranked places: only flagged and identical pairs
    # and those with code fragments (each has a page) are chosen
    monkeypatch.setattr(batch_similarity, "EVIDENCE_PAIRS", 0)
    monkeypatch.setattr(reports_render, "TOP_PAIR_PAGES", 0)
    batch_similarity._behaviour_evidence(result.pairs, ev, SimpleNamespace(data_dir=data))
    words = twins.behaviour["description"]
    assert words.startswith("identical predictions on every hidden test id")
    assert "too few to tell copying from two accurate models" in words
    shown = twins.behaviour["shared_wrong"]
    assert len(shown) == 5
    assert all(row["image"].startswith("data:image/png;base64,") for row in shown)
    others = [p for p in result.pairs if p is not twins and p.behaviour and not p.flagged]
    assert others and all(("description" in p.behaviour) == bool(p.fragments) for p in others)


def test_a_flagged_identity_says_how_likely_its_wrong_answers_are_by_chance(tmp_path):
    truth, hard, _, preds = _easy_class()
    weak = np.array([int(v) for v in preds["s04"]])  # a weaker student, 25 more errors ...
    extra = np.setdiff1d(np.arange(truth.size), hard)[:25]
    weak[extra] = (truth[extra] + 3) % 10
    preds["s04"] = [str(v) for v in weak]
    preds["copy"] = list(preds["s04"])  # ... and a copy: identity is the evidence
    model = BehaviourModel.fit(preds, [str(t) for t in truth])
    ev = IdentityEvidence(model)
    subs = {}
    for name, program in (("s04", "a"), ("copy", "b"), ("s01", "c"), ("s02", "d")):
        (tmp_path / f"{name}.py").write_text(PROGRAMS[program])
        subs[name] = tmp_path / f"{name}.py"
    result = compare(subs, options=SimilarityOptions(min_score=0.0), behaviour=ev)
    pair = next(p for p in result.pairs if {p.a, p.b} == {"s04", "copy"})
    assert pair.flagged and pair.behaviour["behaviour"] >= 0.5
    data = tmp_path / "data"  # the test inputs: plain columns, no images
    data.mkdir()
    pd.DataFrame({"id": [str(i) for i in range(truth.size)], "x": 0}).to_csv(
        data / "test.csv", index=False)
    batch_similarity._behaviour_evidence(result.pairs, ev, SimpleNamespace(data_dir=data))
    words = pair.behaviour["description"]
    tail = ev.identity_tail("s04", "copy")
    assert f"(that many identical wrong answers or more by chance: {tail:.2g}, under the " \
           "0.01 from which identical predictions are evidence)" in words
