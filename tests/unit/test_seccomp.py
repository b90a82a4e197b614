"""The seccomp policy as data: the compiled BPF program, decoded by a tiny interpreter here,
refuses each listed call and allows everything else; the kernel accepts it; the keyring step."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox import seccomp
from sandbox._keyring import fresh_session_prefix

ROOT = Path(__file__).resolve().parents[2]
ALLOW = "allow"
CLONE_NEWUSER, CLONE_NEWNS, SIGCHLD = 0x10000000, 0x00020000, 17
# what pthread_create passes to clone: VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|*_TID
THREAD_FLAGS = 0x003D0F00
# calls every Python/NumPy/PyTorch run makes (x86_64, aarch64)
ML_CALLS = {"read": (0, 63), "write": (1, 64), "openat": (257, 56), "mmap": (9, 222),
            "munmap": (11, 215), "futex": (202, 98), "exit_group": (231, 94),
            "sched_getaffinity": (204, 123), "wait4": (61, 260), "execve": (59, 221),
            "socketpair": (53, 199), "madvise": (28, 233), "getrandom": (318, 278),
            "prctl": (157, 167), "sched_yield": (24, 124), "mbind": (237, 235)}


def run_bpf(prog: bytes, *, nr: int, arch: int, args: tuple[int, ...] = ()) -> str | int:
    """Interpret a classic-BPF seccomp program: ``"allow"`` or the errno it returns."""
    args = tuple(args) + (0,) * (6 - len(args))
    data = struct.pack("=iIQ6Q", nr, arch, 0, *args)
    insns = [struct.unpack("=HBBI", prog[i:i + 8]) for i in range(0, len(prog), 8)]
    pc, acc = 0, 0
    for _ in range(len(insns) + 1):  # no backward jumps: one pass at most
        code, jt, jf, k = insns[pc]
        if code == 0x20:  # ld [k]
            acc = struct.unpack_from("=I", data, k)[0]
            pc += 1
        elif code in (0x15, 0x35, 0x45):  # jeq, jge, jset
            hit = {0x15: acc == k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
            pc += 1 + (jt if hit else jf)
        elif code == 0x06:  # ret k
            if k == seccomp.RET_ALLOW:
                return ALLOW
            assert k & 0xFFFF0000 == seccomp.RET_ERRNO, hex(k)
            return k & 0xFFFF
        else:
            raise AssertionError(f"unexpected BPF instruction {code:#x}")
    raise AssertionError("the program did not return")


@pytest.mark.parametrize("machine", sorted(seccomp.SYSCALLS))
def test_each_refused_call_gets_eperm_and_every_other_call_is_allowed(machine):
    prog, table = seccomp.compile_filter(machine), seccomp.SYSCALLS[machine]
    arch = seccomp.AUDIT_ARCH[machine]
    refused = {table[n] for n in seccomp.refused_syscalls() if n in table}
    for name in seccomp.refused_syscalls():
        if name in table:
            assert run_bpf(prog, nr=table[name], arch=arch) == errno.EPERM, name
    special = {table["clone"], table["clone3"]}
    for nr in range(600):
        if nr not in refused | special:
            assert run_bpf(prog, nr=nr, arch=arch) == ALLOW, nr
    col = 0 if machine == "x86_64" else 1
    for name, nrs in ML_CALLS.items():
        assert run_bpf(prog, nr=nrs[col], arch=arch) == ALLOW, name


@pytest.mark.parametrize("machine", sorted(seccomp.SYSCALLS))
def test_clone_namespaces_refused_fork_and_threads_allowed_clone3_enosys(machine):
    prog, table = seccomp.compile_filter(machine), seccomp.SYSCALLS[machine]
    arch = seccomp.AUDIT_ARCH[machine]
    clone = table["clone"]
    assert run_bpf(prog, nr=clone, arch=arch, args=(SIGCHLD,)) == ALLOW  # fork
    assert run_bpf(prog, nr=clone, arch=arch, args=(THREAD_FLAGS,)) == ALLOW
    assert run_bpf(prog, nr=clone, arch=arch, args=(0x4111,)) == ALLOW  # vfork: VM|VFORK|SIGCHLD
    for flag in (CLONE_NEWUSER, CLONE_NEWNS, 0x20000000, 0x40000000, 0x08000000, 0x04000000,
                 0x02000000):
        assert run_bpf(prog, nr=clone, arch=arch, args=(flag | SIGCHLD,)) == errno.EPERM
    assert run_bpf(prog, nr=table["clone3"], arch=arch) == errno.ENOSYS


def test_other_abis_are_refused():
    prog = seccomp.compile_filter("x86_64")
    getpid = 39
    assert run_bpf(prog, nr=getpid, arch=seccomp.AUDIT_ARCH["x86_64"]) == ALLOW
    assert run_bpf(prog, nr=getpid | seccomp.X32_SYSCALL_BIT,
                   arch=seccomp.AUDIT_ARCH["x86_64"]) == errno.EPERM
    assert run_bpf(prog, nr=20, arch=0x40000003) == errno.EPERM  # i386 getpid via int 0x80
    with pytest.raises(ValueError, match="no seccomp policy for the mips"):
        seccomp.compile_filter("mips")


def test_policy_names_the_calls_of_issue_16_and_exist_on_each_arch():
    must = {"add_key", "request_key", "keyctl", "ptrace", "process_vm_readv",
            "process_vm_writev", "mount", "umount2", "pivot_root", "unshare", "setns", "bpf",
            "perf_event_open", "kexec_load", "kexec_file_load", "init_module", "finit_module",
            "delete_module", "reboot", "swapon", "swapoff", "acct", "quotactl",
            "open_by_handle_at", "name_to_handle_at", "userfaultfd", "iopl", "ioperm",
            "lookup_dcookie", "settimeofday", "clock_settime", "adjtimex", "syslog", "vhangup",
            "fanotify_init"}
    names = seccomp.refused_syscalls()
    assert must <= set(names) and len(names) == len(set(names))
    assert set(names) <= set(seccomp.SYSCALLS["x86_64"])
    legacy = {"create_module", "get_kernel_syms", "query_module", "uselib", "_sysctl", "iopl",
              "ioperm"}
    assert set(names) - set(seccomp.SYSCALLS["aarch64"]) == legacy


_libseccomp = ctypes.util.find_library("seccomp")


@pytest.mark.skipif(not _libseccomp, reason="libseccomp is not installed to cross-check with")
@pytest.mark.parametrize("machine", sorted(seccomp.SYSCALLS))
def test_call_numbers_agree_with_libseccomp(machine):
    lib = ctypes.CDLL(_libseccomp)
    lib.seccomp_syscall_resolve_name_arch.argtypes = [ctypes.c_uint32, ctypes.c_char_p]
    arch = seccomp.AUDIT_ARCH[machine]
    for name, nr in seccomp.SYSCALLS[machine].items():
        assert lib.seccomp_syscall_resolve_name_arch(arch, name.encode()) == nr, name


KERNEL_CHECK = r"""
import ctypes, errno, json, os, threading
from sandbox import seccomp
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
prog = seccomp.compile_filter()
buf = ctypes.create_string_buffer(prog, len(prog))
class Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
fprog = Fprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
assert libc.prctl(38, 1, 0, 0, 0) == 0                      # PR_SET_NO_NEW_PRIVS
assert libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) == 0, ctypes.get_errno()  # SECCOMP_MODE_FILTER
status = open("/proc/self/status").read()
assert "Seccomp:\t2" in status, status                      # nothing below runs unfiltered
NR = seccomp.SYSCALLS[seccomp.host_machine()]
def call(name, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(NR[name]), *[ctypes.c_long(a) for a in args])
    return "ok" if r >= 0 else errno.errorcode[ctypes.get_errno()]
