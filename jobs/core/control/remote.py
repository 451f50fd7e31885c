"""RemoteClient: a SchedulerClient of the scheduler that serves a control socket.

It holds one event stream (``GET /events``) open for as long as it is attached: the stream
begins with the host's status, then carries every event as the host emits it (and the
status again when it changes), and a heartbeat each second. Reads and actions are one
request each. When the stream ends or falls silent, the host is taken for lost:
subscribers get ``HOST_LOST``, calls raise ``HostUnavailableError``, and the client tries
again about every second; once a host answers, subscribers get ``HOST_BACK`` and should
reload what they show (events were missed meanwhile).

aiohttp is imported when the client starts, not with this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack
from urllib.parse import quote

from jobs.core.client import SchedulerClient, Subscriber
from jobs.core.control import wire
from jobs.core.control.wire import MAX_RUN_JOBS
from jobs.core.errors import HostUnavailableError, ReadOnlyError
from jobs.core.job_options import OptionKeys
from jobs.core.records import (
    EventKind,
    Execution,
    JobSnapshot,
    SchedulerEvent,
    SchedulerStatus,
)

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger("jobconsole")

_ORIGIN = "http://jobconsole"


class _Frames:
    """The frames of one open event stream, as (kind, JSON bytes) pairs; ``: ping``
    comments are read and skipped (they only keep the read timeout from firing)."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self._buffer = b""
        self._ready: list[tuple[str, bytes]] = []

    async def next(self) -> tuple[str, bytes]:
        while not self._ready:
            chunk = await self.response.content.readany()
            if not chunk:
                raise ConnectionResetError("the host closed the event stream")
            self._buffer += chunk
            *whole, self._buffer = self._buffer.split(b"\n\n")
            for raw in whole:
                parsed = _parse(raw)
                if parsed is not None:
                    self._ready.append(parsed)
        return self._ready.pop(0)

    def close(self) -> None:
        self.response.close()


def _parse(raw: bytes) -> tuple[str, bytes] | None:
    kind, data = "message", []
    for line in raw.split(b"\n"):
        if line.startswith(b"event:"):
            kind = line[6:].strip().decode()
        elif line.startswith(b"data:"):
            data.append(line[5:].removeprefix(b" "))
    if not data:
        return None
    return kind, b"\n".join(data)


