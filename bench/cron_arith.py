"""Next-fire-time arithmetic: jobs.core.cron vs croniter vs APScheduler's own CronTrigger.

Run as ``python bench/cron_arith.py``. For a few hundred seeded crontab expressions it
times one "next fire time after the previous one" computation, the call the scheduler
makes after every run:

  jobs.core.cron    CronTrigger(parse(expr), tz).get_next_fire_time(previous, now)
  croniter     croniter(expr, ...) built once; set_current(previous) + get_next()
  apscheduler  apscheduler CronTrigger.from_crontab(expr, tz).get_next_fire_time(previous, now)

Each expression is parsed once (outside the timing), then chained CHAIN times from a
fixed start, each library from its own previous result. Any result cache in jobs.core.cron
is emptied before each jobs.core.cron run, so that row times the arithmetic; the
"jobs.core.cron hot" row re-asks the same questions with the cache full (a cache hit, for
scale only). Every repeat runs the three
libraries back to back on the same inputs; the table gives the median and the min-max
over the repeats in microseconds per computation, and each median's ratio to jobs.core.cron's.
APScheduler's from_crontab numbers Monday 0 and ANDs the two day fields, so its times
differ from the other two: the "agree" column counts expressions whose chained times
equal jobs.core.cron's.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apscheduler.triggers.cron import CronTrigger as ApsCronTrigger
from croniter import croniter

import jobs.core.cron
from jobs.core.cron import CronError, parse, zone
from jobs.core.engine import CronTrigger

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
START = datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)


def _value(rng: random.Random, low: int, high: int, names: list[str] | None) -> str:
    value = rng.randint(low, high)
    if names and rng.random() < 0.3:
        return names[value % 7] if names is DAYS else names[value - 1]
    return str(value)


def _range(rng: random.Random, low: int, high: int) -> str:
    start = rng.randint(low, high - 1)
    return f"{start}-{rng.randint(start + 1, high)}"


def _field(rng: random.Random, low: int, high: int, names: list[str] | None = None) -> str:
    kind = rng.random()
    if kind < 0.35:
        return "*"
    if kind < 0.55:
        return _value(rng, low, high, names)
    if kind < 0.65:
        return _range(rng, low, high)
    if kind < 0.75:
        return f"*/{rng.randint(2, min(high - low + 1, 15))}"
    if kind < 0.85:
        return f"{_range(rng, low, high)}/{rng.randint(2, 5)}"
    count = rng.randint(2, 4)
    return ",".join(
        _range(rng, low, high) if rng.random() < 0.3 else _value(rng, low, high, names)
        for _ in range(count)
    )


def generate(seed: int, count: int) -> list[str]:
    """``count`` expressions that all three libraries accept (day-of-week kept to 0-6)."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < count:
        expr = " ".join(
            [
                _field(rng, 0, 59),
                _field(rng, 0, 23),
                _field(rng, 1, 31),
                _field(rng, 1, 12, MONTHS),
                _field(rng, 0, 6, DAYS),
            ]
        )
        try:
            parse(expr)
            ApsCronTrigger.from_crontab(expr, timezone="UTC")
            croniter(expr, START)
        except (CronError, ValueError):
            continue
        out.append(expr)
    return out


def _chain_trigger(triggers, start, chain):
    """APScheduler's call, for either trigger class: get_next_fire_time(previous, now)."""

    def run():
        out = []
        for trigger in triggers:
            prev = start
            for _ in range(chain):
                prev = trigger.get_next_fire_time(prev, prev)
            out.append(prev)
        return out

    return run


def _chain_croniter(iters, start, chain):
    def run():
        out = []
        for it in iters:
            prev = start
            for _ in range(chain):
                it.set_current(prev, force=True)
                prev = it.get_next(datetime)
            out.append(prev)
        return out

    return run


def _chains(fn_next, items, start, chain):
    """All chained times per expression, for the agreement column (untimed)."""
    result = []
    for item in items:
        prev, times = start, []
        for _ in range(chain):
            prev = fn_next(item, prev)
            times.append(prev)
        result.append(times)
    return result


