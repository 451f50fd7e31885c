"""A job that runs every minute, so a new console shows activity at once."""

from datetime import datetime


async def heartbeat() -> None:
    print(f"alive at {datetime.now().astimezone():%H:%M:%S %Z}")
