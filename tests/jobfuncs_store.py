"""Module-level job functions for the durable-state tests.

They live in a module of their own so that they have a ``module:function`` reference the
state file can store and a restarted service (or a subprocess) can import again.
"""

from __future__ import annotations

import time


def ok() -> None:
    print("hello from ok")


def boom() -> None:
    print("about to fail")
    raise ValueError("boom line one\nsecond line")


def sleep_long() -> None:
    """Runs far longer than any test; the crash test kills its process meanwhile."""
    print("sleeping")
    time.sleep(120)
