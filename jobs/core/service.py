"""SchedulerService: the one door to scheduling, for the console, the CLI and libraries.

A façade over its collaborators, each in a module of its own: the jobs in memory
(``live_jobs.py``, their options checked by ``job_options.py``), the runner that turns a
fire into an Execution (``runner.py``), the APScheduler adapter that decides *when*
(``scheduling.py``), and persistence (``persistence.py`` over a ``StateStore``: memory by
default, the SQLite state file when given). The service holds the lifecycle (one
``RunState``), checks every call and announces what happened to subscribers as
SchedulerEvents. Its methods are called from the event loop's thread.

asyncio and APScheduler are imported by the methods that run on the loop, so that code
which only reads jobs, such as ``jobconsole list``, does not pay for them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import weakref
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Unpack

from jobs.core import capture, cron, job_options, live_jobs
from jobs.core.errors import DuplicateJobError, InvalidJobError, JobNotFoundError, StandbyError
from jobs.core.job_options import OptionKeys, check_timeout
from jobs.core.lifecycle import CollectorHold, RunState
from jobs.core.live_jobs import LiveJob
from jobs.core.memory_store import MemoryStore
from jobs.core.persistence import Persistence
from jobs.core.records import (
    EXECUTION_EVENT_FOR_STATUS,
    NEXT_RUNS_ONLY,
    EventKind,
    Execution,
    ExecutionStatus,
    JobListing,
    JobRow,
    JobSnapshot,
    JobSource,
    JobState,
    RegistryLoad,
    RejectedEntry,
    SchedulerEvent,
    SchedulerStatus,
    Trigger,
)
from jobs.core.runner import Runner
from jobs.core.scheduling import Scheduling
from jobs.core.settings import Settings, SettingsError
from jobs.core.state_store import StateStore, WriteReport, run_summary

if TYPE_CHECKING:
    import asyncio

    from jobs.core import engine
    from jobs.core.control.server import ControlServer
    from jobs.core.listing import Listed
    from jobs.core.standby import Standby, StandbyInfo

log = logging.getLogger("jobconsole")

Subscriber = Callable[[SchedulerEvent], None]
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SchedulerService:
    """Registers cron jobs, runs them on an AsyncIOScheduler and reports what happens.

    ``SchedulerService()`` reads settings from the environment and ``.env`` and is durable
    as the console is: ``start()`` opens the state file at ``JOBCONSOLE_STATE`` (default
    ``.jobconsole/state.sqlite3``; an empty value means none, nothing outlives the process).
    Settings given in code (``SchedulerService(Settings(...))``, as tests and embedders
    that configure themselves do) keep everything in memory unless ``durable=True`` says
    to open their ``state_path``: code that builds its own settings decides on its own
    files. A ``store`` given (the SQLite ``Store`` of a state file, opened by the caller)
    wins over both.

    Jobs may be registered before ``start()``; ``start()`` must be called inside a running
    event loop. When another live process holds the state file, ``start()`` returns
    normally and the service stands by (``run_state`` is ``STANDBY``, ``standby`` says who
    schedules): it fires nothing, tries again about every second and takes over when that
    process exits or dies. A standby's reads answer with the jobs registered here and the
    history the scheduling process recorded; its actions raise ``StandbyError``, naming
    the process to act through. ``role`` says what the process is (``"console"``,
    ``"run --headless"``; a library by default), for whoever attaches to it or waits.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: StateStore | None = None,
        clock: Clock | None = None,
        role: str = "library",
        durable: bool | None = None,
    ) -> None:
        if settings is None:
            try:
                settings = Settings.load()
            except SettingsError as exc:
                raise exc.with_traceback(None) from None  # the key and value are the news
            durable = True if durable is None else durable
        self.settings = settings
        #: The state file start() opens (and holds), until it is open.
        self._state_path = settings.state_path if durable and store is None else None
        self._standby: Standby | None = None
        self._took_over_from: str | None = None
        #: What this process is, as an attached console names its host.
        self.role = role
        self.tz = cron.zone(self.settings.tz_name)
        self._store: StateStore = store if store is not None else MemoryStore()
        self._clock: Clock = clock or _utcnow
        self._jobs: dict[str, LiveJob] = {}
        self._subscribers: list[Subscriber] = []
        self._scheduling = Scheduling()
        self._collector = CollectorHold()
        self._merged_at_start = False  # the start merged the state file (not done before)
        self._run_state = RunState.CREATED
        self.boot_errors: list[str] = []
        #: The registry entries not loaded, as data (a console shows each as a row).
        self.rejected: list[RejectedEntry] = []
        #: Registry entries kept to load a step at a time (``stage_registry``).
        self._staged: list[Any] = []
        self._staged_at = 0
        self._staged_rejected: list[tuple[int, Any, str, str]] = []
        self._staged_settled = True
        self._staging = False
        self._pending_notices: list[str] = []
        self._persistence = Persistence(self._store, self.settings, self._clock)
        self._housekeeping: asyncio.Task[None] | None = None
        self._saving: asyncio.Task[None] | None = None
        self._runner = Runner(
            self._store, self.settings, self._clock, self._jobs, self._announce_execution
        )
        self._loop: asyncio.AbstractEventLoop | None = None  # set by start()
        self._control: ControlServer | None = None
        #: Why runs are not being kept in the state file now (short), else None.
        self.state_error: str | None = None
        self._store.set_reporter(self._on_store_report)

    @property
    def store(self) -> StateStore | None:
        """The store when it outlives the process (a state file), else None (kept for
        callers that use the store itself; ask ``durable`` to know whether state lasts)."""
        return self._store if self._store.persistent else None

    @property
    def durable(self) -> bool:
        """Whether jobs and runs outlive the process (a state file): what a caller asks to
        say whether a change survives a restart."""
        return self._store.persistent

    # ------------------------------------------------------------------ events

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` with every SchedulerEvent; returns a function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def _on_store_report(self, report: WriteReport) -> None:
        """Called on the store's writer thread; subscribers hear it on the loop, as always."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(self._announce_store_report, report)
                return
        (log.error if report.failing else log.warning)("%s", report.message)

    def _announce_store_report(self, report: WriteReport) -> None:
        self.state_error = (report.reason or "see the log") if report.failing else None
        if not self._subscribers:  # nobody would hear the event
            (log.error if report.failing else log.warning)("%s", report.message)
            return
        kind = EventKind.STATE_ERROR if report.failing else EventKind.STATE_RECOVERED
        details = {"reason": report.reason} if report.reason else {}
        self._emit(kind, message=report.message, details=details)

    def _emit(self, kind: EventKind, job: LiveJob | None = None, **kwargs: Any) -> None:
        if not self._subscribers:
            return
        event = SchedulerEvent(
            kind=kind,
            at=self._clock(),
            job_id=job.job_id if job else kwargs.pop("job_id", None),
            job=self._snapshot(job) if job and self._jobs.get(job.job_id) is job else None,
            **kwargs,
        )
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("event subscriber %r failed", callback)

    # ------------------------------------------------------------ registration

    def register_job(
        self,
        job_id: str,
        func: Callable[..., Any] | str,
        cron_expression: str,
        *,
        replace_existing: bool = False,
        **options: Unpack[OptionKeys],
    ) -> JobSnapshot:
        """Add a job. Every argument is checked first; a failed call changes nothing.
        ``options`` are the job's, by name (``OptionKeys``; what each means: ``JobOptions``).

        Jobs registered before ``start()`` are code-defined (like the registry); jobs
        registered while running are stored and restored at the next start. A job replaced
        (``replace_existing``) keeps its run and failure counts, last run and recent history;
        while an execution of the old one still runs, the new one's runs are skipped.

        With a state file, register every code job before anything loads the file
        (``load_state()``, or a change or ``run_job_now()`` before ``start()``): a job
        registered after that could not be merged with what the file holds for it, so it
        is refused with a RuntimeError.
        """
        self._load_staged()
        unknown = job_options.unknown_options(options)
        if unknown:
            raise TypeError(f"register_job() got an unexpected keyword argument {unknown[0]!r}")
        job = self._add(job_id, func, cron_expression, replace_existing=replace_existing, **options)
        return self._snapshot(job)

    def _add(
        self,
        job_id: str,
        func: Callable[..., Any] | str,
        cron_expression: str,
        *,
        replace_existing: bool = False,
        **options: Any,
    ) -> LiveJob:
        """``register_job`` without the snapshot (``options`` are ``live_jobs.build``'s), for
        the registry's thousands of entries."""
        if self._standby is not None:
            raise StandbyError(self._standby.refusal(f"register {job_id!r}")).with_traceback(None)
        store = self._store
        active = self._run_state.active
        if self._persistence.loaded and store.persistent and not (active or store.closed):
            raise RuntimeError(
                f"register_job({job_id!r}) came after the state file was loaded (by "
                "load_state(), or by a change or run_job_now() before start()), so the "
                "job could not be merged with its stored state: register every job first"
            )
        job = live_jobs.build(job_id, func, cron_expression, self.tz, **options)
        existing = self._jobs.get(job.job_id)
        if existing is not None and not replace_existing:
            raise DuplicateJobError(job.job_id)
        if existing is not None:
            self._scheduling.unschedule(existing)
            job.run_count, job.failure_count = existing.run_count, existing.failure_count
            job.last = existing.last
        job.source = JobSource.CONSOLE if active else JobSource.REGISTRY
        if not active:
            job.code_cron = job.schedule.expression
            job.code_options = job.options
        self._jobs[job.job_id] = job
        self._persistence.save(job)
        self._scheduling.schedule(job)
        self._emit(EventKind.JOB_ADDED, job)
        if job.transient and store.persistent and active:
            self._emit(
                EventKind.WARNING,
                job,
                message=f"{job.job_id}: {job.func_ref} cannot be imported by reference "
                "(a lambda or a nested function), so it is not stored: it runs in this "
                "session only; use a module-level function to keep it across restarts",
            )
        return job

    def _adds_quietly(self) -> bool:
        """Whether ``_add`` of a new code job would only keep it: before ``start()`` and
        before the state file is loaded (nothing is written or scheduled), nobody to tell.
        Nothing ``_add_code_job`` does changes that, so it holds for a whole list of
        entries (unless a module imported for a ``module:function`` reference starts this
        very service or subscribes to it)."""
        return (
            self._standby is None
            and not self._run_state.active
            and not self._persistence.loaded
            and not self._scheduling.running
            and not self._subscribers
        )

    def _add_code_job(self, entry: dict[str, Any]) -> LiveJob:
        """``_add(**entry)`` of a registry entry whose keys are checked, when
        ``_adds_quietly()``: the same job and errors, without the per-job checks and calls
        that would find nothing to do."""
        job = live_jobs.from_entry(entry, self.tz)
        if job.job_id in self._jobs:
            raise DuplicateJobError(job.job_id)
        self._jobs[job.job_id] = job
        return job

    def load_registry(self, entries: Iterable[dict[str, Any]] | None = None) -> list[str]:
        """Register each entry; a bad one is reported (and returned), the rest still load.

        With no ``entries``, the ``REGISTERED_JOBS`` of the module ``JOBCONSOLE_REGISTRY``
        names (``settings.registry``), as the console loads it; a module that cannot be
        imported or has no such list raises ``RegistryError`` saying so.
        """
        if entries is None:
            from jobs.core.registry_loader import RegistryError, load_registry_entries

            try:
                entries = load_registry_entries(self.settings.registry)
            except RegistryError as exc:
                raise exc.with_traceback(None) from None  # the message names the module
        # A list is iterated without running code of the caller's; a dict is read as **.
        quietly = type(entries) in (list, tuple) and self._adds_quietly()
        rejected = [
            found
            for index, entry in enumerate(entries)
            if (found := self._load_entry(index, entry, quietly)) is not None
        ]
        return self._settle_rejected(rejected)

    def _settle_rejected(self, rejected: list[tuple[int, Any, str, str]]) -> list[str]:
        """Report the registry's bad entries and keep them as rows; their messages."""
        errors = [found[3] for found in rejected]
        self.boot_errors.extend(errors)
        self._keep_rejected(rejected)
        for message in errors:
            log.error("%s", message)
        return errors

    def stage_registry(self, entries: Iterable[Any]) -> None:
        """Keep the registry's entries to load a step at a time (``load_registry_step``),
        then merged with the state file as ``load_state()`` does: the console draws its
        first rows before 100,000 entries are checked. Anything that acts on the jobs
        (``start()``, a change, ``register_job``) loads what is left first."""
        self._staged = list(entries)
        self._staged_at = 0
        self._staged_rejected = []
        self._staging = True
        store = self._store
        self._staged_settled = not (store.persistent and store.holds_jobs())

    def load_registry_step(self, count: int | None = None) -> RegistryLoad:
        """Load up to ``count`` more staged entries (None: all that are left), as
        ``load_registry`` would, each bad one reported by its place in the whole list.
        After the last: the bad ones are kept as rows and the state file is merged."""
        staged, start = self._staged, self._staged_at
        total = len(staged)
        if not self._staging:
            return RegistryLoad(total, total, True)
        end = total if count is None else min(total, start + count)
        self._staged_at = end
        rejected = self._staged_rejected
        quietly = self._adds_quietly()
        for index in range(start, end):
            found = self._load_entry(index, staged[index], quietly)
            if found is not None:
                rejected.append(found)
        if end < total:
            return RegistryLoad(end, total, self._staged_settled)
        self._staging = False
        self._staged, self._staged_rejected = [], []
        self._settle_rejected(rejected)
        self.load_state()
        return RegistryLoad(total, total, True)

    def _load_staged(self) -> None:
        if self._staging:
            self.load_registry_step()

    def _load_entry(
        self, index: int, entry: Any, quietly: bool
    ) -> tuple[int, Any, str, str] | None:
        """One registry entry checked and added (``quietly``: ``_adds_quietly()`` held
        when the loading began); a bad one comes back as ``_keep_rejected`` takes it."""
        try:
            if not isinstance(entry, dict):
                raise InvalidJobError(f"expected a dict (CronJobConfig), got {entry!r}")
            keys = entry.keys()
            config_keys, required_keys = job_options.CONFIG_KEYS, job_options.REQUIRED_KEYS
            if not (required_keys <= keys <= config_keys):
                missing = required_keys - keys
                if missing:
                    raise InvalidJobError(f"missing key(s): {', '.join(sorted(missing))}")
                raise InvalidJobError(
                    f"unknown key(s): {', '.join(sorted(keys - config_keys))}; "
                    f"expected some of {', '.join(sorted(config_keys))}"
                )
            if quietly and type(entry) is dict:
                self._add_code_job(entry)
            else:
                self._add(**entry)  # no snapshot per entry: 10,000 of them add up
        except (InvalidJobError, DuplicateJobError, ValueError) as exc:
            label = f"registry entry {index + 1}"
            if isinstance(entry, dict):
                label += f" ({entry.get('job_id')!r})"
            return (index + 1, entry, str(exc), f"{label}: {exc}")
        return None

    def _keep_rejected(self, rejected: list[tuple[int, Any, str, str]]) -> None:
        """Keep each bad entry as plain data, under its own id when that names no job."""
        used = set(self._jobs) | {entry.row_id for entry in self.rejected}
        for index, entry, reason, message in rejected:
            given = entry.get("job_id") if isinstance(entry, dict) else None
            try:
                row_id = job_options.check_job_id(given)
            except InvalidJobError:
                row_id = ""
            if not row_id or row_id in used:
                row_id = f"registry entry {index}"
            used.add(row_id)
            func = entry.get("func") if isinstance(entry, dict) else None
            cron_text = entry.get("cron_expression") if isinstance(entry, dict) else None
            self.rejected.append(
                RejectedEntry(
                    index=index,
                    row_id=row_id,
                    reason=reason,
                    message=message,
                    func_ref=_shown_func(func),
                    cron_expression=cron_text[:200] if isinstance(cron_text, str) else "",
                )
            )

    # ------------------------------------------------------------------ control

    def start(self) -> None:
        """Start scheduling in the running event loop (a no-op when jobs are disabled).

        The first ``SCHEDULE_CHUNK`` jobs are scheduled before it returns, the rest in
        chunks on the following loop iterations, so that thousands of jobs do not freeze
        the loop; every job's first run is computed from the instant ``start()`` was called,
        so a job scheduled a moment later still fires for a time crossed meanwhile.
        ``SCHEDULER_STARTED`` is emitted once every job is scheduled, the one event for
        them all: read the jobs again then for their next run times (no ``JOB_UPDATED``
        comes for each); ``is_running`` is true from the start, as jobs already scheduled
        fire.

        A service that opens its state file here and finds it held by another live process
        stands by instead (see the class): ``start()`` returns normally, nothing fires, and
        the service takes over when that process goes. A file that cannot be used at all
        raises StateError, naming it and the fix.

        A service with a state file cannot start again after ``shutdown()``: its file is
        closed. Create a new one.
        """
        import asyncio

        if self._store.closed:
            raise RuntimeError(
                "a SchedulerService cannot be restarted after shutdown() (or close()): its "
                "state file is closed; create a new one"
            )
        if self._run_state is RunState.STOPPING:
            raise RuntimeError(
                "SchedulerService.start() was called while shutdown() is in progress; "
                "await the task shutdown() returned first"
            )
        if self._run_state.active or self._run_state is RunState.STANDBY:
            return
        self._load_staged()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "SchedulerService.start() must be called inside a running event loop, "
                "e.g. from an async function run by asyncio.run()"
            ) from None
        if self._store.forked:
            raise RuntimeError(
                "SchedulerService.start() in a forked child of the process that opened its "
                "state file: only that process may schedule from it; build the service "
                "(and open the file) in this process"
            )
        from jobs.core.lock import StateError

        try:
            opened = self._open_state()
        except StateError as exc:
            raise exc.with_traceback(None) from None  # the message names the file and the fix
        if not opened:
            self._stand_by(loop)
            return
        self._begin(loop)

    def _open_state(self, *, wait: bool = True) -> bool:
        """Open and hold the state file start() is to open, if any; False when another
        live process holds it (unless not to ``wait``: then StateLockedError names it). A
        file that cannot be used raises StateError, by name."""
        path = self._state_path
        if path is None:
            return True
        from jobs.core.store import StateLockedError, Store

        try:
            store = Store.open_path(path, role=self.role)
        except StateLockedError:
            if not wait:
                raise
            return False
        self._use_store(store)
        return True

    def _use_store(self, store: StateStore) -> None:
        self._state_path = None
        self._store = store
        self._persistence.store = store
        self._runner.use_store(store)
        store.set_reporter(self._on_store_report)

    def _stand_by(self, loop: asyncio.AbstractEventLoop) -> None:
        assert self._state_path is not None
        self._loop = loop
        from jobs.core.standby import Standby  # only when another process holds the file

        self._standby = Standby(self._state_path, self.role, self._take_over, self._warn)
        self._run_state = RunState.STANDBY
        self._standby.begin(loop)
        info = self._standby.info
        log.info("%s", info.message)
        self._emit(
            EventKind.WARNING,
            message=info.message,
            details={"standby": "true", "holder_pid": str(info.holder_pid or "")},
        )

    def _warn(self, message: str) -> None:
        log.warning("%s", message)
        self._emit(EventKind.WARNING, message=message)

    def _take_over(self, store: StateStore) -> None:
        """The holder is gone and the file is ours: schedule by the same path as start()."""
        standby, self._standby = self._standby, None
        if self._run_state is not RunState.STANDBY or standby is None or self._loop is None:
            store.close()
            return
        self._took_over_from = standby.last_holder.holder
        self._use_store(store)
        self._run_state = RunState.CREATED
        log.info("took over scheduling from %s (gone)", self._took_over_from)
        try:
            self._begin(self._loop)
        except Exception as exc:  # on a task of its own: nobody else would hear it
            log.exception("taking over the state file failed")
            self._emit(EventKind.WARNING, message=f"taking over the state file failed: {exc}")

    def _begin(self, loop: asyncio.AbstractEventLoop) -> None:
        """Scheduling begins, from start() or from a standby that took over."""
        self._collector.hold()
        try:
            self._begin_holding(loop)
        except BaseException:
            self._collector.release()
            raise

    def _begin_holding(self, loop: asyncio.AbstractEventLoop) -> None:
        self._run_state = RunState.STARTING
        self._loop = loop
        self._runner.pid = os.getpid()
        _started.add(self)
        capture.install()
        self._merged_at_start = not self._persistence.loaded
        self.load_state()
        for notice in self._pending_notices:
            self._emit(EventKind.WARNING, job_id=None, message=notice)
        self._pending_notices.clear()
        self.serve_control()
        if not self.settings.background_jobs_enabled:
            self._run_state = RunState.STARTED
            self._collector.release()
            self._save_merged(loop)
            self._emit(EventKind.SCHEDULER_STOPPED, message=self.disabled_reason or "")
            return
        # APScheduler covers fire times from this instant on, and catch_up_missed those up
        # to its own "now", taken right after: a time in that sliver could be seen by both
        # (the second skipped while the first runs), never by neither. It walks every job of
        # the service, handed to APScheduler yet or not, so it runs before the chunks.
        instant = self._scheduling.begin(self.tz, loop, self._on_due)
        self._catch_up_missed()
        known, self._persistence.fires_since_alive = self._persistence.fires_since_alive, None
        more = self._scheduling.hand_over(self._jobs.values(), instant, known)
        self._housekeeping = loop.create_task(
            self._persistence.keep_house(), name="jobconsole:house"
        )
        if more:
            self._scheduling.hand_over_rest(loop, instant, self._started_fully)
        else:
            self._started_fully()

    def _started_fully(self) -> None:
        """Every job is with APScheduler: one event says so for them all (one per job was
        100,000 lines from ``run --headless`` and as many events for the console)."""
        self._run_state = RunState.STARTED
        if self._loop is not None:
            self._save_merged(self._loop)
        message = f"scheduler running in {self.tz.key}"
        if self._took_over_from is not None:
            message = f"took over from {self._took_over_from} (gone): {message}"
        details = {} if self._merged_at_start else dict([NEXT_RUNS_ONLY])
        try:
            self._emit(EventKind.SCHEDULER_STARTED, message=message, details=details)
        finally:
            self._collector.release()  # its first collection walks all the start made

    def _save_merged(self, loop: asyncio.AbstractEventLoop) -> None:
        """The jobs as merged go back to the store after the start, a slice at a time."""
        self._saving = loop.create_task(self._write_back(), name="jobconsole:save")

    async def _write_back(self) -> None:
        await self._persistence.save_merged_in_slices(self._jobs)
        from jobs.core.first_fires import save_kept

        save_kept()  # what the start worked out, for the next one even if this one is killed

    @property
    def disabled_reason(self) -> str | None:
        if self.settings.background_jobs_enabled:
            return None
        return (
            "scheduling is off: BACKGROUND_JOBS_ENABLED is false "
            "(set BACKGROUND_JOBS_ENABLED=true in .env or the environment to turn it on)"
        )

    @property
    def is_running(self) -> bool:
        return self._scheduling.running and self._run_state.firing

    @property
    def run_state(self) -> RunState:
        """Where the service stands: created, standby, starting, started, stopping or
        stopped."""
        return self._run_state

    @property
    def standby(self) -> StandbyInfo | None:
        """While standing by: the state file and the process that schedules from it."""
        return self._standby.info if self._standby is not None else None

    def shutdown(self, timeout: float | None = None) -> asyncio.Task[None] | None:
        """Stop firing at once; give running jobs ``timeout`` seconds, then cancel them.

        Returns a task to await for the running jobs to end (cancelled ones are recorded
        as cancelled); calling it without awaiting also works. A standby stops trying for
        the state file (the task ends once a try under way has).
        """
        import asyncio

        if self._run_state is RunState.STANDBY:
            trying = self._stop_standing_by()
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return None
            return loop.create_task(_settled(trying))
        if not self._run_state.active:
            return None
        self._run_state = RunState.STOPPING
        self._scheduling.stop()
        self._collector.release()
        grace = self.settings.shutdown_timeout_seconds if timeout is None else timeout
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._finish_shutdown()
            return None
        return loop.create_task(self._drain(grace))

    async def _drain(self, grace: float) -> None:
        import asyncio

        pending = [task for task in self._runner.tasks.values() if not task.done()]
        if pending:
            _, still = await asyncio.wait(pending, timeout=grace)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still, timeout=max(1.0, grace))
        self._runner.end_unbegun()  # those cancelled before they began: ended here
        self._finish_shutdown()
        await self.stop_control()

    def status(self) -> SchedulerStatus:
        """The scheduler itself as a console shows it, in this process or through the
        control API (``LocalClient`` and the control server both answer with this)."""
        settings = self.settings
        control = self._control
        return SchedulerStatus(
            running=self.is_running,
            timezone=self.tz.key,
            disabled_reason=self.disabled_reason,
            boot_errors=tuple(self.boot_errors),
            rejected=tuple(self.rejected),
            state_error=self.state_error,
            durable=self.durable,
            registry=settings.registry,
            shutdown_timeout_seconds=settings.shutdown_timeout_seconds,
            host_pid=os.getpid(),
            role=self.role,
            started_at=control.started_at if control is not None else None,
            socket=str(control.path) if control is not None else None,
            state_path=self._state_file(),
        )

    def _state_file(self) -> str | None:
        """The state file in use, or the one ``start()`` opens (it may stand by for it)."""
        store = self._store
        path = getattr(store, "path", None) if store.persistent else self._state_path
        return str(path) if path is not None else None

    def serve_control(self) -> None:
        """Serve the control API (``jobs/core/control/``) on the state file's socket, so a
        console or a command can attach: wherever this process begins scheduling from a
        state file. One that cannot be served is a warning; the jobs run all the same."""
        store = self._store
        if self._control is not None or not store.persistent or store.read_only:
            return
        from jobs.core.control.server import ControlServer

        state_path = getattr(store, "path", None) or self.settings.state_path
        try:
            self._control = ControlServer.serve(self, state_path)
        except Exception as exc:
            message = f"the control API is not served, so no console can attach: {exc}"
            log.warning("%s", message)
            self._emit(EventKind.WARNING, job_id=None, message=message)

    async def stop_control(self) -> None:
        """Stop serving the control API and remove its socket (at shutdown, or when this
        process hands scheduling over)."""
        control, self._control = self._control, None
        if control is not None:
            await control.close()

    def _finish_shutdown(self) -> None:
        if not self._run_state.active:
            return
        self._run_state = RunState.STOPPED
        self._runner.settle()  # the runs that ended last, before the store closes
        self._scheduling.end()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            self._housekeeping = None
        if self._saving is not None:
            self._saving.cancel()
            self._saving = None
        self._persistence.save_merged(self._jobs)  # what the slices had yet to write
        self._store.mark_alive(self._clock())
        self._store.close()
        capture.uninstall()
        self._runner.end()
        self._emit(EventKind.SCHEDULER_STOPPED, message="scheduler stopped")

    def _stop_standing_by(self) -> asyncio.Task[None] | None:
        trying = self._standby.stop() if self._standby is not None else None
        self._standby = None
        self._run_state = RunState.STOPPED
        self._emit(EventKind.SCHEDULER_STOPPED, message="stopped standing by")
        return trying

    def _act(self, action: str) -> None:
        """Before a change: a standby refuses it (acting here would act on jobs that do not
        fire here); else the state file is merged first."""
        if self._standby is not None:
            raise StandbyError(self._standby.refusal(action)).with_traceback(None)
        self._load_first()

    def _load_first(self) -> None:
        """Before ``start()``, a change applies to the jobs as merged with the state file.

        Else the merge at ``start()`` would undo it (a pause), or take a run still going for
        one a crash cut short. Loading is done once; ``start()`` then does not load again.
        """
        if not self._run_state.active:
            self._load_staged()
            self.load_state()

    def pause_job(self, job_id: str) -> JobSnapshot:
        self._act(f"pause {job_id!r}")
        job = self._get(job_id)
        if not job.paused:
            job.paused = True
            self._scheduling.pause(job)
            self._persist(job)
            self._emit(EventKind.JOB_PAUSED, job)
        return self._snapshot(job)

    def resume_job(self, job_id: str) -> JobSnapshot:
        self._act(f"resume {job_id!r}")
        job = self._get(job_id)
        if job.paused:
            job.paused = False
            self._scheduling.resume(job)
            self._persist(job)
            self._emit(EventKind.JOB_RESUMED, job)
        return self._snapshot(job)

    def enable_job(self, job_id: str) -> JobSnapshot:
        """Let a disabled job run on schedule again (a pause it had stays a pause).

        Kept across restarts as an edit is (``restore.py``): for a registry job, until the
        registry's own ``enabled`` changes; then the registry's value wins.
        """
        return self._set_enabled(job_id, True)

    def disable_job(self, job_id: str) -> JobSnapshot:
        """List the job as disabled and stop scheduling it (``run_job_now`` still runs it;
        an execution running goes on to its end). Kept across restarts as ``enable_job``."""
        return self._set_enabled(job_id, False)

    def _set_enabled(self, job_id: str, enabled: bool) -> JobSnapshot:
        self._act(f"{'enable' if enabled else 'disable'} {job_id!r}")
        job = self._get(job_id)
        if job.options.enabled != enabled:
            job.options = replace(job.options, enabled=enabled)
            if enabled:
                self._scheduling.schedule(job)
            else:
                self._scheduling.unschedule(job)
            self._persist(job)
            self._emit(EventKind.JOB_ENABLED if enabled else EventKind.JOB_DISABLED, job)
        return self._snapshot(job)

    def remove_job(self, job_id: str) -> None:
        """Remove the job; an execution of it still running goes on to its end."""
        self._act(f"remove {job_id!r}")
        job = self._get(job_id)
        self._scheduling.unschedule(job)
        del self._jobs[job_id]
        if job.source == JobSource.CONSOLE or job.transient:  # a transient job has no row
            self._persistence.delete(job_id)
        else:
            self._persist(job, removed=True)
        self._emit(EventKind.JOB_REMOVED, job_id=job_id, message=f"removed {job_id}")

    def reschedule_job(self, job_id: str, cron_expression: str) -> JobSnapshot:
        self._act(f"reschedule {job_id!r}")
        job = self._get(job_id)
        schedule = cron.parse(cron_expression)
        job.schedule = schedule
        self._scheduling.reschedule(job)
        self._persist(job)
        self._emit(EventKind.JOB_RESCHEDULED, job, message=schedule.expression)
        return self._snapshot(job)

    def set_timeout(self, job_id: str, timeout_seconds: float | None) -> JobSnapshot:
        self._act(f"set the timeout of {job_id!r}")
        job = self._get(job_id)
        job.options = replace(job.options, timeout_seconds=check_timeout(job_id, timeout_seconds))
        self._persist(job)
        limit = job.options.timeout_seconds
        self._emit(
            EventKind.JOB_UPDATED, job, message=f"timeout {limit:g}s" if limit else "no timeout"
        )
        return self._snapshot(job)

    def run_job_now(self, job_id: str) -> Execution:
        """Run the job at once, outside its schedule; its next scheduled time is unchanged.

        Returns the execution as it starts (or as skipped, when the job is already running).
        Before ``start()`` (in a running event loop) it works too: a service with a state
        file loads it first, as ``start()`` would.
        """
        import asyncio

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "SchedulerService.run_job_now() must be called inside a running event loop"
            ) from None
        self._act(f"run {job_id!r} now")
        job = self._get(job_id)
        if job.func is None:
            raise InvalidJobError(f"job {job_id!r} cannot run: {job.error}")
        return self._runner.launch(job, self._clock(), Trigger.MANUAL)

    # ----------------------------------------------------------------- queries

    def get_jobs(self) -> list[JobSnapshot]:
        times = self._scheduling.next_run_times()
        return [self._snapshot(job, times) for job in self._jobs.values()]

    def job_rows(self) -> list[JobRow]:
        """``get_jobs`` as plain rows (``JobRow``): what a console's table holds, read in
        a third of the time of 100,000 snapshots."""
        times = self._scheduling.next_run_times()
        row = self._row
        return [row(job, times) for job in self._jobs.values()]

    def next_run_times(self) -> dict[str, datetime | None]:
        """Each job's next run time, as its snapshot has it (a job not here has none:
        APScheduler holds only the jobs that can fire, a paused one without a time)."""
        return self._scheduling.next_run_times()

    def get_job(self, job_id: str) -> JobSnapshot:
        return self._snapshot(self._get(job_id))

    def has_job(self, job_id: str) -> bool:
        return job_id in self._jobs

    def count_jobs(self, *, active: bool = False) -> int:
        """How many jobs there are (``active``: enabled and loaded without an error), with
        no snapshot of each (100,000 of them take a third of a second)."""
        if not active:
            return len(self._jobs)
        return sum(job.options.enabled and job.error is None for job in self._jobs.values())

    def recent_executions(self, job_id: str | None = None, limit: int = 50) -> list[Execution]:
        """Newest first. A persistent store keeps the history of jobs no longer registered;
        without one, an id not registered is refused."""
        if self._standby is not None:  # the scheduling process's record
            return self._standby.executions(job_id, limit)
        if job_id is not None and job_id not in self._jobs and not self._store.persistent:
            raise JobNotFoundError(job_id)
        return self._store.executions(job_id=job_id, limit=limit)

    def wait_written(self) -> None:
        """Block until what was recorded so far is in the state file: a history read after
        it shows every run announced before it. Call it off the event loop."""
        self._store.flush()

    def recent_runs(self, job_ids: Iterable[str], limit: int = 20) -> dict[str, list[Execution]]:
        """Each job's newest ``limit`` finished executions, newest first, without their
        output, error or traceback (``state_store.run_summary``): the console's strip of
        runs per row and its chart of durations. A job without any (or not known) has an
        empty list."""
        if self._standby is not None:
            return {
                job_id: [
                    run_summary(e)
                    for e in self._standby.executions(job_id, limit)
                    if e.status.is_final
                ]
                for job_id in dict.fromkeys(job_ids)
            }
        return self._store.recent_runs(job_ids, limit)

    def next_fire_times(self, job_id: str, count: int = 10) -> list[datetime]:
        job = self._get(job_id)
        return job.schedule.next_times(self._clock(), job.tz, count)

    def _get(self, job_id: str) -> LiveJob:
        try:
            return self._jobs[job_id]
        except (KeyError, TypeError):
            raise JobNotFoundError(job_id) from None

    def _snapshot(
        self, job: LiveJob, next_runs: dict[str, datetime | None] | None = None
    ) -> JobSnapshot:
        """``next_runs``: every job's next run time read at once (``get_jobs``)."""
        return JobSnapshot(*self._row(job, next_runs))

    def _row(self, job: LiveJob, next_runs: dict[str, datetime | None] | None) -> JobRow:
        next_run = self._scheduling.next_run_time(job, next_runs)
        last = job.last
        return tuple.__new__(  # a JobRow without its __new__ in Python
            JobRow,
            (
                job.job_id,
                job.func_ref,
                job.schedule.expression,
                self._state(job),
                job.options,
                next_run,
                last.run_time if last else None,
                last.status if last else None,
                last.duration if last else None,
                job.run_count,
                job.failure_count,
                job.error,
                job.source,
            ),
        )

    def _state(self, job: LiveJob) -> JobState:
        running = job.job_id in self._runner.running
        return live_jobs.state_of(job.options, job.error, job.paused, running)

    def list_jobs(self) -> list[JobListing]:
        """What ``jobconsole list`` prints of each job: no snapshot (100,000 took 0.5 s)
        and no next run time asked of the scheduler (``list`` works them out itself)."""
        return [
            JobListing(
                job.job_id,
                job.schedule,
                job.tz,
                self._state(job),
                job.error,
                job.options.description,
            )
            for job in self._jobs.values()
        ]

    def list_staged(self) -> Listed:
        """What ``jobconsole list`` prints of the staged registry merged with the state
        file, as ``list_jobs()`` after loading and merging them would, worked out without
        loading them (``jobs.core.listing``); bad entries are reported as the loading
        reports them. What is left of the service is to close it."""
        from jobs.core import listing

        if not self._staging or not self._adds_quietly():
            self._load_staged()
            self.load_state()
            return listing.grouped(self.list_jobs())
        entries, self._staged, self._staging = self._staged, [], False
        return listing.listed(
            entries,
            self._store,
            self.tz,
            self._jobs,
            lambda index, entry: self._load_entry(index, entry, True),
            self._settle_rejected,
            lambda: {entry.row_id for entry in self.rejected},
        )

    # --------------------------------------------------------------- internals

    @property
    def _scheduler(self) -> engine.Scheduler | None:
        """APScheduler's scheduler while scheduling (tests and benchmarks drive it)."""
        return self._scheduling.scheduler

    def _persist(self, job: LiveJob, removed: bool = False) -> None:
        self._persistence.save(job, removed=removed)

    def _announce_execution(self, job: LiveJob, execution: Execution) -> None:
        self._emit(EXECUTION_EVENT_FOR_STATUS[execution.status], job, execution=execution)

    def _on_due(self, job_id: str, run_times: list[datetime]) -> None:
        job = self._jobs.get(job_id)
        if job is None or not self._run_state.firing or self._runner.forked:
            return
        self._runner.fire(job, run_times)

    def _catch_up_missed(self) -> None:
        """Record runs due while nothing ran; run the latest once if within the grace time."""
        found = self._persistence.missed_runs(self._jobs.values())
        for due in found:
            job = self._jobs[due.job_id]
            if due.missed:
                self._runner.record_instant(job, ExecutionStatus.MISSED, due.latest, due.message)
            if due.run_latest:
                self._runner.launch(job, due.latest, Trigger.SCHEDULE)
        if found:
            self._store.flush()  # so a history read right after start-up shows the missed runs

    def load_state(self) -> None:
        """Merge the state file into the registered jobs (done by ``start()``; once).

        Jobs registered in code after this (and before ``start()``) are not merged with
        what the file holds for them: register code jobs first. Before ``start()``, a
        service that opens its state file at start opens it here; while another process
        holds it, this raises StateLockedError naming that process.
        """
        if self._standby is None and not self._run_state.active:
            from jobs.core.lock import StateError

            try:
                self._open_state(wait=False)
            except StateError as exc:
                raise exc.with_traceback(None) from None
        broken = {entry.row_id for entry in self.rejected}
        self._pending_notices.extend(self._persistence.load(self._jobs, self.tz, broken))

    def close(self) -> None:
        """Release the state file of a service that was never started (e.g. ``list``), or
        stop standing by."""
        if self._run_state is RunState.STANDBY:
            self._stop_standing_by()
        if not self._run_state.active:
            self._store.close()


def _shown_func(func: Any) -> str:
    """A bad entry's ``func`` in a few words: its reference, or what it is."""
    if isinstance(func, str):
        return func[:200]
    if func is None:
        return ""
    from jobs.core import funcs

    try:
        return funcs.reference_of(func) or funcs.display_name(func)
    except Exception:
        return type(func).__name__


async def _settled(task: asyncio.Task[None] | None) -> None:
    """Wait for a cancelled task to end (a standby's try at the hold, closing what it got)."""
    import asyncio

    if task is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await task


_started: weakref.WeakSet[SchedulerService] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for service in list(_started):
        service._runner.leave_to_parent()


os.register_at_fork(after_in_child=_after_fork_in_child)
