"""``grader review OUT_DIR [--port N] [--host H]``: the TAs' review app;
``grader review export OUT_DIR --csv F`` / ``grader review import OUT_DIR --csv F``: the
decisions as CSV for TAs who work offline. A row's ``state`` is confirmed, dismissed,
needs_discussion, or undecided (also "not decided"), which puts a decided pair back to not
decided as a new, signed version of its history; an empty state is an error."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from grader.errors import GraderError, StoreError

_ACTIONS = ("export", "import")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="OUT_DIR | export | import",
                        help="the batch folder to review, or 'export' / 'import' then the folder")
    parser.add_argument("out_dir", nargs="?", metavar="OUT_DIR",
                        help="with export/import: the batch folder")
    parser.add_argument("--port", type=int, default=8765,
                        help="port to listen on (0: any free port; default 8765)")
    parser.add_argument("--host", default=None,
                        help="listen on this address instead of 127.0.0.1 (then a token is "
                             "required: $GRADER_REVIEW_TOKEN, or one is made and printed once)")
    parser.add_argument("--csv", type=Path, metavar="FILE",
                        help="with export/import: the decisions CSV; its state column takes "
                             "confirmed, dismissed, needs_discussion, or undecided (also "
                             "'not decided': puts a decided pair back to not decided, kept in "
                             "its history with the reviewer); an empty state is an error")


def _batch_dir(path: str | None) -> Path:
    if not path:
        raise GraderError("no batch folder given", hint="grader review export OUT_DIR --csv F")
    out = Path(path)
    if (out / "results" / "grading.db").is_file() and not (out / "grading.db").is_file():
        out = out / "results"  # the demo's folder: the batch lives in results/
    if not (out / "grading.db").is_file():
        raise StoreError(f"no grading.db in {out}",
                         hint="pass the --out folder of 'grader run' or 'grader demo'")
    return out


def run(args: argparse.Namespace) -> int:
    from grader.decisions import export_csv, import_csv, refresh_grades_csv
    from grader.store import Store

    if args.target in _ACTIONS:
        out = _batch_dir(args.out_dir)
        if args.csv is None:
            raise GraderError(f"'grader review {args.target}' needs --csv FILE",
                              hint=f"grader review {args.target} {out} --csv decisions.csv")
        with Store(out / "grading.db") as store:
            if args.target == "export":
                n = export_csv(store, args.csv)
                print(f"wrote {n} pairs (flagged, decided, or held just under the threshold) "
                      f"to {args.csv}; fill state "
                      "(confirmed, dismissed, needs_discussion, or undecided to reset a "
                      "pair), note and reviewer, then "
                      f"'grader review import {args.out_dir} --csv {args.csv}'")
                return 0
            stored = import_csv(store, args.csv)
            refresh_grades_csv(out, store)
        if (out / "reports" / "index.html").is_file():  # the pages show grades too
            from grader.batch.outputs import render_reports

            render_reports(out)
            print(f"imported {len(stored)} decision(s) from {args.csv}; grades.csv, "
                  "results.json, exports/ and the pages updated")
        else:
            print(f"imported {len(stored)} decision(s) from {args.csv}; grades.csv updated")
        return 0
    if args.out_dir is not None:
        raise GraderError(f"unexpected argument {args.out_dir!r}",
                          hint="grader review OUT_DIR [--port N] [--host H]")
    from grader.review import TOKEN_ENV, serve

    out = _batch_dir(args.target)
    token = None
    if args.host is not None:
        token = os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(18)
    print(f"reviewing {out} (Ctrl-C to stop)", file=sys.stderr)
    serve(out, host=args.host, port=args.port, token=token,
          say=lambda line: print(line, flush=True))
    return 0
