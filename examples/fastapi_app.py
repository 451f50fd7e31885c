"""jobconsole inside a FastAPI app: the scheduler lives as long as the app does.

    uvicorn examples.fastapi_app:app                 # one process: it schedules
    uvicorn examples.fastapi_app:app --workers 3     # three: one schedules, two stand by

The lifespan is the documentation's pattern: build the service, load the registry,
``start()`` when the app starts and ``shutdown()`` when it stops. ``SchedulerService()``
reads the settings as the console does, so the runs are recorded in ``JOBCONSOLE_STATE``
(default ``.jobconsole/state.sqlite3``), a console can attach to it, and with several
workers on that file exactly one schedules: the others stand by and one of them takes
over within a few seconds when the scheduling worker exits or is killed. Every worker
answers the reads below: a standby with the registry's jobs and the history the
scheduling worker recorded. An action asked of a standby is refused (here: 503, with the
pid of the worker that schedules), never done in the wrong process; a console or
``jobconsole run JOB`` reaches the scheduling worker directly.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException

from jobs import Execution, JobNotFoundError, JobSnapshot, SchedulerService, StandbyError

scheduler_service = SchedulerService()  # settings from the environment and .env


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    scheduler_service.load_registry()  # the REGISTERED_JOBS of JOBCONSOLE_REGISTRY
    scheduler_service.start()  # schedules, or stands by while another worker does
    yield
    await scheduler_service.shutdown()


app = FastAPI(title="jobconsole in a web app", lifespan=lifespan)


@app.get("/jobs")
async def list_jobs() -> list[JobSnapshot]:
    return scheduler_service.get_jobs()


@app.get("/jobs/{job_id}")
async def show_job(job_id: str, limit: int = 10) -> dict[str, Any]:
    try:
        job = scheduler_service.get_job(job_id)
    except JobNotFoundError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    executions: list[Execution] = scheduler_service.recent_executions(job_id, limit=limit)
    return {"job": job, "executions": executions}


@app.post("/jobs/{job_id}/run")
async def run_job(job_id: str) -> Execution:
    try:
        return scheduler_service.run_job_now(job_id)
    except JobNotFoundError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except StandbyError as exc:  # another worker schedules: ask again, or ask it
        raise HTTPException(status_code=503, detail=str(exc)) from None


@app.get("/scheduler")
async def scheduler() -> dict[str, Any]:
    """Which worker answered, and whether it is the one that schedules."""
    standby = scheduler_service.standby
    return {
        "pid": os.getpid(),
        "run_state": scheduler_service.run_state,
        "schedules": scheduler_service.is_running,
        "standby": standby.message if standby else None,
        "scheduling_pid": standby.holder_pid if standby else os.getpid(),
    }
