"""The floor of a console's first frame with a registry: the bare app (``bare_app.py``)
after importing the registry module ``JOBCONSOLE_REGISTRY`` names, which any console
must do before it can show one of its jobs.

Run as ``JOBCONSOLE_REGISTRY=bench.registry_10k python bench/floor_app.py``; ``q`` quits.
"""

from __future__ import annotations

import importlib
import os

from bare_app import BareApp

if __name__ == "__main__":
    importlib.import_module(os.environ.get("JOBCONSOLE_REGISTRY", "jobs.registry"))
    BareApp().run()
