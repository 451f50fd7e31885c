"""The state file's share of an execution's CPU: what recording one costs, against the
floor of a bare sqlite3 insert of the same row.

Run as ``python bench/store_write.py`` (``--executions N``, ``--runs N``, ``--quick``,
``--before TREE`` to measure another checkout's store in the same run, interleaved).

Each execution is recorded as the runner records it: *running* when it starts, then its
final record (succeeded, one in ten failed with a short error and traceback, no output:
the async burst's trivial jobs) when it ends. Two orders: a burst (every start, then every
end, as 10,000 jobs due in the same second go) and one at a time (start, end, start,
end). Figures are CPU time of the whole process (the event loop's thread and the
writer's, ``time.process_time``) from the first record until ``flush()`` returns,
divided by the number of executions; and the CPU of the recording thread alone (what
the event loop pays). The floor: the same final rows inserted with a bare ``sqlite3``
connection (WAL, ``synchronous=NORMAL``, 500 rows a transaction, one ``execute`` each,
their ISO timestamps made beforehand), in the same run. A fresh state file each time,
in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import PYTHON, ROOT, Summary, table

TRACE = 'Traceback (most recent call last):\n  File "jobs.py", line 3\nRuntimeError: boom\n'


def measure_store(count: int, order: str) -> tuple[float, float]:
    """(process CPU, recording thread CPU) in seconds per execution."""
    from dataclasses import replace

    from jobs.core.records import Execution, ExecutionStatus
    from jobs.core.store import Store

    with tempfile.TemporaryDirectory(prefix="jobconsole-bench-") as tmp:
        store = Store.open_path(Path(tmp) / "state.sqlite3")
        try:
            base = datetime.now(UTC)
            ids = [store.next_execution_id() for _ in range(count)]
            starts = [
                Execution(
                    id=i,
                    job_id=f"job{i % 10_000:05d}",
                    status=ExecutionStatus.RUNNING,
                    scheduled_time=base,
                    started_at=base + timedelta(microseconds=i),
                )
                for i in ids
            ]
            ends = [
                replace(
                    e,
                    status=ExecutionStatus.FAILED if e.id % 10 == 0 else ExecutionStatus.SUCCEEDED,
                    ended_at=e.started_at + timedelta(milliseconds=1),
                    error="RuntimeError: boom" if e.id % 10 == 0 else None,
                    traceback=TRACE if e.id % 10 == 0 else None,
                )
                for e in starts
            ]
            if order == "burst":
                sequence = [*starts, *ends]
            else:
                sequence = [e for pair in zip(starts, ends, strict=True) for e in pair]
            store.flush()
            cpu, own = time.process_time(), time.thread_time()
            for execution in sequence:
                store.record_execution(execution)
            own = time.thread_time() - own
            store.flush(timeout=600)
            cpu = time.process_time() - cpu
            stored = store._read.execute("SELECT COUNT(*) FROM executions").fetchone()[0]
            assert stored == count, (stored, count)
        finally:
            store.close()
    return cpu / count, own / count


def measure_floor(count: int) -> float:
    """Seconds of CPU per row for a bare sqlite3 insert of the final rows."""
    with tempfile.TemporaryDirectory(prefix="jobconsole-bench-") as tmp:
        conn = sqlite3.connect(Path(tmp) / "floor.sqlite3", isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(
            "CREATE TABLE executions (id INTEGER PRIMARY KEY, job_id TEXT NOT NULL, "
            "status TEXT NOT NULL, trigger TEXT NOT NULL, scheduled_time TEXT, started_at "
            "TEXT, ended_at TEXT, error TEXT, traceback TEXT, output TEXT NOT NULL DEFAULT "
            "'', output_truncated INTEGER NOT NULL DEFAULT 0, warnings TEXT NOT NULL DEFAULT "
            "'[]')"
        )
        now = datetime.now(UTC)
        rows = [
            (
                i,
                f"job{i % 10_000:05d}",
                "failed" if i % 10 == 0 else "succeeded",
                "schedule",
                now.isoformat(),
                now.isoformat(),
                now.isoformat(),
                "RuntimeError: boom" if i % 10 == 0 else None,
                TRACE if i % 10 == 0 else None,
                "",
                0,
                "[]",
            )
            for i in range(1, count + 1)
        ]
        sql = "INSERT INTO executions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        cpu = time.process_time()
        for start in range(0, count, 500):
            conn.execute("BEGIN")
            for row in rows[start : start + 500]:
                conn.execute(sql, row)
            conn.execute("COMMIT")
        cpu = time.process_time() - cpu
        conn.close()
    return cpu / count


def child(count: int) -> None:
    """One round of every case, printed as JSON (so another tree's store is measured in
    a process of its own)."""
    sys.path.insert(0, os.environ["JOBCONSOLE_BENCH_TREE"])
    burst, burst_own = measure_store(count, "burst")
    single, single_own = measure_store(count, "one at a time")
    floor = measure_floor(count)
    print(json.dumps([burst, burst_own, single, single_own, floor]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=None, help="rounds (7)")
    parser.add_argument("--quick", action="store_true", help="3 rounds")
    parser.add_argument("--before", type=Path, help="a checkout to measure as 'before'")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.executions)
        return 0
    runs = args.runs or (3 if args.quick else 7)
    trees = {"after": ROOT}
    if args.before is not None:
        trees = {"before": args.before.resolve(), **trees}
    figures: dict[str, list[list[float]]] = {name: [] for name in trees}
    for run in range(runs + 1):  # round 0 warms the caches and is discarded
        for name, tree in trees.items():
            env = dict(os.environ, JOBCONSOLE_BENCH_TREE=str(tree))
            out = subprocess.run(
                [PYTHON, __file__, "--child", "--executions", str(args.executions)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            if run:
                figures[name].append(json.loads(out))
        print(f"  round {run}{' (warm-up)' if not run else ''} done")
    floor = Summary.of([f[4] for name in trees for f in figures[name]]).median
    rows = [["bare sqlite3 insert of the final row (floor)", f"{floor * 1e6:.1f} µs", "1.00x", ""]]
    labels = ("burst", "one at a time")
    for name in trees:
        for index, label in enumerate(labels):
            cpu = Summary.of([f[2 * index] for f in figures[name]]).median
            own = Summary.of([f[2 * index + 1] for f in figures[name]]).median
            rows.append(
                [
                    f"{name}: record running + final, {label}",
                    f"{cpu * 1e6:.1f} µs",
                    f"{cpu / floor:.2f}x",
                    f"{own * 1e6:.1f} µs",
                ]
            )
    print()
    print(f"{args.executions:,} executions, median of {runs} rounds, CPU per execution:")
    header = ["case", "process CPU", "/ floor", "recording thread"]
    print(table(rows, header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
