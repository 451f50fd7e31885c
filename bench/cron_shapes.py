"""The cron expressions the benchmark registries draw, from common crontab shapes (every N
minutes, hourly at a minute, daily, weekdays, monthly, lists and ranges).

A module of its own, building nothing when imported, so that a registry generated at
another size (``bench/list_scale.py``) draws the same expressions without importing
``bench/registry_10k.py``, whose import builds its 10,000 entries.
"""

from __future__ import annotations

import random


def expression(rng: random.Random) -> str:
    """One expression drawn with ``rng``: the same seed gives the same sequence."""
    m, h = rng.randrange(60), rng.randrange(24)
    shape = rng.randrange(12)
    if shape == 0:
        return f"*/{rng.choice([5, 10, 15, 20, 30])} * * * *"
    if shape == 1:
        return f"{m} * * * *"
    if shape == 2:
        return f"{m} {h} * * *"
    if shape == 3:
        return f"{m} {h} * * 1-5"
    if shape == 4:
        return f"{m} {h} {rng.randrange(1, 29)} * *"
    if shape == 5:
        return f"{m} */{rng.choice([2, 3, 4, 6, 8, 12])} * * *"
    if shape == 6:
        return f"{m},{(m + 30) % 60} {h}-{min(23, h + rng.randrange(1, 8))} * * *"
    if shape == 7:
        return f"{m} {h} * * {rng.choice(['0', '6', '0,6', 'mon', 'fri', 'sat,sun'])}"
    if shape == 8:
        return f"{m} {h} 1 {rng.choice(['*', '*/3', '1,7', 'jan-jun'])} *"
    if shape == 9:
        return rng.choice(["@hourly", "@daily", "@weekly", "@monthly", "@yearly"])
    if shape == 10:
        return f"{m} {h} L * *"
    return f"{m} {h} * * {rng.randrange(7)}#{rng.randrange(1, 5)}"
