"""The Train tab: start CameraCLIP and CameraDiff LoRA trainings as background jobs and watch them.

    ┌ CameraCLIP | LoRA ────────────┐ Job 3 — CameraCLIP training — running          │
    │ data, model, pooling, epochs, │ 12/40 · epoch 4/10 loss 1.23 · ETA 0:42        │
    │ batch, lr, device  [Start]    │ [Cancel] [Resume] [Open run folder] [Use for …] │
    ├ Queue | LoRAs by type ────────┤ Curves | Log | Results                          │
    │ # job  state  ▓▓▓░░  ETA  msg │  loss ↘           validation R@1 per axis ↗     │
    └───────────────────────────────┴─────────────────────────────────────────────────┘

The LoRA form trains one type (or queues every type of the scheme); "LoRAs by type" lists the
scheme's classes with their newest LoRA training (status, steps, loss, preview), and a LoRA job's
results show its previews with the optical-flow verdict on each.

Jobs run in worker subprocesses started by the tab's queue runner (one GPU job at a time, N CPU
jobs); the tab only reads the database and the jobs' protocol. Closing the window stops running
jobs after they save a checkpoint (they end *interrupted*; Resume continues them), and
``cinestudio jobs run`` trains without the GUI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QSpinBox, QSplitter,
                               QTableView, QTabWidget, QVBoxLayout, QWidget)

from cinestudio.gui.train import backend
from cinestudio.gui.train.controller import JobsController
from cinestudio.gui.train.form import TrainForm
from cinestudio.gui.train.job_view import JobView, load_results
from cinestudio.gui.train.lora_form import LoraForm
from cinestudio.gui.train.lora_types import LoraTypesView, load_rows
from cinestudio.gui.train.queue_model import JobTableModel, ProgressDelegate
from cinestudio.jobs import service
from cinestudio.jobs.lora_train import LORA_KIND
from cinestudio.store import JobRecord

HINT = ("Jobs run as separate processes. Closing CineStudio stops them after a checkpoint — "
        "Resume continues them; <code>cinestudio jobs run</code> trains without the GUI.")


class TrainTab(QWidget):
    def __init__(self, workspace: Path, parent: QWidget | None = None, *, run_queue: bool = True,
                 cpu_slots: int = 1):
        super().__init__(parent)
        self.setObjectName("train-tab")
        self.workspace = Path(workspace)
        self._run_queue = run_queue
        self._cpu_slots = cpu_slots
        self.controller: JobsController | None = None
        self.selected_id: int | None = None

        self.model = JobTableModel(eta=lambda job_id: self.controller.eta(job_id) if self.controller else None)
        self.table = QTableView()
        self.table.setObjectName("train-queue")
        self.table.setModel(self.model)
        self.table.setItemDelegate(ProgressDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for col, width in ((3, 120), (4, 56)):          # progress bar, ETA (h:mm:ss)
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(col, width)
        header.setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)

        self.slots = QSpinBox()
        self.slots.setRange(1, 16)
        self.slots.setValue(cpu_slots)
        self.slots.setToolTip("How many CPU jobs run at the same time (GPU jobs: one at a time)")
        queue_head = QHBoxLayout()
        queue_head.addStretch(1)
        queue_head.addWidget(QLabel("CPU jobs at a time"))
        queue_head.addWidget(self.slots)
        self.hint = QLabel(HINT)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #666;")
        self.error = QLabel("")
        self.error.setObjectName("train-error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")

        self.types = LoraTypesView()
        self.types.jobPicked.connect(self.select_job)
        self._types_key: tuple | None = None
        queue_page = QWidget()
        queue_layout = QVBoxLayout(queue_page)
        queue_layout.setContentsMargins(0, 4, 0, 0)
        queue_layout.addLayout(queue_head)
        queue_layout.addWidget(self.table, 1)
        self.lists = QTabWidget()
        self.lists.setObjectName("train-lists")
        self.lists.addTab(queue_page, "Queue")
        self.lists.addTab(self.types, "LoRAs by type")
        self.lists.currentChanged.connect(lambda i: self.lists.widget(i) is self.types and self.refresh_types())
        self.forms = QTabWidget()
        self.forms.setObjectName("train-forms")

        self.left = QWidget()
        left_layout = QVBoxLayout(self.left)
        left_layout.setContentsMargins(6, 6, 6, 6)
        left_layout.addWidget(self.forms)
        left_layout.addWidget(self.lists, 1)
        left_layout.addWidget(self.error)
        left_layout.addWidget(self.hint)

        self.view = JobView(self.workspace)
        self.view.cancelRequested.connect(self.cancel_job)
        self.view.resumeRequested.connect(self.resume_job)
        self.view.useForPrelabellingRequested.connect(self.use_for_prelabelling)
        self.view.resultsWanted.connect(self._load_results)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.left)
        splitter.addWidget(self.view)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([470, 810])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.eta_timer = QTimer(self)
        self.eta_timer.setInterval(1000)
        self.eta_timer.timeout.connect(self._tick)
        self.form: TrainForm | None = None
        self.lora_form: LoraForm | None = None
        self._open(self.workspace)

    # -- workspace ---------------------------------------------------------------------------------
    def _open(self, workspace: Path) -> None:
        self.workspace = Path(workspace)
        self.view.workspace = self.workspace
        self.controller = JobsController(self.workspace, self, run_queue=self._run_queue, cpu_slots=self.slots.value())
        self.controller.jobsChanged.connect(self._on_jobs)
        self.controller.historyChanged.connect(self._on_history)
        self.controller.failed.connect(self._on_failed)
        self.slots.valueChanged.connect(self.controller.set_cpu_slots)
        self.form = TrainForm(self.controller)
        self.form.submitted.connect(self._on_submitted)
        self.lora_form = LoraForm(self.controller)
        self.lora_form.submitted.connect(self._on_submitted)
        self.lora_form.queuedMany.connect(self._on_queued_many)
        self.forms.addTab(self.form, "CameraCLIP")
        self.forms.addTab(self.lora_form, "LoRA")
        self._types_key = None
        self.eta_timer.start()

    def set_workspace(self, workspace: Path) -> None:
        self.shutdown()
        self.forms.clear()
        for form in (self.form, self.lora_form):
            if form is not None:
                form.setParent(None)
                form.deleteLater()
        self.slots.valueChanged.disconnect()
        self.selected_id = None
        self.model.set_jobs([])
        self.view.set_job(None, None, None)
        self._open(workspace)

    # -- jobs --------------------------------------------------------------------------------------
    def _on_jobs(self, snap: backend.JobsSnapshot) -> None:
        self.model.set_jobs(list(snap.jobs), snap.active_model)
        if self.selected_id is None and snap.jobs:
            self.select_job(snap.jobs[0].id)
        elif self.selected_id is not None:
            row = self.model.row_of(self.selected_id)
            if row is not None and not self.table.selectionModel().isRowSelected(row):
                self._select_row(row)
        self._show_selected()
        self._refresh_types(snap)

    def _refresh_types(self, snap: backend.JobsSnapshot) -> None:
        """Reload "LoRAs by type" when a LoRA job changed (it reads run folders: off the UI thread)."""
        key = tuple((j.id, j.state, j.progress_done) for j in snap.jobs if j.kind == LORA_KIND)
        if key != self._types_key:
            self._types_key = key
            self.refresh_types()

    def refresh_types(self) -> None:
        """Reload "LoRAs by type" (also on showing it: runs trained outside the queue appear)."""
        if self.controller is not None:
            self.controller.run_read(load_rows, on_result=lambda r: self.types.types.set_rows(*r),
                                     name="lora-types")

    def _on_history(self, job_id: int) -> None:
        if job_id == self.selected_id:
            self._show_selected()

    def _on_failed(self, message: str) -> None:
        self.error.setText(message)
        for form in (self.form, self.lora_form):
            if form is not None:
                form.changed()

    def _on_submitted(self, job: JobRecord) -> None:
        self.error.setText("")
        self.select_job(job.id)

    def _on_queued_many(self, jobs: list[JobRecord]) -> None:
        self.error.setText("")
        self.lists.setCurrentWidget(self.types)
        if jobs:
            self.select_job(jobs[0].id)

    def _tick(self) -> None:
        self.model.refresh_etas()
        self._show_selected(history=False)

    def select_job(self, job_id: int) -> None:
        self.selected_id = job_id
        if self.controller is not None:
            self.controller.select(job_id)
        row = self.model.row_of(job_id)
        if row is not None:
            self._select_row(row)
        self._show_selected()

    def _select_row(self, row: int) -> None:
        self.table.selectionModel().select(
            self.model.index(row, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)

    def _on_selection(self, *args: Any) -> None:
        rows = self.table.selectionModel().selectedRows()
        job = self.model.job_at(rows[0].row()) if rows else None
        if job is not None and job.id != self.selected_id:
            self.select_job(job.id)

    def _show_selected(self, history: bool = True) -> None:
        if self.controller is None:
            return
        job = self.controller.job(self.selected_id) if self.selected_id is not None else None
        snap = self.controller.snapshot
        hist = self.controller.history(job.id) if job is not None else None
        was = self.view.job.id if self.view.job is not None else None
        self.view.set_job(job, hist, snap.active_model if snap else None,
                          self.controller.eta(job.id) if job is not None else None)
        if history and job is not None and was == job.id:
            self.view.show_history(hist)

    def selected_job(self) -> JobRecord | None:
        return self.controller.job(self.selected_id) if self.controller and self.selected_id is not None else None

    # -- actions -----------------------------------------------------------------------------------
    def cancel_job(self, job_id: int) -> None:
        assert self.controller is not None
        self.controller.run_write(backend.cancel, job_id, name="cancel")

    def resume_job(self, job_id: int) -> None:
        assert self.controller is not None
        self.controller.run_write(backend.resume, job_id, name="resume")

    def use_for_prelabelling(self, job_id: int) -> None:
        assert self.controller is not None
        self.controller.run_write(backend.use_for_prelabelling, job_id, name="use-for-prelabelling")

    def _load_results(self, job_id: int) -> None:
        assert self.controller is not None
        job = self.controller.job(job_id)
        run = service.run_path(self.workspace, job) if job is not None else None
        if run is None:
            return
        self.controller.reader.submit(load_results, run, on_result=lambda r: self.view.show_results(job_id, r),
                                      name="load-results")

    # -- closing -----------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the queue runner (running jobs checkpoint and end interrupted) and every worker."""
        self.eta_timer.stop()
        if self.controller is not None:
            self.controller.shutdown()

    def closeEvent(self, event: Any) -> None:
        self.shutdown()
        super().closeEvent(event)
