"""``grader feedback send OUT_DIR --roster CSV [--dry-run --outbox DIR]``: each student their
own feedback page by e-mail (SMTP settings from flags or the environment; credentials from
``GRADER_SMTP_USER`` / ``GRADER_SMTP_PASSWORD`` or a prompt, never from course.toml)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from grader.errors import GraderError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["send"], help="send: e-mail the feedback pages")
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="the batch folder")
    parser.add_argument("--roster", required=True, help="roster.csv (student, name, email)")
    parser.add_argument("--dry-run", action="store_true",
                        help="write the messages as .eml files into --outbox; send nothing")
    parser.add_argument("--outbox", type=Path, help="with --dry-run: where the .eml files go")
    parser.add_argument("--from", dest="sender", default=os.environ.get("GRADER_SMTP_FROM"),
                        help="the From address (default $GRADER_SMTP_FROM)")
    parser.add_argument("--subject", default=None, help="default '<course>: feedback on ...'")
    parser.add_argument("--smtp-host", default=os.environ.get("GRADER_SMTP_HOST", "localhost"))
    parser.add_argument("--smtp-port", type=int,
                        default=int(os.environ.get("GRADER_SMTP_PORT", "587")))
    parser.add_argument("--no-starttls", dest="starttls", action="store_false",
                        help="do not upgrade the connection with STARTTLS (a local relay)")
    parser.add_argument("--ssl", action="store_true", help="SMTP over TLS from the start (465)")
    parser.add_argument("--rate", type=float, default=30.0,
                        help="at most this many messages a minute (default 30)")


def run(args: argparse.Namespace) -> int:
    from grader.cli.commands.review import _batch_dir
    from grader.ops.feedback import SmtpSettings, plan_feedback, send_feedback, write_outbox
    from grader.ops.roster import load_roster

    out = _batch_dir(str(args.out_dir))
    if args.dry_run and args.outbox is None:
        raise GraderError("--dry-run needs --outbox DIR", hint="e.g. --dry-run --outbox outbox/")
    if not args.sender and args.dry_run:  # a preview needs no real sender
        args.sender = "course@example.invalid"
        print("dry run: no --from given; the messages say From: course@example.invalid",
              file=sys.stderr)
    if not args.sender:
        raise GraderError("no From address", hint="pass --from course@university.ro or set "
                                                  "$GRADER_SMTP_FROM")
    roster = load_roster(args.roster)  # checked whole: a bad e-mail names its line
    plan = plan_feedback(out, roster, sender=args.sender, subject=args.subject)
    for label, names in (("not in the roster", plan.not_in_roster),
                         ("no e-mail in the roster", plan.no_email)):
        if names:
            print(f"not sent, {label} ({len(names)}): {', '.join(names)}", file=sys.stderr)
    if plan.already_sent:
        print(f"already sent, unchanged ({len(plan.already_sent)}): skipped", file=sys.stderr)
    if args.dry_run:
        paths = write_outbox(plan, args.outbox)
        print(f"dry run: {len(paths)} message(s) written to {args.outbox}; nothing sent")
        return 0
    user = os.environ.get("GRADER_SMTP_USER", "")
    password = os.environ.get("GRADER_SMTP_PASSWORD", "")
    if user and not password and plan.outgoing:
        password = getpass.getpass(f"SMTP password for {user}@{args.smtp_host}: ")
    smtp = SmtpSettings(host=args.smtp_host, port=args.smtp_port, starttls=args.starttls,
                        ssl=args.ssl, username=user, password=password)
    n = send_feedback(out, plan, smtp, per_minute=args.rate,
                      say=lambda m: print(m, file=sys.stderr))
    print(f"sent {n} message(s); {len(plan.already_sent)} already sent; "
          f"{len(plan.not_in_roster) + len(plan.no_email)} student(s) without an address")
    return 0
