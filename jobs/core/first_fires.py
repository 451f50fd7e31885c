"""The first fire time after one instant of many (expression, zone) pairs, worked out once.

A start at 100,000 jobs asks it of some 34,000 distinct expressions, and cronsim takes
~35 µs each: two thirds of scheduling them all. Three things make it cheaper in UTC,
none changing an answer (``tests/test_first_fires.py`` holds each to ``cron.next_fire``):

- **The kept file** (``cron_cache``'s ``next-fires.json``, which ``jobconsole list``
  fills too): the fire after ``t`` is the same for every ``t`` from the instant it was
  worked out up to that fire, so a kept ``(from, next)`` answers while
  ``from <= after < next``, in the same zone rules and cronsim version. What a start
  works out is kept for the next one; a first-ever start finds nothing there.
- **One instant's answers serve a later one**: what the missed-run catch-up found after
  the last sign of life is the answer after any later instant before that fire
  (``carry``), so a restart does not ask the hand-over's question twice.
- **Expressions that differ only in their minute**: cronsim answers each from where the
  first fire of the same expression with ``*`` minutes lies, as no fire of ``m REST``
  can come before the first of ``* REST`` (every time the one matches, the other does).
  The grouping only picks where cronsim starts looking: cronsim works out every answer.

Only in UTC: across a daylight-saving step cronsim's answer can depend on where it
started looking (from 01:45 before Lord Howe's half-hour step back it says 09:30, from
02:00 after it 09:00), so in other zones each answer is cronsim's from the instant
itself, as ``cron.next_fire`` gives it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cronsim import CronSimError

from jobs.core import cron, cron_cache

_Key = tuple[str, ZoneInfo]
_MISSING: Any = object()
_SECOND = timedelta(seconds=1)


class FirstFires:
    """``of(normalized, tz)``: ``cron.next_fire(normalized, tz, after)``, for the
    ``keys`` given (others are answered too, without the grouping)."""

    def __init__(self, after: float, keys: Iterable[_Key] = ()) -> None:
        self.after = after
        self._known: dict[_Key, datetime | None] = {}
        #: The distinct ``keys`` given.
        self.keys = frozenset(keys)
        #: How many expressions in UTC share each "REST" (all but the minute field),
        #: counted once more than a few are worked out (none when the kept file answers).
        self._sharing: Counter[str] | None = None
        self._worked = 0
        #: Per REST: the first fire of "* REST" after ``after`` (None: none found).
        self._bounds: dict[str, datetime | None] = {}
        self._start = datetime.fromtimestamp(after, UTC)
        self._asked = 0
        self._file: Any = None
        #: Per zone: its kept (from, next) tables, or None when not kept.
        self._tables: dict[str, Any] = {}

    def of(self, normalized: str, tz: ZoneInfo) -> datetime | None:
        key = (normalized, tz)
        when = self._known.get(key, _MISSING)
        if when is not _MISSING:
            return when
        utc = tz.key in _UTC
        table = self._table(tz) if utc else None
        if table is not None:
            fire = cron.kept_answer(table, normalized, self.after)
            if fire is not None:
                when = self._known[key] = datetime.fromtimestamp(fire, tz)
                return when
        when = self._known[key] = self._worked_out(normalized, tz)
        if table is not None and when is not None:
            self._keep(table, normalized, when)
        return when

    def of_all(self, normalized: Iterable[str], tz: ZoneInfo) -> list[datetime | None]:
        """``of`` each, in order, each kept fire time made a datetime once: 34,000
        expressions of 100,000 jobs listed have some 20,000 fire times."""
        times: dict[int, datetime] = {}
        found: list[datetime | None] = []
        utc, table = tz.key in _UTC, None
        for expression in normalized:
            if utc and table is None:
                table = self._table(tz)  # None for the first few: worked out by ``of``
            fire = None if table is None else cron.kept_answer(table, expression, self.after)
            if fire is None:
                found.append(self.of(expression, tz))
                continue
            when = times.get(fire)
            if when is None:
                when = times[fire] = datetime.fromtimestamp(fire, tz)
            found.append(when)
        return found

    def carry(self, earlier: FirstFires) -> None:
        """Take ``earlier``'s answers that hold after ``self.after`` too: those later than
        it (nothing fires between the two instants), or None (nothing ever fires)."""
        if earlier.after > self.after:
            return
        after, known = self.after, self._known
        for key, when in earlier._known.items():
            if key[1].key in _UTC and (when is None or when.timestamp() > after):
                known.setdefault(key, when)

    def _worked_out(self, normalized: str, tz: ZoneInfo) -> datetime | None:
        if tz.key not in _UTC:
            return cron.next_fire(normalized, tz, self.after)
        rest = normalized.split(" ", 1)[1]
        start = self._start
        self._worked += 1
        if self._sharing is None and self._worked > cron.FEW:  # a few: not worth counting
            self._sharing = Counter(n.split(" ", 1)[1] for n, zone in self.keys if zone.key in _UTC)
        if self._sharing is not None and self._sharing[rest] > 1:
            bound = self._bounds.get(rest, _MISSING)
            if bound is _MISSING:
                try:
                    bound = _first(f"* {rest}", start)
                except CronSimError:  # not expected: REST is valid in the expression itself
                    bound = None
                self._bounds[rest] = bound
            if bound is not None and bound - _SECOND > start:
                start = bound - _SECOND
        when = _first(normalized, start)
        return None if when is None else when.astimezone(tz)

    # ------------------------------------------------------------ the kept file

    def _table(self, tz: ZoneInfo) -> Any:
        """Zone ``tz``'s kept tables, read once more than ``cron.FEW`` were asked (a
        handful is quicker worked out than the file read)."""
        if self._asked < cron.FEW:
            self._asked += 1
            return None
        if self._file is None:
            self._file = cron.kept_fires()
            if self.after > self._file.now:
                self._file.now = self.after
        table = self._tables.get(tz.key, _MISSING)
        if table is _MISSING:
            table = self._tables[tz.key] = self._file.table(tz.key)
        return table

    def _keep(self, table: Any, normalized: str, when: datetime) -> None:
        at = when.timestamp()
        if at.is_integer():
            self._file.keep(table, normalized, int(self.after // 1), int(at))


def counted_from(now: datetime) -> float:
    """The instant a job's first fire is counted from, strictly after it: APScheduler
    wants a time at or after ``now`` to the second. (Flooring also lets jobs sharing an
    expression share one answer.)"""
    return float(math.ceil(now.timestamp()) - 1)


def save_kept() -> None:
    """Write the kept fires now (a long-running scheduler would otherwise keep them for
    the next start only when it exits), and let go of them."""
    cron_cache.let_go("next-fires.json")  # the name cron.kept_fires() keeps them under


_UTC = cron.UTC_NAMES


def _first(normalized: str, after: datetime) -> datetime | None:
    """The first fire strictly after ``after`` (UTC), as ``cron.next_fire`` finds it."""
    for when in cron.iterate_fires(normalized, after, 1):
        return when
    return None
