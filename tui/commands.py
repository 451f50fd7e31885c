"""The command palette's providers: the console's actions by name, read from its bindings,
and its jobs by id, to jump to one."""

from __future__ import annotations

from functools import partial
from typing import Protocol

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from tui.plain_text import visible


class HasPaletteCommands(Protocol):
    def palette_commands(self) -> list[tuple[str, str, str]]: ...


class HasJobs(Protocol):
    def all_job_ids(self) -> list[str]: ...

    def jump_to(self, job_id: str) -> None: ...


class JobCommands(Provider):
    """Every console key's action by name; the app lists them (``palette_commands``) from
    its BINDINGS, so the palette, the footer and the help never disagree."""

    def _commands(self) -> list[tuple[str, str, str]]:
        app = self.app
        assert hasattr(app, "palette_commands")
        source: HasPaletteCommands = app  # type: ignore[assignment]
        return source.palette_commands()

    async def discover(self) -> Hits:
        for name, help_text, action in self._commands():
            yield DiscoveryHit(name, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(name),
                    partial(self.app.run_action, action),
                    help=help_text,
                )


class JobJumps(Provider):
    """ "Go to JOB" for each job whose id holds what was typed: the ones that match best
    first, at most ``MOST``. A substring test picks them before the fuzzy score is taken,
    so 10,000 jobs cost a string search each, not a score each."""

    MOST = 20
    SCORED = 500

    async def search(self, query: str) -> Hits:
        needle = query.strip().lower()
        if not needle:
            return
        source: HasJobs = self.app  # type: ignore[assignment]
        found = [job_id for job_id in source.all_job_ids() if needle in job_id.lower()]
        matcher = self.matcher(query.strip())
        scored = sorted(
            ((matcher.match(job_id) or 0.01, job_id) for job_id in found[: self.SCORED]),
            key=lambda pair: (-pair[0], pair[1]),
        )
        for score, job_id in scored[: self.MOST]:
            yield Hit(
                score,
                Content.assemble("Go to ", matcher.highlight(visible(job_id))),
                partial(source.jump_to, job_id),
                text=f"Go to {job_id}",
                help="select the job in the table",
            )
