"""Opening the register form runs no user code: suggestions come from reading, not importing.

The registry's package may hold modules whose top-level code does things (connects,
writes, deletes). Pressing `n` and typing must not import them; only submitting a
function of theirs does, as the form says.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.core import funcs
from jobs.core.bootstrap import build_service
from jobs.core.client import LocalClient
from jobs.core.settings import Settings
from tests.test_app import toasts, type_text
from tui.app import JobConsoleApp
from tui.screens import RegisterScreen

SIZE = (120, 35)

SIDE_EFFECT = """
from pathlib import Path

Path({marker!r}).write_text("imported")


def sweep():
    pass


async def sweep_async(limit=10):
    pass


def needs(value):
    pass


def _private():
    pass
"""


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """A registry package ``pkg_<random>`` with a module that writes a marker on import."""
    name = f"pkg_{uuid.uuid4().hex[:8]}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "registry.py").write_text("REGISTERED_JOBS = []\n")
    marker = tmp_path / "imported.marker"
    (root / "sideeffects.py").write_text(SIDE_EFFECT.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name, marker
    for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
        del sys.modules[module]


def test_discovery_reads_modules_without_importing_them(package: tuple[str, Path]) -> None:
    name, marker = package
    __import__(f"{name}.registry")
    refs = funcs.discover(name)
    assert f"{name}.sideeffects:sweep" in refs
    assert f"{name}.sideeffects:sweep_async" in refs  # its argument has a default
    assert f"{name}.sideeffects:needs" not in refs  # not callable without arguments
    assert f"{name}.sideeffects:_private" not in refs
    assert not marker.exists()
    assert f"{name}.sideeffects" not in sys.modules


async def test_the_register_form_imports_a_module_only_on_submit(
    package: tuple[str, Path], tmp_path: Path
) -> None:
    name, marker = package
    settings = Settings(
        timezone="UTC", state_path=tmp_path / "state.sqlite3", registry=f"{name}.registry"
    )
    service = build_service(settings, durable=False)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, RegisterScreen)
        assert "imports" in str(form.query_one("#func-label").render())
        await type_text(pilot, "swept")
        await pilot.press("tab")
        await type_text(pilot, f"{name}.side")
        await pilot.press("right")  # takes the suggestion
        await pilot.pause()
        assert form.query_one("#func").value == f"{name}.sideeffects:sweep"
        assert not marker.exists(), "opening the form or typing ran the module"
        await pilot.press("tab")
        await type_text(pilot, "@daily")
        await pilot.press("enter")
        await pilot.pause()
        assert marker.exists()  # submitting imported it, as the form says
        assert service.get_job("swept").func_ref == f"{name}.sideeffects:sweep"
        assert any("Registered swept" in text for text in await toasts(pilot))
