"""Cron work kept between runs: descriptions, and next fire times for ``jobconsole list``.

Wording 34,000 distinct expressions (cron-descriptor) and finding their next fires
(cronsim) took ~3.6 s of every ``list`` of 100,000 jobs, and neither changes from one
run to the next: a description depends only on the expression and on what words it
(cron-descriptor's version, the locale it picks, our own changes to its sentence); the
next fire of an expression in a zone after ``t`` is the same for every ``t`` in
``[computed_from, next_fire)``, as long as the zone's rules are the ones it was
computed with.

Two JSON files in the user's cache directory (``$XDG_CACHE_HOME/jobconsole``,
else ``~/.cache/jobconsole``): ``descriptions.json`` and ``next-fires.json``, each under
a key naming what made its entries; a file made under another key is ignored. Each is
read at most once per process, when first needed, and written when the process ends
(or when ``save()`` is called) if it learned something, to a temporary file renamed over
the old one, so a reader sees the old file or the new, never half of one. It is only a
cache: a missing, unreadable, corrupt or unwritable file means the work is done again,
never an error; two processes writing at once lose one's additions, nothing more.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from pathlib import Path
from typing import Any, TypeVar

#: Entries a file holds at most; one more and it starts again from what is added next.
LIMIT = 1 << 17
_FORMAT = 1


def cache_dir() -> Path | None:
    """``$XDG_CACHE_HOME/jobconsole`` (an absolute path only, as the XDG spec says), else
    ``~/.cache/jobconsole``; None when there is no home to put it in."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    if base and os.path.isabs(base):
        return Path(base) / "jobconsole"
    try:
        return Path.home() / ".cache" / "jobconsole"
    except (RuntimeError, KeyError, OSError):
        return None


class KeptFile:
    """One JSON file of entries made under a key (``make_key``, asked once): ``entries()``
    is what it held, if made under the same key, plus what this process added since.
    A kind of entries subclasses it (``make_key``, and ``written`` for what to write)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._loaded: dict[str, Any] | None = None
        self.key: str | None = None
        self.dirty = False
        self._owner = os.getpid()

    def make_key(self) -> str | None:
        """What made the entries; None: nothing to key them with, so nothing is kept."""
        return None

    def written(self, entries: dict[str, Any]) -> dict[str, Any]:
        """What of ``entries`` goes to the file."""
        return dict(entries)

    def entries(self) -> dict[str, Any]:
        """The entries, read from the file on first use; empty when it cannot be used."""
        loaded = self._loaded
        if loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._read()
                loaded = self._loaded
        return loaded

    def _read(self) -> dict[str, Any]:
        try:
            self.key = self.make_key()
        except Exception:  # e.g. a library's files not where expected: no cache
            self.key = None
        if self.key is None or self.path is None:
            return {}
        import json

        try:
            with open(self.path, encoding="utf-8") as file:
                raw = json.load(file)
        except (OSError, ValueError, RecursionError):  # missing, unreadable, not JSON
            return {}
        if (
            not isinstance(raw, dict)
            or raw.get("format") != _FORMAT
            or raw.get("key") != self.key
            or not isinstance(raw.get("entries"), dict)
        ):
            return {}
        return raw["entries"]

    def changed(self) -> None:
        """Something was added or replaced: write the file when the process ends."""
        if not self.dirty:
            self.dirty = True
            _register_save()

    def save(self) -> None:
        """Write the file if anything was added; any failure leaves the old file, or
        none, in place."""
        if not self.dirty or self.key is None or self.path is None:
            return
        if os.getpid() != self._owner:  # a forked child: the parent writes its own
            return
        self.dirty = False
        import json
        import tempfile

        partial = None
        try:
            body = {"format": _FORMAT, "key": self.key, "entries": self.written(self.entries())}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, partial = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
            )
            text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
            os.replace(partial, self.path)
            partial = None
        except Exception:  # a cache that cannot be written is not kept
            pass
        finally:
            if partial is not None:
                with contextlib.suppress(OSError):
                    os.unlink(partial)


_files: dict[str, KeptFile] = {}
_registered = False

Kept = TypeVar("Kept", bound=KeptFile)


def kept(name: str, kind: type[Kept]) -> Kept:
    """The process's ``kind`` of file ``name`` in ``cache_dir()``, made on first use."""
    file = _files.get(name)
    if not isinstance(file, kind):
        folder = cache_dir()
        file = _files[name] = kind(folder / name if folder is not None else None)
    return file


def let_go(name: str) -> None:
    """Write file ``name`` if it learned something, and drop what this process holds of
    it: the next use reads it again. What a start kept is some MB it needs no more."""
    file = _files.pop(name, None)
    if file is not None:
        file.save()


def forget() -> None:
    """Drop what this process holds (not the files): the next use reads them again, from
    ``cache_dir()`` as it is then. For tests that move the cache directory."""
    _files.clear()


def save() -> None:
    """Write every file that learned something (also done when the process ends)."""
    for file in list(_files.values()):
        file.save()


def _register_save() -> None:
    global _registered
    if not _registered:
        _registered = True
        atexit.register(save)


def installed_version(module: str) -> str | None:
    """The version pip recorded for the distribution of ``module`` (its ``.dist-info``
    beside the package), found without importing it or ``importlib.metadata`` (~45 ms);
    None when there is no such record."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        return None
    site = os.path.dirname(os.path.dirname(spec.origin))
    prefix = f"{module}-"
    found = sorted(
        name[len(prefix) : -len(".dist-info")]
        for name in os.listdir(site)
        if name.startswith(prefix) and name.endswith(".dist-info")
    )
    return " ".join(found) or None


def zone_stamp(key: str) -> str | None:
    """What tells this zone's rules from another version of them: the size and time of
    the TZif file ``ZoneInfo(key)`` reads (the system's, else the tzdata package's), so a
    tz database update makes kept fire times in it unused. None when it is not found."""
    import zoneinfo

    if not key or os.path.isabs(key) or ".." in key.split("/"):
        return None
    places = [os.path.join(root, key) for root in zoneinfo.TZPATH]
    import importlib.util

    with contextlib.suppress(ImportError, ValueError):
        spec = importlib.util.find_spec("tzdata")
        if spec is not None and spec.origin:
            places.append(os.path.join(os.path.dirname(spec.origin), "zoneinfo", key))
    for place in places:
        try:
            stat = os.stat(place)
        except (OSError, ValueError):
            continue
        if os.path.isfile(place):
            return f"{place}:{stat.st_size}:{stat.st_mtime_ns}"
    return None
