"""The lora-train / diff-train-base job kinds: validation without torch, the worker adapter in
process, and ``lora train-all`` queueing one job per class."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest
from typer.testing import CliRunner

from cinestudio.errors import UserInputError
from cinestudio.jobs import lora_train, service
from cinestudio.jobs.context import JobContext
from cinestudio.store import open_workspace
from tests.cameraclip.clips import make_clips


@pytest.fixture(scope="module")
def clip_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("jobclips")
    make_clips(folder, per_move=1, seed=2, frames=8, size=32, moves=("static", "pan_left", "pan_right", "zoom_in"))
    return folder


def test_mirrors_cameradiff():
    from cinestudio.cameradiff import lora
    from cinestudio.cameradiff.backend import HUB_ID
    from cinestudio.cameradiff.train_base import BaseTrainConfig
    from cinestudio.cameradiff.train_lora import LoraTrainConfig

    assert lora_train.HUB_ID.pattern == HUB_ID.pattern
    assert set(lora_train.TARGETS) == {"auto", *lora.TARGETS}
    assert set(lora_train.LORA_OPTIONS) <= {f.name for f in fields(LoraTrainConfig)}
    assert set(lora_train.BASE_OPTIONS) <= {f.name for f in fields(BaseTrainConfig)}


def test_validation(tmp_path, clip_set, tiny_base):
    with open_workspace(tmp_path / "ws") as store:
        cfg = service.validate(store, "lora-train", {"type": "pan_left", "data": str(clip_set), "base": str(tiny_base),
                                                     "steps": 3, "frames": 4})
        assert cfg["type"] == "pan_left" and cfg["steps"] == 3 and cfg["base"] == str(tiny_base.resolve())
        assert service.validate(store, "lora-train", {"type": "pan_left", "data": str(clip_set),
                                                      "base": "someone/some-base"})["base"] == "someone/some-base"
        bad = [({"type": "nope", "data": str(clip_set), "base": str(tiny_base)}, "nope"),
               ({"type": "pan_left", "data": str(clip_set), "base": str(tmp_path / "none")}, "none"),
               ({"type": "pan_left", "data": str(clip_set), "base": str(clip_set)}, str(clip_set)),
               ({"type": "pan_left", "data": str(clip_set), "base": str(tiny_base), "rank": 0}, "rank"),
               ({"type": "pan_left", "data": str(clip_set), "base": str(tiny_base), "steps": "many"}, "steps"),
               ({"type": "pan_left", "data": str(clip_set), "base": str(tiny_base), "bogus": 1}, "bogus"),
               ({"type": "extreme_long_shot", "data": str(clip_set), "base": str(tiny_base)}, str(clip_set)),
               ({"type": "pan_left", "base": str(tiny_base)}, "data")]
        for config, subject in bad:
            with pytest.raises(UserInputError) as err:
                service.validate(store, "lora-train", config)
            assert subject in err.value.subject, (config, err.value)
        base = service.validate(store, "diff-train-base", {"data": str(clip_set), "size": 32, "steps": 10})
        assert base["size"] == 32
        base = service.validate(store, "diff-train-base", {"data": str(clip_set), "movements": "static, pan_left",
                                                           "text": "movement", "motion_lr_scale": 2,
                                                           "vae_from": str(tiny_base)})
        assert base["movements"] == ["static", "pan_left"] and base["motion_lr_scale"] == 2.0
        assert base["vae_from"] == str(tiny_base.resolve())
        for bad_cfg, subject in (({"text": "poems"}, "text"), ({"vae_from": str(tmp_path / "none")}, "none")):
            with pytest.raises(UserInputError) as err:
                service.validate(store, "diff-train-base", {"data": str(clip_set), **bad_cfg})
            assert subject in err.value.subject
        with pytest.raises(UserInputError, match="multiple of 16"):
            service.validate(store, "diff-train-base", {"data": str(clip_set), "size": 40})


def test_worker_adapter_in_process(tmp_path, clip_set, tiny_base):
    events: list[tuple] = []
    with open_workspace(tmp_path / "ws") as store:
        cfg = service.validate(store, "lora-train", {"type": "pan_left", "data": str(clip_set), "base": str(tiny_base),
                                                     "steps": 2, "frames": 4, "resolution": 16, "rank": 2,
                                                     "preview_every": 1, "preview_steps": 2, "checkpoint_every": 1,
                                                     "log_every": 1})
        run_dir = store.paths.root / "runs" / "lora-train-0001"
        run_dir.mkdir(parents=True)
        for name in ("events.jsonl", "worker.log"):   # the worker has written these before the run starts
            (run_dir / name).write_text("", encoding="utf-8")
        ctx = JobContext(job_id=1, kind="lora-train", config=cfg, run_dir=run_dir, workspace=store.paths.root,
                         device="cpu", threads=1,
                         metric=lambda step, values: events.append(("metric", step, values)),
                         artifact=lambda name, path, step=None: events.append(("artifact", name, path)),
                         checkpoint=lambda step, path: events.append(("checkpoint", step, path)))
        from cinestudio.jobs.lora_train_run import run_lora

        result = run_lora(ctx)
    assert result["lora"] == "pan_left.safetensors" and result["run"] == "runs/lora-train-0001"
    kinds = {e[0] for e in events}
    assert kinds == {"metric", "artifact", "checkpoint"}
    assert ("artifact", "lora", "pan_left.safetensors") in events
    assert any(e[0] == "artifact" and e[1] == "preview" for e in events)
    from cinestudio.cameradiff.runs import list_loras

    listed = list_loras(tmp_path / "ws" / "runs", tmp_path / "ws")
    assert [(e["type"], e["status"]) for e in listed] == [("pan_left", "complete")]


def test_train_all_queues_one_job_per_class(tmp_path, clip_set, tiny_base):
    from cinestudio.cli import app

    ws = tmp_path / "ws"
    res = CliRunner().invoke(app, ["--workspace", str(ws), "lora", "train-all", "--data", str(clip_set), "--base",
                                   str(tiny_base), "--type", "pan_left", "--type", "zoom_in", "--steps", "5", "--json"])
    assert res.exit_code == 0, res.output
    queued = json.loads(res.stdout)["queued"]
    assert [q["type"] for q in queued] == ["pan_left", "zoom_in"]
    with open_workspace(ws) as store:
        jobs = [store.jobs.get(q["id"]) for q in queued]
    assert all(j.kind == "lora-train" and j.state == "queued" and j.config["steps"] == 5 for j in jobs)


def test_train_all_over_the_whole_scheme_skips_the_classes_the_data_lacks(tmp_path, clip_set, tiny_base):
    from cinestudio.cli import app
    from cinestudio.taxonomy import load_taxonomy

    ws = tmp_path / "ws"
    res = CliRunner().invoke(app, ["--workspace", str(ws), "lora", "train-all", "--data", str(clip_set), "--base",
                                   str(tiny_base), "--steps", "5", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    queued, skipped = [q["type"] for q in out["queued"]], [s["type"] for s in out["skipped"]]
    tax = load_taxonomy()
    assert sorted(queued + skipped) == sorted(tax.all_keys()) and skipped
    assert set(tax.keys("movement")) <= set(queued)      # any clip teaches a movement (augmented)
    assert all("has no clip labelled" in s["reason"] for s in out["skipped"])
    with open_workspace(ws) as store:
        assert len(store.jobs.find(kind="lora-train")) == len(queued)
