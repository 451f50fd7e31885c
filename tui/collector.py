"""When Python's garbage collector may pause the console: in a pause of the keyboard.

With 10,000 jobs the console holds a snapshot and a last run per job. Start-up's are
frozen out of the collector's sight (``gc.freeze``), but each run replaces its job's pair,
and the new ones age into the oldest generation: a full collection then walks hundreds of
thousands of references, 40-150 ms during which no key is drawn. CPython
starts one whenever enough objects have aged, at any moment, several times a minute under
load, and now and then a key press waited for it.

Here automatic full collections are off and the console runs them itself, as often as
CPython would but at most once every EVERY_SECONDS, and only once no key or mouse event
has come for GAP_SECONDS: the last key's frame is long drawn (p99 about 30 ms), and a
pause that long in typing is seldom followed by a key within the collection's 50-150 ms.
Steady typing, or a key held down, leaves no such pause; after AT_MOST_SECONDS the
collection runs anyway. Nor does one run in the second either side of a whole minute,
when cron jobs fall due and start. Young collections, a millisecond or two, stay
automatic.

Freezing again after each full collection would make them cheaper still, but it leaks:
Textual's rendered strips refer to themselves, and a frozen cycle is never reclaimed.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

#: Full collections no more often than this: each walks every live object once more.
EVERY_SECONDS = 15.0
#: No input for this long: a pause in typing, not the time between two keys of a word.
GAP_SECONDS = 0.25
#: However busy the keyboard, the cycles left for a full collection stay bounded.
AT_MOST_SECONDS = 60.0
#: Seconds either side of a whole minute kept clear: cron jobs start then.
MINUTE_MARGIN_SECONDS = 1.0
#: A generation-2 threshold so high that CPython never starts a full collection itself.
NEVER = 1 << 30

Schedule = Callable[[float, Callable[[], object]], object]


class IdleCollector:
    """Owns the process's collector settings while the console runs (``start``/``stop``).

    ``schedule(delay, callback)`` is the app's timer: it looks again once a busy keyboard
    may have paused. ``check`` is called by the app's one-second tick.
    """

    def __init__(
        self,
        schedule: Schedule,
        monotonic: Callable[[], float] = time.monotonic,
        collect: Callable[[], object] = gc.collect,
        aged: Callable[[], int] = lambda: gc.get_count()[2],
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._schedule = schedule
        self._monotonic = monotonic
        self._wall = wall
        self._collect = collect
        self._aged = aged
        self._saved: tuple[int, ...] | None = None
        self._last_input = self._last_full = monotonic()
        self._waiting = False

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
        """Freeze again, for what was built after ``start`` and lives as long (the jobs
        handed to APScheduler in chunks)."""
        gc.freeze()

    def input_seen(self) -> None:
        self._last_input = self._monotonic()

    def check(self) -> bool:
        """Run a full collection if one is due and the keyboard has paused; True if it ran."""
        if self._saved is None or self._waiting:
            return False
        now = self._monotonic()
        since_full = now - self._last_full
        # CPython's own rule for a full collection: enough younger ones since the last.
        if since_full < EVERY_SECONDS or self._aged() < self._saved[2]:
            return False
        into_minute = self._wall() % 60
        if not MINUTE_MARGIN_SECONDS <= into_minute < 60 - MINUTE_MARGIN_SECONDS:
            return False  # the tick after the minute's first second looks again
        wait = self._last_input + GAP_SECONDS - now
        if wait > 0 and since_full < AT_MOST_SECONDS:
            self._waiting = True
            self._schedule(wait, self._look_again)
            return False
        self._collect()
        self._last_full = self._monotonic()
        return True

    def _look_again(self) -> None:
        self._waiting = False
        self.check()

    def stop(self) -> None:
        """Give CPython its thresholds back (the frozen objects stay frozen)."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None
