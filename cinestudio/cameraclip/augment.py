"""Augmentations that keep labels true: each one says what it does to every label, or is skipped.

- Horizontal flip: the camera's left becomes its right, so pan/truck/arc left↔right and roll
  clockwise↔anticlockwise swap; framing and angle (a dutch angle stays dutch) do not change.
- Time reversal: every move runs backwards (pan left↔right, tilt up↔down, dolly/zoom in↔out, ...).
  A reversed dolly, zoom, tilt, pedestal, crane or roll also changes what the first frame shows, so
  framing or angle labels defined on the clip might no longer hold: reversal is applied only to
  clips whose movement keeps framing and angle (`REVERSIBLE`) or whose framing/angle are unknown.
- Photometric jitter (brightness, contrast, colour balance, noise), same for all frames of a clip.
- Handheld shake on the motion features: small zero-mean jitter added to the per-pair translation
  (and scale) of some clips, as a slightly unsteady camera adds; it changes no move's direction.
"""

from __future__ import annotations

import numpy as np

from cinestudio.cameraclip.features import GRID_FIT

LabelSet = tuple[str, ...]
Labels = dict[str, LabelSet]

_PAIRS_LR = [("pan_left", "pan_right"), ("truck_left", "truck_right"), ("arc_left", "arc_right"),
             ("roll_clockwise", "roll_anticlockwise")]
_PAIRS_TIME = _PAIRS_LR + [("tilt_up", "tilt_down"), ("dolly_in", "dolly_out"), ("zoom_in", "zoom_out"),
                           ("pedestal_up", "pedestal_down"), ("crane_up", "crane_down")]


