"""Benchmark 8, the attached console: how late it shows the host's events, how soon it draws.

Run as ``python bench/attach.py`` (``--seconds N`` of load, default 30; ``--runs N`` first
frames per case, default 5; ``--quick``; ``--events-only`` or ``--startup-only``).

Both halves use a real ``jobconsole run --headless`` host with 10,000 jobs
(``bench.registry_10k``, ``JOBCONSOLE_BENCH_FAR=1``: nothing fires by itself) and the real
``jobconsole`` command in a 120x35 tmux window, which attaches to it.

1. Event in the host -> frame in the attached console, at 100 executions a second: this
   process asks the host through its control API (its own ``RemoteClient``, as
   ``jobconsole run JOB`` would) to run the next of the 10,000 jobs every 10 ms. In the
   console a probe notes each succeeded execution as it reaches the log pane
   (``ExecutionLog.add``); the end of the next ``App._display`` (frame encoded and handed
   to the terminal's writer) is when it is on screen. Latency = that moment minus the
   execution's ``ended_at``, which the host stamped as it recorded the end, just before it
   announced it (one machine, one wall clock). Target: p99 under 100 ms.
2. First frame: from launching ``jobconsole`` to the first captured frame that shows the
   job table (``job00000`` and the ``next run`` header), attached to the idle host,
   against a console that hosts the same 10,000 jobs itself (a fresh state file each
   launch), interleaved, as ``bench/startup.py`` measures it. Target: at most 1.2x.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from _common import (
    JOBCONSOLE,
    PYTHON,
    Summary,
    bench_env,
    cpu_seconds,
    ratio,
    run_in_tmux,
    table,
    temp_dir,
    time_to_frames,
    tmux_server_down,
    tmux_server_up,
    verdict,
)

JOBS = 10_000
RATE = 100  # executions a second
EVENT_TARGET = 0.100
STARTUP_TARGET = 1.2
FIRST_FRAME = ["job00000", "next run"]


# ------------------------------------------------------------ in the child


def console_child(out: Path, ready: Path, stop: Path) -> int:
    """The real ``jobconsole`` (attaching), with a probe from the log pane to the frame."""
    import _console_child
    from textual.app import App

    from jobs.core.records import Execution, ExecutionStatus
    from tui.widgets.execution_log import ExecutionLog

    lock = threading.Lock()
    pending: list[float] = []  # ended_at of executions added since the last frame
    latencies: list[float] = []
    added = ExecutionLog.add

    def add(log: Any, entry: Any) -> None:
        added(log, entry)
        succeeded = isinstance(entry, Execution) and entry.status is ExecutionStatus.SUCCEEDED
        if succeeded and entry.ended_at is not None:
            with lock:
                pending.append(entry.ended_at.timestamp())

    ExecutionLog.add = add  # type: ignore[method-assign]
    display = App._display

    def displayed(app: Any, screen: Any, renderable: Any) -> None:
        display(app, screen, renderable)
        if renderable is None:
            return
        now = time.time()
        with lock:
            latencies.extend(now - at for at in pending)
            pending.clear()

    App._display = displayed  # type: ignore[method-assign]

    async def task(app: Any) -> dict[str, Any]:
        status = app.client.status()
        result: dict[str, Any] = {
            "attached": status.attached,
            "host_pid": status.host_pid,
            "jobs": app.query_one("#jobs").job_count,
        }
        await asyncio.sleep(3)  # start-up settles
        with lock:
            latencies.clear()
        cpu0, wall0 = cpu_seconds(), time.perf_counter()
        ready.write_text("go")
        while not stop.exists():
            await asyncio.sleep(0.1)
        result["cpu"] = (cpu_seconds() - cpu0) / (time.perf_counter() - wall0)
        with lock:
            result["latencies"] = list(latencies)
        return result

    return _console_child.run(task, out)


# ----------------------------------------------------------------- parent


def start_host(state: Path) -> subprocess.Popen[str]:
    """``jobconsole run --headless`` with the 10,000 jobs, once it says it runs."""
    env = bench_env(state, JOBCONSOLE_REGISTRY="bench.registry_10k", JOBCONSOLE_BENCH_FAR="1")
    host = subprocess.Popen(
        [JOBCONSOLE, "run", "--headless"],
        cwd=state.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert host.stdout is not None
    deadline = time.monotonic() + 120
    for line in host.stdout:
        if line.startswith("jobconsole: running"):
            break
        if time.monotonic() > deadline:
            break
    else:
        raise RuntimeError("the host ended before it ran")
    # Its lines (one per execution) must be read, or a full pipe would stall it.
    threading.Thread(target=lambda: [None for _ in host.stdout], daemon=True).start()  # type: ignore[union-attr]
    return host


def stop_host(host: subprocess.Popen[str]) -> None:
    host.terminate()
    try:
        host.wait(30)
    except subprocess.TimeoutExpired:
        host.kill()
        host.wait()


async def drive(state: Path, ready: Path, stop: Path, seconds: float) -> dict[str, Any]:
    """Run the jobs through the host's API, ``RATE`` a second, once the console is ready."""
    from jobs.core.control.paths import socket_path
    from jobs.core.control.remote import RemoteClient

    while not ready.exists():
        await asyncio.sleep(0.05)
    client = RemoteClient(socket_path(state))
    await client.start()
    loop = asyncio.get_running_loop()
    fired, start = 0, loop.time()
    calls: set[asyncio.Task[Any]] = set()
    try:
        while loop.time() - start < seconds:
            delay = start + fired / RATE - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            call = loop.create_task(client.run_job_now(f"job{fired % JOBS:05d}"))
            calls.add(call)
            call.add_done_callback(calls.discard)
            fired += 1
        if calls:
            await asyncio.wait(calls, timeout=10)
        elapsed = loop.time() - start
        await asyncio.sleep(1)  # the last events reach the console
    finally:
        stop.write_text("stop")
        await client.stop()
    return {"fired": fired, "seconds": elapsed}


