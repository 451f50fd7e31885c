"""``jobconsole list`` at 10,000 and 100,000 jobs, cold and warm, against the same run's floors.

Run as ``python bench/list_scale.py`` (``--jobs 10000 100000``, ``--runs N``, ``--quick``,
``--before TREE`` to time another checkout's ``list`` in the same run, interleaved).

Each size gets a registry module made like ``bench/registry_10k.py`` (the same shapes,
the same seed: at 10,000 it is that registry) and a state file holding a row for every
job and a run for every tenth, written by the real service and store, as a scheduler
that ran once leaves it. Wall time of ``jobconsole list`` with its output to a pipe:
*cold*, its cache directory (``XDG_CACHE_HOME``, where descriptions and next fire times
are kept between runs) emptied first, and *warm*, the run right after, against ``python
-c "import apscheduler"`` (the issue's baseline) and against importing the registry
module alone (what any command that reads the registry pays). Cold, warm and the
baselines take turns in each round, so they share the machine's load. With
``--before``, the same command from that tree (``python -m tui.cli list`` with it first
on ``PYTHONPATH``), cold (cache emptied) and warm (the run right after); its output must
be the same as this tree's but for the countdowns, which move with the clock (at 100,000
jobs the old command runs long enough for a few fire times to pass, so a few rows
differ).

Profile one size with ``pyinstrument -m tui.cli list`` and the environment this script
prints with ``--show-env``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from _common import JOBCONSOLE, PYTHON, Summary, bench_env, ratio, table, temp_dir, verdict, wall

TARGETS = {10_000: 0.200, 100_000: 1.0}

REGISTRY = '''\
"""{count:,} jobs made as bench/registry_10k.py makes 10,000."""
import random

from bench.jobfuncs import tick_async, tick_sync
from bench.cron_shapes import expression

_rng = random.Random(20261129)
REGISTERED_JOBS = [
    {{
        "job_id": f"job{{i:05d}}",
        "func": tick_async if i % 2 == 0 else tick_sync,
        "cron_expression": expression(_rng),
        "enabled": True,
    }}
    for i in range({count})
]
'''


def make_case(folder: Path, count: int) -> dict[str, str]:
    """The registry module and a state file for ``count`` jobs; returns the environment."""
    module = f"list_registry_{count}"
    (folder / f"{module}.py").write_text(REGISTRY.format(count=count))
    state = folder / f"state-{count}.sqlite3"
    env = bench_env(state, JOBCONSOLE_REGISTRY=module)
    env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(folder)])
    script = f"""
import sys
sys.path[:0] = {[str(Path(__file__).resolve().parent.parent), str(folder)]!r}
from datetime import UTC, datetime, timedelta
from jobs.core.bootstrap import build_service
from jobs.core.records import Execution, ExecutionStatus
from jobs.core.settings import Settings

service = build_service(Settings.load(env_file=None))
service.load_state()
service._persistence.save_merged(service._jobs)
store = service.store
now = datetime.now(UTC)
for i, job_id in enumerate(list(service._jobs)[::10]):
    at = now - timedelta(minutes=i % 600)
    store.record_execution(Execution(
        id=store.next_execution_id(), job_id=job_id,
        status=ExecutionStatus.FAILED if i % 7 == 0 else ExecutionStatus.SUCCEEDED,
        scheduled_time=at, started_at=at, ended_at=at + timedelta(milliseconds=40),
    ))
