"""Plain-text renderings of values (durations, countdowns, clocks, listings, user text made
visible), shared by the CLI and the widgets; no Textual here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, tzinfo
from itertools import repeat

from jobs.core.records import Execution, ExecutionStatus, SchedulerEvent

# C0 controls, DEL, C1 controls (ESC and CSI start terminal sequences; CR and BS overwrite
# what is shown; NEL, LS and PS break lines), the bidirectional embeddings, overrides,
# isolates and marks (they reorder what follows), and lone surrogates (no terminal can
# be sent them).
_BIDI_AND_BREAKS = r"\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE_IN_LINE = re.compile(rf"[\x00-\x1f\x7f-\x9f{_BIDI_AND_BREAKS}]")
_UNSAFE_IN_BLOCK = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI_AND_BREAKS}]")  # keeps \t \n


def _escape(match: re.Match[str]) -> str:
    return repr(match.group())[1:-1]


def visible(text: str, *, lines: bool = False) -> str:
    """``text`` with every character that a terminal would act on written out as Python
    writes it in a string literal: ESC as ``\\x1b``, CR as ``\\r``, U+202E as ``\\u202e``.

    Ids, descriptions, errors and captured output come from users and jobs: printed raw,
    they could clear the screen, set the window title, write the clipboard (OSC 52),
    overwrite a line with CR or forge rows with a newline. ``lines`` keeps newlines and
    tabs, for views that show many lines (captured output, tracebacks); one-line fields
    escape them too. Text without such a character (nearly all) is returned as it is,
    after one regex search: the table and the log call this for every cell they draw.
    """
    pattern = _UNSAFE_IN_BLOCK if lines else _UNSAFE_IN_LINE
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escape, text)


def duration(seconds: float | None) -> str:
    """``0.42s``, ``12.3s``, ``4m 12s``, ``2h 5m``; empty for None."""
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    return span(seconds)


def span(seconds: float) -> str:
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def countdown(when: datetime | None, now: datetime) -> str:
    """``in 4m 12s``, ``now`` or empty."""
    if when is None:
        return ""
    seconds = (when - now).total_seconds()
    if seconds < 0.5:
        return "now"
    return f"in {span(seconds)}"


def clock(when: datetime | None, tz: tzinfo | None = None) -> str:
    if when is None:
        return ""
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def short_clock(when: datetime | None, tz: tzinfo | None = None) -> str:
    if when is None:
        return ""
    return when.astimezone(tz).strftime("%H:%M:%S")


def execution_line(
    execution: Execution, tz: tzinfo | None = None, *, ended: bool = False, with_id: bool = False
) -> str:
    """One line: time, job, status, duration and the first line of an error, with
    control characters made visible (see `visible`). ``with_id`` puts ``#N`` first, the
    handle ``jobconsole show N`` takes.

    The time is when the execution started (when it was due, for one that never started):
    history lists executions in start order, and start plus duration says when each
    ended. ``ended`` prints the end time instead, for lines printed as executions end.
    """
    if ended:
        when = execution.ended_at or execution.started_at or execution.scheduled_time
    else:
        when = execution.started_at or execution.scheduled_time
    parts = [clock(when, tz), execution.job_id, str(execution.status)]
    if with_id:
        parts.insert(0, f"#{execution.id}")
    if execution.status is not ExecutionStatus.RUNNING and execution.duration is not None:
        parts.append(duration(execution.duration))
    if execution.error_line:
        parts.append(execution.error_line)
    for warning in execution.warnings:
        parts.append(f"warning: {warning}")
    return visible("  ".join(part for part in parts if part))


def execution_report(execution: Execution, tz: tzinfo | None = None) -> str:
    """One execution whole, as ``jobconsole show`` prints it and the output view hands to a
    pager: what ran and when, then its warnings, output and traceback, all made visible."""
    e = execution
    facts = [
        ("job", e.job_id),
        ("status", str(e.status) + (f" ({e.trigger})" if e.trigger != "schedule" else "")),
        ("scheduled", clock(e.scheduled_time, tz)),
        ("started", clock(e.started_at, tz)),
        ("ended", clock(e.ended_at, tz)),
        ("took", duration(e.duration)),
        ("late", duration(e.lateness) if e.lateness is not None and e.lateness > 0 else ""),
        ("error", e.error or ""),
    ]
    lines = [f"execution #{e.id}"]
    lines += [f"  {name:<10}{visible(value)}" for name, value in facts if value]
    lines += [f"  warning   {visible(w)}" for w in e.warnings]
    if e.output:
        cut = "  (cut at the capture limit)" if e.output_truncated else ""
        lines += ["", f"output{cut}:", visible(e.output.rstrip("\n"), lines=True)]
    else:
        lines += ["", "no output"]
    if e.traceback:
        lines += ["", visible(e.traceback.rstrip("\n"), lines=True)]
    return "\n".join(lines)


def event_line(event: SchedulerEvent, tz: tzinfo | None = None) -> str:
    if event.execution is not None:
        # Printed as it happens: a finished execution at its end, so times only go forward.
        return execution_line(event.execution, tz, ended=True)
    subject = f"{event.job_id}  " if event.job_id else ""
    detail = f"  {event.message}" if event.message else ""
    return visible(f"{clock(event.at, tz)}  {subject}{event.kind}{detail}")


def _ascii_cell_size(text: str, width: int) -> str:
    return text[:width].ljust(width)


def _ascii_columns(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int | None) -> str:
    """``columns`` of printable ASCII only (nearly every listing), a character per cell:
    padded a column at a time, 100,000 rows in ~0.15 s."""
    table = list(zip(headers, *rows, strict=False))
    widths = [max(map(len, column)) for column in table[:-1]]
    padded = [[cell.ljust(w) for cell in column] for column, w in zip(table, widths, strict=False)]
    last = table[-1]
    room = None if width is None else max(width - sum(widths) - 2 * len(widths), 10)
    if room is not None and max(map(len, last)) > room:
        last = tuple(cell if len(cell) <= room else cell[: room - 1] + "…" for cell in last)
    padded.append(last)
    return "\n".join([line.rstrip() for line in map("  ".join, zip(*padded, strict=True))])


def columns(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int | None) -> str:
    """Rows under their headers, aligned, two spaces apart, like ``ps`` or ``kubectl get``.

    Plain text rather than a Rich table: it greps and pipes cleanly, and importing Rich's
    console and table would add ~40 ms to ``jobconsole list``. The last column gives way:
    it is cut with an ellipsis to fit ``width`` terminal cells (never below 10), or never
    cut when None. Control characters in a cell are made visible: a newline or CR in a
    description must not forge a row.
    """
    everything = " ".join(" ".join(row) for row in rows)
    if everything.isascii() and everything.isprintable():  # no control character either
        return _ascii_columns(headers, rows, width)
    table = [list(headers), *([visible(cell) for cell in row] for row in rows)]
    # Printable ASCII (nearly every cell, and all that visible() makes of control
    # characters) is a cell per character: len() and ljust() are exact, and much faster.
    if all(cell.isascii() for row in table for cell in row):
        cell_len, set_cell_size = len, _ascii_cell_size
    else:
        from rich.cells import cell_len, set_cell_size
    widths = [max(cell_len(row[i]) for row in table) for i in range(len(headers) - 1)]
    used = sum(widths) + 2 * len(widths)
    room = None if width is None else max(width - used, 10)
    lines = []
    for row in table:
        cells = [set_cell_size(text, w) for text, w in zip(row, widths, strict=False)]
        last = row[-1]
        if room is not None and cell_len(last) > room:
            last = set_cell_size(last, room - 1) + "…"
        lines.append("  ".join([*cells, last]).rstrip())
    return "\n".join(lines)


def shared_columns(
    headers: Sequence[str],
    firsts: Sequence[str],
    which: Sequence[int],
    tails: Sequence[Sequence[str]],
    width: int | None,
) -> str:
    """``columns(headers, rows, width)`` for rows made of a cell of their own and one of
    a few tails of cells they share: row ``i`` is ``firsts[i]`` then ``tails[which[i]]``
    (each tail used by some row). 100,000 jobs listed have some 34,000 distinct tails,
    each measured, padded and cut once here; a row then costs one padding and one join.
    """
    everything = " ".join(firsts) + " " + " ".join(" ".join(tail) for tail in tails)
    if not firsts or len(headers) < 2 or not (everything.isascii() and everything.isprintable()):
        return columns(headers, [(f, *tails[k]) for f, k in zip(firsts, which, strict=True)], width)
    # As _ascii_columns, a character per cell.
    rest = list(zip(headers[1:], *tails, strict=True))
    widths = [max(len(headers[0]), max(map(len, firsts)))]
    widths += [max(map(len, column)) for column in rest[:-1]]
    room = None if width is None else max(width - sum(widths) - 2 * len(widths), 10)
    last = rest[-1]
    if room is not None and max(map(len, last)) > room:
        last = tuple(cell if len(cell) <= room else cell[: room - 1] + "…" for cell in last)
    # "{:<12}  {:<9}  {}": each tail padded by one call. A tail that rstrip() leaves
    # empty leaves its row the first cell alone, rstripped as the whole line would be.
    line = "".join(f"{{:<{w}}}  " for w in widths[1:]) + "{}"
    after = [
        f"  {text}" if (text := line.format(*cells).rstrip()) else ""
        for cells in zip(*rest[:-1], last, strict=True)
    ]
    header, after = after[0], after[1:]
    first_width = widths[0]
    head = headers[0].ljust(first_width) + header if header else headers[0].rstrip()
    if all(after):  # each row its first cell padded and its tail: one C loop
        rows = map(
            str.__add__, map(str.ljust, firsts, repeat(first_width)), map(after.__getitem__, which)
        )
        return "\n".join([head, *rows])
    return "\n".join(
        [
            head,
            *[
                first.ljust(first_width) + tail if (tail := after[k]) else first.rstrip()
                for first, k in zip(firsts, which, strict=True)
            ],
        ]
    )
