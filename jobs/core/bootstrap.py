"""From settings to a ready SchedulerService: the registry imported and its jobs loaded.

Shared by the console, ``run --headless`` and ``list``, so all three see the same jobs.
"""

from __future__ import annotations

from jobs.core.registry_loader import RegistryError, load_registry_entries
from jobs.core.service import SchedulerService
from jobs.core.settings import Settings

__all__ = ["RegistryError", "build_service", "load_registry_entries"]


def build_service(
    settings: Settings | None = None,
    *,
    durable: bool = True,
    read_only: bool = False,
    role: str = "library",
    at_start: bool = False,
    staged: bool = False,
) -> SchedulerService:
    """A service with the registry's jobs registered; boot errors are in ``boot_errors``.

    ``durable`` opens the state file (locked for this process unless ``read_only``), now,
    or with ``at_start`` when the service starts, standing by while another process
    holds it. An empty ``JOBCONSOLE_STATE`` (``state_path`` None) means no state file.
    ``staged``: the registry is imported, its entries loaded later, a step at a time
    (``SchedulerService.stage_registry``).
    """
    settings = settings or Settings.load()
    store = None
    durable = durable and settings.state_path is not None
    if durable and not at_start:
        from jobs.core.store import Store

        store = Store.open(settings, read_only=read_only, role=None if read_only else role)
    service = SchedulerService(settings, store=store, role=role, durable=durable and at_start)
    entries = load_registry_entries(settings.registry)
    if staged:
        service.stage_registry(entries)
    else:
        service.load_registry(entries)
    return service
