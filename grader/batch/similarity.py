"""The similarity stage: the class compared with itself, the starter template, past years'
archive and known web sources (``similarity.compare``), pairs and clusters into the store.

When only some submissions are new or changed since the last run (a late submission), only
the pairs involving them are scored (``focus``); the others keep their stored scores and
evidence.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pandas as pd

import similarity
from diagnostics.progress import StageProgress
from diagnostics.text import shown_entries
from grader.course import Course, hash_tree
from grader.store import Store
from similarity.behaviour import BehaviourModel
from similarity.behaviour_identity import IdentityEvidence

__all__ = ["similarity_stage"]


def similarity_stage(course: Course, store: Store, out: Path,
                     say: Callable[[str], None]) -> None:
    """Compare the class (all pairs, or only the changed submissions' pairs) and store it."""
    sim = course.similarity
    options = similarity.SimilarityOptions.resolve(threshold=sim.threshold)
    rows = store.submissions()
    subs = {s["student"]: Path(s["path"]) for s in rows if s["accepted"]}
    # what a student's pairs depend on: the code, and the predictions (behavioural evidence)
    hashes = {s["student"]: f'{s["content_hash"]}:{_predictions_hash(out, s["student"])}'
              for s in rows if s["accepted"]}
    # A rejected submission is never run, but its code is compared like everyone's: a copy
    # sent as model.py beside config.py (no main.py) must still flag its source.
    entries = _rejected_entries([s["path"] for s in rows if not s["accepted"]],
                                store.meta().get("submissions_dir"))
    for s in rows:
        path = None if s["accepted"] else entries.get(s["path"])
        code = None if path is None else _rejected_code_hash(path, options)
        if code is not None:
            subs[s["student"]] = path
            hashes[s["student"]] = f"rejected:{code}"
    if len(subs) < 2:
        return
    corpora = {k: course.optional_dir(v, default) for k, v, default in (
        ("template", sim.template, "starter"), ("archive", sim.archive, "archive"),
        ("web", sim.web, "web"))}
    # every engine option counts, and the engine's own code (a new default or a new standard
    # model after an upgrade redoes the comparison; the per-file features stay cached)
    # and the reference models' predictions: they explain agreement too, so a later
    # ``--reference`` (or a retrained model) redoes the comparison (it kept the old results)
    settings = hashlib.blake2b(json.dumps(
        [course.describe()["similarity"], options.to_dict(),
         {k: _tree_hash(v) for k, v in corpora.items()}, _engine_hash(),
         store.reference_predictions()],
        sort_keys=True).encode(), digest_size=16).hexdigest()
    previous = store.meta().get("similarity_inputs") or {}
    focus: set[str] | None = None
    if previous.get("settings") == settings and (out / "similarity" / "pairs.csv").exists():
        old = previous.get("hashes", {})
        changed = {s for s in subs if old.get(s) != hashes[s]}
        removed = set(old) - set(subs)
        if not changed and not removed:
            say("similarity: no submission changed, previous results kept")
            return
        if len(changed) <= len(subs) // 2:
            focus = changed
    behaviour = behaviour_model(course, store, out, say)
    progress = StageProgress(say=say)  # a large class takes minutes: say where it is
    try:
        result = similarity.compare(subs, **corpora, options=options,
                                    cache_dir=out / "similarity" / "cache",
                                    focus=sorted(focus) if focus is not None else None,
                                    behaviour=behaviour, progress=progress)
    finally:
        progress.close()
    if behaviour is not None:
        _behaviour_evidence(result.pairs, behaviour, course)
    # The class's noise floor comes from a whole class's scores: a late submission's few
    # dozen pairs are too few to set one (the engine then keeps them all), so they are cut
    # at the floor of the last full comparison, and pairs.csv keeps the same rows whatever
    # order the submissions came in.
    floor = float(previous.get("noise_floor") or 0.0) if focus is not None \
        else float(result.stats.get("noise_floor") or 0.0)
    if focus is not None:
        result = _merge_pairs(result, store, keep=set(subs) - focus, floor=floor)
        if floor == 0.0:
            # the last full comparison had too few pairs for a floor, so every pair is here:
            # a class grown past that bound gets the floor a fresh comparison would set (an
            # incremental pairs.csv kept 780 rows where a fresh one kept 66)
            floor = similarity.noise_floor([p.score for p in result.pairs], options)
            if floor > 0.0:
                kept = [p for p in result.pairs if p.score >= floor or p.flagged]
                result = replace(result, pairs=kept, clusters=similarity.clusters(kept))
        say(f"similarity: {len(focus)} new or changed submission(s) compared with everyone; "
            "other pairs kept")
    (out / "similarity").mkdir(exist_ok=True)
    similarity.write_outputs(result, out / "similarity")
    store.put_similarity([_pair_dict(p) for p in result.pairs], result.clusters)
    store.set_meta(similarity_inputs={"settings": settings, "hashes": hashes,
                                      "noise_floor": floor})
    flagged = [p for p in result.pairs if p.flagged]
    say(f"similarity: {len(result.pairs)} pairs, {len(flagged)} above the threshold")


def behaviour_model(course: Course, store: Store, out: Path,
                    say: Callable[[str], None]) -> BehaviourModel | IdentityEvidence | None:
    """The behavioural evidence's null model, fitted to every valid run's predictions on all
    hidden test ids, with the reference models and the scikit-learn defaults as references
    (both can explain a pair's agreement). None when fewer than two runs are valid."""
    from grader.scoring import OutputInvalid, Scorer

    scorer = Scorer(course)
    ids = list(scorer.truth.index)
    regression = course.task != "classification" or course.metric == "roc_auc"
    preds: dict[str, list] = {}
    steps: dict[str, float] = {}  # regression: the step each student rounded to (0: none)
    for student, sc in sorted(store.scores().items()):
        if sc["status"] != "ok":
            continue  # failed and invalid runs have no predictions to compare
        try:
            p = scorer.parse((out / "runs" / student / "submission.csv").read_bytes())
        except (OSError, OutputInvalid):
            continue
        preds[student] = _values(p.reindex(ids), regression)
        if regression:
            steps[student] = rounding_step(p)
    if len(preds) < 2:
        return None
    test_ids = _test_ids(course)
    references = {name: _values(pd.Series(values, index=test_ids[:len(values)]).reindex(ids),
                                regression)
                  for name, values in {**store.reference_predictions(),
                                       **standard_model_predictions(course, store, say)}.items()
                  if len(values) == len(test_ids)}
    truth = scorer.truth
    if course.metric == "roc_auc":  # probabilities against the positive class
        positive = scorer.positive_label
        truth = (truth == positive).astype(float)
    elif regression:
        truth = truth.astype(float)
    from reference.standard import EXPLAIN_ONLY, STANDARD_SETTINGS, explainer_order

    model = BehaviourModel.fit(preds, truth.tolist(),
                               task="regression" if regression else "classification",
                               references=references,
                               explainers=sorted(references, key=explainer_order),
                               settings=sorted(STANDARD_SETTINGS & set(references)), ids=ids,
                               near_exact=NEAR_EXACT, rounding=steps,
                               explain_only=sorted(EXPLAIN_ONLY & set(references)))
    if regression:  # probabilities (roc_auc) or values (mse, mae): their order is evidence too
        from similarity.behaviour_order import OrderEvidence

        return OrderEvidence(model, probabilities=course.metric == "roc_auc")
    return IdentityEvidence(model)


#: predictions written with this many decimals or more count as unrounded
_FULL_PRECISION_DECIMALS = 10


def rounding_step(values: pd.Series) -> float:
    """The step a student's predictions were written to, from the text of submission.csv:
    ``10 ** -d`` for the most decimals ``d`` any value has (two decimals: 0.01; whole numbers:
    1), or 0 where some value is written in full (``repr``'s 17 digits) or in exponent form.
    The behavioural model takes the rounding noise out of its distances (a copy written
    with fewer decimals than its source is no farther from it)."""
    most = 0
    for v in values.dropna().astype(str):
        text = v.strip().lower()
        if "e" in text or "n" in text:  # 1e-05, inf, nan: not a fixed number of decimals
            return 0.0
        most = max(most, len(text.partition(".")[2]))
        if most >= _FULL_PRECISION_DECIMALS:
            return 0.0
    return 10.0 ** -most


#: a standard model explains a pair only when both students match it on this share of the ids:
#: near-exact (at most 0.2 % differ, the tolerance of identity), since on an easy data set
#: every good model agrees with every other on 99 % of the ids
NEAR_EXACT = 0.998
#: pairs whose behavioural evidence is spelled out for the pair page (flagged ones always)
EVIDENCE_PAIRS = 30
SHARED_WRONG_SHOWN = 40


def _behaviour_evidence(pairs: list[similarity.Pair], behaviour, course: Course) -> None:
    """For the pairs a TA reads (flagged, or the best ``EVIDENCE_PAIRS`` by behaviour), the
    statistic in words and the shared wrong answers (with the test image, scaled down, when
    the course's inputs are images)."""
    ranked = sorted((p for p in pairs if p.behaviour), key=lambda p: -p.behaviour["behaviour"])
    # flagged pairs, the strongest behaviour, the best ranked (each gets a page showing its
    # counts and p-value: without the sentence, a raw count beside a p-value scaled for the
    # class read as an error) and identical predictions (whether or not they are evidence:
    # the page says why)
    # (the reports' count, read when there is behaviour to describe: the module loads Jinja2)
    from reports.render import TOP_PAIR_PAGES

    best = sorted(ranked, key=lambda p: -p.score)[:TOP_PAIR_PAGES]
    chosen = {id(p) for p in ranked[:EVIDENCE_PAIRS] + best} | {
        id(p) for p in ranked if p.flagged or p.fragments
        or (p.behaviour.get("agreement") or 0.0) >= 0.995}
    thumbs = _Thumbnails(course)
    for p in ranked:
        if id(p) not in chosen:
            continue
        words = behaviour.describe(p.a, p.b)
        agreement = p.behaviour.get("agreement")
        if agreement is not None and agreement >= 0.995 and not p.behaviour["explained_by"]:
            words = (f"{_identical_text(agreement, behaviour.n_ids)}, wrong answers included, "
                     f"and no standard model gives them"
                     f"{_nearest_text(behaviour, p)}"
                     + ("; the identity is the evidence (a copy's predictions are its "
                        "source's), whatever the count of wrong answers below says"
                        + _tail_text(behaviour, p)
                        if p.behaviour["behaviour"] >= 0.5 else "") + "; " + words)
        shown = behaviour.shared_wrong(p.a, p.b, limit=SHARED_WRONG_SHOWN)
        for row in shown:
            row["id"] = str(row["id"])
            image = thumbs.get(row["id"])
            if image:
                row["image"] = image
            text = thumbs.text(row["id"])
            if text:
                row["text"] = text
        p.behaviour = {**p.behaviour, "description": words, "shared_wrong": shown}


def _tail_text(behaviour, p) -> str:
    """For identical predictions flagged as evidence: how likely their identical wrong answers
    are by chance, the number that decides it (beside a p-value scaled for the class's spread,
    an unflagged identical pair with p = 0.097 read as the same case as this one)."""
    tail = getattr(behaviour, "identity_tail", None)
    if tail is None:
        return ""
    from similarity.behaviour_identity import IDENTITY_P

    return (f" (that many identical wrong answers or more by chance: {tail(p.a, p.b):.2g}, "
            f"under the {IDENTITY_P:g} from which identical predictions are evidence)")


def _identical_text(agreement: float, n_ids: int) -> str:
    """"identical predictions on every hidden test id", or how many ids are not: "99.9 %"
    of 1,000 ids read as identical to a TA looking for the one id that differs."""
    apart = int(round((1.0 - agreement) * n_ids))
    if apart == 0:
        return "identical predictions on every hidden test id"
    return (f"the same predictions on all but {apart} of the {n_ids} hidden test ids "
            f"({100 * agreement:.1f} %)")


def _nearest_text(behaviour, p) -> str:
    """Which standard model comes nearest to giving a pair's identical predictions, and how
    near (a pair 2 ids from a default model reads differently from one 200 ids away)."""
    nearest = behaviour.nearest_explainer(p.a, p.b)
    if nearest is None or nearest[1] < 0.9:
        return ""
    name = nearest[0].removeprefix("sklearn:").replace("lab:", "the lab's ", 1)
    share = nearest[1]
    if share >= behaviour.near_exact:  # near enough, but not where the two agree (below)
        return (f" (the nearest, {name}, matches both on {100 * share:.2f} % of ids, but not "
                "on the ids where they agree with each other)")
    return (f" (the nearest, {name}, matches both on {100 * share:.2f} % of ids; "
            f"{100 * behaviour.near_exact:g} % would explain them)")


class _Thumbnails:
    """Small PNG data URIs of test inputs, for image courses: an image file column, or pixel
    columns that make a square; for text courses, the start of each test text."""

    SIZE = 48
    TEXT_CHARS = 160  # of a test text shown beside its shared wrong answer

    def __init__(self, course: Course):
        self.course = course
        self._table: pd.DataFrame | None = None
        self._mode = ""

    def _load(self) -> None:
        if self._table is not None:
            return
        test = pd.read_csv(self.course.data_dir / "test.csv", dtype={"id": str},
                           keep_default_na=False)
        self._table = test.set_index("id")
        from reference.features.detect import detect_modality, feature_columns, image_column

        try:
            modality = detect_modality(test, self.course.data_dir)
        except Exception:  # noqa: BLE001 - no thumbnails is fine
            modality = "tabular"
        if modality == "images":
            self._mode, self._column = "file", image_column(test)
            return
        cols = feature_columns(test)
        declared = getattr(getattr(self.course, "competition", None), "modality", "auto")
        if "text" in (modality, declared) and cols:
            from reference.features import text_column  # the documents the models read

            self._mode = "text"
            self._docs = dict(zip(test["id"], text_column(test)[0][:, 0], strict=True))
            return
        side = int(round(len(cols) ** 0.5))
        if len(cols) >= 64 and side * side == len(cols) and all(
                c.lower().startswith(("px", "pixel")) for c in cols):
            self._mode, self._columns, self._side = "pixels", cols, side

    def text(self, test_id: str) -> str | None:
        """The start of a text course's test text (its feature columns joined), or None."""
        self._load()
        doc = self._docs.get(test_id) if self._mode == "text" else None
        if doc is None:
            return None
        return doc if len(doc) <= self.TEXT_CHARS else doc[: self.TEXT_CHARS - 1] + "…"

    def get(self, test_id: str) -> str | None:
        import base64
        import io

        import numpy as np
        from PIL import Image

        self._load()
        if self._mode not in ("file", "pixels") or test_id not in self._table.index:
            return None
        try:
            if self._mode == "file":
                image = Image.open(self.course.data_dir / str(self._table.at[test_id, self._column]))
                image = image.convert("L")
            else:
                values = self._table.loc[test_id, self._columns].to_numpy(dtype=float)
                top = max(float(values.max()), 1e-9)
                pixels = (255 * values / top).reshape(self._side, self._side)
                image = Image.fromarray(pixels.astype(np.uint8), mode="L")
            image = image.resize((self.SIZE, self.SIZE), Image.NEAREST)
            buf = io.BytesIO()
            image.save(buf, format="PNG")
        except (OSError, ValueError, KeyError):
            return None
        return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _values(series: pd.Series, regression: bool) -> list:
    """Predictions as plain values (None where missing; floats for regression, read as the
    scorer reads them: ``1_000`` and digits of other scripts are the numbers they were scored
    as, not missing values a copy could hide behind)."""
    if regression:
        return [_number(v) for v in series]
    return [None if pd.isna(v) else str(v) for v in series]


def _number(v: object) -> float | None:
    """``float(v)`` (as ``grader.scoring`` reads a label), None where it is no finite number."""
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _test_ids(course: Course) -> list[str]:
    from grader.course import read_id_column

    ids, _ = read_id_column(course.data_dir / "test.csv", need_label=False,
                            course_file="data/test.csv")
    return list(ids)


def standard_model_predictions(course: Course, store: Store,
                               say: Callable[[str], None]) -> dict[str, list]:
    """The scikit-learn defaults' test predictions (``reference.standard``), trained once per
    data set and scikit-learn version and cached in the store like the reference models."""
    import sklearn

    import reference.standard
    from reference.standard import standard_models, standard_predictions

    # roc_auc: students submit the positive class's probability, so the defaults' too
    task = "probability" if course.metric == "roc_auc" else course.task
    names = list(standard_models(task))
    # The code that fits them is part of the key: a changed fit (the labels' order, a split
    # bound) refits them, where an unchanged name would keep serving the old predictions.
    fitted_by = hashlib.blake2b(Path(reference.standard.__file__).read_bytes(),
                                digest_size=8).hexdigest()
    keys = {n: hashlib.blake2b(json.dumps([course.data_hash, n, sklearn.__version__, task,
                                           fitted_by]).encode(), digest_size=16).hexdigest()
            for n in names}
    cached = store.cached_reference(keys.values())
    out = {n: cached[k]["predictions"] for n, k in keys.items()
           if k in cached and cached[k]["status"] == "ok"}
    todo = [n for n, k in keys.items() if k not in cached]
    if todo:
        import time

        # minutes on a large course (the split variants): say so before, not only after
        say(f"similarity: fitting {len(todo)} scikit-learn default model(s) for the behavioural "
            "evidence (once per data set and output folder: kept in its grading.db for the "
            "next runs)")
        t = time.perf_counter()
        train = pd.read_csv(course.data_dir / "train.csv", dtype={"id": str, "label": str},
                            keep_default_na=False)
        test = pd.read_csv(course.data_dir / "test.csv", dtype={"id": str},
                           keep_default_na=False)
        try:
            got = standard_predictions(train, test, course.data_dir, task=task,
                                       modality=course.competition.modality, names=todo)
        except Exception as exc:  # noqa: BLE001 - no explainers is no reason to lose the stage
            say(f"similarity: warning: the scikit-learn default models could not be fitted "
                f"({type(exc).__name__}: {exc}); behavioural evidence is computed without "
                "them, so no agreement is explained by a standard model")
            return out
        now = time.time()
        rows = []
        for n in todo:
            value = got[n]
            ok = not isinstance(value, str)
            rows.append(dict(cache_key=keys[n], model=n, params={}, validation_score=None,
                             fit_s=None, predict_s=None, elapsed_s=None,
                             status="ok" if ok else "failed", message="" if ok else value,
                             deadline_s=0.0, predictions=value.tolist() if ok else None,
                             trained_at=now))
            if ok:
                out[n] = value.tolist()
        store.put_cached_reference(rows)
        fitted = sum(r["status"] == "ok" for r in rows)
        # most do not apply to every course (numeric models on text, text pipelines on
        # numbers): the count says what was fitted, not what was tried
        say(f"similarity: {fitted} of {len(todo)} scikit-learn default model(s) fitted for the "
            f"behavioural evidence ({time.perf_counter() - t:.1f} s; kept for the next runs)"
            + (f"; {len(todo) - fitted} do not apply to this course's data" if fitted < len(todo)
               else ""))
    return out


def _engine_hash() -> str:
    """The similarity engine's, the standard models' and this module's code (it assembles the
    behavioural evidence), and scikit-learn's version."""
    from importlib.metadata import version

    import reference.standard

    h = hashlib.blake2b(version("scikit-learn").encode(), digest_size=16)
    files = sorted(Path(similarity.__file__).parent.glob("*.py"))
    for path in [*files, Path(reference.standard.__file__), Path(__file__)]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _rejected_entries(stored: list[str], folder: str | None) -> dict[str, Path]:
    """The entry on disk of each rejected submission's stored path. A rejection is stored as
    shown (``terminal_safe``: a name with bytes that are not UTF-8, a bidi mark or a new line
    escaped), which names no file; those are found again among the submissions folder's
    entries by their shown path."""
    found = {p: Path(p) for p in stored if Path(p).exists() or Path(p).is_symlink()}
    missing = [p for p in stored if p not in found]
    if missing and folder:
        entries = shown_entries(folder)
        for p in missing:  # by the last part (a name holds no '/', escaped or not)
            if p.rpartition("/")[2] in entries:
                found[p] = entries[p.rpartition("/")[2]]
    return found


def _rejected_code_hash(path: Path, options: similarity.SimilarityOptions) -> str | None:
    """The hash of the code the engine would read from a rejected submission (its ``.py``
    files, links never followed, each bounded as the engine reads it), or None when it has
    none or is gone."""
    from similarity.corpora import python_files
    from similarity.normalize import read_bounded

    if path.is_symlink() or not path.exists():
        return None
    try:
        files, _ = python_files(path, options.max_files_per_submission)
        h = hashlib.blake2b(digest_size=16)
        for file, name in files:
            h.update(name.encode("utf-8", "surrogateescape") + b"\0"
                     + read_bounded(file, options.max_file_bytes) + b"\0")
    except OSError:
        return None
    return h.hexdigest() if files else None


def _predictions_hash(out: Path, student: str) -> str:
    path = out / "runs" / student / "submission.csv"
    try:
        return hashlib.blake2b(path.read_bytes(), digest_size=8).hexdigest()
    except OSError:
        return ""


def _tree_hash(folder: Path | None) -> str:
    if folder is None:
        return ""
    if folder.is_dir():
        return hash_tree(folder)
    return hashlib.blake2b(folder.read_bytes()).hexdigest() if folder.is_file() else ""


def _merge_pairs(result: similarity.SimilarityResult, store: Store, keep: set[str],
                 floor: float = 0.0) -> similarity.SimilarityResult:
    """The focused result (its pairs under ``floor`` dropped unless flagged) plus the stored
    pairs among students in ``keep`` (unchanged)."""
    def unchanged(p: dict) -> bool:
        return p["a"] in keep and (p["b"] in keep or p["kind"] != "peer")

    old = [similarity.Pair(a=p["a"], b=p["b"], score=p["score"], components=p["components"],
                           kind=p["kind"], flagged=bool(p["flagged"]),
                           fragments=[similarity.Fragment(**f) for f in p["fragments"]],
                           shared_comments=p["shared_comments"], code=p.get("code"),
                           reason=p.get("reason") or "", behaviour=p.get("behaviour"))
           for p in store.similarity_pairs() if unchanged(p)]
    new = [p for p in result.pairs if p.score >= floor or p.flagged]
    pairs = sorted(old + new, key=similarity.rank_key)
    return replace(result, pairs=pairs, clusters=similarity.clusters(pairs))


def _pair_dict(p: similarity.Pair) -> dict[str, Any]:
    d = asdict(p)
    d.setdefault("kind", "peer")
    d.setdefault("flagged", False)
    return d
