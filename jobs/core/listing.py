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


class _Shape(NamedTuple):
    """What a registry job's row is made of besides its id, as it stands; ``stored`` is
    what its unedited row holds (``StateStore.listing_rows``' values)."""

    schedule: cron.CronSchedule
    tz: ZoneInfo
    options: JobOptions
    paused: bool
    stored: tuple[Any, ...]


class _Jobs:
    """The registry's jobs as listed so far: job ``i`` is ``ids[i]`` and
    ``shapes[which[i]]``; each distinct shape is made once."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.which: list[int] = []
        self.at: dict[str, int] = {}  # id -> place
        self.shapes: list[_Shape] = []
        self._index: dict[tuple[int, int, int, bool], int] = {}  # by identity: held in shapes
        #: The editable options' values, per options (a few for 34,000 shapes).
        self._editable: dict[int, tuple[Any, ...]] = {}  # by identity: held in shapes

    def shape(
        self, schedule: cron.CronSchedule, tz: ZoneInfo, options: JobOptions, paused: bool = False
    ) -> int:
        key = (id(schedule), id(tz), id(options), paused)
        index = self._index.get(key)
        if index is None:
            index = self._index[key] = len(self.shapes)
            editable = self._editable.get(id(options))
            if editable is None:
                editable = self._editable[id(options)] = job_options.editable_values(options)
            stored = (schedule.expression, *editable)
            self.shapes.append(_Shape(schedule, tz, options, paused, stored))
        return index

    def add(self, job_id: str, shape: int) -> None:
        self.at[job_id] = len(self.ids)
        self.ids.append(job_id)
        self.which.append(shape)

    def of(self, job_id: str) -> _Shape:
        return self.shapes[self.which[self.at[job_id]]]


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
    listed = _Jobs()
    ids, which, at, add, shape = listed.ids, listed.which, listed.at, listed.add, listed.shape
    refused: list[tuple[int, Any, str, str]] = []
    required, allowed = job_options.REQUIRED_KEYS, job_options.CONFIG_KEYS
    known_good = live_jobs.known_good
    #: Per (zone, options), by identity (held here), and expression's text: the shape its
    #: entries take. A text is parsed as ``cron.parse`` parses it, the first time.
    shape_of: dict[tuple[int, int], tuple[ZoneInfo, JobOptions, dict[str, int]]] = {}
    last: tuple[ZoneInfo, JobOptions, dict[str, int]] | None = None

    def hold(job_id: str) -> None:
        """Give the service a job of the id listed here, for its checks to see."""
        if job_id not in jobs:
            schedule, tz, options, _, _ = listed.of(job_id)
            jobs[job_id] = LiveJob(job_id, None, "", schedule, tz, options)

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
        else:
            add(job.job_id, shape(job.schedule, job.tz, job.options))

    for index, entry in enumerate(entries):
        if type(entry) is dict and required <= entry.keys() <= allowed:
            job_id = entry["job_id"]
            good = known_good(job_id, entry["func"], entry, len(entry) == 3, default_tz)
            if good is not None and job_id not in at:
                expression = entry["cron_expression"]
                tz, options = good[2], good[3]
                if last is None or last[0] is not tz or last[1] is not options:
                    last = shape_of.get((id(tz), id(options)))
                    if last is None:
                        last = shape_of[(id(tz), id(options))] = (tz, options, {})
                texts = last[2]
                found = texts.get(expression) if type(expression) is str else None
                if found is None:
                    try:
                        schedule = cron.parse(expression)
                    except cron.CronError:
                        load(index, entry)
                        continue
                    found = shape(schedule, tz, options)
                    if type(expression) is str:
                        texts[expression] = found
                at[job_id] = len(ids)
                ids.append(job_id)
                which.append(found)
                continue
        load(index, entry)
    for _, entry, _, _ in refused:
        given = entry.get("job_id") if isinstance(entry, dict) else None
        if isinstance(given, str) and given in at:  # its kept row is named for the job's id
            hold(given)
    settle(refused)
    return _merged(listed, store, default_tz, broken())


def _merged(listed: _Jobs, store: StateStore, default_tz: ZoneInfo, broken: set[str]) -> Listed:
    """The rows merged into the registry's jobs, as ``Persistence.load`` merges them."""
    at, which, shapes = listed.at, listed.which, listed.shapes
    # The rows to read whole and merge: all but the unedited rows of jobs that still
    # have what those rows hold, as read: (job_id, True, expression, *editable).
    held = [(True, *shape.stored) for shape in shapes]
    unchanged = set(map(tuple.__add__, zip(listed.ids), map(held.__getitem__, which)))
    whole = [row[0] for row in store.listing_rows() if row not in unchanged]
    restored: list[LiveJob] = []
    dropped: set[int] = set()
    if whole:
        rows = store.load_jobs(whole)
        code = {row.job_id: _Code(listed.of(row.job_id)) for row in rows if row.job_id in at}
        merge = restore.merge(code, rows, broken)
        for kept in merge.kept:
            schedule, tz, options, _, _ = listed.of(kept.job_id)
            if kept.schedule is not None:
                schedule = kept.schedule
            if kept.options is not None:
                options = kept.options
            which[at[kept.job_id]] = listed.shape(schedule, tz, options, kept.paused)
        dropped = {at[job_id] for job_id in merge.dropped}
        restored = [live_jobs.from_row(row, default_tz) for row in merge.restored]
        for message in merge.notices:
            log.warning("%s", message)
    return _kinds(listed, dropped, restored)


class _Code(NamedTuple):
    """What ``restore.merge`` reads of a registry job (``restore.CodeJob``)."""

    shape: _Shape

    @property
    def cron_expression(self) -> str:
        return self.shape.schedule.expression

    @property
    def options(self) -> JobOptions:
        return self.shape.options


def _kinds(listed: _Jobs, dropped: set[int], restored: list[LiveJob]) -> Listed:
    """``Listed`` of the registry's jobs but those ``dropped`` (places), then the
    console's; each kind shown by some job."""
    ids, which, shapes = listed.ids, listed.which, listed.shapes
    if dropped:
        kept = [i for i in range(len(ids)) if i not in dropped]
        ids, which = [ids[i] for i in kept], [which[i] for i in kept]
    used = set(which)
    if len(used) < len(shapes):  # a merge moved jobs off a shape, or dropped them
        renumber = {old: new for new, old in enumerate(sorted(used))}
        shapes = [shapes[old] for old in sorted(used)]
        which = [renumber[old] for old in which]
    kinds = [
        Kind(
            shape.schedule,
            shape.tz,
            live_jobs.state_of(shape.options, None, shape.paused),
            None,
            shape.options.description,
        )
        for shape in shapes
    ]
    for job in restored:
        ids.append(job.job_id)
        which.append(len(kinds))
        state = live_jobs.state_of(job.options, job.error, job.paused)
        kinds.append(Kind(job.schedule, job.tz, state, job.error, job.options.description))
    return Listed(ids, which, kinds)
