"""The form that queues CameraDiff LoRA trainings: one type, or every type of the scheme at once
(``lora train`` / ``lora train-all`` in the CLI)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QPushButton, QSpinBox, QWidget

from cinestudio.gui.train import backend
from cinestudio.gui.train.controller import JobsController
from cinestudio.gui.train.form import JobForm, field_row, lr_box
from cinestudio.jobs.clip_train import WORKSPACE_PREFIX
from cinestudio.taxonomy import AXES, load_taxonomy

# What `cinestudio lora train` uses when not told (cameradiff.train_lora.LoraTrainConfig).
DEFAULT_RANK, DEFAULT_STEPS, DEFAULT_LR, DEFAULT_FRAMES = 8, 500, 1e-4, 16
NO_BASE_HINT = ("No base pipeline in this workspace yet: make one with `cinestudio diff make-tiny BASE` "
                "(random, to try the workflow) or `cinestudio diff train-base`, or pick a folder / type a hub id.")


class LoraForm(JobForm):
    """Type, data, base, rank, steps, learning rate, frames, device; Start queues that type,
    "Queue every type" one job per class (the queue runs them one after another on the GPU)."""

    queuedMany = Signal(object)         # list of queued JobRecords

    def __init__(self, controller: JobsController, parent: QWidget | None = None):
        super().__init__("New CameraDiff LoRA training", controller, "lora", parent)
        self.data.setToolTip("Labelled clips: a simulator set (labels.jsonl) or a workspace export (manifest.jsonl)")
        self.type = QComboBox()
        self.type.setObjectName("lora-type")
        tax = load_taxonomy()
        for axis in AXES:
            for c in tax.classes(axis):
                self.type.addItem(f"{c.label} ({axis})", c.key)
                self.type.setItemData(self.type.count() - 1, c.definition, Qt.ItemDataRole.ToolTipRole)
        self.base = QComboBox()
        self.base.setObjectName("lora-base")
        self.base.setEditable(True)
        self.base.setToolTip("The text-to-video pipeline the LoRA adapts: a diffusers folder or a hub id")
        base_row = field_row(self.base, ("Folder…", self._browse_base))
        self.rank = QSpinBox()
        self.rank.setRange(1, 256)
        self.rank.setValue(DEFAULT_RANK)
        self.steps = QSpinBox()
        self.steps.setRange(1, 1_000_000)
        self.steps.setValue(DEFAULT_STEPS)
        self.lr = lr_box(DEFAULT_LR)
        self.frames = QSpinBox()
        self.frames.setRange(2, 64)
        self.frames.setValue(DEFAULT_FRAMES)
        self.fields.insertRow(0, "Type", self.type)
        for label, widget in (("Base", base_row), ("Rank", self.rank), ("Steps", self.steps),
                              ("Learning rate", self.lr), ("Frames", self.frames), ("Device", self.device)):
            self.fields.addRow(label, widget)
        self.every = QPushButton("Queue every type")
        self.every.setObjectName("lora-every")
        self.every.setToolTip("One job per class of the scheme, with these settings")
        self.every.setEnabled(False)
        self.every.clicked.connect(self.submit_every_type)
        self.buttons.insertWidget(1, self.every)
        self.type.currentIndexChanged.connect(self.changed)
        self.base.currentTextChanged.connect(self.changed)
        for spin in (self.rank, self.steps, self.lr, self.frames):
            spin.valueChanged.connect(self.changed)
        self.reload_data()
        self.reload_bases()

    # -- choices ----------------------------------------------------------------------------------
    def wants_data(self, choice: backend.DataChoice) -> bool:
        return not choice.value.startswith(WORKSPACE_PREFIX)   # LoRAs read a set or an export

    def reload_bases(self) -> None:
        self.controller.run_read(backend.discover_bases, on_result=self._set_bases, name="discover-bases")

    def _set_bases(self, choices: list[backend.DataChoice]) -> None:
        typed = self.base.currentText().strip()
        self.base.blockSignals(True)
        self.base.clear()
        for c in choices:
            self.base.addItem(c.label, c.value)
        if typed:
            self.base.setEditText(typed)
        self.base.blockSignals(False)
        if not choices and not typed:
            self.base.setPlaceholderText("a pipeline folder or a hub id")
        self.changed()

    def set_base(self, value: str) -> None:
        self.base.setEditText(value)

    def _browse_base(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Base pipeline folder (model_index.json)",
                                                  str(self.controller.workspace))
        if folder:
            self.set_base(folder)

    def base_value(self) -> str:
        text = self.base.currentText().strip()
        index = self.base.findText(text)
        return str(self.base.itemData(index)) if index >= 0 and self.base.itemData(index) else text

    # -- JobForm ----------------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        return {"type": self.type.currentData(), "data": self.data.currentData() or "", "base": self.base_value(),
                "rank": self.rank.value(), "steps": self.steps.value(), "lr": round(self.lr.value(), 8),
                "frames": self.frames.value(), **self.extra}

    validate_task = staticmethod(backend.validate_lora)
    submit_task = staticmethod(backend.submit_lora)

    def describe(self, cfg: dict[str, Any], info: dict[str, Any]) -> str:
        return f"{cfg['type']}: {cfg['steps']} steps, rank {cfg['rank']}, on {cfg['base']}"

    def changed(self, *args: Any) -> None:
        super().changed(*args)
        if hasattr(self, "every"):   # each type is checked when queued: only data and base must be set
            self.every.setEnabled(bool(self.data.currentData()) and bool(self.base_value()))

    def _validated(self, generation: int, result: dict[str, Any] | None, error: BaseException | None) -> None:
        super()._validated(generation, result, error)
        if generation == self._generation and error is not None and not self.base_value():
            self.problem.setText(NO_BASE_HINT)

    def submit_every_type(self) -> None:
        config = {k: v for k, v in self.config().items() if k != "type"}
        self.every.setEnabled(False)

        def queued(result: Any) -> None:
            jobs, skipped = result
            self.every.setEnabled(True)
            self.problem.setText(f"Not queued ({len(skipped)}): " + ", ".join(s["type"] for s in skipped)
                                 + " — the data has no clip of these" if skipped else "")
            self.queuedMany.emit(jobs)

        self.controller.run_write(backend.submit_every_type, config, self.device.currentText(), on_result=queued,
                                  name="submit-all")
