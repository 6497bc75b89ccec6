"""Encoding frames to files: H.264 MP4 and GIF through PyAV, always written atomically.

Frames are numpy ``uint8`` RGB arrays of shape ``(H, W, 3)`` (a ``(H, W)`` grey frame is
accepted too). All frames of one file must have the first frame's size.

- `write_mp4` encodes H.264 (libx264, ``yuv420p``). yuv420p needs even sizes: an odd width or
  height is padded by one pixel that repeats the last column/row (nothing of the picture is lost;
  the decoded file is one pixel larger in that direction).
- `write_gif` uses PyAV's GIF encoder with an adaptive palette (median cut over a sample of the
  pixels of all frames) — no dependency beyond PyAV and numpy.

Both write to a temporary file beside the target and rename it on success
(`cinestudio.fsutil.atomic_path`), so an interrupted encode never leaves a half-written file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from cinestudio.fsutil import atomic_path

__all__ = ["write_mp4", "write_gif", "fps_fraction"]


def fps_fraction(fps: float) -> Fraction:
    """A rational frame rate for `fps`, recognising the NTSC rates (29.97 → 30000/1001)."""
    if not (fps and fps > 0 and np.isfinite(fps)):
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    if isinstance(fps, Fraction):
        return fps
    for base in (24, 30, 60, 120):
        ntsc = Fraction(base * 1000, 1001)
        if abs(fps - float(ntsc)) < 5e-3:
            return ntsc
    return Fraction(fps).limit_denominator(1001)


def _as_rgb(frame: np.ndarray, index: int) -> np.ndarray:
    arr = np.asarray(frame)
    if arr.dtype != np.uint8:
        raise ValueError(f"frame {index}: expected uint8 pixels, got {arr.dtype}")
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"frame {index}: expected an (H, W, 3) RGB array, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def _frames_of_one_size(frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    shape = None
    for i, frame in enumerate(frames):
        arr = _as_rgb(frame, i)
        if shape is None:
            shape = arr.shape
        elif arr.shape != shape:
            raise ValueError(f"frame {i}: size {arr.shape[1]}x{arr.shape[0]} differs from the "
                             f"first frame's {shape[1]}x{shape[0]}")
        yield arr


def _pad_even(arr: np.ndarray) -> np.ndarray:
    h, w = arr.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return arr
    return np.pad(arr, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def write_mp4(path: str | os.PathLike[str], frames: Iterable[np.ndarray], fps: float, crf: int = 18,
              *, preset: str = "veryfast", gop: int | None = None, bframes: int | None = None,
              faststart: bool = False, deterministic: bool = False) -> Path:
    """Encode `frames` to an H.264 MP4 at `path` (atomically) and return the path.

    `crf` is x264's constant rate factor (0 lossless … 51 worst; 18 is visually lossless),
    `preset` its speed/size trade-off, `gop` the maximum keyframe interval (default: x264's 250)
    and `bframes` the number of consecutive B-frames (default: x264's). `deterministic`: the same
    frames always give the same file (x264's macroblock tree off; see below). `faststart` puts the
    index ('moov') before the media data, for playback while downloading. Raises ValueError when
    there are no frames or they are not uint8 RGB arrays of one size.
    """
    path = Path(path)
    rate = fps_fraction(fps)
    it = _frames_of_one_size(frames)
    first = next(it, None)
    if first is None:
        raise ValueError("write_mp4: no frames to write")
    first = _pad_even(first)
    height, width = first.shape[:2]
    with atomic_path(path, suffix=".mp4") as tmp:
        with av.open(str(tmp), mode="w", format="mp4",
                     options={"movflags": "+faststart"} if faststart else None) as container:
            stream = container.add_stream("libx264", rate=rate)
            stream.width, stream.height = width, height
            stream.pix_fmt = "yuv420p"
            options = {"crf": str(int(crf)), "preset": preset}
            # x264's macroblock-tree rate control reads memory it never wrote: the same frames can
            # give different files (decoding to slightly different pixels) depending on what the
            # process's heap held before. Off, they always make the same file — but 1.6x larger
            # and 1.2x slower to decode (640x360 photo moves, crf 18), so only when asked.
            params = ["mbtree=0"] if deterministic else []
            if gop is not None:
                stream.codec_context.gop_size = int(gop)
                params += [f"keyint={int(gop)}", f"min-keyint={max(1, min(int(gop), 25))}"]
            if bframes is not None:
                params.append(f"bframes={int(bframes)}")
            if params:
                options["x264-params"] = ":".join(params)
            stream.options = options
            stream.codec_context.time_base = 1 / rate

            def encode(arr: np.ndarray, index: int) -> None:
                vf = av.VideoFrame.from_ndarray(arr, format="rgb24")
                vf.pts = index
                vf.time_base = stream.codec_context.time_base
                for packet in stream.encode(vf):
                    container.mux(packet)

            encode(first, 0)
            for i, arr in enumerate(it, start=1):
                encode(_pad_even(arr), i)
            for packet in stream.encode(None):
                container.mux(packet)
    return path


# ---------------------------------------------------------------------------------------- GIF

def _median_cut_palette(pixels: np.ndarray, colors: int = 256) -> np.ndarray:
    """A palette of at most `colors` RGB colours for `pixels` ((N, 3) uint8), by median cut."""

    def score(b: np.ndarray) -> int:
        if len(b) < 2:
            return 0
        return int((b.max(axis=0).astype(int) - b.min(axis=0)).max()) * len(b)

    boxes = [pixels]
    scores = [score(pixels)]
    while len(boxes) < colors:
        best = int(np.argmax(scores))
        if scores[best] <= 0:
            break
        b = boxes.pop(best)
        scores.pop(best)
        channel = int(np.argmax(b.max(axis=0).astype(int) - b.min(axis=0)))
        order = np.argsort(b[:, channel], kind="stable")
        half = len(b) // 2
        for part in (b[order[:half]], b[order[half:]]):
            boxes.append(part)
            scores.append(score(part))
    return np.array([b.mean(axis=0) for b in boxes if len(b)], dtype=np.float32).round().astype(np.uint8)


class _PaletteMapper:
    """Maps RGB pixels to the nearest palette index, via a lazily filled 6-bit-per-channel table."""

    BITS = 6

    def __init__(self, palette: np.ndarray):
        self.palette = palette.astype(np.float32)
        self.table = np.full(1 << (3 * self.BITS), -1, dtype=np.int16)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        shift = 8 - self.BITS
        q = (rgb >> shift).astype(np.int32)
        keys = (q[:, :, 0] << (2 * self.BITS)) | (q[:, :, 1] << self.BITS) | q[:, :, 2]
        uniq = np.unique(keys)
        missing = uniq[self.table[uniq] < 0]
        if len(missing):
            mask = (1 << self.BITS) - 1
            cells = np.stack([(missing >> (2 * self.BITS)) & mask, (missing >> self.BITS) & mask,
                              missing & mask], axis=1).astype(np.float32)
            centres = cells * (1 << shift) + (1 << shift) / 2 - 0.5
            for i in range(0, len(missing), 4096):
                d = ((centres[i:i + 4096, None, :] - self.palette[None]) ** 2).sum(axis=2)
                self.table[missing[i:i + 4096]] = d.argmin(axis=1)
        return self.table[keys].astype(np.uint8)


def _resize_to_max(arr: np.ndarray, max_size: int | None) -> np.ndarray:
    if not max_size:
        return arr
    h, w = arr.shape[:2]
    scale = max_size / max(h, w)
    if scale >= 1:
        return arr
    import cv2

    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(arr, size, interpolation=cv2.INTER_AREA)


def write_gif(path: str | os.PathLike[str], frames: Iterable[np.ndarray], fps: float,
              max_size: int | None = None, *, loop: bool = True) -> Path:
    """Write `frames` as an animated GIF at `path` (atomically) and return the path.

    `max_size` bounds the longer side (frames are shrunk, never enlarged). One adaptive palette
    (median cut) serves the whole animation. GIF timing is in 1/100 s, so the frame rate is
    rounded to the nearest representable delay.
    """
    path = Path(path)
    rate = fps_fraction(fps)
    arrays = [_resize_to_max(a, max_size) for a in _frames_of_one_size(frames)]
    if not arrays:
        raise ValueError("write_gif: no frames to write")
    # palette from a bounded sample of pixels of all frames
    rng = np.random.default_rng(0)
    per_frame = max(1, 60000 // len(arrays))
    sample = []
    for a in arrays:
        flat = a.reshape(-1, 3)
        take = rng.choice(len(flat), size=min(per_frame, len(flat)), replace=False)
        sample.append(flat[take])
    palette = _median_cut_palette(np.concatenate(sample))
    to_index = _PaletteMapper(palette)
    argb = np.zeros((256, 4), dtype=np.uint8)
    argb[:len(palette), 0] = 255
    argb[:len(palette), 1:] = palette
    height, width = arrays[0].shape[:2]
    with atomic_path(path, suffix=".gif") as tmp:
        with av.open(str(tmp), mode="w", format="gif",
                     options={"loop": "0" if loop else "-1"}) as container:
            stream = container.add_stream("gif", rate=rate)
            stream.width, stream.height = width, height
            stream.pix_fmt = "pal8"
            stream.codec_context.time_base = 1 / rate
            for i, a in enumerate(arrays):
                idx = to_index(a)
                vf = av.VideoFrame.from_ndarray((np.ascontiguousarray(idx), argb), format="pal8")
                vf.pts = i
                vf.time_base = stream.codec_context.time_base
                for packet in stream.encode(vf):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
    return path
