"""What ``jobconsole list`` prints of each job, worked out as plain data: the registry's
entries go through the loading's own checks and are joined with the state file's rows by
``restore.py``'s rules, without a ``LiveJob``, a ``StoredJob`` and a merge step per job.

Loading 100,000 jobs into a service for one table took most of a second that way. Here:

- An entry made only of values the loading found good before (``live_jobs.known_good``:
  the function, the options, a plain id) is a few plain values. Any other entry (the
  first of its kind, an odd or a bad one, a second use of an id) goes through the
  service's own loading, so it is refused word for word as it always was, in its place.
- A stored row that the merge leaves as it is (``StateStore.listing_rows``: a registry
  job's row, neither removed, paused nor edited, whose job still has its expression and
  editable options) is matched by id and those few values. Every other row is read whole
  and goes through ``restore.merge`` (pauses, console edits, console jobs brought back,
  registry changes, jobs gone), with the same notices, logged in the same order.
- Jobs that print the same tail (schedule, zone, options, pause, error) share one entry
  of ``Listed.kinds``: 100,000 jobs have some 34,000.

Nothing a listing does not print is read: no run counts, no last runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from jobs.core import cron, job_options, live_jobs, restore
from jobs.core.job_options import JobOptions
from jobs.core.live_jobs import LiveJob
from jobs.core.records import JobListing, JobState
from jobs.core.state_store import StateStore

#: Where the merge's notices go, as when the service merges (``persistence.py``).
log = logging.getLogger("jobconsole.restore")


class Kind(NamedTuple):
    """What a job's row shows besides its id."""

    schedule: cron.CronSchedule
    tz: ZoneInfo
    state: JobState
    error: str | None
    description: str | None


class Listed(NamedTuple):
    """The jobs in the order the service holds them: job ``i`` is ``ids[i]`` and
    ``kinds[which[i]]``."""

    ids: list[str]
    which: list[int]
    kinds: list[Kind]


def grouped(jobs: Iterable[JobListing]) -> Listed:
    """``Listed`` of a service's ``list_jobs()``."""
    ids: list[str] = []
    which: list[int] = []
    kinds: list[Kind] = []
    index_of: dict[tuple[Any, ...], int] = {}
    for job_id, schedule, zone, state, error, description in jobs:
        ids.append(job_id)
        key = (id(schedule), zone, id(state), error, description)  # an enum's hash is slow
        index = index_of.get(key)
        if index is None:
            index = index_of[key] = len(kinds)
            kinds.append(Kind(schedule, zone, state, error, description))
        which.append(index)
    return Listed(ids, which, kinds)


#: ``load_entry(index, entry)``: the service loads one entry (its job then the last of
#: ``jobs``), or returns it refused as ``_settle_rejected`` takes it.
LoadEntry = Callable[[int, Any], "tuple[int, Any, str, str] | None"]


class _Part(NamedTuple):
    """A registry job's row as it stands: what its tail is made of."""

    schedule: cron.CronSchedule
    tz: ZoneInfo
    options: JobOptions
    paused: bool = False


def listed(
    entries: Sequence[Any],
    store: StateStore,
    default_tz: ZoneInfo,
    jobs: dict[str, LiveJob],
    load_entry: LoadEntry,
    settle: Callable[[list[tuple[int, Any, str, str]]], object],
    broken: Callable[[], set[str]],
) -> Listed:
    """The registry's ``entries`` merged with ``store``'s rows, as a service that loaded
    them (``load_registry``, then ``load_state``) lists them.

    The rest are the service's: ``jobs`` its jobs (the entries it loads itself go there,
    and a job listed here whose id its checks must see), ``load_entry`` its loading of
    one entry, ``settle`` what it does with the refused ones (report and keep them), and
    ``broken`` the ids of those kept.
    """
    ids: list[str] = []
    parts: list[_Part] = []
    at: dict[str, int] = {}  # id -> place
    refused: list[tuple[int, Any, str, str]] = []
    required, allowed = job_options.REQUIRED_KEYS, job_options.CONFIG_KEYS
    known_good, parse = live_jobs.known_good, cron.parse
    shared: dict[tuple[int, int, int], _Part] = {}

    def hold(job_id: str) -> None:
        """Give the service a job of the id listed here, for its checks to see."""
        if job_id not in jobs:
            part = parts[at[job_id]]
            jobs[job_id] = LiveJob(job_id, None, "", part.schedule, part.tz, part.options)

    def load(index: int, entry: Any) -> None:
        found = load_entry(index, entry)
        if found is None:
            job = next(reversed(jobs.values()))
            if job.job_id in at:  # listed here: the service must see it, and refuse this
                del jobs[job.job_id]
                hold(job.job_id)
                found = load_entry(index, entry)
        if found is not None:
            refused.append(found)
            return
        at[job.job_id] = len(ids)
        ids.append(job.job_id)
        parts.append(part_of(job.schedule, job.tz, job.options))

    def part_of(schedule: cron.CronSchedule, tz: ZoneInfo, options: JobOptions) -> _Part:
        key = (id(schedule), id(tz), id(options))
        part = shared.get(key)
        if part is None:
            part = shared[key] = _Part(schedule, tz, options)
        return part

    for index, entry in enumerate(entries):
        if type(entry) is dict and required <= entry.keys() <= allowed:
            job_id = entry["job_id"]
            good = known_good(job_id, entry["func"], entry, len(entry) == 3, default_tz)
            if good is not None and job_id not in at:
                try:
                    schedule = parse(entry["cron_expression"])
                except cron.CronError:
                    load(index, entry)
                    continue
                _, _, tz, options = good
                key = (id(schedule), id(tz), id(options))
                part = shared.get(key)
                if part is None:
                    part = part_of(schedule, tz, options)
                at[job_id] = len(ids)
                ids.append(job_id)
                parts.append(part)
                continue
        load(index, entry)
    for _, entry, _, _ in refused:
        given = entry.get("job_id") if isinstance(entry, dict) else None
        if isinstance(given, str) and given in at:  # its kept row is named for the job's id
            hold(given)
    settle(refused)
    return _merged(ids, parts, at, store, default_tz, broken())


