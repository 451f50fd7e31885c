"""Durable state in one SQLite file: jobs changed at run time, pauses, and every execution.

Writes go through one writer thread that commits in small groups, so a burst of a
thousand executions costs a handful of fsyncs and the event loop never waits on disk.
Each execution is written when it starts and again when it ends, so after a crash the
next start finds it still "running" and records it as interrupted.

One process at a time may write: ``Store.open`` takes the state file's hold
(``jobs/core/lock.py``) and a second writer is refused with a message naming the holder. Readers
(``jobconsole history``, ``list``) open the file read-only and need no lock (WAL mode). A
forked child's copy of a writer never writes: the file belongs to the process that opened it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import re
import sqlite3
import stat
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

from jobs.core import job_options
from jobs.core.lock import StateError, StateLock
from jobs.core.lock import StateLockedError as StateLockedError  # where callers import it from
from jobs.core.records import (
    COUNTED,
    FAILURES,
    Execution,
    ExecutionStatus,
    JobSource,
    LastRun,
    Trigger,
)
from jobs.core.settings import Settings
from jobs.core.state_store import JobStats, Reporter, StateStore, StoredJob, WriteReport

__all__ = ["JobStats", "StateError", "StateLockedError", "Store", "StoredJob", "WriteReport"]

log = logging.getLogger("jobconsole.store")

SCHEMA_VERSION = 2
#: The oldest schema a reader reads as it is (a writer upgrades it first).
OLDEST_READABLE = 1
_FAILED = tuple(sorted(s.value for s in FAILURES))

# Each entry migrates from version N (its index) to N + 1.
_MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE jobs (
        job_id TEXT PRIMARY KEY,
        func_ref TEXT NOT NULL,
        cron_expression TEXT NOT NULL,
        code_cron_expression TEXT,
        timezone TEXT NOT NULL,
        source TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        paused INTEGER NOT NULL DEFAULT 0,
        removed INTEGER NOT NULL DEFAULT 0,
        timeout_seconds REAL,
        code_timeout_seconds REAL,
        isolation TEXT,
        description TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE executions (
        id INTEGER PRIMARY KEY,
        job_id TEXT NOT NULL,
        status TEXT NOT NULL,
        trigger TEXT NOT NULL,
        scheduled_time TEXT,
        started_at TEXT,
        ended_at TEXT,
        error TEXT,
        traceback TEXT,
        output TEXT NOT NULL DEFAULT '',
        output_truncated INTEGER NOT NULL DEFAULT 0,
        warnings TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX executions_by_job ON executions (job_id, id);
    CREATE INDEX executions_failed ON executions (id)
        WHERE status IN ('failed', 'timed out', 'interrupted');
    CREATE INDEX executions_failed_by_job ON executions (job_id, id)
        WHERE status IN ('failed', 'timed out', 'interrupted');
    CREATE INDEX executions_running ON executions (id) WHERE status = 'running';
    CREATE TABLE job_stats (
        job_id TEXT PRIMARY KEY,
        run_count INTEGER NOT NULL DEFAULT 0,
        failure_count INTEGER NOT NULL DEFAULT 0,
        last_execution_id INTEGER
    );
    """,
    # The options that have no column of their own, as one JSON object (see _job_params).
    """
    ALTER TABLE jobs ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
    """,
]

_COUNTED = frozenset(s.value for s in COUNTED)

#: The meta key holding the next execution id, so that an id is never given twice, even
#: after pruning has emptied the executions table. Absent from older files: then the
#: next id follows MAX(id), as it always did.
_NEXT_ID_KEY = "next_execution_id"

# What prune never deletes: running executions, each stored job's newest execution (the
# first line of its detail view) and its latest counted one (the "last run" column,
# through job_stats). An index serves each part, one seek per job; jobs no longer stored
# keep nothing, so history stays bounded however many ad hoc jobs came and went. No NULL
# in it: "id NOT IN (..., NULL)" would keep every row.
_PRUNE_KEPT = (
    "SELECT id FROM executions WHERE status = 'running' "
    "UNION ALL SELECT COALESCE((SELECT MAX(e.id) FROM executions e WHERE e.job_id = j.job_id), 0)"
    " FROM jobs j "
    "UNION ALL SELECT s.last_execution_id FROM job_stats s JOIN jobs j ON j.job_id = s.job_id"
    " WHERE s.last_execution_id IS NOT NULL"
)

# The scheduled time of each given job's newest execution (by id, any status): one seek
# in executions_by_job per job, however long the history (see latest_scheduled_times).
_LATEST_SCHEDULED = (
    "SELECT j.value, (SELECT e.scheduled_time FROM executions e "
    "WHERE e.job_id = j.value AND e.scheduled_time IS NOT NULL ORDER BY e.id DESC LIMIT 1) "
    "FROM json_each(?) AS j"
)


class _Call(NamedTuple):
    """A write that is code rather than one statement; ``action`` names it in a report."""

    action: str
    run: Callable[[sqlite3.Connection], None]


class _Chore(NamedTuple):
    """Upkeep the writer does outside any transaction, after the batch it came with is
    committed; its failure loses nothing, so it is logged rather than reported."""

    action: str
    run: Callable[[sqlite3.Connection], None]


