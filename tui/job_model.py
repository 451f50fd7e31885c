"""The job table's data: every job, the order of their rows, the filter and the counts.

No Textual here: the ``JobTable`` widget draws what this holds, and a test can drive it
alone. Each job is held as a plain ``JobRow`` (a snapshot's fields in a tuple): 100,000
of them are read at start-up, and a ``JobSnapshot`` is made only of a job asked for
(``get``). The order is a sorted list of ``(key, job_id)`` tuples searched with ``bisect``:
updating one job is O(log n) plus a memmove, and moves the row only when its sort key
changed. The filter's view is a second such list, kept in step as jobs change. Counts per
state are kept as jobs change, so the status line reads them for free.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from jobs.core.records import JobRow, JobSnapshot, JobState
from tui import plain_text, status_style
from tui.plain_text import visible

SortKey = tuple[Any, ...]
_NEXT = JobRow._fields.index("next_run_time")


def _next_run(job: JobRow, now: datetime, tz: tzinfo) -> str:
    """``14:05:00 in 4m 12s`` within a day, ``12-01 09:00 in 2d 5h`` (month-day) beyond."""
    when = job.next_run_time
    if when is None:
        return ""
    local = when.astimezone(tz)
    clock = local.strftime("%H:%M:%S" if when - now < timedelta(days=1) else "%m-%d %H:%M")
    return f"{clock} {plain_text.countdown(when, now)}"


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return ""
    seconds = (now - moment).total_seconds()
    return "just now" if seconds < 1 else f"{plain_text.span(seconds)} ago"


_STATE_CLASS = {
    JobState.RUNNING: "job-table--running",
    JobState.PAUSED: "job-table--warning",
    JobState.DISABLED: "job-table--muted",
    JobState.ERROR: "job-table--error",
}
_STATUS_CLASS = status_style.component_classes("job-table")


@dataclass(frozen=True, slots=True)
class Column:
    """One column: how to draw a job's cell and how to order jobs by it.

    Both read a job's ``JobRow`` (a ``JobSnapshot`` has the same names).
    ``cell`` returns the text and a component class for its colour (or None); text from
    users (ids, descriptions) has its control characters made visible (``visible``)
    and, drawn as a segment, is never parsed as markup.
    ``value`` returns something comparable among jobs, or None for "no value" (sorted last);
    a column without one is not sortable. A ``picture`` column is drawn by the table from
    the runs it holds (``tui.recent_runs``), not from the row: ``cell`` is blank.
    """

    key: str
    label: str
    width: int
    cell: Callable[[JobRow, datetime, tzinfo], tuple[str, str | None]]
    value: Callable[[JobRow], Any] | None
    right: bool = False
    flexible: bool = False
    picture: bool = False


def _blank(job: JobRow, now: datetime, tz: tzinfo) -> tuple[str, str | None]:
    return "", None


#: The strip of recent runs: one cell a run, the newest at the right; fewer runs (down
#: to the first) when the kept columns need the room.
STRIP_WIDTH = (6, 10)


COLUMNS: tuple[Column, ...] = (
    Column("id", "id", 19, lambda j, n, z: (visible(j.job_id), None), lambda j: j.job_id),
    Column(
        "cron",
        "cron",
        13,
        lambda j, n, z: (visible(j.cron_expression), None),
        lambda j: j.cron_expression,
    ),
    Column(
        "state",
        "state",
        9,
        lambda j, n, z: (str(j.state), _STATE_CLASS.get(j.state)),
        lambda j: str(j.state),
    ),
    Column(
        "next",
        "next run",
        23,  # "12-31 23:59 in 364d 23h": a countdown is never cut
        lambda j, n, z: (_next_run(j, n, z), None),
        lambda j: j.next_run_time,
    ),
    Column("strip", "recent", STRIP_WIDTH[1], _blank, None, right=True, picture=True),
    Column(
        "status",
        "status",
        9,
        lambda j, n, z: (
            str(j.last_status or ""),
            _STATUS_CLASS.get(j.last_status) if j.last_status else None,
        ),
        lambda j: str(j.last_status) if j.last_status else None,
    ),
    Column(
        "last",
        "last run",
        12,
        lambda j, n, z: (_ago(j.last_run_time, n), None),
        lambda j: j.last_run_time,
    ),
    Column(
        "duration",
        "took",
        6,
        lambda j, n, z: (plain_text.duration(j.last_duration), None),
        lambda j: j.last_duration,
        right=True,
    ),
    Column("trend", "durations", 10, _blank, None, right=True, picture=True),
    Column(
        "runs", "runs", 6, lambda j, n, z: (str(j.run_count), None), lambda j: j.run_count, True
    ),
    Column(
        "fails",
        "fails",
        7,
        lambda j, n, z: (str(j.failure_count), "job-table--error" if j.failure_count else None),
        lambda j: j.failure_count,
        right=True,
    ),
    Column(
        "description",
        "description",
        11,
        lambda j, n, z: (visible(j.description), "job-table--muted"),
        lambda j: j.description,
        flexible=True,
    ),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)
#: The columns the table sorts by (the sort menu offers them): the pictures are not.
SORTABLE = tuple(column.key for column in COLUMNS if column.value is not None)

#: Columns of counts and durations: sorting by one puts the largest first.
LARGEST_FIRST = frozenset({"duration", "runs", "fails"})

#: The columns a narrow table leaves out, first to last; id, cron, state, next run and
#: the strip of recent runs always stay. The status goes last: the strip's newest cell
#: shows it too.
DROP_ORDER = ("duration", "trend", "runs", "fails", "last", "description", "status")
#: How wide the id and cron columns may grow to show their longest value whole, and how
#: narrow they may shrink (cut with an ellipsis) when even the kept columns do not fit.
ID_WIDTH, CRON_WIDTH = (8, 48), (9, 32)
_INDEX = {column.key: index for index, column in enumerate(COLUMNS)}


def row_width(widths: list[int]) -> int:
    """A row's cells: a leading space, then each shown column and the space after it."""
    return 1 + sum(width + 1 for width in widths if width)


