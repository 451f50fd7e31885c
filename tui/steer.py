"""The command line's verbs, like systemctl's: ``status``, ``pause``, ``resume``,
``enable``, ``disable``, ``run``, ``remove`` and ``reschedule`` a job of the scheduler that
runs.

With a live scheduler on the state file (or at ``--connect SOCKET``), each goes through its
control API, so the change is live at once and every attached console shows it. With
none, a change is made for the next start: the state file is taken for a moment, as the
console would take it, and changed through the service (which loads the file and keeps a
change made before ``start()``), and one line says so. ``run`` refuses then: nothing
would run the job. No Textual here.

Exit status: 0 done; 1 asked but not done (a run skipped while one is running); 2 bad
input, with the library's message (an unknown job, a bad expression); 3 no scheduler
(``status``, ``run``, ``--connect`` that nobody answers).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui import attach, plain_text

if TYPE_CHECKING:
    from jobs.core.control.remote import RemoteClient
    from jobs.core.records import Execution, JobSnapshot, SchedulerStatus
    from jobs.core.settings import Settings

Warn = Callable[[str], None]

EXIT_NOT_DONE = 1
EXIT_USAGE = 2
#: What is kept for the next start when no scheduler runs.
OFFLINE_NOTE = "no scheduler is running; the change is kept for the next start"


class _Exit(Exception):
    """End the command with ``code``, ``message`` on stderr."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def main(args: argparse.Namespace, warn: Warn) -> int:
    from jobs.core.settings import SettingsError

    connect = getattr(args, "connect", None)
    settings = None
    if connect is None:
        try:
            from jobs.core.settings import Settings

            settings = Settings.load()
        except SettingsError as exc:
            warn(str(exc))
            return EXIT_USAGE
    try:
        return asyncio.run(_steer(args, settings, connect))
    except _Exit as exc:
        warn(str(exc))
        return exc.code


async def _steer(args: argparse.Namespace, settings: Settings | None, connect: str | None) -> int:
    from jobs.core.control.paths import ControlPathError, socket_path

    verb = args.command
    if connect is not None:
        socket, state = Path(connect), None
    else:
        assert settings is not None
        try:
            socket, state = socket_path(settings.state_path), settings.state_path
        except ControlPathError as exc:
            raise _Exit(EXIT_USAGE, str(exc)) from None
    for _ in range(3):  # a scheduler may come and go between connecting and the lock
        try:
            client = await attach.connect(
                socket, read_only=getattr(args, "read_only", False), state=state
            )
        except attach.NoHost as exc:
            raise _Exit(attach.EXIT_NO_HOST, str(exc)) from None
        if client is not None:
            try:
                return await _through(client, verb, args)
            finally:
                await client.stop()
        assert state is not None and settings is not None
        if verb == "status":
            raise _Exit(attach.EXIT_NO_HOST, attach.no_host_running(state))
        if verb == "run":
            raise _Exit(
                attach.EXIT_NO_HOST,
                f"no scheduler is running on {state}, so nothing can run {args.job_id!r} now; "
                "start one with 'jobconsole run --headless' (or 'jobconsole')",
            )
        done = _offline(settings, verb, args)
        if done is not None:
            return done
    raise _Exit(attach.EXIT_NO_HOST, "the state file was held and let go three times; try again")


# ----------------------------------------------------------- through the API


async def _through(client: RemoteClient, verb: str, args: argparse.Namespace) -> int:
    """The verb, asked of the scheduler that runs."""
    from jobs.core import cron
    from jobs.core.errors import HostUnavailableError, JobError

    try:
        if verb == "status":
            answer = await client.host_status()
            return _print_status(client.status(), answer)
        job_id = args.job_id
        if verb == "run":
            return _ran(await client.run_job_now(job_id))
        if verb == "pause":
            before = await client.get_job(job_id)
            _print(_paused(await client.pause_job(job_id), before))
        elif verb == "resume":
            before = await client.get_job(job_id)
            _print(_resumed(await client.resume_job(job_id), before))
        elif verb == "enable":
            before = await client.get_job(job_id)
            _print(_enabled(await client.enable_job(job_id), before))
        elif verb == "disable":
            before = await client.get_job(job_id)
            _print(_disabled(await client.disable_job(job_id), before))
        elif verb == "remove":
            await client.remove_job(job_id)
            _print(f"removed {job_id}")
        else:
            _print(_rescheduled(await client.reschedule_job(job_id, args.expression)))
    except HostUnavailableError as exc:
        raise _Exit(attach.EXIT_NO_HOST, str(exc)) from None
    except (JobError, cron.CronError, cron.TimezoneError) as exc:
        raise _Exit(EXIT_USAGE, str(exc)) from None
    return 0


