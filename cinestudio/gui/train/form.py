"""The forms that queue trainings: `JobForm` (data, fields, validation in a worker thread before
Start is enabled, submission) and the CameraCLIP one, `TrainForm` (model, pooling, epochs, batch
size, learning rate, device)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QPushButton, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from cinestudio.gui.train import backend
from cinestudio.gui.train.controller import JobsController
from cinestudio.jobs.clip_train import DEFAULTS, POOLINGS, local_models

POOLING_HELP = {
    "motion": "motion — frame embeddings plus the camera's global motion between frames (default; learns fast)",
    "temporal": "temporal — a small transformer over the frame embeddings (order-aware, slower to learn)",
    "mean": "mean — the paper's recipe: the average of the frame embeddings (blind to direction)",
}
EXTRA_MODELS = ("ViT-B-32", "ViT-B-16")
VALIDATE_DELAY_MS = 250


class JobForm(QGroupBox):
    """A form that queues one kind of job: the data it trains on, fields of its own (subclasses
    add rows to `fields`), checked in a worker thread a moment after each change before Start is
    enabled, then submitted through `backend`. Object names start with `prefix` (tests, styles)."""

    submitted = Signal(object)          # the queued JobRecord

    def __init__(self, title: str, controller: JobsController, prefix: str, parent: QWidget | None = None):
        super().__init__(title, parent)
        self.setObjectName(f"{prefix}-form")
        self.controller = controller
        self.valid_config: dict[str, Any] | None = None
        self.extra: dict[str, Any] = {}     # advanced options merged into the config
        self._generation = 0

        self.data = QComboBox()
        self.data.setObjectName(f"{prefix}-data")
        self.data.setMinimumContentsLength(24)
        self.data.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        data_row = field_row(self.data, ("Folder…", self._browse_folder), ("Manifest…", self._browse_file))
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda"])
        self.device.setToolTip("auto: the GPU when there is one (one GPU job runs at a time), else the CPU")
        self.device.currentIndexChanged.connect(self.changed)

        self.fields = QFormLayout()
        self.fields.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields.addRow("Data", data_row)
        self.data_info = QLabel("")
        self.data_info.setObjectName(f"{prefix}-data-info")
        self.data_info.setWordWrap(True)
        self.fields.addRow("", self.data_info)

        self.problem = QLabel("")
        self.problem.setObjectName(f"{prefix}-problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c62828;")
        self.start = QPushButton("Start training")
        self.start.setObjectName(f"{prefix}-start")
        self.start.setEnabled(False)
        self.start.clicked.connect(self.submit)
        self.buttons = QHBoxLayout()
        self.buttons.addStretch(1)
        self.buttons.addWidget(self.start)
        layout = QVBoxLayout(self)
        layout.addLayout(self.fields)
        layout.addWidget(self.problem)
        layout.addLayout(self.buttons)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(VALIDATE_DELAY_MS)
        self._debounce.timeout.connect(self._validate_now)
        self.data.currentIndexChanged.connect(self.changed)

    # -- what a subclass says ------------------------------------------------------------------
    # ``validate_task(store, config) -> {"config": checked, "data": data info}`` and
    # ``submit_task(store, config, device) -> JobRecord``, both run in worker threads.
    validate_task: Callable[..., dict[str, Any]]
    submit_task: Callable[..., Any]

    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    def wants_data(self, choice: backend.DataChoice) -> bool:
        return True

    def describe(self, cfg: dict[str, Any], info: dict[str, Any]) -> str:
        """The Start button's tooltip for a valid configuration."""
        return ""

    # -- data choices -----------------------------------------------------------------------------
    def reload_data(self) -> None:
        self.controller.run_read(backend.discover_data, on_result=self._set_choices, name="discover-data")

    def _set_choices(self, choices: list[backend.DataChoice]) -> None:
        choices = [c for c in choices if self.wants_data(c)]
        current = self.data.currentData()
        self.data.blockSignals(True)
        self.data.clear()
        for c in choices:
            self.data.addItem(c.label, c.value)
            if c.detail:
                self.data.setItemData(self.data.count() - 1, c.detail, Qt.ItemDataRole.ToolTipRole)
        # prefer what was chosen, else the first set with clips in it
        index = self.data.findData(current) if current else -1
        if index < 0:
            index = next((i for i, c in enumerate(choices) if c.clips), 0)
        self.data.setCurrentIndex(index)
        self.data.blockSignals(False)
        self.changed()

    def set_data(self, value: str, label: str | None = None) -> None:
        index = self.data.findData(value)
        if index < 0:
            self.data.addItem(label or value, value)
            index = self.data.count() - 1
        self.data.setCurrentIndex(index)
        self.changed()

    def _browse_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with labels.jsonl or manifest.jsonl",
                                                  str(self.controller.workspace))
        if folder:
            self.set_data(folder, f"{folder} — folder")

    def _browse_file(self) -> None:
        file, _ = QFileDialog.getOpenFileName(self, "Manifest (JSON lines)", str(self.controller.workspace),
                                              "Manifests (*.jsonl *.json)")
        if file:
            self.set_data(file, f"{Path(file).name} — manifest")

    # -- validation -----------------------------------------------------------------------------
    def changed(self, *args: Any) -> None:
        self._generation += 1
        self.valid_config = None
        self.start.setEnabled(False)
        self._debounce.start()

    def _validate_now(self) -> None:
        generation = self._generation
        self.controller.run_read(self.validate_task, self.config(),
                                 on_result=lambda r: self._validated(generation, r, None),
                                 on_error=lambda e: self._validated(generation, None, e), name="validate")

    def _validated(self, generation: int, result: dict[str, Any] | None, error: BaseException | None) -> None:
        if generation != self._generation:
            return      # the form changed since
        if error is not None:
            self.valid_config = None
            self.problem.setText(_message(error))
            self.data_info.setText("")
            self.start.setEnabled(False)
            return
        assert result is not None
        self.valid_config = result["config"]
        info = result["data"]
        val = f", {info['val']} for validation" if info.get("val") else ""
        self.data_info.setText(f"{info['clips']} clips{val} · {info['source']}")
        self.problem.setText("")
        self.start.setEnabled(True)
        self.start.setToolTip(self.describe(result["config"], info))

    def submit(self) -> None:
        if self.valid_config is None:
            return
        self.start.setEnabled(False)
        config = dict(self.valid_config)

        def queued(job: Any) -> None:
            self.start.setEnabled(True)
            self.submitted.emit(job)

        self.controller.run_write(self.submit_task, config, self.device.currentText(), on_result=queued,
                                  name="submit")


