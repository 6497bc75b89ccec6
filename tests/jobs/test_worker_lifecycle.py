"""Real workers on a tiny real training: cancel, kill -9 → interrupted → resume, a failing job."""

from __future__ import annotations

import json
import os
import shutil
import signal

from cinestudio.jobs import service
from cinestudio.jobs.clip_train_run import checkpoint_step
from cinestudio.jobs.procs import worker_alive
from cinestudio.jobs.protocol import decode, read_events
from cinestudio.jobs.runner import QueueRunner
from cinestudio.jobs.worker import EXIT_CANCELLED, EXIT_FAILED
from tests.jobs.helpers import TINY_TRAIN, start_worker, wait_for


def _messages(stdout: str) -> list[dict]:
    return [m for m in map(decode, stdout.splitlines()) if m is not None]


def test_cancel_a_running_job_saves_a_checkpoint_and_ends_cancelled(store, tiny_set):
    job = service.submit(store, "clip-train", {**TINY_TRAIN, "data": str(tiny_set), "epochs": 100}, device="cpu")
    proc = start_worker(store.paths.root, job.id)
    try:
        wait_for(lambda: (j := store.jobs.get(job.id)).progress_done >= 1 and (j.message or "").startswith("epoch"),
                 timeout=120, what="the first training step")
        assert service.cancel(store, job.id).state == "running"          # asked, not forced
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == EXIT_CANCELLED, err
    done = store.jobs.get(job.id)
    assert done.state == "cancelled" and done.finished_at is not None
    assert done.checkpoint_step is not None and done.checkpoint_step >= 1
    run = service.run_path(store, done)
    assert checkpoint_step(run / "checkpoints" / "last.safetensors") == done.checkpoint_step
    messages = _messages(out)
    assert messages[0]["type"] == "started" and messages[-1]["type"] == "done"
    assert messages[-1]["state"] == "cancelled"
    assert any(m["type"] == "log" and "cancel requested" in m["message"] for m in messages)
    assert messages == read_events(run / "events.jsonl")                 # stdout and the file agree
    # a cancelled job can be resumed; it keeps its checkpoint step
    again = service.resume(store, job.id)
    assert again.state == "queued" and again.checkpoint_step == done.checkpoint_step


def test_kill9_of_a_worker_leaves_the_job_interrupted_and_resume_continues_from_the_checkpoint(store, tiny_set):
    job = service.submit(store, "clip-train", {**TINY_TRAIN, "data": str(tiny_set), "scale_expert_clips": 1,
                                               "scale_expert_epochs": 1}, device="cpu")
    total = 3 * 2                                                        # epochs × ceil(12 / 6)
    proc = start_worker(store.paths.root, job.id)
    try:
        wait_for(lambda: (store.jobs.get(job.id).checkpoint_step or 0) >= 2, timeout=120, what="a checkpoint")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
    killed = store.jobs.get(job.id)
    assert killed.state == "running" and killed.pid == proc.pid          # the database cannot know yet
    assert not worker_alive(killed)
    ckpt = killed.checkpoint_step

    # the next start (a runner, the GUI, `jobs list`) notices the dead worker
    assert [j.id for j in service.recover(store)] == [job.id]
    interrupted = store.jobs.get(job.id)
    assert interrupted.state == "interrupted" and "worker gone" in interrupted.message
    assert service.resume(store, job.id).state == "queued"

    messages: list[dict] = []
    QueueRunner(store, cpu_slots=1, threads=1).run(messages.append)     # what `cinestudio jobs run` does
    done = store.jobs.get(job.id)
    assert done.state == "succeeded", done.error
    assert done.attempts == 2 and done.result["steps"] == total and done.checkpoint_step == total
    started = [m for m in messages if m["type"] == "started"]
    assert len(started) == 1 and started[0]["resume_step"] == ckpt and started[0]["attempt"] == 2
    train_steps = [m["done"] for m in messages if m["type"] == "progress" and m.get("phase") == "train"]
    assert train_steps[0] == ckpt + 1 and train_steps[-1] == total       # the step count goes on
    assert any(m["type"] == "progress" and m.get("phase") == "expert" for m in messages)
    assert done.result["scale_expert"]["clips"] == 16                   # 4 framings × 4 scale moves × 1
    run = service.run_path(store, done)
    steps = [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()
             if "loss" in json.loads(x)]
    assert steps == list(range(1, total + 1))                            # no step logged twice
    assert "reused" not in done.result["scale_expert"]

    # a later job with the same expert settings copies the kept expert instead of training one
    later = service.submit(store, "clip-train", {**TINY_TRAIN, "data": str(tiny_set), "scale_expert_clips": 1,
                                                 "scale_expert_epochs": 1}, device="cpu")
    messages.clear()
    QueueRunner(store, cpu_slots=1, threads=1).run(messages.append)
    second = store.jobs.get(later.id)
    assert second.state == "succeeded", second.error
    assert second.result["scale_expert"]["reused"] and second.result["scale_expert"]["clips"] == 16
    expert_messages = [m["message"] for m in messages if m["type"] == "progress" and m.get("phase") == "expert"]
    assert expert_messages and all("reused" in m for m in expert_messages)


