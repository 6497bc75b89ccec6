"""numpy RGB frames to Qt images (safe in worker threads: QImage, never QPixmap there)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def rgb_to_qimage(frame: np.ndarray) -> QImage:
    """An (H, W, 3) uint8 RGB array as a QImage that owns its pixels."""
    frame = np.ascontiguousarray(frame[:, :, :3], dtype=np.uint8)
    height, width = frame.shape[:2]
    image = QImage(frame.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return image.copy()  # detach from the numpy buffer


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """A QImage as an (H, W, 3) uint8 RGB array (tests, checks)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    buf = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.bytesPerLine() * height)
    return buf.reshape(height, image.bytesPerLine())[:, : 3 * width].reshape(height, width, 3).copy()
