"""The Train tab's curve panel lists in its legends only the curves a job reports."""

from __future__ import annotations

from cinestudio.gui.train.job_view import CurvePanel
from cinestudio.jobs.history import JobHistory


def _history(job_id: int, values_per_step: list[dict]) -> JobHistory:
    history = JobHistory(job_id)
    history.add([{"type": "metric", "step": i + 1, "values": v} for i, v in enumerate(values_per_step)])
    return history


def test_a_lora_job_shows_no_cameraclip_legends_and_a_cameraclip_job_all(qtbot):
    panel = CurvePanel()
    qtbot.addWidget(panel)
    lora = _history(1, [{"loss": 0.9}, {"loss": 0.7}])
    clip = _history(2, [{"loss": 3.0, "loss_framing": 1.0, "loss_angle": 1.1, "loss_movement": 0.9},
                        {"val_r1.framing": 0.5, "val_r1.angle": 0.4, "val_r1.movement": 0.3}])

    panel.show_history(lora)
    assert panel.legend_labels("loss") == ["loss (raw)", "loss (smoothed)"]
    assert panel.legend_labels("r1") == []
    assert "not reported" in panel.r1_plot.titleLabel.text

    panel.show_history(clip)
    assert panel.legend_labels("loss") == ["loss (raw)", "loss (smoothed)", "framing", "angle", "movement"]
    assert panel.legend_labels("r1") == ["framing", "angle", "movement"]
    assert panel.r1_plot.titleLabel.text == "Validation R@1"

    panel.show_history(_history(3, [{"loss": 0.5}]))       # and back: listed once, removed again
    assert panel.legend_labels("loss") == ["loss (raw)", "loss (smoothed)"]
    assert panel.points("loss") == 1
