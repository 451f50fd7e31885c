"""``jobconsole list`` over a registry of thousands of jobs that share schedules.

It works out each distinct (expression, zone) once: every row must still show its own
job's next run, in its own zone, and its own description.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobs.core import cron
from tests.test_cli import Cli

ZONES = ("UTC", "Asia/Kolkata", "America/New_York", "")
REGISTRY = """
async def tick():
    pass

EXPRESSIONS = [f"{{m}} {{h}} * * *" for h in range(0, 24, 3) for m in range(0, 60, 7)]
EXPRESSIONS += ["*/5 * * * *", "0 9 * * 1-5", "@weekly", "0 0 L * *", "0 12 * * 1#2"]
ZONES = {zones!r}
REGISTERED_JOBS = []
for i in range(3000):
    entry = {{
        "job_id": f"job{{i:04d}}",
        "func": tick,
        "cron_expression": EXPRESSIONS[i % len(EXPRESSIONS)],
    }}
    zone = ZONES[(i // len(EXPRESSIONS)) % len(ZONES)]
    if zone:
        entry["timezone"] = zone
    if i % 11 == 0:
        entry["description"] = f"given {{i}}"
    REGISTERED_JOBS.append(entry)
"""


@pytest.fixture
def big(tmp_path: Path) -> Cli:
    (tmp_path / "myjobs.py").write_text(REGISTRY.format(zones=ZONES))
    return Cli(tmp_path)


def _expected(expression: str, zone: str, after: datetime) -> str:
    tz = cron.zone(zone or "UTC")
    when = cron.parse(expression).next_times(after, tz, 1)[0]
    return f"{when.astimezone(UTC):%m-%d %H:%M}"


def test_list_of_thousands_of_jobs_sharing_schedules_shows_each_its_own(big: Cli) -> None:
    namespace: dict[str, object] = {}
    exec((big.cwd / "myjobs.py").read_text(), namespace)
    entries = {e["job_id"]: e for e in namespace["REGISTERED_JOBS"]}  # type: ignore[attr-defined]
    before = datetime.now(UTC)
    result = big("list", COLUMNS="")
    after = datetime.now(UTC)
    note = f"jobconsole: state file: {big.state} (not created yet): the registry's jobs only\n"
    assert (result.returncode, result.stderr) == (0, note)  # stdout is the table alone
    header, *lines = result.stdout.splitlines()
    assert len(lines) == len(entries) == 3000
    start = header.index("next run (UTC)")
    described = header.index("description")
    zones_seen = set()
    for line in lines:
        entry = entries[line.split()[0]]
        expression, zone = entry["cron_expression"], entry.get("timezone", "")
        zones_seen.add(zone)
        shown = line[start : start + len("12-01 14:20")]
        # A fire may fall between the two instants: either answer is right, no other.
        assert shown in {_expected(expression, zone, t) for t in (before, after)}, line
        assert "(in " in line or "(now)" in line, line
        words = entry.get("description") or cron.parse(expression).description
        assert line[described:] == words, line
    assert zones_seen == set(ZONES)


def test_the_same_expression_in_two_zones_gets_two_next_runs(big: Cli) -> None:
    lines = big("list", COLUMNS="").stdout.splitlines()
    start = lines[0].index("next run (UTC)")
    by_zone = {}
    for line in lines[1:]:
        job_id = line.split()[0]
        if line.split()[1:6] == ["0", "9", "*", "*", "1-5"]:
            by_zone.setdefault(line[start : start + 11], []).append(job_id)
    assert len(by_zone) == len(ZONES) - 1  # "" is UTC: the same as "UTC"
