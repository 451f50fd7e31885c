"""``shared_columns``, the table ``jobconsole list`` prints from rows that share their
tails, must print what ``columns`` prints of the same rows whole: widths, padding, the
last column cut to the width, control characters made visible, wide characters."""

from __future__ import annotations

import random

import pytest

from tui.plain_text import columns, shared_columns

HEADERS = ("id", "cron", "state", "next run (UTC)", "description")
CELLS = [
    "",
    " ",
    "x",
    "*/5 * * * *",
    "scheduled",
    "error: job 'x': bad",
    "12-01 17:00 (in 20m 0s)",
    "At 01:01 PM, on the last day of the month",
    "a description long enough to be cut at most widths " * 2,
    "trailing spaces   ",
    "naïve",
    "日本語の説明",
    "tab\there",
    "new\nline",
    "esc\x1b[2J",
]


def _case(rng: random.Random) -> tuple[list[str], list[int], list[tuple[str, ...]]]:
    tails = [tuple(rng.choice(CELLS) for _ in HEADERS[1:]) for _ in range(rng.randint(1, 6))]
    ids = [rng.choice(["job1", "a", "job_with_a_long_id", "jöb", " ", "x\ty"]) for _ in range(12)]
    which = [i % len(tails) for i in range(len(tails))]
    which += [rng.randrange(len(tails)) for _ in range(len(ids) - len(which))]
    rng.shuffle(which)
    return ids[: len(which)], which[: len(ids)], tails


@pytest.mark.parametrize("seed", range(300))
def test_shared_tails_print_as_the_whole_rows_do(seed: int) -> None:
    rng = random.Random(seed)
    ids, which, tails = _case(rng)
    ascii_only = seed % 2 == 0
    if ascii_only:  # half of them take the path nearly every listing takes
        tails = [tuple(c if c.isascii() and c.isprintable() else "ok" for c in t) for t in tails]
        ids = [i if i.isascii() and i.isprintable() else "id" for i in ids]
    rows = [(first, *tails[k]) for first, k in zip(ids, which, strict=True)]
    for width in (None, 20, 60, 80, 120, 400):
        assert shared_columns(HEADERS, ids, which, tails, width) == columns(HEADERS, rows, width)


def test_no_rows_print_the_headers_alone() -> None:
    assert shared_columns(HEADERS, [], [], [], None) == columns(HEADERS, [], None)
