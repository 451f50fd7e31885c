"""Runs the real ``jobconsole`` command (``tui.cli.main``) with a benchmark task inside.

Used by firing.py and scale.py as the child they start in a tmux window: the console
draws into a real terminal, exactly as ``jobconsole`` builds it (settings, registry, state
file, the JobConsoleApp arguments), and ``task(app)`` runs in its event loop once the
scheduler has started. The task returns a JSON-able result, written to ``out``; then the
console quits as if ``q`` were pressed.
"""

from __future__ import annotations

import asyncio
import json
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

Task = Callable[[Any], Awaitable[Any]]


def run(task: Task, out: Path) -> int:
    """Run ``jobconsole`` with ``task``; any failure is written to ``out`` as {"error"}."""
    try:
        import tui.app
        from tui import cli

        base = tui.app.JobConsoleApp

        here = Path(tui.app.__file__).parent
        css = base.CSS_PATH
        css_paths = [css] if isinstance(css, str | Path) else list(css or [])

        class BenchConsole(base):  # type: ignore[misc, valid-type]
            # Textual resolves CSS_PATH beside the file defining the class: this one's.
            CSS_PATH = [str(here / p) for p in css_paths]

            def __init__(self, service: Any, *args: Any, **kwargs: Any) -> None:
                super().__init__(service, *args, **kwargs)
                self._bench_task: asyncio.Task[None] | None = None

            async def _start_scheduler(self) -> None:
                was_starting = self._starting
                await super()._start_scheduler()
                if was_starting and self._bench_task is None:
                    self._bench_task = asyncio.get_running_loop().create_task(self._bench())

            async def _bench(self) -> None:
                try:
                    result = await task(self)
                except Exception:
                    result = {"error": traceback.format_exc()}
                write(out, result)
                await self.action_quit()

        tui.app.JobConsoleApp = BenchConsole  # what cli.cmd_console imports
        return cli.main([])
    except BaseException:
        write(out, {"error": traceback.format_exc()})
        raise


def write(out: Path, result: Any) -> None:
    """Write ``out`` whole (the parent polls for it), then never again."""
    if out.exists():
        return
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(result))
    tmp.rename(out)
