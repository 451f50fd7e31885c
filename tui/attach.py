"""A console attached to a scheduler in another process: finding it, naming it, taking over.

When a live scheduler (``run --headless``, another console, a web app) holds the state
file, ``jobconsole`` opens on a ``RemoteClient`` of it instead of refusing; the app is the
same, only its client differs. What is here is what that needs besides the app: connecting
(a scheduler holds its file a moment before it answers), the status line's words for the
host, the keys a read-only console does not offer, and building the local scheduler when
the user chooses to host once the host has gone.

No Textual at import: the command line's verbs (``tui/steer.py``) connect the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import time
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobs.core.client import LocalClient
from tui.plain_text import visible

if TYPE_CHECKING:
    from jobs.core.client import SchedulerClient, SchedulerStatus
    from jobs.core.control.remote import RemoteClient
    from jobs.core.settings import Settings

#: The exit status of a command that found no scheduler to attach to (as systemctl's 3).
EXIT_NO_HOST = 3
#: How long to wait for a scheduler that holds the state file to answer on its socket: it
#: takes the file when it opens it and serves once it schedules (10,000 jobs: a second).
ATTACH_WAIT_SECONDS = 10.0
_RETRY_SECONDS = 0.2

#: The console's actions that change something: refused, and not offered, read-only.
CHANGING_ACTIONS = frozenset(
    {"register", "pause", "resume", "run_now", "edit", "remove", "toggle_enabled", "host_here"}
)


class NoHost(Exception):
    """Nothing answers for the state file or socket; the message says what was tried."""


async def connect(
    socket: Path,
    *,
    read_only: bool = False,
    state: Path | None = None,
    wait: float = ATTACH_WAIT_SECONDS,
) -> RemoteClient | None:
    """A started ``RemoteClient`` of the scheduler serving ``socket``.

    With ``state``, a holder of that file that does not answer yet is waited for (up to
    ``wait`` seconds), and None is returned once nobody holds it: then there is no host,
    and the caller may schedule itself. Without it (``--connect``) one try is made.
    Raises ``NoHost`` when nobody answers.
    """
    from jobs.core.control.remote import RemoteClient
    from jobs.core.errors import HostUnavailableError, JobError
    from jobs.core.lock import holder

    deadline = time.monotonic() + wait
    while True:
        client = RemoteClient(socket, read_only=read_only)
        try:
            await client.start()
            return client
        except JobError as exc:
            with contextlib.suppress(Exception):
                await client.stop()
            if not isinstance(exc, HostUnavailableError):  # it answers, and refuses
                raise NoHost(f"the scheduler on {socket} refused: {exc}") from None
            if state is None:
                raise NoHost(f"no scheduler answers on {socket}: {exc}") from None
            found = holder(state)
            if found is None:
                return None
            if time.monotonic() >= deadline:
                raise NoHost(
                    f"state file {state} is held by pid {found[0]}, but no scheduler "
                    f"answers on its control socket {socket} (waited {wait:g}s); it may be "
                    "starting or stopping: try again in a moment"
                ) from None
        await asyncio.sleep(_RETRY_SECONDS)


def no_host_running(state: Path) -> str:
    """Why there is nothing to attach to, and how to start a scheduler."""
    return (
        f"no scheduler is running on {state}; start one with 'jobconsole run --headless' "
        "(or 'jobconsole', which schedules in the console)"
    )


def _host(status: SchedulerStatus) -> str:
    pid = status.host_pid if status.host_pid is not None else "unknown"
    return f"pid {pid} ({visible(status.role)})"


def host_label(status: SchedulerStatus, host_key: str | None = None) -> str:
    """The status line's words for the scheduler an attached console watches (empty for
    a console that schedules itself); ``host_key`` is the key that hosts here, if any."""
    if not status.attached:
        return ""
    if status.connected:
        return f"attached to {_host(status)}" + (", read-only" if status.read_only else "")
    hint = f"; {host_key}: schedule here" if host_key else ""
    return f"{_host(status)} went away; retrying each second{hint}"


def lost_message(status: SchedulerStatus, host_key: str | None = None) -> str:
    """The log's one line when the host goes away."""
    hint = f", or press {host_key} to schedule the jobs here" if host_key else ""
    return (
        f"lost the scheduler, {_host(status)}: showing the last picture; "
        f"reconnecting when a scheduler is back{hint}"
    )


def back_message(status: SchedulerStatus) -> str:
    return f"attached to {_host(status)} again; jobs and history reloaded"


def gone_message(host_key: str | None = None) -> str:
    """What an action says while the host is gone."""
    hint = f"; {host_key} schedules the jobs here" if host_key else ""
    return (
        "The scheduler this console was attached to has gone: nothing can be done until "
        f"one is back (this console reconnects by itself){hint}"
    )


def cannot_host_here(status: SchedulerStatus, state_known: bool) -> str | None:
    """Why this console cannot start scheduling now, or None when it can (attached, the
    host gone, and the state file here: not through ``--connect``)."""
    if not status.attached:
        return "This console schedules the jobs itself: it is attached to nothing"
    if not state_known:
        return (
            "Attached with --connect: the state file is on the other side; start a "
            "scheduler there ('jobconsole run --headless')"
        )
    if status.connected:
        return (
            f"{_host(status)} schedules these jobs: this console can schedule them only "
            "once it has gone"
        )
    return None


def show_actions(node: Any, actions: Collection[str], show: bool) -> None:
    """Show or hide ``node``'s keys for ``actions`` in the footer, for this instance only.

    The keys still work (a read-only console's then says why it cannot); Textual reads a
    key's ``show`` from its Binding, so the instance's copies are replaced (the class's
    BINDINGS stay as they are).
    """
    bindings = node._bindings.key_to_bindings
    for key, found in bindings.items():
        bindings[key] = [
            dataclasses.replace(binding, show=show)
            if binding.action.removeprefix("app.") in actions
            else binding
            for binding in found
        ]
    node.refresh_bindings()


class LocalHost:
    """How an attached console starts scheduling itself once its host has gone: the
    service built from these settings, as a hosting console builds it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def state(self) -> Path:
        return self.settings.state_path

    def build(self) -> SchedulerClient:
        """The local client, its state file taken (``StateLockedError`` if another
        scheduler has it by now) and loaded; not started yet."""
        import sys

        from jobs.core.bootstrap import build_service

        # A thread keeps the sys.stderr of its creation (for its last traceback): the state
        # file's writer must keep the process's own, not the app's capture, which would
        # keep the whole app alive (and be written into) after the app has ended.
        with contextlib.redirect_stderr(sys.__stderr__), contextlib.redirect_stdout(sys.__stdout__):
            service = build_service(self.settings, role="console")
        try:
            service.load_state()
        except BaseException:
            service.close()
            raise
        return _HostedHere(service)


class _HostedHere(LocalClient):
    """A ``LocalClient`` started outside the app's context: the timers and tasks the
    scheduler makes as it starts copy the context they are made in, which would keep the
    app alive through them."""

    async def start(self) -> None:
        await asyncio.get_running_loop().create_task(super().start(), context=contextvars.Context())
