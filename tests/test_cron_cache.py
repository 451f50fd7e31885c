"""Descriptions and next fire times kept between runs (``jobs.core.cron_cache``): what
``jobconsole list`` and every description show is the same with the cache warm, cold,
corrupt, unwritable, from another library version, or past its next fires."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs.core import cron, cron_cache
from jobs.core.service import SchedulerService
from tests.test_cli import Cli
from tui.cli import listing

EXPRESSIONS = ["*/5 * * * *", "0 9 * * 1-5", "30 2 * * *", "@weekly", "0 0 L * *", "0 12 * * 1#2"]
ZONES = ["", "America/New_York", "Asia/Kolkata"]
ENTRIES = [
    {"job_id": f"job{i:02d}", "func": "tests.jobfuncs:quick", "cron_expression": e, **zone}
    for i, (e, zone) in enumerate(
        (e, {"timezone": z} if z else {}) for z in ZONES for e in EXPRESSIONS
    )
]
#: A registry for the command: more distinct expressions than ``cron.FEW``, which a
#: process works out without reading the kept files.
CLI_ENTRIES = ENTRIES + [
    {"job_id": f"filler_{hour}_{minute:02d}", "func": "tests.jobfuncs:quick",
     "cron_expression": f"{minute} {hour} * * *"}
    for hour in (4, 5) for minute in range(60)
]  # fmt: skip
REGISTRY = f"REGISTERED_JOBS = {CLI_ENTRIES!r}\n"
#: A Monday morning in New York; 09:00 there is 14:00 here.
NOW = datetime(2026, 11, 30, 13, 58, 30, tzinfo=UTC)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache directory of the test's own; the process reads it afresh."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    monkeypatch.setattr(cron, "FEW", 0)  # the handful worked out without the file: none
    monkeypatch.setattr(cron, "_few_words", {})
    cron_cache.forget()
    yield folder / "jobconsole"
    cron_cache.forget()


def _restart() -> None:
    """As a new process would: what this one learned is written, then read again."""
    cron_cache.save()
    cron_cache.forget()


def _service(make) -> SchedulerService:  # type: ignore[no-untyped-def]
    service = make()
    assert service.load_registry(ENTRIES) == []
    return service


def _truth(now: datetime, entries: list[dict[str, str]] = ENTRIES) -> list[tuple[str, str]]:
    """Each job's next run and description worked out without any cache."""
    rows = []
    for entry in entries:
        schedule = cron.parse(entry["cron_expression"])
        tz = cron.zone(entry.get("timezone") or "UTC")
        when = schedule.next_times(now, tz, 1)[0].astimezone(UTC)
        rows.append((f"{when:%m-%d %H:%M}", cron._worded(schedule.normalized)))
    return rows


def _shown(text: str) -> list[tuple[str, str]]:
    """(next run, description) of each row of a listing, countdowns aside."""
    header, *lines = text.splitlines()
    start, described = header.index("next run"), header.index("description")
    return [(line[start : start + 11], line[described:]) for line in lines]


def test_a_warm_cache_lists_what_a_cold_one_does(make, cache: Path) -> None:
    service = _service(make)
    cold = listing(service, NOW, None)
    assert _shown(cold) == _truth(NOW)
    _restart()
    assert {p.name for p in cache.iterdir()} == {"descriptions.json", "next-fires.json"}
    kept = json.loads((cache / "next-fires.json").read_text())["entries"]
    assert sorted(kept) == ["America/New_York", "Asia/Kolkata", "UTC"]
    assert sum(len(zone["next"]) for zone in kept.values()) == 18
    assert listing(service, NOW, None) == cold


def test_the_clock_past_a_kept_next_fire_lists_the_fire_after(make, cache: Path) -> None:
    service = _service(make)
    listing(service, NOW, None)
    _restart()
    # 14:00 UTC is a */5's fire and the weekday report's 09:00 in New York: at it, and
    # after it, the next fire is the one after.
    at_the_fire = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
    shown = listing(service, at_the_fire, None)
    assert _shown(shown) == _truth(at_the_fire)
    assert "12-01 14:00" in shown  # the New York report, now tomorrow's
    later = NOW + timedelta(hours=5)
    assert _shown(listing(service, later, None)) == _truth(later)
    # And a clock set back before the kept span is not answered from it either.
    earlier = NOW - timedelta(days=3)
    assert _shown(listing(service, earlier, None)) == _truth(earlier)


