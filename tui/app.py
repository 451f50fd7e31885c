"""JobConsoleApp: the console. It composes the widgets, turns keys into calls of its
scheduler client and the client's events into widget updates; it owns no scheduling logic
and does not know where the scheduler runs (``jobs.core.client``).

The client's callback runs inside the call that caused the event, so it only queues the
event (``tui.event_batch``); the app applies what queued once per turn of its message
loop, a burst of executions at once. Drawing happens once per frame, and countdowns are
redrawn by a one-second tick for the rows on screen only.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widgets import Input, Static

from jobs.core import cron
from jobs.core.client import SchedulerClient
from jobs.core.errors import (
    DuplicateJobError,
    HostUnavailableError,
    InvalidJobError,
    JobError,
    JobNotFoundError,
    ReadOnlyError,
)
from jobs.core.job_options import parse_timeout
from jobs.core.records import (
    NEXT_RUNS_ONLY,
    EventKind,
    Execution,
    ExecutionStatus,
    JobRow,
    JobSnapshot,
    JobSource,
    JobState,
    RegistryLoad,
    SchedulerEvent,
    SchedulerStatus,
)
from tui import attach, plain_text
from tui.collector import IdleCollector
from tui.commands import JobCommands, JobJumps
from tui.counters import RecentCount
from tui.event_batch import EventQueue
from tui.forms import register_error, register_options
from tui.preferences import Preferences, PreferenceStore
from tui.screens.sort import SORT_KEYS, SortScreen
from tui.signals import TerminalWatch
from tui.widgets import (
    ExecutionLog,
    FilterBar,
    Footer,
    JobTable,
    SchedulerState,
    Status,
    StatusBar,
)
from tui.widgets.execution_log import MAX_ENTRIES, entry_time
from tui.widgets.job_table import COLUMNS, RUNS_SHOWN
from tui.widgets.status_bar import MEMORY_ONLY

if TYPE_CHECKING:
    from tui.screens import EditScheduleScreen, JobDetailScreen, RegisterScreen

Clock = Callable[[], datetime]

#: Executions shown in a job's detail view, and loaded when the log is scoped to a job.
DETAIL_EXECUTIONS = 20
#: Runs the detail view's chart and figures are drawn from (their summaries only).
DETAIL_RUNS = 100
#: How far back `o` looks for a run that started (missed and skipped ones did not).
OUTPUT_LOOKBACK = 50
SCOPED_LOG_HISTORY = 200
FAILURE_WINDOW = timedelta(hours=1)
_LOGGED_JOB_EVENTS = frozenset(
    {
        EventKind.JOB_ADDED,
        EventKind.JOB_REMOVED,
        EventKind.JOB_PAUSED,
        EventKind.JOB_RESUMED,
        EventKind.JOB_RESCHEDULED,
        EventKind.JOB_ENABLED,
        EventKind.JOB_DISABLED,
    }
)
#: Alerts notified one by one in a batch; the rest are counted in one more.
ALERTS_SHOWN = 3
DESCRIBE_SLICE = 100  # ~8 ms of cron-descriptor per loop iteration
#: Registry entries loaded before the first frame (a screenful and more), then per step
#: after it (~10-20 ms each, so keys are still answered while the rest loads).
FIRST_ENTRIES = 200
ENTRIES_PER_STEP = 1000
LOADING_SHOWN_EVERY = 0.25  # seconds


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _log_order(execution: Execution) -> tuple[datetime, int]:
    """Oldest first by the time the log shows (ids follow start order, not end order)."""
    return (entry_time(execution) or datetime.min.replace(tzinfo=UTC), execution.id)


async def _describe_ahead(expressions: list[str]) -> None:
    """Word every expression a slice per loop iteration, while the user reads the table,
    so that the first filter keystroke or sort by description finds them ready."""
    for start in range(0, len(expressions), DESCRIBE_SLICE):
        for expression in expressions[start : start + DESCRIBE_SLICE]:
            with contextlib.suppress(cron.CronError):
                cron.describe(cron.parse(expression).normalized)  # cached for later
        await asyncio.sleep(0)


def _is_output(screen: object) -> bool:
    """Whether ``screen`` is the output view, asked without importing it: it brings Rich's
    Syntax and Textual's TextArea, a tenth of a bare app's start, so it waits until shown."""
    return _is_screen(screen, "output", "OutputScreen")


def _is_screen(screen: object, module: str, name: str) -> bool:
    """Whether ``screen`` is ``tui.screens.<module>``'s ``name``, asked without importing
    it: each screen is imported when first shown, none before the first frame."""
    found = sys.modules.get(f"tui.screens.{module}")
    return found is not None and isinstance(screen, getattr(found, name))


def _state_file(status: SchedulerStatus) -> str:
    """The status line's state file: the one in use, or that there is none (a host always
    has one: one that does not say is of an earlier version)."""
    if status.state_path is not None:
        return plain_text.visible(status.state_path)
    return "" if status.attached else MEMORY_ONLY


class JobConsoleApp(App[None]):
    """The jobconsole: a live job table, an execution log and a key for every action.

    ``clock`` drives countdowns, the status clock and previews (tests freeze it);
    ``autostart`` False leaves the scheduler stopped (for snapshots of a fixed state).
    ``manage_gc`` lets the console decide when Python's collector may pause it
    (``tui/collector.py``): start-up's objects are frozen out of its sight and full
    collections wait for a quiet keyboard. It is process-wide, so only the command sets
    it; the command also holds the collector off until start-up is done.

    An attached console (a started ``RemoteClient``: ``client.status().attached``) steers
    a scheduler in another process; ``host_here`` lets it schedule itself once that host
    has gone (``tui/attach.py``), and a read-only one does not offer what it cannot do.
    """

    CSS_PATH = "app.tcss"
    TITLE = "jobconsole"
    COMMANDS = App.COMMANDS | {JobCommands, JobJumps}

    # In order of importance: a narrow footer shows the first ones (all are in `?`).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "register", "New", tooltip="Register a new job"),
        Binding("enter", "detail", "Details", tooltip="Show the selected job's details"),
        Binding("o", "output", "Output", tooltip="The selected job's latest output, whole"),
        Binding("p", "pause", "Pause", tooltip="Pause the selected job"),
        Binding("r", "resume", "Resume", tooltip="Resume the selected job"),
        Binding("t", "run_now", "Run", tooltip="Run the selected job now"),
        Binding("e", "edit", "Edit", tooltip="Edit the selected job's cron expression"),
        Binding("d", "remove", "Remove", tooltip="Remove the selected job (asks first)"),
        Binding(
            "E",
            "toggle_enabled",
            "Enable/disable",
            tooltip="Enable the selected job, or disable it: listed, never run on schedule",
            show=False,  # the footer has no room; `p` on a disabled job names it
        ),
        Binding("question_mark", "help", "Help", tooltip="Show every key"),
        Binding("q", "quit", "Quit", tooltip="Quit; running jobs get a bounded time"),
        Binding("slash", "filter", "Filter", tooltip="Filter the jobs by typing"),
        Binding("s", "sort", "Sort", tooltip="Sort: a key per column (or click a header)"),
        Binding("S", "sort_reverse", "Reverse", tooltip="Reverse the sort order", show=False),
        Binding("l", "toggle_log", "Log", tooltip="Log: all jobs or the selected job"),
        Binding("w", "timeline", "Timeline", tooltip="When the jobs fire: the next 24 hours"),
        Binding(
            "a",
            "toggle_alerts",
            "Alerts",
            tooltip="Bell and notification on failures, recoveries, missed runs: on/off",
            show=False,
        ),
        Binding(
            "h",
            "host_here",
            "Host here",
            tooltip="Attached and the host has gone: schedule the jobs in this console",
            show=False,  # in the footer only while the host is gone
        ),
    ]

    class SchedulerEvents(Message):
        """Events have queued since the last of these was handled (``EventQueue``)."""

    def __init__(
        self,
        client: SchedulerClient,
        *,
        clock: Clock | None = None,
        autostart: bool = True,
        manage_gc: bool = False,
        host_here: attach.LocalHost | None = None,
        preferences: PreferenceStore | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self._host_here = host_here
        self.preferences = preferences or PreferenceStore()
        self.preferences_problem: str | None = None
        self.clock: Clock = clock or _utcnow
        self.autostart = autostart
        self._collector = IdleCollector(self.set_timer) if manage_gc else None
        self._unsubscribe: Callable[[], None] | None = None
        self._failures = RecentCount(FAILURE_WINDOW)
        #: Registry entries not loaded, shown as rows in the error state, by row id.
        self._rejected: dict[str, str] = {}
        self.alerts = False
        self._shutting_down = False
        self._terminal = TerminalWatch(
            self,
            quit=lambda: self.call_next(self.action_quit),
            quitting=lambda: self._shutting_down,
        )
        self._starting = False
        #: How far the registry has loaded, until every entry has (then None).
        self._loading: RegistryLoad | None = RegistryLoad(0, 1, settled=False)
        self._log_scope: str | None = None  # the saved one, applied once all are loaded
        #: Where the first frame put the cursor, and whether a key acted since: the saved
        #: scope moves the cursor only when neither the user nor a key has.
        self._first_cursor: str | None = None
        self._acted = False
        # Until the service says SCHEDULER_STARTED; an attached console's host has.
        self._all_scheduled = client.status().attached
        self._events = EventQueue(lambda: self.post_message(self.SchedulerEvents()))
        self.tz: tzinfo = client.status().tz
        if client.status().read_only:
            attach.show_actions(self, attach.CHANGING_ACTIONS, show=False)

    # ---------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        tz = self.tz
        yield StatusBar(id="status")
        yield Static(self.client.status().disabled_reason or "", id="banner")
        yield FilterBar(id="filter")
        yield JobTable(id="jobs", tz=tz, clock=self.clock)
        yield ExecutionLog(id="log", tz=tz, clock=self.clock)
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        self._table = self.query_one("#jobs", JobTable)
        self._log = self.query_one("#log", ExecutionLog)
        self._status = self.query_one(StatusBar)
        self._table.focus()
        await self._apply_preferences()
        # The first frame shows the registry's first jobs (when the state file has nothing
        # to merge into them) before the rest is loaded, a step per loop iteration.
        await self._load_registry(FIRST_ENTRIES)
        loading = self._loading
        if loading is not None:
            if loading.settled:
                self._table.set_rows(await self.client.get_job_rows())
            self._first_cursor = self._table.selected_job_id
            self._table.loading_note = self._loading_note()
            self.call_after_refresh(
                lambda: self.run_worker(self._load_rest(), name="load", group="load")
            )
        status = self.client.status()
        banner = self.query_one("#banner", Static)
        banner.display = status.disabled_reason is not None
        self._terminal.install()
        await self._tick()
        # Tick just after each wall-clock second, so countdowns change with the clock.
        self.set_timer(1.02 - time.time() % 1, lambda: self.set_interval(1, self._tick))

    async def _apply_preferences(self) -> None:
        """The saved theme, sort and alerts (the log's scope once every job is loaded)."""
        chosen, problem = self.preferences.load()
        if problem:
            self._notify(problem, severity="warning", timeout=10)
        if chosen.theme in self.available_themes:
            self.theme = chosen.theme
        if chosen.sort_column in SORT_KEYS:
            self._table.sort_by(chosen.sort_column, reverse=chosen.sort_reverse)
        self._log_scope = chosen.log_scope
        self.alerts = chosen.alerts

    async def _load_registry(self, count: int | None) -> None:
        """Load ``count`` more registry entries (None: all that are left); once every one
        is, read the jobs and the history and start."""
        if self._loading is None:
            return
        self._loading = loading = await self.client.load_registry_step(count)
        if loading.done:
            self._loading = None
            await self._all_loaded()

    async def _load_rest(self) -> None:
        """After the first frame: the rest of the registry, a step per loop iteration. The
        status line says how far a few times a second (each redraw costs the loading)."""
        shown = time.monotonic()
        while self._loading is not None and not self._shutting_down:
            await self._load_registry(ENTRIES_PER_STEP)
            if self._loading is not None and time.monotonic() - shown > LOADING_SHOWN_EVERY:
                shown = time.monotonic()
                self._table.loading_note = self._loading_note()
                self._refresh_status()
            await asyncio.sleep(0)

    def _loading_note(self) -> str:
        loading = self._loading
        if loading is None:
            return ""
        return f"loading jobs: {loading.loaded:,} of {loading.total:,}"

    async def _all_loaded(self) -> None:
        """Every registry entry is loaded and merged: every job, its history and its bad
        entries are shown, and the scheduler starts (after a frame)."""
        self._table.loading_note = ""
        untouched = not self._acted and self._table.selected_job_id == self._first_cursor
        await self._load_history()
        self._unsubscribe = self.client.subscribe(self._events.put)
        self._events.supersede_jobs()
        self._table.set_rows(await self._read_jobs())
        scope, self._log_scope = self._log_scope, None
        if scope is not None and untouched and self._table.get_job(scope) is not None:
            self._table.select(scope)  # the log follows the cursor: both on that job
            await self._scope_log(scope)
        self._report_rejected()
        if self.autostart and not self._shutting_down:
            # Draw first, then start: with thousands of jobs, handing them all to
            # APScheduler takes a moment the user need not stare at a blank terminal for.
            self._starting = True
            self.call_after_refresh(self._start_scheduler)
        self._refresh_status()

    def _save_preferences(self) -> None:
        try:
            table, log = self._table, self._log
        except AttributeError:  # ended before it was mounted
            return
        problem = self.preferences.save(
            Preferences(
                theme=self.theme,
                sort_column=table.sort_column,
                sort_reverse=table.sort_reverse,
                log_scope=self._log_scope or log.scope,  # not applied yet while loading
                alerts=self.alerts,
            )
        )
        self.preferences_problem = problem  # the command prints it once the terminal is back

    async def _load_history(self) -> None:
        history = sorted(await self.client.recent_executions(limit=MAX_ENTRIES), key=_log_order)
        self._log.load(history)
        self._failures = RecentCount(FAILURE_WINDOW)
        for execution in history:
            if execution.status.is_failure:
                self._failures.add(entry_time(execution) or self.clock())

    async def _read_jobs(self) -> list[JobRow]:
        """Every job, and a row in the error state for each registry entry not loaded."""
        jobs = await self.client.get_job_rows()
        return jobs + self._rejected_rows(jobs)

    def _rejected_rows(self, jobs: list[JobRow]) -> list[JobRow]:
        entries = self.client.status().rejected
        if entries:
            held = {job.job_id for job in jobs}
            entries = tuple(entry for entry in entries if entry.row_id not in held)
        self._rejected = {entry.row_id: entry.message for entry in entries}
        return [JobRow.of(entry.snapshot()) for entry in entries]

    def _report_rejected(self) -> None:
        """Each registry entry not loaded: a notification and a line in the log, beside
        its row in the table."""
        status = self.client.status()
        for message in status.boot_errors:
            self._notify(message, title="Not loaded", severity="error", timeout=30)
        now = self.clock()
        for entry in status.rejected:
            why = f"not loaded: {entry.reason}"
            self._log.add(
                SchedulerEvent(kind=EventKind.WARNING, at=now, job_id=entry.row_id, message=why)
            )

    def _alert(self, events: list[SchedulerEvent]) -> None:
        """Alerts on: the bell once for a batch with a failure, recovery or missed run,
        and a notification for each (the first few; the rest counted in one more)."""

        def last_status(job_id: str) -> ExecutionStatus | None:
            job = self._table.get_job(job_id)
            return job.last_status if job is not None else None

        from tui.alerts import alerts_of  # alerts are off until `a`: not at the first frame

        found = alerts_of(events, last_status)
        if not found:
            return
        self.bell()
        for alert in found[:ALERTS_SHOWN]:
            self._notify(
                alert.text,
                title=str(alert.kind).capitalize(),
                severity="error" if alert.is_bad else "information",
            )
        if len(found) > ALERTS_SHOWN:
            more = found[ALERTS_SHOWN:]
            bad = sum(alert.is_bad for alert in more)
            self._notify(
                f"and {len(more)} more ({bad} failed or missed): the log has each",
                severity="error" if bad else "information",
            )

    async def _start_scheduler(self) -> None:
        """Start the scheduler (once); a key pressed before the first frame starts it too,
        after loading what is left of the registry. An attached client was started before
        the app: its host schedules already."""
        await self._load_registry(None)
        if not self._starting:
            return
        self._starting = False
        if not self.client.status().attached:
            # Next run times come with SCHEDULER_STARTED, once every job has one.
            await self.client.start()
        self._refresh_status()
        if self._collector is not None:
            self._collector.start()
        if self._all_scheduled or self.client.status().disabled_reason:
            self._start_describing()  # attached (the host has scheduled them), or off

    def _start_describing(self) -> None:
        """Word the expressions ahead, a slice per loop iteration: once every job is
        scheduled, as until then it would share the loop with the hand-over."""
        expressions = self._table.expressions()
        if len(expressions) > DESCRIBE_SLICE:
            self.run_worker(_describe_ahead(expressions), name="describe", group="describe")

    async def on_unmount(self) -> None:
        """However the app ends, the scheduler ends with it.

        `q` has already shut it down gracefully by now; any other exit (an error, a test
        harness calling ``exit``) cancels running jobs at once, and they are recorded so.
        """
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._terminal.uninstall()
        if self._collector is not None:
            self._collector.stop()
        self._save_preferences()
        await self.client.stop(timeout=0)

    # ------------------------------------------------------- scheduler events

    async def on_job_console_app_scheduler_events(self, message: SchedulerEvents) -> None:
        await self._apply_events()

    async def _apply_events(self) -> None:
        """Apply every event queued: each changed row once, every event to the log, and
        a job's open detail view refilled once for the batch."""
        if not len(self._events):
            return
        batch = self._events.take()
        if self.alerts:
            self._alert(batch.events)
        if self._rejected:
            for job_id in batch.jobs:
                self._rejected.pop(job_id, None)  # a job of that id now: the row is the job's
        self._table.apply(batch.jobs)
        for event in batch.events:
            self._apply_event(event)
        self._refresh_status()
        if any(event.kind is EventKind.HOST_BACK for event in batch.events):
            await self._host_back()
        elif started := [e for e in batch.events if e.kind is EventKind.SCHEDULER_STARTED]:
            # The one update for the whole start: every job has its next run time now
            # (and when the start merged the state file, maybe more: read them all).
            key, only = NEXT_RUNS_ONLY
            try:
                if all(event.details.get(key) == only for event in started):
                    self._table.set_next_runs(await self.client.next_run_times())
                else:
                    self._events.supersede_jobs()
                    self._table.set_rows(await self._read_jobs())
            except HostUnavailableError:
                return  # gone again: its HOST_LOST is on its way
            self._refresh_status()  # the counts, of the jobs as read
            self.call_after_refresh(self._start_describing)  # the frame first
        touched = batch.job_ids
        for screen in list(self.screen_stack):
            if _is_screen(screen, "job_detail", "JobDetailScreen") and screen.job_id in touched:
                await self._fill_detail(screen)
            elif _is_output(screen):
                for event in batch.events:
                    if event.execution is not None and event.execution.id == screen.execution_id:
                        screen.show(event.execution)

    def _apply_event(self, event: SchedulerEvent) -> None:
        execution = event.execution
        if execution is not None:
            self._log.add(execution)
            self._table.add_execution(execution)
            if execution.status.is_failure:
                self._failures.add(entry_time(execution) or event.at)
        elif event.kind in _LOGGED_JOB_EVENTS or (
            event.kind is EventKind.JOB_UPDATED and event.message
        ):
            self._log.add(event)  # what someone did, here or in another console
        elif event.kind in (
            EventKind.WARNING,
            EventKind.SCHEDULER_STARTED,
            EventKind.SCHEDULER_STOPPED,
            EventKind.STATE_ERROR,
            EventKind.STATE_RECOVERED,
        ):
            self._log.add(event)
            if event.kind is EventKind.WARNING:
                self._notify(event.message, severity="warning", timeout=10)
            elif event.kind is EventKind.STATE_ERROR:  # and in the status line until fixed
                self._notify(event.message, severity="error", timeout=30)
            elif event.kind is EventKind.SCHEDULER_STARTED:
                self._all_scheduled = True
                if self._collector is not None:
                    # Every job is with APScheduler now (handed over in chunks after
                    # start): keep what that built out of the collector's walks too.
                    self._collector.freeze()
        elif event.kind is EventKind.HOST_LOST:
            message = attach.lost_message(self.client.status(), self._host_key())
            self._log.add(dataclasses.replace(event, message=message))
            self._notify(message, severity="error", timeout=10)
            attach.show_actions(self, {"host_here"}, show=self._host_key() is not None)

    async def _host_back(self) -> None:
        """A scheduler answers again (perhaps another process, after a takeover): read
        everything afresh, as at start-up, and say so."""
        attach.show_actions(self, {"host_here"}, show=False)
        try:
            await self._load_history()
            self._events.supersede_jobs()
            self._table.set_rows(await self._read_jobs())
        except HostUnavailableError:
            return  # gone again: its HOST_LOST is on its way
        self._refresh_status()
        status = self.client.status()
        message = attach.back_message(status)
        self._log.add(SchedulerEvent(kind=EventKind.HOST_BACK, at=self.clock(), message=message))
        self._notify(message)

    async def switch_client(self, client: SchedulerClient) -> None:
        """Watch and steer another scheduler with the same widgets: the old client is
        stopped (a remote one only detaches), the new one heard and read afresh, then
        started (an in-process one begins scheduling)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        old, self.client = self.client, client
        await old.stop(timeout=0)
        self._events.take()  # the old scheduler's news
        self._unsubscribe = client.subscribe(self._events.put)
        self._all_scheduled = client.status().attached
        await self._load_history()
        self._events.supersede_jobs()
        self._table.set_rows(await self._read_jobs())
        status = client.status()
        banner = self.query_one("#banner", Static)
        banner.update(status.disabled_reason or "")
        banner.display = status.disabled_reason is not None
        self._report_rejected()
        attach.show_actions(self, {"host_here"}, show=False)
        self._starting = True
        await self._start_scheduler()

    async def _tick(self) -> None:
        """Once a second: countdowns, the clock and the counts (and, when the keyboard
        is quiet, a full garbage collection)."""
        now = self.clock()
        await self._repair_stale_rows(now)
        self._table.refresh()
        self._refresh_status(now)
        if self._collector is not None:
            self._collector.check()

    async def on_event(self, event: events.Event) -> None:
        if self._collector is not None and isinstance(event, events.InputEvent):
            self._collector.input_seen()
        await super().on_event(event)

    async def _repair_stale_rows(self, now: datetime) -> None:
        """Re-read on-screen jobs whose next run is past: APScheduler moves a job's next
        run time after announcing its start, and a skipped or missed run announces nothing
        after that, so the snapshot we hold would keep saying "now"."""
        late = now - timedelta(seconds=1)
        if not self.client.status().connected:
            return  # the last picture stays as it was
        for job_id in self._table.visible_job_ids():
            job = self._table.get_job(job_id)
            if job is None or job.next_run_time is None or job.next_run_time >= late:
                continue
            try:
                self._table.upsert(await self.client.get_job(job_id))
            except JobNotFoundError:
                self._table.remove(job_id)
            except HostUnavailableError:
                return

    def _refresh_status(self, now: datetime | None = None) -> None:
        now = now or self.clock()
        counts = self._table.state_counts()
        status = self.client.status()
        if status.attached and not status.connected:
            state, note = SchedulerState.LOST, ""
        elif self._loading is not None:
            state, note = SchedulerState.STARTING, self._loading_note()
        elif self._shutting_down:
            note = "detaching" if status.attached else "waiting for running jobs to end"
            state = SchedulerState.STOPPING
        elif self._starting and not status.attached:
            state, note = SchedulerState.STARTING, ""
        elif status.running and not self._all_scheduled:
            # Past the first 250, jobs reach APScheduler a chunk per loop iteration.
            state, note = SchedulerState.STARTING, "handing the jobs to the scheduler"
        elif status.running:
            state, note = SchedulerState.RUNNING, ""
        elif status.disabled_reason:
            state, note = SchedulerState.OFF, "BACKGROUND_JOBS_ENABLED=false"
        else:
            state, note = SchedulerState.STOPPED, ""
        self._status.show(
            Status(
                state=state,
                note=note,
                timezone=status.timezone,
                now=now.astimezone(self.tz),
                jobs=self._table.job_count,
                shown=self._table.row_count,
                running=counts[JobState.RUNNING],
                paused=counts[JobState.PAUSED],
                failures_last_hour=self._failures.count(now),
                state_error=plain_text.visible(status.state_error or ""),
                host=attach.host_label(status, self._host_key()),
                state_file=_state_file(status),
            )
        )

    # ------------------------------------------------------------ table events

    async def on_job_table_job_highlighted(self, event: JobTable.JobHighlighted) -> None:
        if self._log.scope is not None and event.job_id is not None:
            await self._scope_log(event.job_id)

    def on_job_table_runs_wanted(self, event: JobTable.RunsWanted) -> None:
        self.run_worker(self._load_runs(event.job_ids), group="runs")

    async def _load_runs(self, job_ids: list[str]) -> None:
        """The recent runs of rows just drawn: asked apart from the keys' turn, so a page
        of rows is drawn at once and its strips a moment later."""
        try:
            found = await self.client.recent_runs(job_ids, RUNS_SHOWN)
        except JobError:  # the host is away: asked again once the rows are redrawn
            self._table.runs_unavailable(job_ids)
            return
        self._table.show_runs(found)

    async def on_job_table_job_selected(self, event: JobTable.JobSelected) -> None:
        await self._open_detail(event.job_id)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._table.filter_text = event.value
        self._refresh_status()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            self.query_one(FilterBar).remove_class("-active")
        self._table.focus()

    def on_filter_bar_closed(self) -> None:
        self.query_one(FilterBar).remove_class("-active")
        self._table.filter_text = ""
        self._table.focus()
        self._refresh_status()

    # ---------------------------------------------------------------- actions

    async def _selected(self, *, acting: bool = True) -> JobSnapshot | None:
        """The selected job; None (said why) when there is none, or when ``acting`` on a
        registry entry that was not loaded."""
        chosen = self._table.selected_job_id  # before what is left loads
        self._acted = True
        await self._start_scheduler()
        if not self.client.status().connected:
            self._notify_host_gone()
            return None
        job = self._table.selected_job if chosen is None else self._table.get_job(chosen)
        if job is None:
            self._notify("No job selected: press n to register one", severity="warning")
        elif acting and job.job_id in self._rejected:
            registry = self.client.status().registry
            self._notify(
                f"{self._rejected[job.job_id]}. It was not loaded, so it cannot run or "
                f"change: fix the entry in {registry} and restart jobconsole",
                severity="warning",
                timeout=10,
            )
            return None
        return job

    def _fail(self, error: Exception) -> None:
        self._notify(str(error), severity="error", timeout=10)

    def _notify_host_gone(self) -> None:
        self._notify(attach.gone_message(self._host_key()), severity="warning")

    def _refused_read_only(self, action: str) -> bool:
        """Say why, when attached read-only; before a form opens for nothing."""
        if not self.client.status().read_only:
            return False
        self._fail(ReadOnlyError(action))
        return True

    def _notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
    ) -> None:
        """Every notification of the console: its messages carry ids, descriptions and
        errors, which are the user's text, so they are shown as written (as markup, a tag
        would vanish, crash the console or run an action when clicked) and their control
        characters are made visible."""
        self.notify(
            plain_text.visible(message, lines=True),
            title=title,
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    async def action_register(self) -> None:
        await self._start_scheduler()
        if self._refused_read_only("register a job"):
            return
        if not self.client.status().connected:
            self._notify_host_gone()
            return
        from tui.screens.register import RegisterScreen

        self.push_screen(
            RegisterScreen(
                functions=await self.client.function_refs(),
                tz=self.tz,
                clock=self.clock,
                is_taken=self._is_taken,
            ),
            self._registered,
        )

    def _is_taken(self, job_id: str) -> bool:
        """Whether the register form's id is in use: the table holds every job."""
        return self._table.get_job(job_id) is not None

    async def on_register_screen_submitted(self, message: RegisterScreen.Submitted) -> None:
        form = message.form
        try:
            options = register_options(message.description, message.timezone, message.timeout)
        except ValueError as exc:
            form.show_error("timeout", str(exc))
            return
        try:
            job = await self.client.register_job(
                message.job_id, message.func, message.cron, **options
            )
        except (DuplicateJobError, InvalidJobError, cron.CronError, cron.TimezoneError) as exc:
            form.show_error(*register_error(exc))
        except JobError as exc:  # no host to ask, or attached read-only
            form.show_error("func", str(exc))
        else:
            form.dismiss(job.job_id)

    async def _registered(self, job_id: str | None) -> None:
        if job_id is None:
            return
        await self._apply_events()  # the new job's row
        if self._table.get_job(job_id) is None:  # attached: its event is still on the way
            self._table.upsert(await self.client.get_job(job_id))
        self.jump_to(job_id)
        job = await self.client.get_job(job_id)
        self._notify(f"Registered {job_id}: {job.description}{self._next_note(job)}")

    async def action_detail(self) -> None:
        job = await self._selected(acting=False)
        if job is not None:
            await self._open_detail(job.job_id)

    async def _open_detail(self, job_id: str) -> None:
        from tui.screens.job_detail import JobDetailScreen

        rejected = self._table.get_job(job_id) if job_id in self._rejected else None
        if rejected is not None:  # not loaded: its row is all there is, the reason in it
            self.push_screen(JobDetailScreen(rejected, [], [], tz=self.tz))
            return
        try:
            job = await self.client.get_job(job_id)
        except JobError as exc:
            self._fail(exc)
            return
        screen = JobDetailScreen(job, [], [], tz=self._zone_of(job))
        if self.client.status().read_only:
            attach.show_actions(screen, attach.CHANGING_ACTIONS, show=False)
        await self._fill_detail(screen)
        self.push_screen(screen)

    async def _fill_detail(self, screen: JobDetailScreen) -> None:
        job_id = screen.job_id
        if job_id in self._rejected:
            return
        try:
            job = await self.client.get_job(job_id)
            times = await self.client.next_fire_times(job_id, 10)
            executions = await self.client.recent_executions(job_id, limit=DETAIL_EXECUTIONS)
            runs = (await self.client.recent_runs([job_id], DETAIL_RUNS)).get(job_id, [])
        except JobNotFoundError:
            screen.show(None, [], [])
            return
        except HostUnavailableError:
            return  # the last picture stays
        screen.show(job, times, executions)
        screen.show_trend(runs)

    async def action_output(self) -> None:
        job = await self._selected()
        if job is None:
            return
        try:
            executions = await self.client.recent_executions(job.job_id, limit=OUTPUT_LOOKBACK)
        except JobNotFoundError as exc:
            self._fail(exc)
            return
        ran = next((e for e in executions if e.started_at is not None), None)
        if ran is None:
            why = (
                "is on its first run: o shows it when it ends"
                if job.state == "running"
                else ("has not run yet: t runs it now")
            )
            self._notify(f"{job.job_id} {why}", severity="warning")
            return
        from tui.screens.output import OutputScreen

        self.push_screen(OutputScreen(ran, tz=self._zone_of(job)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The output view and the timeline are views of their own: the table's keys
        # neither show nor act there.
        focused_view = (
            _is_screen(self.screen, "timeline", "TimelineScreen")
            or isinstance(self.screen, SortScreen)
            or _is_output(self.screen)
        )
        return not focused_view or action in ("help", "quit")

    async def action_timeline(self) -> None:
        await self._load_registry(None)  # every job's times, not the first ones
        jobs = await self.client.get_jobs()
        from tui.screens.timeline import TimelineScreen

        self.push_screen(TimelineScreen(jobs, now=self.clock(), tz=self.tz))

    def on_execution_log_execution_chosen(self, message: ExecutionLog.ExecutionChosen) -> None:
        from tui.screens.output import OutputScreen

        self.push_screen(OutputScreen(message.execution, tz=self.tz))

    def on_job_detail_screen_run_chosen(self, message: JobDetailScreen.RunChosen) -> None:
        from tui.screens.job_detail import JobDetailScreen  # it sent the message: imported
        from tui.screens.output import OutputScreen

        screen = self.screen
        tz = screen.tz if isinstance(screen, JobDetailScreen) else self.tz

        self.push_screen(OutputScreen(message.execution, tz=tz))

    async def action_pause(self) -> None:
        job = await self._selected()
        if job is None or self._refused_read_only("pause a job"):
            return
        if job.state is JobState.PAUSED:
            self._notify(f"{job.job_id} is already paused: r resumes it")
            return
        if job.state is JobState.DISABLED:
            self._notify(f"{job.job_id} is disabled, so it does not run on schedule: E enables it")
            return
        try:
            await self.client.pause_job(job.job_id)
        except JobError as exc:
            self._fail(exc)
            return
        self._notify(f"Paused {job.job_id}: it will not run on schedule until resumed (r)")

    async def action_resume(self) -> None:
        job = await self._selected()
        if job is None or self._refused_read_only("resume a job"):
            return
        if job.state is JobState.DISABLED:
            self._notify(f"{job.job_id} is disabled, not paused: E enables it")
            return
        if job.state is not JobState.PAUSED:
            self._notify(f"{job.job_id} is not paused (it is {job.state})")
            return
        try:
            resumed = await self.client.resume_job(job.job_id)
        except JobError as exc:
            self._fail(exc)
            return
        self._notify(f"Resumed {job.job_id}{self._next_note(resumed)}")

    async def action_toggle_enabled(self) -> None:
        job = await self._selected()
        if job is None or self._refused_read_only("enable or disable a job"):
            return
        try:
            if job.enabled:
                changed = await self.client.disable_job(job.job_id)
            else:
                changed = await self.client.enable_job(job.job_id)
        except JobError as exc:
            self._fail(exc)
            return
        if not changed.enabled:
            self._notify(
                f"Disabled {job.job_id}: it will not run on schedule until enabled (E); "
                "t still runs it now"
            )
        elif changed.state is JobState.PAUSED:
            self._notify(f"Enabled {job.job_id}; it stays paused: r resumes it")
        else:
            self._notify(f"Enabled {job.job_id}{self._next_note(changed)}")

    async def action_run_now(self) -> None:
        job = await self._selected()
        if job is None or self._refused_read_only("run a job"):
            return
        try:
            execution = await self.client.run_job_now(job.job_id)
        except JobError as exc:
            self._fail(exc)
            return
        if execution.status.is_final:
            self._notify(execution.error or str(execution.status), severity="warning")
        else:
            self._notify(
                f"Started {job.job_id} (execution #{execution.id}); its schedule is unchanged"
            )

    async def action_edit(self) -> None:
        job = await self._selected()
        if job is not None and not self._refused_read_only("edit a job"):
            from tui.screens.edit import EditScheduleScreen

            self.push_screen(EditScheduleScreen(job, tz=self._zone_of(job), clock=self.clock))

    async def on_edit_schedule_screen_submitted(
        self, message: EditScheduleScreen.Submitted
    ) -> None:
        """Check both fields before changing anything, then apply what changed."""
        try:
            schedule = cron.parse(message.cron)
        except cron.CronError as exc:
            message.form.show_error(exc.reason)
            return
        try:
            timeout = parse_timeout(message.timeout)
        except ValueError as exc:
            message.form.show_timeout_error(str(exc))
            return
        try:
            job = before = await self.client.get_job(message.job_id)
            if timeout != job.timeout_seconds:
                job = await self.client.set_timeout(message.job_id, timeout)
            if schedule.expression != job.cron_expression:
                job = await self.client.reschedule_job(message.job_id, schedule.expression)
        except JobError as exc:
            if exc.field == "timeout_seconds":
                message.form.show_timeout_error(str(exc))
            else:
                message.form.show_error(str(exc))
            return
        message.form.dismiss(job.cron_expression)
        if schedule.expression != before.cron_expression:
            self._notify(
                f"Rescheduled {job.job_id} to {job.cron_expression}: {job.description}"
                f"{self._next_note(job)}"
            )
        if timeout != before.timeout_seconds:
            limit = f"{timeout:g}s" if timeout is not None else "none"
            self._notify(f"Timeout of {job.job_id}: {limit}")

    async def action_remove(self) -> None:
        job = await self._selected()
        if job is None or self._refused_read_only("remove a job"):
            return
        status = self.client.status()
        durable = status.durable
        if job.source is JobSource.REGISTRY:
            detail = f"It comes from the registry ({status.registry}): " + (
                "it stays removed, also after a restart, until registered again with n."
                if durable
                else "without a state file it comes back at the next start."
            )
        else:
            detail = "It was registered in the console" + (
                "; its recorded history is kept." if durable else "."
            )
        from tui.screens.confirm import ConfirmScreen

        self.push_screen(
            ConfirmScreen(f"Remove {job.job_id}?", detail),
            partial(self._remove_confirmed, job.job_id),
        )

    async def _remove_confirmed(self, job_id: str, yes: bool | None) -> None:
        if not yes:
            self._notify(f"Kept {job_id}")
            return
        try:
            await self.client.remove_job(job_id)
        except JobError as exc:
            self._fail(exc)
            return
        self._notify(f"Removed {job_id}")

    def action_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.add_class("-active")
        bar.focus()

    def action_sort(self) -> None:
        table = self._table
        self.push_screen(SortScreen(table.sort_column, table.sort_reverse), self._sort_chosen)

    def _sort_chosen(self, column: str | None) -> None:
        if column is not None:
            self.action_sort_by(column)

    def action_sort_by(self, column: str) -> None:
        """By ``column``: counts and durations largest first; the same column reverses."""
        if column in SORT_KEYS:
            self._table.sort_by(column)

    def action_sort_reverse(self) -> None:
        self._table.sort_by(self._table.sort_column, reverse=not self._table.sort_reverse)

    def action_toggle_alerts(self) -> None:
        self.alerts = not self.alerts
        if self.alerts:
            self._notify(
                "Alerts on: the bell rings and a notification shows when a job fails, "
                "recovers or misses a run (a to turn them off)"
            )
        else:
            self._notify("Alerts off: failures show in the log and the status line only")
        self._save_preferences()

    async def action_toggle_log(self) -> None:
        if self._log.scope is not None:
            self._log.show_job(None)
            return
        job = await self._selected(acting=False)
        if job is not None:
            await self._scope_log(job.job_id)

    async def _scope_log(self, job_id: str) -> None:
        try:
            history = await self.client.recent_executions(job_id, limit=SCOPED_LOG_HISTORY)
        except (JobNotFoundError, HostUnavailableError):
            history = []
        self._log.show_job(job_id, sorted(history, key=_log_order))

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.help_sections()))

    async def action_quit(self) -> None:
        """Stop scheduling, give running jobs their bounded time, then exit.

        A second `q` while waiting cancels the running jobs at once (still recorded).
        """
        if self._shutting_down:
            self.run_worker(self.client.stop(timeout=0), name="cancel jobs", group="cancel")
            return
        self._shutting_down = True
        running = self._table.state_counts()[JobState.RUNNING]
        status = self.client.status()
        if running and status.running and not status.attached and not self._terminal.terminal_gone:
            grace = status.shutdown_timeout_seconds
            self._notify(
                f"Waiting up to {grace:g}s for {running} running job(s); "
                "press q again to cancel them now",
                timeout=grace + 1,
            )
        self._refresh_status()
        self.run_worker(self._shut_down_and_exit(), name="shutdown", exclusive=True)

    async def _shut_down_and_exit(self) -> None:
        await self.client.stop()
        self.exit()

    async def action_host_here(self) -> None:
        """Attached, once the host has gone: take the state file and schedule here."""
        if self._refused_read_only("schedule the jobs here"):
            return
        why = attach.cannot_host_here(self.client.status(), self._host_here is not None)
        if why is not None:
            self._notify(why, severity="warning")
            return
        from jobs.core.bootstrap import RegistryError
        from jobs.core.store import StateError, StateLockedError

        try:
            client = self._host_here.build()
        except StateLockedError:
            self._notify(
                "Another scheduler holds the state file now: this console attaches to it "
                "as soon as it answers",
                severity="warning",
            )
            return
        except (StateError, RegistryError) as exc:
            self._fail(exc)
            return
        await self.switch_client(client)
        self._notify(f"Scheduling here: this console hosts the jobs now ({self._host_here.state})")

    # ------------------------------------------------------------ bindings

    def help_sections(self) -> list[tuple[str, list[Binding]]]:
        """The help screen's content: the bindings themselves, by where they apply."""
        anywhere = [
            Binding(
                self.COMMAND_PALETTE_BINDING,
                "command_palette",
                "Commands",
                tooltip="Find any action by name",
            ),
            Binding("tab", "focus_next", "Next pane", tooltip="Move between the table and log"),
        ]
        jobs = [b for b in Binding.make_bindings(self.BINDINGS) if self._offered(b.action)]
        sections = [
            ("Jobs", jobs),
            ("In the sort menu (s)", list(Binding.make_bindings(SortScreen.BINDINGS))),
            ("Moving in the table", list(Binding.make_bindings(JobTable.BINDINGS))),
            ("In the filter", list(Binding.make_bindings(FilterBar.BINDINGS))),
            ("Anywhere", anywhere),
        ]
        if self.client.status().read_only:
            refused = [
                b
                for b in Binding.make_bindings(self.BINDINGS)
                if b.action in attach.CHANGING_ACTIONS and b.action != "host_here"
            ]
            sections.append(("Not while attached read-only", refused))
        return sections

    def all_job_ids(self) -> list[str]:
        return self._table.model.all_ids()

    def jump_to(self, job_id: str) -> None:
        """Put the cursor on ``job_id``; a filter that hides it is cleared."""
        if not self._table.select(job_id):
            bar = self.query_one(FilterBar)
            bar.value = ""
            bar.remove_class("-active")
            self._table.filter_text = ""
            self._table.select(job_id)
        self._table.focus()

    def palette_commands(self) -> list[tuple[str, str, str]]:
        """``(name, help, action)`` for the command palette, one per console key."""
        commands = []
        for binding in Binding.make_bindings(self.BINDINGS):
            if not self._offered(binding.action):
                continue
            name = binding.tooltip or binding.description
            commands.append((name, f"key {self.get_key_display(binding)}", binding.action))
        for column in COLUMNS:
            if column.key in SORT_KEYS:
                keys = f"keys s {SORT_KEYS[column.key]}"
                commands.append((f"Sort by {column.label}", keys, f"sort_by('{column.key}')"))
        return commands

    # -------------------------------------------------------------- helpers

    def _offered(self, action: str) -> bool:
        """Whether the help and the palette list ``action``: not a change, read-only."""
        return not (self.client.status().read_only and action in attach.CHANGING_ACTIONS)

    def _host_key(self) -> str | None:
        """The key that schedules here, when this console could (attached, not read-only,
        its state file known); else None."""
        status = self.client.status()
        if not status.attached or status.read_only or self._host_here is None:
            return None
        return "h"

    def _zone_of(self, job: JobSnapshot) -> tzinfo:
        try:
            return cron.zone(job.timezone)
        except cron.TimezoneError:
            return self.tz

    def _next_note(self, job: JobSnapshot) -> str:
        if job.next_run_time is not None:
            when = job.next_run_time.astimezone(self.tz)
            return f"; next run {when:%Y-%m-%d %H:%M:%S}"
        if self.client.status().disabled_reason:
            return "; scheduling is off, so it will not run on its own"
        return ""