def _merged(
    ids: list[str],
    parts: list[_Part],
    at: dict[str, int],
    store: StateStore,
    default_tz: ZoneInfo,
    broken: set[str],
) -> Listed:
    """The rows merged into the registry's jobs, as ``Persistence.load`` merges them."""
    editable = [option.name for option in job_options.EDITABLE]
    as_stored: dict[int, tuple[Any, ...]] = {}  # per part, by identity: held in parts
    whole: list[str] = []  # the rows to read whole and merge
    for job_id, unedited, *values in store.listing_rows():
        if unedited:
            place = at.get(job_id)
            if place is not None:
                part = parts[place]
                mine = as_stored.get(id(part))
                if mine is None:
                    options = part.options
                    mine = as_stored[id(part)] = (
                        part.schedule.expression,
                        *(getattr(options, name) for name in editable),
                    )
                if mine == tuple(values):
                    continue
        whole.append(job_id)
    restored: list[LiveJob] = []
    dropped: set[int] = set()
    if whole:
        rows = store.load_jobs(whole)
        code = {row.job_id: _Code(parts[at[row.job_id]]) for row in rows if row.job_id in at}
        merge = restore.merge(code, rows, broken)
        for kept in merge.kept:
            place = at[kept.job_id]
            schedule, tz, options, _ = parts[place]
            if kept.schedule is not None:
                schedule = kept.schedule
            if kept.options is not None:
                options = kept.options
            parts[place] = _Part(schedule, tz, options, kept.paused)
        dropped = {at[job_id] for job_id in merge.dropped}
        restored = [live_jobs.from_row(row, default_tz) for row in merge.restored]
        for message in merge.notices:
            log.warning("%s", message)
    return _kinds(ids, parts, dropped, restored)


class _Code(NamedTuple):
    """What ``restore.merge`` reads of a registry job (``restore.CodeJob``)."""

    part: _Part

    @property
    def cron_expression(self) -> str:
        return self.part.schedule.expression

    @property
    def options(self) -> JobOptions:
        return self.part.options


def _kinds(
    ids: list[str], parts: list[_Part], dropped: set[int], restored: list[LiveJob]
) -> Listed:
    """``Listed`` of the registry's jobs but those ``dropped`` (places), then the console's."""
    which: list[int] = []
    kinds: list[Kind] = []
    index_of: dict[int, int] = {}  # per part, by identity: held in parts
    for part in parts:
        index = index_of.get(id(part))
        if index is None:
            index = index_of[id(part)] = len(kinds)
            state = live_jobs.state_of(part.options, None, part.paused)
            kinds.append(Kind(part.schedule, part.tz, state, None, part.options.description))
        which.append(index)
    if dropped:
        kept = [i for i in range(len(ids)) if i not in dropped]
        ids, which = [ids[i] for i in kept], [which[i] for i in kept]
    for job in restored:
        ids.append(job.job_id)
        which.append(len(kinds))
        state = live_jobs.state_of(job.options, job.error, job.paused)
        kinds.append(Kind(job.schedule, job.tz, state, job.error, job.options.description))
    return Listed(ids, which, kinds)
