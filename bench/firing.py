"""Benchmark 2, firing precision: lateness = started_at - scheduled_time of each execution.

Run as ``python bench/firing.py`` (``--samples N``, ``--quick``, ``--no-burst``,
``--no-single``, ``--console-10k``).

(a) One job, many samples: after ``service.start()`` the probe job's APScheduler
    next_run_time is set 150-200 ms ahead (``_scheduler.modify_job``) and the scheduler's
    own timer fires it; once it has run, again. Lateness comes from the execution records
    in the state file. Measured headless (in-process, durable state on) and inside the real
    console drawing in a 120x35 tmux window (the ``jobconsole`` command with the example
    registry, the probe added to it). Baseline: a bare AsyncIOScheduler (memory job store)
    driven the same way, lateness = when the job function starts - its scheduled time.
    Targets (in the console): p50 < 5 ms, p99 < 20 ms.

(b) Burst: 1,000 jobs ``* * * * *`` (half ``async def``, half plain ``def``), durable state
    on (a real Store on a temporary file). The next minute boundary at least 5 s away is
    awaited; then the store must hold, for each job, exactly one execution of that minute,
    succeeded and started within 1 s; none missed, none twice. Reference: APScheduler's
    bare AsyncIOScheduler with its own SQLAlchemyJobStore on SQLite and
    ``CronTrigger.from_crontab("* * * * *")``, its lateness taken inside the job functions
    (and, for comparison with our started_at, at EVENT_JOB_SUBMITTED).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import (
    PYTHON,
    Summary,
    bench_env,
    percentile,
    ratio,
    run_in_tmux,
    table,
    temp_dir,
    tmux_server_down,
    tmux_server_up,
    verdict,
)

PROBE = "bench_probe"
PROBE_FUNC = "bench.jobfuncs:tick_async"
FAR = "0 0 29 2 *"  # 29 February: never fires by itself during a run
BURST = 1000


def make_service(state: Path) -> Any:
    """A SchedulerService as a library uses it: durable state on, no registry."""
    from jobs.core.service import SchedulerService
    from jobs.core.settings import Settings
    from jobs.core.store import Store

    settings = Settings.load(
        environ={"JOBCONSOLE_STATE": str(state), "JOBCONSOLE_TIMEZONE": "UTC"}, env_file=None
    )
    return SchedulerService(settings, store=Store.open(settings))


def _lateness_ms(rows: list[tuple[str, str]]) -> list[float]:
    return [
        (datetime.fromisoformat(started) - datetime.fromisoformat(scheduled)).total_seconds() * 1000
        for scheduled, started in rows
    ]


def stored_lateness(state: Path, job_id: str) -> list[float]:
    """Lateness in ms of every scheduled execution of ``job_id`` in the state file."""
    conn = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT scheduled_time, started_at FROM executions "
            "WHERE job_id = ? AND trigger = 'schedule' AND started_at IS NOT NULL ORDER BY id",
            (job_id,),
        ).fetchall()
    finally:
        conn.close()
    return _lateness_ms(rows)


# ------------------------------------------------------------ (a) one job


async def drive_probe(service: Any, samples: int) -> int:
    """Fire the probe ``samples`` times through APScheduler's own timer; returns how many
    ran. Lateness is read afterwards from the state file, not from here."""
    from jobs.core.records import EventKind

    finished: asyncio.Queue[None] = asyncio.Queue()

    def on_event(event: Any) -> None:
        if event.job_id == PROBE and event.kind in (
            EventKind.EXECUTION_SUCCEEDED,
            EventKind.EXECUTION_FAILED,
            EventKind.EXECUTION_MISSED,
            EventKind.EXECUTION_SKIPPED,
        ):
            finished.put_nowait(None)

    unsubscribe = service.subscribe(on_event)
    rng = random.Random(5)
    ran = 0
    try:
        await asyncio.sleep(1.0)  # let start-up settle
        for _ in range(samples):
            # Jitter, so the due times do not lock onto the console's 60 Hz frame timer.
            due = datetime.now(UTC) + timedelta(seconds=0.15 + rng.random() * 0.05)
            service._scheduler.modify_job(PROBE, next_run_time=due)
            try:
                await asyncio.wait_for(finished.get(), timeout=5)
                ran += 1
            except TimeoutError:
                pass
    finally:
        unsubscribe()
    return ran


async def single_headless(state: Path, samples: int) -> None:
    service = make_service(state)
    service.register_job(PROBE, PROBE_FUNC, FAR)
    service.start()
    try:
        await drive_probe(service, samples)
    finally:
        task = service.shutdown()
        if task is not None:
            await task


async def single_reference(samples: int) -> list[float]:
    """Bare AsyncIOScheduler (memory store), driven the same way; lateness in ms measured
    at the start of the job function."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.cron import CronTrigger

    from bench import jobfuncs

    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        jobfuncs.ref_async, CronTrigger.from_crontab(FAR, timezone=UTC), args=[PROBE], id=PROBE
    )
    scheduler.start()
    rng = random.Random(5)
    late: list[float] = []
    await asyncio.sleep(1.0)
    for _ in range(samples):
        due = datetime.now(UTC) + timedelta(seconds=0.15 + rng.random() * 0.05)
        before = len(jobfuncs.STARTED.get(PROBE, []))
        scheduler.modify_job(PROBE, next_run_time=due)
        deadline = time.monotonic() + 5
        while len(jobfuncs.STARTED.get(PROBE, [])) == before and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if len(jobfuncs.STARTED.get(PROBE, [])) > before:
            late.append((jobfuncs.STARTED[PROBE][-1] - due.timestamp()) * 1000)
    scheduler.shutdown(wait=False)
    jobfuncs.STARTED.clear()
    return late