def column_widths(
    available: int, longest_id: int, longest_cron: int, keep: str | None = None
) -> list[int]:
    """Each column's width for a table ``available`` cells wide, 0 for one left out.

    The id and cron columns take their longest value whole (within ``ID_WIDTH`` and
    ``CRON_WIDTH``), the other columns their fixed width, the description what is left.
    When that does not fit, columns are left out in ``DROP_ORDER`` (but ``keep``, the
    column sorted by, whose header shows the sort, while it fits); then the strip of
    recent runs shows fewer, the next run
    gives a cell, and the cron and the id shrink to their least, the id last: it says
    which job a row is. Below that (under 60 cells) the row is wider than the table and
    scrolls.
    """
    widths = [column.width for column in COLUMNS]
    widths[_INDEX["id"]] = max(ID_WIDTH[0], min(ID_WIDTH[1], max(longest_id, 4)))
    widths[_INDEX["cron"]] = max(CRON_WIDTH[0], min(CRON_WIDTH[1], max(longest_cron, 6)))
    description = _INDEX["description"]
    for key in DROP_ORDER:
        if row_width(widths) <= available:
            break
        if key != keep:
            widths[_INDEX[key]] = 0
    # The id gives last. The strip gives its older runs first; the next run one cell:
    # only a countdown of 100 days or more ("12-31 23:59 in 364d 23h") needs it.
    shrinking = (
        ("strip", STRIP_WIDTH[0]),
        ("next", 22),
        ("cron", CRON_WIDTH[0]),
        ("id", ID_WIDTH[0]),
    )
    for key, least in shrinking:
        over = row_width(widths) - available
        if over > 0:
            index = _INDEX[key]
            widths[index] = max(least, widths[index] - over)
    if widths[description]:
        widths[description] += max(0, available - row_width(widths))
    if keep in DROP_ORDER and row_width(widths) > available:
        return column_widths(available, longest_id, longest_cron)
    return widths


