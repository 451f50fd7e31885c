"""A job that fails now and then, to show what a failure looks like in the console."""

import random


def sync_with_partner_api() -> None:
    if random.random() < 0.3:
        raise ConnectionError("partner API did not answer within 5s")
    print("synced 42 records")
