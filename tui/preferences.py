"""What the console remembers between runs: its theme, the table's sort, the log's scope
and whether alerts are on.

A small JSON file in the user's config directory (``$XDG_CONFIG_HOME/jobconsole``, else
``~/.config/jobconsole``), read once at start and written when the console ends. The app
takes a ``PreferenceStore``; the default keeps them in memory, so tests and embedded
apps never touch the user's file. A missing file means the defaults; an unreadable or
malformed one means the defaults and one message, and is never overwritten by a failed
read. Values the console no longer knows (a theme or column gone) are ignored there.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Preferences:
    theme: str | None = None
    sort_column: str | None = None
    sort_reverse: bool = False
    #: The job the log was scoped to, None for all jobs.
    log_scope: str | None = None
    #: Ring the bell and notify on failures, recoveries and missed runs.
    alerts: bool = False


class PreferenceStore:
    """In memory: what the console chose this run, forgotten at exit."""

    def __init__(self) -> None:
        self._saved = Preferences()

    def load(self) -> tuple[Preferences, str | None]:
        """The preferences, and a message when they could not be read as they were."""
        return self._saved, None

    def save(self, preferences: Preferences) -> str | None:
        """Keep them; a message when that failed."""
        self._saved = preferences
        return None


class FilePreferences(PreferenceStore):
    def __init__(self, path: Path | None = None) -> None:
        super().__init__()
        self.path = path or default_path()
        self._unreadable = False

    def load(self) -> tuple[Preferences, str | None]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return Preferences(), None
        except (OSError, ValueError) as exc:
            self._unreadable = True
            return Preferences(), f"preferences in {self.path} not read ({exc}); using defaults"
        if not isinstance(raw, dict):
            self._unreadable = True
            return Preferences(), f"preferences in {self.path} are not a JSON object; ignored"
        values = {}
        for field in fields(Preferences):
            value = raw.get(field.name)
            expected = bool if isinstance(field.default, bool) else str
            if isinstance(value, expected):
                values[field.name] = value
        return Preferences(**values), None

    def save(self, preferences: Preferences) -> str | None:
        if self._unreadable:
            return None  # leave a file we could not read for its owner to look at
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            partial.write_text(json.dumps(asdict(preferences), indent=2) + "\n", encoding="utf-8")
            partial.replace(self.path)
        except OSError as exc:
            return f"preferences not saved to {self.path}: {exc}"
        return None


def default_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "jobconsole" / "preferences.json"
