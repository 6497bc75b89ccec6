"""Small PNG charts drawn with OpenCV (matplotlib is not a dependency): training curves, confusion,
and a contact sheet of misread clips."""

from __future__ import annotations

import os
from collections.abc import Sequence

import cv2
import numpy as np

from cinestudio.fsutil import atomic_path

_COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _bgr(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return rgb[2], rgb[1], rgb[0]


def _save(path: str | os.PathLike[str], img: np.ndarray) -> None:
    with atomic_path(path, suffix=".png") as tmp:
        if not cv2.imwrite(str(tmp), img):
            raise OSError(f"could not write {path}")


def _panel(img: np.ndarray, x0: int, y0: int, w: int, h: int, title: str,
           series: dict[str, tuple[Sequence[float], Sequence[float]]], ylim: tuple[float, float] | None) -> None:
    cv2.rectangle(img, (x0, y0), (x0 + w, y0 + h), (0, 0, 0), 1)
    cv2.putText(img, title, (x0, y0 - 8), _FONT, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    pts = [(x, y) for xs, ys in series.values() for x, y in zip(xs, ys) if np.isfinite(y)]
    if not pts:
        return
    xmin, xmax = min(p[0] for p in pts), max(p[0] for p in pts)
    ymin, ymax = ylim or (min(p[1] for p in pts), max(p[1] for p in pts))
    if xmax == xmin:
        xmax = xmin + 1
    if ymax == ymin:
        ymax = ymin + 1

    def to_px(x: float, y: float) -> tuple[int, int]:
        return (int(x0 + (x - xmin) / (xmax - xmin) * w), int(y0 + h - (y - ymin) / (ymax - ymin) * h))

    for frac in (0.0, 0.5, 1.0):
        yv = ymin + frac * (ymax - ymin)
        _, py = to_px(xmin, yv)
        cv2.line(img, (x0, py), (x0 + w, py), (220, 220, 220), 1)
        cv2.putText(img, f"{yv:.3g}", (x0 - 45, py + 4), _FONT, 0.4, (80, 80, 80), 1, cv2.LINE_AA)
    cv2.putText(img, f"{xmin:.0f}", (x0, y0 + h + 15), _FONT, 0.4, (80, 80, 80), 1, cv2.LINE_AA)
    cv2.putText(img, f"{xmax:.0f}", (x0 + w - 30, y0 + h + 15), _FONT, 0.4, (80, 80, 80), 1, cv2.LINE_AA)
    for i, (name, (xs, ys)) in enumerate(series.items()):
        colour = _bgr(_COLOURS[i % len(_COLOURS)])
        line = [to_px(x, y) for x, y in zip(xs, ys) if np.isfinite(y)]
        if len(line) > 1:
            cv2.polylines(img, [np.array(line, np.int32)], False, colour, 1, cv2.LINE_AA)
        elif line:
            cv2.circle(img, line[0], 3, colour, -1)
        cv2.putText(img, name, (x0 + w - 150, y0 + 15 + 15 * i), _FONT, 0.4, colour, 1, cv2.LINE_AA)


def training_plot(path: str | os.PathLike[str], loss: tuple[Sequence[float], Sequence[float]],
                  r1: dict[str, tuple[Sequence[float], Sequence[float]]]) -> None:
    """Loss vs step (left) and validation R@1 per axis vs step (right)."""
    img = np.full((320, 900, 3), 255, np.uint8)
    _panel(img, 60, 30, 360, 250, "training loss", {"loss": loss}, None)
    _panel(img, 510, 30, 360, 250, "validation R@1", r1, (0.0, 1.0))
    cv2.putText(img, "step", (420, 312), _FONT, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    _save(path, img)


def confusion_plot(path: str | os.PathLike[str], matrices: dict[str, tuple[list[str], np.ndarray]]) -> None:
    """One row-normalised confusion matrix per axis (rows: truth, columns: prediction)."""
    cell, label_w, pad = 34, 130, 30
    panels = []
    for axis, (names, counts) in matrices.items():
        n = len(names)
        h, w = label_w + n * cell + pad, label_w + n * cell + pad
        img = np.full((h, w, 3), 255, np.uint8)
        cv2.putText(img, f"{axis} (rows: truth, columns: predicted)", (10, h - 10), _FONT, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        rows = counts.sum(axis=1, keepdims=True)
        frac = np.divide(counts, rows, out=np.zeros_like(counts, dtype=float), where=rows > 0)
        for i in range(n):
            cv2.putText(img, names[i][:17], (4, label_w + i * cell + 22), _FONT, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
            for j in range(n):
                x, y = label_w + j * cell, label_w + i * cell
                v = frac[i, j]
                shade = int(255 - 200 * v)
                cv2.rectangle(img, (x, y), (x + cell, y + cell), (shade, shade, 255) if i != j else (shade, 255, shade), -1)
                cv2.rectangle(img, (x, y), (x + cell, y + cell), (200, 200, 200), 1)
                if counts[i, j]:
                    cv2.putText(img, str(int(counts[i, j])), (x + 4, y + 22), _FONT, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        for j in range(n):
            tmp = np.full((cell, label_w - 10, 3), 255, np.uint8)
            cv2.putText(tmp, names[j][:17], (2, 22), _FONT, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
            rot = cv2.rotate(tmp, cv2.ROTATE_90_COUNTERCLOCKWISE)
            img[10:10 + rot.shape[0], label_w + j * cell:label_w + j * cell + cell] = rot[:, :cell]
        panels.append(img)
    height = max(p.shape[0] for p in panels)
    out = np.hstack([np.pad(p, ((0, height - p.shape[0]), (0, 0), (0, 0)), constant_values=255) for p in panels])
    _save(path, out)


MISREAD_TILE = 80  # px per frame on the misread sheet


def misread_sheet(path: str | os.PathLike[str], rows: Sequence[tuple[str, np.ndarray]], total: int | None = None) -> None:
    """A contact sheet, one row per misread clip: its caption, then the frames the model saw
    ``(T, S, S, 3)`` uint8 RGB, and last the change from the first frame to the last (bright where
    the picture moved), since a still row cannot show a move. `total`: how many misreads there
    were, when `rows` shows only some of them."""
    tile, cap, pad = MISREAD_TILE, 18, 6
    n_frames = max((len(f) for _, f in rows), default=1)
    width = (n_frames + 1) * (tile + 2) + pad
    header = 26
    img = np.full((header + len(rows) * (cap + tile + pad), width, 3), 255, np.uint8)
    shown = f"{len(rows)} misread clips" if total is None or total == len(rows) else f"{len(rows)} of {total} misread clips"
    cv2.putText(img, f"{shown} (truth -> predicted); last column: change from first to last frame",
                (4, 17), _FONT, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    for r, (caption, frames) in enumerate(rows):
        y = header + r * (cap + tile + pad)
        cv2.putText(img, caption, (4, y + 13), _FONT, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        tiles = [cv2.resize(np.ascontiguousarray(f), (tile, tile), interpolation=cv2.INTER_NEAREST) for f in frames]
        change = np.abs(frames[-1].astype(np.int16) - frames[0].astype(np.int16)).sum(axis=-1)
        change = np.clip(change * 2, 0, 255).astype(np.uint8)
        tiles.append(cv2.cvtColor(cv2.resize(change, (tile, tile), interpolation=cv2.INTER_NEAREST), cv2.COLOR_GRAY2RGB))
        for k, t in enumerate(tiles):
            x = k * (tile + 2) + (pad if k == len(tiles) - 1 else 0)
            img[y + cap:y + cap + tile, x:x + tile] = t[..., ::-1]  # RGB → OpenCV's BGR
    _save(path, img)
