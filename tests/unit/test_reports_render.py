"""render_all on a real SQLite store: the pages exist, escape submissions' text, keep students
apart, follow the release settings, and come out the same when rendered again."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader.batch.outputs import render_reports
from reports._load import page_name, pair_page
from tests.synthetic_batch import HOSTILE_FILE, HOSTILE_LOG, make_batch


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "out"
    names = make_batch(out, students=20, pairs=6)
    info = render_reports(out)
    return out, names, info


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("rel") / "out"
    names = make_batch(out, students=12, pairs=4, release_private=True, release_similarity=True)
    render_reports(out)
    return out, names


def _html_pages(out: Path) -> list[Path]:
    return sorted((out / "reports").rglob("*.html"))


class _Scripts(HTMLParser):
    """Counts elements that could run code or fetch something."""

    def __init__(self):
        super().__init__()
        self.scripts = 0
        self.bad: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1
        for k, v in attrs:
            if k.startswith("on"):
                self.bad.append(f"{tag} {k}={v}")
            if k in ("src", "href") and v and re.match(r"^(https?:|//|javascript:)", v):
                self.bad.append(f"{tag} {k}={v}")
        if tag in ("img", "iframe", "object", "embed", "link"):
            self.bad.append(tag)


def test_every_page_and_export_is_written(rendered):
    out, names, info = rendered
    rep = out / "reports"
    assert (rep / "index.html").is_file() and (rep / "similarity.html").is_file()
    for s in names["students"]:
        for ext in ("html", "md", "txt"):
            assert (rep / "students" / f"{page_name(s)}.{ext}").is_file()
    assert (rep / pair_page(*names["pair"])).is_file()
    assert (rep / pair_page(*names["web_pair"])).is_file()
    assert info["students"] == len(names["students"])
    for p in info["exports"]:
        assert p.is_file()


def test_no_page_has_injected_markup_or_outside_references(rendered):
    out, _, _ = rendered
    for page in _html_pages(out):
        text = page.read_text(encoding="utf-8")
        parser = _Scripts()
        parser.feed(text)
        assert parser.scripts == 1, page  # ours, and nothing else
        assert parser.bad == [], (page, parser.bad[:3])
        assert "default-src 'none'" in text  # the CSP forbids every fetch


def test_hostile_log_and_file_name_arrive_escaped(rendered):
    out, names, _ = rendered
    page = (out / "reports" / "students" / f"{page_name(names['hostile'])}.html").read_text()
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;.py" in page
    assert HOSTILE_LOG not in page and HOSTILE_FILE not in page
    index = (out / "reports" / "index.html").read_text()
    assert HOSTILE_LOG not in index and "&lt;script&gt;alert" in index  # failed-runs table


def test_student_page_holds_nothing_about_other_students(rendered):
    out, names, _ = rendered
    from grader.store import Store

    with Store(out / "grading.db") as st:
        scores = st.scores()
    fmt = {s: {f"{v:.4f}" for v in (r["public_score"], r["private_score"]) if v is not None}
           for s, r in scores.items()}
    for me in names["students"]:
        for ext in ("html", "md", "txt"):
            text = (out / "reports" / "students" / f"{page_name(me)}.{ext}").read_text()
            assert me in text
            for other in names["students"]:
                if other == me:
                    continue
                assert other not in text, (me, ext, other)
                assert f"marker-{other}" not in text
                assert not (fmt[other] - fmt[me]) & set(re.findall(r"\d\.\d{4}", text)), (me, other)


def test_private_score_and_class_details_wait_for_release(rendered, released):
    out, names, _ = rendered
    best = names["ok"][0]
    page = (out / "reports" / "students" / f"{best}.html").read_text()
    assert 'id="public-score"' in page and 'id="private-score"' not in page
    # before release only the public part's matrix is shown, never the whole-test-set one
    assert 'id="confusion"' in page and "public part of the test set" in page
    from grader.store import Store

    with Store(out / "grading.db") as st:
        details = st.scores()[best]["details"]
    whole = {str(v) for row in details["confusion"] for v in row} - {
        str(v) for row in details["public"]["confusion"] for v in row}
    cells = set(re.findall(r"<td(?: class=\"diag\")?>(\d+)</td>", page))
    assert cells and not cells & whole
    assert 'id="similarity"' not in page
    out2, names2 = released
    page2 = (out2 / "reports" / "students" / f"{names2['ok'][0]}.html").read_text()
    assert 'id="private-score"' in page2 and 'id="confusion"' in page2
    assert "whole test set" in page2
    assert 'id="per-class"' in page2 and "&lt;b&gt;bird&lt;/b&gt;" in page2


def test_released_similarity_names_no_peer(released):
    out, names = released
    a, b = names["pair"]
    for me, other in ((a, b), (b, a)):
        text = (out / "reports" / "students" / f"{me}.html").read_text()
        assert 'id="similarity"' in text and "another submission" in text and "0.93" in text
        assert other not in text
    web_student = names["web_pair"][0]
    assert "a web source (tutorial)" in (out / "reports" / "students" /
                                         f"{web_student}.md").read_text()


def test_failed_runs_listed_with_their_reason(rendered):
    out, names, _ = rendered
    index = (out / "reports" / "index.html").read_text()
    section = index[index.index('id="failed"'):]
    for status, who in names["failed"].items():
        row = section[section.index(f'data-student="{who}"'):]
        row = row[:row.index("</tr>")]
        assert f"st-{status}" in row
    assert "stopped after 40 s" in section and "over the memory limit" in section
    assert "only .py files are accepted" in section


def test_reference_table_marks_the_baseline(rendered):
    out, _, _ = rendered
    index = (out / "reports" / "index.html").read_text()
    row = index[index.index('class="baseline-row"'):]
    row = row[:row.index("</tr>")]
    assert "majority" in row and ">baseline<" in row


def test_pair_page_marks_fragment_lines_on_both_sides(rendered):
    out, names, _ = rendered
    page = (out / "reports" / pair_page(*names["pair"])).read_text()
    for side in ("a", "b"):
        marked = re.findall(rf'id="{side}1-L(\d+)" data-frag="(\d+)"', page)
        got = {int(n): int(f) for n, f in marked}
        assert got == {**{n: 0 for n in range(1, 13)}, **{n: 1 for n in range(20, 29)}}
    assert "frag-0" in page and "frag-1" in page
    assert "&lt;script&gt;alert" in page  # the shared comments list, escaped
    web = (out / "reports" / pair_page(*names["web_pair"])).read_text()
    assert "web-tutorial" in web  # the web source's own code was found and shown


def test_rendering_again_gives_identical_pages_and_drops_stale_ones(rendered):
    out, _, _ = rendered
    rep = out / "reports"
    before = {p: p.read_bytes() for p in rep.rglob("*") if p.is_file()}
    stale = rep / "students" / "gone-student.html"
    stale.write_text("old")
    render_reports(out)
    after = {p: p.read_bytes() for p in rep.rglob("*") if p.is_file()}
    assert not stale.exists()
    assert after == before


def test_page_names_are_safe_and_distinct():
    assert page_name("ana_knn") == "ana_knn"
    odd = ["a<b>", "a>b<", "web:tutorial", "../etc", ".hidden", "x y"]
    stems = [page_name(n) for n in odd]
    assert len(set(stems)) == len(odd)
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", s) and not s.startswith(".") for s in stems)


def test_missing_store_is_a_clear_error(tmp_path):
    from grader.errors import StoreError

    with pytest.raises(StoreError, match="no grading.db"):
        render_reports(tmp_path)


def test_partial_and_malformed_store_still_renders(tmp_path):
    """An interrupted batch (no grades), odd pair rows and bad details: pages, no traceback."""
    from grader.store import Store

    with Store(tmp_path / "grading.db") as st:
        st.set_meta(config={"reports": {"release_private": True}})
        st.put_submissions([
            dict(student="a<b>", path=str(tmp_path / "gone"), entry="main.py", files=["main.py"],
                 content_hash="x", accepted=True, reason=None, hint=None),
            dict(student="bob", path=str(tmp_path / "bob.py"), entry="bob.py", files=["bob.py"],
                 content_hash="y", accepted=True, reason=None, hint=None)])
        (tmp_path / "bob.py").write_text("print('bob')\n")
        st.put_run("bob", "k", {"status": "ok", "wall_s": 1.0}, output_error=None, started_at=0,
                   finished_at=1)
        st.put_scores([dict(student="bob", status="ok", message="", public_score=float("nan"),
                            private_score=0.5, details={"classes": ["1"], "confusion": "bad"})])
        st.put_similarity([
            dict(a="a<b>", b="bob", score=0.9, kind=None, flagged=True, components=None,
                 fragments=[{"file_a": 3}, "junk", {"start_a": "1", "end_a": "2"}],
                 shared_comments=None),
            dict(a="bob", b="archive:old", score=0.5, kind="archive", flagged=False,
                 components={"x": 1}, fragments=[{}])], [["a<b>", "bob"]])
    info = render_reports(tmp_path)
    rep = tmp_path / "reports"
    assert info["students"] == 2 and info["pairs"] == 2
    odd = (rep / "students" / f"{page_name('a<b>')}.html").read_text()
    assert "a&lt;b&gt;" in odd and "pending" in odd  # not run yet
    bob = (rep / "students" / "bob.html").read_text()
    assert 'id="confusion"' not in bob  # malformed details are not drawn
    assert 'id="private-score">0.5000<' in bob and 'id="public-score"><span class="muted">' in bob
    pair = (rep / pair_page("a<b>", "bob")).read_text()
    assert "no longer at" in pair and "print" in pair  # a's code is gone, bob's is shown
    archive = (rep / pair_page("bob", "archive:old")).read_text()
    assert "not available" in archive or "no longer" in archive


def test_each_failure_tells_the_student_what_to_do(rendered):
    out, names, _ = rendered
    expect = {"error": "empty writable folder", "timeout": "stopped after 40 s",
              "memory": "at most 2048 MB", "invalid_output": "header id,label",
              "rejected": "save the notebook as main.py"}
    for status, who in names["failed"].items():
        for ext in ("html", "md", "txt"):
            text = (out / "reports" / "students" / f"{page_name(who)}.{ext}").read_text()
            assert "What to do:" in text and expect[status] in text, (status, ext)


def test_markdown_feedback_keeps_submission_text_inert(rendered):
    out, names, _ = rendered
    md = (out / "reports" / "students" / f"{page_name(names['hostile'])}.md").read_text()
    fence = re.search(r"^(`{3,})text\n(.*?)\n\1$", md, re.S | re.M)
    assert fence and HOSTILE_LOG in fence.group(2)  # the log is shown as code, verbatim
    outside = md.replace(fence.group(0), "")
    assert "<" not in outside and "&lt;script&gt;" in outside
    # never an entity inside a code span, where Markdown shows it as typed ("&lt;module&gt;")
    assert not re.search(r"`[^`\n]*&(lt|gt|amp|#34|#39);[^`\n]*`", outside), outside
    from reports.render import _md_text

    assert str(_md_text("[win](http://x) *b* a|b")) == r"\[win\](http://x) \*b\* a\|b"


def test_without_a_public_matrix_nothing_is_shown_before_release(tmp_path):
    from grader.store import Store

    out = tmp_path / "out"
    names = make_batch(out, students=8, pairs=2)
    with Store(out / "grading.db") as st:
        rows = list(st.scores().values())
        for r in rows:
            (r.get("details") or {}).pop("public", None)
        st.put_scores(rows)
    render_reports(out)
    page = (out / "reports" / "students" / f"{names['ok'][0]}.html").read_text()
    assert 'id="confusion"' not in page and "once the private scores are released" in page


@pytest.mark.parametrize("metric,rule", [
    ("accuracy", "using only labels seen in train.csv"),
    ("mse", "each label a finite number (no NaN, no inf, no text)"),
    ("roc_auc", "the probability of the positive class, a number from 0 to 1"),
])
def test_invalid_output_advice_follows_the_metric(tmp_path, metric, rule):
    """A regression or roc_auc course's invalid output is not told to use train.csv's labels."""
    out = tmp_path / "out"
    names = make_batch(out, students=8, pairs=2)
    _set_metric(out, metric)
    render_reports(out)
    who = page_name(names["failed"]["invalid_output"])
    for ext in ("html", "md", "txt"):
        text = (out / "reports" / "students" / f"{who}.{ext}").read_text()
        assert "What to do:" in text and rule in text, ext
        assert metric == "accuracy" or "labels seen in train.csv" not in text, ext


@pytest.mark.parametrize("metric", ["accuracy", "mse"])
def test_reference_points_are_listed_best_first_in_the_metric_direction(tmp_path, metric):
    """For an error metric (mse, mae) the best model is the smallest score: the instructor's
    reference table and each student's comparison list it first, not last."""
    from grader.scoring import METRICS
    from reports._load import LOWER_IS_BETTER

    # the reports' own copy of the directions agrees with the scorer's
    assert LOWER_IS_BETTER == {m for m, (_, greater) in METRICS.items() if not greater}
    out = tmp_path / "out"
    names = make_batch(out, students=8, pairs=2)
    _set_metric(out, metric)
    render_reports(out)

    def column(html: str, table: str, cell: int) -> list[float]:
        body = html.split(f'id="{table}"', 1)[1].split("</tbody>", 1)[0]
        rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)[1:]  # after the header
        cells = [re.findall(r'<td class="num">([^<]*)</td>', r) for r in rows]
        return [float(c[cell]) for c in cells if len(c) > cell and c[cell].strip()]

    order = sorted if metric == "mse" else (lambda v: sorted(v, reverse=True))
    index = (out / "reports" / "index.html").read_text()
    private = column(index, "reference-table", 1)
    assert len(private) >= 2 and private == order(private), private
    page = (out / "reports" / "students" / f"{page_name(names['ok'][0])}.html").read_text()
    scores = column(page, "comparison-table", 0)
    assert len(scores) >= 2 and scores == order(scores), scores