def _swap_map(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for a, b in pairs:
        out[a], out[b] = b, a
    return out


HFLIP_SWAP = _swap_map(_PAIRS_LR)
REVERSE_SWAP = _swap_map(_PAIRS_TIME)
# movements after which the first and last frames share framing and angle
REVERSIBLE = frozenset({"static", "pan_left", "pan_right", "truck_left", "truck_right", "arc_left",
                        "arc_right", "tracking", "rack_focus", "handheld"})
# direction pairs reported as flip rates by the evaluation
DIRECTION_PAIRS = [("pan_left", "pan_right"), ("tilt_up", "tilt_down"), ("zoom_in", "zoom_out"),
                   ("dolly_in", "dolly_out"), ("truck_left", "truck_right"),
                   ("pedestal_up", "pedestal_down"), ("roll_clockwise", "roll_anticlockwise"),
                   ("arc_left", "arc_right"), ("crane_up", "crane_down")]


def swap_labels(labels: Labels, swap: dict[str, str], axis: str = "movement") -> Labels:
    out = dict(labels)
    if axis in out:
        out[axis] = tuple(swap.get(k, k) for k in out[axis])
    return out


def can_reverse(labels: Labels, labels_hold: bool = False) -> bool:
    """Whether time reversal keeps `labels` true: the movement is known and either keeps framing
    and angle, or framing/angle hold on every frame (`labels_hold`, e.g. the simulator checks each
    frame) or are unknown."""
    moves = labels.get("movement", ())
    if not moves:
        return False
    fixed = all(k in REVERSIBLE for k in moves)
    return fixed or labels_hold or not (labels.get("framing") or labels.get("angle"))


def hflip(frames: np.ndarray, labels: Labels) -> tuple[np.ndarray, Labels]:
    return frames[:, :, ::-1], swap_labels(labels, HFLIP_SWAP)


def reverse(frames: np.ndarray, labels: Labels, labels_hold: bool = False) -> tuple[np.ndarray, Labels]:
    if not can_reverse(labels, labels_hold):
        raise ValueError("time reversal would not keep this clip's labels true")
    return frames[::-1], swap_labels(labels, REVERSE_SWAP)


def variant_frames(frames: np.ndarray, variant: int) -> np.ndarray:
    """Variant 0 = as is, 1 = flipped, 2 = reversed, 3 = both (labels: `variant_labels`) of a clip
    ``(T, H, W, 3)`` or a batch of them ``(..., T, H, W, 3)``."""
    if variant & 1:
        frames = frames[..., ::-1, :]
    if variant & 2:
        frames = frames[..., ::-1, :, :, :]
    return np.ascontiguousarray(frames)


# Raw motion columns (see cinestudio.cameraclip.features.raw_motion) that change sign when the
# picture is mirrored left-right, and when time runs backwards; the mirror also swaps the left and
# right columns of grid_motion's and focus_field's 3×3 cells.
_CELLS = 9
_FLIP_SIGN = np.array([-1, 1, 1, -1, 1, -1, 1, -1, 1, 1, 1]  # global fit, local cues
                      + [-1] * _CELLS + [1] * _CELLS + [1] * _CELLS  # cells: dx, dy, scale
                      + [-1, 1, 1, -1, 1]  # dense fit dx, dy, scale, rotation; residual
                      + [1] * _CELLS, dtype=np.float32)  # focus field
_REVERSE_SIGN = np.array([-1, -1, -1, -1, 1, -1, -1, -1, -1, -1, -1]
                         + [-1] * (3 * _CELLS) + [-1, -1, -1, -1, 1] + [-1] * _CELLS, dtype=np.float32)
_MIRROR_CELLS = [r * 3 + (2 - c) for r in range(3) for c in range(3)]
_FLIP_PERM = np.array(list(range(11)) + [11 + k * _CELLS + j for k in range(3) for j in _MIRROR_CELLS]
                      + list(range(11 + 3 * _CELLS, 11 + 3 * _CELLS + 5))
                      + [11 + 3 * _CELLS + 5 + j for j in _MIRROR_CELLS])


def variant_motion(raw: np.ndarray, variant: int) -> np.ndarray:
    """The raw motion ``(..., T-1, RAW_DIM)`` of a clip's flip/reversal variant, from the clip's own
    (also the first columns of it only, e.g. version-1 features).

    A mirror negates horizontal flow and rotation and mirrors the grid's cells; reversal runs the
    pairs backwards and inverts each (translation, log-scale, rotation, local flow, cell flow and
    scale, sharpness change negate; parallax and fit residuals stay). Exact for the similarity part
    up to second-order terms, and far cheaper than re-estimating.
    """
    out = np.asarray(raw, dtype=np.float32)
    d = out.shape[-1]
    if variant & 1:
        out = out[..., _FLIP_PERM[:d]] * _FLIP_SIGN[:d]
    if variant & 2:
        out = out[..., ::-1, :] * _REVERSE_SIGN[:d]
    return np.ascontiguousarray(out)


def variant_labels(labels: Labels, variant: int) -> Labels:
    if variant & 1:
        labels = swap_labels(labels, HFLIP_SWAP)
    if variant & 2:
        labels = swap_labels(labels, REVERSE_SWAP)
    return labels


def photometric(x, generator):
    """Jitter a float batch ``(B, T, 3, H, W)`` in [0, 1] per clip (torch, in place-safe)."""
    import torch

    b = x.shape[0]
    shape = (b, 1, 1, 1, 1)
    gain = torch.empty(shape, device=x.device).uniform_(0.7, 1.3, generator=generator)
    bias = torch.empty(shape, device=x.device).uniform_(-0.1, 0.1, generator=generator)
    colour = torch.empty((b, 1, 3, 1, 1), device=x.device).uniform_(0.85, 1.15, generator=generator)
    mean = x.mean(dim=(1, 2, 3, 4), keepdim=True)
    contrast = torch.empty(shape, device=x.device).uniform_(0.7, 1.3, generator=generator)
    x = (x - mean) * contrast + mean
    x = x * gain * colour + bias
    noise = torch.empty(shape, device=x.device).uniform_(0.0, 0.03, generator=generator)
    x = x + torch.randn(x.shape, generator=generator, device=x.device) * noise
    return x.clamp_(0.0, 1.0)


def shake_motion(raw: np.ndarray, rng: np.random.Generator, p: float = 0.5, max_sigma: float = 0.012) -> np.ndarray:
    """Raw motion ``(B, T-1, RAW_DIM)``: for a fraction `p` of clips, add zero-mean jitter of up to
    `max_sigma` of the frame per pair to dx, dy (a tenth of it to log-scale), in the global fit and
    in the dense flow's fit alike; no drift. (A handheld camera over a real photo shakes by ~0.7 %
    of the frame per pair: more than the 0.6 % this once allowed, and the model took it for tracking.)"""
    raw = np.array(raw, dtype=np.float32, copy=True)
    b, n = raw.shape[:2]
    pick = rng.random(b) < p
    if not pick.any():
        return raw
    sigma = rng.uniform(0.0, max_sigma, size=(b, 1, 1)).astype(np.float32)
    noise = rng.normal(0.0, 1.0, size=(b, n, 3)).astype(np.float32)  # dx, dy, log-scale
    noise -= noise.mean(axis=1, keepdims=True)  # zero mean over the clip: shake, not a move
    noise *= sigma
    noise[:, :, 2] *= 0.1
    raw[pick, :, :3] += noise[pick]
    if raw.shape[-1] >= GRID_FIT + 3:   # the dense flow's similarity fit (dx, dy, scale)
        raw[pick, :, GRID_FIT:GRID_FIT + 3] += noise[pick]
    return raw
