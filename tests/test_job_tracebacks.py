"""A failed run's traceback starts at the job's own code (issue 14: output first).

The real service runs real failing jobs; what the record keeps is what the output view,
``jobconsole show`` and the detail view print.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jobs import ExecutionStatus
from jobs.core.service import SchedulerService
from tests.test_misbehaving import YEARLY, Recorder

CORE = str(Path(__file__).resolve().parents[1] / "jobs" / "core")


def frames(trace: str) -> list[str]:
    return re.findall(r'File "([^"]+)", line \d+, in (\S+)', trace)


@pytest.mark.parametrize(
    ("func", "first", "last"),
    [
        ("tests.jobfuncs:boom", "boom", "boom"),
        ("tests.jobfuncs:fails_in_a_thread", "fails_in_a_thread", "_parse_partner_reply"),
    ],
)
async def test_the_traceback_begins_at_the_jobs_code(
    service: SchedulerService, func: str, first: str, last: str
) -> None:
    recorder = Recorder(service)
    service.register_job("failing", func, YEARLY)
    service.start()
    final = await recorder.final(service.run_job_now("failing"))
    assert final.status is ExecutionStatus.FAILED
    assert final.traceback is not None
    assert final.traceback.startswith("Traceback (most recent call last):\n")
    stack = frames(final.traceback)
    assert stack[0][1] == first, final.traceback
    assert stack[-1][1] == last
    assert not any(path.startswith(CORE) for path, _ in stack), final.traceback
    assert final.traceback.rstrip().endswith(final.error)


async def test_library_frames_the_job_called_into_are_kept(service: SchedulerService) -> None:
    recorder = Recorder(service)
    service.register_job("calls_back", "tests.jobfuncs:fails_inside_the_library", YEARLY)
    service.start()
    final = await recorder.final(service.run_job_now("calls_back"))
    assert final.traceback is not None
    raised_last = final.traceback.rsplit("Traceback (most recent call last):", 1)[1]
    stack = frames(raised_last)
    assert stack[0][1] == "fails_inside_the_library"
    assert any(path.startswith(CORE) and name == "resolve" for path, name in stack)
    # The exception it was raised from (the failed import) is there, untrimmed.
    assert "ModuleNotFoundError" in final.traceback