def _give_space_back(conn: sqlite3.Connection) -> None:
    """Return the pages pruning freed to the file system.

    A file made before jobconsole vacuumed (``auto_vacuum`` off) is rewritten once by
    VACUUM, which switches it to incremental vacuum; VACUUM is one transaction: if it
    fails (it needs room for a copy), the file is as it was. After that each prune
    truncates the file by what it freed.
    """
    mode = conn.execute("PRAGMA auto_vacuum").fetchone()[0]
    if mode == _AUTO_VACUUM_NONE:
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        conn.execute("VACUUM")
    elif mode == _AUTO_VACUUM_INCREMENTAL and conn.execute("PRAGMA freelist_count").fetchone()[0]:
        # executescript steps it to the end; execute() would free a single page.
        conn.executescript("PRAGMA incremental_vacuum;")
    else:
        return
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the log held the pages moved


_AUTO_VACUUM_NONE, _AUTO_VACUUM_INCREMENTAL = 0, 2


class _Statement(NamedTuple):
    """A statement the writer runs, queued with its parameters; ``action`` names it in a
    report when it fails, formatted with them (ids only, never user text)."""

    sql: str
    action: str


def _iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    if when.tzinfo is not UTC:  # the clock's times are UTC already: no conversion
        when = when.astimezone(UTC)
    return when.isoformat()


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# A job's row. The options of the first schema have a column each (and the registry's own
# timeout one too); every other option, and the registry's own value of an editable one
# without a code column (as "code_NAME", only where it differs from the row's own), is in
# the ``options`` column as a JSON object. An option added to ``JobOptions`` needs no
# change here and no migration.
_OPTION_COLUMNS = ("timezone", "enabled", "timeout_seconds", "isolation", "description")
_CODE_COLUMNS = {"timeout_seconds": "code_timeout_seconds"}
_IN_JSON = tuple(name for name in job_options.NAMES if name not in _OPTION_COLUMNS)
_CODE_IN_JSON = tuple(o.name for o in job_options.EDITABLE if o.name not in _CODE_COLUMNS)
_EDITABLE = job_options.EDITABLE_NAMES


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The values of ``names`` of an object, as a tuple (an ``attrgetter``, as fast as
    hand-written attribute lists, but one name or none give a tuple too)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        return lambda obj: (getattr(obj, names[0]),)
    return lambda obj: ()


_own_columns = _getter(_OPTION_COLUMNS)
_code_columns = _getter(tuple(_CODE_COLUMNS))
_in_json = _getter(_IN_JSON)
_code_in_json = _getter(_CODE_IN_JSON)
_NO_CODE = (None,) * len(_CODE_COLUMNS)
_JOB_COLUMNS = (
    "job_id, func_ref, cron_expression, source, paused, removed, code_cron_expression, "
    f"{', '.join(_CODE_COLUMNS.values())}, {', '.join(_OPTION_COLUMNS)}"
)
#: ``_JOB_COLUMNS`` as ``load_jobs`` reads them: the columns that hold options (the
#: source first, as ``_stored_options`` takes them) last, one slice of each row.
_LOAD_COLUMNS = (
    "job_id, func_ref, cron_expression, paused, removed, code_cron_expression, source, "
    f"{', '.join(_CODE_COLUMNS.values())}, {', '.join(_OPTION_COLUMNS)}"
)
_SAVE_JOB = _Statement(
    f"INSERT OR REPLACE INTO jobs ({_JOB_COLUMNS}, options, updated_at) "
    f"VALUES ({', '.join('?' * (len(_JOB_COLUMNS.split(',')) + 2))})",
    "writing a job's settings",
)
#: ``StateStore.listing_rows``: ``unedited`` as SQL, the registry's own value of each
#: editable option the row's own (its code column, none in the JSON); False unless every
#: editable option has a column.
_OWN_EDITABLE = [name for name in _EDITABLE if name in _OPTION_COLUMNS]
_UNEDITED = (
    " AND ".join(
        [
            f"source = '{JobSource.REGISTRY.value}' AND removed = 0 AND paused = 0",
            "cron_expression = code_cron_expression",
            *(f"{code} IS {own}" for own, code in _CODE_COLUMNS.items()),
            "{options} = '{{}}'",
        ]
    )
    if len(_OWN_EDITABLE) == len(_EDITABLE)
    else "0"
)
_LISTING_ROWS = (
    f"SELECT job_id, {_UNEDITED}, cron_expression, "
    f"{', '.join(name if name in _OPTION_COLUMNS else 'NULL' for name in _EDITABLE)} "
    "FROM jobs ORDER BY rowid"
)
_DELETE_JOB = _Statement("DELETE FROM jobs WHERE job_id = ?", "removing a job")
#: Where a stored source reads as something else (a file edited by hand): not the console's.
_SOURCES = {source.value: source for source in JobSource}


def _job_params(job: StoredJob, when: str | None) -> tuple[Any, ...]:
    options, code = job.options, job.code_options
    extra = dict(zip(_IN_JSON, _in_json(options), strict=True))
    if code is not None:
        own = _code_in_json(options)
        extra.update(
            (f"code_{name}", value)
            for name, value, mine in zip(_CODE_IN_JSON, _code_in_json(code), own, strict=True)
            if value != mine
        )
    return (
        job.job_id,
        job.func_ref,
        job.cron_expression,
        job.source,
        job.paused,
        job.removed,
        job.code_cron_expression,
        *(_code_columns(code) if code is not None else _NO_CODE),
        *_own_columns(options),
        json.dumps(extra) if extra else "{}",
        when,
    )


