"""The merge rules and missed-run counting, on plain data: no service, no store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from jobs.core import cron, restore
from jobs.core.job_options import JobOptions
from jobs.core.state_store import StoredJob
from tests.records import stored_job

UTC_ZONE = ZoneInfo("UTC")


@dataclass
class Code:
    cron_expression: str = "0 * * * *"
    timeout_seconds: float | None = None

    @property
    def options(self) -> JobOptions:
        return JobOptions(timezone="UTC", timeout_seconds=self.timeout_seconds)


@dataclass
class Fires:
    job_id: str
    schedule: cron.CronSchedule
    tz: ZoneInfo = UTC_ZONE


def row(job_id: str, **changes: object) -> StoredJob:
    return stored_job(job_id, **changes)


def test_a_code_job_keeps_its_pause_and_the_consoles_expression_and_timeout() -> None:
    merged = restore.merge(
        {"a": Code(timeout_seconds=10.0)},
        [
            row(
                "a",
                paused=True,
                cron_expression="*/5 * * * *",
                timeout_seconds=3.0,
                code_timeout_seconds=10.0,
            )
        ],
    )
    (kept,) = merged.kept
    assert kept.paused
    assert kept.schedule is not None and kept.schedule.expression == "*/5 * * * *"
    assert kept.options is not None and kept.options.timeout_seconds == 3.0
    assert merged.notices == []


def test_the_registrys_changed_expression_and_timeout_replace_the_stored_ones() -> None:
    merged = restore.merge(
        {"a": Code("0 9 * * *", 20.0)},
        [row("a", cron_expression="*/5 * * * *", timeout_seconds=3.0, code_timeout_seconds=10.0)],
    )
    (kept,) = merged.kept
    assert kept.schedule is None and kept.options is None  # the registry's own apply
    assert merged.notices == [
        "a: the registry's cron expression changed from '0 * * * *' to '0 9 * * *'; "
        "it replaces the one stored",
        "a: the registry's timeout changed from 10.0 to 20.0; it replaces the one stored",
    ]


def test_a_stored_expression_that_no_longer_parses_is_ignored_by_name() -> None:
    merged = restore.merge({"a": Code()}, [row("a", cron_expression="0 25 * * *")])
    assert merged.kept[0].schedule is None
    assert merged.notices == [
        "a: stored expression ignored: invalid cron expression '0 25 * * *': "
        "hour field: 25 is out of range 0-23"
    ]


def test_removed_gone_and_console_jobs_each_get_their_own_outcome() -> None:
    rows = [
        row("removed", removed=True),
        row("gone"),
        row("console", source="runtime"),
        row("console_removed", source="runtime", removed=True),
        row("shadowed", source="runtime", func_ref="old:job"),
    ]
    merged = restore.merge({"removed": Code(), "shadowed": Code()}, rows)

    assert merged.dropped == ["removed"]
    assert merged.forgotten == ["gone"]
    assert [r.job_id for r in merged.restored] == ["console"]
    assert merged.kept == []
    assert merged.notices == [
        "removed: removed in the console earlier; not scheduled",
        "gone: no longer defined in code; not scheduled",
        "shadowed: the job registered in the console as old:job is replaced by the "
        "registry's job of the same id; its pause and timeout are not kept",
    ]


def test_unsaved_rows_are_only_those_that_differ() -> None:
    stored = {"a": row("a"), "b": row("b")}
    assert restore.unsaved([row("a"), row("b", paused=True), row("c")], stored) == [
        row("b", paused=True),
        row("c"),
    ]


def test_runs_due_while_nothing_ran_are_counted_and_the_latest_runs_within_the_grace() -> None:
    hourly = cron.parse("0 * * * *")
    last_alive = datetime(2025, 1, 6, 6, 30, tzinfo=UTC)
    now = datetime(2025, 1, 6, 9, 0, 30, tzinfo=UTC)
    found = restore.catch_up(
        [Fires("a", hourly), Fires("b", hourly), Fires("quiet", cron.parse("0 0 1 1 *"))],
        last_alive,
        {"b": datetime(2025, 1, 6, 8, 0, tzinfo=UTC)},  # b ran at 8:00 after the sign of life
        now,
        grace=60,
    )
    assert [(c.job_id, c.missed, c.latest, c.run_latest) for c in found] == [
        ("a", 2, datetime(2025, 1, 6, 9, 0, tzinfo=UTC), True),
        ("b", 0, datetime(2025, 1, 6, 9, 0, tzinfo=UTC), True),
    ]
    assert found[0].message == (
        "missed 2 run(s) due while jobconsole was not running (last due 2025-01-06 08:00 UTC)"
    )

    late = restore.catch_up([Fires("a", hourly)], last_alive, {}, now + timedelta(minutes=5), 60)
    assert [(c.missed, c.run_latest) for c in late] == [(3, False)]


def test_many_rows_merge_as_each_does_alone() -> None:
    """A merge keeps nothing for rows whose options it found unedited before (by their
    values' identity): rows edited, paused or changed among them still get their own."""
    code = {f"j{i}": Code(timeout_seconds=10.0 if i % 3 else None) for i in range(60)}
    rows = []
    for i, job_id in enumerate(code):
        own = 10.0 if i % 3 else None
        changes: dict[str, object] = {"timeout_seconds": own, "code_timeout_seconds": own}
        if i % 7 == 3:
            changes["timeout_seconds"] = 2.0  # edited in the console
        if i % 11 == 5:
            changes["code_timeout_seconds"] = 30.0  # the registry's changed since
        if i % 5 == 1:
            changes["paused"] = True
        if i % 13 == 4:
            changes["cron_expression"] = "*/5 * * * *"
        rows.append(row(job_id, **changes))
    merged = restore.merge(code, rows)
    alone = [restore.merge({r.job_id: code[r.job_id]}, [r]) for r in rows]
    assert merged.kept == [one.kept[0] for one in alone]
    assert merged.notices == [notice for one in alone for notice in one.notices]
    assert sum(k.paused for k in merged.kept) == 12
    assert sum(k.options is not None for k in merged.kept) > 0


@dataclass
class Held:
    """A code job whose options are one value shared with others, as the registry's are."""

    options: JobOptions
    cron_expression: str = "0 * * * *"


def test_rows_that_share_their_values_merge_as_each_does_alone() -> None:
    from dataclasses import replace

    shared = JobOptions(timezone="UTC")
    other = JobOptions(timezone="UTC", timeout_seconds=10.0)
    plain = row("t", timeout_seconds=None)
    edited = row("t", timeout_seconds=3.0, code_timeout_seconds=None)
    timed = row("t", timeout_seconds=10.0, code_timeout_seconds=10.0)
    code: dict[str, Held] = {}
    rows = []
    for i in range(90):
        job_id = f"j{i}"
        code[job_id] = Held(other if i % 4 == 0 else shared)
        template = (plain, edited, timed)[i % 3]
        rows.append(replace(template, job_id=job_id, paused=i % 5 == 0))
    merged = restore.merge(code, rows)
    alone = [restore.merge({r.job_id: code[r.job_id]}, [r]) for r in rows]
    assert merged.kept == [one.kept[0] for one in alone]
    assert merged.notices == [notice for one in alone for notice in one.notices]
    assert [k.options for k in merged.kept if k.options is not None]
    assert sum(k.paused for k in merged.kept) == 18