class TrainForm(JobForm):
    """A CameraCLIP training: data, model, pooling, epochs, batch size, learning rate, the experts
    (zoom/dolly, pan/tracking), device."""

    def __init__(self, controller: JobsController, parent: QWidget | None = None):
        super().__init__("New CameraCLIP training", controller, "train", parent)
        self.data.setToolTip("Labelled clips: a simulator set (labels.jsonl), a workspace export "
                             "(manifest.jsonl), or the workspace's own annotated / verified clips")
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.addItems(list(dict.fromkeys([*local_models(), *EXTRA_MODELS])))
        self.model.setCurrentText(DEFAULTS["model"])
        self.model.setToolTip("open_clip architecture; cameraclip-tiny-rn (default) and cameraclip-tiny train from scratch on a CPU in minutes")
        self.pooling = QComboBox()
        for name in POOLINGS:
            self.pooling.addItem(name, name)
            self.pooling.setItemData(self.pooling.count() - 1, POOLING_HELP[name], Qt.ItemDataRole.ToolTipRole)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100_000)
        self.epochs.setValue(DEFAULTS["epochs"])
        self.batch = QSpinBox()
        self.batch.setRange(2, 4096)
        self.batch.setValue(DEFAULTS["batch_size"])
        self.lr = lr_box(DEFAULTS["lr"])
        self.expert = QCheckBox("train them after CameraCLIP")
        self.expert.setChecked(True)
        self.expert.setToolTip("Two small CNNs beside CameraCLIP, one telling a zoom from a dolly, one a pan from a "
                               "tracking shot, trained on 6400 and 3200 clips the simulator renders for them, "
                               "whatever the data's size: about 16 more minutes the first time for a job on a "
                               "2-core machine (jobs leave one core to the app), 8 with both cores. Later runs "
                               "with the same seed reuse them in seconds. And the movement CNN, which reads "
                               "every movement class with CameraCLIP, trained on the data's own clips: about "
                               "5 minutes for 6000 clips with both cores (docs/cameraclip.md, experts)")
        for label, widget in (("Model", self.model), ("Pooling", self.pooling), ("Epochs", self.epochs),
                              ("Batch size", self.batch), ("Learning rate", self.lr),
                              ("Experts", self.expert), ("Device", self.device)):
            self.fields.addRow(label, widget)
        self.expert.toggled.connect(self.changed)
        self.model.currentTextChanged.connect(self.changed)
        self.pooling.currentIndexChanged.connect(self.changed)
        for spin in (self.epochs, self.batch, self.lr):
            spin.valueChanged.connect(self.changed)
        self.reload_data()

    def config(self) -> dict[str, Any]:
        return {"data": self.data.currentData() or "", "model": self.model.currentText().strip(),
                "pooling": self.pooling.currentData(), "epochs": self.epochs.value(),
                "batch_size": self.batch.value(), "lr": round(self.lr.value(), 8),
                **({} if self.expert.isChecked() else {"scale_expert_clips": 0, "track_expert_clips": 0,
                                                       "movement_cnn_epochs": 0}),
                **self.extra}

    validate_task = staticmethod(backend.validate)
    submit_task = staticmethod(backend.submit)

    def describe(self, cfg: dict[str, Any], info: dict[str, Any]) -> str:
        return f"{cfg['epochs']} epochs, warm-up {cfg['warmup_steps']} steps"


def field_row(widget: QWidget, *buttons: tuple[str, Callable[[], Any]]) -> QHBoxLayout:
    """`widget` stretched, then a small button per ``(text, slot)`` (Folder…, Manifest…)."""
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(widget, 1)
    for text, slot in buttons:
        button = QToolButton()
        button.setText(text)
        button.clicked.connect(slot)
        row.addWidget(button)
    return row


def lr_box(value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(6)
    box.setRange(0.000001, 1.0)
    box.setSingleStep(0.0001)
    box.setValue(value)
    return box


def _message(exc: BaseException) -> str:
    subject, reason = getattr(exc, "subject", None), getattr(exc, "reason", None)
    return f"{subject}: {reason}" if subject and reason else str(exc)