res = {"keyctl": call("keyctl", 0, -3, 0), "unshare": call("unshare", 0x10000000),
       "ptrace": call("ptrace", 0, 0, 0, 0), "clone3": call("clone3", 0, 0)}
pid = os.fork()
if pid == 0:
    os._exit(7)
res["fork"] = os.waitpid(pid, 0)[1] >> 8
t = threading.Thread(target=lambda: res.__setitem__("thread", "ok"))
t.start(); t.join()
print(json.dumps(res))
"""


@pytest.mark.skipif(seccomp.host_machine() not in seccomp.SYSCALLS, reason="no table here")
def test_the_kernel_accepts_the_program_and_enforces_it():
    p = subprocess.run([sys.executable, "-c", KERNEL_CHECK], capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"keyctl": "EPERM", "unshare": "EPERM", "ptrace": "EPERM",
                                    "clone3": "ENOSYS", "fork": 7, "thread": "ok"}


def test_filter_pipe_holds_the_program_then_end_of_file():
    with seccomp.filter_pipe() as fd:
        data = b""
        while chunk := os.read(fd, 4096):
            data += chunk
    assert data == seccomp.compile_filter()
    with pytest.raises(OSError):
        os.fstat(fd)


SESSION_ID = ("import ctypes; libc = ctypes.CDLL(None, use_errno=True); "
              "print(libc.syscall(ctypes.c_long({nr}), ctypes.c_long(0), ctypes.c_long(-3), "
              "ctypes.c_long(1)))")  # KEYCTL_GET_KEYRING_ID of @s, created if missing


def test_each_run_starts_in_a_new_empty_session_keyring():
    prefix = fresh_session_prefix()
    assert prefix[:4] == [sys.executable, "-I", "-S", "-c"]
    code = SESSION_ID.format(nr=seccomp.SYSCALLS[seccomp.host_machine()]["keyctl"])
    ours = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if int(ours.stdout) < 0:
        pytest.skip("this kernel has no keyrings")
    ids = [int(subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True,
                              text=True, check=True).stdout) for _ in range(2)]
    assert min(ids) > 0 and len({*ids, int(ours.stdout)}) == 3
    probe = ("import ctypes; libc = ctypes.CDLL(None, use_errno=True); print(libc.syscall("
             f"ctypes.c_long({seccomp.SYSCALLS[seccomp.host_machine()]['keyctl']}), "
             "ctypes.c_long(11), ctypes.c_long(-3), None, ctypes.c_long(0)))")  # KEYCTL_READ
    out = subprocess.run([*prefix, sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.stdout.strip() == "0"  # the new keyring holds no key


def test_bwrap_command_passes_the_filter_and_joins_a_fresh_keyring(tmp_path):
    from sandbox import Limits, RunSpec
    from sandbox._runtime import python_runtime
    from sandbox._workspace import Workspace
    from sandbox.backends.bwrap import command

    for d in ("code", "data", "out"):
        (tmp_path / d).mkdir()
    spec = RunSpec(tmp_path / "code", "main.py", tmp_path / "data", tmp_path / "out",
                   limits=Limits(tmp_mb=32))
    ws = Workspace(tmp_path / "ws", tmp_path / "ws/code", tmp_path / "ws/out",
                   tmp_path / "ws/etc", False, 65534)
    argv = command(spec, ws, python_runtime(spec.python), seccomp_fd=9)
    prefix = fresh_session_prefix()
    assert argv[:len(prefix)] == prefix and argv[len(prefix)] == "bwrap"
    i = argv.index("--seccomp")
    assert argv[i + 1] == "9" and i < argv.index("--")