def console_child(out: Path, samples: int) -> int:
    """In the tmux window: the real console, with the probe job added to the registry's."""
    import _console_child

    async def task(app: Any) -> dict[str, Any]:
        # Registered once running (as from the console's form): the state file is merged
        # by then, and code jobs must be registered before that.
        app.client.service.register_job(PROBE, PROBE_FUNC, FAR)
        ran = await drive_probe(app.client.service, samples)
        return {"ran": ran}

    return _console_child.run(task, out)


def single_console(tmp: Path, samples: int, registry: str) -> tuple[list[float], int]:
    state = tmp / "console.sqlite3"
    out = tmp / "console.json"
    cmd = [PYTHON, str(Path(__file__).resolve()), "--child-console", str(out)]
    cmd += ["--samples", str(samples)]
    env = bench_env(state, JOBCONSOLE_REGISTRY=registry, JOBCONSOLE_TIMEZONE="UTC")
    tmux_server_up()
    try:
        run_in_tmux(cmd, env, tmp, out, timeout=120 + samples)
        time.sleep(0.5)  # the console shuts down and the store flushes
    finally:
        tmux_server_down()
    result = json.loads(out.read_text())
    if "error" in result:
        raise RuntimeError(f"console child failed:\n{result['error']}")
    return stored_lateness(state, PROBE), result["ran"]


def bench_single(samples: int, console_10k: bool) -> list[list[str]]:
    rows = []
    with temp_dir() as tmp:
        print(f"(a) one job, {samples} samples each...")
        reference = asyncio.run(single_reference(samples))
        ref = Summary.of(reference)
        print(f"  reference: p50 {ref.median:.2f} ms, p99 {ref.p99:.2f} ms")
        asyncio.run(single_headless(tmp / "headless.sqlite3", samples))
        headless = stored_lateness(tmp / "headless.sqlite3", PROBE)
        cases = [("headless (service with a state file, no console)", headless)]
        print(f"  headless: p50 {percentile(headless, 50):.2f} ms")
        consoles = [("jobs.registry", "console drawing, example registry")]
        if console_10k:
            consoles.append(("bench.registry_10k", "console drawing, 10,000 jobs"))
        for registry, label in consoles:
            late, ran = single_console(tmp, samples, registry)
            print(f"  {label}: {ran} ran, p50 {percentile(late, 50):.2f} ms")
            cases.append((label, late))
            (tmp / "console.sqlite3").unlink()
            (tmp / "console.json").unlink()
    rows.append(
        [
            "one job, bare AsyncIOScheduler (reference)",
            f"p50 {ref.median:.2f} / p99 {ref.p99:.2f} / max {ref.high:.2f} ms (n={ref.n})",
            "",
            "1.00",
            "",
            "",
        ]
    )
    for label, late in cases:
        s = Summary.of(late)
        target = label.startswith("console")
        ok = s.median < 5 and s.p99 < 20
        rows.append(
            [
                f"one job, {label}",
                f"p50 {s.median:.2f} / p99 {s.p99:.2f} / max {s.high:.2f} ms (n={s.n})",
                f"p99 {ref.p99:.2f} ms",
                f"{ratio(s.p99, ref.p99):.2f} (p99)",
                "p50 < 5 ms, p99 < 20 ms" if target else "(info)",
                verdict(ok) if target else ("" if ok else "over"),
            ]
        )
    return rows


