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


def undecodable_name() -> None:
    """What a job gets for a file name that is not UTF-8: ``os.fsdecode`` gives a lone
    surrogate, which SQLite's UTF-8 cannot hold."""
    import os

    name = os.fsdecode(b"report-\xff.csv")
    print(f"found {name}")
    raise FileNotFoundError(f"cannot read {name}")


def big_output() -> None:
    """Enough output to need new pages in the state file."""
    print("x" * 60_000)
