"""The state file's size per 1,000,000 executions, and what pruning gives back.

Run as ``python bench/prune_space.py`` (``--rows N``, ``--keep DIR`` to reuse the built
file, ``--old`` to switch the copy's incremental vacuum off first, as a file made before
it was).

The file is built as ``bench/history.py`` builds it (the real schema, then rows in bulk:
the example jobs and 200 retired ones, 4% failures with tracebacks, short outputs). Then a
copy is opened by a scheduler with the default retention (100,000 rows), which prunes it
at start in its writer thread and gives the space back; the figures are the file's size
(with its write-ahead log) before and after, how long the writer took, and the longest
stall of the event loop meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import sys
import time
from pathlib import Path

from _common import table, temp_dir
from history import build, prune_cost


def on_disk(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the file in this folder")
    parser.add_argument("--old", action="store_true", help="measure a file without vacuum")
    args = parser.parse_args()
    with temp_dir() as tmp:
        folder = args.keep or tmp
        folder.mkdir(parents=True, exist_ok=True)
        big = folder / f"big-{args.rows}.sqlite3"
        if not big.exists():
            print(f"building {big} with {args.rows:,} executions...")
            print(f"  built in {build(big, args.rows):.1f} s")
        copy = folder / "prune-space-copy.sqlite3"
        shutil.copy(big, copy)
        if args.old:
            conn = sqlite3.connect(copy, isolation_level=None)
            conn.execute("PRAGMA auto_vacuum = NONE")
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
        before = on_disk(copy)
        began = time.perf_counter()
        took, stall = asyncio.run(prune_cost(copy))
        after = on_disk(copy)
        conn = sqlite3.connect(copy)
        kept = conn.execute("SELECT COUNT(*) FROM executions").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.close()
        total = time.perf_counter() - began
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(str(copy) + suffix).unlink(missing_ok=True)
    mb = 2**20
    rows = [
        [f"{args.rows:,} executions", f"{before / mb:.0f} MiB", f"{before / args.rows:.0f} B"],
        [
            f"pruned to {kept:,} (default retention)",
            f"{after / mb:.0f} MiB",
            f"{after / max(kept, 1):.0f} B; {free:,} of {pages:,} pages free",
        ],
        [
            "writer's prune and vacuum",
            f"{took:.1f} s",
            f"event loop's longest stall {stall * 1000:.0f} ms",
        ],
        ["the whole scheduler run", f"{total:.1f} s", ""],
    ]
    print()
    print(table(rows, ["state file", "size / time", "per execution / note"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
