"""``grader intake MAILBOX --roster roster.csv --out submissions/``: e-mails → folders."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("mailbox", help="an .mbox file, a folder of .eml files, or a Maildir")
    parser.add_argument("--roster", required=True, help="roster.csv (student,name,email,...)")
    parser.add_argument("--out", required=True, help="the submissions folder to fill")
    parser.add_argument("--keep", choices=("latest", "first"), default="latest",
                        help="which of a student's e-mails counts, by receiving time "
                             "(default: latest)")
    parser.add_argument("--deadline", metavar="ISO",
                        help="e.g. 2026-01-18T23:59:59+02:00; e-mails received later (top "
                             "Received header or mbox envelope, never Date) are reported late")
    parser.add_argument("--accept-quarantined", metavar="ID", action="append", default=[],
                        help="accept a quarantined message (its Message-ID or #N from the "
                             "report) although the receiving server failed its sender; "
                             "repeatable")
    parser.add_argument("--authserv-id", metavar="HOST",
                        help="the receiving server's name in its Authentication-Results "
                             "headers (e.g. mx.unibuc.ro); default: the top header")
    parser.add_argument("--report", metavar="CSV",
                        help="where to write the report (default: intake_report.csv beside OUT)")
    parser.add_argument("--kaggle-dir", metavar="DIR",
                        help="put kaggle_submission.csv files in DIR/<student>.csv instead of "
                             "the student's folder (out of reach of the student's code)")


def run(args: argparse.Namespace) -> int:
    from grader.ops.mail_intake import parse_deadline, run_intake
    from grader.ops.roster import load_roster

    roster = load_roster(args.roster)
    deadline = parse_deadline(args.deadline) if args.deadline else None
    result = run_intake(args.mailbox, roster, args.out, keep=args.keep, deadline=deadline,
                        report_path=args.report, kaggle_dir=args.kaggle_dir,
                        authserv_id=args.authserv_id,
                        accept_quarantined=tuple(args.accept_quarantined))
    print(result.summary())  # outsiders' text in it is escaped (terminal_safe)
    return 0
