"""A frame-accurate clip player: play/pause, step ±1, loop, scrub, speed.

Frames come from a `FrameSource` (decoded in a worker thread, small cache): the UI thread only
paints. Seeking moves the playhead at once; the picture follows when its frame is decoded, and
playback waits for frames instead of skipping them, so every frame is shown and the number under
the picture is always the frame on screen.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPalette
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSlider, QStyle,
                               QToolButton, QVBoxLayout, QWidget)

from cinestudio.gui.widgets.frame_source import FrameSource

SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0)


def timecode(frame: int, fps: float | None) -> str:
    """mm:ss.ff (ff = frame within the second) for a frame index at `fps`."""
    if not fps or fps <= 0:
        return f"{frame}"
    seconds = frame / fps
    whole = int(seconds)
    sub = frame - round(whole * fps)
    return f"{whole // 60:02d}:{whole % 60:02d}.{max(0, sub):02d}"


class FrameView(QWidget):
    """Paints one image scaled to fit (letterboxed), or a centred message."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("frame-view")
        self.image: QImage | None = None
        self.message = "No clip selected"
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAutoFillBackground(False)

    def set_image(self, image: QImage | None) -> None:
        self.image = image
        self.update()

    def set_message(self, message: str) -> None:
        self.message = message
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(640, 360)

    def image_rect(self) -> QRectF:
        if self.image is None or self.image.isNull():
            return QRectF()
        w, h = self.width(), self.height()
        iw, ih = self.image.width(), self.image.height()
        scale = min(w / iw, h / ih)
        sw, sh = iw * scale, ih * scale
        return QRectF((w - sw) / 2, (h - sh) / 2, sw, sh)

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(18, 18, 20))
        if self.image is not None and not self.image.isNull():
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(self.image_rect(), self.image)
        elif self.message:
            painter.setPen(QColor(170, 170, 178))
            font = QFont(self.font())
            font.setPointSizeF(font.pointSizeF() * 1.1)
            painter.setFont(font)
            painter.drawText(self.rect().adjusted(20, 20, -20, -20),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)
        painter.end()


def _tool(icon: QStyle.StandardPixmap, tip: str, style: QStyle) -> QToolButton:
    button = QToolButton()
    button.setIcon(style.standardIcon(icon))
    button.setToolTip(tip)
    button.setAutoRaise(True)
    button.setIconSize(QSize(18, 18))
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return button


