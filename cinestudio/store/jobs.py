"""Jobs: background work (training, rendering) persisted in the workspace database.

States: queued -> running -> succeeded | failed | cancelled | interrupted; `resume` puts a
cancelled, interrupted or failed job back in the queue with its checkpoint step kept, so the
worker continues where it stopped. Claiming a job is one write transaction, so two queue runners
never start the same job. Cancelling a running job sets a flag the worker polls
(`cancel_requested`) and ends the job itself; a queued job is cancelled at once.
"""

from __future__ import annotations

import builtins
import os
import socket
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import func, select

from cinestudio.errors import UserInputError
from cinestudio.store import models as m
from cinestudio.store._base import Repository, get_or_404, job_record, require_text
from cinestudio.store.records import JobRecord

FINAL_STATES = ("succeeded", "failed", "cancelled")
TRANSITIONS: dict[str, frozenset[str]] = {
    "queued": frozenset({"running", "cancelled"}),
    "running": frozenset({"succeeded", "failed", "cancelled", "interrupted"}),
    "interrupted": frozenset({"queued", "cancelled"}),
    "cancelled": frozenset({"queued"}),
    "failed": frozenset({"queued"}),
    "succeeded": frozenset(),
}


def this_host() -> str:
    return socket.gethostname()


def _move(job: m.Job, state: str) -> None:
    if state not in m.JOB_STATES:
        raise UserInputError(state, f"unknown job state (expected one of {', '.join(m.JOB_STATES)})")
    if state not in TRANSITIONS[job.state]:
        raise UserInputError(f"job {job.id}", f"cannot go from {job.state} to {state}")
    job.state = state


