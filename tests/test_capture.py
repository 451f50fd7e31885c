"""What a job prints and logs belongs to its execution, never to the terminal.

Each test runs real jobs on a real service and reads the execution's ``output``; ``capfd``
checks at the file-descriptor level that nothing leaked to the real stdout or stderr.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Iterator

import pytest

from jobs import EventKind, ExecutionStatus, SchedulerService
from jobs.core.capture import OutputBuffer
from tests import jobfuncs_core as jf
from tests.jobfuncs_core import EventLog

YEARLY = "0 0 1 1 *"
Factory = Callable[..., SchedulerService]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def root_handler() -> Iterator[_Records]:
    """A handler the host application put on the root logger before the service started."""
    handler = _Records()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


async def writes_bytes() -> None:
    """Bytes through ``sys.stdout.buffer``, mixed with text; a character split in two writes."""
    print("text first")
    sys.stdout.buffer.write(b"bytes out\n")
    sys.stdout.buffer.write("caf\u00e9 ".encode()[:-2])
    sys.stdout.buffer.write("caf\u00e9 ".encode()[-2:] + b"\xff\n")
    sys.stdout.buffer.flush()
    sys.stderr.buffer.write(b"bytes err\n")
    print("text last")


def writes_bytes_plain() -> None:
    out = sys.stdout.buffer  # kept, as a library might, then written to
    out.write(b"plain bytes\n")
    out.flush()


def _lines(name: str, *, stderr: bool) -> str:
    out = []
    for i in range(5):
        out.append(f"{name} line {i}\n")
        if stderr:
            out.append(f"{name} err {i}\n")
        out.append(f"WARNING tests.jobfuncs_core: {name} log {i}\n")
    return "".join(out)


async def test_stdout_stderr_and_logging_land_in_the_execution(
    make: Factory, capfd: pytest.CaptureFixture[str], root_handler: _Records
) -> None:
    service = make()
    service.register_job("speaker", jf.speaks_everywhere, YEARLY)
    service.start()
    events = EventLog(service)
    service.run_job_now("speaker")
    done = await events.finished("speaker")

    assert done.output == (
        "to stdout\n"
        "to stderr\n"
        "WARNING tests.jobfuncs_core: a warning from the job\n"
        "ERROR tests.jobfuncs_core: an error from the job\n"
    )
    assert not done.output_truncated
    assert service.recent_executions("speaker")[0].output == done.output
    assert capfd.readouterr() == ("", "")
    assert root_handler.messages == []  # the host's own handler never saw the job's records


async def test_output_outside_any_job_still_reaches_the_terminal(
    make: Factory, capfd: pytest.CaptureFixture[str], root_handler: _Records
) -> None:
    service = make()
    service.register_job("job", jf.long_async, YEARLY)
    service.start()
    events = EventLog(service)
    service.run_job_now("job")
    await asyncio.sleep(0.05)

    print("the host prints")
    print("the host warns", file=sys.stderr)
    logging.getLogger("host").warning("the host logs")

    out, err = capfd.readouterr()
    assert out == "the host prints\n"
    assert err == "the host warns\n"
    assert root_handler.messages == ["the host logs"]
    await asyncio.wait_for(service.shutdown(timeout=0), 3)  # type: ignore[arg-type]
    [cancelled] = events.of(EventKind.EXECUTION_CANCELLED, "job")
    assert cancelled.execution is not None
    assert cancelled.execution.output == "long_async started\n"


async def test_concurrent_async_jobs_each_get_only_their_own_output(
    make: Factory, capfd: pytest.CaptureFixture[str]
) -> None:
    service = make()
    service.register_job("a", jf.chatty_a, YEARLY)
    service.register_job("b", jf.chatty_b, YEARLY)
    service.start()
    events = EventLog(service)
    service.run_job_now("a")
    service.run_job_now("b")
    a, b = await events.finished("a"), await events.finished("b")

    assert a.output == _lines("A", stderr=True)
    assert b.output == _lines("B", stderr=True)
    # They really ran at the same time, taking turns on the loop.
    assert a.started_at < b.ended_at and b.started_at < a.ended_at  # type: ignore[operator]
    assert capfd.readouterr() == ("", "")


async def test_concurrent_threaded_jobs_each_get_only_their_own_output(
    make: Factory, capfd: pytest.CaptureFixture[str]
) -> None:
    service = make()
    service.register_job("c", jf.threaded_c, YEARLY)
    service.register_job("d", jf.threaded_d, YEARLY)
    service.register_job("a", jf.chatty_a, YEARLY)
    service.start()
    events = EventLog(service)
    for job_id in ("c", "d", "a"):
        service.run_job_now(job_id)
    c, d, a = [await events.finished(job_id) for job_id in ("c", "d", "a")]

    assert c.output == _lines("C", stderr=False)
    assert d.output == _lines("D", stderr=False)
    assert a.output == _lines("A", stderr=True)
    assert c.started_at < d.ended_at and d.started_at < c.ended_at  # type: ignore[operator]
    assert capfd.readouterr() == ("", "")


async def test_output_is_bounded_and_says_it_was_truncated(
    make: Factory, capfd: pytest.CaptureFixture[str]
) -> None:
    service = make(output_limit_bytes=100)
    service.register_job("flood", jf.floods, YEARLY)
    service.start()
    events = EventLog(service)
    service.run_job_now("flood")
    done = await events.finished("flood")

    assert done.status is ExecutionStatus.SUCCEEDED
    assert done.output_truncated
    assert done.output == "x" * 100 + (
        "\n[output truncated: 9,900 more characters were not kept]\n"
    )
    assert capfd.readouterr() == ("", "")


async def test_output_of_a_failed_job_is_kept(make: Factory) -> None:
    service = make()
    service.register_job("bad", jf.fails, YEARLY)
    service.start()
    events = EventLog(service)
    service.run_job_now("bad")
    done = await events.finished("bad")
    assert (done.status, done.output) == (ExecutionStatus.FAILED, "about to fail\n")


async def test_a_job_run_before_start_is_captured_too(
    make: Factory, capfd: pytest.CaptureFixture[str]
) -> None:
    service = make()
    service.register_job("early", jf.speaks_everywhere, YEARLY)
    events = EventLog(service)
    service.run_job_now("early")  # allowed before start(): the loop is running
    done = await events.finished("early")
    out, err = capfd.readouterr()
    assert (out, err) == ("", ""), f"a job run before start() wrote to the terminal: {out!r}"
    assert done.output.startswith("to stdout\nto stderr\n")


async def test_shutdown_gives_the_terminal_back(make: Factory) -> None:
    before = (sys.stdout, sys.stderr)
    service = make()
    service.start()
    assert (sys.stdout, sys.stderr) != before  # routed while running
    await asyncio.wait_for(service.shutdown(), 3)  # type: ignore[arg-type]
    assert (sys.stdout, sys.stderr) == before


async def test_two_services_share_the_process(
    make: Factory, capfd: pytest.CaptureFixture[str]
) -> None:
    first, second = make(), make()
    second.register_job("job", jf.ok_plain, YEARLY)
    first.start()
    second.start()
    await asyncio.wait_for(first.shutdown(), 3)  # type: ignore[arg-type]
    events = EventLog(second)
    second.run_job_now("job")
    done = await events.finished("job")
    assert done.output == "ok_plain ran in job:job\n"
    assert capfd.readouterr() == ("", "")


async def test_info_records_are_captured_when_the_level_allows(
    make: Factory, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging.getLogger("tests.jobfuncs_core"), "level", logging.INFO)
    service = make()
    service.register_job("info", jf.logs_info, YEARLY)
    service.start()
    events = EventLog(service)
    service.run_job_now("info")
    done = await events.finished("info")
    assert done.output == "INFO tests.jobfuncs_core: an info record from the job\n"
    assert capfd.readouterr() == ("", "")


def test_output_buffer_keeps_the_first_limit_characters() -> None:
    exact = OutputBuffer(5)
    exact.write("12345")
    assert (exact.getvalue(), exact.truncated) == ("12345", False)

    over = OutputBuffer(5)
    over.write("123")
    over.write("4567")
    over.write("89")
    assert over.truncated and over.dropped == 4
    assert over.getvalue() == "12345\n[output truncated: 4 more characters were not kept]\n"


async def test_bytes_written_to_the_binary_buffers_land_in_the_execution(
    make: Factory, capfd: pytest.CaptureFixture[str]
) -> None:
    service = make()
    service.register_job("bytes", writes_bytes, YEARLY)
    service.register_job("plain", writes_bytes_plain, YEARLY)
    service.start()
    events = EventLog(service)
    service.run_job_now("bytes")
    service.run_job_now("plain")
    done, plain = await events.finished("bytes"), await events.finished("plain")

    assert done.status is ExecutionStatus.SUCCEEDED, done.error
    assert done.output == "text first\nbytes out\ncaf\u00e9 \ufffd\nbytes err\ntext last\n"
    assert (plain.status, plain.output) == (ExecutionStatus.SUCCEEDED, "plain bytes\n")
    assert capfd.readouterr() == ("", "")


async def test_bytes_written_outside_any_job_still_reach_the_terminal(
    make: Factory, capfd: pytest.CaptureFixture[str]
) -> None:
    service = make()
    service.register_job("job", jf.long_async, YEARLY)
    service.start()
    service.run_job_now("job")
    await asyncio.sleep(0.05)

    sys.stdout.buffer.write(b"the host writes bytes\n")
    sys.stdout.buffer.flush()
    sys.stderr.buffer.write(b"the host warns in bytes\n")
    sys.stderr.buffer.flush()
    assert capfd.readouterr() == ("the host writes bytes\n", "the host warns in bytes\n")


def test_output_buffer_decodes_bytes_as_they_come_and_keeps_the_limit() -> None:
    buffer = OutputBuffer(6)
    assert buffer.write_bytes(b"ab\xc3", "utf-8") == 3  # half of an e-acute
    buffer.write("c")
    buffer.write_bytes(b"\xa9d\xe2\x82", "utf-8")  # the other half, then a cut-off euro sign
    assert buffer.getvalue() == "abc\u00e9d\ufffd"
    assert not buffer.truncated
    buffer.write_bytes(b"overflow", "utf-8")
    assert buffer.dropped == len("overflow")


async def logs_as_the_program() -> None:
    """Records of jobconsole's and APScheduler's own loggers, emitted while a job runs."""
    logging.getLogger("jobconsole.store").error("the program's own diagnostic")
    logging.getLogger("apscheduler.scheduler").warning("the scheduler's own diagnostic")
    logging.getLogger("jobconsole_plugin").warning("a job's own logger")  # not a child
    print("the job's own line")


async def test_the_programs_own_diagnostics_are_never_captured_as_a_jobs_output(
    make: Factory, root_handler: _Records
) -> None:
    service = make()
    service.register_job("job", logs_as_the_program, YEARLY)
    service.start()
    events = EventLog(service)
    service.run_job_now("job")
    done = await events.finished("job")
    assert done.output == "WARNING jobconsole_plugin: a job's own logger\nthe job's own line\n"
    # They still reach the application's own handlers.
    assert "the program's own diagnostic" in root_handler.messages
    assert "the scheduler's own diagnostic" in root_handler.messages
