"""Benchmark 11, start-up at 100,000 jobs: first frame, every job scheduled, memory.

Run as ``python bench/big.py`` (``--jobs N``, default 100,000; ``--runs N``; ``--idle S``
seconds before memory is read, default 30; ``--quick``: one run after the warm-up, 10 s
idle; ``--trace-memory``: where a headless start's memory goes, by tracemalloc; ``--cpu``:
the CPU time of a first start and a restart in process, steadier on a shared machine).

The registry is ``bench/registry_10k.py`` scaled to N (``JOBCONSOLE_BENCH_COUNT``): the
same varied expressions (34,255 distinct at 100,000), half async and half plain jobs,
each launch on a fresh state file. Each figure is taken with its baseline in the same run,
interleaved, and the first round (a warm-up) is discarded:

- Console first frame: launched in a new 120x35 tmux window, captured every 5 ms until
  the frame shows ``job00000`` and the ``next run`` header; at 10,000 and at N jobs,
  against ``bench/bare_app.py`` (a bare Textual app, three rows) measured the same way,
  and the floor: ``bench/floor_app.py``, the bare app after importing the N-job registry
  module, as any console must before showing one of its jobs.
- Every job scheduled, console: from the launch until the status line says ``● running``
  (the app shows it once the service's one start-up event, SCHEDULER_STARTED, is in).
- Every job scheduled, headless: from spawning ``jobconsole run --headless`` until it
  prints the SCHEDULER_STARTED line (``scheduler running in …``); the lines it printed
  until then that are no execution are counted (start-up is quiet: two are expected).
  Then again on the same state file, which holds a row per job by then: a restart.
  Every launch but a restart has an empty cache folder (``XDG_CACHE_HOME``), so it is a
  first-ever start: no next fire kept from an earlier one; a restart finds those its
  first start kept.
- Baseline: bare APScheduler (``bench/_aps_child.py``: an AsyncIOScheduler and its own
  MemoryJobStore) importing the same registry module and adding the same N jobs with its
  own ``CronTrigger``, from spawning it until every ``add_job`` has returned on its
  running scheduler.
- Memory: resident set size (``/proc``) of the console and of the headless runner,
  ``--idle`` seconds after every job is scheduled.

Targets (issue 15): first frame at N <= 2x the bare app and at 10,000 <= 1.5x; every job
scheduled within 3 s of launch, console and headless; RSS under 250 MiB (console) and
200 MiB (headless).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from _common import (
    BENCH,
    JOBCONSOLE,
    PYTHON,
    Summary,
    bench_env,
    capture,
    end_session,
    pane_pid,
    ratio,
    rss_mb,
    start_session,
    table,
    temp_dir,
    time_to_frames,
    tmux_server_down,
    tmux_server_up,
    verdict,
)

FRAME_TARGETS = {10_000: 1.5, "N": 2.0}
SCHEDULED_WITHIN = 3.0
RSS_TARGETS = {"console": 250.0, "headless": 200.0}
STARTED_LINE = "scheduler running in"
FIRST_FRAME = ["job00000", "next run"]
ALL_SCHEDULED = ["● running"]


def registry_env(state: Path, jobs: int) -> dict[str, str]:
    """Each state file's folder has its own cache folder, empty at its first launch: a
    first start is a first-ever one (no next fires kept), a restart finds what it kept."""
    return bench_env(
        state,
        JOBCONSOLE_REGISTRY="bench.registry_10k",
        JOBCONSOLE_BENCH_COUNT=str(jobs),
        XDG_CACHE_HOME=str(state.parent / "cache"),
    )


# ------------------------------------------------------------------ headless


def headless(state: Path, jobs: int, idle: float | None, timeout: float) -> dict[str, float]:
    """Seconds from spawning ``run --headless`` to its SCHEDULER_STARTED line, the other
    lines before it, and (``idle`` seconds later) its RSS."""
    env = registry_env(state, jobs)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [JOBCONSOLE, "run", "--headless"],
        env=env,
        cwd=state.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        chatter = 0
        deadline = start + timeout
        while True:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"run --headless ended before {STARTED_LINE!r}")
            if STARTED_LINE in line:
                scheduled = time.perf_counter() - start
                break
            if not _execution_line(line):
                chatter += 1
            if time.perf_counter() > deadline:
                raise RuntimeError(f"no {STARTED_LINE!r} within {timeout:g}s")
        result = {"scheduled": scheduled, "lines": chatter + 1}
        if idle is not None:
            _drain(proc, idle)
            result["rss"] = rss_mb(proc.pid)
        return result
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def _execution_line(line: str) -> bool:
    words = line.split()
    return len(words) >= 4 and words[3] in (
        "running", "succeeded", "failed", "missed", "skipped", "timed", "cancelled",
        "interrupted",
    )  # fmt: skip


def _drain(proc: subprocess.Popen[str], seconds: float) -> None:
    """Read (and drop) what the runner prints for ``seconds``, so it never blocks on a
    full pipe while it idles."""
    import threading

    assert proc.stdout is not None
    stream = proc.stdout
    threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()
    time.sleep(seconds)


# ------------------------------------------------------------- bare APScheduler


def bare_apscheduler(tmp: Path, jobs: int, timeout: float) -> float:
    env = bench_env(None, JOBCONSOLE_BENCH_COUNT=str(jobs))
    start = time.perf_counter()
    proc = subprocess.Popen(
        [PYTHON, str(BENCH / "_aps_child.py")],
        env=env,
        cwd=tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # its own log: the runs it misses, the jobs cancelled
        text=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    if "ready" not in out:
        raise RuntimeError(f"bare APScheduler child failed (exit {proc.returncode})")
    return time.perf_counter() - start


# ------------------------------------------------------------------ console


def console_rss(state: Path, jobs: int, idle: float, timeout: float) -> float:
    """RSS of the console ``idle`` seconds after its status line says running."""
    env = registry_env(state, jobs)
    name = start_session([JOBCONSOLE], env, state.parent)
    pid = None
    try:
        deadline = time.monotonic() + timeout
        while True:
            if pid is None:
                pid = pane_pid(name)
            screen = capture(name)
            if screen is None:
                raise RuntimeError("the console ended before its status said running")
            if all(marker in screen for marker in ALL_SCHEDULED):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the console was not running within {timeout:g}s")
            time.sleep(0.05)
        time.sleep(idle)
        assert pid is not None
        return rss_mb(pid)
    finally:
        end_session(name, pid)


# ------------------------------------------------------------------ memory


def trace_memory(jobs: int) -> int:
    """Where a headless start's memory goes: tracemalloc's top sites once every job is
    scheduled (in this process, no state file)."""
    import tracemalloc

    os.environ["JOBCONSOLE_BENCH_COUNT"] = str(jobs)
    tracemalloc.start(4)
    from bench.registry_10k import REGISTERED_JOBS
    from jobs.core.records import EventKind
    from jobs.core.service import SchedulerService
    from jobs.core.settings import Settings

    async def main() -> None:
        service = SchedulerService(Settings(), role="run --headless")
        service.load_registry(REGISTERED_JOBS)
        started = asyncio.Event()
        service.subscribe(
            lambda e: started.set() if e.kind is EventKind.SCHEDULER_STARTED else None
        )
        service.start()
        await started.wait()
        snapshot = tracemalloc.take_snapshot()
        total = sum(stat.size for stat in snapshot.statistics("filename"))
        print(f"{total / 2**20:.1f} MiB traced with {jobs:,} jobs scheduled; top sites:")
        for stat in snapshot.statistics("lineno")[:25]:
            frame = stat.traceback[0]
            where = f"{Path(frame.filename).name}:{frame.lineno}"
            print(f"  {stat.size / 2**20:7.2f} MiB  {stat.count:>8,} blocks  {where}")
        task = service.shutdown(timeout=0)
        if task is not None:
            await task

    asyncio.run(main())
    return 0


# ------------------------------------------------------------------ in process


def in_process(jobs: int, state: Path) -> dict[str, float]:
    """CPU seconds (this process's, so less at the mercy of a shared machine than wall
    time) of what ``run --headless`` does: the registry imported and loaded, then
    ``start()`` until SCHEDULER_STARTED, on the state file at ``state``."""
    code = """
