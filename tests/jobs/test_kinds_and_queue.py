"""Job kinds (clip-train validation, without torch), the queue's launch plan, and the jobs CLI on
queued jobs (no workers)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields

import pytest
from typer.testing import CliRunner

from cinestudio.cli import app
from cinestudio.errors import UserInputError
from cinestudio.jobs import clip_train, service
from cinestudio.jobs.kinds import get_kind, kind_names
from cinestudio.jobs.runner import plan_launches


def test_clip_train_mirrors_cameraclip_constants():
    from cinestudio.cameraclip.pooling import POOLINGS
    from cinestudio.cameraclip.train import TrainConfig

    from cinestudio.cameraclip import infer
    from cinestudio.cameraclip import train as train_mod
    from cinestudio.jobs import clip_train_run as run

    assert clip_train.POOLINGS == POOLINGS
    assert (run.CONFIG_NAME, run.WEIGHTS_NAME, run.LAST_CHECKPOINT) == (infer.CONFIG_NAME, infer.WEIGHTS_NAME,
                                                                        infer.LAST_CHECKPOINT)
    assert (run.METRICS_NAME, run.PLOT_NAME) == (train_mod.METRICS_NAME, train_mod.PLOT_NAME)
    names = {f.name for f in fields(TrainConfig)}
    assert set(clip_train.ADVANCED) <= names and set(clip_train.DEFAULTS) - {"evaluate"} <= names
    defaults = TrainConfig(data="d", out="o")
    differ = {k: (v, getattr(defaults, k)) for k, v in clip_train.DEFAULTS.items()
              if k in names and v != getattr(defaults, k)}
    assert differ == {"max_minutes": (None, 15.0)}  # a job runs to its epochs (it can be cancelled and resumed)


def test_jobs_package_and_the_gui_side_stay_free_of_torch():
    code = ("import sys, cinestudio.jobs.service, cinestudio.jobs.runner, cinestudio.jobs.kinds as k; k.kind_names();"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'open_clip', 'PySide6')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_clip_train_validation_fills_defaults_and_rejects_bad_input(store, tiny_set):
    assert "clip-train" in kind_names() and get_kind("clip-train").device_class == "gpu"
    cfg = service.validate(store, "clip-train", {"data": str(tiny_set), "epochs": 2, "batch_size": 6})
    assert cfg["pooling"] == "motion" and cfg["model"] == "cameraclip-tiny-rn" and cfg["evaluate"] is True
    assert cfg["warmup_steps"] == 1 and cfg["log_every"] == 1          # short run: short warm-up, every step logged
    bad = [({"epochs": 2}, "data"), ({"data": str(tiny_set), "epochs": 0}, "epochs"),
           ({"data": str(tiny_set), "pooling": "max"}, "max"), ({"data": str(tiny_set), "lr": "fast"}, "lr"),
           ({"data": str(tiny_set), "bogus": 1}, "bogus"), ({"data": str(tiny_set / "nope")}, "nope"),
           ({"data": "workspace:verified"}, "workspace:verified")]
    for config, subject in bad:
        with pytest.raises(UserInputError) as err:
            service.validate(store, "clip-train", config)
        assert subject in err.value.subject, (config, err.value)
    with pytest.raises(UserInputError):
        service.submit(store, "clip-train", {"data": str(tiny_set)}, device="tpu")
    with pytest.raises(UserInputError):
        service.submit(store, "no-such-kind", {})


def test_data_inside_the_workspace_is_stored_relative_and_missing_clips_are_caught(store, tiny_set, tmp_path):
    import shutil

    inside = store.paths.root / "sets" / "tiny"
    shutil.copytree(tiny_set, inside)
    assert service.validate(store, "clip-train", {"data": str(inside)})["data"] == "sets/tiny"
    (inside / "static_00.mp4").unlink()
    with pytest.raises(UserInputError, match="1 of 14 clip files are missing"):
        service.validate(store, "clip-train", {"data": "sets/tiny"})


def test_the_queue_runs_one_gpu_job_at_a_time_and_n_cpu_jobs_oldest_first(store, tiny_set):
    cfg = {"data": str(tiny_set)}
    jobs = [service.submit(store, "clip-train", cfg, device=d) for d in ("cuda", "cuda", "cpu", "auto", "cpu", "cpu")]
    plan = plan_launches(jobs, gpu_busy=0, cpu_busy=0, cpu_slots=2, gpu=True)
    assert [(p.job.id, p.device, p.gpu) for p in plan] == [(jobs[0].id, "cuda", True), (jobs[2].id, "cpu", False),
                                                           (jobs[4].id, "cpu", False)]
    plan = plan_launches(jobs, gpu_busy=1, cpu_busy=1, cpu_slots=2, gpu=True)   # GPU taken: CPU jobs go on
    assert [p.job.id for p in plan] == [jobs[2].id]
    plan = plan_launches(jobs[3:], gpu_busy=0, cpu_busy=0, cpu_slots=1, gpu=False)  # no GPU: auto runs on CPU
    assert [(p.job.id, p.device) for p in plan] == [(jobs[3].id, "cpu")]


def test_jobs_cli_submit_list_show_cancel_resume_logs(store, tiny_set):
    runner = CliRunner()
    ws = str(store.paths.root)

    def cli(*args):
        return runner.invoke(app, ["--workspace", ws, "jobs", *map(str, args)])

    res = cli("submit", "clip-train", "--set", f"data={tiny_set}", "--set", "epochs=2", "--set", "lr=0.002",
              "--device", "cpu", "--json")
    assert res.exit_code == 0, res.output
    job = json.loads(res.stdout)
    assert job["state"] == "queued" and job["config"]["epochs"] == 2 and job["run_dir"].endswith("clip-train-0001")
    rows = json.loads(cli("list", "--json").stdout)
    assert [r["id"] for r in rows] == [job["id"]]
    assert "queued" in cli("list").stdout
    shown = json.loads(cli("show", job["id"], "--json").stdout)
    assert shown["device"] == "cpu" and shown["progress"]["done"] == 0
    assert json.loads(cli("cancel", job["id"], "--json").stdout)["state"] == "cancelled"   # queued: at once
    assert json.loads(cli("resume", job["id"], "--json").stdout)["state"] == "queued"
    assert cli("logs", job["id"]).exit_code == 0
    res = cli("submit", "clip-train", "--set", "epochs=2")
    assert res.exit_code == 2 and res.stderr.startswith("error: data:") and len(res.stderr.strip().splitlines()) == 1
    res = cli("show", 99)
    assert res.exit_code == 2 and "99" in res.stderr
