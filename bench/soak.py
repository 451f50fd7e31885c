"""Soak: SIGKILL a headless runner with 500 busy jobs at random moments, and check the state
file after each kill and each restart.

Run as ``python bench/soak.py`` (``--kills N``, default 30, about a minute each; ``--quick``
for 3; ``--seed`` to replay a run; ``--keep DIR`` to keep the state file and logs).

The runner is the real ``jobconsole run --headless`` on ``bench.registry_soak``: 500 jobs
due every minute, each busy for up to 50 s, so each minute starts with a burst of 500
"running" rows and its ends are written all through it. Each round waits for a minute to
begin, then kills at a random moment in it (four in ten within its first half second,
during the burst; the rest spread over the minute) and checks:

- before the kill, every row is read (read-only, as ``jobconsole history`` reads);
- after the kill: ``PRAGMA integrity_check`` is ok; no row read before is lost, and none
  that had ended changed; the rows still *running* are the runs the kill cut short;
- after the restart: every run cut short is *interrupted*; the file is consistent again;
  no execution id is given twice; no job ran twice for one scheduled time.

A failed check stops the soak with the round, the row and what was expected; it exits 1.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import JOBCONSOLE, ROOT, bench_env, table, temp_dir

READY = "jobconsole: running"
#: Statuses that mean the job's code was started for its scheduled time.
RAN = ("running", "succeeded", "failed", "timed out", "cancelled", "interrupted")


class SoakFailure(Exception):
    pass


@dataclass
class Figures:
    kills: int = 0
    during_burst: int = 0
    rows_checked: int = 0
    cut_short: int = 0
    restarts: list[float] = field(default_factory=list)


def rows(state: Path) -> dict[int, tuple[str, str, str | None, str]]:
    """id -> (job_id, status, scheduled_time, trigger), read as ``history`` reads."""
    conn = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
    try:
        return {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT id, job_id, status, scheduled_time, trigger FROM executions"
            )
        }
    finally:
        conn.close()


def integrity(state: Path, when: str) -> None:
    conn = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
    try:
        result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()
    if result != ["ok"]:
        raise SoakFailure(f"{when}: PRAGMA integrity_check says {result[:5]}")


def start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], float]:
    begun = time.monotonic()
    out = log.open("ab")
    proc = subprocess.Popen(
        [JOBCONSOLE, "run", "--headless"],
        env=env,
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    out.close()
    mark = log.stat().st_size if log.exists() else 0
    deadline = begun + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SoakFailure(f"the runner exited with {proc.returncode}; see {log}")
        with log.open("rb") as f:
            f.seek(max(0, mark - 4096))
            if READY.encode() in f.read():
                return proc, time.monotonic() - begun
        time.sleep(0.05)
    raise SoakFailure(f"the runner did not get ready within 60 s; see {log}")


def wait_for_minute(rng: random.Random) -> float:
    """Sleep into the next minute, to a random moment of it; returns the offset in it."""
    offset = rng.uniform(0.0, 0.5) if rng.random() < 0.4 else rng.uniform(0.5, 55.0)
    now = time.time()
    target = (int(now // 60) + 1) * 60 + offset
    time.sleep(target - now)
    return offset


def check_after_kill(before: dict, after: dict, round_no: int) -> set[int]:
    for eid, (job_id, status, _scheduled, _trigger) in before.items():
        if eid not in after:
            raise SoakFailure(f"round {round_no}: execution #{eid} of {job_id} was lost")
        if after[eid][0] != job_id:
            raise SoakFailure(
                f"round {round_no}: execution id #{eid} was given twice ({job_id}, then "
                f"{after[eid][0]})"
            )
        if status != "running" and after[eid][1] != status:
            raise SoakFailure(
                f"round {round_no}: execution #{eid} of {job_id} ended {status!r} but the "
                f"file now says {after[eid][1]!r}"
            )
    return {eid for eid, row in after.items() if row[1] == "running"}


def check_after_restart(cut: set[int], after_kill: dict, now: dict, round_no: int) -> None:
    for eid in cut:
        status = now.get(eid, (None, None))[1]
        if status != "interrupted":
            raise SoakFailure(
                f"round {round_no}: execution #{eid} was cut short by the kill; expected "
                f"'interrupted' after the restart, found {status!r}"
            )
    for eid in after_kill:
        if eid not in now or now[eid][0] != after_kill[eid][0]:
            raise SoakFailure(f"round {round_no}: execution #{eid} vanished at the restart")
    seen: dict[tuple[str, str], int] = {}
    for eid, (job_id, status, scheduled, trigger) in now.items():
        if trigger != "schedule" or status not in RAN or scheduled is None:
            continue
        key = (job_id, scheduled)
        if key in seen:
            raise SoakFailure(
                f"round {round_no}: {job_id} ran twice for {scheduled} "
                f"(executions #{seen[key]} and #{eid})"
            )
        seen[key] = eid


def wait_interrupted(state: Path, cut: set[int], timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        now = rows(state)
        if all(now.get(eid, (None, None))[1] == "interrupted" for eid in cut):
            return now
        if time.monotonic() > deadline:
            return now
        time.sleep(0.1)


def soak(kills: int, seed: int, folder: Path) -> Figures:
    rng = random.Random(seed)
    state = folder / "state.sqlite3"
    log = folder / "headless.log"
    env = bench_env(
        state,
        JOBCONSOLE_REGISTRY="bench.registry_soak",
        JOBCONSOLE_TIMEZONE="UTC",
        BACKGROUND_JOBS_ENABLED="true",
    )
    figures = Figures()
    proc, _ = start(env, log)
    try:
        for round_no in range(1, kills + 1):
            offset = wait_for_minute(rng)
            before = rows(state)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            figures.kills += 1
            figures.during_burst += offset < 0.5
            integrity(state, f"round {round_no}, after the kill")
            after_kill = rows(state)
            cut = check_after_kill(before, after_kill, round_no)
            proc, took = start(env, log)
            figures.restarts.append(took)
            now = wait_interrupted(state, cut)
            integrity(state, f"round {round_no}, after the restart")
            check_after_restart(cut, after_kill, now, round_no)
            figures.rows_checked += len(after_kill)
            figures.cut_short += len(cut)
            print(
                f"round {round_no}/{kills}: killed {offset:5.2f}s into the minute; "
                f"{len(after_kill):,} rows checked, {len(cut)} cut short, all interrupted; "
                f"restarted in {took:.2f}s",
                flush=True,
            )
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="3 kills")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--keep", type=Path, help="keep the state file and log in this folder")
    args = parser.parse_args()
    kills = 3 if args.quick else args.kills
    print(f"soak: {kills} kills of a headless runner with 500 busy jobs (seed {args.seed})")

    def run(folder: Path) -> Figures:
        return soak(kills, args.seed, folder)

    try:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            figures = run(args.keep)
        else:
            with temp_dir("jobconsole-soak-") as folder:
                figures = run(folder)
    except SoakFailure as exc:
        print(f"soak FAILED: {exc}", file=sys.stderr)
        return 1
    restarts = sorted(figures.restarts)
    print()
    print(
        table(
            [
                ("kills survived", f"{figures.kills} ({figures.during_burst} in a burst)"),
                ("rows checked (summed over the kills)", f"{figures.rows_checked:,}"),
                ("runs cut short, all interrupted", f"{figures.cut_short:,}"),
                ("lost rows, runs twice, integrity errors", "0"),
                (
                    "restart to ready (median, max)",
                    f"{restarts[len(restarts) // 2]:.2f} s, {restarts[-1]:.2f} s"
                    if restarts
                    else "-",
                ),
            ],
            ("soak", "figure"),
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
