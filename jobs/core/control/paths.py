"""Where the host of a state file serves its control API: one Unix socket per state file.

The socket lives in a directory only its owner can enter: ``$XDG_RUNTIME_DIR/jobconsole/``
(a per-user directory the login session made, 0700) when there is one, else
``/tmp/jobconsole-UID/``. Whoever can enter the directory could steer the scheduler, so a
directory owned by someone else or open to group or others is refused, never repaired:
in ``/tmp`` another user may have made it first, on purpose.

The name is a hash of the state file's resolved path, so every process that opens the same
file (the host, a console that attaches, ``jobconsole status``) finds the same socket
without asking anyone, and a long path still fits ``sun_path`` (108 bytes on Linux).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import stat
import time
from pathlib import Path

#: ``sun_path`` holds 108 bytes on Linux, the terminating NUL included.
SUN_PATH_MAX = 107


class ControlPathError(Exception):
    """The control socket's directory cannot be used; the message says why and what to do."""


def socket_dir() -> Path:
    """The owner-only directory of this user's control sockets, made (0700) if missing."""
    uid = os.getuid()
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    base = Path(runtime) / "jobconsole" if runtime and os.path.isabs(runtime) else None
    # A runtime dir that is missing (a su session) or too long for a socket name: /tmp.
    if base is None or not base.parent.is_dir() or len(os.fsencode(base)) > SUN_PATH_MAX - 50:
        base = Path(f"/tmp/jobconsole-{uid}")
    _ensure_private(base, uid)
    return base


def socket_path(state_path: Path) -> Path:
    """The control socket of the scheduler that holds ``state_path``."""
    digest = hashlib.sha256(os.fsencode(Path(state_path).resolve())).hexdigest()[:24]
    return socket_dir() / f"{digest}.sock"


def sweep_stale(directory: Path, *, keep: Path, older_than: float = 60.0) -> list[Path]:
    """Remove the sockets of hosts that were killed, so the directory does not fill up.

    A socket nobody listens on refuses a connection. One younger than ``older_than``
    seconds is left alone: its host may have bound it and not yet begun to listen.
    """
    removed: list[Path] = []
    cutoff = time.time() - older_than
    for path in directory.glob("*.sock"):
        if path == keep:
            continue
        try:
            info = os.lstat(path)
            if not stat.S_ISSOCK(info.st_mode) or info.st_mtime > cutoff:
                continue
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.settimeout(0.5)
                probe.connect(os.fspath(path))
        except ConnectionRefusedError:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
                removed.append(path)
        except OSError:
            continue  # alive, busy, or gone in between: not ours to judge
    return removed


def _ensure_private(path: Path, uid: int) -> None:
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ControlPathError(
            f"control socket directory {path} cannot be created ({exc.strerror or exc}); "
            "set XDG_RUNTIME_DIR to a directory of your own"
        ) from exc
    try:
        info = os.lstat(path)
    except OSError as exc:  # removed in between: rare enough to report, not retry
        raise ControlPathError(
            f"control socket directory {path} cannot be examined ({exc.strerror or exc})"
        ) from exc
    if not stat.S_ISDIR(info.st_mode):
        what = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a directory"
        raise ControlPathError(
            f"control socket directory {path} is {what}; expected a directory of your own "
            f"(mode 0700). Remove it, or set XDG_RUNTIME_DIR to a directory of your own"
        )
    if info.st_uid != uid:
        raise ControlPathError(
            f"control socket directory {path} belongs to user id {info.st_uid}, not to you "
            f"({uid}): anyone who owns it could steer your scheduler, so it is not used. "
            "Remove it, or set XDG_RUNTIME_DIR to a directory of your own"
        )
    if info.st_mode & 0o077:
        raise ControlPathError(
            f"control socket directory {path} is open to other users (mode "
            f"{stat.S_IMODE(info.st_mode):04o}); expected 0700. Run 'chmod 700 {path}', "
            "or set XDG_RUNTIME_DIR to a directory of your own"
        )