class JobTableModel:
    """The jobs, sorted by one column (either way) and filtered by a text.

    ``revision`` counts the changes made to it, a batch of updates (``apply``) counting
    once: what a view has to redraw for.
    """

    def __init__(self) -> None:
        self._jobs: dict[str, JobRow] = {}
        self._keys: dict[str, SortKey] = {}
        self._haystack: dict[str, str] = {}
        self._all: list[SortKey] = []
        self._view: list[SortKey] | None = None
        self._states: Counter[JobState] = Counter()
        self._sort_index = 0
        self._reverse = False
        self.filter_text = ""
        self.revision = 0
        #: The longest id and cron expression held (they never shrink until ``set_rows``):
        #: what the table sizes those columns by.
        self.longest_id = 0
        self.longest_cron = 0

    # ------------------------------------------------------------------ reads

    @property
    def sort_column(self) -> str:
        return COLUMNS[self._sort_index].key

    @property
    def sort_index(self) -> int:
        return self._sort_index

    @property
    def sort_reverse(self) -> bool:
        return self._reverse

    @property
    def job_count(self) -> int:
        """All jobs held, whether or not the filter shows them."""
        return len(self._jobs)

    @property
    def row_count(self) -> int:
        """The rows shown: the jobs that pass the filter."""
        return len(self._rows)

    def state_counts(self) -> Counter[JobState]:
        """How many jobs are in each state (kept as jobs change, so this is cheap)."""
        return Counter(self._states)

    def get(self, job_id: str) -> JobSnapshot | None:
        row = self._jobs.get(job_id)
        return row.snapshot() if row is not None else None

    def row(self, job_id: str) -> JobRow | None:
        """The job's row as held: what drawing it reads, without a snapshot."""
        return self._jobs.get(job_id)

    def id_at(self, row: int) -> str:
        """The job shown in ``row`` (0 is the first row under the header)."""
        rows = self._rows
        key = rows[len(rows) - 1 - row] if self._reverse else rows[row]
        return key[-1]

    def row_of(self, job_id: str) -> int | None:
        """The row showing ``job_id``, or None when it is not shown (or not held)."""
        key = self._keys.get(job_id)
        if key is None:
            return None
        rows = self._rows
        index = bisect_left(rows, key)
        if index >= len(rows) or rows[index] != key:
            return None
        return len(rows) - 1 - index if self._reverse else index

    def all_ids(self) -> list[str]:
        """Every job held, shown or filtered out, in no particular order."""
        return list(self._jobs)

    def ids(self) -> list[str]:
        """The ids of the rows in display order."""
        return [self.id_at(row) for row in range(len(self._rows))]

    def expressions(self) -> list[str]:
        """The distinct cron expressions of the rows, in display order."""
        rows, jobs = self._rows, self._jobs
        keys = reversed(rows) if self._reverse else rows
        return list(dict.fromkeys(jobs[key[-1]].cron_expression for key in keys))

    # ---------------------------------------------------------------- changes

    def set_jobs(self, jobs: Iterable[JobSnapshot]) -> None:
        """Replace every job."""
        self.set_rows(map(JobRow.of, jobs))

    def set_rows(self, rows: Iterable[JobRow]) -> None:
        """Replace every job, given as rows (``SchedulerClient.get_job_rows``)."""
        self._jobs = {row.job_id: row for row in rows}
        held = self._jobs.values()
        self._states = Counter(job.state for job in held)
        self.longest_id = max(map(len, self._jobs), default=0)
        self.longest_cron = max((len(job.cron_expression) for job in held), default=0)
        self._haystack = {}
        self._resort()
        self.revision += 1

    def set_next_runs(self, times: Mapping[str, datetime | None]) -> bool:
        """Each job's next run time from ``times`` (one not in it has none): what a start
        changes of 100,000 jobs, without reading them again. True when rows moved (sorted
        by next run)."""
        jobs, when_of, new = self._jobs, times.get, tuple.__new__
        changed = False
        for job_id, row in jobs.items():
            when = when_of(job_id)
            if row.next_run_time is not when:  # aware datetimes compare slowly
                jobs[job_id] = new(JobRow, (*row[:_NEXT], when, *row[_NEXT + 1 :]))
                changed = True
        moved = changed and self.sort_column == "next"
        if moved:
            self._resort()
        if changed:
            self.revision += 1
        return moved

    def upsert(self, job: JobSnapshot) -> bool:
        """Add or update one job; True when rows moved, came or went (else only the
        job's own row shows something new)."""
        moved = self._upsert(job)
        self.revision += 1
        return moved

    def remove(self, job_id: str) -> bool:
        """Forget a job; False when it was not held."""
        removed = self._remove(job_id)
        if removed:
            self.revision += 1
        return removed

    def apply(self, changes: Mapping[str, JobSnapshot | None]) -> tuple[bool, list[str]]:
        """Update, or remove (None), each job of a batch: one change for the whole batch.

        Returns whether rows moved, came or went, and the ids of the jobs updated in place.
        """
        moved, in_place = False, []
        for job_id, job in changes.items():
            if job is None:
                moved = self._remove(job_id) or moved
            elif self._upsert(job):
                moved = True
            else:
                in_place.append(job_id)
        if changes:
            self.revision += 1
        return moved, in_place

    def sort_by(self, column: str, reverse: bool) -> None:
        if column not in SORTABLE:
            raise ValueError(f"cannot sort by {column!r}; expected one of {', '.join(SORTABLE)}")
        self._sort_index = COLUMN_KEYS.index(column)
        self._reverse = reverse
        self._resort()
        self.revision += 1

    def set_filter(self, text: str) -> None:
        """Show only jobs whose id, function, cron, description, state or last status
        contains ``text`` (case-insensitive)."""
        self.filter_text = text
        self._refilter()
        self.revision += 1

    # -------------------------------------------------------------- internals

    @property
    def _rows(self) -> list[SortKey]:
        return self._all if self._view is None else self._view

    def _upsert(self, snapshot: JobSnapshot) -> bool:
        job = JobRow.of(snapshot)
        job_id = job.job_id
        old = self._jobs.get(job_id)
        self._jobs[job_id] = job
        self.longest_id = max(self.longest_id, len(job_id))
        self.longest_cron = max(self.longest_cron, len(job.cron_expression))
        if old is not None:
            self._states[old.state] -= 1
        self._states[job.state] += 1
        self._haystack.pop(job_id, None)
        key = self._key_of(job)
        old_key = self._keys.get(job_id)
        self._keys[job_id] = key
        moved = old_key != key
        if moved:
            if old_key is not None:
                _discard(self._all, old_key)
            insort(self._all, key)
        if self._view is not None:
            shown = old_key is not None and _contains(self._view, old_key)
            wanted = self._matches(job_id)
            if shown and (moved or not wanted):
                _discard(self._view, old_key)  # type: ignore[arg-type]
            if wanted and (moved or not shown):
                insort(self._view, key)
            moved = moved or shown != wanted
        return moved

    def _remove(self, job_id: str) -> bool:
        job = self._jobs.pop(job_id, None)
        if job is None:
            return False
        self._states[job.state] -= 1
        self._haystack.pop(job_id, None)
        key = self._keys.pop(job_id)
        _discard(self._all, key)
        if self._view is not None:
            _discard(self._view, key)
        return True

    def _key_of(self, job: JobRow) -> SortKey:
        value = COLUMNS[self._sort_index].value(job)  # type: ignore[misc]
        if value is None:
            return (1, 0, job.job_id)
        return (0, value, job.job_id)

    def _haystack_of(self, job_id: str) -> str:
        """What the filter searches, made on first use: describing every expression up
        front would delay the first frame of a big registry. The last run's status is in
        it as the status column shows it ("failed", "timed out")."""
        text = self._haystack.get(job_id)
        if text is None:
            job = self._jobs[job_id]
            status = str(job.last_status or "")
            fields = (
                job.job_id,
                job.func_ref,
                job.cron_expression,
                job.description,
                job.state,
                status,
            )
            text = self._haystack[job_id] = "\n".join(fields).casefold()
        return text

    def _matches(self, job_id: str) -> bool:
        return self.filter_text.casefold() in self._haystack_of(job_id)

    def _resort(self) -> None:
        """Every job's key, as ``_key_of`` makes it (here without a call per job: 100,000
        jobs are sorted at start-up)."""
        value = COLUMNS[self._sort_index].value
        assert value is not None
        keys: dict[str, SortKey] = {}
        for job_id, job in self._jobs.items():
            found = value(job)
            keys[job_id] = (1, 0, job_id) if found is None else (0, found, job_id)
        self._keys = keys
        self._all = sorted(keys.values())
        self._refilter()

    def _refilter(self) -> None:
        needle = self.filter_text.casefold()
        if needle:
            if len(self._haystack) < len(self._jobs):
                for job_id in self._jobs:
                    self._haystack_of(job_id)
            haystack = self._haystack
            self._view = [key for key in self._all if needle in haystack[key[-1]]]
        else:
            self._view = None


def _contains(keys: list[SortKey], key: SortKey) -> bool:
    index = bisect_left(keys, key)
    return index < len(keys) and keys[index] == key


def _discard(keys: list[SortKey], key: SortKey) -> None:
    index = bisect_left(keys, key)
    if index < len(keys) and keys[index] == key:
        del keys[index]