def _clear_result_caches() -> None:
    """Empty any memo of results in jobs.core.cron (not parse's, which is outside the timing).

    jobs.core.cron may cache next-fire results by (expression, zone, previous time); the
    repeats here ask the same questions again, so without this every repeat after the
    first would time dictionary look-ups. The "jobs.core.cron hot" row keeps the cache.
    """
    for name, obj in vars(jobs.core.cron).items():
        if name != "parse" and callable(getattr(obj, "cache_clear", None)):
            obj.cache_clear()


def bench_zone(exprs: list[str], tz_name: str, chain: int, repeats: int) -> list[tuple]:
    tz = zone(tz_name)
    start = START.astimezone(tz)
    jobs_triggers = [CronTrigger(parse(e), tz) for e in exprs]
    # implement_cron_bug=True: croniter's switch for what Vixie/Debian cron really do
    # when a day field starts with '*' ("*/2"), as jobs.core.cron does; same schedule, same work.
    cron_iters = [croniter(e, start, implement_cron_bug=True) for e in exprs]
    aps_triggers = [ApsCronTrigger.from_crontab(e, timezone=tz) for e in exprs]
    jobs_run = _chain_trigger(jobs_triggers, start, chain)
    runners = {
        "jobs.core.cron": jobs_run,
        "jobs.core.cron hot": jobs_run,
        "croniter": _chain_croniter(cron_iters, start, chain),
        "apscheduler": _chain_trigger(aps_triggers, start, chain),
    }

    def croniter_next(it, prev):
        it.set_current(prev, force=True)
        return it.get_next(datetime)

    def trigger_next(trigger, prev):
        return trigger.get_next_fire_time(prev, prev)

    reference = _chains(trigger_next, jobs_triggers, start, chain)
    others = {
        "jobs.core.cron": reference,
        "croniter": _chains(croniter_next, cron_iters, start, chain),
        "apscheduler": _chains(trigger_next, aps_triggers, start, chain),
    }
    others["jobs.core.cron hot"] = reference
    agree = {
        name: sum(a == b for a, b in zip(reference, got, strict=True))
        for name, got in others.items()
    }

    for run in runners.values():  # warm up imports and code paths
        run()
    samples: dict[str, list[float]] = {name: [] for name in runners}
    calls = len(exprs) * chain
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            for name, run in runners.items():
                if name == "jobs.core.cron":
                    _clear_result_caches()  # time the arithmetic, not a cache lookup
                t0 = time.perf_counter()
                run()
                samples[name].append((time.perf_counter() - t0) / calls * 1e6)
    finally:
        if gc_was_enabled:
            gc.enable()

    base = statistics.median(samples["jobs.core.cron"])
    rows = []
    for name, values in samples.items():
        median = statistics.median(values)
        rows.append((tz_name, name, median, min(values), max(values), median / base, agree[name]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="expressions (default 300)")
    parser.add_argument("--chain", type=int, default=10, help="computations per expression")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1129)
    parser.add_argument("--zones", nargs="+", default=["UTC", "Europe/London"])
    parser.add_argument(
        "--quick", action="store_true", help="100 expressions, 3 repeats (as each bench has)"
    )
    args = parser.parse_args()
    if args.quick:
        args.count, args.repeats = min(args.count, 100), min(args.repeats, 3)

    began = time.perf_counter()
    exprs = generate(args.seed, args.count)
    print(
        f"{len(exprs)} expressions (seed {args.seed}) x {args.chain} chained next-fire "
        f"computations, {args.repeats} repeats; Python {sys.version.split()[0]}"
    )
    header = (
        f"{'zone':<14} {'library':<12} {'median us':>10} {'min-max us':>17} "
        f"{'x jobs.core.cron':>11} {'agree':>9}"
    )
    print(header)
    print("-" * len(header))
    for tz_name in args.zones:
        for tz_label, name, median, low, high, ratio, agree in bench_zone(
            exprs, tz_name, args.chain, args.repeats
        ):
            spread = f"{low:.1f}-{high:.1f}"
            print(
                f"{tz_label:<14} {name:<12} {median:>10.1f} {spread:>17} "
                f"{ratio:>11.2f} {agree:>5}/{len(exprs)}"
            )
    print(f"total {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
