"""Shared fixtures: real SchedulerServices on a temporary state path, shut down afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from jobs.core.service import SchedulerService
from jobs.core.settings import Settings
from jobs.core.store import Store

ServiceFactory = Callable[..., SchedulerService]


@pytest.fixture(autouse=True, scope="session")
def _own_config_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Consoles started by the tests (they inherit the environment) remember their theme
    and sort in a folder of the run's own, never in the user's ~/.config."""
    import os

    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))


@pytest.fixture(autouse=True, scope="session")
def _own_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Descriptions and next fire times kept between runs (``jobs.core.cron_cache``) go to
    a folder of the run's own, for this process and the ones it starts."""
    import os

    from jobs.core import cron_cache

    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    cron_cache.forget()


async def _services(tmp_path: Path, *, durable: bool) -> AsyncIterator[ServiceFactory]:
    """Makes UTC services on ``tmp_path/state.sqlite3`` (opened only if ``durable``);
    shuts each down at the end, and closes a durable one's state file for the next."""
    made: list[SchedulerService] = []

    def make(clock: Callable[[], datetime] | None = None, **settings: Any) -> SchedulerService:
        values: dict[str, Any] = {"timezone": "UTC", "state_path": tmp_path / "state.sqlite3"}
        values.update(settings)
        config = Settings(**values)
        store = Store.open(config) if durable else None
        service = SchedulerService(config, store=store, clock=clock)
        made.append(service)
        return service

    yield make
    for service in made:
        task = service.shutdown(timeout=0)
        if task is not None:
            await task
        if durable:
            service.close()


@pytest.fixture
async def service_factory(tmp_path: Path) -> AsyncIterator[ServiceFactory]:
    """``service_factory(clock=None, **settings)``: a service in UTC without durable state.

    Settings keywords override the defaults (e.g. ``background_jobs_enabled=False``).
    Every service made is shut down at the end of the test, so no scheduler, job task or
    output capture outlives it.
    """
    async for make in _services(tmp_path, durable=False):
        yield make


@pytest.fixture
def service(service_factory: ServiceFactory) -> SchedulerService:
    """A service with default settings (scheduling on, UTC, no state file)."""
    return service_factory()


@pytest.fixture
def make(service_factory: ServiceFactory) -> ServiceFactory:
    """``make(**settings)``: a UTC service without a state file, shut down after the test."""
    return service_factory


@pytest.fixture
async def durable(tmp_path: Path) -> AsyncIterator[ServiceFactory]:
    """``durable(clock=None, **settings)``: a UTC service on ``tmp_path/state.sqlite3``.

    Each is shut down at the end (or, if never started, its state file closed), so the
    next one can open the file.
    """
    async for make in _services(tmp_path, durable=True):
        yield make
