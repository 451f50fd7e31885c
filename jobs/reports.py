"""A plain ``def`` that takes a few seconds: it runs in a worker thread, never on the loop."""

import time


def build_daily_report() -> None:
    for step in ("collecting", "aggregating", "rendering"):
        print(f"{step}…")
        time.sleep(1)
    print("report ready")
