"""JobConsoleApp: the console. It composes the widgets, turns keys into service calls and
the service's events into widget updates; it owns no scheduling logic.

The service's subscriber callback runs synchronously inside the service's own calls, on
the event loop's thread. At 10,000 jobs and 100 executions a second it must stay cheap, so
it updates one table row and appends one log entry; drawing happens once per frame, and
countdowns are redrawn by a one-second tick for the rows on screen only.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial
from typing import ClassVar

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.widgets import Input, Static

from jobs import cron, funcs
from jobs.errors import DuplicateJobError, InvalidJobError, JobError, JobNotFoundError
from jobs.records import EventKind, Execution, JobSnapshot, JobState, SchedulerEvent
from jobs.service import SchedulerService
from tui import plain_text
from tui.collector import IdleCollector
from tui.commands import JobCommands
from tui.counters import RecentCount
from tui.forms import parse_timeout, register_error
from tui.screens import (
    ConfirmScreen,
    EditScheduleScreen,
    HelpScreen,
    JobDetailScreen,
    RegisterScreen,
)
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
from tui.widgets.job_table import COLUMN_KEYS

Clock = Callable[[], datetime]

#: Executions shown in a job's detail view, and loaded when the log is scoped to a job.
DETAIL_EXECUTIONS = 20
SCOPED_LOG_HISTORY = 200
FAILURE_WINDOW = timedelta(hours=1)
DESCRIBE_SLICE = 100  # ~8 ms of cron-descriptor per loop iteration


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


class JobConsoleApp(App[None]):
    """The jobconsole: a live job table, an execution log and a key for every action.

    ``clock`` drives countdowns, the status clock and previews (tests freeze it);
    ``autostart`` False leaves the scheduler stopped (for snapshots of a fixed state).
    ``manage_gc`` lets the console decide when Python's collector may pause it
    (``tui/collector.py``): start-up's objects are frozen out of its sight and full
    collections wait for a quiet keyboard. It is process-wide, so only the command sets
    it; the command also holds the collector off until start-up is done.
    """

    CSS_PATH = "app.tcss"
    TITLE = "jobconsole"
    COMMANDS = App.COMMANDS | {JobCommands}

    # In order of importance: a narrow footer shows the first ones (all are in `?`).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "register", "New", tooltip="Register a new job"),
        Binding("enter", "detail", "Details", tooltip="Show the selected job's details"),
        Binding("p", "pause", "Pause", tooltip="Pause the selected job"),
        Binding("r", "resume", "Resume", tooltip="Resume the selected job"),
        Binding("t", "run_now", "Run", tooltip="Run the selected job now"),
        Binding("e", "edit", "Edit", tooltip="Edit the selected job's cron expression"),
        Binding("d", "remove", "Remove", tooltip="Remove the selected job (asks first)"),
        Binding("question_mark", "help", "Help", tooltip="Show every key"),
        Binding("q", "quit", "Quit", tooltip="Quit; running jobs get a bounded time"),
        Binding("slash", "filter", "Filter", tooltip="Filter the jobs by typing"),
        Binding("s", "sort", "Sort", tooltip="Sort by the next column (or click a header)"),
        Binding("S", "sort_reverse", "Reverse", tooltip="Reverse the sort order", show=False),
        Binding("l", "toggle_log", "Log", tooltip="Log: all jobs or the selected job"),
    ]

    def __init__(
        self,
        service: SchedulerService,
        *,
        clock: Clock | None = None,
        autostart: bool = True,
        manage_gc: bool = False,
    ) -> None:
        super().__init__()
        self.service = service
        self.clock: Clock = clock or _utcnow
        self.autostart = autostart
        self._collector = IdleCollector(self.set_timer) if manage_gc else None
        self._unsubscribe: Callable[[], None] | None = None
        self._failures = RecentCount(FAILURE_WINDOW)
        self._shutting_down = False
        self._terminal = TerminalWatch(
            self,
            quit=lambda: self.call_next(self.action_quit),
            quitting=lambda: self._shutting_down,
        )
        self._starting = False
        self._all_scheduled = False  # until the service says SCHEDULER_STARTED
        self._status_pending = False
        self._functions: list[str] | None = None
        self._state_error: str | None = None  # why runs are not being kept, until they are

    # ---------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        tz = self.service.tz
        yield StatusBar(id="status")
        yield Static(self.service.disabled_reason or "", id="banner")
        yield FilterBar(id="filter")
        yield JobTable(id="jobs", tz=tz, clock=self.clock)
        yield ExecutionLog(id="log", tz=tz, clock=self.clock)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._table = self.query_one("#jobs", JobTable)
        self._log = self.query_one("#log", ExecutionLog)
        self._status = self.query_one(StatusBar)
        history = self.service.recent_executions(limit=MAX_ENTRIES)
        self._log.load(sorted(history, key=_log_order))
        for execution in sorted(history, key=_log_order):
            if execution.status.is_failure:
                self._failures.add(entry_time(execution) or self.clock())
        self._unsubscribe = self.service.subscribe(self._on_scheduler_event)
        self._table.set_jobs(self.service.get_jobs())
        self._table.focus()
        if self.autostart:
            # Draw first, then start: with thousands of jobs, handing them all to
            # APScheduler takes a moment the user need not stare at a blank terminal for.
            self._starting = True
            self.call_after_refresh(self._start_scheduler)
        banner = self.query_one("#banner", Static)
        banner.display = self.service.disabled_reason is not None
        for message in self.service.boot_errors:
            self._notify(message, title="Not loaded", severity="error", timeout=30)
        self._terminal.install()
        self._tick()
        # Tick just after each wall-clock second, so countdowns change with the clock.
        self.set_timer(1.02 - time.time() % 1, lambda: self.set_interval(1, self._tick))

    def _start_scheduler(self) -> None:
        """Start the service (once); a key pressed before the first frame starts it too."""
        if not self._starting:
            return
        self._starting = False
        self.service.start()
        jobs = self.service.get_jobs()
        self._table.set_jobs(jobs)  # now with their next run times
        self._refresh_status()
        if self._collector is not None:
            self._collector.start()
        expressions = list(dict.fromkeys(job.cron_expression for job in jobs))
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
        task = self.service.shutdown(timeout=0)
        if task is not None:
            await task

    # ------------------------------------------------------- service events

    def _on_scheduler_event(self, event: SchedulerEvent) -> None:
        """Called by the service for every event; one row and one log line at most."""
        if event.job is not None:
            self._table.upsert(event.job)
        elif event.kind is EventKind.JOB_REMOVED and event.job_id is not None:
            self._table.remove(event.job_id)
        execution = event.execution
        if execution is not None:
            self._log.add(execution)
            if execution.status.is_failure:
                self._failures.add(entry_time(execution) or event.at)
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
            elif event.kind is EventKind.STATE_ERROR:  # shown in the status line until fixed
                self._state_error = plain_text.visible(event.details.get("reason") or "see the log")
                self._notify(event.message, severity="error", timeout=30)
            elif event.kind is EventKind.STATE_RECOVERED:
                self._state_error = None
            elif event.kind is EventKind.SCHEDULER_STARTED:
                self._all_scheduled = True
                if self._collector is not None:
                    # Every job is with APScheduler now (handed over in chunks after
                    # start): keep what that built out of the collector's walks too.
                    self._collector.freeze()
        if event.job_id is not None:
            for screen in self.screen_stack:
                if isinstance(screen, JobDetailScreen) and screen.job_id == event.job_id:
                    self._fill_detail(screen)
        if not self._status_pending:  # counts changed: redraw once for a burst of events
            self._status_pending = True
            self.call_later(self._refresh_status)

    def _tick(self) -> None:
        """Once a second: countdowns, the clock and the counts (and, when the keyboard
        is quiet, a full garbage collection)."""
        now = self.clock()
        self._repair_stale_rows(now)
        self._table.refresh()
        self._refresh_status(now)
        if self._collector is not None:
            self._collector.check()

    async def on_event(self, event: events.Event) -> None:
        if self._collector is not None and isinstance(event, events.InputEvent):
            self._collector.input_seen()
        await super().on_event(event)

    def _repair_stale_rows(self, now: datetime) -> None:
        """Re-read on-screen jobs whose next run is past: APScheduler moves a job's next
        run time after announcing its start, and a skipped or missed run announces nothing
        after that, so the snapshot we hold would keep saying "now"."""
        late = now - timedelta(seconds=1)
        for job_id in self._table.visible_job_ids():
            job = self._table.get_job(job_id)
            if job is None or job.next_run_time is None or job.next_run_time >= late:
                continue
            try:
                self._table.upsert(self.service.get_job(job_id))
            except JobNotFoundError:
                self._table.remove(job_id)

    def _refresh_status(self, now: datetime | None = None) -> None:
        self._status_pending = False
        now = now or self.clock()
        counts = self._table.state_counts()
        if self._shutting_down:
            state, note = SchedulerState.STOPPING, "waiting for running jobs to end"
        elif self._starting:
            state, note = SchedulerState.STARTING, ""
        elif self.service.is_running and not self._all_scheduled:
            # Past the first 250, jobs reach APScheduler a chunk per loop iteration.
            state, note = SchedulerState.STARTING, "handing the jobs to the scheduler"
        elif self.service.is_running:
            state, note = SchedulerState.RUNNING, ""
        elif self.service.disabled_reason:
            state, note = SchedulerState.OFF, "BACKGROUND_JOBS_ENABLED=false"
        else:
            state, note = SchedulerState.STOPPED, ""
        self._status.show(
            Status(
                state=state,
                note=note,
                timezone=self.service.tz.key,
                now=now.astimezone(self.service.tz),
                jobs=self._table.job_count,
                shown=self._table.row_count,
                running=counts[JobState.RUNNING],
                paused=counts[JobState.PAUSED],
                failures_last_hour=self._failures.count(now),
                state_error=self._state_error or "",
            )
        )

    # ------------------------------------------------------------ table events

    def on_job_table_job_highlighted(self, event: JobTable.JobHighlighted) -> None:
        if self._log.scope is not None and event.job_id is not None:
            self._scope_log(event.job_id)

    def on_job_table_job_selected(self, event: JobTable.JobSelected) -> None:
        self._open_detail(event.job_id)

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

    def _selected(self) -> JobSnapshot | None:
        self._start_scheduler()
        job = self._table.selected_job
        if job is None:
            self._notify("No job selected: press n to register one", severity="warning")
        return job

    def _fail(self, error: Exception) -> None:
        self._notify(str(error), severity="error", timeout=10)

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

    def action_register(self) -> None:
        self._start_scheduler()
        self.push_screen(
            RegisterScreen(
                functions=self._function_refs(),
                tz=self.service.tz,
                clock=self.clock,
                is_taken=self.service.has_job,
            ),
            self._registered,
        )

    def on_register_screen_submitted(self, message: RegisterScreen.Submitted) -> None:
        form = message.form
        try:
            job = self.service.register_job(message.job_id, message.func, message.cron)
        except (DuplicateJobError, InvalidJobError, cron.CronError, cron.TimezoneError) as exc:
            form.show_error(*register_error(exc))
        else:
            form.dismiss(job.job_id)

    def _registered(self, job_id: str | None) -> None:
        if job_id is None:
            return
        if not self._table.select(job_id):  # the filter hides it: show everything
            bar = self.query_one(FilterBar)
            bar.value = ""
            bar.remove_class("-active")
            self._table.filter_text = ""
            self._table.select(job_id)
        job = self.service.get_job(job_id)
        self._notify(f"Registered {job_id}: {job.description}{self._next_note(job)}")

    def action_detail(self) -> None:
        job = self._selected()
        if job is not None:
            self._open_detail(job.job_id)

    def _open_detail(self, job_id: str) -> None:
        try:
            job = self.service.get_job(job_id)
        except JobNotFoundError as exc:
            self._fail(exc)
            return
        screen = JobDetailScreen(job, [], [], tz=self._zone_of(job))
        self._fill_detail(screen)
        self.push_screen(screen)

    def _fill_detail(self, screen: JobDetailScreen) -> None:
        job_id = screen.job_id
        if not self.service.has_job(job_id):
            screen.show(None, [], [])
            return
        screen.show(
            self.service.get_job(job_id),
            self.service.next_fire_times(job_id, 10),
            self.service.recent_executions(job_id, limit=DETAIL_EXECUTIONS),
        )

    def action_pause(self) -> None:
        job = self._selected()
        if job is None:
            return
        if job.state is JobState.PAUSED:
            self._notify(f"{job.job_id} is already paused: r resumes it")
            return
        try:
            self.service.pause_job(job.job_id)
        except JobError as exc:
            self._fail(exc)
            return
        self._notify(f"Paused {job.job_id}: it will not run on schedule until resumed (r)")

    def action_resume(self) -> None:
        job = self._selected()
        if job is None:
            return
        if job.state is not JobState.PAUSED:
            self._notify(f"{job.job_id} is not paused (it is {job.state})")
            return
        try:
            resumed = self.service.resume_job(job.job_id)
        except JobError as exc:
            self._fail(exc)
            return
        self._notify(f"Resumed {job.job_id}{self._next_note(resumed)}")

    def action_run_now(self) -> None:
        job = self._selected()
        if job is None:
            return
        try:
            execution = self.service.run_job_now(job.job_id)
        except JobError as exc:
            self._fail(exc)
            return
        if execution.status.is_final:
            self._notify(execution.error or str(execution.status), severity="warning")
        else:
            self._notify(
                f"Started {job.job_id} (execution #{execution.id}); its schedule is unchanged"
            )

    def action_edit(self) -> None:
        job = self._selected()
        if job is not None:
            self.push_screen(EditScheduleScreen(job, tz=self._zone_of(job), clock=self.clock))

    def on_edit_schedule_screen_submitted(self, message: EditScheduleScreen.Submitted) -> None:
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
            job = before = self.service.get_job(message.job_id)
            if timeout != job.timeout_seconds:
                job = self.service.set_timeout(message.job_id, timeout)
            if schedule.expression != job.cron_expression:
                job = self.service.reschedule_job(message.job_id, schedule.expression)
        except JobError as exc:
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

    def action_remove(self) -> None:
        job = self._selected()
        if job is None:
            return
        durable = self.service.store is not None
        if job.source == "code":
            detail = f"It comes from the registry ({self.service.settings.registry}): " + (
                "it stays removed, also after a restart, until registered again with n."
                if durable
                else "without a state file it comes back at the next start."
            )
        else:
            detail = "It was registered in the console" + (
                "; its recorded history is kept." if durable else "."
            )
        self.push_screen(
            ConfirmScreen(f"Remove {job.job_id}?", detail),
            partial(self._remove_confirmed, job.job_id),
        )

    def _remove_confirmed(self, job_id: str, yes: bool | None) -> None:
        if not yes:
            self._notify(f"Kept {job_id}")
            return
        try:
            self.service.remove_job(job_id)
        except JobError as exc:
            self._fail(exc)
            return
        self._notify(f"Removed {job_id}")

    def action_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.add_class("-active")
        bar.focus()

    def action_sort(self) -> None:
        index = COLUMN_KEYS.index(self._table.sort_column)
        self._table.sort_by(COLUMN_KEYS[(index + 1) % len(COLUMN_KEYS)], reverse=False)

    def action_sort_reverse(self) -> None:
        self._table.sort_by(self._table.sort_column, reverse=not self._table.sort_reverse)

    def action_toggle_log(self) -> None:
        if self._log.scope is not None:
            self._log.show_job(None)
            return
        job = self._selected()
        if job is not None:
            self._scope_log(job.job_id)

    def _scope_log(self, job_id: str) -> None:
        try:
            history = self.service.recent_executions(job_id, limit=SCOPED_LOG_HISTORY)
        except JobNotFoundError:
            history = []
        self._log.show_job(job_id, sorted(history, key=_log_order))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_sections()))

    async def action_quit(self) -> None:
        """Stop scheduling, give running jobs their bounded time, then exit.

        A second `q` while waiting cancels the running jobs at once (still recorded).
        """
        if self._shutting_down:
            self.service.shutdown(timeout=0)
            return
        self._shutting_down = True
        running = self._table.state_counts()[JobState.RUNNING]
        if running and self.service.is_running and not self._terminal.terminal_gone:
            grace = self.service.settings.shutdown_timeout_seconds
            self._notify(
                f"Waiting up to {grace:g}s for {running} running job(s); "
                "press q again to cancel them now",
                timeout=grace + 1,
            )
        self._refresh_status()
        self.run_worker(self._shut_down_and_exit(), name="shutdown", exclusive=True)

    async def _shut_down_and_exit(self) -> None:
        task = self.service.shutdown()
        if task is not None:
            await task
        self.exit()

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
        return [
            ("Jobs", list(Binding.make_bindings(self.BINDINGS))),
            ("Moving in the table", list(Binding.make_bindings(JobTable.BINDINGS))),
            ("In the filter", list(Binding.make_bindings(FilterBar.BINDINGS))),
            ("Anywhere", anywhere),
        ]

    def palette_commands(self) -> list[tuple[str, str, str]]:
        """``(name, help, action)`` for the command palette, one per console key."""
        commands = []
        for binding in Binding.make_bindings(self.BINDINGS):
            name = binding.tooltip or binding.description
            commands.append((name, f"key {self.get_key_display(binding)}", binding.action))
        return commands

    # -------------------------------------------------------------- helpers

    def _function_refs(self) -> list[str]:
        """Job-shaped functions in the registry's package, found once and kept."""
        if self._functions is None:
            registry = self.service.settings.registry
            package = registry.rpartition(".")[0] or registry
            self._functions = funcs.discover(package)
        return self._functions

    def _zone_of(self, job: JobSnapshot) -> tzinfo:
        try:
            return cron.zone(job.timezone)
        except cron.TimezoneError:
            return self.service.tz

    def _next_note(self, job: JobSnapshot) -> str:
        if job.next_run_time is not None:
            when = job.next_run_time.astimezone(self.service.tz)
            return f"; next run {when:%Y-%m-%d %H:%M:%S}"
        if self.service.disabled_reason:
            return "; scheduling is off, so it will not run on its own"
        return ""
