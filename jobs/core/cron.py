"""Standard crontab expressions: validation, description and fire times.

APScheduler's own ``CronTrigger.from_crontab`` numbers Monday 0 and ANDs day-of-month
with day-of-week, so ``0 9 * * 1-5`` would fire Tuesday to Saturday. Here the
arithmetic is cronsim's, which follows Vixie/Debian cron (Sunday is 0 and 7, the two day
fields are ORed when both are restricted, Debian's daylight-saving rules), and APScheduler
only asks ``CronTrigger`` for the next time.

This module validates each field itself only to say *which* field is wrong and why;
it never computes a date.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from jobs.core import cron_cache

MACROS: dict[str, str] = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_MONTH_NAMES = {name: i + 1 for i, name in enumerate(_MONTHS)}
_DAY_NAMES = {name: i for i, name in enumerate(_DAYS)}


@dataclass(frozen=True, slots=True)
class _FieldSpec:
    name: str
    low: int
    high: int
    names: dict[str, int] | None = None


_FIELDS = (
    _FieldSpec("minute", 0, 59),
    _FieldSpec("hour", 0, 23),
    _FieldSpec("day-of-month", 1, 31),
    _FieldSpec("month", 1, 12, _MONTH_NAMES),
    _FieldSpec("day-of-week", 0, 7, _DAY_NAMES),
)
FIELD_NAMES = tuple(spec.name for spec in _FIELDS)

#: A value longer than this is shown cut in a message: a pasted megabyte must not become one.
_SHOWN = 32
#: More digits than any field needs (leading zeros included); also far below int()'s limit.
_MAX_DIGITS = 9


def _shown(text: str, limit: int = _SHOWN) -> str:
    """``repr(text)`` for a message, cut to about ``limit`` characters."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[: limit - 8]!r}… ({len(text)} characters)"


def _digits(token: str) -> bool:
    """ASCII digits only: ``str.isdigit()`` also takes other scripts' digits ('٣') and
    superscripts ('²'), which cronsim (like cron) refuses."""
    return token.isascii() and token.isdigit()


class CronError(ValueError):
    """A cron expression that cannot be used, with the field at fault named.

    ``reason`` is the part a form shows under its field ("minute field: 61 is out of
    range 0-59"); ``str()`` adds the expression for logs and the command line.
    """

    def __init__(self, expression: str, reason: str, field: str | None = None) -> None:
        self.expression = expression
        self.reason = reason
        self.field = field
        super().__init__(f"invalid cron expression {_shown(expression, 100)}: {reason}")


