"""No import cycle among the project's modules, and the core never imports the console.

Read from the source with ``ast`` (imports inside functions count too: a lazy import that
closes a cycle is still one), so the test fails on a cycle however the modules load.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("jobs", "tui")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, known: set[str]) -> set[str]:
    """The project's modules ``path`` imports (``from jobs.core import cron`` is jobs.core.cron)."""
    found: set[str] = set()
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path.parent)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                prefix = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*prefix, base] if base else prefix)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            if name in known:
                found.add(name)
    return found


def _graph() -> dict[str, set[str]]:
    paths = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    known = {_module_name(p) for p in paths}
    graph = {_module_name(p): _imports(p, known) for p in paths}
    # A package's __init__ is imported by its modules' import anyway: not an edge of theirs.
    return {
        name: {d for d in deps if d != name and d not in PACKAGES} for name, deps in graph.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_module_of_the_project_imports_itself_through_others() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_core_imports_nothing_of_the_console_or_textual() -> None:
    for path in (ROOT / "jobs").rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                for name in names:
                    assert not name.startswith(("tui", "textual")), f"{path.name} imports {name}"


# ---------------------------------------------------------------- what each path imports

#: Modules a command that only prints never needs; each costs its start time (the short
#: commands are held to 1.5x `import apscheduler`, the console's first frame to a bare app).
NEVER_FOR_PRINTING = ("apscheduler", "asyncio", "aiohttp", "textual", "dotenv")
#: Only a process that holds or probes a state file needs these (`history` and `list` read).
HOLDING = ("socket", "hashlib", "jobs.core.standby")

_RUN_COMMAND = """
import contextlib, io, json, sys
from tui import cli
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
    code = cli.main(sys.argv[1:])
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""

_FIRST_FRAME = """
import asyncio, json, sys
from tui import cli
from tui.app import JobConsoleApp
from jobs.core.client import LocalClient

async def main():
    service, error = cli._boot(role="console", staged=True)  # as cmd_console boots
    assert service is not None, error
    app = JobConsoleApp(LocalClient(service), autostart=False)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        shown = app.query_one("#jobs").get_job("heartbeat") is not None
        modules = sorted(sys.modules)
    service.close()
    print(json.dumps({"shown": shown, "modules": modules}))

asyncio.run(main())
"""


def _child(tmp_path: Path, code: str, *args: str) -> dict[str, object]:
    """Runs ``code`` in a fresh interpreter on a state file with a few runs recorded, in a
    folder with no ``.env``; returns what it printed last (JSON)."""
    import json
    import os
    import subprocess
    import sys
    from datetime import UTC, datetime

    from jobs.core.records import Execution, ExecutionStatus
    from jobs.core.store import Store

    state = tmp_path / "state.sqlite3"
    if not state.exists():
        store = Store.open_path(state)
        at = datetime(2026, 12, 1, 9, tzinfo=UTC)
        for job_id in ("heartbeat", "daily_report"):
            store.record_execution(
                Execution(
                    id=store.next_execution_id(),
                    job_id=job_id,
                    status=ExecutionStatus.SUCCEEDED,
                    scheduled_time=at,
                    started_at=at,
                    ended_at=at,
                )
            )
        store.close()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "JOBCONSOLE_STATE": str(state),
        "JOBCONSOLE_TIMEZONE": "UTC",
    }
    env.pop("JOBCONSOLE_REGISTRY", None)
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    ("args", "shows", "absent"),
    [
        (
            ["cron", "0 9 * * 1-5"],
            "At 09:00 AM, Monday through Friday",
            (*NEVER_FOR_PRINTING, *HOLDING, "sqlite3", "jobs.core.records", "jobs.core.service"),
        ),
        (["history"], "daily_report", (*NEVER_FOR_PRINTING, *HOLDING, "jobs.core.service")),
        (["list"], "heartbeat", (*NEVER_FOR_PRINTING, *HOLDING)),
    ],
    ids=["cron", "history", "list"],
)
def test_a_command_that_prints_imports_nothing_it_does_not_use(
    tmp_path: Path, args: list[str], shows: str, absent: tuple[str, ...]
) -> None:
    got = _child(tmp_path, _RUN_COMMAND, *args)
    assert got["code"] == 0
    assert shows in str(got["out"])
    assert [name for name in absent if name in got["modules"]] == []  # type: ignore[operator]


def test_the_console_draws_its_first_frame_without_what_it_needs_only_later(
    tmp_path: Path,
) -> None:
    """APScheduler and the control API come with the start, after the first frame; each
    screen when it is first shown; python-dotenv only for a .env file."""
    got = _child(tmp_path, _FIRST_FRAME)
    assert got["shown"]
    later = (
        "apscheduler",
        "aiohttp",
        "dotenv",
        "jobs.core.standby",
        "jobs.core.control.server",
        "tui.alerts",
        "tui.timeline",
        *(
            f"tui.screens.{name}"
            for name in ("confirm", "edit", "help", "job_detail", "output", "register", "timeline")
        ),
    )
    assert [name for name in later if name in got["modules"]] == []  # type: ignore[operator]