class RemoteClient(SchedulerClient):
    """Watch and steer the scheduler serving ``socket`` (``paths.socket_path(state)``).

    ``read_only``: every action raises ``ReadOnlyError`` before anything is sent.
    """

    #: Seconds between tries while the host is away.
    RETRY_SECONDS = 1.0
    #: Silence on the event stream (the host beats every second) that means it is gone.
    SILENCE_SECONDS = 5.0
    #: How long one request may take before the host is taken for stuck.
    REQUEST_SECONDS = 30.0

    def __init__(self, socket: str | Path, *, read_only: bool = False) -> None:
        self.socket = Path(socket)
        self.read_only = read_only
        self._subscribers: list[Subscriber] = []
        self._session: aiohttp.ClientSession | None = None
        self._follower: asyncio.Task[None] | None = None
        self._connected = False
        self._status = SchedulerStatus(
            running=False,
            timezone="UTC",
            disabled_reason=None,
            boot_errors=(),
            state_error=None,
            durable=True,
            registry="",
            shutdown_timeout_seconds=0.0,
        )

    # ---------------------------------------------------------------- status

    def status(self) -> SchedulerStatus:
        return dataclasses.replace(
            self._status,
            socket=str(self.socket),
            attached=True,
            connected=self._connected,
            read_only=self.read_only,
        )

    @property
    def connected(self) -> bool:
        return self._connected

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def _tell(self, event: SchedulerEvent) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("event subscriber %r failed", callback)

    # ------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Attach: raises ``HostUnavailableError`` when no scheduler answers on the socket
        (and the host's own refusal, e.g. a ``ControlError`` 403 for another user)."""
        if self._follower is not None:
            return
        import aiohttp

        self._session = aiohttp.ClientSession(
            connector=aiohttp.UnixConnector(path=str(self.socket)),
            timeout=aiohttp.ClientTimeout(total=self.REQUEST_SECONDS),
        )
        try:
            frames = await self._open()
        except BaseException:
            await self._session.close()
            self._session = None
            raise
        self._connected = True
        self._follower = asyncio.get_running_loop().create_task(
            self._follow(frames), name="jobconsole:attached"
        )

    async def stop(self, timeout: float | None = None) -> None:
        """Detach; the host and its jobs go on."""
        follower, self._follower = self._follower, None
        if follower is not None:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        self._connected = False

    async def _open(self) -> _Frames:
        """Open the event stream and read the status it begins with."""
        import aiohttp

        assert self._session is not None
        try:
            response = await self._session.get(
                _ORIGIN + "/events",
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self.REQUEST_SECONDS, sock_read=self.SILENCE_SECONDS
                ),
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise self._unavailable(exc) from None
        if response.status != 200:
            body = await response.read()
            response.close()
            raise wire.error_from(_json_or_none(body), response.status)
        frames = _Frames(response)
        try:
            kind, data = await frames.next()
            if kind != "status":
                raise ConnectionResetError(f"the event stream began with {kind!r}")
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            frames.close()
            raise self._unavailable(exc) from None
        self._status = wire.loads(data, SchedulerStatus)
        return frames

    async def _follow(self, frames: _Frames) -> None:
        import aiohttp

        while True:
            try:
                while True:
                    kind, data = await frames.next()
                    try:
                        if kind == "event":
                            self._tell(wire.loads(data, SchedulerEvent))
                        elif kind == "status":
                            self._status = wire.loads(data, SchedulerStatus)
                    except ValueError as exc:  # one this client cannot read: not a loss
                        log.warning(
                            "control API: an event from %s is unreadable: %s", self.socket, exc
                        )
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
                log.debug("control API: lost %s: %s", self.socket, exc)
            frames.close()
            self._connected = False
            self._tell(self._host_event(EventKind.HOST_LOST))
            while True:
                await asyncio.sleep(self.RETRY_SECONDS)
                try:
                    frames = await self._open()
                    break
                except Exception as exc:  # not there yet, or refusing: try again
                    log.debug("control API: %s still away: %s", self.socket, exc)
            self._connected = True
            self._tell(self._host_event(EventKind.HOST_BACK))

    def _host_event(self, kind: EventKind) -> SchedulerEvent:
        status = self._status
        host = f"pid {status.host_pid} ({status.role})" if status.host_pid else "the scheduler"
        if kind is EventKind.HOST_LOST:
            message = f"lost {host} on {self.socket}; trying again every second"
        else:
            message = f"attached to {host} on {self.socket}"
        return SchedulerEvent(kind=kind, at=datetime.now(UTC), message=message)

    def _unavailable(self, exc: BaseException | None = None) -> HostUnavailableError:
        why = f" ({type(exc).__name__}: {exc})" if exc is not None and str(exc) else ""
        return HostUnavailableError(
            f"no scheduler answers on {self.socket}{why}; start one with "
            "'jobconsole run --headless' or 'jobconsole'"
        )

    # ----------------------------------------------------------------- calls

    async def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        kind: Any = Any,
        action: str | None = None,
    ) -> Any:
        if action is not None and self.read_only:
            raise ReadOnlyError(action)
        session = self._session
        if session is None or not self._connected:
            raise self._unavailable()
        import aiohttp

        data = None if body is None else wire.dumps(body)
        headers = None if body is None else {"Content-Type": "application/json"}
        try:
            async with session.request(
                method, _ORIGIN + path, data=data, headers=headers
            ) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise self._unavailable(exc) from None
        if status >= 400:
            raise wire.error_from(_json_or_none(raw), status)
        try:
            return wire.loads(raw, kind)
        except ValueError as exc:
            raise wire.ControlError(
                f"the host's answer to {method} {path} is unreadable: {exc}", status=status
            ) from None

    async def host_status(self) -> dict[str, Any]:
        """``GET /status`` as the host answers it: the status, and ``uptime_seconds``,
        ``state_path``, ``jobs`` (a count per state) and ``job_count`` (for ``status``)."""
        answer = await self._call("GET", "/status")
        self._status = wire.load(SchedulerStatus, answer)
        return answer

    async def get_jobs(self) -> list[JobSnapshot]:
        return await self._call("GET", "/jobs", kind=list[JobSnapshot])

    async def get_job(self, job_id: str) -> JobSnapshot:
        return await self._call("GET", _job(job_id), kind=JobSnapshot)

    async def recent_executions(
        self, job_id: str | None = None, limit: int = 50
    ) -> list[Execution]:
        query = f"?limit={int(limit)}"
        if job_id is not None:
            query += f"&job={quote(job_id, safe='')}"
        return await self._call("GET", "/executions" + query, kind=list[Execution])

    async def recent_runs(
        self, job_ids: Sequence[str], limit: int = 20
    ) -> dict[str, list[Execution]]:
        found: dict[str, list[Execution]] = {}
        wanted = list(dict.fromkeys(job_ids))
        for start in range(0, len(wanted), MAX_RUN_JOBS):
            body = {"jobs": wanted[start : start + MAX_RUN_JOBS], "limit": int(limit)}
            found.update(await self._call("POST", "/runs", body, kind=dict[str, list[Execution]]))
        return found

    async def next_fire_times(self, job_id: str, count: int = 10) -> list[datetime]:
        path = f"{_job(job_id)}/next?count={int(count)}"
        return await self._call("GET", path, kind=list[datetime])

    async def function_refs(self) -> list[str]:
        return await self._call("GET", "/functions", kind=list[str])

    async def register_job(
        self, job_id: str, func_ref: str, cron_expression: str, **options: Unpack[OptionKeys]
    ) -> JobSnapshot:
        body = {"id": job_id, "func": func_ref, "cron": cron_expression, **options}
        return await self._call(
            "POST", "/jobs", body, kind=JobSnapshot, action=f"register {job_id}"
        )

    async def pause_job(self, job_id: str) -> JobSnapshot:
        path = f"{_job(job_id)}/pause"
        return await self._call("POST", path, kind=JobSnapshot, action=f"pause {job_id}")

    async def resume_job(self, job_id: str) -> JobSnapshot:
        path = f"{_job(job_id)}/resume"
        return await self._call("POST", path, kind=JobSnapshot, action=f"resume {job_id}")

    async def enable_job(self, job_id: str) -> JobSnapshot:
        path = f"{_job(job_id)}/enable"
        return await self._call("POST", path, kind=JobSnapshot, action=f"enable {job_id}")

    async def disable_job(self, job_id: str) -> JobSnapshot:
        path = f"{_job(job_id)}/disable"
        return await self._call("POST", path, kind=JobSnapshot, action=f"disable {job_id}")

    async def run_job_now(self, job_id: str) -> Execution:
        path = f"{_job(job_id)}/run"
        return await self._call("POST", path, kind=Execution, action=f"run {job_id}")

    async def reschedule_job(self, job_id: str, cron_expression: str) -> JobSnapshot:
        return await self._call(
            "PUT",
            f"{_job(job_id)}/schedule",
            {"cron": cron_expression},
            kind=JobSnapshot,
            action=f"reschedule {job_id}",
        )

    async def set_timeout(self, job_id: str, timeout_seconds: float | None) -> JobSnapshot:
        return await self._call(
            "PUT",
            f"{_job(job_id)}/timeout",
            {"seconds": timeout_seconds},
            kind=JobSnapshot,
            action=f"set the timeout of {job_id}",
        )

    async def remove_job(self, job_id: str) -> None:
        await self._call("DELETE", _job(job_id), action=f"remove {job_id}")


def _job(job_id: str) -> str:
    """The route of one job: its id quoted whole, so ``/`` or ``?`` in an id stay its own."""
    return "/jobs/" + quote(job_id, safe="")


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
