"""A student's program as text: one ``ModelSpec`` rendered in a ``Style`` (how the data is
read and the answers written, the program's structure, the import and call forms) with the
student's own variable names and comments.
"""

from __future__ import annotations

import random
import textwrap
from dataclasses import dataclass

from benchmarks.runnable_class.models import ModelSpec, model_lines, prep_lines

__all__ = ["Style", "random_style", "render", "rewrite_style", "starter"]

# role -> candidate names (a program draws distinct ones)
NAMES = {
    "data": ["DATA", "data_dir", "DATA_DIR", "root", "base_dir", "src_dir", "folder", "INPUT"],
    "out": ["OUT", "out_dir", "OUTPUT", "dest", "target_dir", "output_dir", "results_dir"],
    "Xtr": ["X_train", "Xtr", "train_X", "features", "A", "x_learn", "pixels_train", "inputs"],
    "ytr": ["y_train", "ytr", "train_y", "labels", "targets", "y_learn", "truth", "classes_tr"],
    "Xte": ["X_test", "Xte", "test_X", "queries", "B", "x_eval", "pixels_test", "unseen"],
    "ids": ["test_ids", "ids", "keys", "row_ids", "names", "idx", "identifiers"],
    "pred": ["predictions", "preds", "y_pred", "guesses", "result", "labels_out", "answers"],
    "model": ["model", "clf", "classifier", "estimator", "learner", "net", "m"],
    "load": ["load", "read_data", "load_csv", "get_data", "read_table", "parse_files"],
    "helper": ["rows_of", "read_rows", "lines_of", "split_file", "table"],
    "prep": ["preprocess", "normalise", "transform", "prepare", "scale_features"],
    "fit": ["train_and_predict", "solve", "run_model", "fit_predict", "classify"],
    "save": ["save", "write_submission", "dump", "export", "store_results", "emit"],
    "main": ["main", "run", "go", "entry_point"],
    "f": ["f", "fh", "handle", "stream", "fp", "fileobj"],
    "w": ["w", "writer", "wr", "out_csv"],
    "r0": ["train", "train_rows", "tr", "learn", "df_train", "raw_train"],
    "r1": ["test", "test_rows", "te", "query", "df_test", "raw_test"],
    "s0": ["scaler", "mu", "lo", "norm", "shift", "peak", "tf"],
    "s1": ["sigma", "spread", "rng", "width", "sd"],
}
LOCALS = ["cls_list", "columns", "feature_names", "lines_out", "tally", "seen", "onehot", "W", "bias", "z", "probs", "grad", "dist", "nearest", "votes",
          "top", "chunk", "start", "means", "variances", "scores", "centres", "counts", "acc",
          "tmp", "best", "order", "logits", "G", "H", "Y", "P", "q", "u", "prior", "loglik",
          "design", "penalty", "coef", "Xa", "block", "dd", "kk", "centers", "table_"]

HEADERS = ["# {who} - classification project", "# Project: {who}", "# author: {who}",
           '"""Competition entry by {who}."""', '"""{who}: machine-learning project."""', ""]
COMMENTS = ["# load the data", "# read train and test", "# training", "# fit the model",
            "# tried a few settings, this was best on my validation split", "# predictions",
            "# write the answers", "# normalise the features", "# baseline first, then this",
            "# TODO: try more models", "# the classifier", ""]

