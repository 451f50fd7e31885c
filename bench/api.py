"""Benchmark 7, the control API: ``GET /jobs`` at 10,000 jobs against a real headless host.

Run as ``python bench/api.py`` (``--runs N``, ``--quick``, ``--busy``).

A ``jobconsole run --headless`` on a temporary state file with ``bench.registry_10k`` (all
on 29 February unless ``--busy``, so the host is idle but for the requests) serves the
control API; once ``/status`` counts every job, three clients ask for the jobs ``--runs``
times each, after a warm-up:

- ``aiohttp``: the request until the whole body is read (what ``curl`` waits for);
- ``decoded``: ``RemoteClient.get_jobs()``, the body read and rebuilt as 10,000
  ``JobSnapshot`` values (what an attached console waits for);
- ``curl``: ``curl -s --unix-socket S http://jobconsole/jobs`` as a process, start to exit.

Target: under 100 ms (median and p95 reported). ``--busy`` uses the real expressions and
adds 100 runs/s (``POST /jobs/ID/run`` over the first 1,000 jobs) while measuring, as the
issue's other figures are taken; it first reports how long each execution event took, for 10 s
before the requests begin, from the host's ``SchedulerEvent.at`` to a ``RemoteClient``
subscriber in another process (p50, p99).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import JOBCONSOLE, Summary, bench_env, percentile, table, temp_dir, verdict

TARGET_MS = 100.0


async def wait_for_host(socket_path: Path, jobs: int, timeout: float = 120.0) -> dict:
    import aiohttp

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if socket_path.exists():
            try:
                async with aiohttp.ClientSession(
                    connector=aiohttp.UnixConnector(path=str(socket_path))
                ) as session:
                    async with session.get("http://jobconsole/status") as response:
                        status = await response.json()
                    if status["job_count"] >= jobs and status["running"]:
                        # Every job handed to APScheduler (start-up's chunks are over).
                        async with session.get("http://jobconsole/jobs") as response:
                            body = await response.json()
                        if all(job["next_run_time"] for job in body):
                            return status
            except (aiohttp.ClientError, OSError):
                pass
        await asyncio.sleep(0.2)
    raise SystemExit(f"no host with {jobs} jobs on {socket_path} within {timeout:.0f}s")


async def measure(socket_path: Path, runs: int, busy: bool) -> dict[str, list[float]]:
    import aiohttp

    from jobs.core.control.remote import RemoteClient
    from jobs.core.records import SchedulerEvent

    samples: dict[str, list[float]] = {"aiohttp": [], "decoded": [], "curl": []}
    session = aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(socket_path)))
    remote = RemoteClient(socket_path)
    await remote.start()
    latency: list[float] = []

    def hear(event: SchedulerEvent) -> None:
        if event.execution is not None:
            latency.append(time.time() - event.at.timestamp())

    load = None
    if busy:  # the events alone first: a GET /jobs holds both loops for tens of ms
        load = asyncio.create_task(run_load(socket_path))
        await asyncio.sleep(1)
        unsubscribe = remote.subscribe(hear)
        await asyncio.sleep(10)
        unsubscribe()
    sizes = set()
    try:
        for n in range(runs + 3):  # the first three warm up
            started = time.perf_counter()
            async with session.get("http://jobconsole/jobs") as response:
                body = await response.read()
            took = time.perf_counter() - started
            sizes.add(len(body))
            if n >= 3:
                samples["aiohttp"].append(took)
            started = time.perf_counter()
            jobs = await remote.get_jobs()
            took = time.perf_counter() - started
            assert len(jobs) == 10_000, len(jobs)
            if n >= 3:
                samples["decoded"].append(took)
            started = time.perf_counter()
            proc = await asyncio.create_subprocess_exec(
                "curl", "-s", "-o", "/dev/null", "--unix-socket", str(socket_path),
                "http://jobconsole/jobs",
            )  # fmt: skip
            await proc.wait()
            took = time.perf_counter() - started
            if n >= 3:
                samples["curl"].append(took)
    finally:
        if load is not None:
            load.cancel()
        await remote.stop()
        await session.close()
    print(f"body: {max(sizes) / 1e6:.1f} MB of JSON")
    if latency:
        samples["event"] = latency
    return samples


async def run_load(socket_path: Path, per_second: int = 100) -> None:
    """100 runs/s of the first 1,000 jobs through the API, as the console's `n` sends them."""
    import aiohttp

    async with aiohttp.ClientSession(
        connector=aiohttp.UnixConnector(path=str(socket_path))
    ) as session:
        n = 0
        started = time.perf_counter()
        while True:
            job = f"job{n % 1000:05d}"
            async with session.post(f"http://jobconsole/jobs/{job}/run") as response:
                await response.read()
            n += 1
            delay = started + n / per_second - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="10 runs")
    parser.add_argument("--busy", action="store_true", help="100 runs/s while measuring")
    args = parser.parse_args()
    runs = 10 if args.quick else args.runs
    if shutil.which("curl") is None:
        raise SystemExit("bench/api.py needs curl")
    runtime = Path(tempfile.mkdtemp(prefix="jc-bench-", dir="/tmp"))  # short: a socket name
    with temp_dir() as folder:
        state = folder / "state.sqlite3"
        env = bench_env(
            state,
            JOBCONSOLE_REGISTRY="bench.registry_10k",
            JOBCONSOLE_TIMEZONE="UTC",
            JOBCONSOLE_BENCH_FAR="" if args.busy else "1",
            XDG_RUNTIME_DIR=str(runtime),
        )
        host = subprocess.Popen(
            [JOBCONSOLE, "run", "--headless"],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            os.environ["XDG_RUNTIME_DIR"] = str(runtime)
            from jobs.core.control.paths import socket_path

            sock = socket_path(state)
            status = asyncio.run(wait_for_host(sock, 10_000))
            print(f"host: pid {status['host_pid']}, {status['job_count']} jobs, {sock}")
            samples = asyncio.run(measure(sock, runs, args.busy))
        finally:
            host.send_signal(signal.SIGTERM)
            try:
                host.wait(30)
            except subprocess.TimeoutExpired:
                host.kill()
                host.wait()
            shutil.rmtree(runtime, ignore_errors=True)
    events = samples.pop("event", [])
    rows = []
    for name, values in samples.items():
        summary = Summary.of(values)
        p95 = percentile(values, 95)
        rows.append(
            [
                name,
                f"{summary.median * 1000:.1f} ms",
                f"{p95 * 1000:.1f} ms",
                f"{summary.high * 1000:.1f} ms",
                str(summary.n),
                verdict(summary.median * 1000 < TARGET_MS and p95 * 1000 < TARGET_MS),
            ]
        )
    load = "at 100 runs/s" if args.busy else "idle"
    print(f"\nGET /jobs, 10,000 jobs, host {load} (target < {TARGET_MS:.0f} ms)")
    print(table(rows, ["client", "median", "p95", "max", "n", "target"]))
    if events:
        summary = Summary.of(events)
        print(
            f"\nevent in the host to a RemoteClient subscriber: p50 {summary.median * 1000:.1f}"
            f" ms, p99 {summary.p99 * 1000:.1f} ms, max {summary.high * 1000:.1f} ms"
            f" (n={summary.n})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
