"""The baseline for start-up and key latency: a bare Textual app with a three-row DataTable.

Run as ``python bench/bare_app.py``; ``q`` quits.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable

ROWS = [
    ("bare-row-0", "* * * * *", "scheduled"),
    ("bare-row-1", "0 9 * * 1-5", "paused"),
    ("bare-row-2", "*/5 * * * *", "scheduled"),
]


class BareApp(App[None]):
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield DataTable(id="table")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("id", "cron", "state")
        table.add_rows(ROWS)
        table.focus()


if __name__ == "__main__":
    BareApp().run()
