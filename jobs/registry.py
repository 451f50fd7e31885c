"""The jobs this project schedules. Edit this list; jobconsole reads it at start-up.

Point JOBCONSOLE_REGISTRY at another module to use another project's list.
"""

from jobs.cleanup import cleanup_expired_tokens
from jobs.config import CronJobConfig

REGISTERED_JOBS: list[CronJobConfig] = [
    {
        "job_id": "cleanup_expired_tokens",
        "func": cleanup_expired_tokens,
        "cron_expression": "0 0 * * *",  # daily at midnight
        "enabled": True,
    },
    {
        "job_id": "heartbeat",
        "func": "jobs.heartbeat:heartbeat",
        "cron_expression": "* * * * *",
        "enabled": True,
    },
    {
        "job_id": "daily_report",
        "func": "jobs.reports:build_daily_report",
        "cron_expression": "*/2 * * * *",
        "description": "Build the daily report (a slow plain def, every 2 minutes)",
        "enabled": True,
    },
    {
        "job_id": "partner_sync",
        "func": "jobs.flaky:sync_with_partner_api",
        "cron_expression": "*/3 * * * *",
        "enabled": True,
    },
    {
        "job_id": "weekday_digest",
        "func": "jobs.cleanup:cleanup_expired_tokens",
        "cron_expression": "0 9 * * 1-5",
        "enabled": False,
    },
]