def test_kept_fires_follow_every_step_of_daylight_saving_changes(cache: Path) -> None:
    expressions = ["30 1 * * *", "30 2 * * *", "*/15 1-2 * * *", "0 1,2 * * *", "15 * * * *"]
    days = {
        "America/New_York": [
            datetime(2026, 3, 8, 4, tzinfo=UTC),
            datetime(2026, 11, 1, 4, tzinfo=UTC),
        ],
        "Europe/London": [datetime(2026, 3, 29, tzinfo=UTC), datetime(2026, 10, 25, tzinfo=UTC)],
        "Australia/Lord_Howe": [datetime(2026, 4, 4, 14, tzinfo=UTC)],
    }  # fmt: skip
    for name, starts in days.items():
        tz = cron.zone(name)
        for expression in expressions:
            schedule = cron.parse(expression)
            for start in starts:
                for step in range(0, 6 * 60, 7):
                    now = start + timedelta(minutes=step, seconds=step % 60)
                    expected = schedule.next_times(now, tz, 1)[0]
                    found = cron.next_fire_kept(schedule, tz, now)
                    assert found is not None
                    assert (found.replace(tzinfo=None), found.fold, found.timestamp()) == (
                        expected.replace(tzinfo=None),
                        expected.fold,
                        expected.timestamp(),
                    ), (name, expression, now)


@pytest.mark.parametrize(
    "damage",
    [
        b"\x00\xff garbage",
        b'{"format": 1, "key": ',  # a write cut short
        b"[1, 2, 3]",
        b'{"format": 1, "key": "x", "entries": []}',
        b"[" * 100_000,
    ],
)
def test_a_corrupt_cache_file_lists_what_no_cache_does(make, cache: Path, damage: bytes) -> None:
    service = _service(make)
    cache.mkdir(parents=True)
    for name in ("descriptions.json", "next-fires.json"):
        (cache / name).write_bytes(damage)
    assert _shown(listing(service, NOW, None)) == _truth(NOW)
    _restart()  # and it is replaced by a good one
    assert json.loads((cache / "descriptions.json").read_text())["entries"]
    assert _shown(listing(service, NOW, None)) == _truth(NOW)


def test_entries_of_the_wrong_shape_are_not_used(make, cache: Path) -> None:
    service = _service(make)
    listing(service, NOW, None)
    _restart()
    words = json.loads((cache / "descriptions.json").read_text())
    words["entries"] = dict.fromkeys(words["entries"], 7)
    (cache / "descriptions.json").write_text(json.dumps(words))
    fires = json.loads((cache / "next-fires.json").read_text())
    for zone in fires["entries"].values():
        zone["from"] = {"0 9 * * 1-5": "0", "*/5 * * * *": 0}
        zone["next"] = {"0 9 * * 1-5": 2**40, "*/5 * * * *": True}
    (cache / "next-fires.json").write_text(json.dumps(fires))
    cron_cache.forget()
    assert _shown(listing(service, NOW, None)) == _truth(NOW)


def test_an_unwritable_cache_directory_lists_the_same(
    make, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = _service(make)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    cron_cache.forget()
    try:
        assert _shown(listing(service, NOW, None)) == _truth(NOW)
        cron_cache.save()  # fails quietly
        assert _shown(listing(service, NOW, None)) == _truth(NOW)
    finally:
        cron_cache.forget()
    assert blocked.read_text() == "a file where the cache folder would be"


def _plant(path: Path, key: str | None, entries: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"format": 1, "key": key, "entries": entries}))


def test_descriptions_kept_by_another_cron_descriptor_version_are_not_used(cache: Path) -> None:
    current = cron._KeptWords(None).make_key()
    assert current is not None and "cron-descriptor " in current
    other = current.replace("cron-descriptor ", "cron-descriptor 0.0.1+", 1)
    _plant(cache / "descriptions.json", other, {"0 9 * * 1-5": "from another version"})
    assert cron.describe("0 9 * * 1-5") == "At 09:00 AM, Monday through Friday"
    # The same file under this version's key is read: the key alone decided.
    _plant(cache / "descriptions.json", current, {"0 9 * * 1-5": "kept by this version"})
    cron_cache.forget()
    assert cron.describe("0 9 * * 1-5") == "kept by this version"


