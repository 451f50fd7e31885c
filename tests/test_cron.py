"""Tests for jobs.core.cron: crontab semantics, daylight saving, the APScheduler trigger, errors.

Expected fire times are written out by hand (from a calendar and Vixie/Debian cron's
rules), never computed with cronsim. croniter serves as an independent oracle for the
generated-expression conformance test. No test reads the real clock or sleeps.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from croniter import CroniterBadDateError, croniter

from jobs.core import cron
from jobs.core.cron import MACROS, CronError, TimezoneError, parse, zone
from jobs.core.engine import CronTrigger

NY = zone("America/New_York")
LONDON = zone("Europe/London")
TOKYO = zone("Asia/Tokyo")

# Sunday 29 November 2026, midnight UTC: the start for the table tests below.
SUN_29_NOV = datetime(2026, 11, 29, tzinfo=UTC)


def u(*args: int) -> datetime:
    """A UTC instant, written out by hand."""
    return datetime(*args, tzinfo=UTC)


def fires(expr: str, after: datetime, count: int, tz=UTC) -> list[datetime]:
    """The next ``count`` fire times strictly after ``after``, as UTC instants."""
    return [t.astimezone(UTC) for t in parse(expr).next_times(after, tz, count)]


def local(expr: str, after: datetime, count: int, tz) -> list[str]:
    """The next fire times as local wall-clock ISO strings (with their UTC offset)."""
    return [t.isoformat() for t in parse(expr).next_times(after, tz, count)]


# --------------------------------------------------------------------------------------
# The usual "Common Patterns" table. After Sunday 2026-11-29 00:00 UTC (strictly after).
# --------------------------------------------------------------------------------------


def test_every_minute():
    assert fires("* * * * *", SUN_29_NOV, 3) == [
        u(2026, 11, 29, 0, 1),
        u(2026, 11, 29, 0, 2),
        u(2026, 11, 29, 0, 3),
    ]
    assert parse("* * * * *").description == "Every minute"


def test_every_5_minutes():
    expected = [u(2026, 11, 29, 0, m) for m in range(5, 60, 5)] + [u(2026, 11, 29, 1, 0)]
    assert fires("*/5 * * * *", SUN_29_NOV, 12) == expected
    assert parse("*/5 * * * *").description == "Every 5 minutes"


def test_every_15_minutes():
    assert fires("*/15 * * * *", SUN_29_NOV, 5) == [
        u(2026, 11, 29, 0, 15),
        u(2026, 11, 29, 0, 30),
        u(2026, 11, 29, 0, 45),
        u(2026, 11, 29, 1, 0),
        u(2026, 11, 29, 1, 15),
    ]


def test_hourly_on_the_hour():
    assert fires("0 * * * *", SUN_29_NOV, 3) == [
        u(2026, 11, 29, 1),
        u(2026, 11, 29, 2),
        u(2026, 11, 29, 3),
    ]
    assert parse("0 * * * *").description == "Every hour"


def test_daily_at_midnight():
    # Strictly after: the midnight we start on is not repeated.
    assert fires("0 0 * * *", SUN_29_NOV, 3) == [
        u(2026, 11, 30),
        u(2026, 12, 1),
        u(2026, 12, 2),
    ]


def test_daily_at_9am():
    assert fires("0 9 * * *", SUN_29_NOV, 3) == [
        u(2026, 11, 29, 9),
        u(2026, 11, 30, 9),
        u(2026, 12, 1, 9),
    ]


def test_weekdays_at_9am_are_monday_to_friday():
    got = fires("0 9 * * 1-5", SUN_29_NOV, 6)
    assert got == [
        u(2026, 11, 30, 9),  # Mon
        u(2026, 12, 1, 9),  # Tue
        u(2026, 12, 2, 9),  # Wed
        u(2026, 12, 3, 9),  # Thu
        u(2026, 12, 4, 9),  # Fri
        u(2026, 12, 7, 9),  # Mon: Sat 5 and Sun 6 are skipped
    ]
    # Not Tue..Sat, as APScheduler's from_crontab (Monday = 0) would have it.
    assert [t.strftime("%a") for t in got] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon"]
    assert "Monday through Friday" in parse("0 9 * * 1-5").description


def test_weekly_on_sunday():
    got = fires("0 0 * * 0", SUN_29_NOV, 3)
    assert got == [u(2026, 12, 6), u(2026, 12, 13), u(2026, 12, 20)]
    assert {t.strftime("%A") for t in got} == {"Sunday"}
    assert "Sunday" in parse("0 0 * * 0").description


def test_monthly_on_the_first():
    assert fires("0 0 1 * *", SUN_29_NOV, 3) == [u(2026, 12, 1), u(2027, 1, 1), u(2027, 2, 1)]


def test_yearly_on_new_year():
    assert fires("0 0 1 1 *", SUN_29_NOV, 3) == [u(2027, 1, 1), u(2028, 1, 1), u(2029, 1, 1)]


def test_saturday_at_2_30():
    got = fires("30 2 * * 6", SUN_29_NOV, 3)
    assert got == [u(2026, 12, 5, 2, 30), u(2026, 12, 12, 2, 30), u(2026, 12, 19, 2, 30)]
    assert {t.strftime("%A") for t in got} == {"Saturday"}


def test_every_6_hours():
    assert fires("0 */6 * * *", SUN_29_NOV, 5) == [
        u(2026, 11, 29, 6),
        u(2026, 11, 29, 12),
        u(2026, 11, 29, 18),
        u(2026, 11, 30, 0),
        u(2026, 11, 30, 6),
    ]


def test_hourly_in_business_hours_on_weekdays():
    got = fires("0 9-17 * * 1-5", SUN_29_NOV, 10)
    # Nothing on Sunday 29th; Monday 09:00..17:00 (nine runs), then Tuesday 09:00.
    assert got == [u(2026, 11, 30, h) for h in range(9, 18)] + [u(2026, 12, 1, 9)]
    # Friday's last run is followed by Monday's first.
    friday_last = u(2026, 12, 4, 17)
    assert fires("0 9-17 * * 1-5", friday_last, 1) == [u(2026, 12, 7, 9)]


# --------------------------------------------------------------------------------------
# Field syntax: Sunday 0/7, names in any case, lists, ranges, steps, macros.
# --------------------------------------------------------------------------------------

SUNDAYS = [u(2026, 12, 6), u(2026, 12, 13), u(2026, 12, 20)]


@pytest.mark.parametrize("dow", ["0", "7", "sun", "SUN", "Sun"])
def test_sunday_is_0_and_7_and_its_name(dow):
    assert fires(f"0 0 * * {dow}", SUN_29_NOV, 3) == SUNDAYS


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("jan", u(2027, 1, 1)),
        ("feb", u(2027, 2, 1)),
        ("mar", u(2027, 3, 1)),
        ("apr", u(2027, 4, 1)),
        ("may", u(2027, 5, 1)),
        ("jun", u(2027, 6, 1)),
        ("jul", u(2027, 7, 1)),
        ("aug", u(2027, 8, 1)),
        ("sep", u(2027, 9, 1)),
        ("oct", u(2027, 10, 1)),
        ("nov", u(2027, 11, 1)),
        ("dec", u(2026, 12, 1)),
    ],
)
def test_month_names_in_any_case(name, first):
    for spelling in (name, name.upper(), name.title()):
        assert fires(f"0 0 1 {spelling} *", SUN_29_NOV, 1) == [first], spelling
    number = first.month
    assert fires(f"0 0 1 {name} *", SUN_29_NOV, 3) == fires(f"0 0 1 {number} *", SUN_29_NOV, 3)


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("mon", u(2026, 11, 30)),
        ("tue", u(2026, 12, 1)),
        ("wed", u(2026, 12, 2)),
        ("thu", u(2026, 12, 3)),
        ("fri", u(2026, 12, 4)),
        ("sat", u(2026, 12, 5)),
        ("sun", u(2026, 12, 6)),
    ],
)
def test_day_names_in_any_case(name, first):
    for spelling in (name, name.upper(), name.title()):
        assert fires(f"0 0 * * {spelling}", SUN_29_NOV, 1) == [first], spelling


@pytest.mark.parametrize("spelling", ["mon-fri", "MON-FRI", "Mon-Fri", "1-5", "mon-5", "1-fri"])
def test_weekday_range_spellings(spelling):
    assert fires(f"0 9 * * {spelling}", SUN_29_NOV, 5) == [
        u(2026, 11, 30, 9),
        u(2026, 12, 1, 9),
        u(2026, 12, 2, 9),
        u(2026, 12, 3, 9),
        u(2026, 12, 4, 9),
    ]


def test_lists():
    assert fires("0 0 * * mon,wed,fri", SUN_29_NOV, 4) == [
        u(2026, 11, 30),
        u(2026, 12, 2),
        u(2026, 12, 4),
        u(2026, 12, 7),
    ]
    assert fires("5,35 8,20 * * *", SUN_29_NOV, 5) == [
        u(2026, 11, 29, 8, 5),
        u(2026, 11, 29, 8, 35),
        u(2026, 11, 29, 20, 5),
        u(2026, 11, 29, 20, 35),
        u(2026, 11, 30, 8, 5),
    ]
    # A list mixing a number, a range and a stepped range.
    assert fires("0 0 1,10-12,20-28/4 dec *", SUN_29_NOV, 8) == [
        u(2026, 12, d) for d in (1, 10, 11, 12, 20, 24, 28)
    ] + [u(2027, 12, 1)]


def test_ranges_including_sunday_as_7():
    # Fri-Sun written with 7 for Sunday.
    assert fires("0 0 * * 5-7", SUN_29_NOV, 4) == [
        u(2026, 12, 4),
        u(2026, 12, 5),
        u(2026, 12, 6),
        u(2026, 12, 11),
    ]


def test_single_value_range_is_that_value():
    # Vixie reads "6-6" as just 6 (croniter, by design, widens an equal range to the
    # whole cycle, which is why the generator below never writes one).
    assert fires("0 0 * * 6-6", SUN_29_NOV, 2) == [u(2026, 12, 5), u(2026, 12, 12)]
    assert fires("0 12 * 3-3 *", SUN_29_NOV, 2) == [u(2027, 3, 1, 12), u(2027, 3, 2, 12)]


def test_stepped_ranges():
    # Minute 1,3,...,29 of every hour.
    assert fires("1-30/2 * * * *", SUN_29_NOV, 16) == [
        u(2026, 11, 29, 0, m) for m in range(1, 30, 2)
    ] + [u(2026, 11, 29, 1, 1)]
    # Odd days up to the 29th: the 31st of December is not 1 + 2k within 1-30.
    assert fires("0 0 1-30/2 * *", SUN_29_NOV, 16) == [u(2026, 12, d) for d in range(1, 30, 2)] + [
        u(2027, 1, 1)
    ]
    # Every third hour starting at 2.
    assert fires("0 2-23/3 * * *", SUN_29_NOV, 9) == [
        u(2026, 11, 29, h) for h in (2, 5, 8, 11, 14, 17, 20, 23)
    ] + [u(2026, 11, 30, 2)]


@pytest.mark.parametrize(
    ("macro", "expansion"),
    [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ],
)
def test_macros_equal_their_expansions(macro, expansion):
    assert MACROS[macro] == expansion
    for spelling in (macro, macro.upper()):
        schedule = parse(spelling)
        assert schedule.normalized == expansion
        assert schedule.description == parse(expansion).description
        assert fires(spelling, SUN_29_NOV, 10) == fires(expansion, SUN_29_NOV, 10)


def test_macro_fire_times_by_hand():
    assert fires("@weekly", SUN_29_NOV, 2) == [u(2026, 12, 6), u(2026, 12, 13)]
    assert fires("@hourly", SUN_29_NOV, 2) == [u(2026, 11, 29, 1), u(2026, 11, 29, 2)]
    assert fires("@annually", SUN_29_NOV, 1) == [u(2027, 1, 1)]


def test_extra_whitespace_is_tolerated():
    assert parse("  0\t9  * *   1-5 ").normalized == "0 9 * * 1-5"
    assert fires(" 0 9 * * 1-5 ", SUN_29_NOV, 1) == [u(2026, 11, 30, 9)]


# --------------------------------------------------------------------------------------
# Vixie semantics of the two day fields.
# --------------------------------------------------------------------------------------

JAN_1_2026 = u(2026, 1, 1)


def test_both_day_fields_restricted_fire_on_either():
    # "0 0 13 * 5": every 13th OR every Friday (not only Friday the 13th).
    assert fires("0 0 13 * 5", JAN_1_2026, 12) == [
        u(2026, 1, 2),  # Fri
        u(2026, 1, 9),  # Fri
        u(2026, 1, 13),  # Tue, the 13th
        u(2026, 1, 16),  # Fri
        u(2026, 1, 23),  # Fri
        u(2026, 1, 30),  # Fri
        u(2026, 2, 6),  # Fri
        u(2026, 2, 13),  # Friday the 13th: once, not twice
        u(2026, 2, 20),
        u(2026, 2, 27),
        u(2026, 3, 6),
        u(2026, 3, 13),  # Friday the 13th again
    ]
    assert "or on Friday" in parse("0 0 13 * 5").description


def test_one_day_field_star_only_the_other_restricts():
    assert fires("0 0 13 * *", JAN_1_2026, 3) == [u(2026, 1, 13), u(2026, 2, 13), u(2026, 3, 13)]
    assert fires("0 0 * * 5", JAN_1_2026, 3) == [u(2026, 1, 2), u(2026, 1, 9), u(2026, 1, 16)]
    # A restricted month still applies to the day-of-week-only case.
    assert fires("0 0 * feb 5", JAN_1_2026, 5) == [
        u(2026, 2, 6),
        u(2026, 2, 13),
        u(2026, 2, 20),
        u(2026, 2, 27),
        u(2027, 2, 5),
    ]


def test_star_step_day_field_makes_the_day_test_and():
    # Vixie/Debian cron set DOM_STAR/DOW_STAR when the field *starts with* '*', so
    # "*/2" in day-of-month ANDs with day-of-week: Mondays that fall on odd dates.
    assert fires("0 0 */2 * 1", JAN_1_2026, 6) == [
        u(2026, 1, 5),
        u(2026, 1, 19),
        u(2026, 2, 9),
        u(2026, 2, 23),
        u(2026, 3, 9),
        u(2026, 3, 23),
    ]
    # The same days written without a leading '*' are "restricted": OR.
    assert fires("0 0 1-31/2 * 1", u(2025, 12, 31, 12), 5) == [
        u(2026, 1, 1),  # Thu, odd date
        u(2026, 1, 3),  # Sat, odd date
        u(2026, 1, 5),  # Mon, odd date
        u(2026, 1, 7),
        u(2026, 1, 9),
    ]
    assert fires("0 0 1-31/2 * 1", u(2026, 1, 11), 2) == [u(2026, 1, 12), u(2026, 1, 13)]


def test_description_of_star_step_day_field_matches_and_schedule():
    # BUG (jobs/core/cron.py describe): cron-descriptor says "every 2 days, or on Monday" for
    # "0 0 */2 * 1", but the schedule (above) is Mondays on odd dates only - an AND.
    # The sentence shown to the user contradicts when the job runs.
    description = parse("0 0 */2 * 1").description
    assert ", or on Monday" not in description, (
        f"description {description!r} says OR, but the job only runs on odd-dated Mondays"
    )


# --------------------------------------------------------------------------------------
# Conformance against croniter over generated expressions.
# --------------------------------------------------------------------------------------

_MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


def _value(rng: random.Random, low: int, high: int, names: list[str] | None) -> str:
    value = rng.randint(low, high)
    if names and rng.random() < 0.3:
        name = names[value % 7] if names is _DAY_NAMES else names[value - 1]
        return rng.choice([name, name.upper(), name.title()])
    return str(value)


def _range(rng: random.Random, low: int, high: int) -> str:
    # Never an equal range such as "6-6": Vixie reads it as the single value (see
    # test_single_value_range_is_that_value), croniter deliberately widens "a-a" (and
    # "a-a/n") to the whole field. That is croniter's extension, not cron's.
    start = rng.randint(low, high - 1)
    return f"{start}-{rng.randint(start + 1, high)}"


def _field(rng: random.Random, low: int, high: int, names: list[str] | None = None) -> str:
    kind = rng.random()
    if kind < 0.3:
        return "*"
    if kind < 0.45:
        return _value(rng, low, high, names)
    if kind < 0.6:
        return _range(rng, low, high)
    if kind < 0.7:
        return f"*/{rng.randint(1, min(high - low + 1, 12))}"
    if kind < 0.8:
        return f"{_range(rng, low, high)}/{rng.randint(1, 6)}"
    if kind < 0.83 and high != 7:
        # "N/step" (start with a step) is not Vixie syntax at all (Vixie's get_range
        # rejects a single number followed by '/'). cronsim and croniter both read it
        # as N-max/step, except in day-of-week where cronsim's max is 7 and croniter's
        # is 6 ("6/1" is Sat+Sun vs Sat; "7/2" is Sun vs Sun,Tue,Thu,Sat), so it is
        # generated in the other four fields only.
        return f"{rng.randint(low, high)}/{rng.randint(1, 6)}"
    items = [
        rng.choice(
            [
                lambda: _value(rng, low, high, names),
                lambda: _range(rng, low, high),
                lambda: f"{_range(rng, low, high)}/{rng.randint(1, 4)}",
            ]
        )()
        for _ in range(rng.randint(2, 4))
    ]
    return ",".join(items)


def _generate(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return [
        " ".join(
            [
                _field(rng, 0, 59),
                _field(rng, 0, 23),
                _field(rng, 1, 31),
                _field(rng, 1, 12, _MONTH_NAMES),
                _field(rng, 0, 7, _DAY_NAMES),
            ]
        )
        for _ in range(count)
    ]


GENERATED = _generate(seed=20261129, count=400)
ORACLE_STARTS = [
    u(2026, 1, 1),
    u(2026, 2, 27, 23, 59, 30),
    u(2028, 2, 28, 12, 34, 56),  # leap year
    u(2026, 12, 31, 23, 59),
]


def _croniter_next(expr: str, start: datetime, count: int) -> list[datetime]:
    # implement_cron_bug=True: croniter's name for what Vixie/ISC/Debian cron (and
    # cronsim) actually do when a day field starts with '*' (e.g. "*/2"): the two day
    # fields are ANDed. With croniter's default they are ORed, which disagrees with
    # real cron on that corner (see test_star_step_day_field_makes_the_day_test_and).
    it = croniter(expr, start, implement_cron_bug=True)
    return [it.get_next(datetime) for _ in range(count)]


def test_generator_covers_the_syntax():
    fields = [expr.split() for expr in GENERATED]
    assert len(set(GENERATED)) >= 395
    assert sum("," in f for e in fields for f in e) > 200
    assert sum("-" in f for e in fields for f in e) > 400
    assert sum("/" in f for e in fields for f in e) > 300
    assert sum(f.startswith("*/") for e in fields for f in e) > 100
    assert sum(any(c.isalpha() for c in e[3] + e[4]) for e in fields) > 40
    assert sum("7" in e[4] for e in fields) > 20
    both_days = sum(e[2] != "*" and e[4] != "*" for e in fields)
    assert both_days > 100


def test_conformance_with_croniter():
    mismatches = []
    never = []
    for expr in GENERATED:
        try:
            schedule = parse(expr)
        except CronError as err:
            # Only "can never fire" is acceptable for generated syntax; croniter must
            # agree that no date matches.
            assert "can never fire" in err.reason, (expr, err.reason)
            with pytest.raises(CroniterBadDateError):
                _croniter_next(expr, ORACLE_STARTS[0], 1)
            never.append(expr)
            continue
        for start in ORACLE_STARTS:
            ours = schedule.next_times(start, UTC, 20)
            theirs = _croniter_next(expr, start, 20)
            if ours != theirs:
                mismatches.append((expr, start, ours, theirs))
        # croniter's flag matters only when a day field starts with '*' and is not
        # plain '*'; everywhere else its default must agree as well.
        day_fields = expr.split()[2::2]
        if not any(f.startswith("*") and f != "*" for f in day_fields):
            start = ORACLE_STARTS[0]
            it = croniter(expr, start)
            default = [it.get_next(datetime) for _ in range(20)]
            ours = schedule.next_times(start, UTC, 20)
            if ours != default:
                mismatches.append((expr, "croniter default", ours, default))
        # The path the scheduler takes: chained CronTrigger calls from previous fire time.
        trigger = CronTrigger(schedule, zone("UTC"))
        now = ORACLE_STARTS[1]
        chained = [trigger.get_next_fire_time(None, now)]
        while len(chained) < 20:
            chained.append(trigger.get_next_fire_time(chained[-1], now))
        if chained != _croniter_next(expr, now, 20):
            mismatches.append((expr, "trigger", chained, _croniter_next(expr, now, 20)))
    assert len(never) <= 4, never
    shown = [
        (expr, start, next(((a, b) for a, b in zip(ours, theirs, strict=False) if a != b), None))
        for expr, start, ours, theirs in mismatches[:10]
    ]
    assert not mismatches, f"{len(mismatches)} disagreements, first: {shown}"


# --------------------------------------------------------------------------------------
# Daylight saving time, both ways, in New York and London (Debian cron's rules).
#   NY:     2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST
#   London: 2026-03-29 01:00 GMT -> 02:00 BST; 2026-10-25 02:00 BST -> 01:00 GMT
# Fixed-time jobs (no '*' at the start of minute or hour): one run per day; a time in
# the skipped hour runs right after the jump; the repeated hour runs once. Jobs with a
# wildcard hour follow the wall clock, i.e. they run once per real hour.
# --------------------------------------------------------------------------------------


def test_ny_spring_forward_fixed_time_in_skipped_hour_runs_once_after_jump():
    after = u(2026, 3, 7, 12)
    assert fires("30 2 * * *", after, 3, NY) == [
        u(2026, 3, 8, 7, 0),  # 03:00 EDT, right after the jump (02:30 never exists)
        u(2026, 3, 9, 6, 30),  # 02:30 EDT
        u(2026, 3, 10, 6, 30),
    ]
    assert local("30 2 * * *", after, 2, NY) == [
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:30:00-04:00",
    ]


def test_ny_spring_forward_fixed_time_outside_gap_keeps_wall_clock():
    assert fires("0 9 * * *", u(2026, 3, 7), 2, NY) == [
        u(2026, 3, 7, 14),  # 09:00 EST
        u(2026, 3, 8, 13),  # 09:00 EDT
    ]


def test_ny_spring_forward_wildcard_hour_follows_real_hours():
    assert fires("30 * * * *", u(2026, 3, 8, 5), 4, NY) == [
        u(2026, 3, 8, 5, 30),  # 00:30 EST
        u(2026, 3, 8, 6, 30),  # 01:30 EST
        u(2026, 3, 8, 7, 30),  # 03:30 EDT (there is no 02:30)
        u(2026, 3, 8, 8, 30),  # 04:30 EDT
    ]


def test_ny_fall_back_fixed_time_in_repeated_hour_runs_once():
    after = u(2026, 10, 31, 12)
    assert fires("30 1 * * *", after, 3, NY) == [
        u(2026, 11, 1, 5, 30),  # 01:30 EDT, the first pass only (not 06:30 UTC, 01:30 EST)
        u(2026, 11, 2, 6, 30),  # 01:30 EST
        u(2026, 11, 3, 6, 30),
    ]
    assert local("30 1 * * *", after, 2, NY) == [
        "2026-11-01T01:30:00-04:00",
        "2026-11-02T01:30:00-05:00",
    ]


def test_ny_fall_back_wildcard_hour_runs_in_both_passes():
    assert fires("30 * * * *", u(2026, 11, 1, 4), 4, NY) == [
        u(2026, 11, 1, 4, 30),  # 00:30 EDT
        u(2026, 11, 1, 5, 30),  # 01:30 EDT
        u(2026, 11, 1, 6, 30),  # 01:30 EST
        u(2026, 11, 1, 7, 30),  # 02:30 EST
    ]
    assert fires("*/15 * * * *", u(2026, 11, 1, 5, 40), 4, NY) == [
        u(2026, 11, 1, 5, 45),  # 01:45 EDT
        u(2026, 11, 1, 6, 0),  # 01:00 EST
        u(2026, 11, 1, 6, 15),
        u(2026, 11, 1, 6, 30),
    ]


def test_london_spring_forward_fixed_time_in_skipped_hour_runs_once_after_jump():
    after = u(2026, 3, 28, 12)
    assert fires("30 1 * * *", after, 3, LONDON) == [
        u(2026, 3, 29, 1, 0),  # 02:00 BST, right after the jump (01:30 never exists)
        u(2026, 3, 30, 0, 30),  # 01:30 BST
        u(2026, 3, 31, 0, 30),
    ]
    assert local("30 1 * * *", after, 1, LONDON) == ["2026-03-29T02:00:00+01:00"]


def test_london_spring_forward_wildcard_hour_follows_real_hours():
    assert fires("30 * * * *", u(2026, 3, 29), 3, LONDON) == [
        u(2026, 3, 29, 0, 30),  # 00:30 GMT
        u(2026, 3, 29, 1, 30),  # 02:30 BST (there is no 01:30)
        u(2026, 3, 29, 2, 30),  # 03:30 BST
    ]


def test_london_fall_back_fixed_time_in_repeated_hour_runs_once():
    after = u(2026, 10, 24, 12)
    assert fires("30 1 * * *", after, 2, LONDON) == [
        u(2026, 10, 25, 0, 30),  # 01:30 BST, the first pass only
        u(2026, 10, 26, 1, 30),  # 01:30 GMT
    ]


def test_london_fall_back_wildcard_hour_runs_in_both_passes():
    assert fires("30 * * * *", u(2026, 10, 24, 23), 4, LONDON) == [
        u(2026, 10, 24, 23, 30),  # 00:30 BST
        u(2026, 10, 25, 0, 30),  # 01:30 BST
        u(2026, 10, 25, 1, 30),  # 01:30 GMT
        u(2026, 10, 25, 2, 30),  # 02:30 GMT
    ]


def test_trigger_chain_across_dst_uses_previous_fire_time():
    cases = [
        ("30 2 * * *", NY, u(2026, 3, 7, 7, 30), [u(2026, 3, 8, 7), u(2026, 3, 9, 6, 30)]),
        ("30 1 * * *", NY, u(2026, 10, 31, 5, 30), [u(2026, 11, 1, 5, 30), u(2026, 11, 2, 6, 30)]),
        ("30 1 * * *", LONDON, u(2026, 3, 28, 1, 30), [u(2026, 3, 29, 1), u(2026, 3, 30, 0, 30)]),
        (
            "30 1 * * *",
            LONDON,
            u(2026, 10, 24, 0, 30),
            [u(2026, 10, 25, 0, 30), u(2026, 10, 26, 1, 30)],
        ),
    ]
    for expr, tz, previous, expected in cases:
        trigger = CronTrigger(parse(expr), tz)
        got = []
        for _ in expected:
            previous = trigger.get_next_fire_time(previous, previous)
            got.append(previous.astimezone(UTC))
        assert got == expected, (expr, tz.key)


@pytest.mark.parametrize(
    ("tz", "start", "expected"),
    [
        (
            NY,
            u(2026, 11, 1, 4),
            [
                u(2026, 11, 1, 4, 30),  # 00:30 EDT
                u(2026, 11, 1, 5, 30),  # 01:30 EDT
                u(2026, 11, 1, 6, 30),  # 01:30 EST (fold=1)
                u(2026, 11, 1, 7, 30),  # 02:30 EST
                u(2026, 11, 1, 8, 30),  # 03:30 EST
            ],
        ),
        (
            LONDON,
            u(2026, 10, 24, 23),
            [
                u(2026, 10, 24, 23, 30),  # 00:30 BST
                u(2026, 10, 25, 0, 30),  # 01:30 BST
                u(2026, 10, 25, 1, 30),  # 01:30 GMT (fold=1)
                u(2026, 10, 25, 2, 30),  # 02:30 GMT
                u(2026, 10, 25, 3, 30),  # 03:30 GMT
            ],
        ),
    ],
    ids=["new-york", "london"],
)
def test_trigger_chain_wildcard_hour_through_fall_back(tz, start, expected):
    # Each call gets the previous call's result, as APScheduler does. The second 01:30
    # differs from the first only by fold, so anything that loses fold (or keys a cache
    # on a same-zone datetime, whose == and hash ignore fold) returns 01:30 again and
    # again: APScheduler's catch-up loop would then never end.
    trigger = CronTrigger(parse("30 * * * *"), tz)
    previous, got = start, []
    for _ in expected:
        following = trigger.get_next_fire_time(previous, previous)
        assert following.astimezone(UTC) > previous.astimezone(UTC), (
            f"BUG: next fire {following.isoformat()} is not after previous "
            f"{previous.isoformat()} (fold={previous.fold})"
        )
        got.append(following.astimezone(UTC))
        previous = following
    assert got == expected


# --------------------------------------------------------------------------------------
# CronTrigger, with explicit `now` and previous_fire_time (no real clock).
# --------------------------------------------------------------------------------------


def test_trigger_first_fire_is_at_or_after_now():
    trigger = CronTrigger(parse("*/5 * * * *"), zone("UTC"))
    assert trigger.get_next_fire_time(None, u(2026, 5, 1, 10, 2, 30)) == u(2026, 5, 1, 10, 5)
    # Exactly on a fire time: that time itself (>= now).
    assert trigger.get_next_fire_time(None, u(2026, 5, 1, 10, 5)) == u(2026, 5, 1, 10, 5)
    # A microsecond past it: the next one.
    just_after = u(2026, 5, 1, 10, 5) + timedelta(microseconds=1)
    assert trigger.get_next_fire_time(None, just_after) == u(2026, 5, 1, 10, 10)


def test_trigger_is_strictly_after_previous_fire_time():
    trigger = CronTrigger(parse("*/5 * * * *"), zone("UTC"))
    previous = u(2026, 5, 1, 10, 5)
    assert trigger.get_next_fire_time(previous, previous) == u(2026, 5, 1, 10, 10)
    # Like APScheduler's own triggers, the run after `previous` is returned even when
    # `now` is later, so the scheduler can see (and coalesce or skip) missed runs.
    assert trigger.get_next_fire_time(previous, u(2026, 5, 1, 10, 21)) == u(2026, 5, 1, 10, 10)


def test_trigger_uses_its_own_time_zone():
    now = u(2026, 4, 30, 12)
    tokyo = CronTrigger(parse("0 9 * * *"), TOKYO).get_next_fire_time(None, now)
    assert tokyo == u(2026, 5, 1, 0, 0)  # 09:00 JST
    assert tokyo.utcoffset() == timedelta(hours=9)
    assert tokyo.hour == 9
    # The same expression in UTC runs nine hours later.
    utc = CronTrigger(parse("0 9 * * *"), zone("UTC")).get_next_fire_time(None, now)
    assert utc == u(2026, 5, 1, 9, 0)
    # `now` given in another zone names the same instant: same answer.
    now_in_ny = now.astimezone(NY)
    assert CronTrigger(parse("0 9 * * *"), TOKYO).get_next_fire_time(None, now_in_ny) == tokyo


def test_trigger_weekdays_in_its_zone():
    # Monday 09:00 in Tokyo is Monday 00:00 UTC; Sunday 29th is skipped.
    trigger = CronTrigger(parse("0 9 * * 1-5"), TOKYO)
    first = trigger.get_next_fire_time(None, SUN_29_NOV)
    assert first == u(2026, 11, 30, 0)
    assert first.astimezone(TOKYO).strftime("%a %H:%M") == "Mon 09:00"


@pytest.mark.parametrize(
    ("expr", "tz", "now", "expected"),
    [
        # Fixed-time job, `now` in the second pass of NY's repeated hour (01:10 EST,
        # 06:10 UTC). The 01:45 run of that day happened in the first pass (05:45 UTC),
        # so the next run is tomorrow's 01:45 EST.
        pytest.param(
            "45 1 * * *",
            NY,
            u(2026, 11, 1, 6, 10),
            u(2026, 11, 2, 6, 45),
            id="repeated-hour-fixed-now-utc",
        ),
        # Same instant, given in New York time (fold=1 marks the second pass).
        pytest.param(
            "45 1 * * *",
            NY,
            datetime(2026, 11, 1, 1, 10, tzinfo=NY, fold=1),
            u(2026, 11, 2, 6, 45),
            id="repeated-hour-fixed-now-local",
        ),
        # Wildcard-hour job at exactly 01:30 EST (second pass), given in NY time.
        pytest.param(
            "30 * * * *",
            NY,
            datetime(2026, 11, 1, 1, 30, tzinfo=NY, fold=1),
            u(2026, 11, 1, 6, 30),
            id="repeated-hour-wildcard-now-local",
        ),
        pytest.param(
            "30 * * * *",
            NY,
            u(2026, 11, 1, 6, 30),
            u(2026, 11, 1, 6, 30),
            id="repeated-hour-wildcard-now-utc",
        ),
        # Skipped-hour job at exactly 03:00 EDT, the instant it is due.
        pytest.param(
            "30 2 * * *",
            NY,
            u(2026, 3, 8, 7, 0),
            u(2026, 3, 8, 7, 0),
            id="skipped-hour-now-utc",
        ),
        pytest.param(
            "30 2 * * *",
            NY,
            datetime(2026, 3, 8, 3, 0, tzinfo=NY),
            u(2026, 3, 8, 7, 0),
            id="skipped-hour-now-local",
        ),
    ],
)
def test_trigger_first_fire_not_before_now_around_dst(expr, tz, now, expected):
    got = CronTrigger(parse(expr), tz).get_next_fire_time(None, now)
    # Compare UTC instants: aware datetimes sharing a tzinfo compare by wall clock and
    # ignore fold, which would hide an hour's error here.
    got_utc, now_utc = got.astimezone(UTC), now.astimezone(UTC)
    assert got_utc >= now_utc, (
        f"BUG: first fire {got.isoformat()} ({got_utc:%H:%M} UTC) is before now "
        f"{now.isoformat()} ({now_utc:%H:%M} UTC)"
    )
    assert got_utc == expected


@pytest.mark.parametrize("name", ["UTC", "Etc/UTC", "Zulu"])
def test_a_utc_zone_fires_when_cronsim_says_in_that_zone(name: str) -> None:
    """In UTC the trigger asks cronsim with ``datetime.UTC`` (no daylight-saving steps):
    the times are the ones cronsim gives in the zone itself, and carry that zone."""
    tz = zone(name)
    rng = random.Random(15)
    shapes = [
        "*/7 * * * *",
        "5 */3 * * *",
        "0 9 * * 1-5",
        "30 4 L * *",
        "0 0 29 2 *",
        "15 10 * * 5#2",
        "0 12 1 jan-jun *",
        "@weekly",
        "59 23 31 * *",
        "0 0 * * 0,6",
    ]
    for expression in shapes:
        schedule = parse(expression)
        trigger = CronTrigger(schedule, tz)
        for _ in range(20):
            now = datetime(2026, 1, 1, tzinfo=tz) + timedelta(seconds=rng.randrange(10**8))
            got = trigger.get_next_fire_time(None, now)
            assert got == schedule.next_times(now - timedelta(seconds=1), tz)[0], expression
            assert got.tzinfo is tz


def test_trigger_str_and_repr_name_expression_and_zone():
    trigger = CronTrigger(parse("0 9 * * 1-5"), NY)
    assert str(trigger) == "cron[0 9 * * 1-5, America/New_York]"
    assert "0 9 * * 1-5" in repr(trigger)
    assert "America/New_York" in repr(trigger)


# --------------------------------------------------------------------------------------
# Errors: each bad input gets a clear message naming the field at fault.
# --------------------------------------------------------------------------------------


def test_minute_60_exact_message():
    with pytest.raises(CronError) as info:
        parse("60 * * * *")
    err = info.value
    assert err.reason == "minute field: 60 is out of range 0-59"
    assert err.field == "minute"
    assert err.expression == "60 * * * *"
    assert str(err) == "invalid cron expression '60 * * * *': minute field: 60 is out of range 0-59"


@pytest.mark.parametrize(
    ("expr", "field", "reason"),
    [
        ("0 24 * * *", "hour", "hour field: 24 is out of range 0-23"),
        ("0 0 0 * *", "day-of-month", "day-of-month field: 0 is out of range 1-31"),
        ("0 0 32 * *", "day-of-month", "day-of-month field: 32 is out of range 1-31"),
        ("0 0 * 13 *", "month", "month field: 13 is out of range 1-12"),
        ("0 0 * 0 *", "month", "month field: 0 is out of range 1-12"),
        ("0 0 * * 8", "day-of-week", "day-of-week field: 8 is out of range 0-7"),
        ("0 0 * foo *", "month", "month field: 'foo' is not a number 1-12 or a name jan-dec"),
        ("0 0 * janu *", "month", "'janu' is not a number 1-12 or a name jan-dec"),
        ("0 0 * * fun", "day-of-week", "'fun' is not a number 0-7 or a name sun-sat"),
        ("0 0 * * monday", "day-of-week", "'monday' is not a number 0-7 or a name sun-sat"),
        ("x 0 * * *", "minute", "minute field: 'x' is not a number 0-59"),
        ("0 17-9 * * *", "hour", "hour field: range '17-9' runs backwards"),
        ("0 0 * * fri-mon", "day-of-week", "range 'fri-mon' runs backwards"),
        ("*/0 * * * *", "minute", "minute field: step 0 in '*/0' is out of range 1-60"),
        ("0 0 1-10/0 * *", "day-of-month", "step 0 in '1-10/0' is out of range 1-31"),
        ("0 */x * * *", "hour", "step 'x' in '*/x' is not a whole number"),
        ("1,,2 * * * *", "minute", "empty list item in '1,,2'"),
        ("0 0 30 2 *", "day-of-month", "can never fire: day-of-month '30' never occurs"),
        ("0 0 31 4,6,9,11 *", "day-of-month", "can never fire"),
    ],
)
def test_field_errors_name_the_field(expr, field, reason):
    with pytest.raises(CronError) as info:
        parse(expr)
    assert info.value.field == field
    assert reason in info.value.reason
    assert info.value.reason.startswith(field) or "can never fire" in info.value.reason
    assert expr in str(info.value)


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("0 0 * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"),
        ("0 0 * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 6"),
        ("", "the expression is empty; expected 5 fields or a macro"),
        ("   ", "the expression is empty; expected 5 fields or a macro"),
        ("@fortnightly", "unknown macro '@fortnightly'; expected one of @yearly"),
        ("@reboot", "unknown macro '@reboot'"),
    ],
)
def test_whole_expression_errors(expr, reason):
    with pytest.raises(CronError) as info:
        parse(expr)
    assert reason in info.value.reason
    assert info.value.field is None


def test_feb_30_can_never_fire_even_though_each_field_is_in_range():
    with pytest.raises(CronError) as info:
        parse("0 0 30 2 *")
    assert info.value.field == "day-of-month"
    assert info.value.reason == "can never fire: day-of-month '30' never occurs in month '2'"
    # ... but Feb 29 can (leap years), and "30 2 or Mondays" can (Vixie OR).
    assert fires("0 0 29 2 *", JAN_1_2026, 2) == [u(2028, 2, 29), u(2032, 2, 29)]
    assert fires("0 0 30 2 1", JAN_1_2026, 1) == [u(2026, 2, 2)]


@pytest.mark.parametrize("value", [None, 5, 1.5, b"0 9 * * *"])
def test_non_string_is_rejected_clearly(value):
    with pytest.raises(CronError) as info:
        parse(value)
    assert info.value.reason == "expected a string such as '0 9 * * 1-5'"


@pytest.mark.parametrize("value", [["0", "9", "*", "*", "*"], {"minute": 0}])
def test_unhashable_non_string_is_rejected_clearly(value):
    # BUG (jobs/core/cron.py parse): @lru_cache hashes the argument before parse() can check
    # its type, so an unhashable value raises TypeError("unhashable type") instead of
    # the CronError that None, 5 or bytes get.
    try:
        parse(value)
    except CronError as err:
        assert err.reason == "expected a string such as '0 9 * * 1-5'"
    except TypeError as err:
        pytest.fail(f"BUG: parse({value!r}) raised TypeError({err}) instead of CronError")
    else:
        pytest.fail(f"parse({value!r}) accepted a non-string")


def test_last_weekday_by_name_is_not_misreported():
    # BUG (jobs/core/cron.py): the validator explicitly accepts a day name with L ("friL",
    # via _DOW_LAST), and "5L" works, but cronsim only takes digits before L. Its
    # CronSimError is caught by _check_can_fire and reported as
    # "can never fire: day-of-month '*' never occurs in month '*'" (field day-of-month),
    # blaming a field the user did not touch. Expected: the same schedule as "5L" (the
    # last Friday of the month), or at least an error naming the day-of-week field.
    try:
        schedule = parse("0 0 * * friL")
    except CronError as err:
        assert err.field == "day-of-week", (
            f"BUG: 'friL' rejected with field={err.field!r}, reason={err.reason!r}"
        )
    else:
        assert schedule.next_times(JAN_1_2026, UTC, 3) == fires("0 0 * * 5L", JAN_1_2026, 3)


def test_last_and_nth_weekday_extensions():
    # Accepted extensions, by hand: last Friday of Jan/Feb/Mar 2026; second Monday.
    assert fires("0 0 * * 5L", JAN_1_2026, 3) == [u(2026, 1, 30), u(2026, 2, 27), u(2026, 3, 27)]
    assert fires("0 0 * * MON#2", JAN_1_2026, 2) == [u(2026, 1, 12), u(2026, 2, 9)]
    assert fires("0 0 L * *", JAN_1_2026, 2) == [u(2026, 1, 31), u(2026, 2, 28)]


@pytest.mark.parametrize(
    "name",
    # "Europe" is a folder of zones, not one: what a form's field holds on the way to one.
    ["Mars/Olympus", "", " UTC", "Europe/Londn", "../etc/passwd", "Europe", "America/"],
)
def test_unknown_time_zone_is_named(name):
    with pytest.raises(TimezoneError) as info:
        zone(name)
    assert info.value.name == name
    assert repr(name) in str(info.value)
    assert "IANA" in str(info.value)


def test_zone_mars_olympus_message():
    with pytest.raises(TimezoneError, match=r"unknown time zone 'Mars/Olympus'"):
        zone("Mars/Olympus")


def test_known_zones():
    assert zone("Europe/London").key == "Europe/London"
    assert zone("UTC").utcoffset(datetime(2026, 1, 1)) == timedelta(0)


# --------------------------------------------------------------------------------------
# Hostile input: whatever parse() accepts, cronsim evaluates; the rest is a CronError.
# --------------------------------------------------------------------------------------

LONG_NUMBER = "1" * 5000  # past int()'s 4300-digit limit for a string


@pytest.mark.parametrize(
    ("expr", "field", "reason"),
    [
        ("٣ * * * *", "minute", "minute field: '٣' is not a number; expected ASCII digits 0-59"),
        ("* ३ * * *", "hour", "hour field: '३' is not a number; expected ASCII digits 0-23"),
        ("0 0 \uff11 * *", "day-of-month", "'\uff11' is not a number; expected ASCII digits 1-31"),
        (
            "0 0 * ² *",
            "month",
            "month field: '²' is not a number; expected ASCII digits 1-12 or a name jan-dec",
        ),
        ("¹ * * * *", "minute", "minute field: '¹' is not a number; expected ASCII digits 0-59"),
        ("0 0 1 1 ٣", "day-of-week", "'٣' is not a number; expected ASCII digits 0-7 or a name"),
        ("0 0 ୫ * *", "day-of-month", "'୫' is not a number; expected ASCII digits 1-31"),
        ("0 0 ⑤ * *", "day-of-month", "'⑤' is not a number; expected ASCII digits 1-31"),
        ("1٣ * * * *", "minute", "'1٣' is not a number; expected ASCII digits 0-59"),
        ("1-٣ * * * *", "minute", "'٣' is not a number; expected ASCII digits 0-59"),
        ("0 9-१७ * * *", "hour", "'१७' is not a number; expected ASCII digits 0-23"),
        ("*/² * * * *", "minute", "step '²' in '*/²' is not a whole number"),
        ("0 */٣ * * *", "hour", "step '٣' in '*/٣' is not a whole number"),
        ("0 0 * * 1#٣", "day-of-week", "day-of-week field:"),
        ("0 0 * * ٣L", "day-of-week", "day-of-week field:"),
        ("99999999999999999999 * * * *", "minute", "99999999999999999999 is out of range 0-59"),
        pytest.param(
            f"{LONG_NUMBER} * * * *", "minute", "(5000 digits) is out of range 0-59", id="long"
        ),
        pytest.param(f"*/{LONG_NUMBER} * * * *", "minute", "(5000 digits) in", id="long-step"),
        pytest.param(
            f"0 0 1-{LONG_NUMBER} * *",
            "day-of-month",
            "(5000 digits) is out of range 1-31",
            id="long-range",
        ),
        ("\x00 * * * *", "minute", "minute field: '\\x00' is not a number 0-59"),
        ("0 0 * * \x00", "day-of-week", "'\\x00' is not a number 0-7 or a name sun-sat"),
        ("0\u200b * * * *", "minute", "is not a number 0-59"),
        ("\udc80 * * * *", "minute", "'\\udc80' is not a number 0-59"),
        ("0 0 * \u212aan *", "month", "is not a number 1-12 or a name jan-dec"),  # Kelvin sign
        ("0 0 * * \u017fun", "day-of-week", "is not a number 0-7 or a name sun-sat"),  # long s
    ],
)
def test_hostile_fields_are_cron_errors_naming_the_field(expr, field, reason):
    with pytest.raises(CronError) as info:
        parse(expr)
    assert info.value.field == field
    assert reason in info.value.reason, info.value.reason
    assert info.value.reason.startswith(f"{field} field: ")


def test_a_very_long_value_is_shortened_in_the_message():
    with pytest.raises(CronError) as info:
        parse(f"{LONG_NUMBER} * * * *")
    assert len(str(info.value)) < 300
    assert info.value.expression == f"{LONG_NUMBER} * * * *"  # the value itself is kept
    with pytest.raises(CronError) as info:
        parse("x" * 100_000 + " * * * *")
    assert len(str(info.value)) < 300


def test_whatever_parse_accepts_cronsim_evaluates():
    """Random expressions from hostile pieces: parse() answers CronError, or cronsim
    (which evaluates every accepted expression) takes it without complaint."""
    from cronsim import CronSim

    pieces = [
        "*", "0", "1", "5", "7", "12", "23", "29", "30", "31", "59", "60", "00", "-1", "L",
        "LW", "W", "l", "mon", "SUN", "jan", "dec", "#", "-", "/", ",", "?", "", "0L", "5L",
        "1#2", "6#1", "1#6", "sunL", "٣", "²", "\uff11", "⑤", "\u212a", "\u017f", "\x00",
        "99999999999999999999",
    ]  # fmt: skip
    rng = random.Random(20261201)
    accepted = 0
    for _ in range(20_000):
        fields = ["*"] * 5
        for index in rng.sample(range(5), rng.randrange(1, 3)):
            fields[index] = "".join(rng.choices(pieces, k=rng.randrange(1, 4))) or "*"
        expr = " ".join(fields)
        try:
            schedule = parse(expr)
        except CronError:
            continue
        accepted += 1
        try:
            next(CronSim(schedule.normalized, JAN_1_2026), None)
        except Exception as exc:
            pytest.fail(f"parse accepted {expr!r}, cronsim raised {exc!r}")
    assert accepted > 1000  # the sample does reach cronsim


def test_leading_zeros_are_read_as_cron_reads_them_up_to_a_point():
    assert fires("007 * * * *", JAN_1_2026, 1) == [u(2026, 1, 1, 0, 7)]
    with pytest.raises(CronError) as info:
        parse("0" * 5000 + "7 * * * *")
    assert info.value.reason.startswith("minute field: 000000000000… (5001 digits) has too many")


def test_a_parsed_schedule_is_the_one_its_constructor_makes() -> None:
    for text in (" 5  4 * * 1 ", "@daily", "*/5 * * * *"):
        parsed = cron.parse(text)
        made = cron.CronSchedule(parsed.expression, parsed.normalized)
        assert (parsed, hash(parsed), repr(parsed)) == (made, hash(made), repr(made))
        assert type(parsed) is cron.CronSchedule
