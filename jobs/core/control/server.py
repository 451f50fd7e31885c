"""The control API: HTTP and JSON over the state file's Unix socket, served by its host.

Whatever process schedules from a state file (the console, ``run --headless``, an app that
embeds ``SchedulerService``) serves it in its own event loop, so a console, a command or
``curl`` can watch and steer that scheduler from outside. Each route is a call of the
service's own, answered with what it returned or with the refusal it raised (the same
words, the class by name); the README's "Control API" section lists them.

Only the owner gets in: the socket is 0600 in a 0700 directory (``paths.py``), and each
request's peer is checked with ``SO_PEERCRED`` besides, for a directory loosened by hand.
Nothing a client sends can hold the host up: bodies are bounded, every handler is one
quick call on the loop, and an event-stream client that stops reading is dropped once
its queue fills (its writes wait in its own task, never in the service's ``_emit``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import stat
import struct
import weakref
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web, web_app

from jobs.core import funcs, job_options
from jobs.core.control import paths, wire
from jobs.core.control.wire import ControlError
from jobs.core.errors import shown
from jobs.core.records import EventKind, SchedulerEvent, SchedulerStatus

log = logging.getLogger("jobconsole")

_CRED = struct.Struct("3i")  # struct ucred: pid, uid, gid
_JSON = "application/json"
#: Events after which the status a client holds has changed: a status frame follows them.
_STATUS_EVENTS = frozenset(
    {
        EventKind.SCHEDULER_STARTED,
        EventKind.SCHEDULER_STOPPED,
        EventKind.STATE_ERROR,
        EventKind.STATE_RECOVERED,
    }
)
_serving: weakref.WeakSet[ControlServer] = weakref.WeakSet()


class _Stream:
    """One client of ``GET /events``: the frames waiting for it and its connection."""

    __slots__ = ("dropped", "frames", "peer", "transport")

    def __init__(self, limit: int, transport: asyncio.Transport | None, peer: str) -> None:
        self.frames: asyncio.Queue[bytes | None] = asyncio.Queue(limit)
        self.transport = transport
        self.peer = peer
        self.dropped = False


class ControlServer:
    """The control API of one service, on the socket of its state file.

    ``ControlServer.serve(service)`` binds the socket at once (so it exists, and queues
    connections, as soon as ``start()`` returns) and starts answering on the next turn of
    the loop; ``await close()`` ends the event streams, removes the socket and stops.
    """

    #: Frames an event-stream client may fall behind by before it is dropped.
    STREAM_QUEUE = 10_000
    #: A comment frame this often, so a client can tell a quiet host from a lost one.
    HEARTBEAT_SECONDS = 1.0
    #: The largest request body (registering a job takes a few hundred bytes).
    MAX_BODY = 64 * 1024

    # ``service`` is a SchedulerService: the service imports this module, not the reverse.
    def __init__(self, service: Any, path: Path, sock: socket.socket) -> None:
        self.service = service
        self.path = path
        self.started_at = datetime.now(UTC)
        self._sock = sock
        self._inode = os.stat(path).st_ino
        self._uid = os.getuid()
        self._streams: set[_Stream] = set()
        self._functions: list[str] | None = None
        self._refused: weakref.WeakSet[Any] = weakref.WeakSet()
        self._closed = False
        self._loop = asyncio.get_running_loop()
        self._unsubscribe: Any = None  # subscribed while a client listens, as LocalClient
        self._beat = self._loop.call_later(self.HEARTBEAT_SECONDS, self._heartbeat)
        self._runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=1.0)
        self._starting = self._loop.create_task(self._begin(), name="jobconsole:control")
        _serving.add(self)

    @classmethod
    def serve(cls, service: Any, state_path: Path) -> ControlServer:
        """Bind the socket of ``state_path`` (replacing one a killed host left) and serve.

        The caller holds the state file, so a socket already there is a dead host's.
        Raises ``paths.ControlPathError`` or ``OSError`` when it cannot be served.
        """
        path = paths.socket_path(state_path)
        with contextlib.suppress(FileNotFoundError):
            if not stat.S_ISSOCK(os.lstat(path).st_mode):
                raise paths.ControlPathError(
                    f"control socket {path} is there but is not a socket; remove it"
                )
            os.unlink(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(os.fspath(path))
            os.chmod(path, 0o600)
            sock.listen(128)
            sock.setblocking(False)
            paths.sweep_stale(path.parent, keep=path)
            return cls(service, path, sock)
        except BaseException:
            sock.close()
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise

    # ------------------------------------------------------------------ lifecycle

    def _app(self) -> web.Application:
        app = web.Application(
            client_max_size=self.MAX_BODY, middlewares=[self._only_owner, self._errors]
        )
        job = "/jobs/{job_id}"
        app.add_routes(
            [
                web.get("/status", self._get_status),
                web.get("/jobs", self._get_jobs),
                web.post("/jobs", self._register),
                web.get(job, self._get_job),
                web.delete(job, self._remove),
                web.get(job + "/next", self._next_times),
                web.post(job + "/pause", self._pause),
                web.post(job + "/resume", self._resume),
                web.post(job + "/enable", self._enable),
                web.post(job + "/disable", self._disable),
                web.post(job + "/run", self._run_now),
                web.put(job + "/schedule", self._reschedule),
                web.post(job + "/schedule", self._reschedule),
                web.put(job + "/timeout", self._set_timeout),
                web.post(job + "/timeout", self._set_timeout),
                web.get("/executions", self._executions),
                web.post("/runs", self._recent_runs),
                web.get("/functions", self._get_functions),
                web.get("/events", self._events),
            ]
        )
        return app

    async def _begin(self) -> None:
        await self._runner.setup()
        await web.SockSite(self._runner, self._sock).start()

    async def close(self) -> None:
        """End every event stream (after the frames already queued), stop answering and
        remove the socket, unless another host has bound that path since."""
        if self._closed:
            return
        self._closed = True
        _serving.discard(self)
        self._listen(False)
        self._beat.cancel()
        with contextlib.suppress(FileNotFoundError):
            if os.stat(self.path).st_ino == self._inode:
                os.unlink(self.path)
        for stream in list(self._streams):
            try:
                stream.frames.put_nowait(None)
            except asyncio.QueueFull:
                self._drop(stream, "the scheduler is stopping")
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._starting
        with contextlib.suppress(RuntimeError):  # never set up: it failed to start
            await self._runner.cleanup()
        self._sock.close()
        _forget_handlers()

    def _forget(self) -> None:
        """In a forked child: close the copies of the sockets, so a client sees the host
        go when the host goes, not when the child does."""
        self._sock.close()
        for stream in self._streams:
            raw = stream.transport.get_extra_info("socket") if stream.transport else None
            with contextlib.suppress(Exception):
                getattr(raw, "_sock", raw).close()

    # ------------------------------------------------------------------ events

    def _listen(self, on: bool) -> None:
        """Hear the service only while someone listens: an event costs the service a
        snapshot only when it is heard, and a state file's trouble goes to the log when
        nobody would hear it."""
        if on and self._unsubscribe is None:
            self._unsubscribe = self.service.subscribe(self._hear)
        elif not on and self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _hear(self, event: SchedulerEvent) -> None:
        self._send(wire.frame("event", event))
        if event.kind in _STATUS_EVENTS:
            self._send(wire.frame("status", self.status()))

    def _send(self, data: bytes) -> None:
        for stream in list(self._streams):
            try:
                stream.frames.put_nowait(data)
            except asyncio.QueueFull:
                self._drop(stream, f"it fell {self.STREAM_QUEUE} events behind")

    def _heartbeat(self) -> None:
        self._send(b": ping\n\n")
        self._beat = self._loop.call_later(self.HEARTBEAT_SECONDS, self._heartbeat)

    def _drop(self, stream: _Stream, why: str) -> None:
        self._forget_stream(stream)
        if stream.dropped:
            return
        stream.dropped = True
        log.warning("control API: dropped an event-stream client (%s): %s", stream.peer, why)
        if stream.transport is not None:
            stream.transport.abort()  # wakes its task, waiting in a write, with an error

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        stream = _Stream(self.STREAM_QUEUE, request.transport, _peer(request))
        stream.frames.put_nowait(wire.frame("status", self.status()))
        self._streams.add(stream)
        self._listen(True)
        try:
            while not stream.dropped:
                data = await stream.frames.get()
                if data is None:
                    break
                await response.write(data)
        except (ConnectionError, RuntimeError):  # gone, or dropped: aborted under a write
            pass
        finally:
            self._forget_stream(stream)
        return response

    def _forget_stream(self, stream: _Stream) -> None:
        self._streams.discard(stream)
        if not self._streams:
            self._listen(False)

    # ------------------------------------------------------------------ guards

    @web.middleware
    async def _only_owner(self, request: web.Request, handler: Any) -> web.StreamResponse:
        pid, uid = _credentials(request)
        if uid != self._uid:
            if request.transport is not None and request.transport not in self._refused:
                self._refused.add(request.transport)
                log.warning(
                    "control API: refused a connection from user id %s (pid %s): only "
                    "user id %s may steer this scheduler",
                    uid,
                    pid,
                    self._uid,
                )
            return _error(
                ControlError(
                    f"only user id {self._uid} may use this scheduler's control API; you "
                    f"are user id {uid}",
                    status=403,
                )
            )
        return await handler(request)

    @web.middleware
    async def _errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            message = _http_message(exc, request)
            return _error(ControlError(message, status=exc.status))
        except Exception as exc:
            if wire.status_of(exc) == 500:
                log.exception("control API: %s %s failed", request.method, shown(request.path))
            return _error(exc)

    # ------------------------------------------------------------------ reads

    def status(self) -> SchedulerStatus:
        return self.service.status()

    async def _get_status(self, request: web.Request) -> web.Response:
        status = self.status()
        counts = Counter(job.state.value for job in self.service.get_jobs())
        body = {name: getattr(status, name) for name in wire._field_names(SchedulerStatus)}
        body.update(
            uptime_seconds=round((datetime.now(UTC) - self.started_at).total_seconds(), 3),
            state_path=str(self.service.settings.state_path),
            jobs=dict(sorted(counts.items())),
            job_count=sum(counts.values()),
        )
        return _answer(body)

    async def _get_jobs(self, request: web.Request) -> web.Response:
        return _answer(self.service.get_jobs())

    async def _get_job(self, request: web.Request) -> web.Response:
        return _answer(self.service.get_job(request.match_info["job_id"]))

    async def _next_times(self, request: web.Request) -> web.Response:
        count = _count(request, "count", 10, 1000)
        return _answer(self.service.next_fire_times(request.match_info["job_id"], count))

    async def _executions(self, request: web.Request) -> web.Response:
        limit = _count(request, "limit", 50, 10_000)
        job_id = request.query.get("job")
        await asyncio.to_thread(self.service.wait_written)  # runs announced are in the file
        return _answer(self.service.recent_executions(job_id, limit=limit))

    async def _recent_runs(self, request: web.Request) -> web.Response:
        body = await _body(request)
        jobs, limit = body.get("jobs"), body.get("limit", 20)
        if not (
            isinstance(jobs, list)
            and len(jobs) <= wire.MAX_RUN_JOBS
            and all(isinstance(job_id, str) for job_id in jobs)
        ):
            raise ControlError(
                f'the body\'s "jobs" is {"missing" if jobs is None else shown(jobs)}; '
                f"expected a list of at most "
                f"{wire.MAX_RUN_JOBS} job ids",
                field="jobs",
            )
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= wire.MAX_RUNS:
            raise ControlError(
                f'the body\'s "limit" is {shown(limit)}; expected a whole number from 1 to '
                f"{wire.MAX_RUNS}",
                field="limit",
            )
        return _answer(self.service.recent_runs(jobs, limit))

    async def _get_functions(self, request: web.Request) -> web.Response:
        if self._functions is None:  # a walk of the package's files: once
            registry = self.service.settings.registry
            self._functions = funcs.discover(registry.rpartition(".")[0] or registry)
        return _answer(self._functions)

    # ------------------------------------------------------------------ actions

    async def _register(self, request: web.Request) -> web.Response:
        body = await _body(request)
        job_id = _text(body, "id", "job_id")
        func_ref = _text(body, "func", "func")
        expression = _text(body, "cron", "cron_expression")
        options = {name: body[name] for name in job_options.NAMES if name in body}
        snapshot = self.service.register_job(job_id, func_ref, expression, **options)
        return _answer(snapshot, status=201)

    async def _pause(self, request: web.Request) -> web.Response:
        return _answer(self.service.pause_job(request.match_info["job_id"]))

    async def _resume(self, request: web.Request) -> web.Response:
        return _answer(self.service.resume_job(request.match_info["job_id"]))

    async def _enable(self, request: web.Request) -> web.Response:
        return _answer(self.service.enable_job(request.match_info["job_id"]))

    async def _disable(self, request: web.Request) -> web.Response:
        return _answer(self.service.disable_job(request.match_info["job_id"]))

    async def _run_now(self, request: web.Request) -> web.Response:
        return _answer(self.service.run_job_now(request.match_info["job_id"]), status=202)

    async def _reschedule(self, request: web.Request) -> web.Response:
        expression = _text(await _body(request), "cron", "cron_expression")
        return _answer(self.service.reschedule_job(request.match_info["job_id"], expression))

    async def _set_timeout(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if "seconds" not in body:
            raise ControlError(
                'the body needs "seconds": a number of seconds, or null for no timeout',
                field="timeout_seconds",
            )
        job_id = request.match_info["job_id"]
        return _answer(self.service.set_timeout(job_id, body["seconds"]))

    async def _remove(self, request: web.Request) -> web.Response:
        job_id = request.match_info["job_id"]
        self.service.remove_job(job_id)
        return _answer({"removed": job_id})


# ---------------------------------------------------------------------- helpers


def _answer(value: Any, status: int = 200) -> web.Response:
    return web.Response(body=wire.dumps(value), status=status, content_type=_JSON)


def _error(exc: BaseException) -> web.Response:
    return _answer(wire.error_body(exc), status=wire.status_of(exc))


def _http_message(exc: web.HTTPException, request: web.Request) -> str:
    where = f"{request.method} {shown(request.path, 80)}"
    if exc.status == 404:
        return f"no route {where}; the README's Control API section lists them"
    if exc.status == 405:
        return f"{where} is not a method of this route; the README lists them"
    if exc.status == 413:
        return f"the body of {where} is too large (at most {ControlServer.MAX_BODY} bytes)"
    return f"{where}: {exc.reason}"


def _credentials(request: web.Request) -> tuple[int | None, int | None]:
    raw = request.transport.get_extra_info("socket") if request.transport else None
    if raw is None:
        return None, None
    try:
        pid, uid, _ = _CRED.unpack(
            raw.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size)
        )
    except OSError:
        return None, None
    return pid, uid


def _peer(request: web.Request) -> str:
    pid, _ = _credentials(request)
    return f"pid {pid}" if pid else "pid unknown"


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise ControlError(f"the body is not JSON ({exc}); expected a JSON object") from None
    if not isinstance(data, dict):
        raise ControlError(f"the body is a JSON {type(data).__name__}; expected an object")
    return data


def _text(body: dict[str, Any], key: str, field: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        what = "missing" if key not in body else f"{shown(value)}, not text"
        raise ControlError(f'the body\'s "{key}" is {what}; expected a string', field=field)
    return value


def _count(request: web.Request, key: str, default: int, most: int) -> int:
    raw = request.query.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= most:
        raise ControlError(
            f"{key}={shown(raw)} is not valid; expected a whole number from 1 to {most}",
            field=key,
        )
    return value


def _forget_handlers() -> None:
    """Let a closed server go: aiohttp caches each request's handler chain in a module-level
    cache keyed by the handler, a bound method of the server, which holds the service."""
    cache = getattr(web_app, "_cached_build_middleware", None)
    if cache is not None and hasattr(cache, "cache_clear"):
        cache.cache_clear()


def _after_fork_in_child() -> None:
    for server in list(_serving):
        server._forget()
    _serving.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)