READ = {
    0: (["import csv"], [
        'with open(os.path.join({data}, "train.csv"), newline="") as {f}:',
        "    {r0} = list(csv.reader({f}))[1:]",
        'with open(os.path.join({data}, "test.csv"), newline="") as {f}:',
        "    {r1} = list(csv.reader({f}))[1:]",
        "{Xtr} = np.array([[float(v) for v in row[2:]] for row in {r0}])",
        "{ytr} = np.array([row[1] for row in {r0}])",
        "{ids} = [row[0] for row in {r1}]",
        "{Xte} = np.array([[float(v) for v in row[1:]] for row in {r1}])"]),
    1: (["import pandas as pd"], [
        '{r0} = pd.read_csv(os.path.join({data}, "train.csv"), dtype={{"id": str, "label": str}})',
        '{r1} = pd.read_csv(os.path.join({data}, "test.csv"), dtype={{"id": str}})',
        '{Xtr} = {r0}.drop(columns=["id", "label"]).to_numpy(dtype=float)',
        '{ytr} = {r0}["label"].to_numpy(dtype=str)',
        '{ids} = {r1}["id"].tolist()',
        '{Xte} = {r1}.drop(columns=["id"]).to_numpy(dtype=float)']),
    2: ([], [
        '{r0} = np.loadtxt(os.path.join({data}, "train.csv"), delimiter=",", dtype=str, '
        "skiprows=1)",
        '{r1} = np.loadtxt(os.path.join({data}, "test.csv"), delimiter=",", dtype=str, '
        "skiprows=1)",
        "{Xtr}, {ytr} = {r0}[:, 2:].astype(float), {r0}[:, 1]",
        "{ids}, {Xte} = list({r1}[:, 0]), {r1}[:, 1:].astype(float)"]),
    3: ([], [
        "def {helper}(name):",
        "    with open(os.path.join({data}, name)) as {f}:",
        "        next({f})",
        '        return [line.rstrip("\\n").split(",") for line in {f} if line.strip()]',
        '{r0}, {r1} = {helper}("train.csv"), {helper}("test.csv")',
        "{ytr} = np.array([r[1] for r in {r0}])",
        "{Xtr} = np.array([r[2:] for r in {r0}], dtype=float)",
        "{Xte} = np.array([r[1:] for r in {r1}], dtype=float)",
        "{ids} = [r[0] for r in {r1}]"]),
    4: (["import pandas as pd", "from pathlib import Path"], [
        '{r0} = pd.read_csv(Path({data}) / "train.csv", dtype=str)',
        '{r1} = pd.read_csv(Path({data}) / "test.csv", dtype=str)',
        "{Xtr} = {r0}.iloc[:, 2:].astype(float).values",
        "{ytr} = {r0}.iloc[:, 1].to_numpy(dtype=str)",
        "{Xte} = {r1}.iloc[:, 1:].astype(float).values",
        "{ids} = list({r1}.iloc[:, 0])"]),
    5: (["import csv"], [
        'with open(os.path.join({data}, "train.csv")) as {f}:',
        "    {r0} = list(csv.DictReader({f}))",
        'with open(os.path.join({data}, "test.csv")) as {f}:',
        "    {r1} = list(csv.DictReader({f}))",
        '{t8} = [c for c in {r1}[0] if c != "id"]',
        "{Xtr} = np.array([[float(r[c]) for c in {t8}] for r in {r0}])",
        '{ytr} = np.array([r["label"] for r in {r0}])',
        "{Xte} = np.array([[float(r[c]) for c in {t8}] for r in {r1}])",
        '{ids} = [r["id"] for r in {r1}]']),
    6: (["import pandas as pd"], [
        '{r0} = pd.read_csv(os.path.join({data}, "train.csv"), index_col="id", '
        'dtype={{"label": str}})',
        '{r1} = pd.read_csv(os.path.join({data}, "test.csv"), index_col="id")',
        '{ytr} = {r0}.pop("label").to_numpy(dtype=str)',
        "{Xtr} = {r0}.to_numpy(dtype=float)",
        "{Xte} = {r1}[{r0}.columns].to_numpy(dtype=float)",
        "{ids} = [str(i) for i in {r1}.index]"]),
}
WRITE = {
    0: (["import csv"], [
        'with open(os.path.join({out}, "submission.csv"), "w", newline="") as {f}:',
        "    {w} = csv.writer({f})",
        '    {w}.writerow(["id", "label"])',
        "    {w}.writerows(zip({ids}, {pred}))"]),
    1: (["import pandas as pd"], [
        'pd.DataFrame({{"id": {ids}, "label": {pred}}}).to_csv(',
        '    os.path.join({out}, "submission.csv"), index=False)']),
    2: ([], [
        '{f} = open(os.path.join({out}, "submission.csv"), "w")',
        '{f}.write("id,label\\n")',
        "for a, b in zip({ids}, {pred}):",
        '    {f}.write(f"{{a}},{{b}}\\n")',
        "{f}.close()"]),
    3: ([], [
        'np.savetxt(os.path.join({out}, "submission.csv"),',
        "           np.column_stack([np.asarray({ids}, dtype=str), np.asarray({pred}, dtype=str)]),",
        '           fmt="%s", delimiter=",", header="id,label", comments="")']),
    4: (["from pathlib import Path"], [
        'with open(Path({out}) / "submission.csv", "w") as {f}:',
        '    print("id,label", file={f})',
        "    for a, b in zip({ids}, {pred}):",
        '        print(a, b, sep=",", file={f})']),
    5: (["import csv"], [
        'with open(os.path.join({out}, "submission.csv"), "w", newline="") as {f}:',
        '    {w} = csv.DictWriter({f}, fieldnames=["id", "label"])',
        "    {w}.writeheader()",
        "    for a, b in zip({ids}, {pred}):",
        '        {w}.writerow({{"id": a, "label": b}})']),
    6: (["from pathlib import Path"], [
        '{t9} = ["id,label"] + [f"{{a}},{{b}}" for a, b in zip({ids}, {pred})]',
        'Path({out}, "submission.csv").write_text("\\n".join({t9}) + "\\n")']),
}
# exploration code students leave in (never changes the predictions): (imports, lines, where)
EXTRAS = [
    (["import warnings"], ['warnings.filterwarnings("ignore")'], "top"),
    ([], ["np.random.seed({seed})"], "top"),
    ([], ["SEED = {seed}", "VERBOSE = True"], "top"),
    ([], ['print("train:", {Xtr}.shape, "test:", {Xte}.shape)'], "read"),
    ([], ['print("classes:", sorted(set({ytr}.tolist())))'], "read"),
    ([], ['assert len({ids}) == len({Xte}), "one answer per test row"'], "read"),
    ([], ["{Xtr} = np.asarray({Xtr}, dtype=np.float64)",
          "{Xte} = np.asarray({Xte}, dtype=np.float64)"], "read"),
    ([], ["{t7} = {{}}", "for lab in {ytr}:", "    {t7}[lab] = {t7}.get(lab, 0) + 1",
          'print("class counts:", {t7})'], "read"),
    ([], ['print("mean feature value:", float({Xtr}.mean()))'], "read"),
    ([], ['print(f"{{len({pred})}} predictions written")'], "end"),
    ([], ['print("first answers:", list({pred})[:5])'], "end"),
]
# regression: the same reading code with the label read as a number (variant -> replacements)
READ_NUMERIC = {
    0: [("np.array([row[1] for row in {r0}])", "np.array([float(row[1]) for row in {r0}])")],
    1: [('dtype={{"id": str, "label": str}}', 'dtype={{"id": str}}'),
        ('{r0}["label"].to_numpy(dtype=str)', '{r0}["label"].to_numpy(dtype=float)')],
    2: [("{r0}[:, 1]", "{r0}[:, 1].astype(float)")],
    3: [("np.array([r[1] for r in {r0}])", "np.array([r[1] for r in {r0}], dtype=float)")],
    4: [(".iloc[:, 1].to_numpy(dtype=str)", ".iloc[:, 1].astype(float).to_numpy()")],
    5: [('np.array([r["label"] for r in {r0}])', 'np.array([float(r["label"]) for r in {r0}])')],
    6: [(', dtype={{"label": str}})', ")"),
        ('.pop("label").to_numpy(dtype=str)', '.pop("label").to_numpy(dtype=float)')],
}
# regression: the exploration lines that print classes print the target instead
EXTRAS_NUMERIC = {
    'print("classes:", sorted(set({ytr}.tolist())))':
        'print("target range:", float({ytr}.min()), float({ytr}.max()))',
    'print("class counts:", {t7})': 'print("distinct targets:", len({t7}))',
}
ENV = {
    0: ['{data} = os.environ["GRADER_DATA"]', '{out} = os.environ["GRADER_OUTPUT"]'],
    1: ['{data} = os.getenv("GRADER_DATA")', '{out} = os.getenv("GRADER_OUTPUT")'],
    2: ['{data}, {out} = (os.environ.get(k) for k in ("GRADER_DATA", "GRADER_OUTPUT"))'],
}
STRUCTURES = ("flat", "functions", "main")


