"""The starting noise of a render (and of a training example): independent per frame, partly
shared across frames, or shared and *warped* along a camera move.

A base trained on short clips decides the layout of a video, and so its camera move, at the
noisiest steps, where frame order hardly matters to it (`docs/cameradiff.md`): from independent
noise the samples of the bases trained here move in no consistent direction. Noise whose frames
share a pattern that slides with the picture content (Go-with-the-Flow's warped noise) gives the
move to the sampler instead: on those bases 45 of 48 pan/tilt samples then moved the prompted way.

- `mixed_noise`: PYoCo's mixed noise ``sqrt(share)·common + sqrt(1 - share)·own``, every frame
  still N(0, 1); the common part optionally slides frame to frame;
- `warp_for`: the slide of a camera move (content direction × speed, latent px per frame); zooms,
  dollies and the other moves have none (scaling a noise field is not a Gaussian field any more);
- `frame_offsets`: the per-frame displacement for velocities that change over the video (a
  multi-shot render: pan left, then tilt up).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Which way the picture content moves (x right, y down) when the camera makes these moves: a pan left
# turns the camera left, so the world slides right across the frame.
CONTENT_DIRECTION = {"pan_left": (1.0, 0.0), "pan_right": (-1.0, 0.0), "tilt_up": (0.0, 1.0), "tilt_down": (0.0, -1.0)}


def warp_for(movement: str | None, speed: float) -> tuple[float, float]:
    """The shift (latent px per frame) of the shared noise for a camera move: ``speed`` along the
    content's direction (`CONTENT_DIRECTION`); (0, 0) for static and the moves without one."""
    dx, dy = CONTENT_DIRECTION.get(movement or "", (0.0, 0.0))
    return dx * speed, dy * speed


def _half_up(x: float) -> int:
    return int(np.floor(x + 0.5))   # round() halves to even: a 0.5 px/frame slide would be jerky


def frame_offsets(velocities: Sequence[tuple[float, float]]) -> list[tuple[int, int]]:
    """Per frame, how far (whole latent px, x right / y down) the content has moved since frame 0
    when it moves by ``velocities[k]`` from frame k to k + 1 (the last one is not used)."""
    x = y = 0.0
    out = [(0, 0)]
    for vx, vy in list(velocities)[:-1]:
        x, y = x + vx, y + vy
        out.append((_half_up(x), _half_up(y)))
    return out


def mixed_noise(shape, generator, share: float, shifts=None, offsets=None):
    """Gaussian noise ``(B, C, F, h, w)`` whose frames share ``share`` of their variance (PYoCo's mixed
    noise): ``sqrt(share)·common + sqrt(1 - share)·own``; every frame's marginal stays N(0, 1), and
    ``share=0`` is the plain independent draw (the same numbers as ``torch.randn(shape)``).

    ``shifts``: per batch item, how far (latent px per frame, x right / y down) the common part
    moves from frame to frame — warped noise, as in Go-with-the-Flow: frame k is the window of one
    larger noise field displaced by ``-round(k·shift)``, so the noise pattern slides with the picture
    content of that camera move (each frame is still i.i.d. N(0, 1)). ``offsets`` instead: per batch
    item, each frame's displacement in whole px (`frame_offsets`), for moves that change."""
    import torch

    own = torch.randn(shape, generator=generator)
    if not share:
        return own
    b, c, f, h, w = shape
    if offsets is None and shifts:
        offsets = [[(_half_up(sx * k), _half_up(sy * k)) for k in range(f)] for sx, sy in shifts]
    if not offsets or not any(ox or oy for item in offsets for ox, oy in item):
        common = torch.randn((b, c, 1, h, w), generator=generator)
    else:
        parts = []
        for item in offsets:
            ox = [-int(x) for x, _ in item]
            oy = [-int(y) for _, y in item]
            field = torch.randn((c, h + max(oy) - min(oy), w + max(ox) - min(ox)), generator=generator)
            parts.append(torch.stack([field[:, y - min(oy):y - min(oy) + h, x - min(ox):x - min(ox) + w]
                                      for x, y in zip(ox, oy)], dim=1))
        common = torch.stack(parts)
    return float(np.sqrt(share)) * common + float(np.sqrt(1.0 - share)) * own
