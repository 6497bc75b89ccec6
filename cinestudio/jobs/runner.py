"""The queue runner: starts queued jobs as worker subprocesses, one GPU job at a time and up to
``cpu_slots`` CPU jobs, reads their protocol, and cleans up after workers that die.

    runner = QueueRunner(store, cpu_slots=1)
    runner.start()                               # running jobs with a dead worker -> interrupted
    while busy:
        for message in runner.poll(timeout=0.2): # protocol messages of its workers
            ...
    runner.shutdown()                            # workers checkpoint and end interrupted

`poll` never blocks longer than `timeout`. Jobs start oldest first within each device class (a CPU
job does not wait behind a GPU job that waits for the GPU). Slots count the running jobs of every
runner on this host, so a GUI and a ``cinestudio jobs run`` share one GPU politely; two runners
never start the same job (the worker's claim is one database transaction; the loser exits 75).

A cancel is the worker's to honour (checkpoint, then ``cancelled``); a worker that has not ended
``grace_s`` + 5 s after the request gets SIGTERM, then SIGKILL, and the runner marks the job
cancelled. A worker that dies on its own leaves the job ``interrupted`` (killed by a signal) or
``failed`` (any other exit), with the tail of ``worker.log``.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cinestudio.cpu_threads import usable_cpus
from cinestudio.errors import UserInputError
from cinestudio.jobs import service
from cinestudio.jobs.kinds import get_kind
from cinestudio.jobs.procs import WORKER_MODULE, gpu_available, resolved_device, uses_gpu
from cinestudio.jobs.protocol import STDERR_NAME, decode
from cinestudio.jobs.worker import DEFAULT_GRACE_S, EXIT_NOT_QUEUED
from cinestudio.store import JobRecord, WorkspaceStore
from cinestudio.store.jobs import this_host

PACKAGE_PARENT = Path(__file__).resolve().parents[2]
KILL_AFTER_TERM_S = 5.0

_live_lock = threading.Lock()
_live: dict[int, int] = {}   # pid -> job id, for every worker process a runner has not reaped


def live_worker_processes() -> dict[int, int]:
    """Worker processes started by runners in this process and not yet reaped (pid -> job id)."""
    with _live_lock:
        return dict(_live)


def default_threads(cpu_slots: int, gpu: bool) -> int:
    """CPU threads per job: the cores less one (the GUI, the runner, the system) shared by the CPU
    slots; GPU jobs get 2 (data work). Oversubscribed OpenMP threads spin on barriers: on 2 loaded
    cores a step with 2 threads took 10× longer than with 1."""
    if gpu:
        return 2
    return max(1, (usable_cpus() - 1) // max(1, cpu_slots))


@dataclass(frozen=True)
class Launch:
    job: JobRecord
    device: str
    gpu: bool


def plan_launches(queued: Iterable[JobRecord], *, gpu_busy: int, cpu_busy: int, cpu_slots: int,
                  gpu_slots: int = 1, gpu: bool | None = None) -> list[Launch]:
    """Which queued jobs to start now, oldest first per device class."""
    out = []
    for job in sorted(queued, key=lambda j: j.id):
        try:
            device_class = get_kind(job.kind).device_class
        except UserInputError:
            device_class = "cpu"     # the worker will fail it with the reason
        takes_gpu = uses_gpu(job.device, device_class, gpu)
        if takes_gpu and gpu_busy < gpu_slots:
            gpu_busy += 1
        elif not takes_gpu and cpu_busy < cpu_slots:
            cpu_busy += 1
        else:
            continue
        out.append(Launch(job, resolved_device(job.device, device_class, gpu), takes_gpu))
    return out


@dataclass
class _Child:
    job_id: int
    proc: subprocess.Popen
    gpu: bool
    reader: threading.Thread
    attempts: int = 0               # the job's attempts when spawned (the worker's start adds one)
    started: float = field(default_factory=time.monotonic)
    eof: bool = False
    cancel_at: float | None = None
    term_at: float | None = None


class QueueRunner:
    def __init__(self, store: WorkspaceStore, *, cpu_slots: int = 1, gpu_slots: int = 1,
                 grace_s: float = DEFAULT_GRACE_S, threads: int | None = None, python: str | None = None,
                 db_interval_s: float = 0.5, gpu: bool | None = None, nice: int = 0):
        if cpu_slots < 0 or gpu_slots < 0:
            raise UserInputError("slots", "job slots cannot be negative")
        self.store = store
        self.cpu_slots, self.gpu_slots = cpu_slots, gpu_slots
        self.grace_s = grace_s
        self.threads = threads
        self.nice = nice
        self.python = python or sys.executable
        self.db_interval_s = db_interval_s
        self.gpu = gpu_available() if gpu is None else gpu
        self.children: dict[int, _Child] = {}
        self._lines: queue.Queue[tuple[int, bytes | None]] = queue.Queue()
        self._last_db = 0.0
        self.queued_count = 0
        self.closed = False

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> list[JobRecord]:
        """Recover jobs left running by dead workers (now interrupted); returns them."""
        return service.recover(self.store)

    def poll(self, timeout: float = 0.0) -> list[dict[str, Any]]:
        """Messages from the workers (waiting up to `timeout` for the first); reaps, enforces cancel
        deadlines and starts jobs."""
        messages = self._drain(timeout)
        messages += self._reap()
        now = time.monotonic()
        if not self.closed and now - self._last_db >= self.db_interval_s:
            self._last_db = now
            self._check_cancels(now)
            self._launch()
        return messages

    @property
    def busy(self) -> bool:
        return bool(self.children) or self.queued_count > 0

    def run(self, on_message: Callable[[dict[str, Any]], None] | None = None, *, watch: bool = False,
            should_stop: Callable[[], bool] | None = None) -> None:
        """Drain the queue in the foreground (``watch``: keep waiting for new jobs)."""
        self.start()
        self._last_db = 0.0
        self.poll(0)
        while True:
            if should_stop is not None and should_stop():
                break
            for msg in self.poll(timeout=0.2):
                if on_message is not None:
                    on_message(msg)
            if not watch and not self.busy:
                break
        for msg in self.shutdown():
            if on_message is not None:
                on_message(msg)

    def shutdown(self, timeout_s: float = 30.0) -> list[dict[str, Any]]:
        """Ask every worker to stop (SIGTERM: checkpoint, end interrupted), wait, kill stragglers."""
        self.closed = True
        for child in self.children.values():
            if child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
                child.term_at = time.monotonic()
        deadline = time.monotonic() + timeout_s
        messages: list[dict[str, Any]] = []
        while self.children:
            messages += self._drain(0.1)
            messages += self._reap()
            if time.monotonic() > deadline:
                for child in self.children.values():
                    if child.proc.poll() is None:
                        child.proc.kill()
                deadline = time.monotonic() + 5.0
        return messages

    # -- internals --------------------------------------------------------------------------------
    def _drain(self, timeout: float) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        try:
            item = self._lines.get(timeout=timeout) if timeout > 0 else self._lines.get_nowait()
        except queue.Empty:
            return out
        while True:
            job_id, line = item
            if line is None:
                if job_id in self.children:
                    self.children[job_id].eof = True
            else:
                msg = decode(line)
                if msg is not None:
                    msg.setdefault("job", job_id)
                    out.append(msg)
            try:
                item = self._lines.get_nowait()
            except queue.Empty:
                return out

    def _reap(self) -> list[dict[str, Any]]:
        out = []
        for job_id, child in list(self.children.items()):
            if child.proc.poll() is None or not child.eof:
                continue
            child.reader.join(1.0)
            if child.proc.stdout is not None:
                child.proc.stdout.close()
            del self.children[job_id]
            with _live_lock:
                _live.pop(child.proc.pid, None)
            msg = self._after_exit(child)
            if msg is not None:
                out.append(msg)
        return out

    def _after_exit(self, child: _Child) -> dict[str, Any] | None:
        """Settle the job of a worker that exited without finishing it."""
        rc = child.proc.returncode
        if rc == EXIT_NOT_QUEUED:
            return None
        try:
            job = self.store.jobs.get(child.job_id)
        except Exception:
            return None
        if job.state == "queued" and job.attempts == child.attempts:
            # died before it could claim the job (broken install, bad arguments): fail it, or the
            # runner would start it again and again
            job = self.store.jobs.start(job.id, pid=child.proc.pid)
        elif job.state != "running" or job.pid != child.proc.pid:
            return None              # the worker finished it, or another worker owns it now
        tail = service.stderr_tail(self.store, job, 5)
        if child.cancel_at is not None:
            state, error, message = "cancelled", None, "did not stop within the grace period: terminated"
        elif rc < 0:
            name = signal.Signals(-rc).name if -rc in signal.Signals._value2member_map_ else str(-rc)
            state, error, message = "interrupted", None, f"worker killed by {name}"
        else:
            state, message = "failed", "failed"
            error = f"worker exited with code {rc}" + (f": {tail.splitlines()[-1]}" if tail.strip() else "")
        self.store.jobs.finish(job.id, state, error=error, message=message)
        if state == "failed":
            return {"type": "error", "job": job.id, "error": error, "traceback": tail or None, "t": time.time()}
        return {"type": "done", "job": job.id, "state": state, "message": message, "result": None, "t": time.time()}

    def _check_cancels(self, now: float) -> None:
        if not self.children:
            return
        running = {j.id: j for j in self.store.jobs.find(states="running")}
        for child in self.children.values():
            job = running.get(child.job_id)
            if job is not None and job.cancel_requested and child.cancel_at is None:
                child.cancel_at = now
            if child.cancel_at is None or child.proc.poll() is not None:
                continue
            if child.term_at is None and now - child.cancel_at > self.grace_s + KILL_AFTER_TERM_S:
                child.proc.send_signal(signal.SIGTERM)
                child.term_at = now
            elif child.term_at is not None and now - child.term_at > KILL_AFTER_TERM_S:
                child.proc.kill()

    def _busy_slots(self) -> tuple[int, int]:
        gpu_busy = sum(c.gpu for c in self.children.values())
        cpu_busy = len(self.children) - gpu_busy
        here = this_host()
        for job in self.store.jobs.find(states="running"):
            if job.id in self.children or job.host != here:
                continue
            try:
                device_class = get_kind(job.kind).device_class
            except UserInputError:
                device_class = "cpu"
            if uses_gpu(job.device, device_class, self.gpu):
                gpu_busy += 1
            else:
                cpu_busy += 1
        return gpu_busy, cpu_busy

    def _launch(self) -> None:
        queued = [j for j in self.store.jobs.find(states="queued", limit=200) if j.id not in self.children]
        self.queued_count = len(queued)
        if not queued:
            return
        gpu_busy, cpu_busy = self._busy_slots()
        for launch in plan_launches(queued, gpu_busy=gpu_busy, cpu_busy=cpu_busy, cpu_slots=self.cpu_slots,
                                    gpu_slots=self.gpu_slots, gpu=self.gpu):
            self._spawn(launch)
            self.queued_count -= 1

    def _spawn(self, launch: Launch) -> None:
        job = launch.job
        if not job.run_dir:
            job = self.store.jobs.set_run_dir(job.id, f"runs/{job.kind}-{job.id:04d}")
        run_dir = service.run_path(self.store, job)
        assert run_dir is not None
        run_dir.mkdir(parents=True, exist_ok=True)
        threads = self.threads or default_threads(self.cpu_slots, launch.gpu)
        cmd = [self.python, "-m", WORKER_MODULE, str(job.id), "--workspace", str(self.store.paths.root),
               "--device", launch.device, "--grace", str(self.grace_s)]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_PARENT), env.get("PYTHONPATH")) if p)
        if self.nice > 0:
            cmd += ["--nice", str(self.nice)]
        if threads:
            cmd += ["--threads", str(threads)]
            env["OMP_NUM_THREADS"] = str(threads)
        with open(run_dir / STDERR_NAME, "ab") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                    cwd=str(self.store.paths.root), start_new_session=True)
        reader = threading.Thread(target=_read_lines, args=(job.id, proc.stdout, self._lines),
                                  name=f"job-{job.id}-reader", daemon=True)
        with _live_lock:
            _live[proc.pid] = job.id
        self.children[job.id] = _Child(job.id, proc, launch.gpu, reader, attempts=job.attempts)
        reader.start()


def _read_lines(job_id: int, stream: Any, sink: queue.Queue) -> None:
    try:
        for line in iter(stream.readline, b""):
            sink.put((job_id, line))
    except (OSError, ValueError):
        pass
    finally:
        sink.put((job_id, None))


__all__ = ["Launch", "QueueRunner", "live_worker_processes", "plan_launches"]