_Options = tuple[JobSource, job_options.JobOptions, job_options.JobOptions | None]


def _stored_options(key: tuple[Any, ...]) -> _Options:
    """A row's source, options and the registry's own options, from its source and the
    columns that hold options (``key``: source, code columns, own columns, the JSON)."""
    source_text, *columns, extra = key
    code_own = columns[: len(_CODE_COLUMNS)]
    values = dict(zip(_OPTION_COLUMNS, columns[len(_CODE_COLUMNS) :], strict=True))
    values["enabled"] = bool(values["enabled"])
    code_values = dict(zip(_CODE_COLUMNS, code_own, strict=True))
    if extra and extra != "{}":
        for name, value in json.loads(extra).items():
            if name.startswith("code_"):
                code_values[name[5:]] = value
            else:
                values[name] = value
    options = job_options.options_of(values)
    source = _SOURCES.get(source_text, JobSource.REGISTRY)
    code = None
    if source is JobSource.REGISTRY:
        # The row's own options but for the registry's values of the editable ones.
        edited = {
            name: code_values[name]
            for name in _EDITABLE
            if name in code_values and code_values[name] != getattr(options, name)
        }
        code = replace(options, **edited) if edited else options
    return source, options, code


def _stored_jobs(rows: list[tuple[Any, ...]]) -> list[StoredJob]:
    """The rows as read (``_LOAD_COLUMNS``, then the JSON). Rows with the same options
    share their values: 10,000 registry jobs have a handful of different ones."""
    made: dict[tuple[Any, ...], _Options] = {}
    jobs = []
    new, (job_id, func_ref, cron, source_of, options_of, paused, removed, code_cron, code_of) = (
        _STORED_JOB
    )
    for row in rows:
        key = row[6:]
        found = made.get(key)
        if found is None:
            found = made[key] = _stored_options(key)
        job = new(StoredJob)
        job_id(job, row[0])
        func_ref(job, row[1])
        cron(job, row[2])
        source_of(job, found[0])
        options_of(job, found[1])
        paused(job, bool(row[3]))
        removed(job, bool(row[4]))
        code_cron(job, row[5])
        code_of(job, found[2])
        jobs.append(job)
    return jobs


#: ``StoredJob``'s fields set without its ``__init__``: a frozen dataclass's sets each
#: field through ``object.__setattr__``, half the time of reading 100,000 rows. A test
#: holds these to what ``StoredJob(...)`` makes.
_STORED_JOB = (
    object.__new__,
    tuple(getattr(StoredJob, f.name).__set__ for f in fields(StoredJob)),
)


_EXECUTION_COLUMNS = (
    "id, job_id, status, trigger, scheduled_time, started_at, ended_at, error, traceback, "
    "output, output_truncated, warnings"
)


def _run_fields(row: tuple[Any, ...]) -> dict[str, Any]:
    """An execution's fields from its first seven columns (``_EXECUTION_COLUMNS``' order),
    which are also all a run's summary reads (``_RECENT_RUNS``)."""
    return {
        "id": row[0],
        "job_id": row[1],
        "status": ExecutionStatus(row[2]),
        "trigger": Trigger(row[3]),
        "scheduled_time": _dt(row[4]),
        "started_at": _dt(row[5]),
        "ended_at": _dt(row[6]),
    }


def _execution(row: tuple[Any, ...]) -> Execution:
    return Execution(
        **_run_fields(row),
        error=row[7],
        traceback=row[8],
        output=row[9] or "",
        output_truncated=bool(row[10]),
        warnings=tuple(json.loads(row[11] or "[]")),
    )


#: The columns before the text ones: a row's output is never read for a strip of runs.
_RECENT_RUNS = (
    "WITH wanted(job_id) AS (VALUES {}) "
    "SELECT e.id, e.job_id, e.status, e.trigger, e.scheduled_time, e.started_at, e.ended_at "
    "FROM wanted JOIN executions AS e ON e.id IN (SELECT x.id FROM executions AS x "
    "WHERE x.job_id = wanted.job_id AND x.status != 'running' ORDER BY x.id DESC LIMIT ?) "
    "ORDER BY e.id DESC"
)
_RUNS_CHUNK = 500


def _run_summary(row: tuple[Any, ...]) -> Execution:
    return Execution(**_run_fields(row))


def _last_run(row: tuple[Any, ...]) -> LastRun | None:
    execution_id, status, scheduled, started, ended = row
    if execution_id is None:
        return None
    started_at, ended_at = _dt(started), _dt(ended)
    duration = (ended_at - started_at).total_seconds() if started_at and ended_at else None
    return LastRun(execution_id, ExecutionStatus(status), started_at or _dt(scheduled), duration)


def _execution_params(e: Execution) -> tuple[Any, ...]:
    return (
        e.id,
        e.job_id,
        e.status.value,
        e.trigger.value,
        _iso(e.scheduled_time),
        _iso(e.started_at),
        _iso(e.ended_at),
        e.error,
        e.traceback,
        e.output,
        int(e.output_truncated),
        json.dumps(list(e.warnings)) if e.warnings else "[]",
    )


