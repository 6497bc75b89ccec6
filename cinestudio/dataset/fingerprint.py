"""Content identity of a video: exact bytes (sha256) and what it looks like (a frame hash).

A renamed copy has the same sha256. A re-encoded copy (other codec, bitrate, container, even a
smaller size) has different bytes but the same pictures: `frames_fingerprint` hashes a few frames
sampled uniformly over the video with a difference hash (dHash: 8×8 bits, one per horizontally
adjacent pair of a 9×8 grey thumbnail, set where brightness falls), which survives compression and
rescaling. Two videos are the same content when they have about the same number of frames and
their frame hashes differ in few bits on average (`same_content`).

Fingerprint string: ``"<frames>:<hex>"``, 16 hex digits per sampled frame, kind
`FINGERPRINT_KIND`. Frames with (almost) no structure, such as black or flat frames, give
near-constant hashes that would match any other flat video; a fingerprint with mostly such
frames is "weak" and never declares a duplicate.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

import cv2
import numpy as np

FINGERPRINT_KIND = "dhash8x8-v1"
FINGERPRINT_FRAMES = 8
# Mean Hamming distance per 64-bit frame hash at or below which two videos look the same
# (re-encoding flips a few bits; unrelated pictures differ in about half of them).
MAX_MEAN_BITS = 10.0
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


def frame_hash(frame: np.ndarray) -> int:
    """64-bit difference hash of an RGB (or grey) uint8 frame."""
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
    small = cv2.resize(grey, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, :-1] > small[:, 1:]).ravel()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def frames_fingerprint(frames: Sequence[np.ndarray], frame_count: int) -> str:
    """Fingerprint of a video with `frame_count` frames from its uniformly sampled `frames`."""
    return f"{int(frame_count)}:" + "".join(f"{frame_hash(f):016x}" for f in frames)


def parse(fingerprint: str) -> tuple[int, list[int]] | None:
    try:
        count, hexes = fingerprint.split(":", 1)
        hashes = [int(hexes[i:i + 16], 16) for i in range(0, len(hexes), 16)]
        return int(count), hashes
    except (ValueError, AttributeError):
        return None


def _flat(h: int) -> bool:
    bits = h.bit_count()
    return bits <= 3 or bits >= 61


def is_weak(fingerprint: str) -> bool:
    parsed = parse(fingerprint)
    if parsed is None or not parsed[1]:
        return True
    hashes = parsed[1]
    return sum(_flat(h) for h in hashes) * 2 > len(hashes)


def distance(a: str, b: str) -> float | None:
    """Mean Hamming distance (bits per frame hash) of two fingerprints; None if incomparable."""
    pa, pb = parse(a), parse(b)
    if pa is None or pb is None or len(pa[1]) != len(pb[1]) or not pa[1]:
        return None
    return sum((x ^ y).bit_count() for x, y in zip(pa[1], pb[1])) / len(pa[1])


def same_content(a: str, b: str, max_mean_bits: float = MAX_MEAN_BITS) -> bool:
    """True when two fingerprints describe the same pictures (see the module docstring)."""
    pa, pb = parse(a), parse(b)
    if pa is None or pb is None or is_weak(a) or is_weak(b):
        return False
    ca, cb = pa[0], pb[0]
    if abs(ca - cb) > max(2, FRAME_COUNT_TOLERANCE * max(ca, cb)):
        return False
    d = distance(a, b)
    return d is not None and d <= max_mean_bits


def find_same(fingerprint: str, candidates: Sequence[tuple[int, str]]) -> tuple[int, float] | None:
    """The (id, distance) of the closest candidate showing the same content, or None."""
    best: tuple[int, float] | None = None
    for ident, other in candidates:
        if same_content(fingerprint, other):
            d = distance(fingerprint, other) or 0.0
            if best is None or d < best[1]:
                best = (ident, d)
    return best