def _set_metric(out: Path, metric: str) -> None:
    """The stored batch's course metric, as a course.toml of that metric would have it."""
    from grader.store import Store

    with Store(out / "grading.db") as st:
        config = st.meta()["config"]
        config.setdefault("competition", {})["metric"] = metric
        st.set_meta(config=config)


def test_pair_pages_are_the_top_ranked_and_every_flagged_decided_or_fragment_pair():
    from reports.render import TOP_PAIR_PAGES, pair_pages

    pairs = [{"flagged": False, "fragments": [], "decision_state": ""} for _ in range(120)]
    pairs[60]["flagged"] = True
    pairs[70]["engine_flagged"] = True  # dismissed by a TA: keeps its page and evidence
    pairs[80]["decision_state"] = "needs_discussion"
    pairs[90]["fragments"] = [{"file_a": "main.py"}]
    assert pair_pages(pairs) == set(range(TOP_PAIR_PAGES)) | {60, 70, 80, 90}


def test_results_json_links_only_pages_that_exist(tmp_path):
    import json

    out = tmp_path / "out"
    make_batch(out, students=24, pairs=80)
    render_reports(out)
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    pairs = doc["similarity"]["pairs"]
    assert len(pairs) > 50
    linked = [p["page"] for p in pairs if p["page"]]
    assert linked and all((out / "reports" / page).is_file() for page in linked)
    assert any(p["page"] is None for p in pairs)  # the rest have no page, and say so
    assert {type(p["flagged"]) for p in pairs} == {bool}
    assert all({"code", "reason", "behaviour", "decision"} <= set(p) for p in pairs)
    assert all("integrity" in s for s in doc["students"])