service.close()
"""
    subprocess.run([PYTHON, "-c", script], env=env, cwd=folder, check=True)
    return env


_COUNTDOWN = re.compile(r"\((in [^)]*|now)\)")


def same_listing(a: str, b: str) -> str:
    """ "yes" if equal but for the countdowns ("in 4m 12s"), taken a moment apart, and the
    padding that follows them; else how many rows differ (a fire time passed between the
    two runs changes the rows of its schedule)."""

    def plain(text: str) -> list[str]:
        return re.sub(r" +", " ", _COUNTDOWN.sub("()", text)).splitlines()

    one, other = plain(a), plain(b)
    if one == other:
        return "yes"
    differ = sum(x != y for x, y in zip(one, other, strict=False)) + abs(len(one) - len(other))
    return f"no, {differ:,} of {len(one) - 1:,} rows differ"


def output(cmd: list[str], env: dict[str, str], cwd: Path) -> str:
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=True).stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=None, help="measured runs per case (7)")
    parser.add_argument("--quick", action="store_true", help="3 runs")
    parser.add_argument("--before", type=Path, help="a checkout to time as 'before'")
    parser.add_argument("--show-env", action="store_true", help="print each case's environment")
    args = parser.parse_args()
    runs = args.runs or (3 if args.quick else 7)
    rows = []
    with temp_dir() as tmp:
        for count in args.jobs:
            print(f"{count:,} jobs: building the registry and the state file...")
            env = make_case(tmp, count)
            cache = tmp / f"cache-{count}"
            env["XDG_CACHE_HOME"] = str(cache)
            if args.show_env:
                for key in (
                    "PYTHONPATH",
                    "JOBCONSOLE_REGISTRY",
                    "JOBCONSOLE_STATE",
                    "XDG_CACHE_HOME",
                ):
                    print(f"  {key}={env[key]}")
            module = env["JOBCONSOLE_REGISTRY"]
            cases = {
                "import apscheduler": [PYTHON, "-c", "import apscheduler"],
                "import the registry": [PYTHON, "-c", f"import {module}"],
                "jobconsole list, cold": [JOBCONSOLE, "list"],
                "jobconsole list, warm": [JOBCONSOLE, "list"],
            }
            cold = {"jobconsole list, cold"}
            envs = {name: env for name in cases}
            if args.before is not None:
                cases["jobconsole list (before)"] = [PYTHON, "-m", "tui.cli", "list"]
                cases["jobconsole list (before), warm"] = [PYTHON, "-m", "tui.cli", "list"]
                cold.add("jobconsole list (before)")
                before_env = dict(env)
                before_env["PYTHONPATH"] = os.pathsep.join(
                    [str(args.before.resolve()), env["PYTHONPATH"]]
                )
                envs["jobconsole list (before)"] = before_env
                envs["jobconsole list (before), warm"] = before_env
            shutil.rmtree(cache, ignore_errors=True)
            cold_out = output(cases["jobconsole list, cold"], env, tmp)
            warm_out = output(cases["jobconsole list, warm"], env, tmp)
            print(f"  warm output the same as cold: {same_listing(cold_out, warm_out)}")
            if args.before is not None:
                shutil.rmtree(cache, ignore_errors=True)
                then_out = output(cases["jobconsole list (before)"], before_env, tmp)
                print(f"  same output as before: {same_listing(cold_out, then_out)}")
            samples: dict[str, list[float]] = {name: [] for name in cases}
            for run in range(runs + 1):  # run 0 warms the OS's caches and is discarded
                for name, cmd in cases.items():
                    if name in cold:
                        shutil.rmtree(cache, ignore_errors=True)
                    took = wall(cmd, envs[name], tmp)
                    if run:
                        samples[name].append(took)
            base = Summary.of(samples["import apscheduler"])
            floor = Summary.of(samples["import the registry"])
            for name in cases:
                s = Summary.of(samples[name])
                target = TARGETS.get(count) if name.startswith("jobconsole list,") else None
                rows.append(
                    [
                        f"{count:,} jobs: {name}",
                        s.spread(),
                        f"{ratio(s.median, base.median):.1f}x",
                        f"{ratio(s.median, floor.median):.1f}x",
                        f"< {target * 1000:.0f} ms" if target else "",
                        verdict(s.median < target) if target else "",
                    ]
                )
    print()
    print(
        table(
            rows,
            ["command", "median (min, max)", "/ import apscheduler", "/ import registry",
             "target", "met?"],
        )
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
