"""The Train tab with pytest-qt against a tiny real CameraCLIP training (no fakes): validation,
start, live curves, cancel, resume from the checkpoint, results, the pre-labelling model — and the
UI thread never blocked while the job runs."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from cinestudio.dataset.prelabel import resolve_cameraclip_run
from cinestudio.gui.train.latency import UiLatencyProbe
from cinestudio.gui.train.tab import TrainTab
from cinestudio.store import open_workspace
from cinestudio.store.settings import CAMERACLIP_RUN
from tests.jobs.helpers import check_no_leaks, child_pids, make_tiny_set

SLOW_MS = 50.0


@pytest.fixture(autouse=True)
def _no_leaked_processes():
    before = child_pids()
    yield
    leaks = check_no_leaks(before)
    assert not leaks, f"leaked: {', '.join(leaks)}"


@pytest.fixture
def workspace(tmp_path):
    root = tmp_path / "ws"
    make_tiny_set(root / "sim")            # a simulator set inside the workspace: the form finds it
    open_workspace(root).close()
    return root


def _job(tab):
    return tab.selected_job()


# Enough steps that the cancel lands while it trains: with 3 epochs (6 steps) an idle machine
# finished the job before the tab had shown its first loss point.
EPOCHS = 20


def test_train_tab_validates_trains_cancels_resumes_finishes_and_sets_the_prelabelling_model(qtbot, workspace):
    tab = TrainTab(workspace)
    qtbot.addWidget(tab)
    tab.resize(1280, 760)
    tab.show()
    form = tab.form
    qtbot.waitUntil(lambda: form.data.findData("sim") >= 0 and form.start.isEnabled(), timeout=20_000)
    assert form.data.currentData() == "sim" and "14 clips, 2 for validation" in form.data_info.text()
    # each choice's label fits the box at this width; its tooltip says the rest
    from PySide6.QtCore import Qt

    metrics = form.data.fontMetrics()
    for i in range(form.data.count()):
        assert metrics.horizontalAdvance(form.data.itemText(i)) < form.data.width() - 30, form.data.itemText(i)
        assert form.data.itemData(i, Qt.ItemDataRole.ToolTipRole)
    sim_tip = form.data.itemData(form.data.findData("sim"), Qt.ItemDataRole.ToolTipRole)
    assert "labels.jsonl" in sim_tip and "14 clips" in sim_tip

    # validation before anything starts: the workspace has no annotated clips
    form.data.setCurrentIndex(form.data.findData("workspace:annotated"))
    qtbot.waitUntil(lambda: "needs at least" in form.problem.text(), timeout=10_000)
    assert not form.start.isEnabled()
    form.data.setCurrentIndex(form.data.findData("sim"))
    form.epochs.setValue(EPOCHS)
    form.batch.setValue(6)
    form.lr.setValue(0.002)
    form.device.setCurrentText("cpu")
    form.extra = {"num_frames": 4, "seed": 1}
    assert "scale_expert_clips" not in form.config()  # the experts are on by default (the documented run)
    form.expert.setChecked(False)                      # ... and take minutes: not in this test
    assert form.config()["scale_expert_clips"] == form.config()["track_expert_clips"] == 0
    assert form.config()["movement_cnn_epochs"] == 0
    form.changed()
    qtbot.waitUntil(lambda: form.start.isEnabled(), timeout=10_000)

    probe = UiLatencyProbe()
    probe.start()
    qtbot.mouseClick(form.start, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _job(tab) is not None and _job(tab).state == "running", timeout=30_000)
    job_id = _job(tab).id
    assert tab.model.job_at(0).id == job_id

    # the loss curve moves while it trains
    qtbot.waitUntil(lambda: tab.view.curves.points("loss") >= 1, timeout=120_000)
    assert tab.view.cancel.isEnabled() and not tab.view.resume.isEnabled()
    qtbot.mouseClick(tab.view.cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _job(tab).state == "cancelled", timeout=120_000)
    ckpt = _job(tab).checkpoint_step
    assert ckpt is not None and ckpt >= 1
    assert "cancelled" in tab.view.title.text()

    # resume: continues from the checkpoint and finishes (with its evaluation)
    qtbot.waitUntil(lambda: tab.view.resume.isEnabled(), timeout=5_000)
    qtbot.mouseClick(tab.view.resume, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _job(tab).state == "succeeded", timeout=180_000)
    probe.stop()
    job = _job(tab)
    steps = EPOCHS * 2                                          # 12 training clips, batch 6
    assert job.attempts == 2 and job.result["steps"] == job.result["total_steps"] == steps
    qtbot.waitUntil(lambda: tab.view.curves.points("loss") == steps, timeout=10_000)
    xs, _ = tab.view.curves.curves["loss"].getData()
    assert list(xs) == list(range(1, steps + 1))                # one curve, no step twice
    assert tab.view.curves.points("val_r1.movement") >= 1
    assert f"resuming from step {ckpt}" in tab.view.log.toPlainText()

    # results: the evaluation and the confusion matrices
    qtbot.waitUntil(lambda: not tab.view.confusion.pixmap().isNull(), timeout=10_000)
    assert "Evaluation" in tab.view.results_text.text() and "validation" in tab.view.results_text.text()
    assert "read four ways" in tab.view.results_text.text() and " expert" not in tab.view.results_text.text()
    assert "movement CNN" not in tab.view.results_text.text()  # unchecked with the experts
    # the misread clips' sheet, shown when the evaluation misread any (its count decides which)
    misread = json.loads((workspace / job.run_dir / "eval" / "result.json").read_text(encoding="utf-8"))["misread"]
    assert tab.view.misread.pixmap().isNull() is (misread["n"] == 0)
    assert ("Misread:" in tab.view.results_text.text()) is (misread["n"] > 0)
    assert tab.view.open_folder.isEnabled()

    # use this model for pre-labelling
    assert tab.view.use_model.isEnabled()
    qtbot.mouseClick(tab.view.use_model, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.view.active_label.text().endswith(job.run_dir), timeout=10_000)
    with open_workspace(workspace) as store:
        assert store.settings.get(CAMERACLIP_RUN) == job.run_dir
        assert (resolve_cameraclip_run(store, store.settings.get(CAMERACLIP_RUN)) / "model.safetensors").is_file()
    assert not tab.view.use_model.isEnabled()

    # the UI thread was never blocked by the tab's own work (its handlers' own CPU time; the wall
    # clock gets a margin for a loaded machine), and the event loop kept ticking
    c = tab.controller
    print(f"\nTrain tab UI thread: slowest handler {c.slowest_ms:.1f} ms wall / {c.slowest_cpu_ms:.1f} ms CPU "
          f"({c.slowest_name}); event loop: {probe.summary()}")
    assert c.slowest_cpu_ms < SLOW_MS and c.slowest_ms < 3 * SLOW_MS


@pytest.fixture
def lora_workspace(tmp_path):
    """A workspace holding a simulator-style clip set and a tiny base pipeline (no base at first)."""
    from tests.cameraclip.clips import make_clips

    root = tmp_path / "ws"
    make_clips(root / "clips", per_move=1, seed=2, frames=8, size=32, moves=("static", "pan_left", "pan_right", "zoom_in"))
    open_workspace(root).close()
    return root


def test_lora_form_queues_a_training_and_the_types_list_shows_it_with_its_preview(qtbot, lora_workspace):
    from cinestudio.cameradiff.tiny import make_tiny

    tab = TrainTab(lora_workspace)
    qtbot.addWidget(tab)
    tab.resize(1280, 760)
    tab.show()
    tab.forms.setCurrentWidget(tab.lora_form)
    form = tab.lora_form
    # every class of the scheme is listed, none trained yet
    tab.lists.setCurrentWidget(tab.types)
    qtbot.waitUntil(lambda: tab.types.types.rowCount() == 20, timeout=20_000)
    assert {tab.types.types.data(tab.types.types.index(r, 2)) for r in range(20)} == {"not trained"}
    # no base in the workspace yet: a clear problem, nothing to start
    qtbot.waitUntil(lambda: form.data.findData("clips") >= 0, timeout=20_000)
    qtbot.waitUntil(lambda: "make-tiny" in form.problem.text(), timeout=20_000)
    assert not form.start.isEnabled() and not form.every.isEnabled()
    # workspace stages are not offered: LoRAs train on a set or an export
    assert all(not str(form.data.itemData(i)).startswith("workspace:") for i in range(form.data.count()))

    make_tiny(lora_workspace / "bases" / "tiny", seed=0)
    form.reload_bases()
    qtbot.waitUntil(lambda: form.base.findData("bases/tiny") >= 0, timeout=20_000)
    form.base.setCurrentIndex(form.base.findData("bases/tiny"))
    form.type.setCurrentIndex(form.type.findData("pan_left"))
    form.data.setCurrentIndex(form.data.findData("clips"))
    form.steps.setValue(2)
    form.rank.setValue(2)
    form.frames.setValue(4)
    form.device.setCurrentText("cpu")
    form.extra = {"resolution": 16, "preview_every": 1, "preview_steps": 2, "checkpoint_every": 1}
    form.changed()
    qtbot.waitUntil(lambda: form.start.isEnabled() and form.every.isEnabled(), timeout=20_000)
    assert form.problem.text() == "" and "pan_left" in form.start.toolTip()

    qtbot.mouseClick(form.start, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _job(tab) is not None and _job(tab).kind == "lora-train", timeout=30_000)
    qtbot.waitUntil(lambda: _job(tab).state in ("succeeded", "failed"), timeout=240_000)
    assert _job(tab).state == "succeeded", _job(tab).error
    assert _job(tab).config["type"] == "pan_left" and _job(tab).result["steps"] == 2
    # the types list: pan_left trained, with its final loss and a preview thumbnail
    model = tab.types.types
    row = next(r for r in range(model.rowCount()) if model.rows[r].key == "pan_left")
    qtbot.waitUntil(lambda: model.data(model.index(row, 2)) == "trained", timeout=20_000)
    assert model.data(model.index(row, 3)) == "2" and model.data(model.index(row, 4))
    assert model.data(model.index(row, 0), Qt.ItemDataRole.DecorationRole) is not None
    # the job's results play its newest preview and list the flow verdicts
    qtbot.waitUntil(lambda: tab.view.movie is not None, timeout=20_000)
    assert "Previews" in tab.view.results_text.text() and "step 2" in tab.view.results_text.text()
    # clicking a type shows its job
    job_id = _job(tab).id
    tab.select_job(-1)
    tab.types.clicked.emit(model.index(row, 0))
    assert tab.selected_id == job_id

    # a LoRA trained with the CLI, outside the queue, shows too
    from typer.testing import CliRunner

    from cinestudio.cli import app

    res = CliRunner().invoke(app, ["--workspace", str(lora_workspace), "lora", "train", "--type", "zoom_in",
                                   "--data", str(lora_workspace / "clips"), "--base", str(lora_workspace / "bases" / "tiny"), "--steps", "1", "--rank", "2",
                                   "--frames", "4", "--resolution", "16", "--preview-every", "1",
                                   "--threads", "1", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    tab.refresh_types()
    zoom = next(r for r in range(model.rowCount()) if model.rows[r].key == "zoom_in")
    qtbot.waitUntil(lambda: model.data(model.index(zoom, 2)) == "trained", timeout=20_000)
    assert model.rows[zoom].job is None and model.rows[zoom].steps == 1 and model.rows[zoom].preview is not None


def test_the_tab_mirrors_cameradiff_run_names():
    from cinestudio.cameradiff import train_lora
    from cinestudio.gui.train import backend

    assert backend.LORA_PREVIEWS == train_lora.PREVIEWS and backend.LORA_RUN_CONFIG == train_lora.CONFIG_NAME
    assert backend.LORA_KIND == train_lora.KIND


def test_the_tab_mirrors_cameraclip_expert_names():
    from cinestudio.cameraclip.experts import PAIRS
    from cinestudio.cameraclip.movement_cnn import CONFIG_KEY
    from cinestudio.gui.train.job_view import EXPERTS, MOVEMENT_CNN

    assert EXPERTS == tuple((p.config_key, p.title) for p in PAIRS.values())
    assert MOVEMENT_CNN == CONFIG_KEY


def test_the_results_say_how_movement_was_read_and_where_the_experts_came_from():
    from cinestudio.gui.train.job_view import movement_note

    ev = {"four_ways": True, "scale_expert": True, "track_expert": True, "per_axis_learned": {"movement": 0.8512}}
    trained = {"clips": 6400, "render_s": 180.0, "train_s": 150.0, "val_accuracy": 0.85}
    note = movement_note(ev, {"scale_expert": trained})
    assert "read four ways" in note and "with the zoom/dolly expert" in note and "read once: movement R@1 0.851" in note
    assert "with the pan/tracking expert" in note
    assert "Zoom/dolly expert: trained on 6400 rendered clips<br>in 5.5 min (held-out accuracy 0.85)" in note
    assert "reuse them" in note and "Pan/tracking expert:" not in note  # a run made before that expert
    both = movement_note(ev, {"scale_expert": {**trained, "reused": "/cache/k.safetensors"},
                              "track_expert": {**trained, "clips": 3200, "reused": "/cache/t.safetensors"}})
    assert "Zoom/dolly expert: reused, kept from an earlier run" in both
    assert "Pan/tracking expert: reused" in both and "reuse them" not in both
    assert movement_note({"four_ways": False, "scale_expert": False, "per_axis_learned": {"movement": 0.8}}, None) == ""
    with_cnn = movement_note({**ev, "movement_cnn": True}, {"movement_cnn": {"clips": 5386, "train_s": 270.0}})
    assert "mixed with the movement CNN's reading" in with_cnn and "movement CNN" not in note
    assert "Movement CNN: trained on 5386 of the run's clips<br>in 4.5 min." in with_cnn
