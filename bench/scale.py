"""Benchmark 3, scale and steadiness: 10,000 jobs, 100 executions a second, the console open.

Run as ``python bench/scale.py`` (``--seconds N`` of load, default 60; ``--minutes 10``
for the memory soak; ``--idle N`` seconds of idle CPU, default 30; ``--quick``).

The real ``jobconsole`` command runs in a 120x35 tmux window (a real terminal, so frames
are encoded and written as for a user) with ``JOBCONSOLE_REGISTRY=bench.registry_10k``
and ``JOBCONSOLE_BENCH_FAR=1`` (10,000 jobs whose next run is on 29 February, so nothing
fires by itself), with a measuring task inside its event loop:

1. Idle: process CPU time (all threads, /proc) over ``--idle`` seconds / wall time.
2. Load: ``run_job_now`` on the next of the 10,000 jobs every 10 ms (100 executions a
   second, half async, half plain def in threads; durable state on). Meanwhile:
   - key presses are sent to the window with ``tmux send-keys`` (cursor down/up, and
     ``/`` then typing and deleting in the filter). Latency = from the moment Textual's
     input thread parsed the key (hooked in the driver) to the end of the first
     ``App._display`` (frame encoded and handed to the terminal writer) whose screen
     shows its effect (the job table's cursor moved or its filter applied);
   - resident memory (RSS) and CPU are sampled every second;
   - the one-second tick (countdowns) is timed.

Baseline for key latency: the bare Textual app (``bench/bare_app.py``, a three-row
DataTable) in the same kind of window, cursor keys measured the same way.
Targets: key p99 <= 50 ms; idle CPU < 5% of one core; RSS < 250 MB and flat within 10%
(max over the load vs. RSS after its first 10 s).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from _common import (
    BENCH,
    PYTHON,
    TMUX,
    Summary,
    bench_env,
    cpu_seconds,
    percentile,
    ratio,
    rss_mb,
    run_in_tmux,
    table,
    temp_dir,
    tmux_server_down,
    tmux_server_up,
    verdict,
)

CURSOR_KEYS = ["Down", "Up"] * 5
#: Typed into the filter, then deleted: each changes the filter text (Escape and "/" only
#: open and close the bar, and are not measured).
FILTER_KEYS = ["/", "1", "2", "3", "BSpace", "BSpace", "BSpace", "Escape"]
UNMEASURED = {"/", "Escape"}
KEY_GAP = 0.15  # seconds between key presses, plus up to 50 ms of jitter


# ------------------------------------------------------------ in the child


class KeyProbe:
    """Times key presses from the driver's input thread to the frame that shows them.

    ``changed()`` must be called (from hooks) whenever a key's effect lands in the
    widget state; the next ``App._display`` after it ends the measurement.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending = False
        self.arrival: float | None = None
        self.changes = 0
        self.changes_at_send = 0
        self.done = threading.Event()
        self.latency: float | None = None

    def install(self, change_hooks: list[tuple[type, str]]) -> None:
        from textual.app import App
        from textual.drivers.linux_driver import LinuxDriver

        probe = self
        original_process = LinuxDriver.process_message

        def process_message(driver: Any, message: Any) -> None:
            from textual import events

            if isinstance(message, events.Key):
                with probe.lock:
                    if probe.pending and probe.arrival is None:
                        probe.arrival = time.perf_counter()
            original_process(driver, message)

        LinuxDriver.process_message = process_message  # type: ignore[method-assign]

        original_display = App._display

        def display(app: Any, screen: Any, renderable: Any) -> None:
            original_display(app, screen, renderable)
            if renderable is None:
                return
            with probe.lock:
                if (
                    probe.pending
                    and probe.arrival is not None
                    and probe.changes > probe.changes_at_send
                ):
                    probe.latency = time.perf_counter() - probe.arrival
                    probe.pending = False
                    probe.done.set()

        App._display = display  # type: ignore[method-assign]

        for cls, name in change_hooks:
            original = getattr(cls, name)

            def hooked(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
                result = __original(*args, **kwargs)
                with probe.lock:
                    probe.changes += 1
                return result

            setattr(cls, name, hooked)

    def press(self, key: str, measured: bool, timeout: float = 3.0) -> float | None:
        """Send ``key`` to our own tmux pane; return its latency in seconds if measured."""
        with self.lock:
            self.pending = measured
            self.arrival = None
            self.latency = None
            self.changes_at_send = self.changes
            self.done.clear()
        pane = os.environ["TMUX_PANE"]
        subprocess.run([*TMUX, "send-keys", "-t", pane, key], check=True, capture_output=True)
        if not measured:
            time.sleep(0.1)
            return None
        if not self.done.wait(timeout):
            with self.lock:
                self.pending = False
            return float("inf")  # never drawn within the timeout: counts as a miss
        return self.latency


def key_schedule(seconds: float, with_filter: bool) -> list[tuple[str, str]]:
    """(key, kind) pairs filling ``seconds``: cursor moves, then a filter round."""
    keys: list[tuple[str, str]] = []
    per_round = len(CURSOR_KEYS) + (len(FILTER_KEYS) if with_filter else 0)
    rounds = max(1, int(seconds / ((KEY_GAP + 0.05) * per_round)))
    for _ in range(rounds):
        keys += [(k, "cursor") for k in CURSOR_KEYS]
        if with_filter:
            keys += [(k, "none" if k in UNMEASURED else "filter") for k in FILTER_KEYS]
    return keys


def send_keys(probe: KeyProbe, keys: list[tuple[str, str]], stop: threading.Event) -> dict:
    rng = random.Random(3)
    out: dict[str, list[float]] = {"cursor": [], "filter": []}
    for key, kind in keys:
        if stop.is_set():
            break
        latency = probe.press(key, measured=kind != "none")
        if latency is not None:
            out[kind].append(latency)
        time.sleep(KEY_GAP + rng.random() * 0.05)
    return out


def console_child(out: Path, idle: float, load: float, trace_memory: bool = False) -> int:
    import _console_child

    from tui.widgets.job_table import JobTable

    probe = KeyProbe()
    probe.install([(JobTable, "_move_cursor"), (JobTable, "_refilter")])
    tick_costs: list[float] = []
    tick_times: list[float] = []

    async def task(app: Any) -> dict[str, Any]:
        from jobs.core.records import EventKind

        original_tick = app._tick

        async def timed_tick() -> None:
            start = time.perf_counter()
            await original_tick()
            tick_times.append(start)
            tick_costs.append(time.perf_counter() - start)

        app._tick = timed_tick  # the interval timer looks the method up on each tick
        service = app.client.service
        result: dict[str, Any] = {"jobs": len(service.get_jobs())}
        await asyncio.sleep(5)  # start-up settles (first frames, gc)

        cpu0, wall0 = cpu_seconds(), time.perf_counter()
        await asyncio.sleep(idle)
        result["idle_cpu"] = (cpu_seconds() - cpu0) / (time.perf_counter() - wall0)
        result["idle_rss"] = rss_mb()
        result["ticks_idle"] = len(tick_times)

        ended = 0

        def count(event: Any) -> None:
            nonlocal ended
            if event.kind is EventKind.EXECUTION_SUCCEEDED:
                ended += 1

        unsubscribe = service.subscribe(count)
        job_ids = [job.job_id for job in service.get_jobs()]
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        async def drive() -> int:
            fired, start = 0, loop.time()
            while not stop.is_set():
                delay = start + fired * 0.01 - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                service.run_job_now(job_ids[fired % len(job_ids)])
                fired += 1
            return fired

        samples: list[tuple[float, float, float]] = []
        stop_keys = threading.Event()

        def sample() -> None:
            t0 = time.perf_counter()
            while not stop_keys.is_set():
                samples.append((time.perf_counter() - t0, rss_mb(), cpu_seconds()))
                stop_keys.wait(1.0)

        tick_times.clear()
        tick_costs.clear()
        if trace_memory:
            import gc
            import tracemalloc

            tracemalloc.start(8)
            gc.collect()
            before = tracemalloc.take_snapshot()
        load_start = time.perf_counter()
        driver = loop.create_task(drive())
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        keys = await asyncio.to_thread(
            send_keys, probe, key_schedule(min(load - 5, 90.0), with_filter=True), stop_keys
        )
        while time.perf_counter() - load_start < load:
            await asyncio.sleep(0.2)
        stop.set()
        fired = await driver
        stop_keys.set()
        sampler.join()
        unsubscribe()
        if trace_memory:
            gc.collect()
            growth = tracemalloc.take_snapshot().compare_to(before, "traceback")
            result["memory_growth"] = [
                [stat.size_diff, stat.count_diff, stat.traceback.format()[-12:]]
                for stat in growth[:12]
            ]
        result.update(
            keys=keys,
            samples=samples,
            fired=fired,
            ended=ended,
            ticks=tick_times,
            tick_costs=tick_costs,
            load_seconds=samples[-1][0] if samples else 0,
        )
        return result

    return _console_child.run(task, out)


def bare_child(out: Path, seconds: float) -> int:
    import _console_child
    from bare_app import BareApp
    from textual.widgets import DataTable

    probe = KeyProbe()
    probe.install([(DataTable, "watch_cursor_coordinate")])

    class Bare(BareApp):
        CSS_PATH = None

        def on_mount(self) -> None:
            super().on_mount()
            self.run_worker(self._bench(), exclusive=False)

        async def _bench(self) -> None:
            await asyncio.sleep(2)
            keys = await asyncio.to_thread(
                send_keys, probe, key_schedule(seconds, with_filter=False), threading.Event()
            )
            _console_child.write(out, {"keys": keys})
            self.exit()

    Bare().run()
    return 0


# ----------------------------------------------------------------- parent


def run_child(args: list[str], env: dict[str, str], tmp: Path, out: Path, timeout: float) -> dict:
    cmd = [PYTHON, str(Path(__file__).resolve()), *args, "--out", str(out)]
    run_in_tmux(cmd, env, tmp, out, timeout)
    result = json.loads(out.read_text())
    if "error" in result:
        raise RuntimeError(f"child failed:\n{result['error']}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=None, help="load phase (60)")
    parser.add_argument("--minutes", type=float, default=None, help="load phase in minutes")
    parser.add_argument("--idle", type=float, default=None, help="idle phase (30)")
    parser.add_argument("--quick", action="store_true", help="idle 10 s, load 30 s")
    parser.add_argument(
        "--trace-memory", action="store_true", help="tracemalloc: where memory grows (slow)"
    )
    parser.add_argument("--child", choices=["console", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    load = args.seconds or (args.minutes * 60 if args.minutes else (30 if args.quick else 60))
    idle = args.idle or (10 if args.quick else 30)
    if args.child == "console":
        return console_child(args.out, idle, load, args.trace_memory)
    if args.child == "bare":
        return bare_child(args.out, min(30, load))

    tmux_server_up()
    try:
        with temp_dir() as tmp:
            print("bare app: cursor keys...")
            bare = run_child(["--child", "bare"], bench_env(), tmp, tmp / "bare.json", 180)
            print(f"console with 10,000 jobs: idle {idle:g} s, then {load:g} s at 100/s...")
            env = bench_env(
                tmp / "state.sqlite3",
                JOBCONSOLE_REGISTRY="bench.registry_10k",
                JOBCONSOLE_BENCH_FAR="1",
            )
            console = run_child(
                ["--child", "console", "--idle", str(idle), "--seconds", str(load)]
                + (["--trace-memory"] if args.trace_memory else []),
                env,
                tmp,
                tmp / "console.json",
                timeout=idle + load + 240,
            )
    finally:
        tmux_server_down()
    report(bare, console, idle, load)
    for size, count, trace in console.get("memory_growth", []):
        print(f"\n{size / 1024:+.0f} KiB in {count:+} blocks, allocated at:")
        print("\n".join(trace))
    return 0


def report(bare: dict, console: dict, idle: float, load: float) -> None:
    bare_keys = Summary.of(bare["keys"]["cursor"])
    rows = [
        [
            "key -> frame, bare app, cursor (baseline)",
            f"p50 {bare_keys.median * 1000:.1f} / p99 {bare_keys.p99 * 1000:.1f} ms "
            f"(n={bare_keys.n})",
            "",
            "1.00",
            "",
            "",
        ]
    ]
    for kind, label in (("cursor", "cursor down/up"), ("filter", "filter keystroke")):
        s = Summary.of(console["keys"][kind])
        rows.append(
            [
                f"key -> frame, 10k jobs at 100 exec/s, {label}",
                f"p50 {s.median * 1000:.1f} / p99 {s.p99 * 1000:.1f} / "
                f"max {s.high * 1000:.1f} ms (n={s.n})",
                f"p99 {bare_keys.p99 * 1000:.1f} ms",
                f"{ratio(s.p99, bare_keys.p99):.2f} (p99)",
                "p99 <= 50 ms",
                verdict(s.p99 <= 0.050),
            ]
        )
    idle_pct = console["idle_cpu"] * 100
    rows.append(
        [
            f"CPU idle, 10k jobs, nothing firing ({idle:g} s)",
            f"{idle_pct:.2f}% of one core",
            "",
            "",
            "< 5%",
            verdict(idle_pct < 5),
        ]
    )
    samples = console["samples"]
    rss = [s[1] for s in samples]
    base = next((s[1] for s in samples if s[0] >= 10), rss[0])
    peak = max(rss)
    growth = (peak - base) / base * 100
    cpu_load = (samples[-1][2] - samples[0][2]) / (samples[-1][0] - samples[0][0]) * 100
    rows.append(
        [
            f"RSS under 100 exec/s ({console['load_seconds']:.0f} s)",
            f"{base:.0f} MB at 10 s, {rss[-1]:.0f} MB at end, max {peak:.0f} MB "
            f"(idle before: {console['idle_rss']:.0f} MB)",
            f"{base:.0f} MB",
            f"{peak / base:.2f} (max)",
            "< 250 MB, flat within 10%",
            verdict(peak < 250 and growth <= 10),
        ]
    )
    half = next((s for s in samples if s[0] >= samples[-1][0] / 2), samples[0])
    rows.append(
        [
            "  RSS over the second half of the load (info)",
            f"{half[1]:.0f} MB at {half[0]:.0f} s -> {rss[-1]:.0f} MB at {samples[-1][0]:.0f} s "
            f"({(rss[-1] - half[1]) / half[1] * 100:+.1f}%)",
            "",
            "",
            "(info)",
            "",
        ]
    )
    rate = console["fired"] / max(1e-9, console["load_seconds"])
    rows.append(
        [
            "  load achieved (info)",
            f"{console['fired']} run_job_now ({rate:.0f}/s), {console['ended']} succeeded; "
            f"CPU {cpu_load:.0f}% of one core",
            "",
            "",
            "(info)",
            "",
        ]
    )
    ticks = console["ticks"]
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    costs = console["tick_costs"]
    if gaps:
        rows.append(
            [
                "  one-second tick under load (info)",
                f"{len(ticks)} ticks, gap median {statistics.median(gaps):.3f} s, "
                f"max {max(gaps):.3f} s; cost p50 {percentile(costs, 50) * 1000:.1f} ms, "
                f"p99 {percentile(costs, 99) * 1000:.1f} ms",
                "",
                "",
                "(info)",
                "",
            ]
        )
    print()
    print(table(rows, ["case", "figure", "baseline", "ratio", "target", "met?"]))
    if len(rss) > 20:
        step = max(1, len(rss) // 10)
        trace = ", ".join(f"{samples[i][0]:.0f}s {rss[i]:.0f}" for i in range(0, len(rss), step))
        print(f"\nRSS trace (MB): {trace}")


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    sys.exit(main())
