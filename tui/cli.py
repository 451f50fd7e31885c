"""The ``jobconsole`` command.

Subcommands that only print (``cron``, ``list``, ``history``) never import Textual, so
they answer fast; the bare command opens the console. Bad input exits with status 2 and
one line on stderr naming the value and what is expected.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

EXIT_USAGE = 2
#: The commands that steer a running scheduler (``tui/steer.py``); ``run JOB`` too.
STEERING = ("status", "pause", "resume", "enable", "disable", "remove", "reschedule")
#: The first instant ``cron --after`` takes: a day past datetime's first, so that a fire
#: time's instant in any zone (offsets are under a day) is a datetime too.
_CALENDAR_START = datetime(1, 1, 2, tzinfo=UTC)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"jobconsole: error: {message}\n")


def _count(most: int) -> Callable[[str], int]:
    """A whole number from 1 to ``most``, for argparse."""

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
        if not 1 <= value <= most:
            raise argparse.ArgumentTypeError(f"{raw!r} must be from 1 to {most:,}")
        return value

    return parse


def _execution_id(raw: str) -> int:
    """An execution's number, as ``history`` prints it (``#12`` or ``12``)."""
    text = raw.removeprefix("#")
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) < 1:
        from tui.plain_text import visible

        raise argparse.ArgumentTypeError(
            f"{visible(repr(raw))} is not an execution number (the #N history prints, e.g. 12)"
        )
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="jobconsole",
        description="A terminal console for background cron jobs. "
        "With no command, opens the console.",
    )
    parser.add_argument(
        "--reset-state",
        action="store_true",
        help="move a broken state file aside (never deleted) and start with a new one; "
        "only a jobconsole state file or an unreadable SQLite file is moved",
    )
    _connect_option(parser, default=None)
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="attach to the running scheduler without the power to change anything",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p_cron = sub.add_parser(
        "cron",
        help="describe a cron expression and print its next fire times",
        description="Describe a standard 5-field cron expression (Sunday is 0 or 7) and "
        "print its next fire times, strictly after --after.",
    )
    p_cron.add_argument("expression", help='e.g. "0 9 * * 1-5" or @daily')
    p_cron.add_argument("--count", type=_count(1000), default=5, help="how many (default 5)")
    p_cron.add_argument(
        "--after",
        help="ISO-8601 start, e.g. 2026-11-29T00:00 (default now; naive means --tz local time)",
    )
    p_cron.add_argument("--tz", help="IANA time zone (default JOBCONSOLE_TIMEZONE or local)")

    sub.add_parser(
        "list",
        help="list the registered jobs",
        description="List the jobs from the registry and the state file, with their next run.",
    )

    p_run = sub.add_parser(
        "run",
        help="run the scheduler without the console (--headless), or run JOB now",
        description="With --headless: run the scheduler; print one line per execution "
        "event until Ctrl-C, SIGTERM or SIGHUP, then shut down gracefully. With JOB: ask "
        "the running scheduler to run that job now (its schedule is unchanged).",
    )
    p_run.add_argument("--headless", action="store_true", help="no console")
    p_run.add_argument("job_id", nargs="?", metavar="JOB", help="run this job now")
    _connect_option(p_run)

    p_status = sub.add_parser(
        "status",
        help="say whether a scheduler runs, and what it is",
        description="The running scheduler's pid, role, uptime, socket and job counts "
        "(exit 0), or a sentence saying none runs (exit 3).",
    )
    _connect_option(p_status)
    for verb, what in (
        ("pause", "pause a job: it does not run on schedule until resumed"),
        ("resume", "resume a paused job"),
        ("enable", "enable a disabled job: it runs on schedule again (kept across restarts)"),
        ("disable", "disable a job: listed, never run on schedule (kept across restarts)"),
        ("remove", "remove a job (a registry job stays removed until registered again)"),
    ):
        p_verb = sub.add_parser(verb, help=what, description=f"{what[0].upper()}{what[1:]}.")
        p_verb.add_argument("job_id", metavar="JOB")
        _connect_option(p_verb)
    p_resched = sub.add_parser(
        "reschedule",
        help="give a job another cron expression",
        description="Give a job another 5-field cron expression (kept across restarts).",
    )
    p_resched.add_argument("job_id", metavar="JOB")
    p_resched.add_argument("expression", metavar="EXPR", help='e.g. "*/5 * * * *"')
    _connect_option(p_resched)

    p_hist = sub.add_parser(
        "history",
        help="print recorded executions, newest first",
        description="Print executions from the state file: time, job, status, duration, "
        "first line of an error.",
    )
    p_hist.add_argument("job_id", nargs="?", help="only this job")
    p_hist.add_argument(
        "--limit", type=_count(1_000_000_000), default=20, help="how many (default 20)"
    )
    p_hist.add_argument("--failed", action="store_true", help="only failures")

    p_show = sub.add_parser(
        "show",
        help="print one execution whole: times, output and traceback",
        description="Print one recorded execution (its #N from history): job, status, "
        "times, lateness, warnings, the whole captured output and the traceback.",
    )
    p_show.add_argument("execution_id", type=_execution_id, help="the #N from history")
    return parser


