"""The scikit-learn defaults' predictions are cached in the store per data set, scikit-learn
version and the code that fits them (``grader.batch.similarity.standard_model_predictions``)."""

from __future__ import annotations

import shutil

import reference.standard
from grader.batch.similarity import standard_model_predictions
from grader.course import load_course
from grader.store import Store


def _course(root):
    (root / "data").mkdir(parents=True)
    (root / "hidden").mkdir()
    (root / "course.toml").write_text('[competition]\nname = "t"\n')
    rows = [f"a{i},{(i * 7) % 3},{i % 5},{(i * 3) % 7}" for i in range(30)]
    (root / "data/train.csv").write_text("id,label,x,z\n" + "\n".join(rows) + "\n")
    (root / "data/test.csv").write_text("id,x,z\nt1,1,2\nt2,3,4\nt3,0,6\n")
    (root / "hidden/test_labels.csv").write_text("id,label\nt1,0\nt2,1\nt3,2\n")
    return load_course(root)


def test_fitted_once_then_from_the_store_until_the_fitting_code_changes(tmp_path, monkeypatch):
    course = _course(tmp_path / "course")
    heard: list[str] = []
    with Store(tmp_path / "grading.db") as store:
        first = standard_model_predictions(course, store, heard.append)
        assert any("fitting" in line for line in heard)
        knn = first["sklearn:KNeighborsClassifier()"]
        assert len(knn) == 3 and set(knn) <= {"0", "1", "2"}

        heard.clear()
        assert standard_model_predictions(course, store, heard.append) == first
        assert not heard  # all from the store

        # the same names, fitted by other code (an upgrade): fitted again, not served stale
        changed = tmp_path / "standard.py"
        shutil.copy(reference.standard.__file__, changed)
        changed.write_text(changed.read_text() + "\n# another way of fitting\n")
        monkeypatch.setattr(reference.standard, "__file__", str(changed))
        again = standard_model_predictions(course, store, heard.append)
        assert any("fitting" in line for line in heard)
        assert again == first
