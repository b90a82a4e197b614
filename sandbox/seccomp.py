"""The system calls a sandboxed run may not make, as data, and the filter that refuses them.

The policy follows Docker's default seccomp profile where an ML program never needs the
call: the keyring, debugging other processes, mounts and namespaces, kernel programs
(BPF, perf, io_uring), modules, reboot, swap, the clock and raw hardware. Refused calls
return ``EPERM`` (never a kill, so a library probing for a feature gets an ordinary error);
``clone3`` returns ``ENOSYS`` so that glibc falls back to ``clone``, whose flags a classic
BPF filter can read, and ``clone`` with any namespace flag is refused. Everything else is
allowed. bubblewrap installs the program with ``--seccomp FD`` just before it starts the
run's first process; Docker applies its own default profile.

Examples
--------
>>> prog = compile_filter("x86_64")
>>> len(prog) % 8, len(prog) // 8 < 256
(0, True)
"""

from __future__ import annotations

import errno
import os
import platform
import struct
from collections.abc import Iterator
from contextlib import contextmanager

#: refused calls, grouped by why an ML program never needs them
REFUSED: dict[str, tuple[str, ...]] = {
    "keyring (shared by every run of the sandbox uid)": ("add_key", "request_key", "keyctl"),
    "reading or steering other processes": (
        "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
        "pidfd_getfd"),
    "mounts and namespaces": (
        "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "open_tree",
        "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr"),
    "kernel programs, tracing and io_uring": (
        "bpf", "perf_event_open", "userfaultfd", "lookup_dcookie", "fanotify_init",
        "io_uring_setup", "io_uring_enter", "io_uring_register"),
    "kernel modules and rebooting": (
        "init_module", "finit_module", "delete_module", "create_module", "get_kernel_syms",
        "query_module", "kexec_load", "kexec_file_load", "reboot"),
    "system administration": (
        "swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "syslog", "vhangup",
        "sethostname", "setdomainname", "nfsservctl", "uselib", "_sysctl"),
    "the system clock": ("settimeofday", "clock_settime", "clock_adjtime", "adjtimex"),
    "raw hardware and file handles": ("iopl", "ioperm", "open_by_handle_at", "name_to_handle_at"),
}
#: answered ENOSYS: glibc (pthread_create, posix_spawn) then falls back to ``clone``
NOT_IMPLEMENTED: tuple[str, ...] = ("clone3",)
#: ``clone`` with any of these flags is refused (new user, mount, pid, net, ipc, uts, cgroup
#: namespaces); CLONE_NEWTIME (0x80) is not a ``clone`` flag (it overlaps the exit signal)
CLONE_NAMESPACE_FLAGS = 0x7E020000
REFUSE_ERRNO = errno.EPERM

#: system call numbers per architecture (``platform.machine()``), from the kernel's tables
SYSCALLS: dict[str, dict[str, int]] = {
    "x86_64": {
        "acct": 163, "add_key": 248, "adjtimex": 159, "bpf": 321, "chroot": 161,
        "clock_adjtime": 305, "clock_settime": 227, "clone": 56, "clone3": 435,
        "create_module": 174, "delete_module": 176, "fanotify_init": 300, "finit_module": 313,
        "fsconfig": 431, "fsmount": 432, "fsopen": 430, "fspick": 433, "get_kernel_syms": 177,
        "init_module": 175, "io_uring_enter": 426, "io_uring_register": 427,
        "io_uring_setup": 425, "ioperm": 173, "iopl": 172, "kcmp": 312, "kexec_file_load": 320,
        "kexec_load": 246, "keyctl": 250, "lookup_dcookie": 212, "mount": 165,
        "mount_setattr": 442, "move_mount": 429, "name_to_handle_at": 303, "nfsservctl": 180,
        "open_by_handle_at": 304, "open_tree": 428, "perf_event_open": 298, "pidfd_getfd": 438,
        "pivot_root": 155, "process_madvise": 440, "process_vm_readv": 310,
        "process_vm_writev": 311, "ptrace": 101, "query_module": 178, "quotactl": 179,
        "quotactl_fd": 443, "reboot": 169, "request_key": 249, "setdomainname": 171,
        "sethostname": 170, "setns": 308, "settimeofday": 164, "swapoff": 168, "swapon": 167,
        "_sysctl": 156, "syslog": 103, "umount2": 166, "unshare": 272, "uselib": 134,
        "userfaultfd": 323, "vhangup": 153,
    },
    # asm-generic numbering; iopl, ioperm, uselib, _sysctl and the old module calls do not exist
    "aarch64": {
        "acct": 89, "add_key": 217, "adjtimex": 171, "bpf": 280, "chroot": 51,
        "clock_adjtime": 266, "clock_settime": 112, "clone": 220, "clone3": 435,
        "delete_module": 106, "fanotify_init": 262, "finit_module": 273, "fsconfig": 431,
        "fsmount": 432, "fsopen": 430, "fspick": 433, "init_module": 105,
        "io_uring_enter": 426, "io_uring_register": 427, "io_uring_setup": 425, "kcmp": 272,
        "kexec_file_load": 294, "kexec_load": 104, "keyctl": 219, "lookup_dcookie": 18,
        "mount": 40, "mount_setattr": 442, "move_mount": 429, "name_to_handle_at": 264,
        "nfsservctl": 42, "open_by_handle_at": 265, "open_tree": 428, "perf_event_open": 241,
        "pidfd_getfd": 438, "pivot_root": 41, "process_madvise": 440, "process_vm_readv": 270,
        "process_vm_writev": 271, "ptrace": 117, "quotactl": 60, "quotactl_fd": 443,
        "reboot": 142, "request_key": 218, "setdomainname": 162, "sethostname": 161,
        "setns": 268, "settimeofday": 170, "swapoff": 225, "swapon": 224, "syslog": 116,
        "umount2": 39, "unshare": 97, "userfaultfd": 282, "vhangup": 58,
    },
}
#: ``AUDIT_ARCH_*``: the filter refuses every call made through another ABI (e.g. i386
#: ``int 0x80`` on x86_64), whose numbers differ
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
#: x86_64's x32 ABI sets this bit in the call number; all x32 calls are refused
X32_SYSCALL_BIT = 0x40000000

