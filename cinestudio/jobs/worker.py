"""The job worker: ``python -m cinestudio.jobs.worker JOB_ID [--workspace W]``.

Runs one queued job in this process: marks it running (atomically — a job another worker took
exits with code 75), calls its kind's use-case adapter with a `JobContext`, speaks the JSON-lines
protocol on stdout and into ``RUN/events.jsonl``, and mirrors progress and a heartbeat into the
database from a monitor thread (so the training loop never waits on the database).

Stopping:
- a cancel request (``cancel_requested`` in the database, polled twice a second) or SIGTERM/SIGINT
  makes ``should_stop()`` true; the use-case saves a checkpoint and raises `Cancelled`; the job ends
  ``cancelled`` when a cancel was requested, else ``interrupted`` (a runner shutting down, a
  logout) — both resume from the checkpoint;
- a use-case that does not stop within the grace period (``--grace``, default 60 s) is ended by
  the monitor: the job is marked and the process exits; a second signal exits at once.

Exit codes: 0 succeeded, 1 failed, 2 usage (no such job or workspace), 3 cancelled,
4 interrupted, 75 the job was not queued (someone else runs it).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import traceback
from typing import IO, Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED, EXIT_INTERRUPTED, EXIT_NOT_QUEUED = 0, 1, 2, 3, 4, 75
DEFAULT_GRACE_S = 60.0
PROGRESS_EVERY_S = 0.5     # protocol progress messages and database progress writes, at most
CANCEL_POLL_S = 0.5
HEARTBEAT_S = 5.0


class _Monitor(threading.Thread):
    """Database side of a running job: progress, heartbeat, cancel polling, grace deadline."""

    def __init__(self, worker: Worker):
        super().__init__(name=f"job-{worker.job_id}-monitor", daemon=True)
        self.w = worker
        self._quit = threading.Event()
        self._lock = threading.Lock()
        self._progress: tuple[int, int | None, str | None] | None = None
        self._dirty = False
        self.cancel_seen = False

    def set_progress(self, done: int, total: int | None, message: str | None) -> None:
        with self._lock:
            self._progress = (done, total, message)
            self._dirty = True

    def flush(self) -> None:
        with self._lock:
            progress, dirty, self._dirty = self._progress, self._dirty, False
        if dirty and progress is not None:
            self.w.store.jobs.update_progress(self.w.job_id, *progress)

    def stop(self) -> None:
        self._quit.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(5)

    def run(self) -> None:
        last_write = last_poll = time.monotonic()
        while not self._quit.wait(0.1):
            now = time.monotonic()
            try:
                if now - last_write >= PROGRESS_EVERY_S and self._dirty:
                    self.flush()
                    last_write = now
                elif now - last_write >= HEARTBEAT_S:
                    self.w.store.jobs.heartbeat(self.w.job_id)
                    last_write = now
                if now - last_poll >= CANCEL_POLL_S and not self.cancel_seen:
                    last_poll = now
                    if self.w.store.jobs.cancel_requested(self.w.job_id):
                        self.cancel_seen = True
                        self.w.request_stop("cancel requested: stopping after saving a checkpoint")
            except Exception as exc:  # a busy database must not kill the job; say so and go on
                print(f"job monitor: {exc!r}", file=sys.stderr)
            stop_at = self.w.stop_requested_at
            if stop_at is not None and time.monotonic() - stop_at > self.w.grace_s:
                self.w.hard_stop(f"did not stop within {self.w.grace_s:g} s: terminated")


class Worker:
    def __init__(self, store: Any, job: Any, kind: Any, proto: IO[str] | None, *, device: str | None = None,
                 threads: int | None = None, grace_s: float = DEFAULT_GRACE_S):
        from cinestudio.jobs import service
        from cinestudio.jobs.protocol import EVENTS_NAME, EtaEstimator, EventWriter

        self.store, self.job, self.kind = store, job, kind
        self.job_id = job.id
        self.grace_s = grace_s
        self.threads = threads
        self.device = device or job.device
        if not job.run_dir:
            job = store.jobs.set_run_dir(job.id, f"runs/{job.kind}-{job.id:04d}")
            self.job = job
        self.run_dir = service.run_path(store, job)
        assert self.run_dir is not None
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.events = EventWriter(job.id, proto, self.run_dir / EVENTS_NAME)
        self._eta = EtaEstimator()
        self._last_emit = 0.0
        self._last_phase: str | None = None
        self._stop = threading.Event()
        self.stop_requested_at: float | None = None
        self._finish_lock = threading.Lock()
        self._finished = False
        self.monitor = _Monitor(self)

    # -- callbacks the use-case gets -----------------------------------------------------------------
    def progress(self, done: int, total: int, message: str = "", phase: str = "run") -> None:
        eta = self._eta.update(done, total, phase)
        self.monitor.set_progress(done, total, message)
        now = time.monotonic()
        if phase != self._last_phase or done >= total or now - self._last_emit >= PROGRESS_EVERY_S:
            self._last_emit, self._last_phase = now, phase
            self.events.emit("progress", done=done, total=total, message=message, phase=phase, eta_s=eta)

    def should_stop(self) -> bool:
        return self._stop.is_set()

    def metric(self, step: int, values: dict[str, float]) -> None:
        self.events.emit("metric", step=step, values=values)

    def log(self, message: str, level: str = "info") -> None:
        self.events.emit("log", level=level, message=message)

    def artifact(self, name: str, path: str, step: int | None = None) -> None:
        self.events.emit("artifact", name=name, path=path, **({"step": step} if step is not None else {}))

    def checkpoint(self, step: int, path: str | None = None) -> None:
        self.store.jobs.set_checkpoint(self.job_id, step)
        self.artifact("checkpoint", path or "", step)

    # -- stopping ------------------------------------------------------------------------------------
    def request_stop(self, why: str) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self.stop_requested_at = time.monotonic()
            self.log(why)

    def on_signal(self, signum: int, frame: Any) -> None:
        if self._stop.is_set():
            os._exit(128 + signum)  # second signal: no more waiting
        self.request_stop(f"signal {signal.Signals(signum).name}: stopping after saving a checkpoint")

    def _finish(self, state: str, **kwargs: Any) -> bool:
        with self._finish_lock:
            if self._finished:
                return False
            self._finished = True
        try:
            self.monitor.flush()
        except Exception:
            pass
        self.store.jobs.finish(self.job_id, state, **kwargs)
        return True

    def hard_stop(self, message: str) -> None:
        state = "cancelled" if self.monitor.cancel_seen else "interrupted"
        if self._finish(state, message=message):
            self.events.emit("done", final=True, state=state, result=None, message=message)
            self.events.close()
            os._exit(EXIT_CANCELLED if state == "cancelled" else EXIT_INTERRUPTED)

    def _stopped_state(self) -> str:
        if self.monitor.cancel_seen:
            return "cancelled"
        try:
            return "cancelled" if self.store.jobs.cancel_requested(self.job_id) else "interrupted"
        except Exception:
            return "interrupted"

    # -- the run --------------------------------------------------------------------------------------
    def run(self) -> int:
        from cinestudio.errors import UserInputError
        from cinestudio.jobs.context import JobContext
        from cinestudio.progress import Cancelled
        from cinestudio.store.jobs import this_host

        job = self.job
        resume_step = job.checkpoint_step
        self.events.emit("started", attempt=job.attempts, pid=os.getpid(), host=this_host(), device=self.device,
                         resume_step=resume_step, run_dir=job.run_dir, kind=job.kind)
        self.monitor.start()
        ctx = JobContext(job_id=job.id, kind=job.kind, config=dict(job.config), run_dir=self.run_dir,
                         workspace=self.store.paths.root, device=self.device, threads=self.threads,
                         attempt=job.attempts, resume_step=resume_step, store=self.store,
                         progress=self.progress, should_stop=self.should_stop, metric=self.metric, log=self.log,
                         artifact=self.artifact, checkpoint=self.checkpoint)
        try:
            result = self.kind.load_entry()(ctx)
        except Cancelled:
            state = self._stopped_state()
            step = self.store.jobs.get(self.job_id).checkpoint_step
            message = f"{state} (checkpoint at step {step})" if step is not None else state
            if self._finish(state, message=message):
                self.events.emit("done", final=True, state=state, result=None, message=message)
            return EXIT_CANCELLED if state == "cancelled" else EXIT_INTERRUPTED
        except UserInputError as exc:
            error = f"{exc.subject}: {exc.reason}"
            if self._finish("failed", error=error, message="failed"):
                self.events.emit("error", final=True, error=error, traceback=None)
            return EXIT_FAILED
        except BaseException as exc:  # a bug or a broken environment: keep the traceback
            tb = traceback.format_exc()
            print(tb, file=sys.stderr)
            error = f"{type(exc).__name__}: {exc}"
            if self._finish("failed", error=error, message="failed"):
                self.events.emit("error", final=True, error=error, traceback=tb)
            return EXIT_FAILED
        else:
            result = result if isinstance(result, dict) else {"value": result}
            if self._finish("succeeded", result=result, message="done"):
                self.events.emit("done", final=True, state="succeeded", result=result, message="done")
            return EXIT_OK
        finally:
            self.monitor.stop()
            self.events.close()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cinestudio.jobs.worker", description="Run one queued job.")
    p.add_argument("job_id", type=int)
    p.add_argument("--workspace", "-w", default=os.environ.get("CINESTUDIO_WORKSPACE"))
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:N (default: the job's own setting).")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for the use-case.")
    p.add_argument("--grace", type=float, default=DEFAULT_GRACE_S,
                   help="Seconds a stop request may take before the job is terminated.")
    p.add_argument("--nice", type=int, default=0,
                   help="Lower this worker's CPU priority by N (POSIX), so an interactive app stays responsive.")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.nice > 0 and hasattr(os, "nice"):
        try:
            os.nice(args.nice)
        except OSError:
            pass
    if args.threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    # stdout carries the protocol only: anything else printed (libraries, C code) goes to stderr.
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    from cinestudio.errors import UserInputError
    from cinestudio.jobs.kinds import get_kind
    from cinestudio.store import NotFoundError, open_workspace

    try:
        store = open_workspace(args.workspace)
    except UserInputError as exc:
        print(f"error: {exc.subject}: {exc.reason}", file=sys.stderr)
        return EXIT_USAGE
    try:
        try:
            job = store.jobs.get(args.job_id)
        except (NotFoundError, UserInputError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        try:
            job = store.jobs.start(job.id, pid=os.getpid())
        except UserInputError:
            print(f"error: job {job.id}: is {store.jobs.get(job.id).state}, not queued", file=sys.stderr)
            return EXIT_NOT_QUEUED
        try:
            kind = get_kind(job.kind)
        except UserInputError as exc:
            store.jobs.finish(job.id, "failed", error=f"{exc.subject}: {exc.reason}")
            print(f"error: {exc.subject}: {exc.reason}", file=sys.stderr)
            return EXIT_FAILED
        worker = Worker(store, job, kind, proto, device=args.device, threads=args.threads, grace_s=args.grace)
        signal.signal(signal.SIGTERM, worker.on_signal)
        signal.signal(signal.SIGINT, worker.on_signal)
        return worker.run()
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
