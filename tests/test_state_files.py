"""Files are what they claim (issue 11, item 8).

A symbolic link at the state or lock path is never followed to overwrite another file;
``--reset-state`` moves aside only a jobconsole state file, or a file that starts as an
SQLite database but cannot be read, never whatever file a bad ``.env`` names; an empty
file taken over as a new state file becomes owner-only. Each through ``Store`` and
through the real ``jobconsole`` command.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from jobs.core.store import StateError, Store, reset_state
from tests.test_store import subprocess_env

REPO = Path(__file__).resolve().parents[1]
JOBCONSOLE = Path(sys.executable).with_name("jobconsole")
BASHRC = b"# ~/.bashrc\nexport PATH=$HOME/bin:$PATH\nalias ll='ls -l'\n"
SQLITE_HEADER = b"SQLite format 3\x00"


def jobconsole(
    tmp_path: Path, state: Path, *args: str, registry: bool = True
) -> subprocess.CompletedProcess[str]:
    """The real command on ``state``. Without ``registry``, JOBCONSOLE_REGISTRY names a
    module that does not exist: the console stops there, after ``--reset-state`` did its
    part, with no terminal needed."""
    module = f"files_registry_{uuid.uuid4().hex[:8]}"
    if registry:
        (tmp_path / f"{module}.py").write_text(
            "def tick():\n    pass\n\n"
            'REGISTERED_JOBS = [{"job_id": "tick", "func": tick, "cron_expression": "0 0 1 1 *"}]\n'
        )
    env = subprocess_env(
        JOBCONSOLE_STATE=str(state),
        JOBCONSOLE_REGISTRY=module,
        PYTHONPATH=f"{tmp_path}{os.pathsep}{REPO}",
    )
    return subprocess.run(
        [str(JOBCONSOLE), *args],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )


def listing(folder: Path) -> dict[str, bytes | None]:
    """Every name in ``folder`` with its content (None for what is not a regular file)."""
    return {
        p.name: p.read_bytes() if p.is_file() and not p.is_symlink() else None
        for p in folder.iterdir()
    }


# ------------------------------------------------------------------ symbolic links


def test_a_lock_file_that_is_a_symlink_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "bashrc"
    victim.write_bytes(BASHRC)
    path = tmp_path / "state.sqlite3"
    lock = tmp_path / "state.sqlite3.lock"
    lock.symlink_to(victim)
    with pytest.raises(StateError) as info:
        Store.open_path(path)
    message = str(info.value)
    assert f"lock file {lock} is a symbolic link" in message, message
    assert "expected a regular file" in message
    assert victim.read_bytes() == BASHRC

    result = jobconsole(tmp_path, path, "run", "--headless")
    assert result.returncode == 2, result
    assert f"lock file {lock} is a symbolic link" in result.stderr
    assert "Traceback" not in result.stderr
    assert victim.read_bytes() == BASHRC
    assert lock.is_symlink()


def empty_file(folder: Path) -> Path:
    target = folder / "hushlogin"
    target.write_bytes(b"")
    return target


def state_file(folder: Path) -> Path:
    target = folder / "real.sqlite3"
    Store.open_path(target).close()
    return target


def nowhere(folder: Path) -> Path:
    return folder / "unmounted" / "state.sqlite3"


@pytest.mark.parametrize("make_target", [empty_file, state_file, nowhere])
def test_a_state_path_that_is_a_symlink_is_refused_by_name(
    tmp_path: Path, make_target: Callable[[Path], Path]
) -> None:
    target = make_target(tmp_path)
    before = target.read_bytes() if target.exists() else None
    path = tmp_path / "state.sqlite3"
    path.symlink_to(target)
    for read_only in (False, True):
        with pytest.raises(StateError) as info:
            Store.open_path(path, read_only=read_only)
        message = str(info.value)
        assert f"state file {path} is a symbolic link" in message, message
        assert "expected a regular file" in message and "JOBCONSOLE_STATE" in message
    for args in (("run", "--headless"), ("list",), ("history",)):
        result = jobconsole(tmp_path, path, *args)
        assert result.returncode == 2, (args, result)
        assert f"state file {path} is a symbolic link" in result.stderr
    assert (target.read_bytes() if target.exists() else None) == before
    assert path.is_symlink()
    assert not (tmp_path / "state.sqlite3.lock").exists()


# ------------------------------------------------------------- an empty file taken over


def test_an_existing_empty_file_becomes_an_owner_only_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"")
    path.chmod(0o644)
    store = Store.open_path(path)
    try:
        store.set_meta("probe", "1")
        store.flush()
        for name in ("state.sqlite3", "state.sqlite3-wal", "state.sqlite3-shm"):
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    finally:
        store.close()

    other = tmp_path / "cli" / "state.sqlite3"
    other.parent.mkdir()
    other.write_bytes(b"")
    other.chmod(0o664)
    # `run --headless` takes it over; SIGTERM ends it once it runs.
    proc = subprocess.Popen(
        [str(JOBCONSOLE), "run", "--headless"],
        cwd=tmp_path,
        env=subprocess_env(
            JOBCONSOLE_STATE=str(other),
            JOBCONSOLE_REGISTRY="jobs.registry",
            PYTHONPATH=str(REPO),
            BACKGROUND_JOBS_ENABLED="false",
        ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert "scheduling is off" in proc.stdout.readline()
        assert stat.S_IMODE(other.stat().st_mode) == 0o600
    finally:
        proc.terminate()
        proc.communicate(timeout=15)


# ------------------------------------------------------------------- --reset-state


def text_file(folder: Path) -> Path:
    path = folder / ".bashrc"
    path.write_bytes(BASHRC)
    return path


def another_apps_database(folder: Path) -> Path:
    path = folder / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers (name) VALUES ('Ada')")
    conn.close()
    return path


def a_folder(folder: Path) -> Path:
    path = folder / "state.sqlite3"
    path.mkdir()
    (path / "keep.txt").write_text("mine")
    return path


def a_fifo(folder: Path) -> Path:
    path = folder / "state.sqlite3"
    os.mkfifo(path)
    return path


def a_symlink(folder: Path) -> Path:
    (folder / "real.sqlite3").write_bytes(SQLITE_HEADER + os.urandom(200))
    path = folder / "state.sqlite3"
    path.symlink_to(folder / "real.sqlite3")
    return path


@pytest.mark.parametrize(
    ("make_path", "says"),
    [
        (text_file, "is not an SQLite database"),
        (another_apps_database, "is an SQLite database, but not a jobconsole state file"),
        (a_folder, "is a directory"),
        (a_fifo, "is not a regular file"),
        (a_symlink, "is a symbolic link"),
    ],
    ids=lambda v: v.__name__ if callable(v) else "",
)
def test_reset_state_refuses_what_is_not_a_state_file_and_changes_nothing(
    tmp_path: Path, make_path: Callable[[Path], Path], says: str
) -> None:
    folder = tmp_path / "home"
    folder.mkdir()
    path = make_path(folder)
    before = listing(folder)
    with pytest.raises(StateError) as info:
        reset_state(path)
    message = str(info.value)
    assert f"{path} {says}" in message, message
    assert "nothing was moved" in message
    assert listing(folder) == before

    result = jobconsole(tmp_path, path, "--reset-state", registry=False)
    assert result.returncode == 2, result
    assert "JOBCONSOLE_REGISTRY" not in result.stderr, "it went on past the reset"
    assert f"{path} {says}" in result.stderr
    assert "Traceback" not in result.stderr
    assert listing(folder) == before


def test_opening_a_file_that_is_not_sqlite_does_not_advise_a_reset_that_would_refuse(
    tmp_path: Path,
) -> None:
    path = text_file(tmp_path)
    with pytest.raises(StateError) as info:
        Store.open_path(path)
    message = str(info.value)
    assert f"state file {path} is not an SQLite database" in message, message
    assert "--reset-state" not in message
    assert "JOBCONSOLE_STATE" in message
    assert path.read_bytes() == BASHRC


def newer_state_file(folder: Path) -> Path:
    path = folder / "state.sqlite3"
    Store.open_path(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    return path


def corrupt_sqlite_file(folder: Path) -> Path:
    path = folder / "state.sqlite3"
    path.write_bytes(SQLITE_HEADER + b"\xff" * 84 + os.urandom(4000))
    return path


def truncated_state_file(folder: Path) -> Path:
    path = folder / "state.sqlite3"
    store = Store.open_path(path)
    store.set_meta("probe", "x" * 20000)
    store.flush()
    store.close()
    path.write_bytes(path.read_bytes()[:6000])
    return path


@pytest.mark.parametrize("make_path", [newer_state_file, corrupt_sqlite_file, truncated_state_file])
def test_reset_state_moves_a_state_file_or_an_unreadable_sqlite_file_aside(
    tmp_path: Path, make_path: Callable[[Path], Path]
) -> None:
    path = make_path(tmp_path)
    content = path.read_bytes()
    target = reset_state(path)
    assert target is not None and target.read_bytes() == content
    assert not path.exists()

    folder = tmp_path / "cli"
    folder.mkdir()
    again = make_path(folder)
    content = again.read_bytes()
    result = jobconsole(tmp_path, again, "--reset-state", registry=False)
    moved = [
        p
        for p in folder.iterdir()
        if p.name.startswith("state.sqlite3.broken-") and not p.name.endswith(("-wal", "-shm"))
    ]
    assert len(moved) == 1, (result, list(folder.iterdir()))
    assert moved[0].read_bytes() == content
    assert f"moved {again} aside to {moved[0]}" in result.stderr