@dataclass(frozen=True)
class Style:
    """How a program is written (every field an independent choice)."""

    read: int
    write: int
    env: int
    structure: str
    prep: int       # preprocessing: 0 library transformer, 1 by hand
    hand: int       # hand-written models: variant 0 or 1
    import_: int    # scikit-learn import form
    args: int       # constructor arguments: order, number format, positional k
    fit: int        # fit then predict, chained, or argmax of the decision function
    pipeline: int   # preprocessing inside a scikit-learn pipeline
    seed: int       # comments, import order
    names: int      # variable and function names


_CHOICES = {"read": range(len(READ)), "write": range(len(WRITE)), "env": range(len(ENV)),
            "structure": STRUCTURES, "prep": range(2), "hand": range(2), "import_": range(3),
            "args": range(3), "fit": range(3), "pipeline": range(2)}


def random_style(rng: random.Random) -> Style:
    """A style with every choice drawn from ``rng``."""
    return Style(**{k: rng.choice(list(v)) for k, v in _CHOICES.items()},
                 seed=rng.randrange(1 << 30), names=rng.randrange(1 << 30))


def rewrite_style(style: Style, rng: random.Random) -> Style:
    """A style that differs from ``style`` in every choice (a copy rewritten to hide)."""
    new = {k: rng.choice([c for c in v if c != getattr(style, k)]) for k, v in _CHOICES.items()}
    return Style(**new, seed=rng.randrange(1 << 30), names=rng.randrange(1 << 30))


def _names(rng: random.Random) -> dict[str, str]:
    used: set[str] = set()
    out = {}
    for role, pool in NAMES.items():
        out[role] = rng.choice([n for n in pool if n not in used])
        used.add(out[role])
    for i, name in enumerate(rng.sample([n for n in LOCALS if n not in used], 10)):
        out[f"t{i}"] = name
    return out