# The end of a run updates the row its start wrote, in place: a REPLACE would delete it
# and insert it again, through every index twice.
_RECORD_EXECUTION = (
    f"INSERT INTO executions ({_EXECUTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _EXECUTION_COLUMNS.split(", ")[1:])
)
_COUNT_EXECUTIONS = (
    "INSERT INTO job_stats (job_id, run_count, failure_count, last_execution_id) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (job_id) DO UPDATE SET "
    "run_count = run_count + excluded.run_count, "
    "failure_count = failure_count + excluded.failure_count, "
    "last_execution_id = excluded.last_execution_id"
)
_TEXT_FIELDS = ("job_id", "error", "traceback", "output")


def _record_executions(conn: sqlite3.Connection, executions: list[Execution]) -> None:
    """Keep ``executions`` (queued in this order) and count the finished runs among them.

    Only the latest record of each id is written: when a run's start and end are
    committed together, the start's row would be overwritten in the same transaction.
    The counts are added once per job, not once per run.
    """
    latest = {e.id: e for e in executions}
    conn.executemany(_RECORD_EXECUTION, map(_execution_params, latest.values()))
    counts: dict[str, list[int]] = {}
    for e in executions:
        if e.status.value in _COUNTED:
            count = counts.get(e.job_id)
            if count is None:
                count = counts[e.job_id] = [0, 0, 0]
            count[0] += 1
            count[1] += e.status.is_failure
            count[2] = e.id
    if counts:
        conn.executemany(_COUNT_EXECUTIONS, ((job, *c) for job, c in counts.items()))


_SET_META = _Statement(
    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", "writing meta data ({0})"
)


def _connect(path: Path, read_only: bool) -> sqlite3.Connection:
    if read_only:
        uri = f"file:{path.resolve()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    else:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def _as_int(text: str | None) -> int:
    try:
        return int(text) if text is not None else 0
    except ValueError:
        return 0


def _raise_next_id(conn: sqlite3.Connection, value: int) -> None:
    """Store ``value`` as the next execution id unless a higher one is stored already."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (_NEXT_ID_KEY,)).fetchone()
    if row is None or _as_int(row[0]) < value:
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (_NEXT_ID_KEY, str(value))
        )


SQLITE_HEADER = b"SQLite format 3\x00"


def _starts_as_sqlite(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return os.read(fd, len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:  # a folder
        return False
    finally:
        os.close(fd)


def _describe_sqlite_error(path: Path, exc: Exception) -> StateError:
    if not _starts_as_sqlite(path):  # --reset-state would refuse it: it may be anything
        return StateError(
            f"state file {path} is not an SQLite database ({exc}); it was left untouched. "
            "Check that JOBCONSOLE_STATE names the state file, or set it to another path"
        )
    return StateError(
        f"state file {path} cannot be read ({exc}); it was left untouched. "
        "Run 'jobconsole --reset-state' to move it aside and start afresh, "
        "or set JOBCONSOLE_STATE to another path"
    )


_SPECIAL_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


def _refuse_special_file(path: Path) -> None:
    """Refuse a path that is there but is no regular file, before anything is made beside it.

    SQLite reads /dev/null or a /proc file (whose size reads 0) as an empty database and
    would try to create its journal and our lock next to it; a FIFO blocks the first read.
    """
    try:
        info = os.stat(path)
    except OSError:
        return  # not there (or not reachable): opening says so
    if stat.S_ISREG(info.st_mode):
        if info.st_size or not _reads_something(path):
            return
        kind = "a file whose size reads 0 though it has content (as in /proc)"
    else:
        kind = next((name for test, name in _SPECIAL_KINDS if test(info.st_mode)), "special")
    raise StateError(
        f"state file {path} is not a state file: it is {kind}, not a regular file. Set "
        "JOBCONSOLE_STATE to the path of a file (created if missing), such as "
        ".jobconsole/state.sqlite3"
    )


def _reads_something(path: Path) -> bool:
    try:
        with open(path, "rb") as file:
            return bool(file.read(1))
    except OSError:
        return False


def _visible(item: Any) -> Any:
    """A write whose text SQLite's UTF-8 cannot hold (a lone surrogate, as ``os.fsdecode``
    gives for a file name that is not UTF-8), with such characters written as ``\\udcff``."""
    if isinstance(item, _Call):
        return item
    if isinstance(item, Execution):
        return replace(
            item,
            **{name: _backslashed(getattr(item, name)) for name in _TEXT_FIELDS},
            warnings=tuple(map(_backslashed, item.warnings)),
        )
    statement, params = item
    return statement, tuple(map(_backslashed, params))


def _backslashed(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _action(item: Any) -> str:
    if isinstance(item, _Call):
        return item.action
    if isinstance(item, Execution):
        return f"writing execution #{item.id}"
    statement, params = item
    return statement.action.format(*params)


def _size(item: Any) -> int:
    """Roughly how much a write adds to the file: the length of its text."""
    if isinstance(item, _Call):
        return 0
    params = _execution_params(item) if isinstance(item, Execution) else item[1]
    return sum(len(p) for p in params if isinstance(p, str | bytes))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, sqlite3.Error) and str(exc):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _symlinked(path: Path) -> StateError:
    return StateError(
        f"state file {path} is a symbolic link; expected a regular file. jobconsole does not "
        "follow it, so that it never writes over a file it was not meant for: set "
        "JOBCONSOLE_STATE to the file itself, or to another path"
    )


def _not_resettable(path: Path, what: str) -> StateError:
    return StateError(
        f"state file {path} {what}; nothing was moved. --reset-state moves aside only a "
        "jobconsole state file, or an SQLite file that cannot be read. Check that "
        "JOBCONSOLE_STATE names the state file, or move the file away yourself"
    )


def reset_state(path: Path) -> Path | None:
    """Move the state file (and its WAL) aside, never deleting it; returns the new name.

    Only what is a jobconsole state file (of any schema) or starts as an SQLite database
    but cannot be read: a bad JOBCONSOLE_STATE may name ``~/.bashrc``, another program's
    database, a folder or a device, and those are refused, untouched. Refused too
    (StateLockedError) while a console or ``run --headless`` holds the file.
    """
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _not_resettable(path, f"cannot be examined ({exc.strerror or exc})") from exc
    if stat.S_ISLNK(info.st_mode):
        raise _not_resettable(path, "is a symbolic link")
    if stat.S_ISDIR(info.st_mode):
        raise _not_resettable(path, "is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise _not_resettable(path, "is not a regular file (a device, FIFO or socket)")
    if info.st_size > 0:
        _check_resettable(path)
    lock = StateLock(path)
    try:
        return _move_aside(path) if info.st_size > 0 else None  # empty: nothing to reset
    finally:
        lock.release()


def _check_resettable(path: Path) -> None:
    """Raise unless ``path`` is a jobconsole state file or an unreadable SQLite file."""
    if not _starts_as_sqlite(path):
        raise _not_resettable(path, "is not an SQLite database")
    conn = None
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 5000")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        ours = {"meta", "executions"} <= tables and conn.execute(
            "SELECT 1 FROM meta WHERE key = 'schema_version'"
        ).fetchone()
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            raise _not_resettable(path, "is in use by another program (locked)") from exc
        return  # unreadable as SQLite: what --reset-state is for
    finally:
        if conn is not None:
            conn.close()
    if not ours:
        raise _not_resettable(path, "is an SQLite database, but not a jobconsole state file")


def _move_aside(path: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.broken-{stamp}")
    n = 1
    while any(  # rename() would silently replace a file moved aside earlier
        target.with_name(target.name + suffix).exists() for suffix in ("", "-wal", "-shm")
    ):
        n += 1
        target = path.with_name(f"{path.name}.broken-{stamp}-{n}")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    return target


def _owner_only_if_empty(path: Path) -> None:
    """SQLite keeps a file's mode and gives its -wal and -shm the same: an empty file left
    by ``touch`` (0644) would make every execution's output readable by all."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return  # none yet (it is created owner-only), or reported by the open that follows
    try:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_size == 0 and info.st_mode & 0o077:
            os.fchmod(fd, 0o600)
    except OSError as exc:
        raise StateError(
            f"state file {path} is an empty file open to other users and cannot be made "
            f"owner-only ({exc.strerror or exc}); expected a file of this user's. Fix its "
            "owner, or set JOBCONSOLE_STATE to another path"
        ) from exc
    finally:
        os.close(fd)


