"""First fires of many expressions at once (``jobs.core.first_fires``): the same times as
cronsim asked one expression at a time (``cron.next_fire``), however they are found —
worked out with expressions that differ only in their minute, read from the kept file,
or carried over from an earlier instant — and a start and a restart schedule by them."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from jobs.core import cron, cron_cache
from jobs.core.first_fires import FirstFires, counted_from
from jobs.core.records import EventKind, ExecutionStatus
from jobs.core.store import Store
from tests import jobfuncs_store
from tests.test_store import make_service, stop

ZONES = [
    "UTC",
    "Etc/UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # a half-hour daylight-saving step
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/Santiago",
]
#: Instants around daylight-saving steps (spring and autumn, north and south), month and
#: year ends, a leap day, and any second (a fraction of one too).
INSTANTS = [
    datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC),  # New York springs forward at 07:00 UTC
    datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # London
    datetime(2026, 4, 4, 14, 45, tzinfo=UTC),  # Lord Howe falls back
    datetime(2026, 10, 4, 15, 10, tzinfo=UTC),  # Lord Howe springs forward
    datetime(2026, 10, 25, 0, 59, 30, tzinfo=UTC),  # London falls back at 01:00 UTC
    datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # New York's repeated hour
    datetime(2026, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),
    datetime(2028, 2, 28, 23, 0, 1, tzinfo=UTC),
    datetime(2026, 6, 15, 12, 0, tzinfo=UTC),
]


def _field(rng: random.Random, low: int, high: int, extra: list[str]) -> str:
    pick = rng.randrange(8)
    if pick == 0:
        return "*"
    if pick == 1:
        return f"*/{rng.randrange(1, high - low + 2)}"
    if pick == 2:
        a = rng.randrange(low, high + 1)
        return f"{a}-{rng.randrange(a, high + 1)}"
    if pick == 3:
        return ",".join(str(v) for v in sorted(rng.sample(range(low, high + 1), 3)))
    if pick == 4 and extra:
        return rng.choice(extra)
    if pick == 5:
        a = rng.randrange(low, high + 1)
        return f"{a}-{rng.randrange(a, high + 1)}/{rng.randrange(1, 4)}"
    return str(rng.randrange(low, high + 1))


def _expressions(count: int) -> list[str]:
    """Varied valid expressions, many sharing all fields but the minute (as a registry's
    do), some macros."""
    rng = random.Random(15)
    rests = ["9 L * *", "0 L * 1-5", "12 1 jan 0#1", "* L feb *", "2 29 feb *", "1 * * 6L"]
    while len(rests) < count // 6:
        rest = " ".join(
            [
                _field(rng, 0, 23, []),
                _field(rng, 1, 31, ["L", "15", "1", "29", "31"]),
                _field(rng, 1, 12, ["jan-jun", "feb", "*/3"]),
                _field(rng, 0, 7, ["mon-fri", "sat,sun", "1#2", "5#5", "0#1", "5L"]),
            ]
        )
        try:
            cron.parse(f"0 {rest}")
        except cron.CronError:
            continue
        rests.append(rest)
    found = {"@hourly", "@daily", "@weekly", "@monthly", "@yearly", "* * * * *"}
    for rest in rests:
        for _ in range(rng.randrange(1, 10)):
            found.add(f"{_field(rng, 0, 59, ['0', '30', '59'])} {rest}")
    return sorted(cron.parse(e).normalized for e in found)


EXPRESSIONS = _expressions(600)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty kept-file folder of the test's own, read afresh; every answer past the
    first goes through the file (no handful worked out without it)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(cron, "FEW", 0)
    cron_cache.forget()
    yield tmp_path / "cache" / "jobconsole"
    cron_cache.forget()


def _plain(after: float) -> dict[tuple[str, ZoneInfo], datetime | None]:
    return {
        (e, ZoneInfo(z)): cron.next_fire(e, ZoneInfo(z), after) for z in ZONES for e in EXPRESSIONS
    }


def _same(got: datetime | None, want: datetime | None) -> bool:
    """The same instant, shown the same (zone, offset and fold)."""
    if got is None or want is None:
        return got is want
    return (got, got.tzinfo, got.utcoffset(), got.fold, got.replace(tzinfo=None)) == (
        want,
        want.tzinfo,
        want.utcoffset(),
        want.fold,
        want.replace(tzinfo=None),
    )


def _answers(fires: FirstFires) -> dict[tuple[str, ZoneInfo], datetime | None]:
    return {(e, ZoneInfo(z)): fires.of(e, ZoneInfo(z)) for z in ZONES for e in EXPRESSIONS}


def _differences(got: dict, want: dict) -> list[str]:  # type: ignore[type-arg]
    return [
        f"{e!r} in {tz.key}: {got[(e, tz)]} instead of {want[(e, tz)]}"
        for (e, tz) in want
        if not _same(got[(e, tz)], want[(e, tz)])
    ][:10]


def test_the_expressions_tried_share_fields_but_the_minute_and_fire_at_odd_times() -> None:
    rests = {e.split(" ", 1)[1] for e in EXPRESSIONS}
    assert len(EXPRESSIONS) > 2.5 * len(rests) > 250
    assert any(e.split()[2] == "L" for e in EXPRESSIONS) and any("#" in e for e in EXPRESSIONS)


@pytest.mark.parametrize("instant", INSTANTS, ids=lambda d: f"{d:%Y-%m-%d_%H%M%S}")
def test_many_first_fires_are_cronsims_one_by_one(cache: Path, instant: datetime) -> None:
    after = instant.timestamp()
    want = _plain(after)
    keys = list(want)
    worked_out = _answers(FirstFires(after, keys))
    assert _differences(worked_out, want) == []
    cron_cache.save()
    cron_cache.forget()
    assert (cache / "next-fires.json").exists()
    # As the next start finds them: from the kept file, at the instant and a little later.
    for later in (after, after + 59, after + 3600):
        from_file = _answers(FirstFires(later, keys))
        assert _differences(from_file, _plain(later)) == []


def test_a_start_s_first_fires_are_counted_from_its_second_as_the_trigger_does() -> None:
    from jobs.core.engine import CronTrigger

    tz = ZoneInfo("Europe/London")
    schedule = cron.parse("0 1 * * *")
    trigger = CronTrigger(schedule, tz)
    for now in (
        datetime(2026, 10, 25, 1, 0, 0, tzinfo=tz),
        datetime(2026, 10, 25, 0, 59, 59, 999999, tzinfo=tz),
        datetime(2026, 10, 25, 1, 0, 0, 1, tzinfo=tz),
    ):
        fires = FirstFires(counted_from(now), [(schedule.normalized, tz)])
        assert fires.of(schedule.normalized, tz) == trigger.get_next_fire_time(None, now)


def test_answers_after_an_earlier_instant_carry_over_while_they_are_still_ahead() -> None:
    earlier = INSTANTS[0].timestamp()
    for later in (earlier, earlier + 1, earlier + 1800, earlier + 86400 * 3):
        old = FirstFires(earlier, _plain(earlier))
        _answers(old)
        new = FirstFires(later, _plain(later))
        new.carry(old)
        assert _differences(_answers(new), _plain(later)) == []
    old = FirstFires(earlier + 60, [])
    _answers(old)
    new = FirstFires(earlier, [])
    new.carry(old)  # a later instant's answers say nothing of an earlier one
    assert _differences(_answers(new), _plain(earlier)) == []


@pytest.mark.parametrize(
    "spoil",
    ["missing", "not JSON", "another cronsim", "another zone file", "wrong values", "a folder"],
)
def test_a_kept_file_that_cannot_be_trusted_is_worked_out_again(cache: Path, spoil: str) -> None:
    instant = INSTANTS[-1].timestamp()
    keys = list(_plain(instant))
    _answers(FirstFires(instant, keys))
    cron_cache.save()
    cron_cache.forget()
    path = cache / "next-fires.json"
    raw = json.loads(path.read_text())
    if spoil == "missing":
        path.unlink()
    elif spoil == "not JSON":
        path.write_text(path.read_text()[:1000])
    elif spoil == "another cronsim":
        raw["key"] = raw["key"].replace("cronsim", "cronsim 0.1;")
        path.write_text(json.dumps(raw))
    elif spoil == "another zone file":
        for zone in raw["entries"].values():
            zone["stamp"] += "0"
        path.write_text(json.dumps(raw))
    elif spoil == "wrong values":
        for zone in raw["entries"].values():
            zone["next"] = {e: "soon" for e in zone["next"]}
            zone["from"] = {e: instant + 10**6 for e in zone["from"]}
        path.write_text(json.dumps(raw))
    else:
        path.unlink()
        path.mkdir()
    assert _differences(_answers(FirstFires(instant, keys)), _plain(instant)) == []
    cron_cache.save()  # and writing it back fails quietly, or mends it


def test_a_kept_fire_from_after_the_instant_asked_is_not_used(cache: Path) -> None:
    instant = INSTANTS[2].timestamp()
    keys = list(_plain(instant))
    _answers(FirstFires(instant, keys))
    cron_cache.save()
    cron_cache.forget()
    earlier = instant - 86400 * 40  # before the kept "from": those answers may be wrong
    assert _differences(_answers(FirstFires(earlier, keys)), _plain(earlier)) == []


# ------------------------------------------------------------------ start and restart

#: Jobs of many expressions in two zones: more than ``cron.FEW``, so the kept file is used.
REGISTRY = [
    (f"job{i:03d}", expression, zone)
    for i, (expression, zone) in enumerate(
        (e, z) for z in ("UTC", "America/New_York") for e in EXPRESSIONS[::3]
    )
]


def _register(service) -> None:  # type: ignore[no-untyped-def]
    for job_id, expression, zone in REGISTRY:
        service.register_job(job_id, jobfuncs_store.ok, expression, timezone=zone)


async def _started(service) -> None:  # type: ignore[no-untyped-def]
    done = asyncio.Event()
    service.subscribe(lambda e: done.set() if e.kind is EventKind.SCHEDULER_STARTED else None)
    service.start()
    await asyncio.wait_for(done.wait(), 20)


def _next_runs(service) -> dict[str, datetime | None]:  # type: ignore[no-untyped-def]
    return {job.job_id: job.next_run_time for job in service.get_jobs()}


def _expected_next_runs(instant: datetime) -> dict[str, datetime | None]:
    """Each job's first run from ``instant``: cronsim's, one job at a time."""
    after = counted_from(instant)
    return {
        job_id: cron.next_fire(cron.parse(e).normalized, ZoneInfo(z), after)
        for job_id, e, z in REGISTRY
    }


async def test_a_first_start_and_a_restart_schedule_every_job_at_cronsims_time(
    tmp_path: Path, cache: Path
) -> None:
    path = tmp_path / "state.sqlite3"
    for start in ("first, nothing kept", "restart, the kept file and the catch-up"):
        before = datetime.now(UTC)
        service = make_service(path)
        _register(service)
        await _started(service)
        after = datetime.now(UTC)
        try:
            got = _next_runs(service)
            # The instant start() counted from lies between the two readings.
            choices = [_expected_next_runs(before), _expected_next_runs(after)]
            wrong = [
                job_id for job_id in got if all(got[job_id] != want[job_id] for want in choices)
            ]
            assert wrong == [], (start, wrong[:5])
        finally:
            await stop(service)
        if start.startswith("first"):
            assert (cache / "next-fires.json").exists(), "the start kept its first fires"


async def test_missed_runs_at_a_restart_are_those_cronsim_counts(tmp_path: Path) -> None:
    """A restart three days after the last sign of life: each job's
    missed runs (how many, the last one) as counted one job at a time."""
    from types import SimpleNamespace

    from jobs.core import restore

    now = datetime(2026, 3, 8, 8, 0, 30, tzinfo=UTC)  # New York's spring-forward morning
    last_alive = now - timedelta(days=3)
    path = tmp_path / "state.sqlite3"
    store = Store.open_path(path)
    store.mark_alive(last_alive)
    store.flush()
    store.close()
    service = make_service(path, clock=lambda: now, misfire_grace_seconds=0.0)
    _register(service)
    jobs = [
        SimpleNamespace(job_id=job_id, schedule=cron.parse(e), tz=ZoneInfo(z))
        for job_id, e, z in REGISTRY
    ]
    want = {
        due.job_id: due.message
        for due in restore.catch_up(jobs, last_alive, {}, now, 0.0)
        if due.missed
    }
    assert len(REGISTRY) // 10 < len(want)  # many were due meanwhile, more not
    assert len(want) < len(REGISTRY)
    service.start()
    try:
        service.store.flush()
        got = {
            e.job_id: e.error
            for job_id, _, _ in REGISTRY
            for e in service.recent_executions(job_id)
            if e.status is ExecutionStatus.MISSED
        }
        assert got == want
    finally:
        await stop(service)


async def test_the_start_writes_what_it_kept_and_lets_go_of_it(tmp_path: Path, cache: Path) -> None:
    """Written once the start's rows are written back, not only at exit (a killed
    scheduler's next start still finds them), and not held in memory after."""
    service = make_service(tmp_path / "state.sqlite3")
    _register(service)
    await _started(service)
    try:
        for _ in range(200):
            if (cache / "next-fires.json").exists():
                break
            await asyncio.sleep(0.05)
        kept = json.loads((cache / "next-fires.json").read_text())["entries"]
        assert len(kept["Etc/UTC" if "Etc/UTC" in kept else "UTC"]["next"]) > 100
        assert "next-fires.json" not in cron_cache._files
    finally:
        await stop(service)


def _all_answers(fires: FirstFires) -> dict[tuple[str, ZoneInfo], datetime | None]:
    found = {}
    for name in ZONES:
        tz = ZoneInfo(name)
        answers = fires.of_all(EXPRESSIONS, tz)
        found.update(zip(((e, tz) for e in EXPRESSIONS), answers, strict=True))
    return found


@pytest.mark.parametrize("instant", INSTANTS[::3], ids=lambda d: f"{d:%Y-%m-%d_%H%M%S}")
def test_first_fires_asked_all_at_once_are_cronsims_one_by_one(
    cache: Path, instant: datetime
) -> None:
    after = instant.timestamp()
    want = _plain(after)
    assert _differences(_all_answers(FirstFires(after, list(want))), want) == []
    cron_cache.save()
    cron_cache.forget()
    for later in (after, after + 3600):  # from the kept file, as jobconsole list reads it
        assert _differences(_all_answers(FirstFires(later, list(want))), _plain(later)) == []