def bench_events(seconds: float) -> list[list[str]]:
    with temp_dir() as tmp:
        state = tmp / "state.sqlite3"
        host = start_host(state)
        try:
            out, ready, stop = tmp / "console.json", tmp / "ready", tmp / "stop"
            load: dict[str, Any] = {}

            def driver() -> None:
                load.update(asyncio.run(drive(state, ready, stop, seconds)))

            thread = threading.Thread(target=driver, daemon=True)
            thread.start()
            host_cpu0 = cpu_seconds(host.pid)
            cmd = [PYTHON, str(Path(__file__).resolve()), "--child", "console"]
            cmd += ["--out", str(out), "--ready", str(ready), "--stop", str(stop)]
            env = bench_env(state, JOBCONSOLE_REGISTRY="bench.registry_10k")
            run_in_tmux(cmd, env, tmp, out, timeout=seconds + 180)
            thread.join(30)
            host_cpu = (cpu_seconds(host.pid) - host_cpu0) / max(1e-9, load.get("seconds", 1))
        finally:
            stop_host(host)
        result = json.loads(out.read_text())
    if "error" in result:
        raise RuntimeError(f"child failed:\n{result['error']}")
    if not result["attached"]:
        raise RuntimeError("the console did not attach: it hosted the jobs itself")
    lat = Summary.of(result["latencies"])
    rate = load["fired"] / load["seconds"]
    return [
        [
            f"event in host -> frame in attached console, {result['jobs']:,} jobs at {RATE}/s",
            f"p50 {lat.median * 1000:.1f} / p99 {lat.p99 * 1000:.1f} / "
            f"max {lat.high * 1000:.1f} ms (n={lat.n})",
            f"< {EVENT_TARGET * 1000:.0f} ms (p99)",
            verdict(lat.p99 < EVENT_TARGET),
        ],
        [
            "  load achieved (info)",
            f"{load['fired']} run requests over the API ({rate:.0f}/s); CPU: host "
            f"{host_cpu * 100:.0f}%, attached console {result['cpu'] * 100:.0f}% of one core",
            "(info)",
            "",
        ],
    ]


def bench_startup(runs: int) -> list[list[str]]:
    hosting: list[float] = []
    attached: list[float] = []
    with temp_dir() as tmp:
        host_state = tmp / "host" / "state.sqlite3"
        host_state.parent.mkdir()
        host = start_host(host_state)
        try:
            attach_env = bench_env(host_state, JOBCONSOLE_REGISTRY="bench.registry_10k")
            for run in range(runs + 1):  # run 0 warms the caches and is discarded
                state = tmp / f"hosting-{run}" / "state.sqlite3"
                state.parent.mkdir()
                env = bench_env(
                    state, JOBCONSOLE_REGISTRY="bench.registry_10k", JOBCONSOLE_BENCH_FAR="1"
                )
                own = time_to_frames([JOBCONSOLE], [FIRST_FRAME], env, state.parent, 120)[0]
                other = time_to_frames(
                    [JOBCONSOLE], [FIRST_FRAME, ["attached to pid"]], attach_env, tmp, 120
                )[0]
                if run:
                    hosting.append(own)
                    attached.append(other)
                warm = " (warm-up)" if not run else ""
                print(
                    f"  run {run}{warm}: hosting {own * 1000:.0f} ms, "
                    f"attached {other * 1000:.0f} ms"
                )
        finally:
            stop_host(host)
    own_s, other_s = Summary.of(hosting), Summary.of(attached)
    r = ratio(other_s.median, own_s.median)
    return [
        ["first frame, hosting console, 10k jobs (baseline)", own_s.spread(), "", ""],
        [
            "first frame, attached console, 10k jobs",
            f"{other_s.spread()}; {r:.2f}x the hosting one",
            f"<= {STARTUP_TARGET}x",
            verdict(r <= STARTUP_TARGET),
        ],
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=None, help="load phase (30)")
    parser.add_argument("--runs", type=int, default=None, help="first frames per case (5)")
    parser.add_argument("--quick", action="store_true", help="15 s of load, 3 runs")
    parser.add_argument("--events-only", action="store_true")
    parser.add_argument("--startup-only", action="store_true")
    parser.add_argument("--child", choices=["console"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--ready", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--stop", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "console":
        return console_child(args.out, args.ready, args.stop)
    seconds = args.seconds or (15 if args.quick else 30)
    runs = args.runs or (3 if args.quick else 5)
    rows: list[list[str]] = []
    tmux_server_up()
    try:
        if not args.startup_only:
            print(f"attached console, {seconds:g} s at {RATE} executions/s through the API...")
            rows += bench_events(seconds)
        if not args.events_only:
            print(f"first frames, {runs} runs each (+1 warm-up), tmux 120x35:")
            rows += bench_startup(runs)
    finally:
        with contextlib.suppress(Exception):
            tmux_server_down()
    print()
    print(table(rows, ["case", "figure", "target", "met?"]))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
