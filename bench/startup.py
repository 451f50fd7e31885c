"""Benchmark 1, start-up: the console's first frame, and the commands that do not draw.

Run as ``python bench/startup.py`` (``--runs N``, ``--quick``; ``--console-only`` or
``--cli-only`` for one half).

Console: each command is launched in a new 120x35 tmux window; the pane is captured every
5 ms until the frame shows the job table with a known job id. The baseline is a bare
Textual app with a three-row DataTable (``bench/bare_app.py``), measured the same way in
the same run, interleaved. Each launch gets a fresh state file in a temporary folder.
The 10,000-job registry is ``bench/registry_10k.py``. After the first frame it also waits
for the status line to say "running" (every job is with APScheduler: past the first 250
they are handed over a chunk per loop iteration after the first frame), reported for
information.

Commands that do not draw: wall time of ``jobconsole cron "0 9 * * 1-5"``, ``list`` and
``history`` (on a state file with 200 executions), against
``python -c "import apscheduler"``, interleaved; and a check (``-X importtime``) that
none of them imports Textual.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import (
    BENCH,
    JOBCONSOLE,
    PYTHON,
    Summary,
    bench_env,
    ratio,
    table,
    temp_dir,
    time_to_frames,
    tmux_server_down,
    tmux_server_up,
    verdict,
    wall,
)

CONSOLE_TARGETS = {"example": 1.3, "10k": 2.0}
CLI_TARGET = 1.5


def console_cases(tmp: Path) -> dict[str, tuple[list[str], list[list[str]], dict[str, str]]]:
    """name -> (command, stages of markers, extra environment)."""
    return {
        "bare": ([PYTHON, str(BENCH / "bare_app.py")], [["bare-row-0"]], {}),
        "example": ([JOBCONSOLE], [["heartbeat", "next run"], ["● running"]], {}),
        "10k": (
            [JOBCONSOLE],
            [["job00000", "next run"], ["● running"]],
            {"JOBCONSOLE_REGISTRY": "bench.registry_10k"},
        ),
    }


def bench_console(runs: int) -> list[list[str]]:
    tmux_server_up()
    results: dict[str, list[list[float]]] = {}
    try:
        with temp_dir() as tmp:
            cases = console_cases(tmp)
            for run in range(runs + 1):  # run 0 warms the caches and is discarded
                for name, (cmd, stages, extra) in cases.items():
                    state = tmp / f"{name}-{run}" / "state.sqlite3"
                    state.parent.mkdir()
                    env = bench_env(state, **extra)
                    times = time_to_frames(cmd, stages, env, state.parent, timeout=120)
                    if run:
                        results.setdefault(name, []).append(times)
                    label = ", ".join(f"{t * 1000:.0f} ms" for t in times)
                    print(f"  run {run}{' (warm-up)' if not run else ''} {name}: {label}")
    finally:
        tmux_server_down()
    bare = Summary.of([t[0] for t in results["bare"]])
    rows = [["bare app (3-row DataTable)", bare.spread(), "", "1.00", "", ""]]
    for name, target in CONSOLE_TARGETS.items():
        first = Summary.of([t[0] for t in results[name]])
        rows.append(
            [
                f"jobconsole, {name} registry: first frame",
                first.spread(),
                f"{bare.median * 1000:.0f} ms",
                f"{ratio(first.median, bare.median):.2f}",
                f"<= {target}x",
                verdict(ratio(first.median, bare.median) <= target),
            ]
        )
        running = Summary.of([t[1] for t in results[name]])
        rows.append(
            [
                f"jobconsole, {name} registry: status says running",
                running.spread(),
                f"{bare.median * 1000:.0f} ms",
                f"{ratio(running.median, bare.median):.2f}",
                "(info)",
                "",
            ]
        )
    return rows


def make_history(state: Path) -> None:
    """A state file with 200 executions of the example jobs, written by the real Store."""
    from jobs.core.records import Execution, ExecutionStatus
    from jobs.core.store import Store

    store = Store.open_path(state)
    now = datetime.now(UTC)
    for i in range(200):
        at = now - timedelta(minutes=200 - i)
        store.record_execution(
            Execution(
                id=store.next_execution_id(),
                job_id=("heartbeat", "daily_report", "partner_sync")[i % 3],
                status=ExecutionStatus.FAILED if i % 7 == 0 else ExecutionStatus.SUCCEEDED,
                scheduled_time=at,
                started_at=at + timedelta(milliseconds=2),
                ended_at=at + timedelta(milliseconds=40),
                error="RuntimeError: partner API said 503" if i % 7 == 0 else None,
                output="ok\n",
            )
        )
    store.close()


def imports_textual(cmd: list[str], env: dict[str, str], cwd: Path) -> bool:
    """Whether ``cmd`` (a Python script and its arguments) imports any Textual module."""
    result = subprocess.run(
        [PYTHON, "-X", "importtime", *cmd], env=env, cwd=cwd, capture_output=True, text=True
    )
    modules = (line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines())
    return any(m == "textual" or m.startswith("textual.") for m in modules)


def bench_cli(runs: int) -> list[list[str]]:
    with temp_dir() as tmp:
        state = tmp / "state.sqlite3"
        make_history(state)
        env = bench_env(state)
        cases = {
            "baseline": [PYTHON, "-c", "import apscheduler"],
            'jobconsole cron "0 9 * * 1-5"': [JOBCONSOLE, "cron", "0 9 * * 1-5"],
            "jobconsole list": [JOBCONSOLE, "list"],
            "jobconsole history": [JOBCONSOLE, "history"],
        }
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for run in range(runs + 1):
            for name, cmd in cases.items():
                elapsed = wall(cmd, env, tmp)
                if run:
                    samples[name].append(elapsed)
        textual = {
            name: imports_textual(cmd, env, tmp)
            for name, cmd in cases.items()
            if name != "baseline"
        }
    base = Summary.of(samples["baseline"])
    rows = [['python -c "import apscheduler"', base.spread(), "", "1.00", "", ""]]
    for name in list(cases)[1:]:
        s = Summary.of(samples[name])
        r = ratio(s.median, base.median)
        note = "; imports Textual!" if textual[name] else ""
        rows.append(
            [
                name + note,
                s.spread(),
                f"{base.median * 1000:.0f} ms",
                f"{r:.2f}",
                f"<= {CLI_TARGET}x, no Textual",
                verdict(r <= CLI_TARGET and not textual[name]),
            ]
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=None, help="measured runs per case")
    parser.add_argument("--quick", action="store_true", help="fewer runs (3 and 5)")
    parser.add_argument("--console-only", action="store_true")
    parser.add_argument("--cli-only", action="store_true")
    args = parser.parse_args()
    console_runs = args.runs or (3 if args.quick else 10)
    cli_runs = args.runs or (5 if args.quick else 20)
    rows: list[list[str]] = []
    if not args.cli_only:
        print(f"console start-up, {console_runs} runs each (+1 warm-up), tmux 120x35:")
        rows += bench_console(console_runs)
    if not args.console_only:
        print(f"commands that do not draw, {cli_runs} runs each (+1 warm-up)...")
        rows += bench_cli(cli_runs)
    print()
    print(table(rows, ["command", "median (min, max)", "baseline", "ratio", "target", "met?"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
