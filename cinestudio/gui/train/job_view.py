"""One job in detail: header and actions, live curves (pyqtgraph), the log, and the run's results
(validation R@1, confusion matrices, the training plot)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage, QMovie, QPixmap
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QScrollArea, QTabWidget,
                               QVBoxLayout, QWidget)

from cinestudio.gui.train.backend import lora_previews
from cinestudio.jobs.history import JobHistory
from cinestudio.jobs.clip_train import KIND as CLIP_TRAIN
from cinestudio.jobs.kinds import kind_title
from cinestudio.jobs.protocol import format_duration
from cinestudio.store import JobRecord
from cinestudio.taxonomy import AXES

AXIS_COLORS = {"framing": "#1f77b4", "angle": "#ff7f0e", "movement": "#2ca02c"}
LOSS_COLOR = "#222222"
REDRAW_EVERY_S = 1.0    # curves of a running job are redrawn at most this often
SMOOTHING = 0.8         # of the loss curves (the raw loss is drawn faintly behind)

pg.setConfigOptions(antialias=True, background="w", foreground="#333333")


def _resumable(kind: str) -> bool:
    from cinestudio.errors import UserInputError
    from cinestudio.jobs.kinds import get_kind

    try:
        return get_kind(kind).resumable
    except UserInputError:
        return False


def describe_job(job: JobRecord) -> str:
    """The kind's one-line summary of the job's configuration, and its device."""
    from cinestudio.errors import UserInputError
    from cinestudio.jobs.kinds import get_kind

    try:
        text = get_kind(job.kind).describe(job.config)
    except UserInputError:
        text = ""
    return f"{text} · device {job.device}" if text else f"device {job.device}"


def load_results(run_dir: Path) -> dict[str, Any]:
    """The run's evaluation and figures (worker thread: QImage only)."""
    out: dict[str, Any] = {"evaluation": None, "images": {}}
    result = run_dir / "eval" / "result.json"
    if result.is_file():
        try:
            out["evaluation"] = json.loads(result.read_text(encoding="utf-8"))
        except ValueError:
            out["evaluation"] = None
    try:   # what the run says of its experts (trained, or reused from an earlier run)
        saved = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
        out["experts"] = {key: saved.get(key) for key in (*(k for k, _ in EXPERTS), MOVEMENT_CNN) if saved.get(key)}
    except (OSError, ValueError, AttributeError):
        out["experts"] = {}
    for name, path in (("confusion", run_dir / "eval" / "confusion.png"), ("misread", run_dir / "eval" / "misread.png"),
                       ("training", run_dir / "training.png")):
        if path.is_file():
            image = QImage(str(path))
            if not image.isNull():
                out["images"][name] = image
    previews = lora_previews(run_dir)
    if previews:   # a LoRA run: its samples from a fixed seed, and what the flow estimator read in each
        out["previews"] = [str(p) for p in previews]
        out["preview_verdicts"] = _preview_records(run_dir / "metrics.jsonl")
    return out


#: The run's experts as its config.json and evaluation name them (cinestudio.cameraclip.experts,
#: which the GUI does not import: it loads torch), and what they decide.
EXPERTS = (("scale_expert", "zoom/dolly"), ("track_expert", "pan/tracking"))
#: The movement CNN's key there (cinestudio.cameraclip.movement_cnn.CONFIG_KEY).
MOVEMENT_CNN = "movement_cnn"


