"""The private parts of Textual the console relies on, so that an upgrade that changes
one fails here, by name, instead of in a closed terminal (pyproject.toml's range follows
this file)."""

from __future__ import annotations

import inspect

from textual.app import App
from textual.drivers import _writer_thread, linux_driver
from textual.reactive import Reactive
from textual.widget import Widget
from textual.widgets import Footer


def test_a_lost_terminal_can_be_dropped() -> None:
    """tui/signals.py: the writer thread's name, and the driver's restart and thread."""
    assert 'name="textual-output"' in inspect.getsource(_writer_thread.WriterThread)
    driver = inspect.getsource(linux_driver.LinuxDriver)
    assert "self._auto_restart" in driver
    assert "self._writer_thread" in driver
    assert "def disable_input" in driver
    assert "self._driver" in inspect.getsource(App)


def test_a_scroll_view_can_be_resized_without_a_layout() -> None:
    """tui/widgets/_scrolling.py: what Textual runs after a layout."""
    assert callable(Widget._scroll_update)
    assert callable(Widget.set_reactive)


def test_the_footer_still_recomposes_on_compact() -> None:
    """tui/widgets/footer.py: the workaround for Textual #6666 sets the ``compact``
    reactive again after a recompose (tests/test_footer.py checks the leak itself)."""
    assert isinstance(inspect.getattr_static(Footer, "compact"), Reactive)
    assert "data_bind(compact=Footer.compact)" in inspect.getsource(Footer)  # the leak


def test_a_nodes_keys_can_be_hidden_from_the_footer_for_that_node_only() -> None:
    """tui/attach.py: a read-only console hides its keys for changes (they still work and
    say why) by replacing the node's own copies of its Bindings with ``show=False`` ones."""
    import dataclasses

    from textual.binding import Binding

    app = App()
    assert isinstance(app._bindings.key_to_bindings, dict)
    assert dataclasses.is_dataclass(Binding) and "show" in Binding.__dataclass_fields__
    assert "binding.show" in inspect.getsource(Footer.compose)
