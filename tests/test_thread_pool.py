"""Plain defs run in reused worker threads (issue 15): what a user must not notice.

A bounded pool reuses threads, but a stuck job never holds up the others, a pool full
of stuck jobs still starts new work, each execution's output stays its own however often
a thread is reused, and a burst with the state file on runs every job exactly once.

Real parts throughout: the real service over APScheduler, real threads, a real SQLite
state file for the burst; the jobs are fired by APScheduler itself or by run-now.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from jobs import ExecutionStatus
from jobs.core import thread_pool
from jobs.core.lifecycle import RunState
from jobs.core.service import SchedulerService
from tests import jobfuncs_misbehaving as funcs
from tests.jobfuncs_core import make_due
from tests.test_misbehaving import assert_still_works, start

YEARLY = "0 0 1 1 *"
REF = "tests.jobfuncs_misbehaving:"

#: Names of the stuck jobs that have begun, and the threads the numbered runs used.
BEGAN: list[str] = []
THREADS: set[int] = set()
_numbers = itertools.count(1)


def stuck(name: str) -> None:
    """Never returns until the test is over (RELEASE), as a hung network call would."""
    BEGAN.append(name)
    funcs.RELEASE.wait(funcs.THREAD_CAP_SECONDS)


def numbered() -> None:
    """Writes its run's number as text, as bytes (split mid-line) and as a log record."""
    n = next(_numbers)
    THREADS.add(threading.get_ident())
    print(f"begin {n}")
    sys.stdout.buffer.write(f"bytes {n} ".encode())
    logging.getLogger("numbered").warning("logged %d", n)
    sys.stdout.buffer.write(b"\xc3")  # half of "é": the next write completes it
    sys.stdout.buffer.write(b"\xa9\n")
    print(f"end {n}", end="")


def expected_output(n: int) -> str:
    return f"begin {n}\nbytes {n} WARNING numbered: logged {n}\né\nend {n}"


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    BEGAN.clear()
    THREADS.clear()
    funcs.RELEASE.clear()
    yield
    funcs.RELEASE.set()


async def test_a_stuck_plain_def_does_not_stop_others_from_starting(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    service.register_job("stuck", partial(stuck, "stuck"), YEARLY)
    ids = [f"quick{n}" for n in range(3 * thread_pool.POOL_SIZE)]
    for job_id in ids:
        service.register_job(job_id, funcs.plain_quick, YEARLY)

    hung = service.run_job_now("stuck")
    await recorder.until(lambda: BEGAN == ["stuck"], timeout=10)
    runs = [service.run_job_now(job_id) for job_id in ids]
    finals = [await recorder.final(run, timeout=20) for run in runs]

    assert [f.status for f in finals] == [ExecutionStatus.SUCCEEDED] * len(ids)
    assert all(f.output == "plain quick ran\n" for f in finals)
    assert service.get_job("stuck").state.value == "running"
    assert hung.id not in recorder.finals
    await assert_still_works(service, recorder)


async def test_a_pool_full_of_stuck_jobs_still_starts_new_work(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    stuck_ids = [f"stuck{n}" for n in range(thread_pool.POOL_SIZE + 2)]
    for job_id in stuck_ids:
        service.register_job(job_id, partial(stuck, job_id), YEARLY)
    service.register_job("after", funcs.plain_quick, YEARLY)

    for job_id in stuck_ids:
        service.run_job_now(job_id)
    # More stuck jobs than the pool has threads, none with a timeout: every one begins.
    await recorder.until(lambda: sorted(BEGAN) == sorted(stuck_ids), timeout=10)
    done = await recorder.final(service.run_job_now("after"), timeout=10)

    assert done.status is ExecutionStatus.SUCCEEDED
    assert done.output == "plain quick ran\n"
    await assert_still_works(service, recorder)


async def test_stuck_jobs_past_their_timeout_leave_the_pool_and_new_work_runs(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    stuck_ids = [f"stuck{n}" for n in range(thread_pool.POOL_SIZE)]
    for job_id in stuck_ids:
        service.register_job(job_id, partial(stuck, job_id), YEARLY, timeout_seconds=0.3)
    service.register_job("after", funcs.plain_quick, YEARLY)

    timed_out = [
        await recorder.final(run, timeout=10)
        for run in [service.run_job_now(job_id) for job_id in stuck_ids]
    ]
    assert [e.status for e in timed_out] == [ExecutionStatus.TIMED_OUT] * len(stuck_ids)
    assert all("still running in the background" in e.warnings[0] for e in timed_out)
    done = await recorder.final(service.run_job_now("after"), timeout=10)

    assert done.status is ExecutionStatus.SUCCEEDED
    assert done.output == "plain quick ran\n"


async def test_output_stays_per_execution_when_threads_are_reused(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    ids = [f"numbered{n}" for n in range(4 * thread_pool.POOL_SIZE)]
    for job_id in ids:
        service.register_job(job_id, numbered, YEARLY)

    # All at once (threads taken from the pool as they free up), then one job again and
    # again (the same idle threads each time).
    together = [await recorder.final(run, timeout=20) for run in map(service.run_job_now, ids)]
    one_by_one = [await recorder.final(service.run_job_now(ids[0])) for _ in range(10)]

    outputs = [e.output for e in together + one_by_one]
    numbers = sorted(int(o.split()[1]) for o in outputs)
    assert numbers == list(range(numbers[0], numbers[0] + len(outputs)))  # each run once
    for output in outputs:
        assert output == expected_output(int(output.split()[1]))
    # The threads were reused (how many depends on timing: a member slow to finish
    # one job while others wait is replaced).
    assert len(THREADS) < len(outputs)


async def test_a_burst_with_the_state_file_on_runs_every_job_exactly_once(durable) -> None:
    service = durable()
    ids = [f"burst{n:03d}" for n in range(500)]
    for n, job_id in enumerate(ids):  # half coroutines, half plain defs in the pool
        service.register_job(job_id, REF + ("quick" if n % 2 else "plain_quick"), YEARLY)
    recorder = start(service)
    await recorder.until(lambda: service.run_state is RunState.STARTED, timeout=20)
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    for job_id in ids:
        make_due(service, job_id, due)

    def ended() -> int:
        return sum(1 for e in recorder.finals.values() if e.job_id.startswith("burst"))

    await recorder.until(lambda: ended() >= len(ids), timeout=20)
    await asyncio.sleep(0.2)  # room for a run twice to show
    task = service.shutdown()
    assert task is not None
    await task

    assert service.store is not None
    conn = sqlite3.connect(f"file:{service.store.path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT job_id, status, scheduled_time, output FROM executions ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    runs: dict[str, list[tuple[str, str, str]]] = {}
    for job_id, status, scheduled, output in rows:
        runs.setdefault(job_id, []).append((status, scheduled, output))
    assert sorted(runs) == ids
    twice = {job_id: r for job_id, r in runs.items() if len(r) != 1}
    assert not twice, f"not exactly once: {list(twice.items())[:3]}"
    for n, job_id in enumerate(ids):
        ((status, scheduled, output),) = runs[job_id]
        assert status == "succeeded", (job_id, status)
        assert datetime.fromisoformat(scheduled) == due
        assert output == ("quick ran\n" if n % 2 else "plain quick ran\n")