class TimezoneError(ValueError):
    """An unknown IANA time zone name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"unknown time zone {name!r}: expected an IANA name such as 'UTC' or 'Europe/London'"
        )


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name, or TimezoneError that names it."""
    try:
        if not name or name != name.strip():
            raise ValueError
        return ZoneInfo(name)
    # OSError: a folder of zones ("Europe") is found, and cannot be read as one.
    except (ZoneInfoNotFoundError, ValueError, TypeError, AttributeError, OSError) as exc:
        raise TimezoneError(name) from exc


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A validated expression. ``normalized`` is what cronsim evaluates (macros expanded)."""

    expression: str
    normalized: str

    @property
    def description(self) -> str:
        """In words; worded on first use (see ``describe``)."""
        return describe(self.normalized)

    def next_times(self, after: datetime, tz: tzinfo, count: int = 1) -> list[datetime]:
        """The next ``count`` fire times strictly after ``after``, in ``tz``; fewer (or
        none) when dates end first, with the year 9999 in ``tz``."""
        try:
            start = after.astimezone(tz)
        except OverflowError:  # the year 10000 (or 0) there
            return []
        return list(iterate_fires(self.normalized, start, count))

    def iterate(self, after: datetime, tz: tzinfo) -> Iterator[datetime]:
        """Fire times strictly after ``after``, without end (or until none is left)."""
        return CronSim(self.normalized, after.astimezone(tz))

    def latest_at_or_before(self, when: datetime, tz: tzinfo) -> datetime | None:
        start = (when + timedelta(seconds=1)).astimezone(tz).replace(microsecond=0)
        try:
            return next(CronSim(self.normalized, start, reverse=True))
        except (StopIteration, OverflowError):
            return None


def _schedule(expression: str, normalized: str) -> CronSchedule:
    """``CronSchedule(expression, normalized)`` without the frozen ``__init__``, which sets
    each field through ``object.__setattr__``: a fifth of parsing 34,000 expressions."""
    schedule = _new_schedule(CronSchedule)
    _set_expression(schedule, expression)
    _set_normalized(schedule, normalized)
    return schedule


_new_schedule = object.__new__
_set_expression = CronSchedule.expression.__set__  # type: ignore[attr-defined]
_set_normalized = CronSchedule.normalized.__set__  # type: ignore[attr-defined]


def iterate_fires(normalized: str, after: datetime, count: int) -> Iterator[datetime]:
    """Up to ``count`` fire times strictly after ``after``, compared as instants.

    cronsim's Debian DST handling works on wall time, so in a repeated hour it can answer
    with the first pass of a time we are already past; those are skipped here.
    """
    floor = after.timestamp()
    it = CronSim(normalized, after)
    found = 0
    while found < count:
        try:
            when = next(it)
        except (StopIteration, OverflowError):  # none left, or none before year 10000
            return
        if when.timestamp() > floor:
            found += 1
            yield when


#: Names of zones that are UTC itself: cronsim handles ``datetime.UTC`` without its
#: daylight-saving steps (a fifth faster), and it has none to take.
UTC_NAMES = frozenset(
    {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"}
)


@lru_cache(maxsize=16384)
def next_fire(normalized: str, tz: ZoneInfo, after: float) -> datetime | None:
    """Cached on the instant (a timestamp, so 01:30 EDT and 01:30 EST differ): thousands
    of jobs often share an expression, and so their next fire time."""
    if tz.key in UTC_NAMES:
        for when in iterate_fires(normalized, datetime.fromtimestamp(after, UTC), 1):
            return when.astimezone(tz)
        return None
    for when in iterate_fires(normalized, datetime.fromtimestamp(after, tz), 1):
        return when
    return None


def parse(expression: str) -> CronSchedule:
    """Validate ``expression`` and describe it; raise CronError naming the field at fault."""
    if not isinstance(expression, str):
        raise CronError(repr(expression), "expected a string such as '0 9 * * 1-5'")
    try:
        return _parse(expression)
    except CronError:
        raise
    except Exception as exc:  # a gap in the checks: still the error callers handle
        raise CronError(expression, f"cannot be read ({type(exc).__name__}: {exc})") from exc


@lru_cache(maxsize=131072)  # 100,000 jobs hold ~34,000 distinct expressions
def _parse(expression: str) -> CronSchedule:
    parts = expression.split()
    text = " ".join(parts)
    if not text:
        raise CronError(expression, "the expression is empty; expected 5 fields or a macro")
    if text.startswith("@"):
        normalized = MACROS.get(text.lower())
        if normalized is None:
            known = ", ".join(MACROS)
            raise CronError(expression, f"unknown macro {_shown(text)}; expected one of {known}")
        parts = normalized.split()
    else:
        normalized = text
    if len(parts) != 5:
        raise CronError(
            expression,
            f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}",
        )
    valid = _VALID_FIELDS
    if not all(map(set.__contains__, valid, parts)):
        for spec, part, known in zip(_FIELDS, parts, valid, strict=True):
            if part not in known:
                _check_field(expression, spec, part.lower())
                if len(known) < _VALID_FIELDS_KEPT:
                    known.add(part)
    _check_can_fire(expression, normalized, parts)
    return _schedule(text, normalized)


#: Fields found valid, a set per field: 100,000 jobs' 34,000 distinct expressions are
#: made of a few hundred distinct fields, each checked once. Kept to a bound (a field is
#: short).
_VALID_FIELDS: tuple[set[str], ...] = tuple(set() for _ in _FIELDS)
_VALID_FIELDS_KEPT = 16384


#: Bump when ``_worded`` changes what it makes of cron-descriptor's sentence: descriptions
#: kept between runs (``cron_cache``) are keyed with it.
_WORDING = 1


#: Distinct expressions a process words, or asks the next fire of, by itself before it
#: reads the kept file: that file holds what every registry this user listed needed (some
#: MB after one of 100,000 jobs), more than a handful of expressions is worth reading.
FEW = 64
_few_words: dict[str, str] = {}


def describe(normalized: str) -> str:
    """A sentence such as "At 09:00 AM, Monday through Friday", from cron-descriptor.

    About 50-80 µs an expression, and a registry of 100,000 jobs has some 34,000: past the
    ``FEW`` first, each is worded once per install and kept in the user's cache directory
    (``cron_cache``), and left until a description is shown or searched.
    """
    text = _few_words.get(normalized)
    if text is not None:
        return text
    if len(_few_words) < FEW:
        text = _few_words[normalized] = _worded(normalized)
        return text
    file = _kept_words()
    words = file.entries()
    text = words.get(normalized)
    if type(text) is str:
        return text
    return _word_kept(normalized, file, words)


def describe_all(normalized: list[str]) -> list[str]:
    """``describe`` of each, in order, the kept file looked up once: ``jobconsole list``
    shows 34,000 distinct expressions of 100,000 jobs."""
    if len(normalized) <= FEW:
        return [describe(expression) for expression in normalized]
    file = _kept_words()
    words = file.entries()
    found = list(map(words.get, normalized))
    for index, text in enumerate(found):
        if type(text) is not str:
            found[index] = _word_kept(normalized[index], file, words)
    return found


def _word_kept(normalized: str, file: _KeptWords, words: dict[str, Any]) -> str:
    text = _worded(normalized)
    if len(words) >= cron_cache.LIMIT:
        words.clear()
    words[normalized] = text
    file.changed()
    return text


def _kept_words() -> _KeptWords:
    return cron_cache.kept("descriptions.json", _KeptWords)


class _KeptWords(cron_cache.KeptFile):
    """``descriptions.json``: {normalized expression: description}."""

    def make_key(self) -> str | None:
        """What words a description: cron-descriptor's version, the locale it takes (it
        picks its language and 12/24-hour clock from it) and ``_WORDING``."""
        import locale

        version = cron_cache.installed_version("cron_descriptor")
        if version is None:
            return None
        code = locale.getlocale()[0] or "en_US"  # as cron-descriptor's Options() picks it
        return f"cron-descriptor {version}; {code}; wording {_WORDING}"


def _worded(normalized: str) -> str:
    try:
        text = _descriptor()(normalized).get_description()
    except Exception:  # the description is a nicety; the expression is already valid
        return normalized
    day, weekday = normalized.split()[2], normalized.split()[4]
    if day != "*" and weekday != "*" and (day.startswith("*") or weekday.startswith("*")):
        # Vixie cron ANDs the day fields when either starts with '*'; cron-descriptor says "or".
        text = text.replace(", or on ", ", but only on ")
    return text


#: Bump when ``iterate_fires`` changes which fire it finds: kept fire times are keyed with it.
_FIRE_RULES = 1


_fires_asked = 0


def next_fire_kept(schedule: CronSchedule, tz: ZoneInfo, now: datetime) -> datetime | None:
    """``schedule.next_times(now, tz, 1)``'s one time (or None), kept between runs.

    The next fire after ``t`` is the same for every ``t`` from the instant it was worked
    out up to (not including) that fire, so a kept ``(computed_from, next_fire)`` answers
    for any ``now`` in that span, in the same zone rules; ``jobconsole list`` asks it of
    every distinct (expression, zone) of the registry.
    """
    global _fires_asked
    if _fires_asked < FEW:  # a few: quicker worked out than the kept file read
        _fires_asked += 1
        times = schedule.next_times(now, tz, 1)
        return times[0] if times else None
    kept = kept_fires()
    table = kept.table(tz.key)
    instant = now.timestamp()
    if instant > kept.now:
        kept.now = instant
    normalized = schedule.normalized
    if table is not None:
        fire = kept_answer(table, normalized, instant)
        if fire is not None:
            return datetime.fromtimestamp(fire, tz)
    times = schedule.next_times(now, tz, 1)
    if not times:
        return None
    when = times[0]
    if table is not None:
        at = when.timestamp()
        back = datetime.fromtimestamp(at, tz) if at.is_integer() else None
        # Kept only when the instant gives back this very time (wall clock and fold).
        if back is not None and (back.replace(tzinfo=None), back.fold) == (
            when.replace(tzinfo=None),
            when.fold,
        ):
            kept.keep(table, normalized, int(instant // 1), int(at))
    return when


def next_fires_kept(
    schedules: Iterable[CronSchedule], tz: ZoneInfo, now: datetime
) -> list[datetime | None]:
    """``next_fire_kept`` of each schedule in ``tz``, in order, with the kept file and the
    zone's table looked up once and each kept fire time made a datetime once (34,000
    schedules of 100,000 jobs have some 20,000 fire times)."""
    found: list[datetime | None] = []
    schedules = iter(schedules)
    for schedule in schedules:
        found.append(next_fire_kept(schedule, tz, now))
        if _fires_asked >= FEW:
            break
    kept = kept_fires()
    table = kept.table(tz.key)
    instant = now.timestamp()
    if table is None:
        return found + [next_fire_kept(schedule, tz, now) for schedule in schedules]
    if instant > kept.now:
        kept.now = instant
    times: dict[int, datetime] = {}
    for schedule in schedules:
        fire = kept_answer(table, schedule.normalized, instant)
        if fire is not None:
            when = times.get(fire)
            if when is None:
                when = times[fire] = datetime.fromtimestamp(fire, tz)
            found.append(when)
        else:
            found.append(next_fire_kept(schedule, tz, now))
    return found


def kept_answer(
    table: tuple[dict[str, Any], dict[str, Any]], normalized: str, instant: float
) -> int | None:
    """The kept next fire of ``normalized`` after ``instant``, while it still answers
    (``from <= instant < next``); None when none is kept or it no longer holds."""
    fire, begin = table[1].get(normalized), table[0].get(normalized)
    if type(fire) is int and type(begin) is int and begin <= instant < fire:
        return fire
    return None


class _KeptFires(cron_cache.KeptFile):
    """``next-fires.json``: per zone, the TZif file's stamp, and for each expression the
    instant its next fire was worked out from (``from``) and that fire (``next``), in
    whole seconds since the epoch (a fire time is a whole second, so flooring ``from``
    changes no answer)."""

    def __init__(self, path: Path | None) -> None:
        super().__init__(path)
        #: Per zone read: (stamp, (from, next)) as the file had them, or None: not kept.
        self._tables: dict[str, tuple[str, tuple[dict[str, Any], dict[str, Any]]] | None] = {}
        #: The latest "now" asked about: fires up to it are of no more use.
        self.now = float("-inf")

    def make_key(self) -> str | None:
        version = cron_cache.installed_version("cronsim")
        return None if version is None else f"cronsim {version}; rules {_FIRE_RULES}"

    def table(self, key: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Zone ``key``'s kept ``from`` and ``next`` (values unchecked: any but an int is
        not used); None if nothing is kept for it."""
        if key in self._tables:
            found = self._tables[key]
            return None if found is None else found[1]
        raw = self.entries()
        stamp = cron_cache.zone_stamp(key) if self.key is not None else None
        if stamp is None:
            self._tables[key] = None
            return None
        kept = raw.get(key)
        table: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
        if isinstance(kept, dict) and kept.get("stamp") == stamp:
            begins, fires = kept.get("from"), kept.get("next")
            if isinstance(begins, dict) and isinstance(fires, dict):
                table = (begins, fires)
        self._tables[key] = (stamp, table)
        return table

    def keep(
        self, table: tuple[dict[str, Any], dict[str, Any]], normalized: str, begin: int, fire: int
    ) -> None:
        if sum(len(t[1][1]) for t in self._tables.values() if t) >= cron_cache.LIMIT:
            table[0].clear()
            table[1].clear()
        table[0][normalized] = begin
        table[1][normalized] = fire
        self.changed()

    def written(self, entries: dict[str, Any]) -> dict[str, Any]:
        """The zones read this run without the fires now past; the others as they were."""
        instant = self.now
        out = dict(entries)
        for key, found in list(self._tables.items()):
            if found is None:
                continue
            stamp, (begins, fires) = found
            fires = {e: f for e, f in list(fires.items()) if type(f) is int and f > instant}
            begins = {e: begins[e] for e in fires if type(begins.get(e)) is int}
            out[key] = {"stamp": stamp, "from": begins, "next": fires}
        return out