def read_lines(variant: int, task: str = "classification") -> tuple[list[str], list[str]]:
    """Imports and lines that read the data in ``READ[variant]``; the label is a number on a
    regression course and on a ``probability`` (roc_auc) one (0.0 and 1.0)."""
    imports, lines = READ[variant]
    if task != "classification":
        for old, new in READ_NUMERIC[variant]:
            assert sum(old in line for line in lines) == 1, (variant, old)
            lines = [line.replace(old, new) for line in lines]
    return imports, lines


def render(spec: ModelSpec, style: Style, who: str, task: str = "classification") -> str:
    """The program's source text (``task``: the course's, ``classification``, ``regression``
    or ``probability``)."""
    rng = random.Random(style.seed)
    names = _names(random.Random(style.names))
    variant = {"hand": style.hand, "import": style.import_, "args": style.args,
               "fit": style.fit, "pipeline": style.pipeline}
    mimp, model, piped = model_lines(spec, variant, task)
    pimp, prep = ([], []) if piped else prep_lines(spec.prep, style.prep)
    rimp, read = read_lines(style.read, task)
    wimp, write = WRITE[style.write]
    extras = rng.sample(EXTRAS, rng.randint(1, 4))
    where = {k: [line.replace("{seed}", str(rng.choice([0, 1, 7, 42, 123, 2024])))
                 for _, lines, at in extras if at == k for line in lines]
             for k in ("top", "read", "end")}
    if task == "regression":
        where = {k: [EXTRAS_NUMERIC.get(line, line) for line in v] for k, v in where.items()}
    read = read + where["read"]
    imports = sorted({"import os", "import numpy as np", *rimp, *wimp, *pimp, *mimp,
                      *(i for imp, _, _ in extras for i in imp)})
    rng.shuffle(imports)

    def note() -> list[str]:
        c = rng.choice(COMMENTS)
        return [c] if c else []

    env = ENV[style.env] + where["top"]
    if style.structure == "functions":
        body = ["", "", "def {load}():", *_indent(note() + read),
                "    return {Xtr}, {ytr}, {ids}, {Xte}"]
        if prep:
            body += ["", "", "def {prep}({Xtr}, {Xte}):", *_indent(prep),
                     "    return {Xtr}, {Xte}"]
        body += ["", "", "def {fit}({Xtr}, {ytr}, {Xte}):", *_indent(note() + model),
                 "    return {pred}", "", "", "def {save}({ids}, {pred}):", *_indent(write),
                 "", "", "def {main}():", "    {Xtr}, {ytr}, {ids}, {Xte} = {load}()"]
        if prep:
            body += ["    {Xtr}, {Xte} = {prep}({Xtr}, {Xte})"]
        body += ["    {pred} = {fit}({Xtr}, {ytr}, {Xte})", "    {save}({ids}, {pred})",
                 *_indent(where["end"]), "", "", 'if __name__ == "__main__":', "    {main}()"]
        lines = [*imports, "", *env, *body]
    else:
        steps = [*note(), *read, *(note() + prep), *note(), *model, *note(), *write,
                 *where["end"]]
        if style.structure == "main":
            lines = [*imports, "", "", "def {main}():", *_indent(env + steps), "", "",
                     'if __name__ == "__main__":', "    {main}()"]
        else:
            lines = [*imports, "", *env, "", *steps]
    header = rng.choice(HEADERS).format(who=who)
    if task == "regression":
        header = header.replace("classification", "regression")
    text = "\n".join(([header] if header else []) + lines) + "\n"
    return text.format_map(names)


def _indent(lines: list[str]) -> list[str]:
    return [textwrap.indent(line, "    ") if line else line for line in lines]


def starter(task: str = "classification") -> str:
    """The course's handout (``starter/``): every way of reading the data and writing the
    answers that the programs use, as the course shows them (not plagiarism when shared)."""
    names = {role: pool[0] for role, pool in NAMES.items()}
    names.update({f"t{i}": LOCALS[i] for i in range(10)})
    imports = sorted({"import os", "import numpy as np",
                      *(i for v in (*READ.values(), *WRITE.values()) for i in v[0])})
    lines = ['"""Reading the competition data and writing a submission: examples."""',
             *imports, ""]
    for i, env in ENV.items():
        lines += ["", "", f"def environment_{i}():", *_indent(env),
                  "    return {data}, {out}"]
    for i in READ:
        body = read_lines(i, task)[1]
        lines += ["", "", f"def read_{i}({{data}}):", *_indent(body),
                  "    return {Xtr}, {ytr}, {ids}, {Xte}"]
    for i, (_, body) in WRITE.items():
        lines += ["", "", f"def write_{i}({{out}}, {{ids}}, {{pred}}):", *_indent(body)]
    return "\n".join(lines).format_map(names) + "\n"
