"""The diffusion backend: CameraDiff (+ CLIPLoRA) per shot, as ``render`` jobs of the workspace.

`DiffusionBackend(store).render_items(board, items, cache)` queues one job per shot (config from
`render_job.job_config`; the job writes its clip into `cache` under the shot's content hash), then
drives them: a queued job is started as a worker subprocess here (``python -m
cinestudio.jobs.worker ID``; if another queue runner, e.g. the Train tab's, took it first, this
waits for it through the database), its JSON-lines progress is relayed, and ``should_stop()``
cancels every job of the batch that is not finished (the worker stops at the next denoising
step). Jobs run one at a time, so a batch never fights itself for the GPU.

Nothing here imports torch: the GUI may use it (it only starts processes and reads the database).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from cinestudio.errors import UserInputError
from cinestudio.progress import Cancelled, ProgressFn, StopFn
from cinestudio.storyboard.cache import CachedRender, RenderCache
from cinestudio.storyboard.model import Board
from cinestudio.storyboard.plan import PlanItem
from cinestudio.storyboard.render_job import KIND, job_config

FINAL = ("succeeded", "failed", "cancelled", "interrupted")
EXIT_NOT_QUEUED = 75
POLL_S = 0.2


class DiffusionBackend:
    name = "diffusion"

    def __init__(self, store: Any = None, device: str = "auto", *, threads: int | None = None,
                 python: str | None = None, timeout_s: float | None = None):
        if store is None:
            raise UserInputError("--backend diffusion", "diffusion renders run as jobs: give a workspace")
        self.store, self.device, self.threads = store, device, threads
        self.python = python or sys.executable
        self.timeout_s = timeout_s
        self.jobs: list[int] = []          # the jobs of the last batch (for callers and tests)

    # -- submitting ---------------------------------------------------------------------------------

    def submit(self, board: Board, items: list[PlanItem], cache: RenderCache) -> list[int]:
        from cinestudio.jobs import service

        root = self.store.paths.root
        cache_root = cache.root.resolve()
        try:
            cache_ref: str | Path = cache_root.relative_to(root.resolve()).as_posix()
        except ValueError:
            cache_ref = cache_root
        ids = []
        for it in items:
            cfg = job_config(board, it.index, it.content_hash, cache_ref)
            ids.append(service.submit(self.store, KIND, cfg, device=self.device).id)
        self.jobs = ids
        return ids

    # -- running ------------------------------------------------------------------------------------

    def render_items(self, board: Board, items: list[PlanItem], cache: RenderCache, *,
                     progress: ProgressFn | None = None,
                     should_stop: StopFn | None = None) -> dict[str, CachedRender]:
        if not items:
            return {}
        ids = self.submit(board, items, cache)
        n = len(ids)
        try:
            for i, (it, job_id) in enumerate(zip(items, ids)):
                def sub(d: int, t: int, m: str = "", _i=i, _it=it, _id=job_id) -> None:
                    if progress is not None:
                        frac = d / t if t else 0.0
                        progress(int(1000 * (_i + frac) / n), 1000, f"shot {_it.index + 1} (job {_id}): {m}")

                self._drive(job_id, sub, should_stop)
                job = self.store.jobs.get(job_id)
                if job.state != "succeeded":
                    if job.state in ("cancelled", "interrupted"):
                        raise Cancelled(f"job {job_id} {job.state}")
                    raise UserInputError(f"shot {it.index + 1}", f"diffusion render failed (job {job_id}): "
                                                                 f"{job.error or job.state}")
        except BaseException:
            self._cancel_rest(ids)
            raise
        out = {}
        for it in items:
            entry = cache.get(it.content_hash)
            if entry is None:
                raise UserInputError(f"shot {it.index + 1}", "the render job finished without a clip in the cache")
            out[it.content_hash] = entry
        return out

    def _cancel_rest(self, ids: list[int]) -> None:
        from cinestudio.jobs import service

        for job_id in ids:
            try:
                if self.store.jobs.get(job_id).state not in FINAL:
                    service.cancel(self.store, job_id)
            except UserInputError:
                pass

    def _drive(self, job_id: int, progress: ProgressFn, should_stop: StopFn | None) -> None:
        """Run `job_id` in a worker started here (or wait for whoever runs it) until it ends."""
        from cinestudio.jobs import service

        job = self.store.jobs.get(job_id)
        proc = self._spawn(job) if job.state == "queued" else None
        last: dict[str, Any] = {}
        reader = None
        if proc is not None:
            reader = threading.Thread(target=_read_progress, args=(proc, last), name=f"job-{job_id}-reader",
                                      daemon=True)
            reader.start()
        started = time.monotonic()
        cancelled = False
        try:
            while True:
                if should_stop is not None and should_stop() and not cancelled:
                    cancelled = True
                    service.cancel(self.store, job_id)
                msg = last.get("progress")
                if msg is not None:
                    progress(int(msg.get("done") or 0), int(msg.get("total") or 0), str(msg.get("message") or ""))
                if proc is not None:
                    code = proc.poll()
                    if code is not None:
                        if code != EXIT_NOT_QUEUED:
                            break
                        proc = None          # another runner took the job: follow it in the database
                if proc is None:
                    job = self.store.jobs.get(job_id)
                    if job.state in FINAL:
                        break
                    if job.progress_total:
                        progress(job.progress_done, job.progress_total, job.message or "")
                if self.timeout_s is not None and time.monotonic() - started > self.timeout_s:
                    service.cancel(self.store, job_id)
                    raise UserInputError(f"job {job_id}", f"no result after {self.timeout_s:g} s")
                time.sleep(POLL_S)
        finally:
            if proc is not None and proc.poll() is None:
                proc.wait(60)
            if reader is not None:
                reader.join(5)
        if cancelled:
            raise Cancelled("render cancelled")

    def _spawn(self, job) -> subprocess.Popen:
        from cinestudio.jobs import service
        from cinestudio.resources import PROJECT_ROOT

        if not job.run_dir:
            job = self.store.jobs.set_run_dir(job.id, f"runs/{job.kind}-{job.id:04d}")
        run_dir = service.run_path(self.store, job)
        run_dir.mkdir(parents=True, exist_ok=True)
        from cinestudio.jobs.procs import resolved_device, uses_gpu
        from cinestudio.jobs.runner import default_threads

        device = resolved_device(self.device or "auto", "gpu")      # as the queue runner does
        threads = self.threads or default_threads(1, uses_gpu(device, "gpu"))
        cmd = [self.python, "-m", "cinestudio.jobs.worker", str(job.id), "--workspace", str(self.store.paths.root),
               "--device", device, "--threads", str(threads)]
        env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS=str(threads))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
        with open(run_dir / "worker.log", "ab") as err:
            return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                    cwd=str(self.store.paths.root), start_new_session=True)


def _read_progress(proc: subprocess.Popen, last: dict[str, Any]) -> None:
    from cinestudio.jobs.protocol import decode

    try:
        for line in iter(proc.stdout.readline, b""):
            msg = decode(line)
            if msg is not None and msg.get("type") in ("progress", "done", "error"):
                last[msg["type"]] = msg
    except (OSError, ValueError):
        pass
    finally:
        try:
            proc.stdout.close()
        except OSError:
            pass
