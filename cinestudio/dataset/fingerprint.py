"""Content identity of a video: exact bytes (sha256) and what it looks like (frame signatures).

A renamed copy has the same sha256. A re-encoded copy (other codec, bitrate, container, a smaller
size, even a video-range/full-range levels shift) has different bytes but the same pictures:
`frames_fingerprint` keeps, for a few frames sampled uniformly over the video, an 8×8 grey
thumbnail (64 bytes: the layout of light and dark, which compression and rescaling keep).
`distance` compares two videos frame by frame after normalising each thumbnail's brightness and
contrast (mean 0, standard deviation 1, the deviation floored at `CONTRAST_FLOOR` grey levels so
that the noise of low-contrast frames is not blown up), as the mean absolute difference.

Measured on simulator clips (96 px, alike in layout: the hard case) and camera moves over real
photographs: re-encoded copies (x264 CRF 23-35, half size, levels squeezed to video range) stay
at or below 0.17, different videos at 0.21 or more; `SAME_MAX` sits between. Videos also need
about the same number of frames. Frames with (almost) no contrast (black, flat) look alike
whatever they show: a fingerprint made mostly of them is "weak" and never declares a duplicate.

Fingerprint string (kind `FINGERPRINT_KIND`): ``"<frames>:<hex>"``, 128 hex digits per frame.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

import cv2
import numpy as np

FINGERPRINT_KIND = "luma8x8-v1"
FINGERPRINT_FRAMES = 8
SIDE = 8
CONTRAST_FLOOR = 8.0
SAME_MAX = 0.19
FLAT_STD = 2.0          # a thumbnail this flat (grey levels) carries no picture
# Frame counts may differ a little after re-encoding (a dropped or duplicated frame at the end).
FRAME_COUNT_TOLERANCE = 0.02
_CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike[str], should_stop=None) -> str:
    """The sha256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            if should_stop is not None and should_stop():
                from cinestudio.progress import Cancelled

                raise Cancelled("stopped on request")
    return h.hexdigest()


def frame_signature(frame: np.ndarray) -> np.ndarray:
    """The 8×8 grey thumbnail (uint8, 64 values) of an RGB or grey uint8 frame."""
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
    return cv2.resize(grey, (SIDE, SIDE), interpolation=cv2.INTER_AREA).astype(np.uint8).ravel()


def frames_fingerprint(frames: Sequence[np.ndarray], frame_count: int) -> str:
    """Fingerprint of a video with `frame_count` frames from its uniformly sampled `frames`."""
    return f"{int(frame_count)}:" + "".join(frame_signature(f).tobytes().hex() for f in frames)


def parse(fingerprint: str) -> tuple[int, np.ndarray] | None:
    """(frame count, signatures (n, 64) float) or None for a malformed string."""
    try:
        count, hexes = fingerprint.split(":", 1)
        raw = bytes.fromhex(hexes)
    except (ValueError, AttributeError):
        return None
    if not raw or len(raw) % (SIDE * SIDE):
        return None
    return int(count), np.frombuffer(raw, dtype=np.uint8).reshape(-1, SIDE * SIDE).astype(float)


def is_weak(fingerprint: str) -> bool:
    parsed = parse(fingerprint)
    if parsed is None:
        return True
    flat = parsed[1].std(axis=1) < FLAT_STD
    return int(flat.sum()) * 2 > len(flat)


def _normalised(sig: np.ndarray) -> np.ndarray:
    std = np.maximum(sig.std(axis=1, keepdims=True), CONTRAST_FLOOR)
    return (sig - sig.mean(axis=1, keepdims=True)) / std


def distance(a: str, b: str) -> float | None:
    """Mean absolute difference of the normalised frame signatures; None if incomparable."""
    pa, pb = parse(a), parse(b)
    if pa is None or pb is None or pa[1].shape != pb[1].shape:
        return None
    return float(np.abs(_normalised(pa[1]) - _normalised(pb[1])).mean())


def same_content(a: str, b: str, max_distance: float = SAME_MAX) -> bool:
    """True when two fingerprints describe the same pictures (see the module docstring)."""
    pa, pb = parse(a), parse(b)
    if pa is None or pb is None or is_weak(a) or is_weak(b):
        return False
    ca, cb = pa[0], pb[0]
    if abs(ca - cb) > max(2, FRAME_COUNT_TOLERANCE * max(ca, cb)):
        return False
    d = distance(a, b)
    return d is not None and d <= max_distance


def _count(fingerprint: str) -> int | None:
    head = fingerprint.partition(":")[0]
    return int(head) if head.isdigit() else None


def find_same(fingerprint: str, candidates: Sequence[tuple[int, str]]) -> tuple[int, float] | None:
    """The (id, distance) of the closest candidate showing the same content, or None."""
    best: tuple[int, float] | None = None
    count = _count(fingerprint)
    if count is None:
        return None
    for ident, other in candidates:
        c = _count(other)   # cheap pre-filter: only videos of about the same length are parsed
        if c is None or abs(c - count) > max(2, FRAME_COUNT_TOLERANCE * max(c, count)):
            continue
        if same_content(fingerprint, other):
            d = distance(fingerprint, other) or 0.0
            if best is None or d < best[1]:
                best = (ident, d)
    return best
