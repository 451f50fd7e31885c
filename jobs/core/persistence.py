"""The service's side of its store: the stored state merged into the jobs once, every
change written as it happens, the runs missed while nothing ran, the sign of life and the
pruning. The rules themselves are ``restore.py``'s, on plain data; this applies them.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from jobs.core import live_jobs, restore
from jobs.core.first_fires import FirstFires
from jobs.core.live_jobs import LiveJob
from jobs.core.settings import Settings
from jobs.core.state_store import StateStore, StoredJob

log = logging.getLogger("jobconsole.restore")

#: How often the state file learns we are alive, and how often history is pruned.
ALIVE_EVERY_SECONDS = 15.0
PRUNE_EVERY_SECONDS = 3600.0
#: Jobs ``save_merged_in_slices`` looks at per loop iteration.
SAVE_SLICE = 1000


class Persistence:
    def __init__(self, store: StateStore, settings: Settings, clock: Callable[[], datetime]):
        self.store = store
        self.settings = settings
        self._clock = clock
        #: The stored state was merged into the jobs (once): changes may be written now.
        self.loaded = False
        self._stored_rows: dict[str, StoredJob] | None = None  # as read, until saved merged
        self._to_save: deque[LiveJob] | None = None  # the merged jobs save_merged has yet to write
        #: What ``missed_runs`` found of each expression's first fire after the last sign
        #: of life (None: it found no sign of life).
        self.fires_since_alive: FirstFires | None = None

    @property
    def writable(self) -> bool:
        """Changes go to the store: it is open for writing and merged already (a write
        before the merge would overwrite what the merge should read)."""
        store = self.store
        return self.loaded and not store.closed and not store.read_only

    def save(self, job: LiveJob, *, removed: bool = False) -> None:
        if self.writable and not job.transient:
            self.store.save_job(live_jobs.row_of(job, removed=removed))

    def delete(self, job_id: str) -> None:
        if self.writable:
            self.store.delete_job(job_id)

    def load(
        self, jobs: dict[str, LiveJob], default_tz: ZoneInfo, broken: Collection[str] = ()
    ) -> list[str]:
        """Merge the store into ``jobs`` (the code jobs, by id), once; returns the notices,
        logged already, for the service to announce. ``broken``: ids of refused registry
        entries, whose rows are kept."""
        store = self.store
        if self.loaded or store.closed:
            return []
        self.loaded = True
        notices = [
            f"{execution.job_id}: execution #{execution.id} was interrupted by the last shutdown"
            for execution in ([] if store.read_only else store.interrupt_running(self._clock()))
        ]
        if notices:
            # Committed before the stats and history below (and the log pane) are read.
            store.flush()
        rows = store.load_jobs()
        merged = restore.merge(jobs, rows, broken)
        for kept in merged.kept:
            job = jobs[kept.job_id]
            job.paused = kept.paused
            if kept.schedule is not None:
                job.schedule = kept.schedule
            if kept.options is not None:
                job.options = kept.options
        for job_id in merged.dropped:
            del jobs[job_id]
        if not store.read_only:
            for job_id in merged.forgotten:
                store.delete_job(job_id)
        for row in merged.restored:
            jobs[row.job_id] = live_jobs.from_row(row, default_tz)
        # The jobs with runs: a tenth of them, say, when a registry is large.
        for job_id, stat in store.job_stats().items():
            job = jobs.get(job_id)
            if job is not None:
                job.run_count, job.failure_count, job.last = (
                    stat.run_count,
                    stat.failure_count,
                    stat.last,
                )
        if not store.read_only:  # save_merged writes nothing to a file only read
            self._stored_rows = {row.job_id: row for row in rows}
            self._to_save = deque(jobs.values())  # as merged; jobs registered later save themselves
        notices.extend(merged.notices)
        for message in notices:
            log.warning("%s", message)
        return notices

    def save_merged(self, jobs: Mapping[str, LiveJob], limit: int | None = None) -> bool:
        """Write back the jobs as merged, those that differ from their stored row only: up
        to ``limit`` more of them (None: all that are left). Returns whether any are left.

        ``start()`` does it once every job is scheduled, a slice per loop iteration, and
        shutdown writes what is left: a first start with 100,000 jobs writes 100,000
        rows (a second of the loop's time in one go), and a restart with nothing changed
        writes none. The jobs are those ``load`` merged: one removed or replaced since is
        not written back (its own change was), nor one registered since.
        """
        stored, queue = self._stored_rows, self._to_save
        if stored is None or queue is None or self.store.read_only or self.store.closed:
            self._stored_rows = self._to_save = None
            return False
        picked: list[LiveJob] = []
        while queue and (limit is None or len(picked) < limit):
            job = queue.popleft()
            if jobs.get(job.job_id) is job:
                picked.append(job)
        for row in restore.unsaved((live_jobs.row_of(job) for job in picked), stored):
            self.store.save_job(row)
        if queue:
            return True
        self._stored_rows = self._to_save = None
        return False

    async def save_merged_in_slices(self, jobs: Mapping[str, LiveJob]) -> None:
        """``save_merged``, ``SAVE_SLICE`` jobs per loop iteration."""
        import asyncio

        while self.save_merged(jobs, SAVE_SLICE):
            await asyncio.sleep(0)

    def missed_runs(self, jobs: Iterable[LiveJob]) -> list[restore.CatchUp]:
        """Runs due while nothing ran, per job that fires (``restore.catch_up``); notes the
        sign of life first."""
        store = self.store
        last_alive = store.last_alive()
        now = self._clock()
        store.mark_alive(now)
        if last_alive is None or last_alive >= now:
            return []
        candidates = [job for job in jobs if job.schedulable and not job.paused]
        # Most jobs have nothing due: their first fire after the sign of life (so after
        # any run recorded since), one per distinct expression, says so; the hand-over
        # takes those still ahead.
        fires = self.fires_since_alive = FirstFires(
            last_alive.timestamp(), ((job.schedule.normalized, job.tz) for job in candidates)
        )
        due = set()
        for key in fires.keys:
            first = fires.of(*key)
            if first is not None and first <= now:
                due.add(key)
        candidates = [job for job in candidates if (job.schedule.normalized, job.tz) in due]
        # The sign of life is written every few seconds; a run recorded after it was not missed.
        recorded = store.latest_scheduled_times(job.job_id for job in candidates)
        return restore.catch_up(
            candidates, last_alive, recorded, now, self.settings.misfire_grace_seconds
        )

    async def keep_house(self) -> None:
        """Note that we are alive (for missed-run detection) and prune old history."""
        import asyncio

        store = self.store
        last_prune: float | None = None  # prune at start: monotonic() may be near 0
        while True:
            now = self._clock()
            store.mark_alive(now)
            if last_prune is None or time.monotonic() - last_prune > PRUNE_EVERY_SECONDS:
                last_prune = time.monotonic()
                store.prune(self.settings.history_max_rows, self.settings.history_max_age_days, now)
            await asyncio.sleep(ALIVE_EVERY_SECONDS)