def kept_fires() -> _KeptFires:
    return cron_cache.kept("next-fires.json", _KeptFires)


@lru_cache(maxsize=1)
def _descriptor() -> type:
    """cron-descriptor's ExpressionDescriptor, with one shared translation.

    By default it opens and parses its ``.mo`` translation file for every expression: four
    fifths of the time spent describing a 10,000-job registry. The module's ``GetText`` is
    replaced by a cached one, for the whole process; a loaded translation is never changed.
    """
    import importlib

    from cron_descriptor import ExpressionDescriptor  # a slow import, off the CLI's fast path

    module = importlib.import_module("cron_descriptor.ExpressionDescriptor")
    module.GetText = lru_cache(maxsize=None)(module.GetText)
    return ExpressionDescriptor


def _check_field(expression: str, spec: _FieldSpec, part: str) -> None:
    def fail(reason: str) -> CronError:
        return CronError(expression, f"{spec.name} field: {reason}", spec.name)

    for item in part.split(","):
        if not item:
            raise fail(f"empty list item in {_shown(part)}")
        if spec.name == "day-of-month" and item in ("l", "lw"):
            continue
        if spec.name == "day-of-week" and "#" in item:
            day, _, week = item.partition("#")
            _value(fail, spec, day)
            if not (_digits(week) and len(week) <= _MAX_DIGITS and 1 <= int(week) <= 5):
                raise fail(
                    f"week {_shown(week)} in {_shown(item)} is not valid; "
                    "expected ASCII digits 1-5 (1#2 is the second Monday)"
                )
            continue
        if spec.name == "day-of-week" and len(item) > 1 and item.endswith("l"):
            day = item[:-1]
            if spec.names and day in spec.names:
                raise fail(f"write {spec.names[day]}L for the last {day.upper()} of the month")
            _value(fail, spec, day)  # 5L: a number only, as cronsim reads it
            continue
        base, slash, step = item.partition("/")
        if slash:
            span = spec.high - spec.low + 1
            if not _digits(step):
                ascii_hint = f"; expected ASCII digits 1-{span}" if step.isnumeric() else ""
                raise fail(
                    f"step {_shown(step)} in {_shown(item)} is not a whole number{ascii_hint}"
                )
            if len(step) > _MAX_DIGITS or not 1 <= int(step) <= span:
                raise fail(f"step {_number(step)} in {_shown(item)} is out of range 1-{span}")
        if base == "*":
            continue
        start, dash, end = base.partition("-")
        low = _value(fail, spec, start)
        if dash:
            high = _value(fail, spec, end)
            if high < low:
                raise fail(f"range {_shown(base)} runs backwards; write the smaller value first")