def movement_note(ev: dict[str, Any], experts: dict[str, dict[str, Any]] | None) -> str:
    """HTML: how the evaluation picked movement classes (read four ways, the movement CNN, the
    experts) against the model alone, and where the run's experts came from. Short lines: the confusion matrices below
    make the panel wider than its view."""
    parts = []
    how = [text for text, on in [("read four ways (as is, mirrored, reversed, both)", ev.get("four_ways")),
                                 ("mixed with the movement CNN's reading", ev.get(MOVEMENT_CNN)),
                                 *((f"with the {title} expert", ev.get(key)) for key, title in EXPERTS)] if on]
    learned = (ev.get("per_axis_learned") or {}).get("movement")
    if how and learned is not None:
        parts.append(f"Movement: {',<br>'.join(how)}.<br>The model alone, read once: movement R@1 {learned:.3f}")
    cnn = (experts or {}).get(MOVEMENT_CNN)
    if cnn:
        parts.append(f"Movement CNN: trained on {cnn.get('clips')} of the run's clips<br>"
                     f"in {float(cnn.get('train_s') or 0) / 60:.1f} min.")
    trained = []
    for key, title in EXPERTS:
        expert = (experts or {}).get(key)
        if not expert:
            continue
        acc = expert.get("val_accuracy")
        if expert.get("reused"):
            parts.append(f"{title.capitalize()} expert: reused, kept from an earlier run<br>"
                         f"with the same settings (held-out accuracy {acc})")
        else:
            trained.append(title)
            minutes = (float(expert.get("render_s") or 0) + float(expert.get("train_s") or 0)) / 60
            parts.append(f"{title.capitalize()} expert: trained on {expert.get('clips')} rendered clips<br>"
                         f"in {minutes:.1f} min (held-out accuracy {acc}).")
    if trained:
        parts.append("Later runs with the same seed and expert settings reuse them.")
    return "".join(f"<p>{p}</p>" for p in parts)


def _preview_records(path: Path) -> list[dict[str, Any]]:
    records = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return records
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("preview"):
            records.append(rec)
    return records


def smooth(values: list[float], weight: float = SMOOTHING) -> list[float]:
    """TensorBoard's smoothing: an exponential moving average, debiased at the start."""
    out, last, norm = [], 0.0, 0.0
    for v in values:
        last = weight * last + (1 - weight) * v
        norm = weight * norm + (1 - weight)
        out.append(last / norm)
    return out