def test_a_handful_of_expressions_never_waits_for_the_kept_file(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``jobconsole cron`` or a small registry: the kept file (MB after a big registry was
    listed) is not read for a few descriptions; past ``FEW`` it is."""
    monkeypatch.setattr(cron, "FEW", 2)
    current = cron._KeptWords(None).make_key()
    kept = {"0 9 * * 1-5": "kept", "0 10 * * 1-5": "kept", "0 11 * * 1-5": "kept"}
    _plant(cache / "descriptions.json", current, kept)
    assert cron.describe("0 9 * * 1-5") == "At 09:00 AM, Monday through Friday"
    assert cron.describe("0 10 * * 1-5") == "At 10:00 AM, Monday through Friday"
    assert cron.describe("0 11 * * 1-5") == "kept"


def test_fires_kept_under_other_zone_rules_are_not_used(cache: Path) -> None:
    tz = cron.zone("America/New_York")
    schedule = cron.parse("0 9 * * 1-5")
    fake = int((NOW + timedelta(days=40)).timestamp())
    key = cron._KeptFires(None).make_key()
    stamp = cron_cache.zone_stamp(tz.key)
    assert key is not None and stamp is not None
    begin = int(NOW.timestamp()) - 60
    kept = {"from": {schedule.normalized: begin}, "next": {schedule.normalized: fake}}
    _plant(cache / "next-fires.json", key, {tz.key: {"stamp": stamp + "-older", **kept}})
    assert cron.next_fire_kept(schedule, tz, NOW) == schedule.next_times(NOW, tz, 1)[0]
    _plant(cache / "next-fires.json", key, {tz.key: {"stamp": stamp, **kept}})
    cron_cache.forget()
    assert cron.next_fire_kept(schedule, tz, NOW) == datetime.fromtimestamp(fake, tz)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    (tmp_path / "myjobs.py").write_text(REGISTRY)
    runner = Cli(tmp_path)
    root = Path(__file__).resolve().parent.parent
    runner.env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=f"{tmp_path}:{root}")
    return runner


def _listed(before: datetime, after: datetime, *results: subprocess.CompletedProcess[str]) -> None:
    """Each run's rows are the jobs' next runs (as of some instant while it ran) and
    descriptions."""
    one, other = _truth(before, CLI_ENTRIES), _truth(after, CLI_ENTRIES)
    for result in results:
        assert result.returncode == 0, result.stderr
        # Nothing on stderr but the line naming the state file: no warning, no traceback.
        assert result.stderr.startswith("jobconsole: state file: "), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        shown = _shown(result.stdout)
        assert len(shown) == len(CLI_ENTRIES)
        for row, a, b in zip(shown, one, other, strict=True):
            assert row in (a, b)


def _timed(cli: Cli) -> tuple[datetime, datetime, subprocess.CompletedProcess[str]]:
    before = datetime.now(UTC)
    result = cli("list", COLUMNS="")
    return before, datetime.now(UTC), result


def test_list_the_same_cold_warm_and_when_processes_write_at_once(cli: Cli) -> None:
    _listed(*_timed(cli))  # cold
    _listed(*_timed(cli))  # warm
    files = cli.cwd / "cache" / "jobconsole"
    assert sorted(p.name for p in files.iterdir()) == ["descriptions.json", "next-fires.json"]
    for path in files.iterdir():
        path.unlink()
    before = datetime.now(UTC)
    together = [subprocess.Popen(cli.argv("list"), cwd=cli.cwd, env={**cli.env, "COLUMNS": ""},
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(4)]  # fmt: skip
    try:
        results = []
        for process in together:
            out, err = process.communicate(timeout=60)
            results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    finally:
        for process in together:
            process.kill()
            process.wait()
    _listed(before, datetime.now(UTC), *results)
    assert sorted(p.name for p in files.iterdir()) == ["descriptions.json", "next-fires.json"]
    _listed(*_timed(cli))


def test_list_with_a_corrupt_cache_and_an_unwritable_one(cli: Cli) -> None:
    files = cli.cwd / "cache" / "jobconsole"
    files.mkdir(parents=True)
    for name in ("descriptions.json", "next-fires.json"):
        (files / name).write_text('{"format": 1, "key": "cut sho')
    _listed(*_timed(cli))
    blocked = cli.cwd / "blocked"
    blocked.write_text("")
    cli.env["XDG_CACHE_HOME"] = str(blocked)
    _listed(*_timed(cli))
    _listed(*_timed(cli))


@pytest.mark.parametrize("few", [0, 3, 100])
def test_next_runs_asked_together_are_those_asked_one_by_one(
    cache: Path, monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    """``next_fires_kept`` (the listing's, a zone at a time) answers as ``next_fire_kept``
    does for each schedule, whether the first ones are worked out without the kept file
    (``FEW``), the file is cold, warm, or some of its fires have passed."""
    monkeypatch.setattr(cron, "FEW", few)
    schedules = [cron.parse(e) for e in EXPRESSIONS + [f"{m} 4 * * *" for m in range(10)]]
    for zone in ("UTC", "America/New_York"):
        tz = cron.zone(zone)
        for now in (NOW, NOW, NOW + timedelta(hours=20), NOW + timedelta(days=9)):
            monkeypatch.setattr(cron, "_fires_asked", 0)
            together = [_exact(d) for d in cron.next_fires_kept(schedules, tz, now)]
            monkeypatch.setattr(cron, "_fires_asked", 0)
            assert together == [_exact(cron.next_fire_kept(s, tz, now)) for s in schedules]
            assert together == [_exact(s.next_times(now, tz, 1)[0]) for s in schedules]
            _restart()


def _exact(when: datetime | None) -> tuple[str, object] | None:
    """A time as shown (wall clock, offset) and its zone, not only its instant."""
    return None if when is None else (when.isoformat(), when.tzinfo)
