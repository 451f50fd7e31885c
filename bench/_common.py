"""Shared helpers for the benchmarks: statistics, tmux timing, process CPU and memory.

Not a benchmark itself. Every script in bench/ puts the repository root on sys.path, so
``bench.registry_10k`` and ``bench.jobfuncs`` import from a checkout without installing.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
JOBCONSOLE = str(Path(sys.executable).with_name("jobconsole"))

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: The terminal every benchmark draws into.
COLUMNS, LINES = 120, 35
#: A tmux server of our own (per benchmark process, inherited by its children), so the
#: user's sessions are never touched and two benchmarks never share one.
os.environ.setdefault("JOBCONSOLE_BENCH_TMUX", f"jobconsole-bench-{os.getpid()}")
TMUX = ("tmux", "-L", os.environ["JOBCONSOLE_BENCH_TMUX"])


# ----------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Summary:
    """Median and spread of a list of samples (in the samples' unit)."""

    n: int
    median: float
    low: float
    high: float
    p99: float
    mean: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> Summary:
        values = sorted(samples)
        if not values:
            nan = float("nan")
            return cls(0, nan, nan, nan, nan, nan)
        return cls(
            n=len(values),
            median=statistics.median(values),
            low=values[0],
            high=values[-1],
            p99=percentile(values, 99),
            mean=statistics.fmean(values),
        )

    def spread(self, unit: str = "ms", scale: float = 1000.0, digits: int = 1) -> str:
        return (
            f"{self.median * scale:.{digits}f} {unit} "
            f"(min {self.low * scale:.{digits}f}, max {self.high * scale:.{digits}f}, n={self.n})"
        )


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (no interpolation: p99 of 200 samples is the 198th)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil
    return ordered[int(rank) - 1]


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline else float("nan")


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """A plain text table (also valid Markdown), for the figures each script prints."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(header), "| " + " | ".join("-" * w for w in widths) + " |"]
    out += [line(r) for r in rows]
    return "\n".join(out)


# ------------------------------------------------------------------ processes


def bench_env(state: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment for a child: this checkout importable, a private state file."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p
    ).rstrip(os.pathsep)
    env.pop("PYTHONSTARTUP", None)
    # Compiled bytecode is cached as for any installed program (this workplace's shell
    # sets PYTHONDONTWRITEBYTECODE, which would recompile jobs/ and tui/ at every launch).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if state is not None:
        env["JOBCONSOLE_STATE"] = str(state)
    env.update(extra)
    return env


@contextlib.contextmanager
def temp_dir(prefix: str = "jobconsole-bench-") -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of a process (all its threads) from /proc."""
    path = f"/proc/{pid or 'self'}/stat"
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def rss_mb(pid: int | None = None) -> float:
    """Resident set size in MiB, from /proc."""
    with open(f"/proc/{pid or 'self'}/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def wall(cmd: Sequence[str], env: dict[str, str], cwd: Path) -> float:
    """Seconds from spawning ``cmd`` to its exit (which must be 0)."""
    start = time.perf_counter()
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(cmd)} exited {result.returncode}: {result.stderr.strip()[-800:]}"
        )
    return elapsed


# ----------------------------------------------------------------------- tmux

_names = itertools.count(1)


def tmux(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TMUX, *args], capture_output=True, text=True, check=check)


def tmux_server_up() -> None:
    """Start the private tmux server once, with a session that keeps it alive, so each
    measurement starts a session on a warm server (as a user's terminal would be)."""
    if tmux("has-session", "-t", "keepalive", check=False).returncode != 0:
        tmux("new-session", "-d", "-s", "keepalive", "-x", "80", "-y", "24", "sleep 100000")
        tmux("set-option", "-g", "remain-on-exit", "off")


def tmux_server_down() -> None:
    tmux("kill-server", check=False)


def pane_pid(session: str) -> int | None:
    result = tmux("display-message", "-p", "-t", session, "#{pane_pid}", check=False)
    text = result.stdout.strip()
    return int(text) if result.returncode == 0 and text.isdigit() else None


def capture(session: str) -> str | None:
    result = tmux("capture-pane", "-p", "-t", session, check=False)
    return result.stdout if result.returncode == 0 else None


def shell_command(cmd: Sequence[str], env: dict[str, str], cwd: Path) -> str:
    """One shell line that runs ``cmd`` with ``env``'s differences from ours, in ``cwd``."""
    changed = {k: v for k, v in env.items() if os.environ.get(k) != v}
    removed = sorted(k for k in os.environ if k not in env)
    args = [f"-u {shlex.quote(k)}" for k in removed]
    args += [f"{k}={shlex.quote(v)}" for k, v in sorted(changed.items())]
    return f"cd {shlex.quote(str(cwd))} && exec env {' '.join(args)} {shlex.join(cmd)}"


def wait_gone(pid: int | None, timeout: float = 5.0) -> None:
    if pid is None:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, 9)
    time.sleep(0.05)


def start_session(cmd: Sequence[str], env: dict[str, str], cwd: Path) -> str:
    name = f"b{os.getpid()}-{next(_names)}"
    tmux(
        "new-session",
        "-d",
        "-s",
        name,
        "-x",
        str(COLUMNS),
        "-y",
        str(LINES),
        shell_command(cmd, env, cwd),
    )
    return name


def end_session(name: str, pid: int | None) -> None:
    tmux("kill-session", "-t", name, check=False)
    wait_gone(pid)


def time_to_frame(
    cmd: Sequence[str],
    markers: Sequence[str],
    env: dict[str, str],
    cwd: Path,
    timeout: float = 60.0,
) -> float:
    """Seconds from launching ``cmd`` in a new 120x35 tmux window to the first captured
    frame that contains every one of ``markers``."""
    return time_to_frames(cmd, [markers], env, cwd, timeout)[0]


def time_to_frames(
    cmd: Sequence[str],
    stages: Sequence[Sequence[str]],
    env: dict[str, str],
    cwd: Path,
    timeout: float = 60.0,
    poll: float = 0.005,
) -> list[float]:
    """For each stage in turn, seconds from launching ``cmd`` in a new 120x35 tmux window
    to the first frame (captured every ``poll`` seconds) containing all of its markers.

    The process is ended afterwards and waited for, so that it does not compete with the
    next measurement for the machine's two cores."""
    start = time.perf_counter()
    name = start_session(cmd, env, cwd)
    pid = None
    times: list[float] = []
    try:
        while len(times) < len(stages):
            screen = capture(name)
            now = time.perf_counter()
            if pid is None:
                pid = pane_pid(name)
            if screen is None:
                raise RuntimeError(f"{shlex.join(cmd)} ended before showing {stages[len(times)]}")
            while len(times) < len(stages) and all(m in screen for m in stages[len(times)]):
                times.append(now - start)
            if len(times) == len(stages):
                break
            if now - start > timeout:
                raise RuntimeError(
                    f"{shlex.join(cmd)} did not show {stages[len(times)]} within {timeout:g}s; "
                    f"last frame:\n{screen}"
                )
            time.sleep(poll)
        return times
    finally:
        end_session(name, pid)


def run_in_tmux(
    cmd: Sequence[str], env: dict[str, str], cwd: Path, done: Path, timeout: float
) -> None:
    """Run ``cmd`` in a real terminal until it writes ``done`` (or exits, or times out)."""
    name = start_session(cmd, env, cwd)
    pid = None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if pid is None:
                pid = pane_pid(name)
            if done.exists():
                return
            if capture(name) is None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"{shlex.join(cmd)} wrote no {done.name} within {timeout:g}s")
    finally:
        end_session(name, pid)