def test_the_configuration_table_names_the_corpus_folders_used(tmp_path):
    out = tmp_path / "out"
    make_batch(out, students=8, pairs=2)  # its course has web/, no starter/ or archive/
    render_reports(out)
    index = (out / "reports" / "index.html").read_text(encoding="utf-8")
    shown = dict(re.findall(r"\[similarity\] (\w+)</th><td><code>([^<]*)</code>", index))
    assert shown["web"] == "\"web/ (the default)\""
    assert shown["template"] == "\"none (no starter/ folder)\""


def test_the_course_environment_line_follows_the_limits_line(tmp_path):
    from grader.store import Store

    out = tmp_path / "out"
    names = make_batch(out, students=6, pairs=1)
    with Store(out / "grading.db") as st:
        st.set_meta(environment={"built": True, "source": "environment/requirements.txt",
                                 "packages": [["numpy", "2.4.6"], ["torch", "2.13.0"]]})
    render_reports(out)
    page = page_name(names["ok"][0])
    txt = (out / "reports" / "students" / f"{page}.txt").read_text(encoding="utf-8")
    md = (out / "reports" / "students" / f"{page}.md").read_text(encoding="utf-8")
    # each on its own line (they were joined: "limits: 300 s, 4096 MBCourse environment")
    assert re.search(r"limits: [^\n]*MB\nCourse environment \(", txt), txt
    assert re.search(r"- Limits: [^\n]*MB\n- Course environment \(", md), md