class CurvePanel(pg.GraphicsLayoutWidget):
    """Training loss and validation R@1 per axis against the step."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("train-curves")
        self.loss_plot = self.addPlot(row=0, col=0, title="Training loss")
        self.loss_plot.setLabel("bottom", "step")
        self.loss_plot.addLegend(offset=(-10, 10))
        self.r1_plot = self.addPlot(row=0, col=1, title="Validation R@1")
        self.r1_plot.setLabel("bottom", "step")
        self.r1_plot.setYRange(0, 1.0)
        self.r1_plot.addLegend(offset=(10, 10))
        for plot in (self.loss_plot, self.r1_plot):   # no grid: its lines were 3/4 of a repaint
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
        self.shown: tuple[int, int, int] | None = None      # (job id, id(history), version) drawn
        self._drawn_at = 0.0
        self._pending: JobHistory | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._draw_pending)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._labels: dict[str, str] = {}              # curve name -> its legend label
        self.raw_loss = self.loss_plot.plot([], [], pen=pg.mkPen("#bbbbbb", width=1), name="loss (raw)")
        self.curves["loss"] = self.loss_plot.plot([], [], pen=pg.mkPen(LOSS_COLOR, width=2), name="loss (smoothed)")
        for axis in AXES:
            self.curves[f"loss_{axis}"] = self.loss_plot.plot(
                [], [], pen=pg.mkPen(AXIS_COLORS[axis], width=1, style=Qt.PenStyle.DashLine), name=axis)
            self.curves[f"val_r1.{axis}"] = self.r1_plot.plot(
                [], [], pen=pg.mkPen(AXIS_COLORS[axis], width=2), symbol="o", symbolSize=5,
                symbolBrush=AXIS_COLORS[axis], name=axis)
            self._labels[f"loss_{axis}"] = self._labels[f"val_r1.{axis}"] = axis

    def show_history(self, history: JobHistory | None) -> None:
        """Draw `history`'s curves: at once for another job, else at most once a second (a plot
        repaint is the costliest thing the UI thread does while a job runs)."""
        key = None if history is None else (history.job_id, id(history), history.version)
        if key is not None and key == self.shown:
            return                                   # nothing new: no redraw
        same_run = key is not None and self.shown is not None and key[:2] == self.shown[:2]
        if same_run and time.monotonic() - self._drawn_at < REDRAW_EVERY_S:
            self._pending = history
            if not self._timer.isActive():
                self._timer.start(int(REDRAW_EVERY_S * 1000))
            return
        self._draw(history, key)

    def _draw_pending(self) -> None:
        if self._pending is not None:
            history, self._pending = self._pending, None
            self._draw(history, (history.job_id, id(history), history.version))

    def _draw(self, history: JobHistory | None, key: tuple[int, int, int] | None) -> None:
        self._timer.stop()
        self._pending = None
        self._drawn_at = time.monotonic()
        self.shown = key
        for name, curve in self.curves.items():
            xs, ys = history.series.get(name, ([], [])) if history is not None else ([], [])
            curve.setData(list(xs), smooth(ys) if name.startswith("loss") else list(ys))
            if name in self._labels:
                # a LoRA job reports one loss and no R@1: no legend for curves it never draws
                self._show_in_legend(curve, self._labels[name], bool(xs) or history is None)
        xs, ys = history.series.get("loss", ([], [])) if history is not None else ([], [])
        self.raw_loss.setData(list(xs), list(ys))
        reports_r1 = history is None or any(history.series.get(f"val_r1.{a}") for a in AXES)
        self.r1_plot.setTitle("Validation R@1" if reports_r1 else "Validation R@1: not reported by this job")

    @staticmethod
    def _show_in_legend(curve: pg.PlotDataItem, label: str, shown: bool) -> None:
        legend = curve.getViewBox().parentItem().legend
        listed = any(sample.item is curve for sample, _ in legend.items)
        if shown and not listed:
            legend.addItem(curve, label)
        elif not shown and listed:
            legend.removeItem(curve)

    def legend_labels(self, plot: str) -> list[str]:
        """The labels listed in the legend of the ``loss`` or ``r1`` plot."""
        legend = (self.loss_plot if plot == "loss" else self.r1_plot).legend
        return [label.text for _, label in legend.items]

    def points(self, name: str) -> int:
        xs, _ = self.curves[name].getData()
        return 0 if xs is None else len(xs)


class JobView(QWidget):
    cancelRequested = Signal(int)
    resumeRequested = Signal(int)
    useForPrelabellingRequested = Signal(int)
    resultsWanted = Signal(int)

    def __init__(self, workspace: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("train-job-view")
        self.workspace = Path(workspace)
        self.job: JobRecord | None = None
        self.history: JobHistory | None = None
        self.active_run: str | None = None
        self._results_for: tuple[int, str] | None = None

        self.title = QLabel("Select a job, or start a training on the left.")
        self.title.setObjectName("train-job-title")
        self.title.setStyleSheet("font-weight: 600; font-size: 14px;")
        self.summary = QLabel("")
        self.summary.setObjectName("train-job-summary")
        self.summary.setStyleSheet("color: #555;")
        self.summary.setWordWrap(True)
        self.status = QLabel("")
        self.status.setObjectName("train-job-status")
        self.status.setWordWrap(True)
        self.cancel = QPushButton("Cancel")
        self.resume = QPushButton("Resume")
        self.open_folder = QPushButton("Open run folder")
        self.use_model = QPushButton("Use this model for pre-labelling")
        for name, button in (("cancel", self.cancel), ("resume", self.resume), ("open", self.open_folder),
                             ("use", self.use_model)):
            button.setObjectName(f"train-{name}")
            button.setEnabled(False)
        self.cancel.setToolTip("Stop after saving a checkpoint; Resume continues from it")
        self.cancel.clicked.connect(lambda: self.job and self.cancelRequested.emit(self.job.id))
        self.resume.clicked.connect(lambda: self.job and self.resumeRequested.emit(self.job.id))
        self.open_folder.clicked.connect(self.open_run_folder)
        self.use_model.clicked.connect(lambda: self.job and self.useForPrelabellingRequested.emit(self.job.id))
        buttons = QHBoxLayout()
        for b in (self.cancel, self.resume, self.open_folder, self.use_model):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.active_label = QLabel("")
        self.active_label.setObjectName("train-active-model")

        self.curves = CurvePanel()
        self.log = QPlainTextEdit()
        self.log.setObjectName("train-log")
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.log.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.results = QWidget()
        self.results_text = QLabel("Results appear when a run has finished.")
        self.results_text.setObjectName("train-results-text")
        self.results_text.setTextFormat(Qt.TextFormat.RichText)
        self.results_text.setWordWrap(True)
        self.confusion = QLabel()
        self.confusion.setObjectName("train-confusion")
        self.misread = QLabel()
        self.misread.setObjectName("train-misread")
        self.training_png = QLabel()
        self.training_png.setObjectName("train-training-png")
        self.preview = QLabel()
        self.preview.setObjectName("train-preview")
        self.movie: QMovie | None = None
        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        for w in (self.results_text, self.preview, self.confusion, self.misread, self.training_png):
            inner_layout.addWidget(w)
        inner_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        results_layout = QVBoxLayout(self.results)
        results_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.addWidget(scroll)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("train-job-tabs")
        self.tabs.addTab(self.curves, "Curves")
        self.tabs.addTab(self.log, "Log")
        self.tabs.addTab(self.results, "Results")

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        layout.addWidget(self.active_label)
        layout.addWidget(self.tabs, 1)
        self._log_count = 0

    # -- showing a job ---------------------------------------------------------------------------
    def run_dir(self) -> Path | None:
        if self.job is None or not self.job.run_dir:
            return None
        path = Path(self.job.run_dir)
        return path if path.is_absolute() else self.workspace / path

    def set_job(self, job: JobRecord | None, history: JobHistory | None, active_run: str | None,
                eta: float | None = None) -> None:
        changed = job is None or self.job is None or job.id != self.job.id
        self.job, self.active_run, self.history = job, active_run, history
        if changed:
            self._log_count = 0
            self.log.clear()
            self._results_for = None
            self.results_text.setText("Results appear when a run has finished.")
            self.confusion.clear()
            self.misread.clear()
            self.training_png.clear()
            self._show_preview(None)
            self.show_history(history)
        self._update_header(eta)

    def _update_header(self, eta: float | None = None) -> None:
        job = self.job
        self.active_label.setText(f"Pre-labelling model: {self.active_run}" if self.active_run
                                  else "Pre-labelling model: none (motion estimator only)")
        if job is None:
            self.title.setText("Select a job, or start a training on the left.")
            self.status.setText("")
            self.summary.setText("")
            for b in (self.cancel, self.resume, self.open_folder, self.use_model):
                b.setEnabled(False)
            return
        self.title.setText(f"Job {job.id} — {kind_title(job.kind)} — {job.state}")
        self.title.setToolTip(describe_job(job))
        bits = []
        done, total, message = job.progress_done, job.progress_total, job.message
        live = self.history.progress if self.history is not None and job.state == "running" else None
        if live is not None and live.get("total"):     # the worker's own last word is fresher than the DB's
            done, total, message = live["done"], live["total"], live.get("message") or message
        if total and job.state != "succeeded":
            bits.append(f"{done}/{total}")
        if message:
            bits.append(message)
        if eta is not None and job.state == "running":
            bits.append(f"ETA {format_duration(eta)}")
        if job.checkpoint_step is not None:
            bits.append(f"checkpoint at step {job.checkpoint_step}")
        if job.error:
            bits.append(f"error: {job.error}")
        self.status.setText(" · ".join(bits))
        self.summary.setText(describe_job(job))
        self.cancel.setEnabled(job.state in ("queued", "running") and not job.cancel_requested)
        resumable = job.state == "failed" or (job.state in ("cancelled", "interrupted") and _resumable(job.kind))
        self.resume.setEnabled(resumable)
        run = self.run_dir()
        self.open_folder.setEnabled(run is not None and run.is_dir())
        is_active = bool(self.active_run) and job.run_dir == self.active_run
        self.use_model.setVisible(job.kind == CLIP_TRAIN)
        self.use_model.setEnabled(job.kind == CLIP_TRAIN and job.state == "succeeded" and not is_active)
        self.use_model.setText("Used for pre-labelling ✓" if is_active else "Use this model for pre-labelling")
        if job.state in ("succeeded", "cancelled", "interrupted", "failed") and run is not None:
            key = (job.id, job.state)
            if self._results_for != key:
                self._results_for = key
                self.resultsWanted.emit(job.id)

    def show_history(self, history: JobHistory | None) -> None:
        self.curves.show_history(history)
        if history is None:
            return
        lines = history.log
        if len(lines) < self._log_count:          # trimmed or reset: redraw
            self.log.clear()
            self._log_count = 0
        new = lines[self._log_count:]
        if new:
            self.log.appendPlainText("\n".join(new))
            self._log_count = len(lines)

    def show_results(self, job_id: int, results: dict[str, Any]) -> None:
        if self.job is None or self.job.id != job_id:
            return
        ev = results.get("evaluation")
        previews = results.get("previews") or []
        self._show_preview(previews[-1] if previews else None)
        if previews:
            verdicts = results.get("preview_verdicts") or []
            rows = "".join(
                f"<tr><td>step {r.get('step')}</td><td>{r.get('motion') or '—'}</td>"
                f"<td>{'✓' if r.get('motion_matches') else ('✗' if r.get('motion_matches') is False else '')}</td></tr>"
                for r in verdicts)
            self.results_text.setText(
                f"<p><b>Previews</b> ({len(previews)}, a fixed seed; the newest below): what the optical-flow "
                f"estimator reads in each</p><table cellspacing='6'>{rows}</table>")
        elif ev:
            rows = "".join(f"<tr><td>{a}</td><td align='right'>{'—' if v is None else f'{v:.3f}'}</td>"
                           f"<td align='right'>{ev['counts'].get(a, 0)}</td></tr>" for a, v in ev["per_axis"].items())
            flips = ev.get("flips") or {}
            flip = (f"<p>Direction flips: {flips['flips']}/{flips['n']} ({flips['rate']:.0%})</p>"
                    if flips.get("n") else "")
            misread = ev.get("misread") or {}
            sheet = (f"<p>Misread: {misread['n']} readings (a clip on one axis); "
                     + ("all" if misread["shown"] == misread["n"] else f"{misread['shown']}")
                     + " drawn below the confusion matrices, truth → predicted.</p>" if misread.get("n") else "")
            mean = "—" if ev["r1"] is None else f"{ev['r1']:.3f}"
            self.results_text.setText(
                f"<p><b>Evaluation</b> on {ev['n']} {ev.get('split', '')} clips — mean R@1 {mean}</p>"
                f"<table cellspacing='6'><tr><th align='left'>axis</th><th>R@1</th><th>clips</th></tr>{rows}</table>"
                + flip + sheet + movement_note(ev, results.get("experts")))
        elif self.job is not None and self.job.state == "succeeded":
            self.results_text.setText("This run was not evaluated (evaluate: false).")
        else:
            self.results_text.setText("No evaluation yet: it runs when the training finishes.")
        images = results.get("images", {})
        self.confusion.setPixmap(QPixmap.fromImage(images["confusion"]) if "confusion" in images else QPixmap())
        self.misread.setPixmap(QPixmap.fromImage(images["misread"]) if "misread" in images else QPixmap())
        self.training_png.setPixmap(QPixmap.fromImage(images["training"]) if "training" in images else QPixmap())

    def _show_preview(self, path: str | None) -> None:
        """Play `path` (a small GIF) enlarged, or stop and clear."""
        if self.movie is not None:
            self.movie.stop()
            self.movie.deleteLater()
            self.movie = None
        self.preview.clear()
        if path is None:
            return
        movie = QMovie(path, parent=self)
        if not movie.isValid():
            return
        movie.jumpToFrame(0)
        size = movie.currentImage().size()
        scale = max(1, 256 // max(1, size.width(), size.height()))
        movie.setScaledSize(QSize(size.width() * scale, size.height() * scale))
        self.movie = movie
        self.preview.setMovie(movie)
        movie.start()

    def open_run_folder(self) -> bool:
        run = self.run_dir()
        return run is not None and QDesktopServices.openUrl(QUrl.fromLocalFile(str(run)))