class Store(StateStore):
    """The SQLite state file. Use ``Store.open``; call ``close`` when done."""

    persistent = True

    def __init__(self, path: Path, conn: sqlite3.Connection, read_only: bool) -> None:
        self.path = path
        self.read_only = read_only
        self._read = conn
        self._lock: StateLock | None = None
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._next_id = 1
        self._closed = False
        self._report: Reporter | None = None
        # Absolute: a job may change the working directory while the writer runs.
        self._where = Path(os.path.abspath(path))
        self._opened: tuple[int, int] | None = None  # (st_dev, st_ino) the writer opened
        self._trouble: str | None = None  # "write" or "file" while reported, until recovery
        self._lost = 0  # writes that failed since the trouble was reported
        self._needed = 0  # how large a write must succeed to call a failure over
        self._pid = os.getpid()
        self._version = SCHEMA_VERSION  # the file's schema: an older one is only read

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, settings: Settings, *, read_only: bool = False, role: str | None = None) -> Store:
        if settings.state_path is None:
            raise StateError("JOBCONSOLE_STATE is empty: there is no state file to open")
        return cls.open_path(settings.state_path, read_only=read_only, role=role)

    @classmethod
    def open_path(cls, path: Path, *, read_only: bool = False, role: str | None = None) -> Store:
        """Open (and hold, unless ``read_only``) the state file; ``role`` says what this
        process is to whoever finds the file held."""
        path = Path(path)
        if path.is_symlink():
            raise _symlinked(path)
        _refuse_special_file(path)
        if read_only and not path.exists():
            raise StateError(f"state file {path} does not exist yet")
        lock = None
        if not read_only:
            try:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise StateError(
                    f"state file {path}: its folder {path.parent} cannot be created "
                    f"({exc.strerror or exc}); expected a folder this user can write to, "
                    "not a file. Fix the path, or set JOBCONSOLE_STATE to another path"
                ) from exc
            lock = StateLock(path, role)
        try:
            if not read_only:
                _owner_only_if_empty(path)
            store = cls._open_locked(path, read_only)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        store._lock = lock
        if not read_only:
            store._opened = _identity(store._where)  # a file deleted before the first write
        return store

    @classmethod
    def _open_locked(cls, path: Path, read_only: bool) -> Store:
        if not read_only and not path.exists():
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError as exc:
                raise StateError(
                    f"state file {path} cannot be created ({exc.strerror or exc}); expected "
                    "a folder this user can write to. Fix the permissions, or set "
                    "JOBCONSOLE_STATE to another path"
                ) from exc
            os.close(fd)
        conn = None
        try:
            conn = _connect(path, read_only)
            version = cls._schema_version(conn)
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            raise _describe_sqlite_error(path, exc) from exc
        if version > SCHEMA_VERSION:
            conn.close()
            raise StateError(
                f"state file {path} was written by a newer jobconsole (schema {version}; this "
                f"one knows up to {SCHEMA_VERSION}); it was left untouched. Upgrade jobconsole, "
                "or set JOBCONSOLE_STATE to another path"
            )
        if read_only and version < OLDEST_READABLE:
            conn.close()
            raise StateError(
                f"state file {path} has an older schema ({version}); start jobconsole once "
                "to upgrade it"
            )
        store = cls(path, conn, read_only)
        if read_only:
            store._version = version
        else:
            try:
                if version == 0:  # a new file: before its first table, or it needs a VACUUM
                    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                store._migrate(version)
            except sqlite3.DatabaseError as exc:
                conn.close()
                raise _describe_sqlite_error(path, exc) from exc
            row = conn.execute("SELECT MAX(id) FROM executions").fetchone()
            store._next_id = max((row[0] or 0) + 1, _as_int(store.meta(_NEXT_ID_KEY)))
            store._writer = threading.Thread(
                target=store._write_loop, name="jobconsole-store", daemon=True
            )
            store._writer.start()
        return store

    @staticmethod
    def _schema_version(conn: sqlite3.Connection) -> int:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "meta" not in tables:
            if tables:
                raise sqlite3.DatabaseError("it is an SQLite file, but not a jobconsole state file")
            return 0
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            return 0
        if not isinstance(row[0], str) or not re.fullmatch(r"[1-9][0-9]{0,8}", row[0]):
            shown = repr(row[0]) if len(str(row[0])) <= 20 else f"{str(row[0])[:20]!r}…"
            raise sqlite3.DatabaseError(
                f"its schema_version in the meta table is {shown}, not a version number"
            )
        return int(row[0])

    def _migrate(self, version: int) -> None:
        for target in range(version, SCHEMA_VERSION):
            self._read.execute("BEGIN IMMEDIATE")
            try:
                for statement in _MIGRATIONS[target].split(";"):
                    if statement.strip():
                        self._read.execute(statement)
                self._read.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(target + 1),),
                )
                self._read.execute("COMMIT")
            except BaseException:
                self._read.execute("ROLLBACK")
                raise

    # ------------------------------------------------------------------ writing

    def set_reporter(self, report: Reporter | None) -> None:
        """Have ``report`` called when writes start failing, and when they succeed again.

        Called on the writer thread, once per failure rather than once per write; the owner
        takes it to where its user looks. Without a reporter, the store logs it.
        """
        self._report = report

    @property
    def forked(self) -> bool:
        """True in a forked child's copy: it never writes; the file is its parent's."""
        return os.getpid() != self._pid

    @property
    def closed(self) -> bool:
        return self._closed

    def _submit(self, statement: _Statement, params: tuple[Any, ...]) -> None:
        if self.read_only or self._closed or self.forked:
            return
        self._queue.put((statement, params))

    def _write_loop(self) -> None:
        """Commit what is queued, a batch at a time, until told to stop; nothing a write
        does may end this thread, or every later run would be lost without a word."""
        conn: sqlite3.Connection | None = None
        while True:
            batch = [self._queue.get()]
            with contextlib.suppress(queue.Empty):
                while len(batch) < 500:
                    batch.append(self._queue.get_nowait())
            done = [item for item in batch if isinstance(item, threading.Event)]
            stop = None in batch
            chores = [item for item in batch if isinstance(item, _Chore)]
            writes = [
                i for i in batch if i is not None and not isinstance(i, threading.Event | _Chore)
            ]
            if writes:
                try:
                    if conn is None and self._moved():
                        self._lost += len(writes)  # connecting would make a new, empty file
                        failed = None
                    else:
                        if conn is None:
                            conn = self._connect_writer()
                        failed = self._write(conn, writes)
                except Exception as exc:  # the connection itself could not be made
                    self._lost += len(writes)
                    failed = ("opening it for writing", exc)
                try:
                    self._check(failed, writes)
                except Exception:
                    log.exception("checking state file %s failed", self.path)
            if chores and conn is not None:
                self._do(conn, chores)
            for event in done:
                event.set()
            if stop:
                if conn is not None:
                    with contextlib.suppress(sqlite3.Error):
                        conn.close()
                return

    def _moved(self) -> bool:
        """Whether the file opened is no longer at its path (deleted, replaced, moved)."""
        return self._opened is not None and _identity(self._where) != self._opened

    def _connect_writer(self) -> sqlite3.Connection:
        conn = _connect(self._where, read_only=False)
        conn.execute("PRAGMA synchronous = NORMAL")
        if self._opened is None:
            self._opened = _identity(self._where)
        return conn

    def _write(self, conn: sqlite3.Connection, writes: list[Any]) -> tuple[str, Exception] | None:
        """Commit ``writes`` together; when that fails, one by one, so that one bad write
        costs only itself. Returns the first that failed (what it did, why), if any."""
        try:
            self._apply(conn, writes)
            return None
        except Exception:
            pass
        failed = None
        needed = 0
        for item in writes:
            try:
                try:
                    self._apply(conn, [item])
                except UnicodeEncodeError:
                    self._apply(conn, [_visible(item)])
            except Exception as exc:
                self._lost += 1
                needed = max(needed, _size(item))
                if failed is None:
                    failed = (_action(item), exc)
        if failed is not None:
            self._needed = needed
        return failed

    def _do(self, conn: sqlite3.Connection, chores: list[_Chore]) -> None:
        for chore in chores:
            try:
                chore.run(conn)
            except Exception as exc:
                with contextlib.suppress(sqlite3.Error):
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                log.warning(
                    "state file %s: %s failed (%s); it is tried again at the next prune",
                    self.path,
                    chore.action,
                    _reason(exc),
                )

    def _check(self, failed: tuple[str, Exception] | None, writes: list[Any]) -> None:
        """After a batch: report a failed write, or the file gone from under us (writes to
        a deleted file succeed, into a file nobody will open again), once each; then
        report when writes succeed again.

        On a nearly full disk small writes go on succeeding while a run's 60 KB of output
        fails: the failure is over only once a batch as large as what failed succeeds, so
        the report does not flap with every small write in between.
        """
        if failed is not None:
            action, exc = failed
            reason = _reason(exc)
            log.debug("state file %s: %s failed", self.path, action, exc_info=exc)
            self._raise(
                "write",
                f"state file {self.path}: {action} failed ({reason}); runs are not being kept "
                "until writes succeed again",
                reason,
            )
        elif self._moved():
            self._raise(
                "file",
                f"state file {self.path} was deleted or replaced while in use; runs are not "
                "being kept (they go to the old file, gone once jobconsole exits); restart "
                "jobconsole to keep them again",
                "the file was deleted or replaced",
            )
        elif self._trouble == "file":
            self._recovered(f"state file {self.path} is back in place; runs are kept again")
        elif self._trouble == "write" and sum(map(_size, writes)) >= self._needed:
            self._recovered(
                f"state file {self.path}: writes succeed again; runs are kept again "
                f"({self._lost:,} write(s) failed meanwhile and are not in the file)"
            )

    def _recovered(self, message: str) -> None:
        self._trouble = None
        self._lost = self._needed = 0
        self._tell(WriteReport(failing=False, message=message))

    def _raise(self, trouble: str, message: str, reason: str) -> None:
        if self._trouble != trouble:
            self._trouble = trouble
            self._tell(WriteReport(failing=True, message=message, reason=reason))

    def _tell(self, report: WriteReport) -> None:
        if self._report is None:
            (log.error if report.failing else log.warning)("%s", report.message)
            return
        try:
            self._report(report)
        except Exception:
            log.exception("reporting on state file %s failed: %s", self.path, report.message)

    @staticmethod
    def _apply(conn: sqlite3.Connection, writes: list[Any]) -> None:
        conn.execute("BEGIN")
        try:
            executions: list[Execution] = []  # consecutive ones, written together
            for item in writes:
                if isinstance(item, Execution):
                    executions.append(item)
                    continue
                if executions:
                    _record_executions(conn, executions)
                    executions = []
                if isinstance(item, _Call):
                    item.run(conn)
                else:
                    statement, params = item
                    conn.execute(statement.sql, params)
            if executions:
                _record_executions(conn, executions)
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything submitted so far is committed."""
        if self._writer is None or self._closed or self.forked:
            return
        event = threading.Event()
        self._queue.put(event)
        event.wait(timeout)

    def next_execution_id(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    def record_execution(self, execution: Execution) -> None:
        # Queued as it is (it is frozen): the writer makes its row, off the event loop.
        if not (self.read_only or self._closed or self.forked):
            self._queue.put(execution)

    def save_job(self, job: StoredJob) -> None:
        self._submit(_SAVE_JOB, _job_params(job, _iso(datetime.now(UTC))))

    def delete_job(self, job_id: str) -> None:
        self._submit(_DELETE_JOB, (job_id,))

    def set_meta(self, key: str, value: str) -> None:
        self._submit(_SET_META, (key, value))

    def mark_alive(self, when: datetime) -> None:
        self.set_meta("last_alive", _iso(when) or "")

    def prune(self, max_rows: int, max_age_days: float, now: datetime) -> None:
        """Delete executions beyond the newest ``max_rows`` ids or older than the age.

        Never deleted (``_PRUNE_KEPT``): running executions, and each stored job's newest
        and latest counted execution, so a job's "last run" and the head of its detail
        view survive however old they are. Then the writer gives the space the deleted
        rows held back to the file system (``_give_space_back``).
        """
        cutoff = _iso(now - timedelta(days=max_age_days))

        def run(conn: sqlite3.Connection) -> None:
            top = conn.execute("SELECT MAX(id) FROM executions").fetchone()[0]
            if top is None:
                return
            _raise_next_id(conn, top + 1)  # pruning the newest rows must not free their ids
            conn.execute(
                f"DELETE FROM executions WHERE id <= ? AND id NOT IN ({_PRUNE_KEPT})",
                (top - max_rows,),
            )
            conn.execute(
                "DELETE FROM executions WHERE COALESCE(ended_at, started_at, scheduled_time) < ?"
                f" AND id NOT IN ({_PRUNE_KEPT})",
                (cutoff,),
            )

        if not self.read_only and not self._closed and not self.forked:
            self._queue.put(_Call("pruning old history", run))
            self._queue.put(_Chore("giving pruned space back", _give_space_back))

    # ------------------------------------------------------------------ reading

    def meta(self, key: str) -> str | None:
        row = self._read.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def last_alive(self) -> datetime | None:
        return _dt(self.meta("last_alive"))

    def latest_scheduled_times(self, job_ids: Iterable[str]) -> dict[str, datetime]:
        """The scheduled time of each job's newest execution (any status); jobs without one
        are left out.

        Newest by id, the order executions are recorded in, rather than the greatest
        scheduled time, which no index serves. They differ only when a fire is recorded
        just after a manual run of the same job that started while the fire awaited its
        dispatch; no fire time of that job lies between the two, so counting missed runs
        from either gives the same result. One statement, one index seek per job.
        """
        rows = self._read.execute(_LATEST_SCHEDULED, (json.dumps(list(job_ids)),)).fetchall()
        return {job_id: when for job_id, text in rows if (when := _dt(text)) is not None}

    def load_jobs(self, job_ids: Collection[str] | None = None) -> list[StoredJob]:
        options = "options" if self._version >= 2 else "'{}'"  # an older file, read-only
        sql = f"SELECT {_LOAD_COLUMNS}, {options} FROM jobs"
        if job_ids is None:
            rows = self._read.execute(f"{sql} ORDER BY rowid").fetchall()
        else:
            wanted = json.dumps(list(job_ids))
            rows = self._read.execute(
                f"{sql} WHERE job_id IN (SELECT value FROM json_each(?)) ORDER BY rowid", (wanted,)
            ).fetchall()
        return _stored_jobs(rows)

    def listing_rows(self) -> list[tuple[Any, ...]]:
        options = "options" if self._version >= 2 else "'{}'"
        return self._read.execute(_LISTING_ROWS.format(options=options)).fetchall()

    def job_stats(self) -> dict[str, JobStats]:
        rows = self._read.execute(
            "SELECT s.job_id, s.run_count, s.failure_count, "
            "e.id, e.status, e.scheduled_time, e.started_at, e.ended_at "
            "FROM job_stats s LEFT JOIN executions e ON e.id = s.last_execution_id"
        ).fetchall()
        return {r[0]: JobStats(r[1], r[2], _last_run(r[3:])) for r in rows}

    def holds_jobs(self) -> bool:
        return bool(
            self._read.execute(
                "SELECT EXISTS (SELECT 1 FROM jobs) OR EXISTS (SELECT 1 FROM job_stats)"
            ).fetchone()[0]
        )

    def executions(
        self, job_id: str | None = None, limit: int = 50, failed_only: bool = False
    ) -> list[Execution]:
        """Newest first."""
        where, params = [], []
        if job_id is not None:
            where.append("job_id = ?")
            params.append(job_id)
        if failed_only:
            where.append(f"status IN ({', '.join('?' * len(_FAILED))})")
            params.extend(_FAILED)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._read.execute(
            f"SELECT {_EXECUTION_COLUMNS} FROM executions {clause} ORDER BY id DESC LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [_execution(r) for r in rows]

    def recent_runs(self, job_ids: Iterable[str], limit: int) -> dict[str, list[Execution]]:
        """One query for many jobs: for each, its newest ``limit`` ids by the (job_id, id)
        index, then those rows by id, never reading their output."""
        found: dict[str, list[Execution]] = {job_id: [] for job_id in job_ids}
        wanted = list(found)
        for start in range(0, len(wanted), _RUNS_CHUNK):
            chunk = wanted[start : start + _RUNS_CHUNK]
            sql = _RECENT_RUNS.format(", ".join(["(?)"] * len(chunk)))
            for row in self._read.execute(sql, (*chunk, limit)):
                found[row[1]].append(_run_summary(row))
        return found

    def execution(self, execution_id: int) -> Execution | None:
        row = self._read.execute(
            f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE id = ?", (execution_id,)
        ).fetchone()
        return _execution(row) if row else None

    def interrupt_running(self, when: datetime) -> list[Execution]:
        """Executions a crashed process left 'running', now recorded as interrupted."""
        rows = self._read.execute(
            f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE status = 'running'"
        ).fetchall()
        interrupted = []
        for row in rows:
            before = _execution(row)
            after = Execution(
                id=before.id,
                job_id=before.job_id,
                status=ExecutionStatus.INTERRUPTED,
                scheduled_time=before.scheduled_time,
                started_at=before.started_at,
                trigger=before.trigger,
                error="interrupted: jobconsole stopped (crashed or was killed) while this ran",
                output=before.output,
            )
            self.record_execution(after)
            interrupted.append(after)
        return interrupted

    def close(self) -> None:
        if self._closed:
            return
        if self.forked:  # the parent's writer, connections and hold are not ours to end
            self._closed = True
            self._lock = None
            return
        if self._writer is not None:
            next_id = self._next_id
            self._queue.put(
                _Call("writing the next execution id", lambda conn: _raise_next_id(conn, next_id))
            )
            self._queue.put(None)
            self._writer.join(timeout=30)
        self._closed = True
        with contextlib.suppress(sqlite3.Error):
            self._read.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None
