"""One scheduler per state file: the hold a process keeps while it may write and schedule.

Two holds, both taken without waiting, both released by the kernel when the holder dies
(so nothing is ever stale and a standby can simply try again):

- an abstract-namespace Unix socket, bound and listening, named after the state file's
  resolved path. No file deletion can take it away, and a process refused can connect to
  it and ask the kernel for the holder's pid (``SO_PEERCRED``).
- an ``flock`` on the lock file beside the state file, holding the holder's pid. It still
  guards where the socket cannot see: the socket namespace belongs to a network namespace
  (two containers sharing the folder see different ones), and a folder reached by two
  paths (a bind mount) gives two names but one lock file. Neither hold sees a state file
  hard-linked into another folder. On a system without abstract sockets (not Linux) the
  lock file is the only hold.

A forked child does not inherit the hold: ``flock`` belongs to the open file description,
which a fork shares, so a child that kept it would hold the file after its parent died,
and the parent's ``LOCK_UN`` would free it while the child still ran. Right after a fork
the child closes its copies of both descriptors (``os.register_at_fork``), which leaves
the parent's hold untouched. A fork made outside Python (in C, without exec) escapes that
hook; both descriptors are close-on-exec for what execs.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import struct
import sys
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import socket


class StateError(Exception):
    """The state file cannot be used; the message names it and says what to do."""


class StateLockedError(StateError):
    """Another live process holds the state file."""


_SOCKET_PREFIX = b"\0jobconsole/state/"
_ABSTRACT = sys.platform.startswith("linux")
_CRED = struct.Struct("3i")  # struct ucred: pid, uid, gid
_held: weakref.WeakSet[StateLock] = weakref.WeakSet()


def socket_name(state: Path) -> bytes:
    """The abstract socket name for ``state``: one per resolved path, short enough for
    ``sun_path`` however long the path."""
    import hashlib  # here: `history` and `list` neither hold nor probe a state file

    digest = hashlib.sha256(os.fsencode(Path(state).resolve())).hexdigest()[:40]
    return _SOCKET_PREFIX + digest.encode()


def holder(state: Path) -> tuple[int, int] | None:
    """(pid, uid) of the process holding ``state``'s socket, or None if none does."""
    if not _ABSTRACT:
        return None
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(socket_name(state))
            pid, uid, _ = _CRED.unpack(
                probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size)
            )
        except OSError:
            return None
    return pid, uid


def holder_info(state: Path) -> tuple[int | None, str | None]:
    """(pid, role) of whoever holds ``state``, each None when it cannot be told: the pid
    from the socket (else the lock file), the role (``"console"``, ``"run --headless"``,
    ``"library"``) from the lock file's second line when that file is the holder's."""
    found = holder(state)
    pid = found[0] if found else None
    try:
        fd = os.open(
            Path(state).with_name(Path(state).name + ".lock"),
            os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
        )
    except OSError:
        return pid, None
    try:
        lines = os.pread(fd, 200, 0).decode(errors="replace").splitlines()
    except OSError:
        lines = []
    finally:
        os.close(fd)
    written = lines[0].removeprefix("pid ") if lines else ""
    if pid is None and written.isdigit():
        pid = int(written)
    role = lines[1].strip() if len(lines) > 1 and written == str(pid) else None
    return pid, role or None


def _in_use(state: Path, who: str) -> StateLockedError:
    return StateLockedError(
        f"state file {state} is in use by another jobconsole ({who}); only one console or "
        "'run --headless' may schedule from one state file, so jobs never fire twice. "
        "Close the other one, or set JOBCONSOLE_STATE to another path. "
        "'jobconsole history' and 'list' work alongside it."
    )


def _unwritable(state: Path, lock: Path, why: str) -> StateError:
    return StateError(
        f"state file {state}: its lock file {lock} {why}; expected a regular file (or none) "
        "in a folder this user can write to. Remove it or fix the permissions, or set "
        "JOBCONSOLE_STATE to another path"
    )


class StateLock:
    """The hold on one state file; ``StateLock(state)`` takes it or raises.

    Raises ``StateLockedError`` (naming the holder's pid) while another process holds it,
    and ``StateError`` when the lock file cannot be used. ``release()`` gives it back.
    ``role`` (what this process is) goes in the lock file after the pid, for
    ``holder_info``.
    """

    def __init__(self, state: Path, role: str | None = None) -> None:
        self.state = Path(state)
        self.role = role
        self.path = self.state.with_name(self.state.name + ".lock")
        self._socket: socket.socket | None = None
        self._fd: int | None = None
        self._answering: threading.Thread | None = None
        self._bind()  # first: a refusal here touches no file
        try:
            self._lock_file()
        except BaseException:
            self._close_socket()
            raise
        _held.add(self)

    def _bind(self) -> None:
        if not _ABSTRACT:
            return
        import socket

        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(socket_name(self.state))
            sock.listen(16)
        except OSError as exc:
            sock.close()
            if exc.errno != errno.EADDRINUSE:
                return  # no socket hold here (e.g. a sandbox without them): the file guards
            found = holder(self.state)
            if found is None:
                who = "pid unknown"
            elif found[1] != os.getuid():
                who = f"pid {found[0]}, user id {found[1]}"
            else:
                who = f"pid {found[0]}"
            raise _in_use(self.state, who) from None
        self._socket = sock
        # Answer each probe at once, so refused processes never fill the backlog.
        self._answering = threading.Thread(
            target=_answer, args=(sock,), name="jobconsole-lock", daemon=True
        )
        self._answering.start()

    def _lock_file(self) -> None:
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _unwritable(self.state, self.path, "is a symbolic link") from None
            why = f"cannot be created ({exc.strerror or exc})"
            raise _unwritable(self.state, self.path, why) from exc
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise _unwritable(self.state, self.path, "is not a regular file")
            if info.st_nlink > 1:  # writing our pid would overwrite another name's content
                raise _unwritable(self.state, self.path, "has other names (hard links)")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                written = os.pread(fd, 200, 0).decode(errors="replace").strip()
                pid = written.splitlines()[0] if written else "pid unknown"
                raise _in_use(self.state, pid) from None
            except OSError as exc:
                why = f"cannot be locked ({exc.strerror or exc})"
                raise _unwritable(self.state, self.path, why) from exc
            os.ftruncate(fd, 0)
            text = f"pid {os.getpid()}"
            role = "".join(ch for ch in self.role or "" if ch.isprintable())
            if role:
                text += f"\n{role}"
            os.pwrite(fd, text.encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        _held.discard(self)
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
            self._fd = None
        self._close_socket()

    def _close_socket(self) -> None:
        sock, self._socket = self._socket, None
        if sock is None:
            return
        import socket  # imported already: the socket was made with it

        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        if self._answering is not None:
            self._answering.join(timeout=1.0)
            self._answering = None
        sock.close()

    def _forget(self) -> None:
        """In a forked child: close the copies, never unlock, so the parent keeps its hold."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        if self._socket is not None:
            self._socket.close()  # no shutdown(): that would act on the parent's socket too
            self._socket = None
        self._answering = None


def _answer(sock: socket.socket) -> None:
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        conn.close()


def _after_fork_in_child() -> None:
    for lock in list(_held):
        lock._forget()
    _held.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)