# ------------------------------------------------------------------ (b) burst


async def next_boundary(lead: float = 5.0) -> datetime:
    """The next minute boundary at least ``lead`` s away (waiting past a close one)."""
    now = datetime.now(UTC)
    boundary = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if (boundary - now).total_seconds() < lead:
        await asyncio.sleep((boundary - now).total_seconds() + 0.5)
        boundary += timedelta(minutes=1)
    return boundary


async def burst_ours(state: Path) -> dict[str, Any]:
    await next_boundary(lead=20)  # room for registering and starting before the minute
    service = make_service(state)
    for i in range(BURST):
        func = "bench.jobfuncs:tick_async" if i % 2 == 0 else "bench.jobfuncs:tick_sync"
        service.register_job(f"burst{i:04d}", func, "* * * * *")
    started = time.perf_counter()
    service.start()
    start_ms = (time.perf_counter() - started) * 1000
    boundary = await next_boundary(lead=1)
    wait = (boundary - datetime.now(UTC)).total_seconds()
    await asyncio.sleep(wait + 5)  # the burst, and time for every run to end
    task = service.shutdown()
    if task is not None:
        await task
    conn = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
    rows = conn.execute(
        "SELECT job_id, status, scheduled_time, started_at FROM executions ORDER BY id"
    ).fetchall()
    conn.close()
    per_job: dict[str, list[tuple[str, str, str]]] = {}
    for job_id, status, scheduled, started_at in rows:
        per_job.setdefault(job_id, []).append((status, scheduled, started_at))
    target = boundary.isoformat()
    late, once, missed, twice, other = [], 0, 0, 0, 0
    for i in range(BURST):
        runs = per_job.get(f"burst{i:04d}", [])
        of_minute = [r for r in runs if r[1] == target]
        if any(r[0] in ("missed", "skipped") for r in runs) or not of_minute:
            missed += 1
        if len(of_minute) > 1:
            twice += 1
        if len(of_minute) == 1 and of_minute[0][0] == "succeeded":
            once += 1
        other += len([r for r in runs if r[1] != target])
        late += _lateness_ms([(r[1], r[2]) for r in of_minute if r[2]])
    return {
        "late": late,
        "once": once,
        "missed": missed,
        "twice": twice,
        "other": other,
        "start_ms": start_ms,
    }


async def burst_reference(state: Path) -> dict[str, Any]:
    from apscheduler.events import (
        EVENT_JOB_ERROR,
        EVENT_JOB_MAX_INSTANCES,
        EVENT_JOB_MISSED,
        EVENT_JOB_SUBMITTED,
    )
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.cron import CronTrigger

    from bench import jobfuncs

    await next_boundary(lead=20)
    scheduler = AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{state}")}, timezone=UTC
    )
    submitted: dict[str, list[tuple[float, datetime]]] = {}
    problems: dict[str, int] = {"missed": 0, "max_instances": 0, "error": 0}

    def listener(event: Any) -> None:
        if event.code == EVENT_JOB_SUBMITTED:
            for when in event.scheduled_run_times:
                submitted.setdefault(event.job_id, []).append((time.time(), when))
        elif event.code == EVENT_JOB_MISSED:
            problems["missed"] += 1
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            problems["max_instances"] += 1
        elif event.code == EVENT_JOB_ERROR:
            problems["error"] += 1

    scheduler.add_listener(
        listener, EVENT_JOB_SUBMITTED | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR
    )
    scheduler.start()
    trigger = CronTrigger.from_crontab("* * * * *", timezone=UTC)
    started = time.perf_counter()
    for i in range(BURST):
        func = jobfuncs.ref_async if i % 2 == 0 else jobfuncs.ref_sync
        job_id = f"burst{i:04d}"
        scheduler.add_job(func, trigger, args=[job_id], id=job_id, replace_existing=True)
    start_ms = (time.perf_counter() - started) * 1000
    boundary = await next_boundary(lead=1)
    await asyncio.sleep((boundary - datetime.now(UTC)).total_seconds() + 5)
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0.5)
    late, late_submit, once, twice, missed = [], [], 0, 0, 0
    for i in range(BURST):
        job_id = f"burst{i:04d}"
        starts = [t for t in jobfuncs.STARTED.get(job_id, []) if t >= boundary.timestamp() - 1]
        subs = [t for t, when in submitted.get(job_id, []) if when == boundary]
        if len(starts) == 1:
            once += 1
        elif not starts:
            missed += 1
        else:
            twice += 1
        late += [(t - boundary.timestamp()) * 1000 for t in starts]
        late_submit += [(t - boundary.timestamp()) * 1000 for t in subs]
    jobfuncs.STARTED.clear()
    return {
        "late": late,
        "late_submit": late_submit,
        "once": once,
        "missed": missed,
        "twice": twice,
        "other": 0,
        "problems": problems,
        "start_ms": start_ms,
    }


