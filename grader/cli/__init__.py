"""The ``grader`` command line: a table of verbs, each in its own lazily imported module.

Every command module under ``grader/cli/commands/`` defines ``add_arguments(parser)`` and
``run(args) -> int``. Importing this package loads neither scikit-learn, torch nor Dask, so
``grader --help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NamedTuple

from diagnostics import Diagnostic


class CommandInfo(NamedTuple):
    module: str
    summary: str


COMMANDS: dict[str, CommandInfo] = {
    "demo": CommandInfo("grader.cli.commands.demo", "build the embedded demo course and grade it"),
    "run": CommandInfo("grader.cli.commands.run", "grade a folder of submissions on a course"),
    "reference": CommandInfo(
        "grader.cli.commands.reference", "run every course model on a course's data"
    ),
    "similarity": CommandInfo(
        "grader.cli.commands.similarity", "find shared code between submissions"
    ),
    "grades": CommandInfo(
        "grader.cli.commands.grades", "grade from a score table (Kaggle leaderboard export)"
    ),
    "report": CommandInfo("grader.cli.commands.report", "re-render the reports of a batch"),
    "sandbox": CommandInfo(
        "grader.cli.commands.sandbox", "check the sandbox backends, build the course image"
    ),
    "intake": CommandInfo(
        "grader.cli.commands.intake", "turn a mailbox of e-mailed submissions into folders"
    ),
    "final": CommandInfo(
        "grader.cli.commands.final", "compute final course grades from their components"
    ),
    "review": CommandInfo(
        "grader.cli.commands.review", "the TAs' review app: decide similarity pairs"
    ),
    "feedback": CommandInfo(
        "grader.cli.commands.feedback", "e-mail each student their feedback page"
    ),
}


#: every error a user can cause, by its class (matched along the class's MRO, most specific
#: first) → the exit code. The one place that decides exit codes; tracebacks only with --debug.
EXIT_CODES: dict[str, int] = {
    "grader.errors.StoreError": 4,
    "grader.executors.dask.SchedulerUnavailable": 5,
    "sandbox.errors.SandboxError": 3,
    "grader.errors.GraderError": 1,
    "similarity.errors.SimilarityError": 1,
    "reports.errors.ReportsError": 1,
    "diagnostics.Diagnostic": 1,
}
#: the signals that stop a command the way Ctrl-C does (a clean stop: running sandboxes
#: killed, finished results kept) → the exit code, 128 + the signal's number as shells report
#: it. SIGTERM is what kill, systemd, Slurm and timeout send; SIGHUP a closed terminal.
STOP_SIGNALS: dict[str, int] = {"SIGINT": 130, "SIGTERM": 143, "SIGHUP": 129}
INTERRUPTED = STOP_SIGNALS["SIGINT"]


class Stopped(KeyboardInterrupt):
    """A stop signal other than Ctrl-C, raised in the main thread where it arrives, so every
    ``except KeyboardInterrupt`` cleanup (the run stage's) runs for it too."""

    def __init__(self, signame: str):
        super().__init__(signame)
        self.signame = signame


def _install_stop_handlers() -> None:
    """SIGINT, SIGTERM and SIGHUP raise :class:`Stopped` once: any of them during the cleanup
    that follows is ignored (a second Ctrl-C, or a TERM after it, interrupted the killing of
    the sandboxes: a traceback, and containers left running). A signal the caller ignores
    (``nohup``, a background job's SIGINT) stays ignored."""
    import signal

    def stop(signum: int, _frame: object) -> None:
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
        raise Stopped(signal.Signals(signum).name)

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, stop)


def exit_code(exc: BaseException) -> int:
    """The exit code of an error, from :data:`EXIT_CODES`."""
    for cls in type(exc).__mro__:
        code = EXIT_CODES.get(f"{cls.__module__}.{cls.__qualname__}")
        if code is not None:
            return code
    return 1


def _build_parser(verb: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader",
        description="gradebox: grade and plagiarism-check machine-learning course submissions",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND")
    for name, info in COMMANDS.items():
        p = sub.add_parser(name, help=info.summary, description=info.summary)
        if name == verb:
            importlib.import_module(info.module).add_arguments(p)
    return parser


#: commands whose work ends as one big in-memory result, with no child process, temporary
#: folder or open store left to clean up: the ``grader`` program leaves without tearing the
#: interpreter down (freeing IR-Plag's 20,000 pairs object by object took 0.06-0.1 s)
_QUICK_EXIT = frozenset({"similarity"})


def _verb(argv: list[str]) -> str | None:
    """The command named in ``argv``: its first word that is not an option."""
    return next((a for a in argv if not a.startswith("-")), None)


#: exit code when the reader of the output left (``grader similarity ... | head``): a shell's
#: code for a program that SIGPIPE ended (128 + 13)
EXIT_BROKEN_PIPE = 141


def entry() -> None:
    """The ``grader`` program: :func:`main`, then exit with its code."""
    try:
        code = main()
    except BrokenPipeError:
        # Whoever read the output stopped reading (``| head``): what was written stays written
        # (result files come before the summary), and a traceback would say nothing useful.
        # Further writes (the flush at exit) go nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = EXIT_BROKEN_PIPE
    if _verb(sys.argv[1:]) in _QUICK_EXIT:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verb = _verb(argv)
    if verb is not None and verb not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(verb, COMMANDS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        print(f"error: unknown command '{verb}'{hint}; see 'grader --help'", file=sys.stderr)
        return 2
    parser = _build_parser(verb)
    args = parser.parse_args(argv)
    if args.verb is None:
        parser.print_help()
        return 0
    module = importlib.import_module(COMMANDS[args.verb].module)
    _install_stop_handlers()
    try:
        return int(module.run(args) or 0)
    except Diagnostic as exc:
        if args.debug:
            import traceback  # only here: --debug is rare, every command pays for imports

            traceback.print_exc()
        print(exc.render(), file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt as exc:
        name = exc.signame if isinstance(exc, Stopped) else "SIGINT"
        try:  # after SIGHUP the terminal may be gone: the exit code still says what happened
            print(f"interrupted ({name}): finished results are kept; run the same command to "
                  "resume", file=sys.stderr)
        except OSError:
            pass
        return STOP_SIGNALS[name]