def test_a_failing_job_reports_its_error(store, tiny_set, tmp_path):
    data = tmp_path / "set"
    shutil.copytree(tiny_set, data)
    job = service.submit(store, "clip-train", {**TINY_TRAIN, "data": str(data)}, device="cpu")
    (data / "tilt_up_01.mp4").unlink()                   # the data changed after it was queued
    proc = start_worker(store.paths.root, job.id)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_FAILED, err
    failed = store.jobs.get(job.id)
    assert failed.state == "failed" and "1 of 14 clip files are missing (first: tilt_up_01.mp4)" in failed.error
    messages = _messages(out)
    assert messages[-1]["type"] == "error" and messages[-1]["error"] == failed.error
    assert service.job_dict(store, failed)["error"] == failed.error
    # failed jobs can be queued again (after fixing the data)
    assert service.resume(store, job.id).state == "queued"


def _crash(ctx):
    ctx.progress(1, 3, "working", phase="train")
    raise RuntimeError("the use-case broke")


def test_a_crashing_use_case_fails_the_job_with_its_traceback(store):
    """The worker's own error path, in-process: a bug in a use-case is a failed job whose error
    names it, with the traceback in the protocol (and no process left behind)."""
    import io

    from cinestudio.jobs.kinds import JobKind
    from cinestudio.jobs.worker import Worker

    kind = JobKind(name="crash", title="Crash", device_class="cpu", entry=f"{__name__}:_crash",
                   validate=lambda config, where: config)
    job = store.jobs.start(store.jobs.create("crash", {}, run_dir="runs/crash-1").id)
    out = io.StringIO()
    assert Worker(store, job, kind, out).run() == EXIT_FAILED
    failed = store.jobs.get(job.id)
    assert failed.state == "failed" and failed.error == "RuntimeError: the use-case broke"
    messages = _messages(out.getvalue())
    assert [m["type"] for m in messages] == ["started", "progress", "error"]
    assert "_crash" in messages[-1]["traceback"] and "RuntimeError" in messages[-1]["traceback"]


def test_a_job_that_ignores_cancel_is_terminated_after_the_grace_period(store):
    import subprocess

    from cinestudio.jobs.kinds import PLUGINS_ENV
    from tests.jobs.helpers import worker_cmd

    job = store.jobs.create("stuck", {})
    env = dict(os.environ, **{PLUGINS_ENV: "tests.jobs.stuck_kind"})
    proc = subprocess.Popen(worker_cmd(store.paths.root, job.id, "--grace", "1"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        wait_for(lambda: store.jobs.get(job.id).progress_done >= 3, timeout=60, what="progress")
        service.cancel(store, job.id)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == EXIT_CANCELLED, err
    done = store.jobs.get(job.id)
    assert done.state == "cancelled" and "did not stop within 1 s" in done.message
    assert _messages(out)[-1]["type"] == "done"