import asyncio, gc, json, time
t0 = time.process_time()
gc.disable()  # as run --headless loads (tui/cli.py)
from jobs.core.bootstrap import build_service
from jobs.core.records import EventKind
from jobs.core.settings import Settings
service = build_service(Settings.load(), role="run --headless", at_start=True)
gc.enable()
t1 = time.process_time()
async def main():
    started = asyncio.Event()
    service.subscribe(lambda e: started.set() if e.kind is EventKind.SCHEDULER_STARTED else None)
    service.start()
    await started.wait()
    t2 = time.process_time()
    print(json.dumps({"load": t1 - t0, "start": t2 - t1}))
    await service.shutdown(0)
asyncio.run(main())
"""
    env = registry_env(state, jobs)
    out = subprocess.run(
        [PYTHON, "-c", code], env=env, cwd=state.parent, capture_output=True, text=True
    )
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    import json

    return json.loads(out.stdout.splitlines()[-1])


def run_in_process(jobs: int, runs: int) -> int:
    with temp_dir() as tmp:
        for r in range(runs):
            state = tmp / f"cpu-{r}" / "state.sqlite3"
            state.parent.mkdir()
            for label in ("first start", "restart"):
                got = in_process(jobs, state)
                print(
                    f"  {label:11s}: registry imported and loaded {got['load']:.2f} s CPU, "
                    f"start() until every job is scheduled {got['start']:.2f} s CPU",
                    flush=True,
                )
    return 0


# ------------------------------------------------------------------ main


def run(jobs: int, runs: int, idle: float) -> list[list[str]]:
    timeout = 600.0
    frames: dict[str, list[list[float]]] = {"bare": [], "floor": [], "10k": [], "N": []}
    heads: list[dict[str, float]] = []
    restarts: list[dict[str, float]] = []
    bares: list[float] = []
    tmux_server_up()
    try:
        with temp_dir() as tmp:
            for r in range(runs + 1):  # round 0 warms the caches and is discarded
                tag = " (warm-up)" if not r else ""
                cases = {
                    "bare": ([PYTHON, str(BENCH / "bare_app.py")], [["bare-row-0"]], None),
                    "floor": ([PYTHON, str(BENCH / "floor_app.py")], [["bare-row-0"]], jobs),
                    "10k": ([JOBCONSOLE], [FIRST_FRAME, ALL_SCHEDULED], 10_000),
                    "N": ([JOBCONSOLE], [FIRST_FRAME, ALL_SCHEDULED], jobs),
                }
                for name, (cmd, stages, count) in cases.items():
                    state = tmp / f"{name}-{r}" / "state.sqlite3"
                    state.parent.mkdir()
                    env = registry_env(state, count) if count else bench_env(state)
                    times = time_to_frames(cmd, stages, env, state.parent, timeout=timeout)
                    if r:
                        frames[name].append(times)
                    shown = ", ".join(f"{t:.2f} s" for t in times)
                    print(f"  round {r}{tag} console {name}: {shown}", flush=True)
                state = tmp / f"headless-{r}" / "state.sqlite3"
                state.parent.mkdir()
                head = headless(state, jobs, None, timeout)
                print(f"  round {r}{tag} headless: {head['scheduled']:.2f} s", flush=True)
                again = headless(state, jobs, None, timeout)  # the file holds every job now
                print(f"  round {r}{tag} headless restart: {again['scheduled']:.2f} s", flush=True)
                base = bare_apscheduler(tmp, jobs, timeout)
                print(f"  round {r}{tag} bare APScheduler: {base:.2f} s", flush=True)
                if r:
                    heads.append(head)
                    restarts.append(again)
                    bares.append(base)
            print(f"  memory: {idle:g} s idle after every job is scheduled...", flush=True)
            state = tmp / "rss-console" / "state.sqlite3"
            state.parent.mkdir()
            console_mb = console_rss(state, jobs, idle, timeout)
            state = tmp / "rss-headless" / "state.sqlite3"
            state.parent.mkdir()
            headless_mb = headless(state, jobs, idle, timeout)["rss"]
    finally:
        tmux_server_down()

    bare = Summary.of([t[0] for t in frames["bare"]])
    aps = Summary.of(bares)
    n = f"{jobs:,}"
    rows = [
        ["bare Textual app: first frame (baseline)", bare.spread("s", 1, 2), "", "1.00", "", ""]
    ]
    floor = Summary.of([t[0] for t in frames["floor"]])
    rows.append(
        [
            f"the floor: the bare app after importing the {jobs:,}-job registry",
            floor.spread("s", 1, 2),
            f"{bare.median:.2f} s",
            f"{ratio(floor.median, bare.median):.2f}",
            "",
            "",
        ]
    )
    for name, label, target in (("10k", "10,000", 1.5), ("N", n, 2.0)):
        first = Summary.of([t[0] for t in frames[name]])
        r = ratio(first.median, bare.median)
        rows.append(
            [
                f"console, {label} jobs: first frame",
                first.spread("s", 1, 2),
                f"{bare.median:.2f} s",
                f"{r:.2f}",
                f"<= {target}x",
                verdict(r <= target),
            ]
        )
    rows.append(
        [f"bare APScheduler: {n} jobs added (baseline)", aps.spread("s", 1, 2), "", "1.00", "", ""]
    )
    scheduled = {
        "console": Summary.of([t[1] for t in frames["N"]]),
        "headless": Summary.of([h["scheduled"] for h in heads]),
        "headless restarted (its state file holds every job)": Summary.of(
            [h["scheduled"] for h in restarts]
        ),
    }
    for name, summary in scheduled.items():
        rows.append(
            [
                f"{name}, {n} jobs: every job scheduled",
                summary.spread("s", 1, 2),
                f"{aps.median:.2f} s",
                f"{ratio(summary.median, aps.median):.2f}",
                f"<= {SCHEDULED_WITHIN:g} s",
                verdict(summary.median <= SCHEDULED_WITHIN),
            ]
        )
    lines = max(h["lines"] for h in heads)
    rows.append(
        [
            f"headless, {n} jobs: lines printed until then",
            f"{lines:.0f} (besides executions)",
            "",
            "",
            "2 (running, scheduled)",
            verdict(lines <= 2),
        ]
    )
    for name, mb in (("console", console_mb), ("headless", headless_mb)):
        rows.append(
            [
                f"{name}, {n} jobs: RSS after {idle:g} s idle",
                f"{mb:.0f} MiB",
                "",
                "",
                f"< {RSS_TARGETS[name]:.0f} MiB",
                verdict(mb < RSS_TARGETS[name]),
            ]
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs in the registry")
    parser.add_argument("--runs", type=int, default=None, help="measured rounds (3)")
    parser.add_argument("--idle", type=float, default=None, help="seconds before RSS (30)")
    parser.add_argument("--quick", action="store_true", help="one round, 10 s idle")
    parser.add_argument("--trace-memory", action="store_true", help="tracemalloc (in-process)")
    parser.add_argument(
        "--cpu", action="store_true", help="CPU time of a start and a restart, in process"
    )
    args = parser.parse_args()
    if args.trace_memory:
        return trace_memory(args.jobs)
    runs = args.runs or (1 if args.quick else 3)
    if args.cpu:
        print(f"CPU time of a headless start at {args.jobs:,} jobs, in process:")
        return run_in_process(args.jobs, runs)
    idle = args.idle if args.idle is not None else (10.0 if args.quick else 30.0)
    print(f"start-up at {args.jobs:,} jobs: {runs} round(s) (+1 warm-up), tmux 120x35:")
    rows = run(args.jobs, runs, idle)
    print()
    print(table(rows, ["figure", "median (min, max)", "baseline", "ratio", "target", "met?"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
