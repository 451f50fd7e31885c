"""When Python's garbage collector may pause the console.

With 10,000 jobs the console holds a snapshot and a last execution per job. Start-up's
are frozen out of the collector's sight (``gc.freeze``), but each run replaces its job's
pair, and the new ones age into the oldest generation: after a while a full collection
walks hundreds of thousands of references, 30-60 ms during which no key is drawn. CPython
starts one whenever enough objects have aged, at any moment, a few times a minute under
load. Here the console chooses the moment instead: automatic full collections are off,
and the one-second tick runs one once nobody has touched a key for QUIET_SECONDS, at most
once every EVERY_SECONDS and never later than AT_MOST_SECONDS after the last. Young
collections, which take a millisecond or two, stay automatic.

Freezing again after each full collection would be cheaper still, but it leaks: Textual's
rendered strips refer to themselves, and a frozen cycle is never reclaimed.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

#: No key or mouse event for this long: a pause now goes unnoticed.
QUIET_SECONDS = 2.0
#: Full collections no more often than this: they only reclaim cycles, a few MB a minute.
EVERY_SECONDS = 60.0
#: ... and no less often, however busy the keyboard, so the cycles stay bounded.
AT_MOST_SECONDS = 300.0
#: A generation-2 threshold so high that CPython never starts a full collection itself.
NEVER = 1 << 30


class IdleCollector:
    """Owns the process's collector settings while the console runs (``start``/``stop``)."""

    def __init__(
        self,
        monotonic: Callable[[], float] = time.monotonic,
        collect: Callable[[], object] = gc.collect,
    ) -> None:
        self._monotonic = monotonic
        self._collect = collect
        self._saved: tuple[int, ...] | None = None
        self._last_input = self._last_full = monotonic()
        self.full_collections = 0

    def start(self) -> None:
        """Freeze what start-up built, turn the collector on, take over full collections."""
        gc.freeze()
        if self._saved is None:
            self._saved = gc.get_threshold()
            young, middle = self._saved[:2]
            gc.set_threshold(young, middle, NEVER)
        gc.enable()
        self._last_full = self._monotonic()

    def freeze(self) -> None:
        """Freeze again: for what was built after ``start`` and lives as long (the jobs
        handed to APScheduler in chunks)."""
        gc.freeze()

    def input_seen(self) -> None:
        self._last_input = self._monotonic()

    def tick(self) -> bool:
        """Run a full collection if now is the time; True if one ran."""
        if self._saved is None:
            return False
        now = self._monotonic()
        since_full = now - self._last_full
        quiet = now - self._last_input >= QUIET_SECONDS
        if since_full < EVERY_SECONDS or (not quiet and since_full < AT_MOST_SECONDS):
            return False
        self._collect()
        self._last_full = self._monotonic()
        self.full_collections += 1
        return True

    def stop(self) -> None:
        """Give CPython its thresholds back (the frozen objects stay frozen)."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None
