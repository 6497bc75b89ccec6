"""The form that starts a CameraCLIP training: data, model, pooling, epochs, batch size, learning
rate, device — checked (in a worker thread) before Start is enabled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout,
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


class TrainForm(QGroupBox):
    submitted = Signal(object)          # the queued JobRecord

    def __init__(self, controller: JobsController, parent: QWidget | None = None):
        super().__init__("New CameraCLIP training", parent)
        self.setObjectName("train-form")
        self.controller = controller
        self.valid_config: dict[str, Any] | None = None
        self.extra: dict[str, Any] = {}     # advanced clip-train options merged into the config
        self._generation = 0

        self.data = QComboBox()
        self.data.setObjectName("train-data")
        self.data.setMinimumContentsLength(24)
        self.data.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.data.setToolTip("Labelled clips: a simulator set (labels.jsonl), a workspace export "
                             "(manifest.jsonl), or the workspace's own annotated / verified clips")
        browse_dir = QToolButton()
        browse_dir.setText("Folder…")
        browse_dir.clicked.connect(self._browse_folder)
        browse_file = QToolButton()
        browse_file.setText("Manifest…")
        browse_file.clicked.connect(self._browse_file)
        data_row = QHBoxLayout()
        data_row.setContentsMargins(0, 0, 0, 0)
        data_row.addWidget(self.data, 1)
        data_row.addWidget(browse_dir)
        data_row.addWidget(browse_file)

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
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(6)
        self.lr.setRange(0.000001, 1.0)
        self.lr.setSingleStep(0.0001)
        self.lr.setValue(DEFAULTS["lr"])
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda"])
        self.device.setToolTip("auto: the GPU when there is one (one GPU job runs at a time), else the CPU")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Data", data_row)
        self.data_info = QLabel("")
        self.data_info.setObjectName("train-data-info")
        self.data_info.setWordWrap(True)
        form.addRow("", self.data_info)
        form.addRow("Model", self.model)
        form.addRow("Pooling", self.pooling)
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch)
        form.addRow("Learning rate", self.lr)
        form.addRow("Device", self.device)

        self.problem = QLabel("")
        self.problem.setObjectName("train-problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c62828;")
        self.start = QPushButton("Start training")
        self.start.setObjectName("train-start")
        self.start.setEnabled(False)
        self.start.clicked.connect(self.submit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.start, 0, Qt.AlignmentFlag.AlignRight)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(VALIDATE_DELAY_MS)
        self._debounce.timeout.connect(self._validate_now)
        self.data.currentIndexChanged.connect(self.changed)
        self.model.currentTextChanged.connect(self.changed)
        self.pooling.currentIndexChanged.connect(self.changed)
        for spin in (self.epochs, self.batch, self.lr):
            spin.valueChanged.connect(self.changed)
        self.device.currentIndexChanged.connect(self.changed)
        self.reload_data()

    # -- data choices -----------------------------------------------------------------------------
    def reload_data(self) -> None:
        self.controller.run_read(backend.discover_data, on_result=self._set_choices, name="discover-data")

    def _set_choices(self, choices: list[backend.DataChoice]) -> None:
        current = self.data.currentData()
        self.data.blockSignals(True)
        self.data.clear()
        for c in choices:
            self.data.addItem(c.label, c.value)
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
    def config(self) -> dict[str, Any]:
        return {"data": self.data.currentData() or "", "model": self.model.currentText().strip(),
                "pooling": self.pooling.currentData(), "epochs": self.epochs.value(),
                "batch_size": self.batch.value(), "lr": round(self.lr.value(), 8), **self.extra}

    def changed(self, *args: Any) -> None:
        self._generation += 1
        self.valid_config = None
        self.start.setEnabled(False)
        self._debounce.start()

    def _validate_now(self) -> None:
        generation = self._generation
        self.controller.run_read(backend.validate, self.config(),
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
        cfg = result["config"]
        val = f", {info['val']} for validation" if info.get("val") else ""
        self.data_info.setText(f"{info['clips']} clips{val} · {info['source']}")
        self.problem.setText("")
        self.start.setEnabled(True)
        self.start.setToolTip(f"{cfg['epochs']} epochs, warm-up {cfg['warmup_steps']} steps")

    def submit(self) -> None:
        if self.valid_config is None:
            return
        self.start.setEnabled(False)
        config = dict(self.valid_config)

        def queued(job: Any) -> None:
            self.start.setEnabled(True)
            self.submitted.emit(job)

        self.controller.run_write(backend.submit, config, self.device.currentText(), on_result=queued, name="submit")


def _message(exc: BaseException) -> str:
    subject, reason = getattr(exc, "subject", None), getattr(exc, "reason", None)
    return f"{subject}: {reason}" if subject and reason else str(exc)