def bench_burst(runs: int) -> list[list[str]]:
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)
    ours_runs, ref_runs = [], []
    with temp_dir() as tmp:
        for run in range(runs):
            print(f"(b) burst of {BURST}, run {run + 1}/{runs}: jobconsole (waits for a minute)...")
            ours = asyncio.run(burst_ours(tmp / f"ours{run}.sqlite3"))
            ours_runs.append(ours)
            print(
                f"  jobconsole: {ours['once']} ran once, {ours['missed']} missed, "
                f"{ours['twice']} twice, p99 {percentile(ours['late'], 99):.0f} ms"
            )
            print("  reference: APScheduler + SQLAlchemyJobStore (waits for a minute)...")
            ref = asyncio.run(burst_reference(tmp / f"ref{run}.sqlite3"))
            ref_runs.append(ref)
            print(
                f"  reference: {ref['once']} ran once, {ref['missed']} missed, "
                f"{ref['twice']} twice, p99 {percentile(ref['late'], 99):.0f} ms; "
                f"events: {ref['problems']}"
            )
    rows = []
    ref_late = [x for r in ref_runs for x in r["late"]]
    ref_sub = [x for r in ref_runs for x in r["late_submit"]]
    rs = Summary.of(ref_late)
    for label, results, late in (
        ("burst 1,000 x * * * * *, APScheduler + SQLAlchemyJobStore", ref_runs, ref_late),
        ("burst 1,000 x * * * * *, jobconsole, durable state", ours_runs, None),
    ):
        late = late if late is not None else [x for r in results for x in r["late"]]
        s = Summary.of(late)
        once = sum(r["once"] for r in results)
        missed = sum(r["missed"] for r in results)
        twice = sum(r["twice"] for r in results)
        total = BURST * len(results)
        within = sum(1 for x in late if x <= 1000)
        ok = once == total and missed == 0 and twice == 0 and within == total
        is_ref = results is ref_runs
        rows.append(
            [
                label,
                f"p50 {s.median:.0f} / p99 {s.p99:.0f} / max {s.high:.0f} ms; "
                f"{once}/{total} once, {missed} missed, {twice} twice, {within} within 1 s",
                "" if is_ref else f"p99 {rs.p99:.0f} ms",
                "1.00" if is_ref else f"{ratio(s.p99, rs.p99):.2f} (p99)",
                "" if is_ref else "all within 1 s, none missed or twice",
                ("(ok)" if ok else "(not all)") if is_ref else verdict(ok),
            ]
        )
    if ref_sub:
        ss = Summary.of(ref_sub)
        rows.append(
            [
                "  reference: EVENT_JOB_SUBMITTED (dispatched after its whole due-jobs pass)",
                f"p50 {ss.median:.0f} / p99 {ss.p99:.0f} / max {ss.high:.0f} ms",
                "",
                "",
                "(info)",
                "",
            ]
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=None, help="samples per case (200)")
    parser.add_argument("--runs", type=int, default=1, help="burst runs (a minute each)")
    parser.add_argument("--quick", action="store_true", help="60 samples")
    parser.add_argument("--no-single", action="store_true")
    parser.add_argument("--no-burst", action="store_true")
    parser.add_argument("--console-10k", action="store_true", help="also in a 10k-job console")
    parser.add_argument("--child-console", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    samples = args.samples or (60 if args.quick else 200)
    if args.child_console:
        return console_child(args.child_console, samples)
    logging.getLogger("jobconsole").setLevel(logging.CRITICAL)
    rows: list[list[str]] = []
    if not args.no_single:
        rows += bench_single(samples, args.console_10k)
    if not args.no_burst:
        rows += bench_burst(args.runs)
    print()
    print(table(rows, ["case", "lateness", "baseline", "ratio", "target", "met?"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
