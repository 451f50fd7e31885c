"""Where a SchedulerService stands in its life: one value, not a set of flags that could
disagree.

``CREATED``: built; jobs are registered, a change may load the state first, nothing fires.
``STARTING``: ``start()`` ran; jobs are handed to APScheduler a chunk per loop iteration and
those handed over already fire. A state of its own because ``SCHEDULER_STARTED`` is only
announced at its end, and a ``shutdown()`` now must stop the hand-over too.
``STANDBY``: ``start()`` found the state file held by another live process, which schedules
from it; this one fires nothing and tries the hold again about every second, and when it
gets it (the other process exited or died) goes on to ``STARTING``, catching up by the
state file's rules. Not active: nothing here may act as if it scheduled.
``STARTED``: every job is scheduled (or scheduling is off by the settings).
``STOPPING``: ``shutdown()`` ran; nothing fires any more, running jobs get their grace.
``STOPPED``: drained and the store closed. A service on a store that can be used again
(memory) may start again; one on a closed state file cannot.
"""

from __future__ import annotations

from enum import StrEnum


class RunState(StrEnum):
    CREATED = "created"
    STANDBY = "standby"
    STARTING = "starting"
    STARTED = "started"
    STOPPING = "stopping"
    STOPPED = "stopped"

    @property
    def active(self) -> bool:
        """``start()`` was called and the shutdown has not finished: jobs registered now
        come from the console, and changes need no loading first."""
        return self in _ACTIVE

    @property
    def firing(self) -> bool:
        """Due jobs run: started (or starting) and not stopping."""
        return self in _FIRING


_ACTIVE = frozenset({RunState.STARTING, RunState.STARTED, RunState.STOPPING})
_FIRING = frozenset({RunState.STARTING, RunState.STARTED})


class CollectorHold:
    """Python's cyclic garbage collector held off while a start builds what lives on.

    A start at 100,000 jobs makes an object or more per job and frees almost none; the
    collections it set off walked them again and again, a quarter of ``start()``'s CPU.
    Held only if the collector was on (the console turns it off for its own start and
    manages it after, ``tui/collector.py``), and given back when the start ends, however
    it ends; the cycles made meanwhile are collected then as usual.
    """

    def __init__(self) -> None:
        self._held = False

    def hold(self) -> None:
        import gc

        if not self._held and gc.isenabled():
            gc.disable()
            self._held = True

    def release(self) -> None:
        if self._held:
            import gc

            self._held = False
            gc.enable()