class PlayerWidget(QWidget):
    """A video player for one clip (a frame range of a file)."""

    positionChanged = Signal(int)   # the playhead (clip-relative frame), at once on any seek
    frameShown = Signal(int)        # the frame now on screen
    playingChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None, *, cache_frames: int = 120, chunk: int = 24):
        super().__init__(parent)
        self.setObjectName("player")
        self.source = FrameSource(self, cache_frames=cache_frames, chunk=chunk)
        self.source.frameReady.connect(self._on_frame_ready)
        self.source.failed.connect(self._on_failed)
        self.fps = 25.0
        self.speed = 1.0
        self.loop = True
        self.position = 0
        self.shown_index: int | None = None
        self._playing = False
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

        self.view = FrameView()
        style = self.style()
        SP = QStyle.StandardPixmap
        self.first_button = _tool(SP.SP_MediaSkipBackward, "First frame (Home)", style)
        self.back_button = _tool(SP.SP_MediaSeekBackward, "Previous frame (← or ,)", style)
        self.play_button = _tool(SP.SP_MediaPlay, "Play / pause (Space)", style)
        self.forward_button = _tool(SP.SP_MediaSeekForward, "Next frame (→ or .)", style)
        self.last_button = _tool(SP.SP_MediaSkipForward, "Last frame (End)", style)
        self.loop_button = QToolButton()
        self.loop_button.setText("⟲ Loop")
        self.loop_button.setToolTip("Loop the clip (L)")
        self.loop_button.setAutoRaise(True)
        self.loop_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.loop_button.setCheckable(True)
        self.loop_button.setChecked(self.loop)
        self.first_button.clicked.connect(lambda: self.seek(0))
        self.back_button.clicked.connect(lambda: self.step(-1))
        self.play_button.clicked.connect(self.toggle_play)
        self.forward_button.clicked.connect(lambda: self.step(1))
        self.last_button.clicked.connect(lambda: self.seek(self.frame_count - 1))
        self.loop_button.toggled.connect(self.set_loop)

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("scrub")
        self.slider.setRange(0, 0)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.setToolTip("Scrub")

        self.speed_box = QComboBox()
        self.speed_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for s in SPEEDS:
            self.speed_box.addItem(f"{s:g}×", s)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.setToolTip("Playback speed")
        self.speed_box.currentIndexChanged.connect(
            lambda i: self.set_speed(self.speed_box.itemData(i)))

        self.position_label = QLabel("—")
        self.position_label.setObjectName("player-position")
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.position_label.setFont(mono)
        self.position_label.setMinimumWidth(190)
        self.position_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        controls = QHBoxLayout()
        controls.setContentsMargins(6, 2, 6, 2)
        controls.setSpacing(2)
        for b in (self.first_button, self.back_button, self.play_button, self.forward_button,
                  self.last_button):
            controls.addWidget(b)
        controls.addSpacing(6)
        controls.addWidget(self.slider, 1)
        controls.addSpacing(6)
        controls.addWidget(self.position_label)
        controls.addWidget(self.loop_button)
        controls.addWidget(self.speed_box)
        bar = QWidget()
        bar.setObjectName("player-controls")
        bar.setLayout(controls)
        bar.setAutoFillBackground(True)
        pal = bar.palette()
        pal.setColor(QPalette.ColorRole.Window, pal.color(QPalette.ColorRole.Window).darker(104))
        bar.setPalette(pal)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        layout.addWidget(bar)
        self._set_enabled(False)

    # -- loading -------------------------------------------------------------------------------

    @property
    def frame_count(self) -> int:
        return self.source.frame_count

    @property
    def playing(self) -> bool:
        return self._playing

    def load(self, path: str, start: int, end: int, fps: float | None = None,
             width: int | None = None, height: int | None = None, autoplay: bool = False) -> None:
        """Show frames [start, end) of `path`; the first frame appears once decoded."""
        self.pause()
        self.fps = fps if fps and fps > 0 else 25.0
        self.source.open(path, start, end, width, height)
        self.position = 0
        self.shown_index = None
        self.view.set_image(None)
        self.view.set_message("Loading…")
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, self.frame_count - 1))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self._set_enabled(self.frame_count > 0)
        self._update_label()
        self.source.request(0)
        if autoplay:
            self.play()

    def clear(self, message: str = "No clip selected") -> None:
        self.pause()
        self.source.clear()
        self.position = 0
        self.shown_index = None
        self.view.set_image(None)
        self.view.set_message(message)
        self.slider.setRange(0, 0)
        self._set_enabled(False)
        self.position_label.setText("—")

    def _set_enabled(self, on: bool) -> None:
        for w in (self.first_button, self.back_button, self.play_button, self.forward_button,
                  self.last_button, self.slider, self.speed_box, self.loop_button):
            w.setEnabled(on)

    # -- transport -------------------------------------------------------------------------

    def play(self) -> None:
        if self.frame_count == 0 or self._playing:
            return
        if self.position >= self.frame_count - 1 and not self.loop:
            self.seek(0)
        self._playing = True
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause))
        self._restart_timer()
        self.playingChanged.emit(True)

    def pause(self) -> None:
        if not self._playing:
            return
        self._playing = False
        self._timer.stop()
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.playingChanged.emit(False)

    def toggle_play(self) -> None:
        self.pause() if self._playing else self.play()

    def step(self, delta: int) -> None:
        """Pause and move `delta` frames (wrapping when looping)."""
        self.pause()
        if self.frame_count == 0:
            return
        target = self.position + delta
        if self.loop:
            target %= self.frame_count
        self.seek(target)

    def seek(self, index: int) -> None:
        if self.frame_count == 0:
            return
        index = max(0, min(self.frame_count - 1, int(index)))
        backwards = index < self.position
        self.position = index
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        self._update_label()
        self.positionChanged.emit(index)
        if self.source.cached(index):
            self._show(index)
        self.source.request(index, backwards=backwards)

    def set_speed(self, speed: float) -> None:
        self.speed = float(speed)
        i = self.speed_box.findData(self.speed)
        if i >= 0 and i != self.speed_box.currentIndex():
            self.speed_box.setCurrentIndex(i)
        if self._playing:
            self._restart_timer()

    def set_loop(self, on: bool) -> None:
        self.loop = bool(on)
        if self.loop_button.isChecked() != self.loop:
            self.loop_button.setChecked(self.loop)

    def _restart_timer(self) -> None:
        self._timer.start(max(1, round(1000.0 / (self.fps * self.speed))))

    @Slot()
    def _tick(self) -> None:
        if self.shown_index != self.position:
            # still waiting for the current frame: do not run ahead of the decoder
            self.source.request(self.position)
            return
        nxt = self.position + 1
        if nxt >= self.frame_count:
            if not self.loop:
                self.pause()
                return
            nxt = 0
        self.position = nxt
        self.slider.blockSignals(True)
        self.slider.setValue(nxt)
        self.slider.blockSignals(False)
        self.positionChanged.emit(nxt)
        if self.source.cached(nxt):
            self._show(nxt)
        self.source.request(nxt)

    def _on_slider(self, value: int) -> None:
        self.pause()
        self.seek(value)

    # -- frames ----------------------------------------------------------------------------

    @Slot(int)
    def _on_frame_ready(self, index: int) -> None:
        if index == self.position and self.shown_index != index:
            self._show(index)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.pause()
        self.view.set_image(None)
        self.view.set_message(f"Cannot play this clip\n{message}")

    def _show(self, index: int) -> None:
        image = self.source.frame(index)
        if image is None:
            return
        self.shown_index = index
        self.view.set_image(image)
        self._update_label()
        self.frameShown.emit(index)
        if not self._playing:
            return
        self.source.request(index)  # keep the chunk ahead decoded

    def current_image(self) -> QImage | None:
        return self.view.image if self.shown_index is not None else None

    def _update_label(self) -> None:
        n = self.frame_count
        if n == 0:
            self.position_label.setText("—")
            return
        self.position_label.setText(
            f"{self.position:>4} / {n - 1}  {timecode(self.position, self.fps)}")

    def shutdown(self) -> None:
        """Stop playback and the decoder thread (the owner calls it when it closes)."""
        self.pause()
        self.source.shutdown()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)