# classic BPF (linux/filter.h, linux/seccomp.h)
_LD_W_ABS = 0x20
_JEQ_K, _JGE_K, _JSET_K = 0x15, 0x35, 0x45
_RET_K = 0x06
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
# offsets in struct seccomp_data: nr, arch, instruction_pointer, args[6]
_OFF_NR, _OFF_ARCH, _OFF_ARG0_LOW = 0, 4, 16  # args[0]'s low word (little-endian machines)


def refused_syscalls() -> tuple[str, ...]:
    """Every refused call's name, in policy order."""
    return tuple(n for names in REFUSED.values() for n in names)


def host_machine() -> str:
    """The host architecture's name as ``SYSCALLS`` knows it (``platform.machine()``)."""
    m = platform.machine()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(m.lower(), m)


def compile_filter(machine: str | None = None) -> bytes:
    """The policy as a classic-BPF program (``struct sock_filter[]``, native byte order).

    Parameters
    ----------
    machine : {"x86_64", "aarch64"}, default=the host's
        Architecture whose call numbers and ``AUDIT_ARCH`` the program checks.

    Returns
    -------
    bytes
        8 bytes per instruction, for ``bwrap --seccomp FD`` or ``PR_SET_SECCOMP``.

    Raises
    ------
    ValueError
        If there is no table for ``machine``.
    """
    machine = machine or host_machine()
    if machine not in SYSCALLS:
        raise ValueError(f"no seccomp policy for the {machine} architecture "
                         f"(known: {', '.join(SYSCALLS)})")
    table = SYSCALLS[machine]
    refused = sorted({table[n] for n in refused_syscalls() if n in table})
    enosys = sorted({table[n] for n in NOT_IMPLEMENTED if n in table})
    # (code, jump-if-true label, jump-if-false label, k); labels resolve to relative offsets
    prog: list[tuple[int, str | None, str | None, int]] = [
        (_LD_W_ABS, None, None, _OFF_ARCH),
        (_JEQ_K, None, "deny", AUDIT_ARCH[machine]),
        (_LD_W_ABS, None, None, _OFF_NR),
    ]
    if machine == "x86_64":
        prog.append((_JGE_K, "deny", None, X32_SYSCALL_BIT))
    prog += [(_JEQ_K, "enosys", None, nr) for nr in enosys]
    prog.append((_JEQ_K, "clone", None, table["clone"]))
    prog += [(_JEQ_K, "deny", None, nr) for nr in refused]
    labels = {"allow": len(prog)}
    prog.append((_RET_K, None, None, RET_ALLOW))
    labels["clone"] = len(prog)
    prog += [(_LD_W_ABS, None, None, _OFF_ARG0_LOW),
             (_JSET_K, "deny", None, CLONE_NAMESPACE_FLAGS),
             (_RET_K, None, None, RET_ALLOW)]
    labels["deny"] = len(prog)
    prog.append((_RET_K, None, None, RET_ERRNO | REFUSE_ERRNO))
    labels["enosys"] = len(prog)
    prog.append((_RET_K, None, None, RET_ERRNO | errno.ENOSYS))
    out = bytearray()
    for pc, (code, jt, jf, k) in enumerate(prog):
        offs = [0 if lab is None else labels[lab] - pc - 1 for lab in (jt, jf)]
        if not all(0 <= o < 256 for o in offs):
            raise ValueError("the seccomp policy is too long for 8-bit BPF jumps")
        out += struct.pack("=HBBI", code, offs[0], offs[1], k)
    return bytes(out)


@contextmanager
def filter_pipe(machine: str | None = None) -> Iterator[int]:
    """A readable file descriptor holding the compiled filter, for ``bwrap --seccomp FD``.

    The program is written whole into a pipe (it is far smaller than a pipe's buffer) and the
    write end closed, so the reader sees it then end-of-file. Pass the descriptor to the child
    (``pass_fds``); it is closed when the block ends.
    """
    prog = compile_filter(machine)
    r, w = os.pipe()
    try:
        os.write(w, prog)
    finally:
        os.close(w)
    try:
        yield r
    finally:
        os.close(r)
