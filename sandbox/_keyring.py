"""A fresh, empty session keyring for every bubblewrap run (defence in depth).

Every bubblewrap run is uid 65534, and a process *possesses* the session keyring it inherits
(the grader's, after ``setpriv`` changes the uid), so keys are a channel between runs and
towards the grader. The seccomp filter (``sandbox.seccomp``) refuses every keyring call
inside the sandbox; in addition, each run starts from a new anonymous session keyring that
dies with it. The join must happen before the filter is installed, so it is a tiny
interpreter step in front of ``bwrap`` (about 20 ms) that then execs it.
"""

from __future__ import annotations

import sys

from sandbox.seccomp import SYSCALLS, host_machine

KEYCTL_JOIN_SESSION_KEYRING = 1

# a failure (kernel without keys) is ignored: the seccomp filter still refuses every key call
_JOIN_THEN_EXEC = (
    "import ctypes, os, sys\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "libc.syscall(ctypes.c_long({nr}), ctypes.c_long({op}), None)\n"
    "os.execvp(sys.argv[1], sys.argv[1:])\n"
)


def fresh_session_prefix(python: str | None = None) -> list[str]:
    """argv to put in front of a command so that it runs in a new, empty session keyring.

    Parameters
    ----------
    python : str, default=the grader's interpreter
        A host Python (only the standard library is used: ``-I -S``).

    Returns
    -------
    list of str
        ``[python, "-I", "-S", "-c", code]``; empty where the architecture is unknown.
    """
    nr = SYSCALLS.get(host_machine(), {}).get("keyctl")
    if nr is None:
        return []
    code = _JOIN_THEN_EXEC.format(nr=nr, op=KEYCTL_JOIN_SESSION_KEYRING)
    return [python or sys.executable, "-I", "-S", "-c", code]
