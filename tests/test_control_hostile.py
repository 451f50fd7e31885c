"""The control API under hostile and broken clients: another user, malformed requests, a
flood of connections, an event-stream client that never reads. The host must refuse what
it should, answer the next good request, keep scheduling, and never stall its loop."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest

from jobs.core.control import paths
from jobs.core.control.remote import RemoteClient
from jobs.core.control.server import ControlServer
from jobs.core.records import EventKind, JobState, SchedulerEvent
from jobs.core.service import SchedulerService
from tests.test_control_api import QUICK, YEARLY, client, host, http, runtime_dir, socket_of, until

__all__ = ["client", "host", "http", "runtime_dir"]  # fixtures shared with test_control_api


def as_nobody(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command],
        capture_output=True,
        text=True,
        timeout=30,
    )


def curl_as_nobody(socket_path: Path, path: str) -> subprocess.CompletedProcess[str]:
    return as_nobody(
        "curl", "-s", "-w", "\n%{http_code}", "--unix-socket", str(socket_path),
        f"http://jobconsole{path}",
    )  # fmt: skip


async def test_another_user_can_neither_reach_the_socket_nor_pass_the_uid_check(
    host: SchedulerService, runtime_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sock = socket_of(host)
    assert os.stat(sock).st_mode & 0o777 == 0o600
    assert os.stat(sock.parent).st_mode & 0o777 == 0o700
    blocked = await asyncio.to_thread(curl_as_nobody, sock, "/jobs")
    assert blocked.returncode == 7, blocked  # curl: could not connect (permission denied)
    # Loosen every mode, as a careless chmod would: the server's own check still refuses.
    runtime_dir.chmod(0o755)
    sock.parent.chmod(0o755)
    sock.chmod(0o666)
    caplog.set_level(logging.WARNING, "jobconsole")
    for path in ("/jobs", "/events"):
        refused = await asyncio.to_thread(curl_as_nobody, sock, path)
        body, code = refused.stdout.rsplit("\n", 1)
        assert code == "403", refused
        answer = json.loads(body)
        assert answer["error"] == "ControlError"
        assert "only user id 0 may use this scheduler's control API" in answer["message"]
        assert "you are user id 65534" in answer["message"]
        assert "yearly" not in body
    assert "refused a connection from user id 65534" in caplog.text
    host.pause_job("yearly")  # and the owner is still served
    remote = RemoteClient(sock)
    await remote.start()
    try:
        assert (await remote.get_job("yearly")).state is JobState.PAUSED
    finally:
        await remote.stop()


async def test_malformed_requests_are_refused_plainly_and_change_nothing(
    host: SchedulerService, http: aiohttp.ClientSession
) -> None:
    before = host.get_jobs()
    cases: list[tuple[str, str, bytes | None, int, str]] = [
        ("POST", "/jobs", b"{not json", 400, "the body is not JSON"),
        ("POST", "/jobs", b"\xff\xfe\x00", 400, "the body is not JSON"),
        ("POST", "/jobs", b"[1, 2]", 400, "the body is a JSON list; expected an object"),
        ("POST", "/jobs", b'{"id": 5, "func": "m:f", "cron": "* * * * *"}', 400, '"id" is 5'),
        ("POST", "/jobs", b'{"id": "x", "func": "m:f"}', 400, '"cron" is missing'),
        ("PUT", "/jobs/yearly/schedule", b'{"cron": ["* * * * *"]}', 400, "not text"),
        ("PUT", "/jobs/yearly/timeout", b"{}", 400, 'needs "seconds"'),
        ("PUT", "/jobs/yearly/timeout", b'{"seconds": "ten"}', 422, "is not valid"),
        ("PUT", "/jobs/yearly/timeout", b'{"seconds": 1e999}', 422, "is not valid"),
        ("PUT", "/jobs/yearly/timeout", b'{"seconds": true}', 422, "is not valid"),
        ("POST", "/jobs", b'{"id": "x\\u001b[31m", "func": "m:f", "cron": "@daily"}', 422,
         "control or format character"),
        ("GET", "/jobs/x%00%1b%5B31m%0A", None, 404, "no job with id 'x\\x00\\x1b[31m\\n'"),
        ("GET", "/executions?limit=-1", None, 400, "limit='-1' is not valid"),
        ("GET", "/executions?limit=" + "9" * 5000, None, 400, "is not valid"),
        ("GET", "/jobs/yearly/next?count=abc", None, 400, "count='abc' is not valid"),
        ("GET", "/nowhere", None, 404, "no route GET '/nowhere'"),
        ("PATCH", "/jobs/yearly", None, 405, "is not a method of this route"),
        ("POST", "/jobs", b"x" * (ControlServer.MAX_BODY + 1), 413, "too large"),
    ]  # fmt: skip
    for method, path, body, status, words in cases:
        async with http.request(method, path, data=body) as response:
            answer = await response.json()
            assert response.status == status, (method, path, answer)
            assert words in answer["message"], (method, path, answer)
    assert host.get_jobs() == before
    assert host.is_running


async def test_garbage_on_the_socket_does_not_hurt_the_host(
    host: SchedulerService, http: aiohttp.ClientSession
) -> None:
    for garbage in (
        b"\x00\x01\x02 not http at all\r\n\r\n",
        b"GET /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n",
        b"GET /jobs HTTP/1.1\r\n" + b"X-Big: " + b"b" * 100_000 + b"\r\n\r\n",
        b"POST /jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ):
        reader, writer = await asyncio.open_unix_connection(str(socket_of(host)))
        writer.write(garbage)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(1000), 15)
        assert answer == b"" or re.match(rb"HTTP/1\.[01] 4\d\d ", answer), answer
        writer.close()
    async with http.get("/jobs") as response:
        assert response.status == 200
        assert [job["job_id"] for job in await response.json()] == ["yearly"]
    assert host.is_running


async def test_a_flood_of_idle_and_half_sent_connections_leaves_room_for_a_good_request(
    host: SchedulerService, http: aiohttp.ClientSession
) -> None:
    opened: list[asyncio.StreamWriter] = []
    try:
        for n in range(300):
            _, writer = await asyncio.open_unix_connection(str(socket_of(host)))
            if n % 2:
                writer.write(b"POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            opened.append(writer)
        started = time.monotonic()
        async with http.get("/status") as response:
            assert response.status == 200
            assert (await response.json())["running"] is True
        assert time.monotonic() - started < 5
    finally:
        for writer in opened:
            writer.close()
    assert host.is_running


async def test_an_event_client_that_never_reads_is_dropped_and_never_stalls_the_host(
    host: SchedulerService,
    client: RemoteClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ControlServer, "STREAM_QUEUE", 500)
    caplog.set_level(logging.WARNING, "jobconsole")
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(str(socket_of(host)))
    stuck.sendall(b"GET /events HTTP/1.1\r\nHost: jobconsole\r\n\r\n")
    heard: list[SchedulerEvent] = []
    client.subscribe(heard.append)  # a client that reads, which must keep up throughout

    loop = asyncio.get_running_loop()
    longest = 0.0
    ticking = True

    async def tick() -> None:
        nonlocal longest
        last = loop.time()
        while ticking:
            await asyncio.sleep(0.005)
            now = loop.time()
            longest = max(longest, now - last)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        await asyncio.sleep(0.2)  # the stuck client is subscribed
        for _ in range(30):  # 6,000 events in batches, each batch one turn of the loop
            for _ in range(100):
                host.pause_job("yearly")
                host.resume_job("yearly")
            await asyncio.sleep(0)
        await until(lambda: "dropped an event-stream client" in caplog.text)
        await until(lambda: len(heard) >= 6000)
        assert all(event.kind in (EventKind.JOB_PAUSED, EventKind.JOB_RESUMED) for event in heard)
        assert client.status().connected
    finally:
        ticking = False
        await ticker
    assert longest < 0.5, f"the host's loop stalled for {longest:.3f}s"
    assert "fell 500 events behind" in caplog.text
    # The stuck client's connection was closed: past what the kernel held, it ends.
    stuck.setblocking(False)
    ended = False
    deadline = time.monotonic() + 15
    while not ended and time.monotonic() < deadline:
        try:
            ended = stuck.recv(1 << 20) == b""
        except BlockingIOError:
            await asyncio.sleep(0.01)
        except ConnectionResetError:
            ended = True
    stuck.close()
    assert ended, "the stuck client was never disconnected"
    assert (await client.pause_job("yearly")).state is JobState.PAUSED


async def test_a_stale_socket_left_by_a_killed_host_is_replaced(
    tmp_path: Path, runtime_dir: Path
) -> None:
    from jobs.core.settings import Settings
    from jobs.core.store import Store

    settings = Settings(timezone="UTC", state_path=tmp_path / "state.sqlite3")
    stale = paths.socket_path(settings.state_path)
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    left.bind(str(stale))  # bound, then closed without unlinking: what SIGKILL leaves
    left.close()
    service = SchedulerService(settings, store=Store.open(settings))
    service.register_job("yearly", QUICK, YEARLY)
    service.start()
    try:
        remote = RemoteClient(stale)
        await remote.start()
        assert [job.job_id for job in await remote.get_jobs()] == ["yearly"]
        await remote.stop()
    finally:
        task = service.shutdown(timeout=0)
        if task is not None:
            await task
    assert not stale.exists()


async def test_sockets_of_other_killed_hosts_are_swept_and_live_ones_kept(
    tmp_path: Path, runtime_dir: Path
) -> None:
    from jobs.core.settings import Settings
    from jobs.core.store import Store

    directory = paths.socket_dir()
    dead = directory / "dead.sock"
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    left.bind(str(dead))  # a host of another state file, SIGKILLed long ago
    left.close()
    os.utime(dead, (time.time() - 3600, time.time() - 3600))
    just_bound = directory / "just-bound.sock"
    starting = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    starting.bind(str(just_bound))  # a host between bind and listen
    alive = directory / "alive.sock"
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listening.bind(str(alive))
    listening.listen(1)
    os.utime(alive, (time.time() - 3600, time.time() - 3600))
    settings = Settings(timezone="UTC", state_path=tmp_path / "state.sqlite3")
    service = SchedulerService(settings, store=Store.open(settings))
    service.start()
    try:
        assert not dead.exists()
        assert just_bound.exists() and alive.exists()
        assert paths.socket_path(settings.state_path).exists()
    finally:
        starting.close()
        listening.close()
        task = service.shutdown(timeout=0)
        if task is not None:
            await task


async def test_a_closed_control_server_lets_its_service_go(
    tmp_path: Path, runtime_dir: Path
) -> None:
    """A process that hosts more than once (a library user's tests, a console that came to
    host) must not keep every earlier service, its jobs and its store, alive."""
    import gc
    import weakref

    from jobs.core.settings import Settings
    from jobs.core.store import Store

    settings = Settings(timezone="UTC", state_path=tmp_path / "state.sqlite3")
    service = SchedulerService(settings, store=Store.open(settings))
    service.register_job("yearly", QUICK, YEARLY)
    service.start()
    remote = RemoteClient(paths.socket_path(settings.state_path))
    await remote.start()
    assert [job.job_id for job in await remote.get_jobs()] == ["yearly"]
    await remote.stop()
    task = service.shutdown(timeout=0)
    if task is not None:
        await task
    service.close()
    gone = weakref.ref(service)
    del service, task, remote
    for _ in range(50):
        gc.collect()
        if gone() is None:
            break
        await asyncio.sleep(0.05)
    assert gone() is None, "the closed server's handlers still hold the service"
