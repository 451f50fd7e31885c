"""Benchmark 4, history: a state file with 1,000,000 executions against an empty one.

Run as ``python bench/history.py`` (``--runs N``, ``--quick``, ``--rows N``,
``--keep DIR`` to reuse a built file).

The big file is made by ``Store.open_path`` (so the schema and its migrations are the real
ones), then filled with ``executemany`` in large transactions: the example registry's jobs
plus 200 retired ones, 4% failures with tracebacks, 1% missed, spread over the last 25
days (inside the default 30-day retention), and ``job_stats`` made consistent with them.
Both files are measured with ``JOBCONSOLE_HISTORY_MAX_ROWS=2000000`` so that the default
100,000-row retention does not prune the big one while it is measured; what that
pruning costs is measured separately (info).

Each figure, big file minus empty file, must stay under 200 ms:
- ``jobconsole history heartbeat --limit 50`` (a subprocess; wall time);
- opening the service: ``build_service`` + ``load_state`` + ``start()`` + the 1,000
  executions the console's log pane loads at mount (in-process);
- opening the console: first frame in a 120x35 tmux window showing the job table;
- the detail view's query: ``service.recent_executions(job_id, 50)`` (in-process).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import (
    JOBCONSOLE,
    Summary,
    bench_env,
    table,
    temp_dir,
    time_to_frame,
    tmux_server_down,
    tmux_server_up,
    verdict,
    wall,
)

ROWS = 1_000_000
MAX_ROWS = "2000000"
TARGET = 0.200
JOB = "heartbeat"
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/app/jobs/flaky.py", line 7, in sync_with_partner_api\n'
    "    response = client.post(url, json=payload, timeout=10)\n"
    '  File "/srv/app/partner/client.py", line 88, in post\n'
    "    raise PartnerError(response.status_code, response.text)\n"
    "PartnerError: 503 Service Unavailable\n"
)
COUNTED = ("succeeded", "failed", "timed out", "cancelled", "interrupted")
FAILED = ("failed", "timed out", "interrupted")


def _job_of(i: int) -> str:
    slot = i % 100
    if slot < 40:
        return "heartbeat"
    if slot < 60:
        return "daily_report"
    if slot < 73:
        return "partner_sync"
    if slot == 73:
        return "cleanup_expired_tokens"
    return f"retired_{(i // 100) % 200:03d}"


def _rows(count: int, start: datetime, step: float) -> Any:
    for i in range(count):
        scheduled = start + timedelta(seconds=i * step)
        job_id = _job_of(i)
        started = (scheduled + timedelta(milliseconds=2)).isoformat()
        if i % 100 == 50:
            yield (
                i + 1,
                job_id,
                "missed",
                "schedule",
                scheduled.isoformat(),
                None,
                None,
                "missed 1 run(s) due while jobconsole was not running",
                None,
                "",
                0,
                "[]",
            )
        elif i % 25 == 7:
            ended = (scheduled + timedelta(milliseconds=830)).isoformat()
            yield (
                i + 1,
                job_id,
                "failed",
                "schedule",
                scheduled.isoformat(),
                started,
                ended,
                "PartnerError: 503 Service Unavailable",
                TRACEBACK,
                "calling partner\n",
                0,
                "[]",
            )
        else:
            ended = (scheduled + timedelta(milliseconds=40 + i % 300)).isoformat()
            yield (i + 1, job_id, "succeeded", "schedule", scheduled.isoformat(), started, ended,
                   None, None, f"processed {i % 997} items\n", 0, "[]")  # fmt: skip


def build(path: Path, count: int) -> float:
    """Create ``path`` through the real Store, then fill it in bulk; returns seconds."""
    from jobs.core.store import _EXECUTION_COLUMNS, Store

    began = time.perf_counter()
    Store.open_path(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    now = datetime.now(UTC)
    span = timedelta(days=25).total_seconds()
    start = now - timedelta(seconds=span)
    rows = _rows(count, start, span / max(1, count))
    sql = f"INSERT INTO executions ({_EXECUTION_COLUMNS}) VALUES ({', '.join('?' * 12)})"
    batch = 100_000
    for _ in range(0, count, batch):
        conn.execute("BEGIN")
        conn.executemany(sql, (row for _, row in zip(range(batch), rows, strict=False)))
        conn.execute("COMMIT")
    counted = ", ".join(f"'{s}'" for s in COUNTED)
    failed = ", ".join(f"'{s}'" for s in FAILED)
    conn.execute("BEGIN")
    conn.execute(
        "INSERT OR REPLACE INTO job_stats (job_id, run_count, failure_count, last_execution_id) "
        f"SELECT job_id, SUM(status IN ({counted})), SUM(status IN ({failed})), "
        f"MAX(CASE WHEN status IN ({counted}) THEN id END) FROM executions GROUP BY job_id"
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - began


def settings_for(state: Path, max_rows: str = MAX_ROWS) -> Any:
    from jobs.core.settings import Settings

    return Settings.load(
        environ={
            "JOBCONSOLE_STATE": str(state),
            "JOBCONSOLE_HISTORY_MAX_ROWS": max_rows,
        },
        env_file=None,
    )


async def open_service(state: Path, job_runs: int) -> tuple[float, float]:
    """Seconds to open the service as the console does at start-up, and the median
    seconds of the detail view's query over ``job_runs`` calls."""
    from jobs.core.bootstrap import build_service

    began = time.perf_counter()
    service = build_service(settings_for(state))
    service.load_state()
    service.start()
    service.recent_executions(limit=1000)  # the log pane's history at mount
    opened = time.perf_counter() - began
    detail = []
    for _ in range(job_runs):
        t = time.perf_counter()
        service.recent_executions(JOB, 50)
        service.next_fire_times(JOB, 10)
        detail.append(time.perf_counter() - t)
    task = service.shutdown(timeout=0)
    if task is not None:
        await task
    return opened, sorted(detail)[len(detail) // 2]


async def prune_cost(state: Path) -> tuple[float, float]:
    """With the default retention (100,000 rows): seconds the writer thread takes for the
    first prune of the big file, and the longest event-loop stall meanwhile."""
    from jobs.core.bootstrap import build_service

    service = build_service(settings_for(state, max_rows="100000"))
    service.start()
    await asyncio.sleep(0)  # the housekeeping task queues the prune
    await asyncio.sleep(0)
    began = time.perf_counter()
    flushed = asyncio.get_running_loop().run_in_executor(None, service.store.flush, 600.0)
    stall = 0.0
    while not flushed.done():
        t = time.perf_counter()
        await asyncio.sleep(0.005)
        stall = max(stall, time.perf_counter() - t - 0.005)
    took = time.perf_counter() - began
    task = service.shutdown(timeout=0)
    if task is not None:
        await task
    return took, stall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=None, help="runs per measurement (10)")
    parser.add_argument("--quick", action="store_true", help="3 runs")
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the files in this folder")
    parser.add_argument("--no-console", action="store_true", help="skip the tmux first frame")
    args = parser.parse_args()
    runs = args.runs or (3 if args.quick else 10)
    with temp_dir() as tmp:
        folder = args.keep or tmp
        folder.mkdir(parents=True, exist_ok=True)
        big, empty = folder / f"big-{args.rows}.sqlite3", folder / "empty.sqlite3"
        if not big.exists():
            print(f"building {big} with {args.rows:,} executions...")
            print(f"  built in {build(big, args.rows):.1f} s, {big.stat().st_size / 2**20:.0f} MB")
        if not empty.exists():
            build(empty, 0)
        files = {"empty": empty, "1M": big}
        results: dict[str, dict[str, list[float]]] = {k: {} for k in files}

        def add(name: str, what: str, value: float) -> None:
            results[name].setdefault(what, []).append(value)

        print(f"measuring, {runs} runs each (+1 warm-up), interleaved...")
        if not args.no_console:
            tmux_server_up()
        try:
            for run in range(runs + 1):
                for name, state in files.items():
                    env = bench_env(state, JOBCONSOLE_HISTORY_MAX_ROWS=MAX_ROWS)
                    cmd = [JOBCONSOLE, "history", JOB, "--limit", "50"]
                    history = wall(cmd, env, folder)
                    opened, detail = asyncio.run(open_service(state, 21))
                    frame = None
                    if not args.no_console:
                        frame = time_to_frame([JOBCONSOLE], [JOB, "next run"], env, folder)
                    if run:
                        add(name, "history", history)
                        add(name, "open", opened)
                        add(name, "detail", detail)
                        if frame is not None:
                            add(name, "frame", frame)
        finally:
            if not args.no_console:
                tmux_server_down()
        print("default retention on a copy of the big file (the first prune)...")
        copy = folder / "prune-copy.sqlite3"
        shutil.copy(big, copy)
        took, stall = asyncio.run(prune_cost(copy))
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(str(copy) + suffix).unlink(missing_ok=True)

    labels = {
        "history": f"jobconsole history {JOB} --limit 50",
        "open": "open the service (build, load_state, start, log history)",
        "frame": "console first frame (tmux)",
        "detail": f"detail view query: recent_executions({JOB!r}, 50) + next 10 times",
    }
    rows = []
    for what, label in labels.items():
        if what not in results["empty"]:
            continue
        e, b = Summary.of(results["empty"][what]), Summary.of(results["1M"][what])
        scale = 1000.0
        unit = "ms"
        digits = 1 if what != "detail" else 2
        extra = b.median - e.median
        rows.append(
            [
                label,
                b.spread(unit, scale, digits),
                e.spread(unit, scale, digits),
                f"+{extra * 1000:.{digits}f} ms ({b.median / e.median:.2f}x)",
                "< +200 ms",
                verdict(extra < TARGET),
            ]
        )
    rows.append(
        [
            "first prune to the default 100,000 rows (writer thread)",
            f"{took:.1f} s; longest event-loop stall meanwhile {stall * 1000:.0f} ms",
            "",
            "",
            "(info)",
            "",
        ]
    )
    print()
    header = ["measurement", f"{args.rows:,} executions", "empty file", "beyond", "target"]
    print(table(rows, [*header, "met?"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