class JobRepository(Repository):
    def create(self, kind: str, config: dict[str, Any], *, run_dir: str | None = None,
               device: str = "auto") -> JobRecord:
        job = m.Job(kind=require_text(kind, "job kind"), config=config, run_dir=run_dir,
                    device=require_text(device, "device"), state="queued", progress_done=0,
                    cancel_requested=False, attempts=0)
        with self._write() as s:
            s.add(job)
            s.flush()
            return job_record(job)

    def get(self, job_id: int) -> JobRecord:
        with self._read() as s:
            return job_record(get_or_404(s, m.Job, job_id, "job"))

    def find(self, *, states: Iterable[str] | str | None = None, kind: str | None = None,
             limit: int | None = None, newest_first: bool = False) -> builtins.list[JobRecord]:
        query = select(m.Job)
        if states is not None:
            query = query.where(m.Job.state.in_((states,) if isinstance(states, str) else tuple(states)))
        if kind is not None:
            query = query.where(m.Job.kind == kind)
        query = query.order_by(m.Job.id.desc() if newest_first else m.Job.id).limit(limit)
        with self._read() as s:
            return [job_record(j) for j in s.scalars(query)]

    def count_by_state(self) -> dict[str, int]:
        with self._read() as s:
            counts = dict(s.execute(select(m.Job.state, func.count()).group_by(m.Job.state)).all())
        return {state: counts.get(state, 0) for state in m.JOB_STATES}

    def set_run_dir(self, job_id: int, run_dir: str) -> JobRecord:
        with self._write() as s:
            job = get_or_404(s, m.Job, job_id, "job", lock=True)
            job.run_dir = run_dir
            s.flush()
            return job_record(job)

    # -- running -----------------------------------------------------------------------------

    def _start(self, job: m.Job, pid: int | None, host: str | None) -> None:
        _move(job, "running")
        job.pid = os.getpid() if pid is None else pid
        job.host = host or this_host()
        job.started_at = job.heartbeat_at = m.utcnow()
        job.finished_at = None
        job.error = None
        job.cancel_requested = False
        job.attempts += 1

    def claim_next(self, *, pid: int | None = None, host: str | None = None,
                   kinds: Iterable[str] | None = None,
                   devices: Iterable[str] | None = None) -> JobRecord | None:
        """Atomically take the oldest queued job (of these kinds / devices) and mark it running."""
        query = select(m.Job).where(m.Job.state == "queued")
        if kinds is not None:
            query = query.where(m.Job.kind.in_(tuple(kinds)))
        if devices is not None:
            query = query.where(m.Job.device.in_(tuple(devices)))
        # FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises.
        query = query.order_by(m.Job.id).limit(1).with_for_update(skip_locked=True)
        with self._write() as s:
            job = s.scalar(query)
            if job is None:
                return None
            self._start(job, pid, host)
            s.flush()
            return job_record(job)

    def start(self, job_id: int, *, pid: int | None = None, host: str | None = None) -> JobRecord:
        """Mark a queued job running (a worker started for this very job)."""
        with self._write() as s:
            job = get_or_404(s, m.Job, job_id, "job", lock=True)
            self._start(job, pid, host)
            s.flush()
            return job_record(job)

    def update_progress(self, job_id: int, done: int, total: int | None = None,
                        message: str | None = None) -> None:
        """Progress report from the worker; also its heartbeat."""
        with self._write() as s:
            job = get_or_404(s, m.Job, job_id, "job", lock=True)
            job.progress_done = done
            if total is not None:
                job.progress_total = total
            if message is not None:
                job.message = message
            job.heartbeat_at = m.utcnow()

    def heartbeat(self, job_id: int) -> None:
        """The worker is alive (for long steps without progress to report)."""
        with self._write() as s:
            get_or_404(s, m.Job, job_id, "job", lock=True).heartbeat_at = m.utcnow()

    def set_checkpoint(self, job_id: int, step: int) -> None:
        """The last step saved in the run folder: where `resume` continues from."""
        with self._write() as s:
            job = get_or_404(s, m.Job, job_id, "job", lock=True)
            job.checkpoint_step = step
            job.heartbeat_at = m.utcnow()

    def finish(self, job_id: int, state: str, *, error: str | None = None,
               result: dict[str, Any] | None = None, message: str | None = None) -> JobRecord:
        """End a running job: succeeded, failed (with `error`), cancelled or interrupted."""
        if state not in FINAL_STATES + ("interrupted",):
            raise UserInputError(state, "not a final job state")
        with self._write() as s:
            job = get_or_404(s, m.Job, job_id, "job", lock=True)
            _move(job, state)
            job.finished_at = m.utcnow()
            job.error = error
            if result is not None:
                job.result = result
            if message is not None:
                job.message = message
            s.flush()
            return job_record(job)

    def request_cancel(self, job_id: int) -> JobRecord:
        """Cancel: a queued or interrupted job at once, a running one by asking its worker."""
        with self._write() as s:
            job = get_or_404(s, m.Job, job_id, "job", lock=True)
            if job.state in ("queued", "interrupted"):
                _move(job, "cancelled")
                job.finished_at = m.utcnow()
            elif job.state == "running":
                job.cancel_requested = True
            else:
                raise UserInputError(f"job {job_id}", f"is {job.state}, nothing to cancel")
            s.flush()
            return job_record(job)

    def cancel_requested(self, job_id: int) -> bool:
        """For the worker's `should_stop()`: a cheap read that never waits for writers."""
        with self._read() as s:
            return bool(s.scalar(select(m.Job.cancel_requested).where(m.Job.id == job_id)))

    def resume(self, job_id: int) -> JobRecord:
        """Queue a cancelled, interrupted or failed job again; its checkpoint step is kept."""
        with self._write() as s:
            job = get_or_404(s, m.Job, job_id, "job", lock=True)
            _move(job, "queued")
            job.pid = None
            job.cancel_requested = False
            job.error = None
            job.finished_at = None
            s.flush()
            return job_record(job)

    def mark_interrupted(self, is_alive: Callable[[JobRecord], bool]) -> builtins.list[JobRecord]:
        """Running jobs whose worker is gone (``is_alive(job)`` is False) become interrupted.

        Call it when a queue runner or the app starts: a SIGKILLed worker or a reboot leaves
        jobs "running" with a dead pid. The liveness test (pid, host, heartbeat age) is the
        caller's, so the store stays free of process management.
        """
        with self._write() as s:
            out = []
            for job in s.scalars(select(m.Job).where(m.Job.state == "running").order_by(m.Job.id)):
                if not is_alive(job_record(job)):
                    _move(job, "interrupted")
                    job.finished_at = m.utcnow()
                    job.message = "worker gone (killed or machine restarted)"
                    out.append(job)
            s.flush()
            return [job_record(j) for j in out]