def _number(token: str) -> str:
    """A run of digits for a message: in full, or its start and length when long."""
    return token if len(token) <= 20 else f"{token[:12]}… ({len(token)} digits)"


def _value(fail, spec: _FieldSpec, token: str) -> int:
    if _digits(token):
        if len(token) > _MAX_DIGITS:
            if len(token.lstrip("0")) <= _MAX_DIGITS:
                raise fail(f"{_number(token)} has too many leading zeros")
            raise fail(f"{_number(token)} is out of range {spec.low}-{spec.high}")
        value = int(token)
        if not spec.low <= value <= spec.high:
            raise fail(f"{value} is out of range {spec.low}-{spec.high}")
        return value
    if spec.names and token in spec.names:
        return spec.names[token]
    if not token:
        raise fail("a value is missing")
    names = f" or a name {next(iter(spec.names))}-{list(spec.names)[-1]}" if spec.names else ""
    if token.isnumeric():
        raise fail(
            f"{_shown(token)} is not a number; expected ASCII digits {spec.low}-{spec.high}{names}"
        )
    if token in ("l", "lw", "w") or token.endswith("w") or "#" in token or token.endswith("l"):
        raise fail(f"{_shown(token.upper())} is not supported here")
    raise fail(f"{_shown(token)} is not a number {spec.low}-{spec.high}{names}")


