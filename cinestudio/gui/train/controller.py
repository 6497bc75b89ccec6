"""`JobsController`: the Train tab's link to the job system, with nothing slow on the UI thread.

- a queue runner (`cinestudio.jobs.runner.QueueRunner`) in a `ManagedThread` starts queued jobs
  as worker subprocesses and reads their stdout; its ``started``/``done``/``error`` messages
  trigger a refresh;
- database reads and writes run on `TaskRunner` pools (reads: 2 threads; writes: 1, in order);
- the selected and the running jobs' ``events.jsonl`` are tailed on the UI thread a bounded slice
  per tick (32 KiB), so even a long history loads without a stall, and jobs started by another
  runner (``cinestudio jobs run``) show the same curves.

Every UI-thread handler is timed (`slowest_ms`, wall clock; `slowest_cpu_ms`, its own CPU time)
so tests and benchmarks can check the tab never blocks the event loop.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from cinestudio.gui.train import backend
from cinestudio.gui.workers import ManagedThread, TaskRunner
from cinestudio.jobs import service
from cinestudio.jobs.history import JobHistory
from cinestudio.jobs.protocol import EventTail
from cinestudio.jobs.runner import QueueRunner
from cinestudio.store import JobRecord, WorkspaceStore, open_workspace

REFRESH_MS = 700
TAIL_MS = 250
TAIL_SLICE = 32 * 1024
STOP_TIMEOUT_S = 60.0
# Workers started by the GUI run at a lower CPU priority, so the window stays responsive on a
# machine the training keeps busy (CINESTUDIO_JOB_NICE overrides; 0: same priority as the app).
WORKER_NICE = int(os.environ.get("CINESTUDIO_JOB_NICE", "5"))


class RunnerThread(ManagedThread):
    """Runs the queue: starts workers, reads their output, stops them when asked."""

    activity = Signal(object)   # list of started/done/error messages

    def __init__(self, store: WorkspaceStore, cpu_slots: int = 1, parent: QObject | None = None):
        super().__init__("train-queue-runner", parent)
        self.store = store
        self.cpu_slots = cpu_slots
        self._quit = threading.Event()
        self.recovered: list[JobRecord] = []

    def stop(self) -> None:
        self._quit.set()

    def work(self) -> None:
        runner = QueueRunner(self.store, cpu_slots=self.cpu_slots, nice=WORKER_NICE)
        try:
            self.recovered = runner.start()
            while not self._quit.is_set():
                runner.cpu_slots = self.cpu_slots
                messages = runner.poll(timeout=0.2)
                important = [m for m in messages if m.get("type") in ("started", "done", "error")]
                if important:
                    self.activity.emit(important)
        finally:
            runner.shutdown(STOP_TIMEOUT_S)


def timed(method: Callable) -> Callable:
    """Record how long a UI-thread handler ran (`JobsController.slowest_ms`)."""

    @functools.wraps(method)
    def wrapper(self: JobsController, *args: Any, **kwargs: Any) -> Any:
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return method(self, *args, **kwargs)
        finally:
            ms = (time.perf_counter() - t0) * 1000
            cpu_ms = (time.thread_time() - c0) * 1000
            if ms > self.slowest_ms:
                self.slowest_ms, self.slowest_name = ms, method.__name__
            self.slowest_cpu_ms = max(self.slowest_cpu_ms, cpu_ms)

    return wrapper


class JobsController(QObject):
    jobsChanged = Signal(object)         # backend.JobsSnapshot
    historyChanged = Signal(int)         # a job whose JobHistory gained messages
    failed = Signal(str)                 # an error for people (a message line)

    def __init__(self, workspace: Path, parent: QObject | None = None, *, cpu_slots: int = 1,
                 run_queue: bool = True):
        super().__init__(parent)
        self.workspace = Path(workspace)
        self.store = open_workspace(self.workspace)
        self.reader = TaskRunner(self, max_threads=2, name="train-read")
        self.writer = TaskRunner(self, max_threads=1, name="train-write")
        self.snapshot: backend.JobsSnapshot | None = None
        self.histories: dict[int, JobHistory] = {}
        self._tails: dict[int, EventTail] = {}
        self.selected: int | None = None
        self.slowest_ms = 0.0          # wall clock of the slowest UI-thread handler
        self.slowest_cpu_ms = 0.0      # ... and the most CPU time one took (what it cost, load aside)
        self.slowest_name = ""
        self._refreshing = False
        self._closed = False
        self.runner_thread: RunnerThread | None = None
        if run_queue:
            self.runner_thread = RunnerThread(self.store, cpu_slots)
            self.runner_thread.activity.connect(self._on_activity)
            self.runner_thread.start()
        self.refresh_timer = QTimer(self)
        self.refresh_timer.setInterval(REFRESH_MS)
        self.refresh_timer.timeout.connect(self.refresh)
        self.refresh_timer.start()
        self.tail_timer = QTimer(self)
        self.tail_timer.setInterval(TAIL_MS)
        self.tail_timer.timeout.connect(self._read_tails)
        self.tail_timer.start()
        self.refresh()

    # -- jobs list -------------------------------------------------------------------------------
    def refresh(self) -> None:
        if self._refreshing or self._closed:
            return
        self._refreshing = True
        self.reader.submit(backend.snapshot, self.store, on_result=self._on_snapshot,
                           on_error=self._on_refresh_error, name="snapshot")

    @timed
    def _on_snapshot(self, snap: backend.JobsSnapshot) -> None:
        self._refreshing = False
        self.snapshot = snap
        self._sync_tails()
        self.jobsChanged.emit(snap)

    def _on_refresh_error(self, exc: BaseException) -> None:
        self._refreshing = False
        self.failed.emit(str(exc))

    @timed
    def _on_activity(self, messages: list[dict[str, Any]]) -> None:
        self.refresh()
        self._read_tails()

    def job(self, job_id: int) -> JobRecord | None:
        if self.snapshot is None:
            return None
        return next((j for j in self.snapshot.jobs if j.id == job_id), None)

    # -- histories (events.jsonl tails) ---------------------------------------------------------
    def select(self, job_id: int | None) -> None:
        self.selected = job_id
        self._sync_tails()
        QTimer.singleShot(0, self._read_tails)     # its history loads in the next loop iterations

    def history(self, job_id: int) -> JobHistory:
        return self.histories.setdefault(job_id, JobHistory(job_id))

    def _sync_tails(self) -> None:
        wanted = {self.selected} if self.selected is not None else set()
        if self.snapshot is not None:
            wanted |= {j.id for j in self.snapshot.jobs if j.state == "running"}
        for job_id in wanted - set(self._tails):
            job = self.job(job_id)
            path = service.events_path(self.workspace, job) if job is not None else None
            if path is not None:
                self._tails[job_id] = EventTail(path, max_bytes=TAIL_SLICE)
                self.histories[job_id] = JobHistory(job_id)
        for job_id in set(self._tails) - wanted:
            job = self.job(job_id)
            if job is None or job.state != "running":
                del self._tails[job_id]          # its history stays, for going back to it

    @timed
    def _read_tails(self) -> None:
        for job_id, tail in list(self._tails.items()):
            messages = tail.read()
            if messages and self.history(job_id).add(messages):
                self.historyChanged.emit(job_id)
            if not tail.at_end:
                QTimer.singleShot(0, self._read_tails)   # more history to catch up on: next tick

    def eta(self, job_id: int) -> float | None:
        hist = self.histories.get(job_id)
        return hist.eta_s() if hist is not None else None

    # -- actions ------------------------------------------------------------------------------------
    def run_write(self, fn: Callable, *args: Any, on_result: Callable | None = None, name: str = "") -> None:
        def done(result: Any) -> None:
            if on_result is not None:
                on_result(result)
            self.refresh()

        self.writer.submit(fn, self.store, *args, on_result=done, on_error=lambda e: self.failed.emit(_message(e)),
                           name=name or fn.__name__)

    def run_read(self, fn: Callable, *args: Any, on_result: Callable, on_error: Callable | None = None,
                 name: str = "") -> None:
        self.reader.submit(fn, self.store, *args, on_result=on_result,
                           on_error=on_error or (lambda e: self.failed.emit(_message(e))), name=name or fn.__name__)

    def set_cpu_slots(self, n: int) -> None:
        if self.runner_thread is not None:
            self.runner_thread.cpu_slots = max(1, int(n))

    def running_jobs(self) -> list[JobRecord]:
        return [j for j in (self.snapshot.jobs if self.snapshot else ()) if j.state == "running"]

    # -- closing -------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the runner (its workers checkpoint and end interrupted), the pools, the store."""
        if self._closed:
            return
        self._closed = True
        self.refresh_timer.stop()
        self.tail_timer.stop()
        if self.runner_thread is not None:
            self.runner_thread.stop()
            self.runner_thread.wait(int((STOP_TIMEOUT_S + 10) * 1000))
        self.reader.shutdown()
        self.writer.wait(30.0)
        self.writer.shutdown()
        self.store.close()


def _message(exc: BaseException) -> str:
    subject, reason = getattr(exc, "subject", None), getattr(exc, "reason", None)
    return f"{subject}: {reason}" if subject and reason else str(exc)