def _print_status(status: SchedulerStatus, answer: dict[str, Any]) -> int:
    """The host's own account (``GET /status``): its counts, not 10,000 jobs sent over."""
    from jobs.core.records import JobState

    if status.disabled_reason:
        state = status.disabled_reason
    else:
        state = "scheduling" if status.running else "not scheduling (starting or stopping)"
    since = ""
    if status.started_at is not None:
        up = float(answer.get("uptime_seconds") or 0)
        began = plain_text.clock(status.started_at, status.tz)
        since = f", up {plain_text.span(max(up, 0))} (since {began})"
    counts = answer.get("jobs") or {}
    parts = [f"{counts[kind]:,} {kind}" for kind in JobState if counts.get(kind)]
    total = f"{answer.get('job_count', sum(counts.values())):,}"
    total += f" ({', '.join(parts)})" if parts else ""
    lines = [
        f"scheduler: pid {status.host_pid} ({status.role}){since}",
        f"state:     {state}",
        f"socket:    {status.socket or '(unknown)'}",
        f"file:      {answer.get('state_path') or '(unknown)'}",
        f"timezone:  {status.timezone}",
        f"jobs:      {total}",
    ]
    if status.state_error:
        lines.append(f"warning:   runs not saved: {status.state_error}")
    _print("\n".join(lines))
    return 0


# ---------------------------------------------------------- with no scheduler


def _offline(settings: Settings, verb: str, args: argparse.Namespace) -> int | None:
    """The change made in the state file for the next start; None when a scheduler took
    the file meanwhile (then it is asked instead)."""
    from jobs.core import cron
    from jobs.core.bootstrap import RegistryError, build_service
    from jobs.core.errors import JobError
    from jobs.core.store import StateError, StateLockedError

    if getattr(args, "read_only", False):
        from jobs.core.errors import ReadOnlyError

        raise _Exit(EXIT_USAGE, str(ReadOnlyError(f"{verb} a job")))
    try:
        service = build_service(settings)
    except StateLockedError:
        return None
    except (RegistryError, StateError) as exc:
        raise _Exit(EXIT_USAGE, str(exc)) from None
    try:
        service.load_state()
        job_id = args.job_id
        if verb == "pause":
            before = service.get_job(job_id)
            line = _paused(service.pause_job(job_id), before)
        elif verb == "resume":
            before = service.get_job(job_id)
            line = _resumed(service.resume_job(job_id), before, offline=True)
        elif verb == "enable":
            before = service.get_job(job_id)
            line = _enabled(service.enable_job(job_id), before, offline=True)
        elif verb == "disable":
            before = service.get_job(job_id)
            line = _disabled(service.disable_job(job_id), before)
        elif verb == "remove":
            service.remove_job(job_id)
            line = f"removed {job_id}"
        else:
            line = _rescheduled(service.reschedule_job(job_id, args.expression), offline=True)
    except (JobError, cron.CronError, cron.TimezoneError) as exc:
        raise _Exit(EXIT_USAGE, str(exc)) from None
    finally:
        service.close()  # the change is written before the file is let go
    _print(f"{line}; {OFFLINE_NOTE}")
    return 0


# ------------------------------------------------------------------- wording


def _print(text: str) -> None:
    print(plain_text.visible(text, lines=True), flush=True)


def _paused(job: JobSnapshot, before: JobSnapshot) -> str:
    if before.state == "paused":
        return f"{job.job_id} was already paused"
    return f"paused {job.job_id}: it does not run on schedule until resumed"


def _resumed(job: JobSnapshot, before: JobSnapshot, offline: bool = False) -> str:
    if before.state != "paused":
        return f"{job.job_id} was not paused (it is {before.state})"
    return f"resumed {job.job_id}" + ("" if offline else _next(job))


def _enabled(job: JobSnapshot, before: JobSnapshot, offline: bool = False) -> str:
    if before.enabled:
        return f"{job.job_id} was already enabled (it is {before.state})"
    if job.state == "paused":
        return f"enabled {job.job_id}; it stays paused until resumed"
    return f"enabled {job.job_id}: it runs on schedule again" + ("" if offline else _next(job))


def _disabled(job: JobSnapshot, before: JobSnapshot) -> str:
    if not before.enabled:
        return f"{job.job_id} was already disabled"
    return f"disabled {job.job_id}: it does not run on schedule until enabled"


def _rescheduled(job: JobSnapshot, offline: bool = False) -> str:
    return f"rescheduled {job.job_id} to {job.cron_expression}: {job.description}" + (
        "" if offline else _next(job)
    )


def _next(job: JobSnapshot) -> str:
    if job.next_run_time is None:
        return ""
    return f"; next run {plain_text.clock(job.next_run_time, _zone(job))}"


def _zone(job: JobSnapshot) -> Any:
    from jobs.core import cron

    try:
        return cron.zone(job.timezone)
    except cron.TimezoneError:
        return None


def _ran(execution: Execution) -> int:
    if execution.status.is_final:  # skipped: one is running already
        _print(f"{execution.job_id} did not start: {execution.error or execution.status}")
        return EXIT_NOT_DONE
    _print(f"started {execution.job_id} (execution #{execution.id}); its schedule is unchanged")
    return 0