#: What cronsim took in ``_check_can_fire``: (0, minute) and (1, hour) fields, and (day,
#: month, weekday) fields together. cronsim reads each field by itself, and whether an
#: expression fires at all depends on its days only (a day that matches has a matching
#: minute), so an expression made of fields it took fires too: 100,000 jobs' 3,000
#: expressions with a restricted day have 4 distinct day fields.
_FIRES: set[tuple[Any, ...]] = set()


def _check_can_fire(expression: str, normalized: str, parts: list[str]) -> None:
    if parts[2] == "*" or (parts[3] == "*" and parts[4] == "*"):
        # The weekday alone decides, or some month has that day: it fires. (Only a
        # restricted day and month can make cronsim refuse what the fields above allow.)
        return
    days = (parts[2], parts[3], parts[4])
    fires = _FIRES
    if days in fires and (0, parts[0]) in fires and (1, parts[1]) in fires:
        return
    try:
        next(CronSim(normalized, datetime(2000, 1, 1, tzinfo=UTC)))
    except CronSimError as exc:
        name = str(exc).removeprefix("Bad ").strip()
        if name in FIELD_NAMES and name != "day-of-month":
            part = parts[FIELD_NAMES.index(name)]
            raise CronError(
                expression, f"{name} field: {_shown(part)} is not valid", name
            ) from None
    except StopIteration:
        pass
    else:
        if len(fires) < _VALID_FIELDS_KEPT:
            fires.update((days, (0, parts[0]), (1, parts[1])))
        return
    day, month = parts[2], parts[3]
    raise CronError(
        expression,
        f"can never fire: day-of-month {_shown(day)} never occurs in month {_shown(month)}",
        "day-of-month",
    )
