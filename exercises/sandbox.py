"""The sandbox a student's kernel runs in (``grading/kernel.py``): a memory limit, a marker
in the environment, no capabilities, and, where the Linux kernel offers Landlock, writes only
inside the submission's own folder, reads only of the Python installation and the library, and
no signals to processes outside the sandbox.

Run as ``python exercises/sandbox.py SPEC_JSON -- CMD ...``: applies the limits to itself, then
``exec``s CMD (the Jupyter kernel), which keeps them, as do all processes it starts. Standard
library only, so that it starts fast.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys

# Landlock (Linux >= 5.13): syscalls and access rights of <linux/landlock.h>, x86_64 and arm64
# share these numbers.
_CREATE, _ADD_RULE, _RESTRICT = 444, 445, 446
_FS_READ = 1 | 4 | 8                      # EXECUTE, READ_FILE, READ_DIR
_FS_ALL_V1 = (1 << 13) - 1                # every right of ABI 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1, 2
_NET_BIND, _NET_CONNECT = 1, 2


def landlock_abi() -> int:
    """The Landlock ABI version of the running kernel, 0 where there is none."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        v = libc.syscall(_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except (OSError, AttributeError):
        return 0
    return max(int(v), 0)


def _landlock(read_roots, write_roots) -> int:
    abi = landlock_abi()
    if abi < 1:
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    fs = _FS_ALL_V1
    if abi >= 2:
        fs |= 1 << 13                      # REFER
    if abi >= 3:
        fs |= 1 << 14                      # TRUNCATE
    if abi >= 5:
        fs |= 1 << 15                      # IOCTL_DEV
    fields = [fs]
    if abi >= 4:
        fields.append(_NET_BIND | _NET_CONNECT)   # no TCP at all (the kernel talks over IPC)
    if abi >= 6:
        fields.append(_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL)
    attr = (ctypes.c_uint64 * len(fields))(*fields)
    fd = libc.syscall(_CREATE, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)),
                      ctypes.c_uint32(0))
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    def allow(path, rights):
        try:
            pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return
        try:
            if not os.path.isdir(path):
                rights &= 1 | 2 | 4 | (1 << 14) | (1 << 15)   # the rights a file can carry
            rule = PathBeneath(rights & fs, pfd)
            if libc.syscall(_ADD_RULE, fd, 1, ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
        finally:
            os.close(pfd)

    for p in read_roots:
        allow(p, _FS_READ)
    for p in write_roots:
        allow(p, fs)
    if libc.prctl(38, 1, 0, 0, 0) != 0:    # PR_SET_NO_NEW_PRIVS
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.syscall(_RESTRICT, fd, ctypes.c_uint32(0)) != 0:
        raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    os.close(fd)
    return abi


def _drop_capabilities() -> None:
    """As root: drop every capability (bounding set and effective/permitted/inheritable), so that
    the kernel is an ordinary process even though its user id is 0."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in range(64):
        libc.prctl(24, cap, 0, 0, 0)       # PR_CAPBSET_DROP; fails harmlessly past the last cap
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)           # _LINUX_CAPABILITY_VERSION_3
    data = (ctypes.c_uint32 * 6)()
    capset = {"x86_64": 126, "aarch64": 91}.get(os.uname().machine)
    if capset is not None:
        libc.syscall(capset, ctypes.byref(header), ctypes.byref(data))


def apply(spec: dict) -> dict:
    """Apply the limits of ``spec`` to this process; returns what was applied."""
    applied = {}
    try:
        os.setsid()
    except OSError:
        pass                               # already a session leader
    mem = int(spec.get("memory_bytes") or 0)
    if mem > 0:
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        applied["memory_bytes"] = mem
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # No file (the log it shares with the grader included) may grow past 1 GB.
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024 ** 3, 1024 ** 3))
    abi = 0
    if spec.get("landlock", True):
        abi = _landlock(spec.get("read_roots", []), spec.get("write_roots", []))
    applied["landlock_abi"] = abi
    if os.geteuid() == 0:
        _drop_capabilities()
        applied["capabilities"] = "dropped"
    return applied


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print(__doc__)
        sys.exit(2)
    apply(json.loads(sys.argv[1]))
    os.execvp(sys.argv[3], sys.argv[3:])