def _connect_option(parser: argparse.ArgumentParser, default: object = argparse.SUPPRESS) -> None:
    # SUPPRESS on the commands, so that `jobconsole --connect S pause JOB` keeps S.
    parser.add_argument(
        "--connect",
        metavar="SOCKET",
        default=default,
        help="the control socket of a scheduler elsewhere (e.g. forwarded with ssh -L)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run" and args.headless == (args.job_id is not None):
        parser.error(
            "run: give --headless or a JOB, not both"
            if args.headless
            else "run: the following arguments are required: --headless (or a JOB to run now)"
        )
    if args.command == "run" and args.headless and args.connect is not None:
        parser.error("run --headless schedules here: --connect goes with 'run JOB'")
    try:
        if args.command in STEERING or (args.command == "run" and args.job_id is not None):
            from tui import steer

            return steer.main(args, _warn)
        if args.command == "cron":
            return cmd_cron(args)
        if args.command == "list":
            return cmd_list(args)
        if args.command == "history":
            return cmd_history(args)
        if args.command == "show":
            return cmd_show(args)
        if args.command == "run":
            return cmd_run(args)
        return cmd_console(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_gone()


def _reader_gone() -> int:
    """The reader of our output left (``jobconsole list | head -1``): end as a pipeline
    expects, quietly, with the status a shell gives a command SIGPIPE ended (128 + 13).
    Output still buffered is dropped rather than written into the closed pipe at exit."""
    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 141


def _fail(message: str) -> int:
    _warn(message)
    return EXIT_USAGE


def _warn(message: str, file: TextIO | None = None) -> None:
    """One line on stderr (or ``file``); what it quotes (a value, a path, an exception's
    text, a thread's name) is shown, never obeyed by the terminal."""
    from tui.plain_text import visible

    print(f"jobconsole: {visible(message)}", file=file or sys.stderr, flush=True)


def _settings():  # type: ignore[no-untyped-def]
    from jobs.core.settings import Settings

    return Settings.load()


def cmd_cron(args: argparse.Namespace) -> int:
    from jobs.core import cron
    from jobs.core.settings import SettingsError

    try:
        schedule = cron.parse(args.expression)
    except cron.CronError as exc:
        return _fail(str(exc))
    try:
        tz = cron.zone(args.tz) if args.tz is not None else cron.zone(_settings().tz_name)
    except cron.TimezoneError as exc:
        return _fail(f"--tz: {exc}")
    except SettingsError as exc:
        return _fail(str(exc))
    if args.after is not None:
        expected = "expected an ISO-8601 date-time such as 2026-11-29T00:00"
        if not args.after.strip():
            return _fail(f"--after {args.after!r} is empty; {expected}, or leave it out for now")
        try:
            after = datetime.fromisoformat(args.after)
        except ValueError:
            return _fail(
                f"--after {args.after!r} is not an ISO-8601 date-time; "
                "expected e.g. 2026-11-29T00:00 or 2026-11-29T00:00+01:00"
            )
        if after.tzinfo is None:
            after = after.replace(tzinfo=tz)
        # A day in, every zone's offset fits: before it, the first fire time's instant
        # may fall in the year 0, which datetime cannot hold.
        if after.timestamp() < _CALENDAR_START.timestamp():
            return _fail(
                f"--after {args.after!r} is too near the start of the calendar; "
                "expected a date-time from "
                f"{_CALENDAR_START.replace(tzinfo=None).isoformat(timespec='minutes')} UTC on"
            )
    else:
        after = datetime.now(tz)
    times = schedule.next_times(after, tz, args.count)
    if not times:
        return _fail(
            f"no fire time of {schedule.expression!r} after {after.isoformat()}: "
            "dates end with the year 9999"
        )
    print("\n".join([schedule.description, *(t.isoformat() for t in times)]))
    if len(times) < args.count:
        _warn(
            f"only {len(times)} of the {args.count} fire times asked for: "
            "dates end with the year 9999"
        )
    return 0


def _boot(  # type: ignore[no-untyped-def]
    durable: bool = True,
    read_only: bool = False,
    reset: bool = False,
    role: str = "library",
    at_start: bool = False,
    attach: bool = False,
    staged: bool = False,
):
    """Settings, state and registry, or a message for stderr. ``at_start``: the state file
    is opened by ``start()``, which waits while another process holds it. ``attach``
    raises ``StateLockedError`` when a live scheduler holds the state file, to attach to
    it. ``staged``: the registry is imported but its entries are loaded (and the state
    file merged) later, a step at a time (the console, after its first frame)."""
    from jobs.core.bootstrap import RegistryError, build_service
    from jobs.core.settings import SettingsError
    from jobs.core.store import StateError, StateLockedError, reset_state

    with _printed_here():
        try:
            settings = _settings()
            if reset and settings.state_path is not None:
                moved = reset_state(settings.state_path)
                if moved:
                    _warn(f"moved {settings.state_path} aside to {moved}")
            if read_only and not (settings.state_path and os.path.lexists(settings.state_path)):
                durable = False
            service = build_service(
                settings,
                durable=durable,
                read_only=read_only,
                role=role,
                at_start=at_start,
                staged=staged,
            )
            if not at_start and not staged:
                service.load_state()
            return service, None
        except StateLockedError as exc:
            if attach:
                raise
            return None, str(exc)
        except (SettingsError, RegistryError, StateError) as exc:
            return None, str(exc)


@contextlib.contextmanager
def _printed_here() -> Iterator[None]:
    """Callers print these errors themselves: keep logging's last resort from printing
    each one a second time (configured handlers still get the records)."""
    quiet = logging.NullHandler()
    logging.getLogger("jobconsole").addHandler(quiet)
    try:
        yield
    finally:
        logging.getLogger("jobconsole").removeHandler(quiet)


def cmd_list(args: argparse.Namespace) -> int:
    # As the console's start-up (cmd_console): objects per job, almost none freed, and the
    # process ends after one table; full collections walked them all, a third of the time.
    gc.disable()
    service, error = _boot(read_only=True, staged=True)
    if service is None:
        return _fail(error)
    with _printed_here():  # the entries' errors are printed below
        jobs = service.list_staged()
    for message in service.boot_errors:
        _warn(message)
    text = listing(service, datetime.now(service.tz), _output_width(), jobs)
    sys.stdout.write(text + "\n")
    _note_state_file(service.settings)
    service.close()
    _left_at_exit(sys.modules.get(service.settings.registry), jobs)
    return 0


def _left_at_exit(*held: object) -> None:
    """Leave ``held`` (the registry module's entries and what was listed of them) to
    the process's end instead of freeing it object by object at exit: 100,000 entries
    took 70 ms. Held in a cycle the collector is told to leave alone (``gc.freeze``), so
    exit runs as always (atexit handlers, threads, output flushed) but that finalizers
    of objects only these reach do not run, which Python does not promise at exit."""
    keep: list[object] = [getattr(item, "REGISTERED_JOBS", item) for item in held]
    keep.append(keep)
    gc.freeze()


def listing(service, now: datetime, width: int | None, jobs=None) -> str:  # type: ignore[no-untyped-def]
    """``jobconsole list``'s table for ``service``'s jobs at ``now`` (or ``jobs``, its
    ``list_staged()``), lines cut to ``width``.

    100,000 jobs have some 34,000 schedules: each next run is worked out and each
    description worded once, and both are kept between runs (``jobs.core.cron_cache``).
    """
    from jobs.core import cron, listing
    from jobs.core.records import JobState
    from tui import plain_text

    tz = service.tz
    fires = service.settings.background_jobs_enabled
    firing = (JobState.SCHEDULED, JobState.RUNNING)
    # A row is its id and one of a few tails (34,000 at 100,000 jobs), each made once.
    ids, which, kinds = jobs or listing.grouped(service.list_jobs())
    # The next runs, per zone, of each expression of a tail that fires.
    wanted: dict[object, dict[str, object]] = {}
    zone_was, in_zone = None, None
    for schedule, zone, state, _, _ in kinds:
        if fires and state in firing:
            if zone is not zone_was:
                zone_was, in_zone = zone, wanted.setdefault(zone, {})
            in_zone.setdefault(schedule.normalized, schedule)  # type: ignore[union-attr]
    texts: dict[datetime | None, str] = {None: ""}  # per fire time (an instant)
    cells: dict[object, dict[str, str]] = {}  # per zone, per expression
    for zone, schedules in wanted.items():
        known = cells[zone] = {}
        if zone.key in cron.UTC_NAMES:  # type: ignore[attr-defined]
            # Expressions that differ only in the minute share where cronsim starts.
            from jobs.core.first_fires import FirstFires

            first = FirstFires(now.timestamp(), ((n, zone) for n in schedules))
            found = first.of_all(schedules, zone)  # type: ignore[arg-type]
        else:
            found = cron.next_fires_kept(schedules.values(), zone, now)  # type: ignore[arg-type]
        for normalized, fire in zip(schedules, found, strict=True):
            when = texts.get(fire)  # schedules share fire times: 20,000 of 34,000
            if when is None:
                when = texts[fire] = _when(fire, tz, now)
            known[normalized] = when
    # The expressions shown in words, each worded once.
    unworded = list(dict.fromkeys(k.schedule.normalized for k in kinds if not k.description))
    said = dict(zip(unworded, cron.describe_all(unworded), strict=True))
    tails: list[tuple[str, ...]] = []
    for schedule, zone, state, error, description in kinds:
        normalized = schedule.normalized
        when = cells[zone][normalized] if fires and state in firing else ""
        if error:
            state = f"{state}: {error}"
        tails.append((schedule.expression, state, when, description or said[normalized]))
    headers = ("id", "cron", "state", f"next run ({tz.key})", "description")
    text = plain_text.shared_columns(headers, ids, which, tails, width)
    if service.disabled_reason:
        text += f"\n{service.disabled_reason}"
    return text


def _when(fire: datetime, tz, now: datetime) -> str:  # type: ignore[no-untyped-def]
    """``12-01 17:00 (in 20m 0s)``: as ``%m-%d %H:%M`` writes it, a third of strftime's time."""
    from tui.plain_text import countdown

    at = fire.astimezone(tz)
    return f"{at.month:02}-{at.day:02} {at.hour:02}:{at.minute:02} ({countdown(fire, now)})"


def _note_state_file(settings) -> None:  # type: ignore[no-untyped-def]
    """Say which state file ``list`` read, after the table, on stderr: a script reading
    the table on stdout gets the table alone."""
    path = settings.state_path
    if path is None:
        note = "none (JOBCONSOLE_STATE is empty): the registry's jobs only"
    elif not os.path.lexists(path):
        note = f"{path} (not created yet): the registry's jobs only"
    else:
        note = str(path)
    sys.stdout.flush()
    _warn(f"state file: {note}")


def _output_width() -> int | None:
    """The terminal's width; for a pipe, COLUMNS if set, else None (lines are not cut)."""
    import os
    import shutil

    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() else None


def cmd_history(args: argparse.Namespace) -> int:
    from jobs.core.settings import SettingsError
    from jobs.core.store import StateError, Store
    from tui import plain_text

    try:
        settings = _settings()
        if settings.state_path is None:
            print("no history: JOBCONSOLE_STATE is empty, so runs are not recorded")
            return 0
        if not os.path.lexists(settings.state_path):
            print(f"no history yet: {settings.state_path} does not exist")
            return 0
        store = Store.open(settings, read_only=True)
    except (SettingsError, StateError) as exc:
        return _fail(str(exc))
    try:
        executions = store.executions(job_id=args.job_id, limit=args.limit, failed_only=args.failed)
    finally:
        store.close()
    if not executions:
        which = f" for {args.job_id!r}" if args.job_id else ""
        print(f"no {'failed ' if args.failed else ''}executions recorded{which}")
        return 0
    from jobs.core.cron import zone

    tz = zone(settings.tz_name)
    print("\n".join(plain_text.execution_line(e, tz, with_id=True) for e in executions))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from jobs.core.cron import zone
    from jobs.core.settings import SettingsError
    from jobs.core.store import StateError, Store
    from tui import plain_text

    try:
        settings = _settings()
        if not os.path.lexists(settings.state_path):
            return _fail(f"no execution #{args.execution_id}: {settings.state_path} does not exist")
        store = Store.open(settings, read_only=True)
    except (SettingsError, StateError) as exc:
        return _fail(str(exc))
    try:
        execution = store.execution(args.execution_id)
    finally:
        store.close()
    if execution is None:
        return _fail(
            f"no execution #{args.execution_id} is recorded in {settings.state_path} "
            "(`jobconsole history` lists them; old ones are pruned)"
        )
    print(plain_text.execution_report(execution, zone(settings.tz_name)))
    return 0


def _keep_job_info_logs() -> None:
    """Jobs' ``log.info`` belongs in their captured output; Python's default root level
    (WARNING) would drop it. Only when nobody configured logging: their choice stands."""
    root = logging.getLogger()
    if not root.handlers and root.level == logging.WARNING:
        root.setLevel(logging.INFO)


def cmd_run(args: argparse.Namespace) -> int:
    _keep_job_info_logs()
    # As cmd_console: loading makes objects per job and frees almost none. The service
    # holds collections off again while it starts, and gives them back once it has.
    gc.disable()
    try:
        # The state file is opened by start(), which waits while another scheduler holds it.
        service, error = _boot(role="run --headless", at_start=True)
    finally:
        gc.enable()
    if service is None:
        return _fail(error)
    import asyncio

    with _private_stdio():
        code = asyncio.run(_run_headless(service))
        _exit_past_threads_left(code)
    return code


@contextlib.contextmanager
def _private_stdio() -> Iterator[None]:
    """The runner writes through duplicates of descriptors 1 and 2 taken now.

    A job may close 1 and 2; the next file anyone opens then gets those numbers, and the
    runner's event lines (and errors) would be written into it.
    """
    import os

    saved = sys.stdout, sys.stderr
    try:
        fds = [stream.fileno() for stream in saved]
    except (AttributeError, OSError, ValueError):  # not real files: nothing to protect
        yield
        return
    private = [
        open(  # noqa: SIM115 (closed on the way out)
            os.dup(fd), "w", encoding=stream.encoding, errors=stream.errors, buffering=1
        )
        for fd, stream in zip(fds, saved, strict=True)
    ]
    for stream in saved:
        stream.flush()
    active = True

    def drop_in_child() -> None:
        # A job's forked child that goes on without exec must not hold the runner's
        # output open (whoever reads it would wait for the child), nor write to it.
        if active:
            null = os.open(os.devnull, os.O_WRONLY)
            for stream in private:
                with contextlib.suppress(OSError, ValueError):
                    os.dup2(null, stream.fileno(), inheritable=False)
            os.close(null)

    os.register_at_fork(after_in_child=drop_in_child)
    sys.stdout, sys.stderr = private
    try:
        yield
    finally:
        active = False
        sys.stdout, sys.stderr = saved
        for stream in private:
            with contextlib.suppress(OSError):
                stream.close()


def _exit_past_threads_left(code: int) -> None:
    """A non-daemon thread a job started would hold the exit for as long as it runs:
    say so and exit anyway (shutdown has closed the state file, so nothing is lost)."""
    import os
    import threading

    left = [
        thread.name
        for thread in threading.enumerate()
        if thread is not threading.main_thread()
        and not thread.daemon
        and thread.is_alive()
        and not thread.name.endswith("(_do_shutdown)")  # asyncio's, waiting for the others
    ]
    if not left:
        return
    _warn(
        f"exiting without waiting for {len(left)} thread(s) a job left running: {', '.join(left)}"
    )
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


#: How long ``run --headless`` waits, once shut down, for the threads of asyncio.to_thread().
EXECUTOR_GRACE_SECONDS = 1.0


async def _run_headless(service) -> int:  # type: ignore[no-untyped-def]
    import asyncio

    from jobs.core.lifecycle import RunState
    from jobs.core.records import EventKind
    from jobs.core.store import StateError
    from tui import plain_text

    out, err = sys.stdout, sys.stderr
    for message in service.boot_errors:
        _warn(message)
    waiting = False

    def say_running() -> None:
        if service.disabled_reason:
            print(f"jobconsole: {service.disabled_reason}", file=out, flush=True)
        else:
            active = service.count_jobs(active=True)
            print(
                f"jobconsole: running {active} job(s) in {service.tz.key}; Ctrl-C to stop",
                file=out,
                flush=True,
            )

    def on_event(event) -> None:  # type: ignore[no-untyped-def]
        nonlocal waiting
        if waiting and service.run_state in (RunState.STARTING, RunState.STARTED):
            waiting = False  # the holder is gone: this process schedules now
            say_running()
        if event.details.get("standby"):
            return  # said below, in words of its own
        if event.kind in (EventKind.STATE_ERROR, EventKind.STATE_RECOVERED):
            _warn(event.message, err)
        else:
            print(plain_text.event_line(event, service.tz), file=out, flush=True)

    service.subscribe(on_event)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals_seen = 0

    def on_signal() -> None:
        nonlocal signals_seen
        signals_seen += 1
        if signals_seen > 1:
            print("jobconsole: forced exit", file=sys.stderr, flush=True)
            from tui.signals import force_exit

            force_exit()
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, on_signal)
    try:
        service.start()
    except StateError as exc:
        _warn(str(exc))
        return EXIT_USAGE
    standby = service.standby
    if standby is not None:
        waiting = True
        print(
            f"jobconsole: state file {standby.state_path} is in use by {standby.holder}; "
            "waiting to take over when it stops (Ctrl-C to stop)",
            file=out,
            flush=True,
        )
    else:
        say_running()
    await stop.wait()
    print("jobconsole: shutting down…", file=out, flush=True)
    task = service.shutdown()
    if task is not None:
        await task
    # asyncio.run would wait, for good, for an asyncio.to_thread() a job left running.
    executor = loop.create_task(loop.shutdown_default_executor())
    await asyncio.wait({executor}, timeout=EXECUTOR_GRACE_SECONDS)
    if not executor.done():
        _exit_past_threads_left(0)
    return 0


def _output_log(settings):  # type: ignore[no-untyped-def]
    """Where the console sends what jobs' children write: beside the state file, or beside
    the default one when there is none."""
    state = settings.state_path or type(settings)().state_path
    return state.with_name("console-output.log")


def cmd_console(args: argparse.Namespace) -> int:
    # Start-up allocates an object or more per job and frees almost nothing: collecting
    # meanwhile only walks them again and again. The app freezes what is alive and turns
    # the collector back on once the scheduler runs (tui/collector.py).
    gc.disable()
    _keep_job_info_logs()
    if args.connect is not None or args.read_only:
        return _console_attached(args)
    from jobs.core.store import StateLockedError

    for _ in range(3):  # a scheduler may come and go between the two tries
        try:
            service, error = _boot(
                reset=args.reset_state,
                role="console",
                attach=not args.reset_state,
                staged=True,
            )
            break
        except StateLockedError:
            code = _console_attached(args)
            if code is not None:
                return code
    else:
        return _fail("the state file was held and let go three times in a row; try again")
    if service is None:
        return _fail(error)
    from jobs.core.client import LocalClient
    from tui.app import JobConsoleApp
    from tui.preferences import FilePreferences
    from tui.terminal import own_terminal

    with own_terminal(_output_log(service.settings)):
        app = JobConsoleApp(LocalClient(service), manage_gc=True, preferences=FilePreferences())
        app.run()
    if app.preferences_problem:
        _warn(app.preferences_problem)
    return app.return_code or 0


def _console_attached(args: argparse.Namespace) -> int | None:
    """The console on the scheduler that holds the state file (or at ``--connect``).

    Returns None when, after all, nobody holds the state file: then this console hosts.
    """
    import asyncio

    from jobs.core.control.paths import ControlPathError, socket_path
    from jobs.core.settings import SettingsError
    from tui import attach
    from tui.terminal import own_terminal

    settings = None
    try:
        settings = _settings()
    except SettingsError as exc:
        if args.connect is None:
            return _fail(str(exc))
    if args.connect is not None:
        socket, state = Path(args.connect), None
    else:
        assert settings is not None
        try:
            socket, state = socket_path(settings.state_path), settings.state_path
        except ControlPathError as exc:
            return _fail(str(exc))
    host = attach.LocalHost(settings) if state is not None and not args.read_only else None

    async def console() -> int | None:
        from tui.app import JobConsoleApp
        from tui.preferences import FilePreferences

        try:
            client = await attach.connect(socket, read_only=args.read_only, state=state)
        except attach.NoHost as exc:
            _warn(str(exc))
            return attach.EXIT_NO_HOST
        if client is None:
            if args.read_only:
                assert state is not None
                _warn(f"{attach.no_host_running(state)}; --read-only only attaches")
                return attach.EXIT_NO_HOST
            return None
        # Jobs run here only if this console comes to host them: then their children's
        # output is added to the log beside the state file, never over the host's.
        output = state.with_name("console-output.log") if state else Path(os.devnull)
        with own_terminal(output, append=True):
            app = JobConsoleApp(
                client, manage_gc=True, host_here=host, preferences=FilePreferences()
            )
            await app.run_async()
        if app.preferences_problem:
            _warn(app.preferences_problem)
        return app.return_code or 0

    return asyncio.run(console())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
